"""The model format (``mlflow.models``): the MLmodel file, signatures, input examples,
environment capture and models-from-code.

Example::

    from wayline.models import Model, infer_signature

    signature = infer_signature(X_train, model.predict(X_train))
    Model.load("path/to/model").signature
"""

from __future__ import annotations

from wayline.models.code import set_model
from wayline.models.environment import infer_pip_requirements
from wayline.models.model import Model, ModelInfo
from wayline.models.signature import ModelSignature, infer_signature

__all__ = [
    "Model",
    "ModelInfo",
    "ModelSignature",
    "infer_pip_requirements",
    "infer_signature",
    "set_model",
]
