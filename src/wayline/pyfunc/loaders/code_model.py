"""Loader of models-from-code (``loader_module: mlflow.pyfunc.loaders.code_model``)."""

from __future__ import annotations

from typing import Any

from wayline.pyfunc.model import PythonModelWrapper, load_context_and_model


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> PythonModelWrapper:
    return load_context_and_model(model_path, model_config)
