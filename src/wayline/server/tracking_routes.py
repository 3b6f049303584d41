"""The tracking RPCs (spec rest-tracking.md §3, §4, §6), mounted from ``TRACKING_ROUTES``.

Every handler has the same shape: decoded request fields in, a JSON-ready dict out. Paths,
methods and field kinds come from the route table and JSON shapes from the protocol encoders, so
the server cannot drift from the REST client. Routes of the table without a handler here answer
501 NOT_IMPLEMENTED in MLflow's error shape (not a 404, which the client would read as "endpoint
missing, fall back to an older API").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router

from wayline.entities import ExperimentTag, Metric, Param, RunTag, ViewType
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.protocol import (
    TRACKING_ROUTES,
    JsonDict,
    Route,
    encode_dataset_summary,
    encode_experiment,
    encode_metric,
    encode_page,
    encode_run,
    encode_run_info,
    missing_parameter,
    parse_body,
    parse_request,
    query_lists,
    run_id_of,
    urls,
)
from wayline.server.artifact_routes import LISTING_HANDLERS
from wayline.server.logged_model_routes import LOGGED_MODEL_HANDLERS
from wayline.store.tracking import (
    BULK_INTERVAL_MAX_RESULTS,
    SEARCH_DATASETS_MAX_EXPERIMENTS,
    SEARCH_MAX_RESULTS_DEFAULT,
    TrackingStore,
)

logger = logging.getLogger(__name__)

Values = Mapping[str, Any]
Handler = Callable[[TrackingStore, Values], JsonDict]

# spec §4.1: log-batch bodies over 1 MB are refused before they are parsed.
LOG_BATCH_MAX_BODY_BYTES = 1_000_000


class JsonResponse(Response):
    """A JSON body serialised by orjson (the protocol encoders already spell NaN as "NaN")."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def not_implemented(route: Route) -> WaylineError:
    return WaylineError(
        f"{route.name} ({route.path}) is not implemented by this Wayline server yet.",
        "NOT_IMPLEMENTED",
    )


# ---------------------------------------------------------------- experiments
def create_experiment(store: TrackingStore, v: Values) -> JsonDict:
    experiment_id = store.create_experiment(
        v["name"], v.get("artifact_location") or None, v.get("tags", ())
    )
    return {"experiment_id": experiment_id}


def get_experiment(store: TrackingStore, v: Values) -> JsonDict:
    return {"experiment": encode_experiment(store.get_experiment(v["experiment_id"]))}


def get_experiment_by_name(store: TrackingStore, v: Values) -> JsonDict:
    name = v["experiment_name"]
    experiment = store.get_experiment_by_name(name)
    if experiment is None:
        # The client turns exactly this code into get_experiment_by_name() returning None.
        raise NotFound(f"Could not find experiment with name '{name}'")
    return {"experiment": encode_experiment(experiment)}


def search_experiments(store: TrackingStore, v: Values) -> JsonDict:
    # MLflow's server rejects an absent max_results; the spec recommends defaulting instead.
    page = store.search_experiments(
        view_type=v.get("view_type", ViewType.ACTIVE_ONLY),
        max_results=v.get("max_results", SEARCH_MAX_RESULTS_DEFAULT),
        filter_string=v.get("filter") or None,
        order_by=v.get("order_by") or None,
        page_token=v.get("page_token") or None,
    )
    return encode_page("experiments", page, encode_experiment)


def update_experiment(store: TrackingStore, v: Values) -> JsonDict:
    if v.get("new_name"):
        store.rename_experiment(v["experiment_id"], v["new_name"])
    else:
        store.get_experiment(v["experiment_id"])  # still 404 for an unknown id
    return {}


def delete_experiment(store: TrackingStore, v: Values) -> JsonDict:
    store.delete_experiment(v["experiment_id"])
    return {}


def restore_experiment(store: TrackingStore, v: Values) -> JsonDict:
    store.restore_experiment(v["experiment_id"])
    return {}


def set_experiment_tag(store: TrackingStore, v: Values) -> JsonDict:
    store.set_experiment_tag(v["experiment_id"], ExperimentTag(v["key"], v["value"]))
    return {}


def delete_experiment_tag(store: TrackingStore, v: Values) -> JsonDict:
    store.delete_experiment_tag(v["experiment_id"], v["key"])
    return {}


# ---------------------------------------------------------------- runs
def create_run(store: TrackingStore, v: Values) -> JsonDict:
    if not v.get("experiment_id"):
        raise missing_parameter("experiment_id")  # MLflow's server does not default it either
    run = store.create_run(
        v["experiment_id"],
        user_id=v.get("user_id"),
        start_time=v.get("start_time"),
        tags=v.get("tags", ()),
        run_name=v.get("run_name") or None,
    )
    return {"run": encode_run(run)}


