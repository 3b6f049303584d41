"""Fluent logging and search: ``log_metric``, ``log_params``, ``set_tags``, ``search_runs`` ….

Each call resolves the active run (starting one if there is none, as MLflow does) and hands the
values to the cached Client; nothing else happens on the per-call path.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from wayline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    Param,
    Run,
    RunTag,
    ViewType,
)
from wayline.errors import InvalidParameter
from wayline.store.tracking import SEARCH_MAX_RESULTS_LIMIT
from wayline.tracking.async_logging import RunOperations, flush_all, logger_for
from wayline.tracking.client import _is_async
from wayline.tracking.context import DATASET_CONTEXT
from wayline.tracking.fluent import (
    _state,
    active_run_id,
    client,
    default_experiment_id,
    search_experiments,
    start_run,
)
from wayline.tracking.fluent_models import get_active_model_id
from wayline.tracking.values import metric_value, param_value, tag_value

if TYPE_CHECKING:
    import pandas as pd


def log_metric(
    key: str,
    value: Any,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> RunOperations | None:
    """Log one point of a metric to the active run (or ``run_id``).

    ``synchronous=False`` (or ``MLFLOW_ENABLE_ASYNC_LOGGING=true``) queues it and returns at once;
    it is written in the background and flushed at ``end_run``. With ``model_id`` (by default
    the one ``set_active_model`` chose) the point is also a metric of that logged model, and
    with ``dataset`` it is recorded for that dataset (logged as a run input first).

    Example::

        for epoch in range(10):
            wayline.log_metric("loss", 1 / (epoch + 1), step=epoch)
    """
    if run_id is None:
        stack = _state.stack
        run_id = stack[-1].info.run_id if stack else start_run().info.run_id
    model_id = model_id or get_active_model_id()
    if model_id is None and dataset is None:
        return client().log_metric(run_id, key, value, timestamp, step, synchronous)
    name = digest = None
    if dataset is not None:
        entity = dataset if isinstance(dataset, Dataset) else _dataset_entity(dataset)
        client().log_inputs(run_id, [DatasetInput(entity)])
        name, digest = entity.name, entity.digest
    return client().log_metric(
        run_id, key, value, timestamp, step, synchronous, name, digest, model_id
    )


def log_metrics(
    metrics: Mapping[str, Any],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
) -> RunOperations | None:
    """Log several metrics at the same step in one batch.

    Example::

        wayline.log_metrics({"acc": 0.91, "f1": 0.88}, step=3)
    """
    run_id = run_id or active_run_id()
    ts = timestamp if timestamp is not None else int(time.time() * 1000)
    c = client()
    if _is_async(synchronous):
        logger = logger_for(c.store)
        for key, value in metrics.items():
            logger.log_metric(run_id, key, value, ts, step or 0)
        return logger.operations
    points = [Metric(k, metric_value(k, v), ts, step or 0) for k, v in metrics.items()]
    return c.log_batch(run_id, metrics=points)


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a param (immutable once set) to the active run; returns ``value``.

    Example::

        wayline.log_param("learning_rate", 0.01)
    """
    return client().log_param(active_run_id(), key, value, synchronous)


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    """Log several params in one batch.

    Example::

        wayline.log_params({"lr": 0.01, "batch_size": 32})
    """
    run_id = run_id or active_run_id()
    values = [Param(str(k), param_value(v)) for k, v in params.items()]
    return client().log_batch(run_id, params=values, synchronous=synchronous)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> RunOperations | None:
    """Set a tag on the active run.

    Example::

        wayline.set_tag("stage", "tuning")
    """
    return client().set_tag(active_run_id(), key, value, synchronous)


def set_tags(
    tags: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> RunOperations | None:
    """Set several tags in one batch.

    Example::

        wayline.set_tags({"team": "vision", "owner": "ana"})
    """
    run_id = run_id or active_run_id()
    values = [RunTag(str(k), tag_value(v)) for k, v in tags.items()]
    return client().log_batch(run_id, tags=values, synchronous=synchronous)


def delete_tag(key: str) -> None:
    """Remove a tag from the active run.

    Example::

        wayline.delete_tag("stage")
    """
    client().delete_tag(active_run_id(), key)


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> None:
    """Record that the active run used a dataset (``context`` e.g. ``"training"``).

    ``dataset`` is a ``wayline.entities.Dataset``, such as ``wayline.data.from_pandas`` returns,
    or any object with a ``to_entity()`` method giving one.

    Example::

        ds = wayline.data.from_pandas(df, source="s3://bucket/train.csv", name="train")
        wayline.log_input(ds, context="training")
    """
    entity = dataset if isinstance(dataset, Dataset) else _dataset_entity(dataset)
    input_tags = [InputTag(str(k), tag_value(v)) for k, v in (tags or {}).items()]
    if context is not None:
        input_tags.append(InputTag(DATASET_CONTEXT, context))
    client().log_inputs(active_run_id(), [DatasetInput(entity, input_tags)])


def _dataset_entity(dataset: Any) -> Dataset:
    convert = getattr(dataset, "to_entity", None)
    if callable(convert):
        entity = convert()
        if isinstance(entity, Dataset):
            return entity
    raise InvalidParameter(
        f"log_input needs a wayline.entities.Dataset, got {type(dataset).__name__}."
    )


def flush_async_logging() -> None:
    """Write everything queued by ``synchronous=False`` calls; raise the first failure.

    Example::

        wayline.log_metric("loss", 0.2, synchronous=False)
        wayline.flush_async_logging()
    """
    flush_all()


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pd.DataFrame | list[Run]:
    """Runs matching a filter, as a pandas DataFrame (MLflow's columns) or a list of Run.

    Without ``experiment_ids``/``experiment_names`` it searches the active experiment (or all
    experiments with ``search_all_experiments=True``).

    Example::

        df = wayline.search_runs(filter_string="metrics.acc > 0.9", order_by=["metrics.acc DESC"])
        print(df[["run_id", "metrics.acc", "params.lr"]])
    """
    if output_format not in ("pandas", "list"):
        raise InvalidParameter(f"output_format must be 'pandas' or 'list', not {output_format!r}.")
    c = client()
    ids = _experiment_ids(experiment_ids, experiment_names, search_all_experiments)
    runs: list[Run] = []
    token: str | None = None
    while ids and len(runs) < max_results:
        want = min(max_results - len(runs), SEARCH_MAX_RESULTS_LIMIT)
        page = c.search_runs(ids, filter_string, run_view_type, want, order_by, token)
        runs.extend(page)
        token = page.token
        if not token:
            break
    if output_format == "list":
        return runs
    from wayline.tracking.dataframe import runs_to_dataframe

    return runs_to_dataframe(runs)


def _experiment_ids(
    experiment_ids: Sequence[str] | None,
    experiment_names: Sequence[str] | None,
    search_all: bool,
) -> list[str]:
    if experiment_ids:
        if isinstance(experiment_ids, str):
            return [experiment_ids]
        return [str(i) for i in experiment_ids]
    c = client()
    if experiment_names:
        found = (c.get_experiment_by_name(name) for name in experiment_names)
        return [e.experiment_id for e in found if e is not None]
    if search_all:
        return [e.experiment_id for e in search_experiments()]
    return [default_experiment_id(c)]
