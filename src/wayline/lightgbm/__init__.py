"""LightGBM models (``mlflow.lightgbm``): ``save_model``, ``log_model``, ``load_model``.

The model directory is MLflow 3.18's: a ``lightgbm.Booster`` as LightGBM's text model
``model.lgb``; a scikit-learn API model (``LGBMClassifier``...) as ``model.skops`` (default) or
``model.pkl`` (``cloudpickle``/``pickle``); a ``lightgbm`` flavor block (``lgb_version``,
``data``, ``model_class``, ``serialization_format``, ``skops_trusted_types``, ``code``) and a
``python_function`` block with ``loader_module: mlflow.lightgbm``. Needs
``pip install 'wayline[lightgbm]'`` (and ``wayline[sklearn]`` for the scikit-learn API).

Example::

    with wayline.start_run():
        info = wayline.lightgbm.log_model(booster, name="model", input_example=X[:5])
    wayline.pyfunc.load_model(info.model_uri).predict(X)
"""

from __future__ import annotations

import os
from typing import Any

from wayline.models.flavor import (
    FlavorData,
    Requirements,
    class_path,
    flavor_conf,
    local_model_dir,
    log_flavor_model,
    model_dir_of,
    require,
    save_flavor_model,
)
from wayline.models.model import Model, ModelInfo
from wayline.models.signature import ModelSignature
from wayline.sklearn.serialization import (
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_SKOPS,
    check_format,
    dump_estimator,
    load_estimator,
)

FLAVOR_NAME = "lightgbm"
_BOOSTER_CLASS = "lightgbm.basic.Booster"
# What a skops file of LightGBM's scikit-learn models holds besides sklearn's own types.
_SKOPS_TRUSTED_TYPES = {
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
}


class _LGBModelWrapper:
    def __init__(self, lgb_model: Any) -> None:
        self.lgb_model = lgb_model

    def get_raw_model(self) -> Any:
        return self.lgb_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.lgb_model.predict(data)


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    skops_trusted_types: list[str] | None = None,
) -> None:
    """Save a LightGBM Booster or scikit-learn API model to a local directory.

    Example::

        wayline.lightgbm.save_model(booster, "model_dir", input_example=X[:5])
        wayline.lightgbm.save_model(LGBMClassifier().fit(X, y), "clf_dir")
    """
    lgb = require("lightgbm", "lightgbm")
    fmt = serialization_format or SERIALIZATION_FORMAT_SKOPS
    check_format(fmt)
    is_booster = isinstance(lgb_model, lgb.Booster)
    if is_booster:
        file = "model.lgb"
    else:
        file = "model.skops" if fmt == SERIALIZATION_FORMAT_SKOPS else "model.pkl"
    trusted = skops_trusted_types
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        trusted = sorted(_SKOPS_TRUSTED_TYPES.union(skops_trusted_types or ()))

    def write(directory: str) -> FlavorData:
        target = os.path.join(directory, file)
        if is_booster:
            lgb_model.save_model(target)
        else:
            dump_estimator(lgb_model, target, fmt, trusted, extra="sklearn")
        conf = {
            "lgb_version": lgb.__version__,
            "data": file,
            "model_class": class_path(lgb_model),
            "serialization_format": fmt,
            "skops_trusted_types": trusted,
        }
        extra: list[str] = []
        if not is_booster and fmt == SERIALIZATION_FORMAT_SKOPS:
            extra = ["skops"]
        elif not is_booster and fmt == SERIALIZATION_FORMAT_CLOUDPICKLE:
            extra = ["cloudpickle"]
        return FlavorData(conf, {"loader_module": "mlflow.lightgbm", "data": file}, extra)

    save_flavor_model(
        path,
        FLAVOR_NAME,
        write,
        model_obj=lgb_model,
        predict=_LGBModelWrapper(lgb_model).predict,
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
    lgb_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    serialization_format: str | None = None,
    skops_trusted_types: list[str] | None = None,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
) -> ModelInfo:
    """Log a LightGBM model as a LoggedModel of the active run; returns its info.

    Example::

        with wayline.start_run():
            info = wayline.lightgbm.log_model(booster, name="model")
    """

    def save(path: str, mlflow_model: Model) -> None:
        save_model(
            lgb_model,
            path,
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            serialization_format=serialization_format,
            skops_trusted_types=skops_trusted_types,
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
    lgb = require("lightgbm", "lightgbm")
    file = os.path.join(model_dir, conf["data"])
    if (conf.get("model_class") or _BOOSTER_CLASS) == _BOOSTER_CLASS:
        return lgb.Booster(model_file=file)
    # MLflow before skops wrote scikit-learn API models with cloudpickle and no format key.
    fmt = conf.get("serialization_format") or SERIALIZATION_FORMAT_CLOUDPICKLE
    return load_estimator(file, fmt, conf.get("skops_trusted_types"), extra="lightgbm")


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load a LightGBM model (saved by Wayline or MLflow): a Booster or the scikit-learn API
    model that was saved.

    Example::

        booster = wayline.lightgbm.load_model("models:/m-0123456789abcdef0123456789abcdef")
    """
    local, conf = local_model_dir(model_uri, FLAVOR_NAME, dst_path)
    return _load(local, conf)


def _load_pyfunc(path: str) -> _LGBModelWrapper:
    """pyfunc loader: ``path`` is the model file (the pyfunc block's ``data``)."""
    model_dir = model_dir_of(path)
    return _LGBModelWrapper(_load(model_dir, flavor_conf(model_dir, FLAVOR_NAME)))


__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]
