"""XGBoost models (``mlflow.xgboost``): ``save_model``, ``log_model``, ``load_model``.

The model directory is MLflow 3.18's: the model in XGBoost's own format (``model.ubj`` by
default, or ``model.json`` / ``model.xgb`` with ``model_format``), an ``xgboost`` flavor
block (``xgb_version``, ``data``, ``model_class``, ``model_format``, ``code``) and a
``python_function`` block with ``loader_module: mlflow.xgboost``. Both ``xgboost.Booster`` and
the scikit-learn API classes (``XGBClassifier``, ``XGBRegressor``...) are saved; loading makes
an instance of the recorded class. Needs ``pip install 'wayline[xgboost]'``.

Example::

    with wayline.start_run():
        info = wayline.xgboost.log_model(booster, name="model", input_example=X[:5])
    wayline.xgboost.load_model(info.model_uri).predict(xgboost.DMatrix(X))
    wayline.pyfunc.load_model(info.model_uri).predict(X)
"""

from __future__ import annotations

import inspect
import logging
import os
from typing import Any

from wayline.models.flavor import (
    FlavorData,
    Requirements,
    class_path,
    flavor_conf,
    import_class,
    local_model_dir,
    log_flavor_model,
    model_dir_of,
    require,
    save_flavor_model,
)
from wayline.models.model import Model, ModelInfo
from wayline.models.signature import ModelSignature

FLAVOR_NAME = "xgboost"
_logger = logging.getLogger(__name__)


class _XGBModelWrapper:
    """The pyfunc face: a Booster predicts on a DMatrix built from the input; inference params
    the model's ``predict`` does not take are dropped (with a warning), as MLflow does."""

    def __init__(self, xgb_model: Any) -> None:
        self.xgb_model = xgb_model

    def get_raw_model(self) -> Any:
        return self.xgb_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        xgb = require("xgboost", "xgboost")
        model = self.xgb_model
        kwargs = {"validate_features": True, **_accepted(model.predict, params or {})}
        if isinstance(model, xgb.Booster):
            return model.predict(xgb.DMatrix(data), **kwargs)
        return model.predict(data, **kwargs)


def _accepted(fn: Any, params: dict[str, Any]) -> dict[str, Any]:
    allowed = inspect.signature(fn).parameters
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in allowed.values()):
        return params
    if ignored := sorted(k for k in params if k not in allowed):
        _logger.warning("Params %s are not accepted by the xgboost model; ignoring them.", ignored)
    return {k: v for k, v in params.items() if k in allowed}


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Save an XGBoost Booster or scikit-learn API model to a local directory.

    ``kwargs`` go to the model's ``save_model``.

    Example::

        wayline.xgboost.save_model(booster, "model_dir", input_example=X[:5])
        wayline.xgboost.save_model(clf, "json_model", model_format="json")
    """
    xgb = require("xgboost", "xgboost")
    file = f"model.{model_format}"

    def write(directory: str) -> FlavorData:
        xgb_model.save_model(os.path.join(directory, file), **kwargs)
        conf = {
            "xgb_version": xgb.__version__,
            "data": file,
            "model_class": class_path(xgb_model),
            "model_format": model_format,
        }
        return FlavorData(conf, {"loader_module": "mlflow.xgboost", "data": file})

    save_flavor_model(
        path,
        FLAVOR_NAME,
        write,
        model_obj=xgb_model,
        predict=_XGBModelWrapper(xgb_model).predict,
        mlflow_model=mlflow_model,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
    )


def log_model(
    xgb_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model as a LoggedModel of the active run; returns its info.

    Example::

        with wayline.start_run():
            info = wayline.xgboost.log_model(booster, name="model", input_example=X[:5])
    """

    def save(path: str, mlflow_model: Model) -> None:
        save_model(
            xgb_model,
            path,
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            model_format=model_format,
            metadata=metadata,
            **kwargs,
        )

    return log_flavor_model(
        save,
        name,
        artifact_path,
        params,
        tags,
        model_type,
        step,
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for,
    )


def _load(model_dir: str, conf: dict[str, Any]) -> Any:
    require("xgboost", "xgboost")
    # Models saved before MLflow 1.22 record no class: they are Boosters.
    model = import_class(conf.get("model_class") or "xgboost.core.Booster")()
    model.load_model(os.path.join(model_dir, conf["data"]))
    return model


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load an XGBoost model (saved by Wayline or MLflow) as its recorded class.

    Example::

        booster = wayline.xgboost.load_model("models:/m-0123456789abcdef0123456789abcdef")
    """
    local, conf = local_model_dir(model_uri, FLAVOR_NAME, dst_path)
    return _load(local, conf)


def _load_pyfunc(path: str) -> _XGBModelWrapper:
    """pyfunc loader: ``path`` is the model file (the pyfunc block's ``data``)."""
    model_dir = model_dir_of(path)
    return _XGBModelWrapper(_load(model_dir, flavor_conf(model_dir, FLAVOR_NAME)))


__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
