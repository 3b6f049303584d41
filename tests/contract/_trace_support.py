"""Builders shared by the trace contract tests (import relatively: ``from ._trace_support``)."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from wayline.entities.assessment import (
    Assessment,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.entities.trace import Span, SpanStatusCode, TraceInfo, TraceState
from wayline.store.traces import TraceStore

T0_MS = 1_700_000_000_000
T0_NS = T0_MS * 1_000_000
MS = 1_000_000


def traces(store: object) -> TraceStore:
    """The store as a trace store (every backend is one)."""
    assert isinstance(store, TraceStore), f"{type(store).__name__} does not implement TraceStore"
    return store


def new_trace_id() -> str:
    return "tr-" + uuid.uuid4().hex


def span_id(number: int) -> str:
    return f"{number:016x}"


def make_span(
    trace_id: str,
    number: int,
    parent: int | None = None,
    *,
    name: str | None = None,
    start_ms: int = 0,
    duration_ms: int | None = 10,
    status: SpanStatusCode = SpanStatusCode.OK,
    span_type: str = "UNKNOWN",
    attributes: dict[str, Any] | None = None,
    **more: Any,
) -> Span:
    """Span ``number`` of the trace (child of span ``parent``), starting ``start_ms`` after T0.
    Attributes come from ``attributes`` and keyword arguments (``__`` in a name stands for a
    dot: ``mlflow__spanInputs``)."""
    start = T0_NS + start_ms * MS
    merged: dict[str, Any] = {"mlflow.spanType": span_type, **(attributes or {})}
    merged.update({key.replace("__", "."): value for key, value in more.items()})
    return Span(
        trace_id=trace_id,
        span_id=span_id(number),
        parent_id=None if parent is None else span_id(parent),
        name=name or f"span-{number}",
        start_time_ns=start,
        end_time_ns=None if duration_ms is None else start + duration_ms * MS,
        status_code=status,
        attributes=merged,
    )


def make_info(
    trace_id: str,
    experiment_id: str,
    *,
    request_time_ms: int = T0_MS,
    duration_ms: int | None = 25,
    state: TraceState = TraceState.OK,
    tags: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    client_request_id: str | None = None,
    assessments: list[Assessment] | None = None,
) -> TraceInfo:
    return TraceInfo(
        trace_id=trace_id,
        experiment_id=experiment_id,
        request_time_ms=request_time_ms,
        state=state,
        execution_duration_ms=duration_ms,
        request_preview='{"x": 3}',
        response_preview="6",
        client_request_id=client_request_id,
        trace_metadata={"mlflow.trace_schema.version": "3", **(metadata or {})},
        tags={"mlflow.traceName": "outer", **(tags or {})},
        assessments=list(assessments or []),
    )


def feedback(
    trace_id: str,
    name: str,
    value: Any,
    *,
    source: AssessmentSource | None = None,
    **kwargs: Any,
) -> Assessment:
    return Assessment(
        name=name,
        trace_id=trace_id,
        source=source or AssessmentSource(AssessmentSourceType.LLM_JUDGE, "judge-1"),
        feedback=Feedback(value),
        **kwargs,
    )


def expectation(trace_id: str, name: str, value: Any, **kwargs: Any) -> Assessment:
    return Assessment(
        name=name,
        trace_id=trace_id,
        source=AssessmentSource(AssessmentSourceType.HUMAN, "alice"),
        expectation=Expectation(value),
        **kwargs,
    )


def comparable(spans: list[Span]) -> list[Span]:
    """Spans without ``mlflow.traceRequestId``, which a backend may add on the way (MLflow's
    clients set it on every span; the REST path's OpenTelemetry form carries it)."""
    return [
        dataclasses.replace(
            span,
            attributes={k: v for k, v in span.attributes.items() if k != "mlflow.traceRequestId"},
        )
        for span in spans
    ]
