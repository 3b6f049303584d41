"""Traces made by hand rather than around running code: the client's ``start_trace``,
``start_span``, ``end_span`` and ``end_trace`` (spans named by id, so a span can start in one
callback and end in another), ``log_trace`` (a finished one-span trace in one call) and
``add_trace`` (a trace recorded elsewhere, grafted under a span of the current trace).

Spans started through the client are kept by ``(trace_id, span_id)`` until they end; a trace
whose root never ends is dropped with the oldest traces in progress (``ActiveTraces``), and its
spans here with it once a later root ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from wayline.entities.trace import Span, SpanAttributeKey, SpanStatusCode, SpanType, Trace
from wayline.errors import InvalidParameter, NotFound
from wayline.tracing.fluent import get_current_active_span, start_span_no_context
from wayline.tracing.span import LiveSpan, NoOpSpan

# Spans the client started and has not ended, by trace id then span id.
_open: dict[str, dict[str, LiveSpan]] = {}
_lock = threading.Lock()


def _keep(span: LiveSpan) -> LiveSpan:
    if isinstance(span, NoOpSpan) or span.trace_id is None or span.span_id is None:
        return span
    with _lock:
        _open.setdefault(span.trace_id, {})[span.span_id] = span
    return span


def _open_span(trace_id: str, span_id: str) -> LiveSpan:
    with _lock:
        span = _open.get(trace_id, {}).get(span_id)
    if span is None:
        raise NotFound(
            f"Span {span_id} of trace {trace_id} is not in progress in this process: it has "
            "ended already, or was not started with start_trace/start_span."
        )
    return span


def start_trace(
    name: str,
    span_type: str = SpanType.UNKNOWN,
    inputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    experiment_id: str | None = None,
    start_time_ns: int | None = None,
) -> LiveSpan:
    """Start a trace whose root span is ended by ``end_trace`` (MLflow's
    ``MlflowClient.start_trace``)."""
    root = start_span_no_context(
        name,
        span_type,
        inputs=inputs,
        attributes=attributes,
        tags=tags,
        experiment_id=experiment_id,
        start_time_ns=start_time_ns,
    )
    return _keep(root)


def start_span(
    name: str,
    trace_id: str,
    parent_id: str,
    span_type: str = SpanType.UNKNOWN,
    inputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
    start_time_ns: int | None = None,
) -> LiveSpan:
    """Start a child of span ``parent_id`` of a trace started with ``start_trace``."""
    parent = _open_span(trace_id, parent_id)
    child = start_span_no_context(
        name,
        span_type,
        parent_span=parent,
        inputs=inputs,
        attributes=attributes,
        start_time_ns=start_time_ns,
    )
    return _keep(child)


def end_span(
    trace_id: str,
    span_id: str,
    outputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
    status: SpanStatusCode | str = "OK",
    end_time_ns: int | None = None,
) -> None:
    """End a span started with ``start_span`` (the root: as ``end_trace`` does)."""
    span = _open_span(trace_id, span_id)
    if span.parent_id is None:
        end_trace(trace_id, outputs, attributes, status, end_time_ns)
        return
    with _lock:
        _open.get(trace_id, {}).pop(span_id, None)
    span.end(outputs=outputs, attributes=attributes, status=status, end_time_ns=end_time_ns)


def end_trace(
    trace_id: str,
    outputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
    status: SpanStatusCode | str = "OK",
    end_time_ns: int | None = None,
) -> None:
    """End the root span of a trace started with ``start_trace``; the trace is exported."""
    with _lock:
        spans = _open.pop(trace_id, None) or {}
    root = next((span for span in spans.values() if span.parent_id is None), None)
    if root is None:
        raise NotFound(f"Trace {trace_id} is not in progress in this process.")
    root.end(outputs=outputs, attributes=attributes, status=status, end_time_ns=end_time_ns)


def log_trace(
    name: str = "Task",
    request: Any = None,
    response: Any = None,
    intermediate_outputs: Mapping[str, Any] | None = None,
    attributes: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    start_time_ms: int | None = None,
    execution_time_ms: int | None = None,
) -> str | None:
    """Record a finished trace of one span in one call; its trace id (None when tracing is off).

    Example::

        trace_id = wayline.log_trace(request="2 + 2?", response="4", execution_time_ms=120)
    """
    start_ms = start_time_ms if start_time_ms is not None else time.time_ns() // 1_000_000
    extra = dict(attributes or {})
    if intermediate_outputs:
        extra["intermediate_outputs"] = dict(intermediate_outputs)
    root = start_span_no_context(
        name,
        SpanType.UNKNOWN,
        inputs=request,
        attributes=extra,
        tags=tags,
        start_time_ns=start_ms * 1_000_000,
    )
    end_ns = None if execution_time_ms is None else (start_ms + execution_time_ms) * 1_000_000
    root.end(outputs=response, end_time_ns=end_ns)
    return root.trace_id


def _spans_of(trace: Mapping[str, Any]) -> list[Span]:
    try:
        return [Span.from_dict(span) for span in trace["data"]["spans"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidParameter(
            f"add_trace takes a Trace or a dict with data.spans, as Trace.to_dict() makes: {exc}"
        ) from None


def add_trace(trace: Trace | Mapping[str, Any], target: LiveSpan | None = None) -> None:
    """Copy the spans of ``trace`` (a ``Trace``, or a dict of MLflow's ``Trace.to_dict()`` form:
    ``{"info": ..., "data": {"spans": [...]}}``) under ``target`` (default:
    the current span), with their names, times, attributes, events and statuses; the copied
    root becomes a child of ``target``.

    For traces recorded in another process or service, returned with its response.

    Example::

        with wayline.start_span("call-service"):
            answer = requests.post(url, json=question).json()
            wayline.add_trace(answer["trace"])  # the service's trace.to_dict()
    """
    spans = trace.spans if isinstance(trace, Trace) else _spans_of(trace)
    parent = target if target is not None else get_current_active_span()
    if parent is None:
        raise InvalidParameter(
            "add_trace needs a span to attach the trace to: call it inside a traced function "
            "or a start_span block, or pass target=."
        )
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        children.setdefault(span.parent_id, []).append(span)
    roots = children.get(None, [])
    pending: list[tuple[Span, LiveSpan]] = [(span, parent) for span in roots]
    while pending:
        span, under = pending.pop()
        copy = start_span_no_context(
            span.name,
            span.span_type,
            parent_span=under,
            attributes={
                key: value
                for key, value in span.attributes.items()
                if key != SpanAttributeKey.SPAN_TYPE
            },
            start_time_ns=span.start_time_ns,
        )
        for event in span.events:
            copy.add_event(event)
        if span.status_code == SpanStatusCode.ERROR:
            from opentelemetry.trace import Status, StatusCode

            copy.set_status(Status(StatusCode.ERROR, span.status_message or None))
        elif span.status_code == SpanStatusCode.OK:
            copy.set_status("OK")
        pending.extend((child, copy) for child in children.get(span.span_id, []))
        copy.end(end_time_ns=span.end_time_ns)


__all__ = ["add_trace", "end_span", "end_trace", "log_trace", "start_span", "start_trace"]
