"""ONNX models (``mlflow.onnx``): ``save_model``, ``log_model``, ``load_model``.

The model directory is MLflow 3.18's: ``model.onnx``, an ``onnx`` flavor block
(``onnx_version``, ``data``, ``providers``, ``onnx_session_options``, ``code``) and a
``python_function`` block with ``loader_module: mlflow.onnx``. The pyfunc form runs an
onnxruntime ``InferenceSession`` on the recorded execution providers that this onnxruntime
has (CPU otherwise). Needs ``pip install 'wayline[onnx]'``.

Example::

    with wayline.start_run():
        info = wayline.onnx.log_model(onnx_model, name="model", input_example=X[:5])
    wayline.pyfunc.load_model(info.model_uri).predict(X)  # {output name: array}
"""

from __future__ import annotations

import logging
import os
from typing import Any

from wayline.errors import InvalidParameter
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

FLAVOR_NAME = "onnx"
ONNX_EXECUTION_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]
_FILE = "model.onnx"
_logger = logging.getLogger(__name__)


def _provider_name(entry: Any) -> str | None:
    if isinstance(entry, (list, tuple)):
        entry = entry[0] if entry else None
    return entry if isinstance(entry, str) else None


def _session_options(ort: Any, options: dict[str, Any] | None) -> Any:
    opts = ort.SessionOptions()
    options = options or {}
    for key in ("inter_op_num_threads", "intra_op_num_threads"):
        if options.get(key):
            setattr(opts, key, options[key])
    if mode := options.get("execution_mode"):
        opts.execution_mode = (
            ort.ExecutionMode.ORT_PARALLEL
            if str(mode).upper() == "PARALLEL"
            else ort.ExecutionMode.ORT_SEQUENTIAL
        )
    if level := options.get("graph_optimization_level"):
        opts.graph_optimization_level = ort.GraphOptimizationLevel(level)
    for key, value in (options.get("extra_session_config") or {}).items():
        opts.add_session_config_entry(key, value)
    return opts


class _OnnxModelWrapper:
    """An InferenceSession behind pyfunc's ``predict``: a DataFrame feeds the single input
    (its values) or one input per column, an ndarray the single input, a dict the inputs by
    name; float64 is cast to float32 where the model wants float."""

    def __init__(self, file: str, conf: dict[str, Any]) -> None:
        ort = require("onnxruntime", "onnx")
        providers = conf.get("providers") or ONNX_EXECUTION_PROVIDERS
        if isinstance(providers, str):
            providers = [providers]
        # (name, options) pairs come back from YAML as lists; onnxruntime wants tuples.
        providers = [tuple(p) if isinstance(p, list) else p for p in providers]
        available = set(ort.get_available_providers())
        usable = [p for p in providers if _provider_name(p) in available] or [
            "CPUExecutionProvider"
        ]
        options = _session_options(ort, conf.get("onnx_session_options"))
        self.rt = ort.InferenceSession(file, providers=usable, sess_options=options)
        self.inputs = [(i.name, i.type) for i in self.rt.get_inputs()]
        self.output_names = [o.name for o in self.rt.get_outputs()]

    def get_raw_model(self) -> Any:
        return self.rt

    def _feeds(self, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        if isinstance(data, dict):
            feeds = dict(data)
        elif isinstance(data, np.ndarray):
            if len(self.inputs) != 1:
                raise InvalidParameter(
                    "A numpy array can only feed an ONNX model with one input; this one has "
                    f"{[n for n, _ in self.inputs]}: pass a dict or a DataFrame."
                )
            feeds = {self.inputs[0][0]: data}
        elif isinstance(data, pd.DataFrame):
            if len(self.inputs) > 1:
                feeds = {name: data[name].to_numpy() for name, _ in self.inputs}
            else:
                feeds = {self.inputs[0][0]: data.to_numpy()}
        else:
            raise InvalidParameter(
                f"Input should be a dict, a numpy array or a DataFrame, got {type(data).__name__}"
            )
        for name, kind in self.inputs:
            feed = feeds.get(name)
            # JSON and CSV bodies arrive as float64 whatever the client sent.
            if kind == "tensor(float)" and feed is not None and feed.dtype == np.float64:
                feeds[name] = feed.astype(np.float32)
        return feeds

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        predicted = self.rt.run(self.output_names, self._feeds(data))
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                {
                    n: np.asarray(p).reshape(-1)
                    for n, p in zip(self.output_names, predicted, strict=True)
                }
            )
        return dict(zip(self.output_names, predicted, strict=True))


def save_model(
    onnx_model: Any,
    path: str | os.PathLike[str],
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    onnx_execution_providers: list[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
) -> None:
    """Save an ONNX ``ModelProto`` to a local directory. As in MLflow, the signature is not
    inferred from the example: pass ``signature`` to have inputs checked.

    Example::

        wayline.onnx.save_model(onnx_model, "model_dir", signature=signature)
        wayline.onnx.save_model(m, "cpu_dir", onnx_execution_providers=["CPUExecutionProvider"])
    """
    onnx = require("onnx", "onnx")
    providers = onnx_execution_providers or ONNX_EXECUTION_PROVIDERS
    if onnx_session_options is not None and not isinstance(onnx_session_options, dict):
        raise InvalidParameter("`onnx_session_options` must be a dict.")

    def write(directory: str) -> FlavorData:
        onnx.save_model(
            onnx_model, os.path.join(directory, _FILE), save_as_external_data=save_as_external_data
        )
        conf = {
            "onnx_version": onnx.__version__,
            "data": _FILE,
            "providers": providers,
            "onnx_session_options": onnx_session_options,
        }
        return FlavorData(conf, {"loader_module": "mlflow.onnx", "data": _FILE})

    save_flavor_model(
        path,
        FLAVOR_NAME,
        write,
        mlflow_model=mlflow_model,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        conda_env=conda_env,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        infer_from_example=False,
    )


def log_model(
    onnx_model: Any,
    artifact_path: str | None = None,
    conda_env: str | dict[str, Any] | None = None,
    code_paths: list[str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    onnx_execution_providers: list[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
) -> ModelInfo:
    """Log an ONNX model as a LoggedModel of the active run; returns its info.

    Example::

        with wayline.start_run():
            info = wayline.onnx.log_model(onnx_model, name="model", signature=signature)
    """

    def save(path: str, mlflow_model: Model) -> None:
        save_model(
            onnx_model,
            path,
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            onnx_execution_providers=onnx_execution_providers,
            onnx_session_options=onnx_session_options,
            metadata=metadata,
            save_as_external_data=save_as_external_data,
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


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """Load an ONNX model (saved by Wayline or MLflow) as an ``onnx.ModelProto``, checked.

    Example::

        proto = wayline.onnx.load_model("models:/m-0123456789abcdef0123456789abcdef")
    """
    onnx = require("onnx", "onnx")
    local, conf = local_model_dir(model_uri, FLAVOR_NAME, dst_path)
    file = os.path.join(local, conf["data"])
    onnx.checker.check_model(file)
    return onnx.load(file)


def _load_pyfunc(path: str) -> _OnnxModelWrapper:
    """pyfunc loader: ``path`` is ``model.onnx`` (the pyfunc block's ``data``)."""
    return _OnnxModelWrapper(path, flavor_conf(model_dir_of(path), FLAVOR_NAME))


__all__ = ["FLAVOR_NAME", "ONNX_EXECUTION_PROVIDERS", "load_model", "log_model", "save_model"]