def get_run(store: TrackingStore, v: Values) -> JsonDict:
    return {"run": encode_run(store.get_run(run_id_of(v)))}


def update_run(store: TrackingStore, v: Values) -> JsonDict:
    status = v.get("status")
    info = store.update_run_info(
        run_id_of(v),
        run_status=None if status is None else str(status),
        end_time=v.get("end_time"),
        run_name=v.get("run_name") or None,
    )
    return {"run_info": encode_run_info(info)}


def delete_run(store: TrackingStore, v: Values) -> JsonDict:
    store.delete_run(v["run_id"])
    return {}


def restore_run(store: TrackingStore, v: Values) -> JsonDict:
    store.restore_run(v["run_id"])
    return {}


# What MLflow's server requires of a logged MLmodel (spec §4, runs/log-model).
_MODEL_JSON_FIELDS = ("artifact_path", "flavors", "utc_time_created", "run_id")


def log_model(store: TrackingStore, v: Values) -> JsonDict:
    for name in ("run_id", "model_json"):
        if not v.get(name):
            raise missing_parameter(name)
    try:
        model = json.loads(v["model_json"])
    except ValueError:
        raise InvalidParameter("model_json is not valid JSON.") from None
    if not isinstance(model, dict):
        raise InvalidParameter("model_json must be a JSON object (an MLmodel as a dict).")
    missing = [name for name in _MODEL_JSON_FIELDS if name not in model]
    if missing:
        raise InvalidParameter(f"Model json is missing mandatory fields: {missing}")
    store.record_logged_model(v["run_id"], model)
    return {}


def search_runs(store: TrackingStore, v: Values) -> JsonDict:
    page = store.search_runs(
        v.get("experiment_ids", []),
        filter_string=v.get("filter") or None,
        run_view_type=v.get("run_view_type", ViewType.ACTIVE_ONLY),
        max_results=v.get("max_results", SEARCH_MAX_RESULTS_DEFAULT),
        order_by=v.get("order_by") or None,
        page_token=v.get("page_token") or None,
    )
    return encode_page("runs", page, encode_run)


# ---------------------------------------------------------------- values
def log_metric(store: TrackingStore, v: Values) -> JsonDict:
    metric = Metric(
        key=v["key"],
        value=v["value"],
        timestamp=v["timestamp"],
        step=v.get("step", 0),
        dataset_name=v.get("dataset_name") or None,
        dataset_digest=v.get("dataset_digest") or None,
        model_id=v.get("model_id") or None,
    )
    store.log_metric(run_id_of(v), metric)
    return {}


def log_param(store: TrackingStore, v: Values) -> JsonDict:
    store.log_param(run_id_of(v), Param(v["key"], v["value"]))
    return {}


def set_tag(store: TrackingStore, v: Values) -> JsonDict:
    store.set_tag(run_id_of(v), RunTag(v["key"], v["value"]))
    return {}


def delete_tag(store: TrackingStore, v: Values) -> JsonDict:
    store.delete_tag(v["run_id"], v["key"])
    return {}


def log_batch(store: TrackingStore, v: Values) -> JsonDict:
    store.log_batch(
        run_id_of(v),
        metrics=v.get("metrics", ()),
        params=v.get("params", ()),
        tags=v.get("tags", ()),
    )
    return {}


def log_inputs(store: TrackingStore, v: Values) -> JsonDict:
    store.log_inputs(v["run_id"], v.get("datasets", ()), v.get("models", ()))
    return {}


def log_outputs(store: TrackingStore, v: Values) -> JsonDict:
    store.log_outputs(v["run_id"], v.get("models", ()))
    return {}


def search_datasets(store: TrackingStore, v: Values) -> JsonDict:
    experiment_ids = v.get("experiment_ids") or []
    if not experiment_ids:
        raise InvalidParameter("SearchDatasets needs at least one experiment_id.")
    if len(experiment_ids) > SEARCH_DATASETS_MAX_EXPERIMENTS:
        raise InvalidParameter(
            f"SearchDatasets takes at most {SEARCH_DATASETS_MAX_EXPERIMENTS} experiment_ids, "
            f"got {len(experiment_ids)}."
        )
    summaries = store.search_datasets(experiment_ids)
    return (
        {"dataset_summaries": [encode_dataset_summary(s) for s in summaries]} if summaries else {}
    )


def get_metric_history(store: TrackingStore, v: Values) -> JsonDict:
    page = store.get_metric_history(
        run_id_of(v),
        v["metric_key"],
        max_results=v.get("max_results"),
        page_token=v.get("page_token") or None,
    )
    return encode_page("metrics", page, encode_metric)


def get_metric_history_bulk_interval(store: TrackingStore, v: Values) -> JsonDict:
    # MLflow's server defaults an absent max_results to its per-run maximum (2500).
    metrics = store.get_metric_history_bulk_interval(
        v.get("run_ids", []),
        v["metric_key"],
        max_results=v.get("max_results", BULK_INTERVAL_MAX_RESULTS),
        start_step=v.get("start_step"),
        end_step=v.get("end_step"),
    )
    return encode_page("metrics", metrics, encode_metric)  # no "metrics" key when empty


