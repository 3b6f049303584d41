"""What every model flavor (``wayline.sklearn``, ``wayline.xgboost``, ...) shares.

A flavor only knows how to write and read its library's model file. This module does the rest,
in the order MLflow does it: check the target directory, copy ``code_paths``, save the input
example, infer the signature from the example and the model's prediction on it, let the flavor
write its data, record the ``python_function`` and flavor blocks in ``MLmodel``, and write the
environment files (the flavor's libraries pinned to the installed versions). ``log_flavor_model``
wraps any ``save_model`` in MLflow 3's logged-model life cycle (the same steps as
``wayline.pyfunc.log_model``).

Each flavor's library is an optional extra: ``require`` imports it or raises an error naming the
``pip install 'wayline[<extra>]'`` command.
"""

from __future__ import annotations

import importlib
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.models.code import add_code_to_path, copy_code_paths
from wayline.models.environment import (
    CONDA_ENV_FILE,
    FLAVOR_PACKAGES,
    PYTHON_ENV_FILE,
    PYTHON_VERSION,
    package_version,
    requirements_of,
    write_environment,
)
from wayline.models.example import save_example, split_params
from wayline.models.model import MLMODEL_FILE_NAME, Model, ModelInfo
from wayline.models.signature import ModelSignature

_logger = logging.getLogger(__name__)
Requirements = str | Sequence[str] | None
PYFUNC = "python_function"


def require(module: str, extra: str) -> ModuleType:
    """Import a flavor's library, or explain which extra installs it.

    Example::

        sklearn = require("sklearn", "sklearn")
        # WaylineError: ... pip install 'wayline[sklearn]'  (when scikit-learn is missing)
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not module.startswith(e.name):
            raise  # the library is there but one of its own dependencies is not
        raise WaylineError(
            f"The {module!r} package is needed for this model flavor but is not installed. "
            f"Install it with: pip install 'wayline[{extra}]'"
        ) from e


def pinned_release(name: str) -> str:
    """``name==<installed version>`` without a local label (``torch==2.13.0``, not ``+cpu``),
    as MLflow pins a flavor's library so the requirement installs from a public index."""
    version = package_version(name)
    return f"{name}=={version.split('+', 1)[0]}" if version else name


def class_path(obj: Any) -> str:
    """``module.Class`` of an object (MLflow's ``model_class``)."""
    return f"{type(obj).__module__}.{type(obj).__name__}"


def import_class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@dataclass
class FlavorData:
    """What a flavor's writer returns: its own ``MLmodel`` block, the ``python_function``
    block's flavor-specific keys (None: the model has no pyfunc form) and the packages this
    particular model needs besides the flavor's (e.g. ``skops`` for a ``.skops`` file)."""

    flavor_conf: dict[str, Any]
    pyfunc_conf: dict[str, Any] | None
    extra_packages: list[str] = field(default_factory=list)


def _prepare_dir(path: str) -> None:
    if os.path.exists(path) and os.listdir(path):
        raise InvalidParameter(f"Path '{path}' already exists and is not empty")
    os.makedirs(path, exist_ok=True)


def _size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def _infer_signature(example: Any, predict: Callable[[Any], Any] | None) -> ModelSignature | None:
    """The signature of the saved example and of the model's prediction on it (input only if
    predicting fails, as MLflow does)."""
    from wayline.models.signature import infer_signature

    data, params = split_params(example)
    output = None
    if predict is not None:
        try:
            output = predict(data)
        except Exception:  # the model may reject the example as given: keep the input schema
            _logger.warning("Failed to infer the output schema: predict failed on the example.")
    try:
        return infer_signature(data, output, params)
    except WaylineError:
        _logger.warning("Could not infer a signature from the input example.", exc_info=True)
        return None


