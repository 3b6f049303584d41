"""scikit-learn models (``mlflow.sklearn``): ``save_model``, ``log_model``, ``load_model``.

The model directory is MLflow 3.18's: ``model.skops`` (default) or ``model.pkl`` (``pickle``
or ``cloudpickle``), an ``sklearn`` flavor block (``pickled_model``, ``serialization_format``,
``sklearn_version``, ``skops_trusted_types``, ``code``) and a ``python_function`` block with
``loader_module: mlflow.sklearn``, ``model_path`` and ``predict_fn``. Models saved by MLflow
load here and the reverse. Needs ``pip install 'wayline[sklearn]'``.

Example::

    import wayline
    import wayline.sklearn

    with wayline.start_run():
        info = wayline.sklearn.log_model(clf, name="model", input_example=X[:5])
    wayline.sklearn.load_model(info.model_uri).predict(X)
    wayline.pyfunc.load_model(info.model_uri).predict(X)
"""

from __future__ import annotations

import os
from typing import Any

from wayline.errors import InvalidParameter, NotFound
from wayline.models.flavor import (
    FlavorData,
    Requirements,
    flavor_conf,
    local_model_dir,
    log_flavor_model,
    model_dir_of,
    require,
    save_flavor_model,
)
from wayline.models.model import Model, ModelInfo
from wayline.models.signature import ModelSignature
from wayline.sklearn.fast_path import names_free_twin, plain_rows
from wayline.sklearn.serialization import (
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_SKOPS,
    SUPPORTED_SERIALIZATION_FORMATS,
    check_format,
    dump_estimator,
    load_estimator,
)

FLAVOR_NAME = "sklearn"
_PICKLE_FILE = "model.pkl"
_SKOPS_FILE = "model.skops"
# Methods besides `predict` a pyfunc can call (`pyfunc_predict_fn`, or the `predict_method`
# inference param); MLflow's list.
_PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "predict_joint_log_proba")


