"""Reading traces back and tagging them: ``get_trace``, ``search_traces``, ``set_trace_tag``,
``delete_trace_tag`` of ``import wayline as mlflow``.

They go through the fluent API's ``Client`` (the current tracking URI), which waits for traces
this process recorded and has not exported yet, so a search right after a traced call sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from wayline.entities.trace import Trace
from wayline.errors import InvalidParameter, WaylineError
from wayline.store.traces import SEARCH_TRACES_MAX_RESULTS_LIMIT
from wayline.tracing.fluent import flush_trace_async_logging
from wayline.tracking import fluent

if TYPE_CHECKING:
    import pandas as pd

_logger = logging.getLogger("wayline.tracing")


def get_trace(trace_id: str, silent: bool = False, flush: bool = False) -> Trace | None:
    """The trace with its spans, or None (with a warning unless ``silent``) if there is none.

    Example::

        import wayline as mlflow

        @mlflow.trace
        def add(a, b):
            return a + b

        add(1, 2)
        trace = mlflow.get_trace(mlflow.get_last_active_trace_id())
        print(trace.info.state, trace.root_span.outputs)   # OK 3
    """
    if flush:
        flush_trace_async_logging()
    try:
        return fluent.client().get_trace(trace_id)
    except WaylineError as exc:
        log = _logger.debug if silent else _logger.warning
        log("Failed to get trace %s from the tracking store: %s", trace_id, exc)
        return None


def _default_experiment_ids() -> list[str]:
    from wayline.tracing.environment import capture, default_experiment_id

    uri, experiment_id, _, _ = capture()
    return [experiment_id or default_experiment_id(uri)]


@overload
def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
    run_id: str | None = None,
    *,
    return_type: Literal["list"],
    include_spans: bool = True,
    locations: Sequence[str] | None = None,
    flush: bool = False,
) -> list[Trace]: ...


@overload
def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
    run_id: str | None = None,
    return_type: Literal["pandas"] | None = None,
    include_spans: bool = True,
    locations: Sequence[str] | None = None,
    flush: bool = False,
) -> pd.DataFrame: ...


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
    run_id: str | None = None,
    return_type: Literal["pandas", "list"] | None = None,
    include_spans: bool = True,
    locations: Sequence[str] | None = None,
    flush: bool = False,
) -> pd.DataFrame | list[Trace]:
    """Traces matching the filter (spec search-syntax §7), in the active experiment unless
    ``experiment_ids`` (or ``locations``) are given: every match, or at most ``max_results``.
    A pandas DataFrame with MLflow's columns, or a list of ``Trace`` with
    ``return_type="list"``.

    Example::

        df = wayline.search_traces(filter_string="trace.status = 'OK'", max_results=10)
        traces = wayline.search_traces(run_id=run.info.run_id, return_type="list")
    """
    kind = return_type or "pandas"
    if kind not in ("pandas", "list"):
        raise InvalidParameter(
            f"Invalid return type: {return_type}. Return type must be either 'pandas' or 'list'."
        )
    if flush:
        flush_trace_async_logging()
    client = fluent.client()  # it waits for traces of this process still being exported
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    ids = list(experiment_ids or ()) or list(locations or ())
    if not ids:
        # A run's traces live in its experiment, whichever experiment is active now.
        ids = [client.get_run(run_id).info.experiment_id] if run_id else _default_experiment_ids()
    found: list[Trace] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = SEARCH_TRACES_MAX_RESULTS_LIMIT if max_results is None else max_results - len(found)
        page = client.search_traces(
            ids,
            filter_string,
            min(want, SEARCH_TRACES_MAX_RESULTS_LIMIT),
            order_by,
            token,
            run_id=run_id,
            include_spans=include_spans,
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    if kind == "list":
        return found
    from wayline.tracing.dataframe import traces_to_dataframe

    return traces_to_dataframe(found)


def set_trace_tag(trace_id: str, key: str, value: Any) -> None:
    """Set a tag on a trace, finished or still being recorded.

    Example::

        with wayline.start_span("work") as span:
            wayline.set_trace_tag(span.trace_id, "team", "search")
    """
    fluent.client().set_trace_tag(trace_id, key, value)


def delete_trace_tag(trace_id: str, key: str) -> None:
    """Remove a tag from a trace.

    Example::

        wayline.delete_trace_tag(trace_id, "team")
    """
    fluent.client().delete_trace_tag(trace_id, key)


__all__ = ["delete_trace_tag", "get_trace", "search_traces", "set_trace_tag"]
