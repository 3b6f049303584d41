"""Finished traces to entities: OpenTelemetry spans to ``Span``s, and the trace's ``TraceInfo``.

A span is converted as it ends, in the thread that ends it: the OpenTelemetry objects are then
freed young (kept until the export thread got to them, they made the garbage collector the
largest cost of tracing), and only the compact entity waits for export. The info is built on the
export thread, once per trace. It carries what MLflow's client sends (spec tracing.md §2.2):
schema version, root inputs and outputs (metadata cut to 250 characters, previews to 1000), user
and source, the run and logged model active when the trace started, token usage and cost summed
over the spans, and tag ``mlflow.traceName``; the state comes from the root span unless
``update_current_trace`` set it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanKind, StatusCode

from wayline.entities.trace import (
    SCHEMA_VERSION,
    Span,
    SpanAttributeKey,
    SpanEvent,
    SpanStatusCode,
    SpanType,
    TraceInfo,
    TraceMetadataKey,
    TraceState,
    TraceTagKey,
)
from wayline.tracing import cost
from wayline.tracing.serialize import dumps_pretty, loads

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

    from wayline.tracing.record import TraceRecord

METADATA_MAX_CHARS = 250
PREVIEW_MAX_CHARS = 1000
TRUNCATION_SUFFIX = "..."

# MLflow's span log levels: the span types a user sees by default log at INFO, the rest at DEBUG,
# and a span that raised at ERROR.
LOG_DEBUG, LOG_INFO, LOG_ERROR = 10, 20, 40
_INFO_TYPES = frozenset(
    {
        SpanType.LLM,
        SpanType.CHAT_MODEL,
        SpanType.TOOL,
        SpanType.RETRIEVER,
        SpanType.AGENT,
        SpanType.EMBEDDING,
    }
)
_STATUS = {
    StatusCode.UNSET: SpanStatusCode.OK,
    StatusCode.OK: SpanStatusCode.OK,
    StatusCode.ERROR: SpanStatusCode.ERROR,
}
_KINDS = {kind: f"SPAN_KIND_{kind.name}" for kind in SpanKind}


def _event_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    if not attributes:
        return {}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in attributes.items()}


def to_span(otel: ReadableSpan, trace_id: str) -> Span:
    """The entity of a finished span. A span ended without an explicit status is OK, as in
    MLflow; the type and log level are filled in when the span did not set them."""
    context = otel.context
    parent = otel.parent
    attributes: dict[str, Any] = {SpanAttributeKey.REQUEST_ID: trace_id}
    for key, value in (otel.attributes or {}).items():
        attributes[key] = loads(value)
    attributes.setdefault(SpanAttributeKey.SPAN_TYPE, SpanType.UNKNOWN)
    status = otel.status
    code = _STATUS[status.status_code]
    raw_events = otel.events
    events = (
        [SpanEvent(e.name, e.timestamp, _event_attributes(e.attributes)) for e in raw_events]
        if raw_events
        else []
    )
    if SpanAttributeKey.LOG_LEVEL not in attributes:
        if code is SpanStatusCode.ERROR or any(e.name == "exception" for e in events):
            level = LOG_ERROR
        elif attributes[SpanAttributeKey.SPAN_TYPE] in _INFO_TYPES:
            level = LOG_INFO
        else:
            level = LOG_DEBUG
        attributes[SpanAttributeKey.LOG_LEVEL] = level
    assert context is not None  # an SDK span always has one
    return Span(
        trace_id=trace_id,
        span_id=format(context.span_id, "016x"),
        parent_id=format(parent.span_id, "016x") if parent is not None else None,
        name=otel.name,
        start_time_ns=otel.start_time or 0,
        end_time_ns=otel.end_time,
        status_code=code,
        status_message=status.description or "",
        attributes=attributes,
        events=events,
        kind=_KINDS[otel.kind],
    )


# ---------------------------------------------------------------------- previews
def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATION_SUFFIX)] + TRUNCATION_SUFFIX


def _messages(obj: Any) -> list[Mapping[str, Any]] | None:
    """Chat messages in a request or response (OpenAI chat and Responses shapes)."""
    if not isinstance(obj, Mapping):
        return None
    for key in ("messages", "input", "output"):
        items = obj.get(key)
        if isinstance(items, list) and items:
            found = [m for m in items if _is_message(m)]
            if found:
                return found
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        message = choices[0].get("message")
        if isinstance(message, Mapping) and _is_message(message):
            return [message]
    if "request" in obj:
        return _messages(obj["request"])
    return None


def _is_message(item: Any) -> bool:
    return isinstance(item, Mapping) and "role" in item and "content" in item


def _text_of(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for part in content:
            if isinstance(part, str):
                return part
            if isinstance(part, Mapping) and part.get("type") in ("text", "output_text"):
                return str(part.get("text") or "")
    return ""


def preview(value: Any, text: str, role: str) -> str:
    """What the trace list shows for a request or response: the last message of ``role`` for
    chat payloads, else the JSON text; at most 1000 characters, NUL replaced (PostgreSQL)."""
    content = None
    messages = _messages(value)
    if messages:
        last = next((m for m in reversed(messages) if m.get("role") == role), messages[-1])
        content = _text_of(last)
    shown = (content or text).replace("\x00", "\ufffd")
    return truncate(shown, PREVIEW_MAX_CHARS)


# ---------------------------------------------------------------------- the trace info
def _percentile(ordered: Sequence[int], fraction: float) -> int:
    """Linear interpolation between the closest ranks, as numpy's default does."""
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def size_metadata(spans: Sequence[Span]) -> dict[str, str]:
    """MLflow's ``mlflow.trace.sizeBytes`` and ``mlflow.trace.sizeStats``: the size in bytes of
    the trace's spans as JSON (each span as ``Span.to_dict()``, in a JSON list) and the spread
    of span sizes."""
    import orjson

    sizes = sorted(len(orjson.dumps(span.to_dict())) for span in spans)
    total = sum(sizes) + max(len(sizes) - 1, 0) + 2  # the list's commas and brackets
    stats = {
        "total_size_bytes": total,
        "num_spans": len(sizes),
        "max": sizes[-1] if sizes else 0,
        "p25": _percentile(sizes, 0.25) if sizes else 0,
        "p50": _percentile(sizes, 0.50) if sizes else 0,
        "p75": _percentile(sizes, 0.75) if sizes else 0,
    }
    return {
        TraceMetadataKey.SIZE_BYTES: str(total),
        TraceMetadataKey.SIZE_STATS: orjson.dumps(stats).decode(),
    }


