"""Fluent logged-model API (MLflow 3): ``initialize_logged_model``, ``search_logged_models`` ….

Models are created in the active run's experiment (else the active experiment) and, inside a
run, name it as their source. Like runs from ``start_run``, they get the system tags of where
they were made (``mlflow.user``, ``mlflow.source.name`` …), under the caller's own.
``set_active_model`` makes later ``log_metric`` calls without a ``model_id`` record their points
on that model too, as MLflow 3 does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from wayline.entities import LoggedModel, LoggedModelStatus
from wayline.errors import InvalidParameter
from wayline.tracking import context
from wayline.tracking.client_models import DatasetArg, OrderArg
from wayline.tracking.fluent import _state, client, default_experiment_id

if TYPE_CHECKING:
    import pandas as pd

# MLflow's tag marking a model whose artifacts live outside the tracking server.
EXTERNAL_MODEL_TAG = "mlflow.model.isExternal"
_SEARCH_PAGE = 1000

_last_logged_model_id: str | None = None
_active_model_id: str | None = None


def _experiment_id(experiment_id: str | None) -> str:
    if experiment_id is not None:
        return str(experiment_id)
    stack = _state.stack
    return stack[-1].info.experiment_id if stack else default_experiment_id(client())


def _source_run_id(source_run_id: str | None) -> str | None:
    if source_run_id is not None:
        return source_run_id
    stack = _state.stack
    return stack[-1].info.run_id if stack else None


def _with_system_tags(tags: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**context.system_tags(), **(tags or {})}


def _created(model: LoggedModel) -> LoggedModel:
    global _last_logged_model_id  # noqa: PLW0603 - remembered for last_logged_model()
    _last_logged_model_id = model.model_id
    return model


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Create a PENDING logged model (from the active run, if any) to upload artifacts to.

    Example::

        model = wayline.initialize_logged_model("classifier", params={"depth": 3})
        # ... write files under model.artifact_location ...
        wayline.finalize_logged_model(model.model_id, "READY")
    """
    model = client().create_logged_model(
        _experiment_id(experiment_id),
        name=name,
        source_run_id=_source_run_id(source_run_id),
        tags=_with_system_tags(tags),
        params=params,
        model_type=model_type,
    )
    return _created(model)


