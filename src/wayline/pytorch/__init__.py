"""PyTorch models (``mlflow.pytorch``): ``save_model``, ``log_model``, ``load_model`` and the
state-dict helpers ``save_state_dict``, ``log_state_dict``, ``load_state_dict``.

The model directory is MLflow 3.18's: ``data/model.pth`` (the whole module by ``torch.save``
with cloudpickle, the module's name in ``data/pickle_module_info.txt``) or, with
``serialization_format="pt2"``, ``data/model.pt2`` (a ``torch.export`` program); a ``pytorch``
flavor block (``model_data``, ``pytorch_version``, ``code``) and a ``python_function`` block
with ``loader_module: mlflow.pytorch``, ``pickle_module_name`` and ``config: {device: null}``.
The default is the whole-module pickle: MLflow 3.18 defaults to ``pt2``, which needs a tensor
input example; both load either way. Needs ``pip install 'wayline[pytorch]'``.

Example::

    with wayline.start_run():
        info = wayline.pytorch.log_model(net, name="model", input_example=X[:5])
    wayline.pytorch.load_model(info.model_uri)(torch.from_numpy(X))
    wayline.pyfunc.load_model(info.model_uri).predict(X)  # numpy in, numpy out
"""

from __future__ import annotations

import importlib
import os
import tempfile
from typing import Any

from wayline.errors import InvalidParameter, WaylineError
from wayline.models.flavor import (
    FlavorData,
    Requirements,
    local_model_dir,
    log_flavor_model,
    require,
    save_flavor_model,
)
from wayline.models.model import Model, ModelInfo
from wayline.models.signature import ModelSignature

FLAVOR_NAME = "pytorch"
_DATA = "data"
_PTH = "model.pth"
_PT2 = "model.pt2"
_STATE_DICT = "state_dict.pth"
_PICKLE_INFO = "pickle_module_info.txt"
# Written into the model (MLflow imports it); read back as wayline.pytorch.pickle_module.
_PICKLE_MODULE = "mlflow.pytorch.pickle_module"


def _torch() -> Any:
    return require("torch", "pytorch")


class _PyTorchWrapper:
    """The pyfunc face: a DataFrame becomes a float32 tensor and comes back as a DataFrame on
    the same index; an ndarray is fed as it is and comes back as an ndarray."""

    def __init__(self, pytorch_model: Any, device: str) -> None:
        self.pytorch_model = pytorch_model
        self.device = device

    def get_raw_model(self) -> Any:
        return self.pytorch_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        torch = _torch()
        if params and "device" in params:
            raise InvalidParameter(
                "'device' is chosen when the model is loaded, not per prediction: "
                "wayline.pyfunc.load_model(uri, model_config={'device': 'cuda'})."
            )
        if isinstance(data, pd.DataFrame):
            values = data.to_numpy(dtype=np.float32)
        elif isinstance(data, np.ndarray):
            values = data
        else:
            raise InvalidParameter(
                "The PyTorch flavor takes a pandas DataFrame or a numpy ndarray, not "
                f"{type(data).__name__}."
            )
        with torch.no_grad():
            # torch warns on read-only arrays (pandas' copy-on-write gives those): copy them.
            tensor = torch.from_numpy(np.require(values, requirements="W"))
            preds = self.pytorch_model(tensor.to(self.device), **(params or {}))
            if not isinstance(preds, torch.Tensor):
                raise WaylineError(
                    "Expected the PyTorch model to return a single tensor, got "
                    f"{type(preds).__name__}."
                )
            out = preds.to("cpu").numpy()
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(out, index=data.index)
        return out