def _metadata_value(value: Any) -> str:
    return value if isinstance(value, str) else dumps_pretty(value)


def build_info(
    record: TraceRecord,
    spans: Sequence[Span],
    experiment_id: str,
    base_metadata: Mapping[str, str],
) -> TraceInfo:
    """The info of a finished trace. ``spans`` ends with the root (it ends last);
    ``base_metadata`` holds the process's user and source."""
    root = next((s for s in reversed(spans) if s.parent_id is None), spans[-1])
    attrs = root.attributes
    metadata = dict(base_metadata)
    metadata[TraceMetadataKey.SCHEMA_VERSION] = SCHEMA_VERSION
    if record.run_id:
        metadata[TraceMetadataKey.SOURCE_RUN] = record.run_id
    if record.model_id:
        metadata[TraceMetadataKey.MODEL_ID] = record.model_id
    metadata.update((str(k), _metadata_value(v)) for k, v in record.metadata.items())
    has_inputs, has_outputs = SpanAttributeKey.INPUTS in attrs, SpanAttributeKey.OUTPUTS in attrs
    inputs_text = dumps_pretty(attrs[SpanAttributeKey.INPUTS]) if has_inputs else ""
    outputs_text = dumps_pretty(attrs[SpanAttributeKey.OUTPUTS]) if has_outputs else ""
    metadata[TraceMetadataKey.INPUTS] = truncate(inputs_text, METADATA_MAX_CHARS)
    metadata[TraceMetadataKey.OUTPUTS] = truncate(outputs_text, METADATA_MAX_CHARS)
    cost.add_costs(spans)
    usage = cost.trace_usage(spans)
    if usage is not None:
        metadata[TraceMetadataKey.TOKEN_USAGE] = dumps_pretty(usage)
    total_cost = cost.trace_cost(spans)
    if total_cost is not None:
        metadata[TraceMetadataKey.COST] = dumps_pretty(total_cost)
    metadata.update(size_metadata(spans))

    tags = {TraceTagKey.TRACE_NAME: root.name}
    tags.update((str(k), v if isinstance(v, str) else str(v)) for k, v in record.tags.items())
    state = record.state or (
        TraceState.ERROR if root.status_code is SpanStatusCode.ERROR else TraceState.OK
    )
    start = root.start_time_ns
    end = root.end_time_ns if root.end_time_ns is not None else start
    return TraceInfo(
        trace_id=record.trace_id,
        experiment_id=experiment_id,
        request_time_ms=start // 1_000_000,
        state=state,
        execution_duration_ms=(end - start) // 1_000_000,
        request_preview=record.request_preview
        or (preview(attrs[SpanAttributeKey.INPUTS], inputs_text, "user") if has_inputs else None),
        response_preview=record.response_preview
        or (
            preview(attrs[SpanAttributeKey.OUTPUTS], outputs_text, "assistant")
            if has_outputs
            else None
        ),
        client_request_id=record.client_request_id,
        trace_metadata=metadata,
        tags=tags,
        assessments=list(record.assessments),
    )


__all__ = ["build_info", "preview", "size_metadata", "to_span", "truncate"]