HANDLERS: dict[str, Handler] = {
    **LOGGED_MODEL_HANDLERS,
    "CreateExperiment": create_experiment,
    "GetExperiment": get_experiment,
    "GetExperimentByName": get_experiment_by_name,
    "SearchExperiments": search_experiments,
    "UpdateExperiment": update_experiment,
    "DeleteExperiment": delete_experiment,
    "RestoreExperiment": restore_experiment,
    "SetExperimentTag": set_experiment_tag,
    "DeleteExperimentTag": delete_experiment_tag,
    "CreateRun": create_run,
    "GetRun": get_run,
    "UpdateRun": update_run,
    "DeleteRun": delete_run,
    "RestoreRun": restore_run,
    "LogModel": log_model,
    "SearchRuns": search_runs,
    "LogMetric": log_metric,
    "LogParam": log_param,
    "SetTag": set_tag,
    "DeleteTag": delete_tag,
    "LogBatch": log_batch,
    "LogInputs": log_inputs,
    "LogOutputs": log_outputs,
    "SearchDatasets": search_datasets,
    "GetMetricHistory": get_metric_history,
    "GetMetricHistoryBulkInterval": get_metric_history_bulk_interval,
    **LISTING_HANDLERS,
}


# ---------------------------------------------------------------- wiring
async def read_values(route: Route, request: Request) -> dict[str, Any]:
    """The request's fields: from the query string for GET (and HEAD), else from the JSON body;
    path parameters (``{model_id}``) from the URL, where they win over the same field sent
    in the body (MLflow's client sends ``model_id`` in both for FinalizeLoggedModel)."""
    path = {name: request.path_params[name] for name in route.path_fields}
    if request.method in ("GET", "HEAD"):
        params: dict[str, Any] = {**query_lists(request.query_params.multi_items()), **path}
        return parse_request(route, params, from_query=True)
    if route.name == "LogBatch":
        # Refuse by the announced length first, so an oversized body is never read into memory.
        announced = request.headers.get("content-length", "")
        if announced.isdigit():
            _check_batch_size(int(announced))
    raw = await request.body()
    if route.name == "LogBatch":
        _check_batch_size(len(raw))
    return parse_request(route, {**parse_body(raw), **path})


def _check_batch_size(size: int) -> None:
    if size > LOG_BATCH_MAX_BODY_BYTES:
        raise InvalidParameter(
            f"Batched logging API requests must be at most {LOG_BATCH_MAX_BODY_BYTES} bytes, "
            f"got a request body of {size} bytes."
        )


def _call(handler: Handler, store: TrackingStore, values: Values) -> JsonDict:
    try:
        return handler(store, values)
    except WaylineError:
        raise
    except Exception:
        # Log the traceback here, answer with a generic message: internals never reach clients.
        logger.exception("unexpected error in a tracking request")
        raise WaylineError("Internal server error.", "INTERNAL_ERROR") from None


def endpoint(
    route: Route, handler: Handler | None, store: TrackingStore
) -> Callable[[Request], Awaitable[Response]]:
    """The ASGI endpoint of one route; store calls block, so they run in the thread pool."""

    async def answer(request: Request) -> Response:
        if handler is None:
            raise not_implemented(route)
        values = await read_values(route, request)
        return JsonResponse(await run_in_threadpool(_call, handler, store, values))

    answer.__name__ = route.name
    return answer


def add_tracking_routes(
    router: Router, store: TrackingStore, handlers: Mapping[str, Handler] | None = None
) -> None:
    """Mount every route of ``TRACKING_ROUTES`` at each of its URLs and methods.

    ``handlers`` replace entries of ``HANDLERS`` by RPC name (handlers bound to settings,
    such as ListArtifacts with the artifact proxy's storage).
    """
    table = {**HANDLERS, **(handlers or {})}
    for route in TRACKING_ROUTES:
        answer = endpoint(route, table.get(route.name), store)
        for url in urls(route):
            router.add_route(_starlette_path(url), answer, methods=list(route.methods))


def _starlette_path(url: str) -> str:
    # The server sees paths percent-decoded, so a tag key such as `a/b` (sent as `a%2Fb`)
    # arrives as two segments: a key ending a nested path (`{model_id}/tags/{tag_key}`) may
    # span slashes. Ids never contain one, and letting them would swallow the nested routes.
    head, brace, last = url.rpartition("/{")
    if brace and "{" in head and last.endswith("}") and "/" not in last:
        return f"{head}/{{{last[:-1]}:path}}"
    return url


__all__ = ["HANDLERS", "JsonResponse", "add_tracking_routes", "endpoint"]