def create_external_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Record a model whose artifacts live elsewhere: created READY, tagged as external.

    Example::

        model = wayline.create_external_model("vendor-llm", model_type="agent")
        wayline.log_metric("accuracy", 0.93, model_id=model.model_id)
    """
    all_tags = _with_system_tags({**(tags or {}), EXTERNAL_MODEL_TAG: "true"})
    c = client()
    model = c.create_logged_model(
        _experiment_id(experiment_id),
        name=name,
        source_run_id=_source_run_id(source_run_id),
        tags=all_tags,
        params=params,
        model_type=model_type,
    )
    return _created(c.finalize_logged_model(model.model_id, LoggedModelStatus.READY))


def get_logged_model(model_id: str) -> LoggedModel:
    """The logged model with this id, with its tags, params and metrics.

    Example::

        model = wayline.get_logged_model(model_id)
        print(model.status, model.metrics)
    """
    return client().get_logged_model(model_id)


def finalize_logged_model(model_id: str, status: LoggedModelStatus | str | int) -> LoggedModel:
    """Mark a logged model READY (or FAILED).

    Example::

        wayline.finalize_logged_model(model.model_id, "READY")
    """
    return client().finalize_logged_model(model_id, status)


def set_logged_model_tags(model_id: str, tags: Mapping[str, Any]) -> None:
    """Set (or replace) tags on a logged model.

    Example::

        wayline.set_logged_model_tags(model.model_id, {"stage": "candidate"})
    """
    client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    """Remove a tag from a logged model.

    Example::

        wayline.delete_logged_model_tag(model.model_id, "stage")
    """
    client().delete_logged_model_tag(model_id, key)


def last_logged_model() -> LoggedModel | None:
    """The model most recently created by this process's fluent calls, or None.

    Example::

        wayline.initialize_logged_model("m")
        print(wayline.last_logged_model().model_id)
    """
    if _last_logged_model_id is None:
        return None
    return client().get_logged_model(_last_logged_model_id)


def set_active_model(name: str | None = None, model_id: str | None = None) -> LoggedModel:
    """Make a logged model the active one: ``log_metric`` without ``model_id`` then logs to it.

    By ``model_id``, or by ``name`` in the current experiment (the newest such model, created
    if there is none).

    Example::

        wayline.set_active_model(name="agent-v2")
        wayline.log_metric("latency_ms", 412)   # recorded on the run and on agent-v2
    """
    global _active_model_id  # noqa: PLW0603 - process-wide, as in MLflow
    if (name is None) == (model_id is None):
        raise InvalidParameter("set_active_model needs exactly one of name or model_id.")
    c = client()
    if model_id is not None:
        model = c.get_logged_model(model_id)
    else:
        found = c.search_logged_models(
            [_experiment_id(None)], filter_string=f"name = '{name}'", max_results=1
        )
        model = found[0] if found else initialize_logged_model(name=name)
    _active_model_id = model.model_id
    return model


def get_active_model_id() -> str | None:
    """The id ``set_active_model`` chose, or None.

    Example::

        wayline.set_active_model(name="agent-v2")
        print(wayline.get_active_model_id())
    """
    return _active_model_id


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[DatasetArg] | None = None,
    max_results: int | None = None,
    order_by: Sequence[OrderArg] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[LoggedModel]:
    """Logged models matching a filter, as a pandas DataFrame or a list of LoggedModel.

    Without ``experiment_ids`` it searches the active experiment. Every page is fetched, up to
    ``max_results`` models.

    Example::

        df = wayline.search_logged_models(
            filter_string="metrics.accuracy > 0.9",
            order_by=[{"field_name": "metrics.accuracy", "ascending": False}],
        )
    """
    if output_format not in ("pandas", "list"):
        raise InvalidParameter(f"output_format must be 'pandas' or 'list', not {output_format!r}.")
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    ids = [str(e) for e in experiment_ids] if experiment_ids else [_experiment_id(None)]
    c = client()
    models: list[LoggedModel] = []
    token: str | None = None
    while max_results is None or len(models) < max_results:
        want = _SEARCH_PAGE if max_results is None else min(max_results - len(models), _SEARCH_PAGE)
        page = c.search_logged_models(ids, filter_string, datasets, want, order_by, token)
        models.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return models
    return _dataframe(models)


def _dataframe(models: list[LoggedModel]) -> pd.DataFrame:
    import pandas as pd

    columns = [
        "artifact_location",
        "creation_timestamp",
        "experiment_id",
        "last_updated_timestamp",
        "metrics",
        "model_id",
        "model_type",
        "name",
        "params",
        "source_run_id",
        "status",
        "status_message",
        "tags",
    ]
    rows = [
        {
            "artifact_location": m.artifact_location,
            "creation_timestamp": m.creation_timestamp_ms,
            "experiment_id": m.experiment_id,
            "last_updated_timestamp": m.last_updated_timestamp_ms,
            "metrics": list(m.metrics),
            "model_id": m.model_id,
            "model_type": m.model_type,
            "name": m.name,
            "params": dict(m.params),
            "source_run_id": m.source_run_id,
            # The enum itself, as MLflow's frame holds it (it equals "READY" and so on).
            "status": LoggedModelStatus.from_string(m.status),
            "status_message": m.status_message,
            "tags": dict(m.tags),
        }
        for m in models
    ]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "EXTERNAL_MODEL_TAG",
    "create_external_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_active_model_id",
    "get_logged_model",
    "initialize_logged_model",
    "last_logged_model",
    "search_logged_models",
    "set_active_model",
    "set_logged_model_tags",
]
