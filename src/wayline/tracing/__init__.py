"""Tracing of LLM and agent code on OpenTelemetry, with MLflow 3's API.

``import wayline as mlflow`` code written for MLflow's tracing runs unchanged::

    import wayline as mlflow

    @mlflow.trace(span_type="AGENT")
    def answer(question: str) -> str:
        with mlflow.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": question})
            span.set_outputs(["doc-1"])
        return "42"

    answer("meaning of life?")
    trace = mlflow.get_trace(mlflow.get_last_active_trace_id())

Spans are recorded by Wayline's own OpenTelemetry ``TracerProvider`` (the global one is left to
the user), assembled into a trace when the root span ends, and exported to the tracking store on
a background thread (``flush_trace_async_logging`` waits for it).

The current span follows asyncio tasks by itself. A thread starts its own traces unless it runs
in a copy of the caller's context, as with MLflow::

    ctx = contextvars.copy_context()
    executor.submit(ctx.run, traced_function, arg)   # a child of the current span

The layout:

* ``decorator`` (``@trace``), ``fluent`` (spans, current trace), ``fluent_traces`` (reading
  and tagging traces), ``assessments`` (feedback, expectations);
* ``span`` (``LiveSpan``), ``context`` (the current span), ``record`` (a trace in progress),
  ``provider`` (OpenTelemetry), ``convert`` and ``export`` (to the store), ``cost`` (token
  usage and prices), ``config`` (switches and environment), ``serialize`` (attribute JSON);
* ``otlp`` and ``semconv``: OTLP wire conversions and GenAI conventions, used by the server.

Importing this package does not load OpenTelemetry; the first span does.
"""

from __future__ import annotations

from wayline.tracing.assessments import (
    delete_assessment,
    get_assessment,
    log_assessment,
    log_expectation,
    log_feedback,
    override_feedback,
    update_assessment,
)
from wayline.tracing.config import disable, enable, is_enabled
from wayline.tracing.cost import get_prices, set_prices
from wayline.tracing.decorator import trace
from wayline.tracing.fluent import (
    flush_trace_async_logging,
    get_active_trace_id,
    get_current_active_span,
    get_last_active_trace_id,
    start_span,
    start_span_no_context,
    update_current_trace,
)
from wayline.tracing.fluent_traces import (
    delete_trace_tag,
    get_trace,
    search_traces,
    set_trace_tag,
)
from wayline.tracing.manual import add_trace, log_trace
from wayline.tracing.span import LiveSpan, NoOpSpan

__all__ = [
    "LiveSpan",
    "NoOpSpan",
    "add_trace",
    "delete_assessment",
    "delete_trace_tag",
    "disable",
    "enable",
    "flush_trace_async_logging",
    "get_active_trace_id",
    "get_assessment",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_prices",
    "get_trace",
    "is_enabled",
    "log_assessment",
    "log_expectation",
    "log_feedback",
    "log_trace",
    "override_feedback",
    "search_traces",
    "set_prices",
    "set_trace_tag",
    "start_span",
    "start_span_no_context",
    "trace",
    "update_assessment",
    "update_current_trace",
]
