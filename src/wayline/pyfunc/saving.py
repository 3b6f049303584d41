"""``save_model`` and ``log_model`` for custom pyfunc models (``mlflow.pyfunc``'s arguments).

``log_model`` works as MLflow 3's: it creates a LoggedModel (PENDING) in the active run's
experiment, records it as an output of the run, copies the run's metrics at ``step`` onto it,
saves the model to a temporary directory, uploads it to the model's own artifact location
(``<experiment root>/models/<model_id>/artifacts``) and marks the model READY (FAILED if any
step fails). Like MLflow 3 it starts no run and writes no ``mlflow.log-model.history`` tag.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from typing import Any

import yaml

from wayline.errors import InvalidParameter
from wayline.models.code import copy_code_paths, load_model_code
from wayline.models.environment import (
    CONDA_ENV_FILE,
    FLAVOR_PACKAGES,
    PYTHON_ENV_FILE,
    PYTHON_VERSION,
    requirements_of,
    write_environment,
)
from wayline.models.example import save_example, split_params
from wayline.models.flavor import log_flavor_model
from wayline.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
from wayline.models.signature import ModelSignature
from wayline.pyfunc.loading import FLAVOR_NAME
from wayline.pyfunc.model import as_python_model, load_context_and_model, save_python_model

_logger = logging.getLogger(__name__)
Requirements = str | Sequence[str] | None


def _model_config(config: str | os.PathLike[str] | dict[str, Any] | None) -> dict[str, Any] | None:
    if config is None or isinstance(config, dict):
        return config
    with open(config, encoding="utf-8") as f:
        loaded = json.load(f) if os.fspath(config).endswith(".json") else yaml.safe_load(f)
    if not isinstance(loaded, dict):
        raise InvalidParameter(f"The model config file {config!r} does not hold a mapping.")
    return loaded


def _prepare_dir(path: str) -> None:
    if os.path.exists(path) and os.listdir(path):
        raise InvalidParameter(f"Path '{path}' already exists and is not empty")
    os.makedirs(path, exist_ok=True)


def _infer_from_example(path: str, example: Any) -> ModelSignature | None:
    """A signature from the input example and the saved model's prediction on it."""
    from wayline.models.signature import infer_signature

    data, params = split_params(example)
    try:
        output = load_context_and_model(path).predict(data, params=params)
    except Exception:  # the user's predict may fail on the example: keep the input schema
        _logger.warning("Failed to infer the output schema: predict failed on the input example.")
        output = None
    return infer_signature(data, output, params)


def _size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def save_model(
    path: str | os.PathLike[str],
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    code_paths: list[str] | None = None,
    conda_env: str | dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: dict[str, Any] | None = None,
    model_config: str | os.PathLike[str] | dict[str, Any] | None = None,
) -> None:
    """Save a custom model (a PythonModel, a function, or a models-from-code ``.py`` file).

    Example::

        import wayline.pyfunc

        class Doubler(wayline.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input * 2

        wayline.pyfunc.save_model("doubler", python_model=Doubler(), input_example=df)
    """
    if python_model is None:
        raise InvalidParameter("`python_model` must be given to save a pyfunc model.")
    path = os.path.abspath(os.fspath(path))
    _prepare_dir(path)
    config = _model_config(model_config)
    model_code_path = None
    if isinstance(python_model, (str, os.PathLike)):
        model_code_path = os.path.abspath(os.fspath(python_model))
        if not os.path.isfile(model_code_path):
            raise InvalidParameter(f"The model code file {model_code_path!r} does not exist.")
        with (
            open(model_code_path, encoding="utf-8") as src,
            open(
                os.path.join(path, os.path.basename(model_code_path)), "w", encoding="utf-8"
            ) as dst,
        ):
            dst.write(src.read())
        python_model = load_model_code(model_code_path)
    python_model = as_python_model(python_model)
    model = mlflow_model or Model()
    model.signature = signature if signature is not None else model.signature
    if metadata is not None:
        model.metadata = metadata
    if input_example is not None:
        model.saved_input_example_info = save_example(path, input_example)
    flavor = save_python_model(path, python_model, model, artifacts, model_code_path)
    flavor.update(
        python_version=PYTHON_VERSION,
        env={"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE},
        code=copy_code_paths(code_paths, path),
    )
    if config:
        flavor["config"] = config
    if model_code_path:
        flavor["model_code_path"] = model_code_path
    model.add_flavor(FLAVOR_NAME, **flavor)
    model.model_size_bytes = _size(path)
    model.save(os.path.join(path, MLMODEL_FILE_NAME))
    if model.signature is None and input_example is not None:
        model.signature = _infer_from_example(path, input_example)
        model.save(os.path.join(path, MLMODEL_FILE_NAME))
    files = list(code_paths or []) + ([model_code_path] if model_code_path else [])
    inferred = requirements_of(python_model, files, FLAVOR_PACKAGES[FLAVOR_NAME])
    write_environment(path, inferred, pip_requirements, extra_pip_requirements, conda_env)


def _flatten(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}/"))
        else:
            flat[name] = value
    return flat


def log_model(
    artifact_path: str | None = None,
    python_model: Any = None,
    artifacts: dict[str, str] | None = None,
    code_paths: list[str] | None = None,
    conda_env: str | dict[str, Any] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: dict[str, Any] | None = None,
    model_config: str | os.PathLike[str] | dict[str, Any] | None = None,
    name: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
) -> ModelInfo:
    """Log a custom model as a LoggedModel of the active run (or experiment); returns its info.

    Example::

        with wayline.start_run():
            info = wayline.pyfunc.log_model(name="model", python_model=Doubler())
        wayline.pyfunc.load_model(info.model_uri).predict(df)  # info.model_uri: models:/m-...
    """
    from wayline.tracking import fluent

    def save(local: str, mlflow_model: Model) -> None:
        save_model(
            local,
            python_model,
            artifacts,
            code_paths,
            conda_env,
            mlflow_model,
            signature,
            input_example,
            pip_requirements,
            extra_pip_requirements,
            metadata,
            model_config,
        )

    info = log_flavor_model(
        save,
        name=name,
        artifact_path=artifact_path,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        registered_model_name=registered_model_name,
        await_registration_for=await_registration_for,
    )
    config = _model_config(model_config)
    if config and info.run_id:
        # MLflow records a model's configuration among its run's params.
        fluent.client().log_batch(
            info.run_id, params=_run_params(_flatten(config)), synchronous=True
        )
    return info


def _run_params(values: dict[str, Any]) -> list[Any]:
    from wayline.entities import Param

    return [Param(str(k), str(v)) for k, v in values.items()]


__all__ = ["log_model", "save_model"]
