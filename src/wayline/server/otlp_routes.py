"""``POST /v1/traces``: spans from any OpenTelemetry exporter (spec tracing.md §4 item 1).

Plain OpenTelemetry SDKs, OpenLLMetry, OpenInference and MLflow's own client (for servers that
answer ``/version`` >= 3.4) send ``ExportTraceServiceRequest`` bodies here, with the experiment
in the ``x-mlflow-experiment-id`` header and, optionally, a run to link the traces to in
``x-mlflow-run-id``. As MLflow's server answers:

* no experiment header: 422; a content type other than protobuf or JSON, an undecodable body
  or one without spans: 400; an unknown experiment: 404; a store that cannot hold spans: 501
  "REST OTLP span logging is not supported" (MLflow's client then stops sending OTLP);
* success: an empty ``ExportTraceServiceResponse`` in the request's encoding (an empty protobuf
  body, or ``{}``).

A request may hold a 50,000-span trace. The body is read once, parsed in a worker thread, and
its spans converted and stored ``LOG_SPANS_BATCH`` at a time, so the server never holds more
than the parsed request and one batch of ``Span`` objects. Root spans go in the last batch: a
trace's info is completed from its root, after its other spans are in (as exporters send them).
A linking failure is logged and does not fail the request, as in MLflow.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router

from wayline.entities.trace import Span, TraceTagKey
from wayline.errors import InvalidParameter, WaylineError
from wayline.server.tracking_routes import JsonResponse
from wayline.store.traces import LINK_TRACES_TO_RUN_LIMIT, TraceStore
from wayline.store.tracking import TrackingStore

if TYPE_CHECKING:
    from wayline.tracing.otlp import OtlpRequest

logger = logging.getLogger(__name__)

OTLP_TRACES_PATH = "/v1/traces"
EXPERIMENT_HEADER = "x-mlflow-experiment-id"
RUN_HEADER = "x-mlflow-run-id"
# Spans per store.log_spans call: big enough for few transactions, small enough that a batch of
# Span objects (a few KB each) stays a few MB.
LOG_SPANS_BATCH = 2000
# Root-span attributes that would set trace tags only the server may set.
_BLOCKED_TAG_ATTRIBUTES = tuple(
    f"mlflow.traceTag.{key}" for key in (TraceTagKey.ARTIFACT_LOCATION, TraceTagKey.SPANS_LOCATION)
)


def add_otlp_routes(router: Router, store: TrackingStore, *, max_body_bytes: int) -> None:
    """Mount ``POST /v1/traces`` on ``router``; ``max_body_bytes`` bounds the body both as sent
    and once decompressed."""
    router.add_route(OTLP_TRACES_PATH, export_traces(store, max_body_bytes), methods=["POST"])


def export_traces(
    store: TrackingStore, max_body_bytes: int
) -> Callable[[Request], Awaitable[Response]]:
    async def answer(request: Request) -> Response:
        experiment_id = request.headers.get(EXPERIMENT_HEADER, "").strip()
        if not experiment_id:
            # FastAPI's status for a missing required header, which MLflow's endpoint answers.
            return JsonResponse(
                {
                    "error_code": "INVALID_PARAMETER_VALUE",
                    "message": f"Missing required header '{EXPERIMENT_HEADER}'.",
                },
                status_code=422,
            )
        # Imported on first use: protobuf is not needed to start a server.
        from wayline.tracing import otlp

        media = otlp.check_content_type(request.headers.get("content-type"))
        if not isinstance(store, TraceStore):
            raise WaylineError(
                f"REST OTLP span logging is not supported by {type(store).__name__}",
                "NOT_IMPLEMENTED",
            )
        await run_in_threadpool(store.get_experiment, experiment_id)
        body = await _read_body(request, max_body_bytes)
        parsed = await run_in_threadpool(
            otlp.parse_request,
            body,
            media,
            request.headers.get("content-encoding"),
            max_bytes=max_body_bytes,
        )
        del body  # the parsed request is all that is needed from here on
        run_id = request.headers.get(RUN_HEADER, "").strip() or None
        await run_in_threadpool(_store_spans, store, experiment_id, parsed, run_id)
        if media == otlp.JSON:
            return JsonResponse({})
        return Response(b"", media_type=otlp.PROTOBUF)

    answer.__name__ = "ExportTraces"
    return answer


async def _read_body(request: Request, limit: int) -> bytearray:
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > limit:
        raise InvalidParameter(_too_large(limit))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InvalidParameter(_too_large(limit))
    return body


def _too_large(limit: int) -> str:
    return f"Request body is larger than the server's limit of {limit} bytes."


def _store_spans(
    store: TraceStore, experiment_id: str, parsed: OtlpRequest, run_id: str | None
) -> None:
    from wayline.tracing.semconv import apply_semantic_conventions

    batch: list[Span] = []
    roots: list[Span] = []
    for span in parsed.spans():
        apply_semantic_conventions(span)
        if span.parent_id is None:
            for key in _BLOCKED_TAG_ATTRIBUTES:
                span.attributes.pop(key, None)
            roots.append(span)
            continue
        batch.append(span)
        if len(batch) >= LOG_SPANS_BATCH:
            store.log_spans(experiment_id, batch)
            batch = []
    if batch or roots:
        store.log_spans(experiment_id, batch + roots)
    if run_id:
        _link_to_run(store, parsed.root_trace_ids, run_id)


def _link_to_run(store: TraceStore, trace_ids: list[str], run_id: str) -> None:
    try:
        for start in range(0, len(trace_ids), LINK_TRACES_TO_RUN_LIMIT):
            store.link_traces_to_run(trace_ids[start : start + LINK_TRACES_TO_RUN_LIMIT], run_id)
    except Exception:
        logger.exception("could not link OpenTelemetry traces to run %s", run_id)


__all__ = [
    "EXPERIMENT_HEADER",
    "LOG_SPANS_BATCH",
    "OTLP_TRACES_PATH",
    "RUN_HEADER",
    "add_otlp_routes",
]
