"""The trace and assessment RPCs (spec tracing.md §3), mounted from ``TRACE_ROUTES``.

Same shape as the tracking handlers: decoded request fields in, a JSON-ready dict out, with
paths, methods and field kinds from the route table and JSON shapes from ``protocol.traces`` and
``protocol.assessments``. Three things differ:

* **Big answers stream.** A trace may hold 50,000 spans, so GetTrace and BatchGetTraces write
  their JSON page by page (``SPANS_PAGE_DEFAULT`` spans at a time, read from the store as they
  are sent): the server holds one page, never a whole trace. The trace's existence is checked
  before the first byte, so an unknown id is still a plain 404; a failure later (the trace
  deleted meanwhile) can only cut the body short, which leaves invalid JSON the client rejects
  rather than a trace silently missing spans. Wayline's ``GET .../traces/{trace_id}/spans``
  serves one page per request, for clients that would rather not hold a whole trace either.
* **System tags are the server's.** As MLflow's server does, StartTraceV3 and EndTrace drop
  ``mlflow.artifactLocation``, ``mlflow.trace.spansLocation`` and the archive tags from what the
  client sends, and the tag RPCs refuse to set or delete them.
* A store without traces (one that is not a ``TraceStore``) answers every route 501
  NOT_IMPLEMENTED, as do the analytics RPCs Wayline does not build
  (CalculateTraceFilterCorrelation, QueryTraceMetrics).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Router

from wayline.entities.trace import TRACE_ID_PREFIX, TraceInfo, TraceState, TraceTagKey
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.protocol import JsonDict, Route, encode_page, missing_parameter, urls
from wayline.protocol.assessments import (
    decode_assessment,
    decode_assessment_update,
    encode_assessment,
)
from wayline.protocol.routes import TRACE_ROUTES
from wayline.protocol.traces import (
    encode_span,
    encode_span_dict,
    encode_trace_info,
    encode_trace_info_v2,
)
from wayline.server.tracking_routes import JsonResponse, not_implemented, read_values
from wayline.store.traces import (
    LINK_TRACES_TO_RUN_LIMIT,
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    SEARCH_TRACES_MAX_RESULTS_LIMIT,
    SPANS_PAGE_DEFAULT,
    SPANS_PAGE_LIMIT,
    TraceStore,
)

logger = logging.getLogger(__name__)

Values = Mapping[str, Any]

# MLflow's client asks for at most this many traces per BatchGetTraces.
BATCH_GET_TRACES_LIMIT = 10
# Trace infos carry no spans, so a batch may be as long as a search page.
BATCH_GET_TRACE_INFOS_LIMIT = SEARCH_TRACES_MAX_RESULTS_LIMIT
# Tags only the server writes (MLflow's _HANDLER_BLOCKED_TRACE_TAGS); the archival failure may be
# deleted, which is how a client clears it.
ARCHIVE_LOCATION_TAG = "mlflow.trace.archiveLocation"
ARCHIVAL_FAILURE_TAG = "mlflow.trace.archivalFailure"
SYSTEM_TAGS = frozenset(
    {
        TraceTagKey.ARTIFACT_LOCATION,
        TraceTagKey.SPANS_LOCATION,
        ARCHIVE_LOCATION_TAG,
        ARCHIVAL_FAILURE_TAG,
    }
)


@dataclass(frozen=True, slots=True)
class Streamed:
    """A JSON body written piece by piece (see the module docstring)."""

    chunks: Iterator[bytes]


TraceHandler = Callable[[TraceStore, Values], JsonDict | Streamed]


# ---------------------------------------------------------------- streamed traces
def _span_pages(store: TraceStore, trace_id: str) -> Iterator[bytes]:
    """``,"spans":[...]`` one page at a time; nothing at all for a trace without spans."""
    token: str | None = None
    first = True
    while True:
        page = store.get_spans(trace_id, max_results=SPANS_PAGE_DEFAULT, page_token=token)
        if page:
            encoded = b",".join(orjson.dumps(encode_span(span)) for span in page)
            yield (b',"spans":[' if first else b",") + encoded
            first = False
        token = page.token
        if not token:
            break
    if not first:
        yield b"]"


def _trace_chunks(store: TraceStore, info: TraceInfo) -> Iterator[bytes]:
    """Proto ``mlflow.Trace`` as JSON: ``{"trace_info": ..., "spans": [...]}``."""
    yield b'{"trace_info":' + orjson.dumps(encode_trace_info(info))
    yield from _span_pages(store, info.trace_id)
    yield b"}"


def _guarded(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # Headers are sent by now: a failure can only end the body early (invalid JSON).
    try:
        yield from chunks
    except Exception:
        logger.exception("a streamed trace response failed part-way; its body is cut short")


def _check_trace_id(trace_id: str) -> str:
    if not trace_id:
        raise missing_parameter("trace_id")
    return trace_id


def _trace_info(
    store: TraceStore, trace_id: str, message: str = "Trace with ID '{}' not found."
) -> TraceInfo:
    """The trace's info; a missing trace is NotFound in the words of MLflow's server for the
    route (get_trace_info's only NotFound is the trace's, so the rewording is safe)."""
    try:
        return store.get_trace_info(_check_trace_id(trace_id))
    except NotFound:
        raise NotFound(message.format(trace_id)) from None


def get_trace(store: TraceStore, v: Values) -> Streamed:
    # A 404 before streaming; MLflow's GetTrace words it differently from GetTraceInfoV3.
    info = _trace_info(store, v["trace_id"], "Trace with ID {} is not found.")

    def body() -> Iterator[bytes]:
        yield b'{"trace":'
        yield from _trace_chunks(store, info)
        yield b"}"

    return Streamed(_guarded(body()))


def _in_experiments(infos: list[TraceInfo], v: Values) -> list[TraceInfo]:
    experiments = v.get("experiment_ids")
    if experiments is None:
        return infos
    allowed = set(experiments)
    return [info for info in infos if info.experiment_id in allowed]


def _trace_ids(v: Values, limit: int, rpc: str) -> list[str]:
    trace_ids: list[str] = v["trace_ids"]
    if not trace_ids:
        raise missing_parameter("trace_ids")
    if len(trace_ids) > limit:
        raise InvalidParameter(
            f"{rpc} takes at most {limit} trace ids per request, got {len(trace_ids)}."
        )
    return trace_ids


def batch_get_traces(store: TraceStore, v: Values) -> Streamed:
    trace_ids = _trace_ids(v, BATCH_GET_TRACES_LIMIT, "BatchGetTraces")
    infos = _in_experiments(store.batch_get_trace_infos(trace_ids), v)

    def body() -> Iterator[bytes]:
        if not infos:
            yield b"{}"  # MLflow leaves an empty list out
            return
        for index, info in enumerate(infos):
            yield b'{"traces":[' if index == 0 else b","
            yield from _trace_chunks(store, info)
        yield b"]}"

    return Streamed(_guarded(body()))


# ---------------------------------------------------------------- trace infos (v3)
def _without_system_tags(info: TraceInfo) -> TraceInfo:
    tags = {key: value for key, value in info.tags.items() if key not in SYSTEM_TAGS}
    return info if len(tags) == len(info.tags) else replace(info, tags=tags)


def start_trace_v3(store: TraceStore, v: Values) -> JsonDict:
    # Spans sent along are ignored, as MLflow's server ignores them: they come by OTLP.
    info = store.start_trace(_without_system_tags(v["trace"].info))
    return {"trace": {"trace_info": encode_trace_info(info)}}


def get_trace_info_v3(store: TraceStore, v: Values) -> JsonDict:
    info = _trace_info(store, v["trace_id"])
    return {"trace": {"trace_info": encode_trace_info(info)}}


def batch_get_trace_infos(store: TraceStore, v: Values) -> JsonDict:
    trace_ids = _trace_ids(v, BATCH_GET_TRACE_INFOS_LIMIT, "BatchGetTraceInfos")
    infos = _in_experiments(store.batch_get_trace_infos(trace_ids), v)
    return encode_page("trace_infos", infos, encode_trace_info)


def _max_results(v: Values, default: int, limit: int) -> int:
    max_results: int = v.get("max_results", default)
    if not 1 <= max_results <= limit:
        raise InvalidParameter(
            f"Invalid value {max_results} for parameter 'max_results': "
            f"expected a number from 1 to {limit}."
        )
    return max_results


def _search(store: TraceStore, v: Values, experiment_ids: list[str]) -> Any:
    return store.search_traces(
        experiment_ids,
        filter_string=v.get("filter") or None,
        max_results=_max_results(
            v, SEARCH_TRACES_MAX_RESULTS_DEFAULT, SEARCH_TRACES_MAX_RESULTS_LIMIT
        ),
        order_by=v.get("order_by") or None,
        page_token=v.get("page_token") or None,
    )


def search_traces_v3(store: TraceStore, v: Values) -> JsonDict:
    # Locations other than experiments decode to None and are skipped, as MLflow's server does.
    experiment_ids = [location for location in v["locations"] if location is not None]
    return encode_page("traces", _search(store, v, experiment_ids), encode_trace_info)


def delete_traces(store: TraceStore, v: Values) -> JsonDict:
    deleted = store.delete_traces(
        v["experiment_id"],
        max_timestamp_millis=v.get("max_timestamp_millis"),
        max_traces=v.get("max_traces"),
        trace_ids=v.get("request_ids") or None,
    )
    return {"traces_deleted": deleted}


# ---------------------------------------------------------------- tags and links
def _check_tag_key(key: str, operation: str) -> None:
    if key in SYSTEM_TAGS and not (operation == "deleted" and key == ARCHIVAL_FAILURE_TAG):
        raise InvalidParameter(f"Tag '{key}' is immutable and cannot be {operation} on a trace.")


def _path_trace_id(v: Values) -> str:
    return _check_trace_id(v.get("trace_id") or v.get("request_id") or "")


def set_trace_tag(store: TraceStore, v: Values) -> JsonDict:
    _check_tag_key(v["key"], "set")
    store.set_trace_tag(_path_trace_id(v), v["key"], v.get("value") or "")
    return {}


def delete_trace_tag(store: TraceStore, v: Values) -> JsonDict:
    _check_tag_key(v["key"], "deleted")
    store.delete_trace_tag(_path_trace_id(v), v["key"])
    return {}


def link_traces_to_run(store: TraceStore, v: Values) -> JsonDict:
    trace_ids = v["trace_ids"]
    if len(trace_ids) > LINK_TRACES_TO_RUN_LIMIT:
        raise InvalidParameter(
            f"Cannot link more than {LINK_TRACES_TO_RUN_LIMIT} traces to a run in a single "
            f"request. Provided {len(trace_ids)} traces."
        )
    store.link_traces_to_run(trace_ids, v["run_id"])
    return {}


def link_prompts_to_trace(store: TraceStore, v: Values) -> JsonDict:
    store.link_prompts_to_trace(v["trace_id"], v["prompt_versions"])
    return {}


def get_trace_spans(store: TraceStore, v: Values) -> JsonDict:
    page = store.get_spans(
        _check_trace_id(v["trace_id"]),
        max_results=_max_results(v, SPANS_PAGE_DEFAULT, SPANS_PAGE_LIMIT),
        page_token=v.get("page_token") or None,
    )
    return encode_page("spans", page, encode_span_dict)


# ---------------------------------------------------------------- assessments
def _assessment_ids(v: Values) -> tuple[str, str]:
    if not v.get("assessment_id"):
        raise missing_parameter("assessment_id")
    return _check_trace_id(v["trace_id"]), v["assessment_id"]


def create_assessment(store: TraceStore, v: Values) -> JsonDict:
    # The path names the trace, whatever the body's assessment.trace_id says (as MLflow).
    assessment = decode_assessment(v["assessment"], _check_trace_id(v["trace_id"]))
    return {"assessment": encode_assessment(store.create_assessment(assessment))}


def get_assessment(store: TraceStore, v: Values) -> JsonDict:
    return {"assessment": encode_assessment(store.get_assessment(*_assessment_ids(v)))}


def update_assessment(store: TraceStore, v: Values) -> JsonDict:
    update = decode_assessment_update(v["assessment"], v["update_mask"])
    return {"assessment": encode_assessment(store.update_assessment(*_assessment_ids(v), update))}


def delete_assessment(store: TraceStore, v: Values) -> JsonDict:
    store.delete_assessment(*_assessment_ids(v))
    return {}


# ---------------------------------------------------------------- v2 (fallbacks of 3.x clients)
def start_trace_v2(store: TraceStore, v: Values) -> JsonDict:
    if not v.get("experiment_id"):
        raise missing_parameter("experiment_id")
    info = TraceInfo(
        trace_id=TRACE_ID_PREFIX + uuid.uuid4().hex,
        experiment_id=v["experiment_id"],
        request_time_ms=v.get("timestamp_ms", int(time.time() * 1000)),
        state=TraceState.IN_PROGRESS,
        trace_metadata=dict(v.get("request_metadata", ())),
        tags=dict(v.get("tags", ())),
    )
    stored = store.start_trace(_without_system_tags(info))
    return {"trace_info": encode_trace_info_v2(stored)}


def end_trace_v2(store: TraceStore, v: Values) -> JsonDict:
    info = store.get_trace_info(_path_trace_id(v))
    end = v.get("timestamp_ms")
    ended = replace(
        info,
        state=v.get("status", info.state),
        execution_duration_ms=(
            info.execution_duration_ms if end is None else max(0, end - info.request_time_ms)
        ),
        trace_metadata={**info.trace_metadata, **dict(v.get("request_metadata", ()))},
        tags={**info.tags, **dict(v.get("tags", ()))},
    )
    return {"trace_info": encode_trace_info_v2(store.start_trace(_without_system_tags(ended)))}


def get_trace_info_v2(store: TraceStore, v: Values) -> JsonDict:
    return {"trace_info": encode_trace_info_v2(_trace_info(store, _path_trace_id(v)))}


def search_traces_v2(store: TraceStore, v: Values) -> JsonDict:
    page = _search(store, v, list(v.get("experiment_ids", [])))
    return encode_page("traces", page, encode_trace_info_v2)


TRACE_HANDLERS: dict[str, TraceHandler] = {
    "GetTrace": get_trace,
    "BatchGetTraces": batch_get_traces,
    "BatchGetTraceInfos": batch_get_trace_infos,
    "SearchTracesV3": search_traces_v3,
    "DeleteTracesV3": delete_traces,
    "StartTraceV3": start_trace_v3,
    "GetTraceInfoV3": get_trace_info_v3,
    "SetTraceTagV3": set_trace_tag,
    "DeleteTraceTagV3": delete_trace_tag,
    "GetTraceSpans": get_trace_spans,
    "CreateAssessment": create_assessment,
    "GetAssessment": get_assessment,
    "UpdateAssessment": update_assessment,
    "DeleteAssessment": delete_assessment,
    "SearchTraces": search_traces_v2,
    "StartTrace": start_trace_v2,
    "DeleteTraces": delete_traces,
    "LinkTracesToRun": link_traces_to_run,
    "LinkPromptsToTrace": link_prompts_to_trace,
    "EndTrace": end_trace_v2,
    "GetTraceInfo": get_trace_info_v2,
    "SetTraceTag": set_trace_tag,
    "DeleteTraceTag": delete_trace_tag,
}


# ---------------------------------------------------------------- wiring
def _check_required(route: Route, values: Values) -> None:
    # MLflow's server reads an empty required string or list as missing.
    for field in route.request:
        if field.required and values.get(field.name) in ("", []):
            raise missing_parameter(field.name)


def _call(handler: TraceHandler, store: TraceStore, values: Values) -> JsonDict | Streamed:
    try:
        return handler(store, values)
    except WaylineError:
        raise
    except Exception:
        # Log the traceback here, answer with a generic message: internals never reach clients.
        logger.exception("unexpected error in a trace request")
        raise WaylineError("Internal server error.", "INTERNAL_ERROR") from None


def trace_endpoint(
    route: Route, handler: TraceHandler | None, store: TraceStore | None
) -> Callable[[Request], Awaitable[Response]]:
    """The ASGI endpoint of one route; store calls block, so they run in the thread pool, and
    a streamed body is written from there too, one piece at a time."""

    async def answer(request: Request) -> Response:
        if handler is None or store is None:
            raise not_implemented(route)
        values = await read_values(route, request)
        _check_required(route, values)
        result = await run_in_threadpool(_call, handler, store, values)
        if isinstance(result, Streamed):
            return StreamingResponse(result.chunks, media_type="application/json")
        return JsonResponse(result)

    answer.__name__ = route.name
    return answer


def add_trace_routes(router: Router, store: object) -> None:
    """Mount every route of ``TRACE_ROUTES`` at both prefixes, in table order (the literal
    ``/traces/get`` before ``/traces/{trace_id}``)."""
    trace_store = store if isinstance(store, TraceStore) else None
    for route in TRACE_ROUTES:
        answer = trace_endpoint(route, TRACE_HANDLERS.get(route.name), trace_store)
        for url in urls(route):
            router.add_route(url, answer, methods=list(route.methods))


__all__ = [
    "BATCH_GET_TRACES_LIMIT",
    "SYSTEM_TAGS",
    "TRACE_HANDLERS",
    "add_trace_routes",
    "trace_endpoint",
]