def _export(torch: Any, model: Any, example: Any, target: str) -> None:
    """``torch.export`` the model traced on the example, every batch dimension dynamic."""
    import numpy as np

    inputs = example if isinstance(example, (tuple, list)) else (example,)
    if not inputs or not all(isinstance(x, (np.ndarray, torch.Tensor)) for x in inputs):
        raise InvalidParameter(
            "serialization_format='pt2' needs an input_example of numpy arrays or tensors: "
            "torch.export traces the model on it."
        )
    tensors = tuple(
        torch.from_numpy(np.require(x, requirements="W")) if isinstance(x, np.ndarray) else x
        for x in inputs
    )
    dims = [{0: torch.export.Dim.AUTO} for _ in tensors]
    torch.export.save(torch.export.export(model, tensors, dynamic_shapes=dims), target)


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
    code_paths: list[str] | None = None,
    pickle_module: Any = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str = "pickle",
    **kwargs: Any,
) -> None:
    """Save a ``torch.nn.Module`` (the whole module, or an exported program with
    ``serialization_format="pt2"``) to a local directory; ``kwargs`` go to ``torch.save``.

    Example::

        wayline.pytorch.save_model(net, "model_dir", input_example=X[:5])
        wayline.pytorch.save_model(net, "pt2_dir", serialization_format="pt2", input_example=X[:5])
    """
    torch = _torch()
    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidParameter("`pytorch_model` should be a torch.nn.Module.")
    if serialization_format not in ("pickle", "pt2"):
        raise InvalidParameter("`serialization_format` must be 'pickle' or 'pt2'.")
    if pickle_module is None:
        from wayline.pytorch import pickle_module as default_module

        pickle_module = default_module
    module_name = (
        _PICKLE_MODULE
        if pickle_module.__name__ == "wayline.pytorch.pickle_module"
        else pickle_module.__name__
    )

    def write(directory: str) -> FlavorData:
        data_dir = os.path.join(directory, _DATA)
        os.makedirs(data_dir)
        if serialization_format == "pt2":
            _export(torch, pytorch_model, input_example, os.path.join(data_dir, _PT2))
        else:
            with open(os.path.join(data_dir, _PICKLE_INFO), "w", encoding="utf-8") as f:
                f.write(module_name)
            target = os.path.join(data_dir, _PTH)
            if isinstance(pytorch_model, torch.jit.ScriptModule):
                torch.jit.save(pytorch_model, target)
            else:
                torch.save(pytorch_model, target, pickle_module=pickle_module, **kwargs)
        conf = {"model_data": _DATA, "pytorch_version": str(torch.__version__)}
        pyfunc = {
            "loader_module": "mlflow.pytorch",
            "data": _DATA,
            "pickle_module_name": module_name,
            "config": {"device": None},
        }
        return FlavorData(conf, pyfunc)

    save_flavor_model(
        path,
        FLAVOR_NAME,
        write,
        model_obj=pytorch_model,
        predict=_PyTorchWrapper(pytorch_model, "cpu").predict,
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
    pytorch_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    pickle_module: Any = None,
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
    serialization_format: str = "pickle",
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PyTorch model as a LoggedModel of the active run; returns its info.

    Example::

        with wayline.start_run():
            info = wayline.pytorch.log_model(net, name="model", input_example=X[:5])
    """

    def save(path: str, mlflow_model: Model) -> None:
        save_model(
            pytorch_model,
            path,
            conda_env=conda_env,
            mlflow_model=mlflow_model,
            code_paths=code_paths,
            pickle_module=pickle_module,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            serialization_format=serialization_format,
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


def _pickle_module(name: str) -> Any:
    if name.startswith("mlflow.pytorch."):
        name = "wayline.pytorch." + name.removeprefix("mlflow.pytorch.")
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise WaylineError(
            f"Failed to import the pickle module the PyTorch model was saved with: {name!r}"
        ) from e


def _load(data_dir: str, device: str | None = None, **kwargs: Any) -> Any:
    torch = _torch()
    pth = os.path.join(data_dir, _PTH)
    if not os.path.exists(pth):
        model = torch.export.load(os.path.join(data_dir, _PT2)).module()
    else:
        info = os.path.join(data_dir, _PICKLE_INFO)
        if "pickle_module" not in kwargs and os.path.exists(info):
            with open(info, encoding="utf-8") as f:
                kwargs["pickle_module"] = _pickle_module(f.read().strip())
        # A whole-module pickle cannot load as weights only (torch >= 2.6's default).
        kwargs.setdefault("weights_only", False)
        try:
            model = torch.load(pth, **kwargs)
        except RuntimeError:  # a TorchScript module, saved by torch.jit
            model = torch.jit.load(pth)
        model.eval()
    if device:
        model.to(device)
    return model


def load_model(
    model_uri: str | os.PathLike[str], dst_path: str | None = None, **kwargs: Any
) -> Any:
    """Load a PyTorch model (saved by Wayline or MLflow) as the ``torch.nn.Module``, in eval
    mode; ``kwargs`` go to ``torch.load``.

    Example::

        net = wayline.pytorch.load_model("models:/m-0123456789abcdef0123456789abcdef")
        net(torch.randn(4, 3))
    """
    local, conf = local_model_dir(model_uri, FLAVOR_NAME, dst_path)
    return _load(os.path.join(local, conf["model_data"]), **kwargs)


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> _PyTorchWrapper:
    """pyfunc loader: ``path`` is the ``data`` directory; ``model_config["device"]`` picks
    the device (WAYLINE_DEFAULT_PREDICTION_DEVICE, else CUDA when present, else CPU)."""
    torch = _torch()
    device = (model_config or {}).get("device")
    if device is None:
        device = os.environ.get("WAYLINE_DEFAULT_PREDICTION_DEVICE") or os.environ.get(
            "MLFLOW_DEFAULT_PREDICTION_DEVICE"
        )
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return _PyTorchWrapper(_load(path, device=device), device)


def save_state_dict(state_dict: dict[str, Any], path: str, **kwargs: Any) -> None:
    """Save a state dict as ``<path>/state_dict.pth`` (``kwargs`` go to ``torch.save``).

    Example::

        wayline.pytorch.save_state_dict(net.state_dict(), "weights")
        net.load_state_dict(wayline.pytorch.load_state_dict("weights"))
    """
    if not isinstance(state_dict, dict):
        # torch.save takes a whole model too: catch passing one by mistake.
        raise InvalidParameter(
            f"Invalid object type for `state_dict`: {type(state_dict).__name__}; must be a dict."
        )
    os.makedirs(path, exist_ok=True)
    _torch().save(state_dict, os.path.join(path, _STATE_DICT), **kwargs)


def log_state_dict(state_dict: dict[str, Any], artifact_path: str, **kwargs: Any) -> None:
    """Log a state dict as the active run's artifacts under ``artifact_path`` (not a model).

    Example::

        with wayline.start_run():
            wayline.pytorch.log_state_dict(net.state_dict(), "weights")
    """
    from wayline.tracking.fluent_artifacts import log_artifacts

    with tempfile.TemporaryDirectory() as tmp:
        save_state_dict(state_dict, tmp, **kwargs)
        log_artifacts(tmp, artifact_path)


def load_state_dict(state_dict_uri: str, **kwargs: Any) -> Any:
    """Load a state dict saved by ``save_state_dict``/``log_state_dict`` (or MLflow's) from a
    local path or any artifact URI; ``kwargs`` go to ``torch.load``.

    Example::

        state = wayline.pytorch.load_state_dict(f"runs:/{run_id}/weights")
    """
    local = state_dict_uri
    if not os.path.isdir(local):
        from wayline.artifacts import download_artifacts

        local = download_artifacts(artifact_uri=state_dict_uri)
    return _torch().load(os.path.join(local, _STATE_DICT), **kwargs)


__all__ = [
    "FLAVOR_NAME",
    "load_model",
    "load_state_dict",
    "log_model",
    "log_state_dict",
    "save_model",
    "save_state_dict",
]
