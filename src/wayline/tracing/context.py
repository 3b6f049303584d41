"""The current span, and starting spans.

The current span lives in a ``ContextVar``: asyncio tasks inherit it by themselves (a task
copies the context it was created in), and so does any code run with
``contextvars.copy_context().run(...)`` — the way to carry it into a thread::

    ctx = contextvars.copy_context()
    pool.submit(ctx.run, traced_function, arg)     # a child of the current span

A thread started without it begins its own traces, as in MLflow. Wayline keeps its own variable
rather than OpenTelemetry's global context, so spans of the user's own OpenTelemetry setup and
Wayline's never mix (MLflow's default, too).
"""

from __future__ import annotations

import contextvars
import logging
from typing import TYPE_CHECKING

from wayline.tracing.environment import capture
from wayline.tracing.record import TraceRecord
from wayline.tracing.span import LiveSpan, NoOpSpan

if TYPE_CHECKING:
    from wayline.tracing.provider import Tracing

_logger = logging.getLogger("wayline.tracing")

current: contextvars.ContextVar[LiveSpan | None] = contextvars.ContextVar(
    "wayline_current_span", default=None
)

_machinery: list[Tracing] = []  # filled on the first span: OpenTelemetry loads only then


def _tracing() -> Tracing:
    if not _machinery:
        from wayline.tracing.provider import tracing

        _machinery.append(tracing())
    return _machinery[0]


def start(
    name: str,
    span_type: str,
    parent: LiveSpan | None,
    attributes: dict[str, str] | None = None,
    experiment_id: str | None = None,
    start_time_ns: int | None = None,
) -> LiveSpan:
    """Start a span, a child of ``parent`` or, without one, the root of a new trace.

    ``attributes`` are already JSON text. A root span captures the fluent API's state (run,
    experiment) of the calling thread.
    """
    machinery = _machinery[0] if _machinery else _tracing()
    if parent is None:
        otel = machinery.tracer.start_span(
            name, context=machinery.root_context, attributes=attributes, start_time=start_time_ns
        )
        if not otel.is_recording():
            return NoOpSpan(otel)
        uri, active_experiment, run_id, model_id = capture()
        record = TraceRecord(
            otel.get_span_context().trace_id,
            uri,
            experiment_id or active_experiment,
            run_id,
            model_id,
        )
        machinery.active.add(record)
    elif type(parent) is NoOpSpan:
        return parent
    else:
        record = parent._record
        otel = machinery.tracer.start_span(
            name, context=parent.child_context(), attributes=attributes, start_time=start_time_ns
        )
    return LiveSpan(otel, record, span_type)  # type: ignore[arg-type]  # an SDK span


def restore(token: contextvars.Token[LiveSpan | None], previous: LiveSpan | None) -> None:
    """Undo ``current.set``; a token made in another context (a generator moved between
    tasks) cannot be reset, so the previous span is set instead."""
    try:
        current.reset(token)
    except ValueError:
        current.set(previous)


def tracing_machinery() -> Tracing | None:
    """The machinery if any span was started in this process."""
    return _machinery[0] if _machinery else None


__all__ = ["current", "restore", "start", "tracing_machinery"]