class _SklearnModelWrapper:
    """The pyfunc face of an estimator: ``predict`` plus the estimator's other predict
    methods, so ``predict_fn: predict_proba`` in MLmodel works."""

    def __init__(self, sklearn_model: Any) -> None:
        self.sklearn_model = sklearn_model
        names = getattr(sklearn_model, "feature_names_in_", None)
        self._names = None if names is None else [str(n) for n in names]
        # Per predict method: the array-taking twin (fast_path.py), None where it does not hold.
        self._twins: dict[str, Any] = {}
        for name in (*_PREDICT_METHODS[1:], "score"):
            if hasattr(sklearn_model, name):
                setattr(self, name, self._calling(name))

    def _calling(self, name: str) -> Any:
        # A method taking data only: a Pipeline's own take **params, which pyfunc would fill.
        def call(data: Any) -> Any:
            return getattr(self.sklearn_model, name)(data)

        return call

    def get_raw_model(self) -> Any:
        return self.sklearn_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        # A signature whose params schema has `predict_method` lets a caller pick
        # predict_proba / predict_log_proba per request (MLflow only fixes it at save time).
        method = (params or {}).get("predict_method") or "predict"
        if method not in _PREDICT_METHODS or not hasattr(self.sklearn_model, method):
            raise InvalidParameter(
                f"predict_method {method!r} is not available for this model; choose one of "
                f"{[m for m in _PREDICT_METHODS if hasattr(self.sklearn_model, m)]}."
            )
        if self._names is not None and (rows := plain_rows(data, self._names)) is not None:
            if method not in self._twins:
                self._twins[method] = names_free_twin(self.sklearn_model, method)
            twin = self._twins[method]
            if twin is not None:
                return getattr(twin, method)(rows)
        return getattr(self.sklearn_model, method)(data)


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    serialization_format: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: list[str] | None = None,
) -> None:
    """Save a scikit-learn model (or pipeline) to a local directory.

    ``serialization_format`` is ``"skops"`` (default, as MLflow 3), ``"cloudpickle"`` (for
    custom classes defined in a notebook) or ``"pickle"``; ``pyfunc_predict_fn`` names the
    method the pyfunc model calls (``predict_proba`` for class probabilities). A signature
    with a ``predict_method`` param (``input_example=(X, {"predict_method": "predict"})``)
    lets each pyfunc call choose ``predict``, ``predict_proba`` or ``predict_log_proba``.

    Example::

        wayline.sklearn.save_model(clf, "model_dir", input_example=X[:5])
        wayline.sklearn.save_model(clf, "proba", pyfunc_predict_fn="predict_proba")
    """
    sklearn = require("sklearn", "sklearn")
    fmt = serialization_format or SERIALIZATION_FORMAT_SKOPS
    check_format(fmt)
    file = _SKOPS_FILE if fmt == SERIALIZATION_FORMAT_SKOPS else _PICKLE_FILE
    has_predict_fn = hasattr(sk_model, pyfunc_predict_fn)

    def write(directory: str) -> FlavorData:
        dump_estimator(sk_model, os.path.join(directory, file), fmt, skops_trusted_types)
        pyfunc = {"loader_module": "mlflow.sklearn", "model_path": file}
        conf = {
            "pickled_model": file,
            "sklearn_version": sklearn.__version__,
            "serialization_format": fmt,
            "skops_trusted_types": skops_trusted_types,
        }
        extra = {
            SERIALIZATION_FORMAT_SKOPS: "skops",
            SERIALIZATION_FORMAT_CLOUDPICKLE: "cloudpickle",
        }
        return FlavorData(
            conf,
            {**pyfunc, "predict_fn": pyfunc_predict_fn} if has_predict_fn else None,
            [extra[fmt]] if fmt in extra else [],
        )

    wrapper = _SklearnModelWrapper(sk_model)
    save_flavor_model(
        path,
        FLAVOR_NAME,
        write,
        model_obj=sk_model,
        predict=getattr(wrapper, pyfunc_predict_fn, None),
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
    sk_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    serialization_format: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    name: str | None = None,
    skops_trusted_types: list[str] | None = None,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
) -> ModelInfo:
    """Log a scikit-learn model as a LoggedModel of the active run; returns its info.

    Example::

        with wayline.start_run():
            info = wayline.sklearn.log_model(clf, name="model", input_example=X[:5])
        wayline.pyfunc.load_model(info.model_uri).predict(X)  # models:/m-...
    """

    def save(path: str, mlflow_model: Model) -> None:
        save_model(
            sk_model,
            path,
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            serialization_format=serialization_format,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            pyfunc_predict_fn=pyfunc_predict_fn,
            metadata=metadata,
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


def _load_file(file: str, conf: dict[str, Any]) -> Any:
    # A model without the format recorded predates MLflow 1.x's formats: plain pickle.
    fmt = conf.get("serialization_format") or SERIALIZATION_FORMAT_PICKLE
    return load_estimator(file, fmt, conf.get("skops_trusted_types"))


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load a scikit-learn model (saved by Wayline or MLflow) as the estimator itself.

    Example::

        clf = wayline.sklearn.load_model("models:/m-0123456789abcdef0123456789abcdef")
        clf = wayline.sklearn.load_model(f"runs:/{run_id}/model")
    """
    local, conf = local_model_dir(model_uri, FLAVOR_NAME, dst_path)
    return _load_file(os.path.join(local, conf["pickled_model"]), conf)


def _load_pyfunc(path: str) -> _SklearnModelWrapper:
    """pyfunc loader: ``path`` is the model directory (or its model file)."""
    model_dir = model_dir_of(path)
    try:
        conf = flavor_conf(model_dir, FLAVOR_NAME)
    except NotFound:  # MLflow then assumes a plain pickle
        conf = {}
    if os.path.isdir(path):
        path = os.path.join(model_dir, flavor_conf(model_dir, "python_function")["model_path"])
    return _SklearnModelWrapper(_load_file(path, conf))


__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "load_model",
    "log_model",
    "save_model",
]
