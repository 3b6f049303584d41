"""Code that travels with a model: ``code_paths`` and models-from-code.

``code_paths`` (files or directories) are copied under ``code/`` in the model directory and put
first on ``sys.path`` when the model loads. A model-from-code is a Python file that builds the
model and hands it to ``set_model``; the file is saved at the model directory's root and run
again at load (nothing is pickled), as MLflow's ``mlflow.models.set_model`` works.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import uuid
from typing import Any

from wayline.errors import InvalidParameter, WaylineError

CODE_DIR = "code"

# The model the file being loaded handed to set_model (MLflow keeps it as a module global too).
_current_model: Any = None


def set_model(model: Any) -> None:
    """Declare the model a models-from-code file defines (a PythonModel or a callable).

    Example (``my_model.py``, logged with ``log_model(python_model="my_model.py")``)::

        from wayline.models import set_model
        from wayline.pyfunc import PythonModel

        class Doubler(PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input * 2

        set_model(Doubler())
    """
    global _current_model  # noqa: PLW0603 - the file's one way to hand its model over
    if isinstance(model, str) or not (callable(model) or hasattr(model, "predict")):
        raise InvalidParameter(
            "Model should either be an instance of PythonModel or a callable; got "
            f"{type(model).__name__}."
        )
    _current_model = model


def load_model_code(code_path: str) -> Any:
    """Run a models-from-code file and return the model it set with ``set_model``."""
    global _current_model  # noqa: PLW0603 - reset so a file that sets nothing is caught
    _current_model = None
    name = f"code_model_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, code_path)
    if spec is None or spec.loader is None:
        raise InvalidParameter(f"Cannot import the model code file {code_path!r}.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # any failure of user code is reported with its file
        raise WaylineError(f"Failed to run user code from {code_path}. Error: {e!s}") from e
    model = _model_set_by_mlflow() if _current_model is None else _current_model
    if model is None:
        raise InvalidParameter(
            f"{code_path} did not set a model: call wayline.models.set_model(model) in the file."
        )
    return model


def _model_set_by_mlflow() -> Any:
    """A file written for MLflow calls ``mlflow.models.set_model``; read what it set."""
    mlflow_model = sys.modules.get("mlflow.models.model")
    return getattr(mlflow_model, "__mlflow_model__", None) if mlflow_model else None


def copy_code_paths(code_paths: list[str] | None, model_dir: str) -> str | None:
    """Copy ``code_paths`` into ``<model_dir>/code``; the flavor's ``code`` value (or None)."""
    if not code_paths:
        return None
    if isinstance(code_paths, str) or not all(isinstance(p, str) for p in code_paths):
        raise InvalidParameter(f"code_paths must be a list of paths, got {code_paths!r}")
    target = os.path.join(model_dir, CODE_DIR)
    os.makedirs(target, exist_ok=True)
    for path in code_paths:
        if not os.path.exists(path):
            raise InvalidParameter(f"The code path {path!r} does not exist.")
        dst = os.path.join(target, os.path.basename(os.path.normpath(path)))
        if os.path.isdir(path):
            shutil.copytree(
                path, dst, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
            )
        else:
            shutil.copy2(path, dst)
    return CODE_DIR


def add_code_to_path(model_dir: str, conf: dict[str, Any]) -> None:
    """Put the model's ``code`` directory first on ``sys.path``, dropping modules already
    imported under the names it provides so the model's own copies load."""
    code = conf.get("code")
    if not code:
        return
    code_dir = os.path.join(model_dir, code)
    names = {n[:-3] if n.endswith(".py") else n for n in os.listdir(code_dir)}
    for name in list(sys.modules):
        if name.split(".")[0] in names:
            del sys.modules[name]
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)


__all__ = ["CODE_DIR", "add_code_to_path", "copy_code_paths", "load_model_code", "set_model"]
