"""Custom ``PythonModel`` models: saving (``python_model.pkl``, ``artifacts/``) and loading.

The flavor block written is MLflow's (``loader_module: mlflow.pyfunc.model``,
``python_model: python_model.pkl``, ``cloudpickle_version``, ``artifacts``, ``streamable``), so
MLflow loads these models; Wayline reads ``mlflow.pyfunc.model`` as this module. A pickle made
by MLflow names ``mlflow.pyfunc.model.PythonModel`` as a base class: it is read as ours, so
MLflow need not be installed to load it.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from typing import Any

from wayline.errors import InvalidParameter, WaylineError
from wayline.models.model import Model
from wayline.models.signature import ModelSignature
from wayline.pyfunc.python_model import (
    FunctionModel,
    PythonModel,
    PythonModelContext,
    takes_context,
)

LOADER_MODULE = "mlflow.pyfunc.model"
CODE_LOADER_MODULE = "mlflow.pyfunc.loaders.code_model"
PICKLE_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
# MLflow's names of our classes, as its pickles reference them.
_MLFLOW_CLASSES = {
    ("mlflow.pyfunc.model", "PythonModel"),
    ("mlflow.pyfunc.model", "PythonModelContext"),
    ("mlflow.pyfunc", "PythonModel"),
    ("mlflow.pyfunc", "PythonModelContext"),
    # MLflow caches the predict type hints it read on the instance before pickling it.
    ("mlflow.models.signature", "_TypeHints"),
}


def as_python_model(model: Any) -> Any:
    """A PythonModel instance for what the user gave (a function is wrapped)."""
    if isinstance(model, PythonModel) or hasattr(model, "predict"):
        return model
    if callable(model):
        return FunctionModel(model)
    raise InvalidParameter(
        "python_model must be a PythonModel, a callable or a path to a .py file, got "
        f"{type(model).__name__}"
    )


def _dump(python_model: Any, path: str) -> None:
    import cloudpickle  # type: ignore[import-untyped]

    from wayline.pyfunc import python_model as base_module

    # By value, so the pickle does not need Wayline to load (see python_model.py).
    cloudpickle.register_pickle_by_value(base_module)
    try:
        with open(path, "wb") as f:
            cloudpickle.dump(python_model, f)
    except Exception as e:  # cloudpickle raises many unrelated types for unpicklable objects
        raise InvalidParameter(
            f"Failed to serialize the Python model ({e}). Save the model in a Python file and log "
            "that file instead (models-from-code)."
        ) from e
    finally:
        cloudpickle.unregister_pickle_by_value(base_module)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _MLFLOW_CLASSES:
            module = "wayline.pyfunc.python_model"
        return super().find_class(module, name)


def _load_pickle(path: str) -> Any:
    import cloudpickle  # noqa: F401 - pickles made by cloudpickle refer to its functions

    with open(path, "rb") as f:
        return _Unpickler(f).load()


def _copy_artifacts(artifacts: dict[str, str], model_dir: str) -> dict[str, dict[str, str]]:
    """Copy (or download) each artifact under ``artifacts/``; the flavor's artifacts config."""
    config: dict[str, dict[str, str]] = {}
    root = os.path.join(model_dir, ARTIFACTS_DIR)
    os.makedirs(root, exist_ok=True)
    for name, uri in artifacts.items():
        with tempfile.TemporaryDirectory() as staging:
            if os.path.exists(uri):
                source = os.path.abspath(uri)
            else:
                from wayline.artifacts import download_artifacts

                source = download_artifacts(artifact_uri=uri, dst_path=staging)
            base = os.path.basename(os.path.normpath(source))
            relative = f"{ARTIFACTS_DIR}/{base}"
            if os.path.exists(os.path.join(model_dir, relative)):
                relative = f"{ARTIFACTS_DIR}/{name}/{base}"  # two artifacts with one file name
            target = os.path.join(model_dir, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.isdir(source):
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
        config[name] = {"path": relative, "uri": uri}
    return config


def save_python_model(
    path: str,
    python_model: Any,
    mlflow_model: Model,
    artifacts: dict[str, str] | None = None,
    model_code_path: str | None = None,
) -> dict[str, Any]:
    """Write the model's pickle (unless it is a models-from-code file) and artifacts; returns
    the flavor keys that describe them."""
    import cloudpickle

    keys: dict[str, Any] = {"cloudpickle_version": cloudpickle.__version__}
    if model_code_path is None:
        _dump(python_model, os.path.join(path, PICKLE_FILE))
        keys["python_model"] = PICKLE_FILE
    if artifacts:
        keys["artifacts"] = _copy_artifacts(artifacts, path)
    predict_stream = getattr(type(python_model), "predict_stream", None)
    keys["streamable"] = predict_stream is not None
    keys["loader_module"] = CODE_LOADER_MODULE if model_code_path else LOADER_MODULE
    return keys


class PythonModelWrapper:
    """What ``_load_pyfunc`` returns: calls the model's ``predict`` with or without context."""

    def __init__(
        self, python_model: Any, context: PythonModelContext, signature: ModelSignature | None
    ) -> None:
        self.python_model = python_model
        self.context = context
        self.signature = signature

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        import inspect

        predict = self.python_model.predict
        kwargs = {"params": params} if "params" in inspect.signature(predict).parameters else {}
        if takes_context(predict):
            return predict(self.context, model_input, **kwargs)
        return predict(model_input, **kwargs)


def load_context_and_model(
    model_path: str, model_config: dict[str, Any] | None = None
) -> PythonModelWrapper:
    """Read the model (pickle or models-from-code file) and call its ``load_context``."""
    model = Model.load(model_path)
    conf = model.flavors.get("python_function", {})
    if conf.get("model_code_path"):
        from wayline.models.code import load_model_code

        code_file = os.path.join(model_path, os.path.basename(conf["model_code_path"]))
        python_model = as_python_model(load_model_code(code_file))
    else:
        pickled = conf.get("python_model")
        if not pickled:
            raise WaylineError("Python model path was not specified in the model configuration")
        if conf.get("python_model_compression"):
            raise WaylineError("Compressed python_model pickles are not supported yet.")
        python_model = _load_pickle(os.path.join(model_path, pickled))
    artifacts = {
        name: os.path.join(model_path, info["path"])
        for name, info in (conf.get("artifacts") or {}).items()
    }
    config = model_config if model_config is not None else conf.get("config")
    context = PythonModelContext(artifacts, config)
    python_model.load_context(context)
    return PythonModelWrapper(python_model, context, model.signature)


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> PythonModelWrapper:
    return load_context_and_model(model_path, model_config)


__all__ = ["LOADER_MODULE", "PythonModelWrapper", "as_python_model", "save_python_model"]