def save_flavor_model(
    path: str | os.PathLike[str],
    flavor_name: str,
    write: Callable[[str], FlavorData],
    *,
    model_obj: Any = None,
    predict: Callable[[Any], Any] | None = None,
    mlflow_model: Model | None = None,
    code_paths: list[str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    conda_env: str | dict[str, Any] | None = None,
    pip_requirements: Requirements = None,
    extra_pip_requirements: Requirements = None,
    metadata: dict[str, Any] | None = None,
    infer_from_example: bool = True,
) -> Model:
    """Save a model directory for one flavor; ``write(path)`` writes the flavor's files.

    ``predict`` (given the example's data) produces the output half of an inferred signature;
    ``signature=False`` saves none. ``model_obj`` is inspected for the packages its classes
    come from (custom estimators, pipelines of several libraries).

    Example::

        def write(path):
            model.save_model(os.path.join(path, "model.ubj"))
            return FlavorData({"data": "model.ubj"}, {"data": "model.ubj"})

        save_flavor_model("out", "xgboost", write, model_obj=model, input_example=X[:5])
    """
    path = os.path.abspath(os.fspath(path))
    _prepare_dir(path)
    code = copy_code_paths(code_paths, path)
    model = mlflow_model or Model()
    if input_example is not None:
        model.saved_input_example_info = save_example(path, input_example)
    if signature is False:
        model.signature = None
    elif isinstance(signature, ModelSignature):
        model.signature = signature
    elif input_example is not None and infer_from_example:
        model.signature = _infer_signature(input_example, predict)
    if metadata is not None:
        model.metadata = metadata
    data = write(path)
    if data.pyfunc_conf is not None:
        pyfunc: dict[str, Any] = {
            **data.pyfunc_conf,
            "env": {"conda": CONDA_ENV_FILE, "virtualenv": PYTHON_ENV_FILE},
            "python_version": PYTHON_VERSION,
        }
        if code:  # MLflow writes the pyfunc block's `code` only when there is code
            pyfunc["code"] = code
        model.add_flavor(PYFUNC, **pyfunc)
    model.add_flavor(flavor_name, **data.flavor_conf, code=code)
    model.model_size_bytes = _size(path)
    model.save(os.path.join(path, MLMODEL_FILE_NAME))
    packages = [*FLAVOR_PACKAGES.get(flavor_name, []), *data.extra_packages]
    found = requirements_of(model_obj, list(code_paths or []))
    flavor_reqs = [pinned_release(p) for p in packages]
    names = {r.split("==")[0].lower() for r in flavor_reqs}
    inferred = flavor_reqs + [r for r in found if r.split("==")[0].lower() not in names]
    write_environment(path, inferred, pip_requirements, extra_pip_requirements, conda_env)
    return model


def _copy_step_metrics(client: Any, run_id: str, model_id: str, step: int) -> None:
    """The run's metric points at ``step`` also recorded on the model (MLflow 3 does this)."""
    from dataclasses import replace

    points = []
    for key in client.get_run(run_id).data.metrics:
        points += [
            replace(m, model_id=model_id, run_id=run_id)
            for m in client.get_metric_history(run_id, key)
            if m.step == step and m.model_id is None
        ]
    if points:
        client.log_batch(run_id, metrics=points, synchronous=True)


def log_flavor_model(
    save: Callable[[str, Model], None],
    name: str | None = None,
    artifact_path: str | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    *,
    registered_model_name: str | None = None,
    await_registration_for: int = 300,
) -> ModelInfo:
    """Log a model as a LoggedModel of the active run (or experiment), as MLflow 3 does:
    create it PENDING, link it to the run, copy the run's metrics at ``step`` onto it, save with
    ``save(local_dir, mlflow_model)``, upload to its own artifact location, mark it READY (FAILED
    on any error). With ``registered_model_name`` the logged model is then registered as a new
    version of that model (created if missing), ``ModelInfo.registered_model_version`` says which.

    Example::

        def save(path, mlflow_model):
            wayline.sklearn.save_model(model, path, mlflow_model=mlflow_model)

        info = log_flavor_model(save, name="model")
        info.model_uri  # "models:/m-..."
    """
    from wayline.artifacts.resolve import artifact_repository
    from wayline.entities import LoggedModelOutput, LoggedModelStatus
    from wayline.tracking import fluent
    from wayline.tracking.fluent_models import finalize_logged_model, initialize_logged_model

    if name is not None and artifact_path is not None:
        raise InvalidParameter(
            "Both `artifact_path` (deprecated) and `name` were given: give `name`."
        )
    name = name or artifact_path
    client = fluent.client()
    active = fluent.active_run()
    run_id = active.info.run_id if active else None
    all_params = {**(params or {}), **(client.get_run(run_id).data.params if run_id else {})}
    logged = initialize_logged_model(
        name=name, source_run_id=run_id, tags=tags, params=all_params, model_type=model_type
    )
    try:
        if run_id:
            client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=step)])
            _copy_step_metrics(client, run_id, logged.model_id, step)
        mlflow_model = Model(
            artifact_path=logged.artifact_location,
            model_uuid=logged.model_id,
            run_id=run_id,
            model_id=logged.model_id,
        )
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "model")
            save(local, mlflow_model)
            artifact_repository(logged.artifact_location, client.tracking_uri).log_artifacts(local)
    except BaseException:
        finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    info = ModelInfo(mlflow_model)
    if registered_model_name is not None:
        from wayline.tracking.fluent_registry import register_model

        version = register_model(
            f"models:/{logged.model_id}",
            registered_model_name,
            await_registration_for,
            tags=tags,
        )
        info.registered_model_version = int(version.version)
    return info


def local_model_dir(
    model_uri: str | os.PathLike[str], flavor_name: str, dst_path: str | None = None
) -> tuple[str, dict[str, Any]]:
    """``(local directory, flavor block)`` of a model URI, the model's ``code`` put on
    ``sys.path``; NotFound names the flavors the model has when it lacks this one.

    Example::

        path, conf = local_model_dir("models:/m-0123...", "sklearn")
    """
    from wayline.pyfunc.loading import download_model

    local = download_model(os.fspath(model_uri), dst_path)
    return local, flavor_conf(local, flavor_name, add_code=True)


def flavor_conf(model_dir: str, flavor_name: str, add_code: bool = False) -> dict[str, Any]:
    """The ``flavor_name`` block of the MLmodel in ``model_dir`` (the directory, or a file in
    it: pyfunc loaders get the data file's path)."""
    if os.path.isfile(model_dir):
        model_dir = os.path.dirname(model_dir)
    meta = Model.load(model_dir)
    conf = meta.flavors.get(flavor_name)
    if conf is None:
        raise NotFound(
            f'Model does not have the "{flavor_name}" flavor (it has: '
            f"{', '.join(sorted(meta.flavors)) or 'none'})."
        )
    if add_code:
        add_code_to_path(model_dir, conf)
    return dict(conf)


def model_dir_of(path: str) -> str:
    """The model directory of a pyfunc loader's ``path`` (the directory, or a file in it)."""
    return os.path.dirname(path) if os.path.isfile(path) else path


__all__ = [
    "FlavorData",
    "class_path",
    "flavor_conf",
    "import_class",
    "local_model_dir",
    "log_flavor_model",
    "model_dir_of",
    "pinned_release",
    "require",
    "save_flavor_model",
]
