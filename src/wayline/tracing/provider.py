"""Wayline's OpenTelemetry machinery: its own ``TracerProvider`` (the user's global provider is
left alone), the span processor that assembles traces, and the exporter it hands them to.

Built on the first span, so ``import wayline`` never loads OpenTelemetry. The processor keeps
each trace's finished spans on its ``TraceRecord`` until the root span ends, then hands the
record to the exporter; spans that end after their root (a forgotten child) are dropped, as in
MLflow.

When ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is set, spans go to that OpenTelemetry collector
instead of the tracking store (MLflow's behaviour), or to both with
``WAYLINE_TRACE_ENABLE_OTLP_DUAL_EXPORT`` / ``MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT`` true.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Tracer

from wayline.tracing.config import TracingSettings, settings
from wayline.tracing.convert import to_span
from wayline.tracing.export import TraceExporter
from wayline.tracing.record import ActiveTraces, TraceRecord, set_last_trace_id

_logger = logging.getLogger("wayline.tracing")

INSTRUMENTATION_NAME = "wayline.tracing"


class TraceAssembler(SpanProcessor):
    """Collects each trace's spans as they end and hands the trace over when its root ends."""

    def __init__(self, active: ActiveTraces, finish: Callable[[TraceRecord], None]) -> None:
        self._active = active
        self._finish = finish

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            return
        record = self._active.get(context.trace_id)
        if record is None:
            _logger.debug("Span %r ended after its trace: dropped.", span.name)
            return
        try:
            record.spans.append(to_span(span, record.trace_id))
        except Exception:  # a span that cannot be converted is lost, its trace is not
            _logger.warning("Could not record span %r.", span.name, exc_info=True)
        if span.parent is None:
            self._active.pop(context.trace_id)
            set_last_trace_id(record.trace_id)
            self._finish(record)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class Tracing:
    """The provider, its tracer, the traces in progress and the exporter (one per process)."""

    def __init__(self, config: TracingSettings) -> None:
        self.active = ActiveTraces(config.buffer_max_size)
        self.exporter = TraceExporter(config.async_logging, config.max_queue_size)
        self.provider = TracerProvider(
            sampler=_sampler(config.sampling_ratio),
            shutdown_on_exit=False,
            # MLflow's spans carry many attributes and, when streaming, one event per chunk.
            span_limits=SpanLimits(
                max_span_attributes=SpanLimits.UNSET,
                max_events=SpanLimits.UNSET,
                max_event_attributes=SpanLimits.UNSET,
            ),
        )
        self.otlp = _add_otlp_exporter(self.provider)
        finish = self.exporter.submit if self.otlp is None or self.otlp.dual else _discard
        self.provider.add_span_processor(TraceAssembler(self.active, finish))
        self.tracer: Tracer = self.provider.get_tracer(INSTRUMENTATION_NAME)
        self.root_context = Context()  # no parent: a new trace


def _discard(record: TraceRecord) -> None:
    pass


def _sampler(ratio: float) -> Sampler:
    # Explicit, so that OTEL_TRACES_SAMPLER (meant for the user's own provider) does not apply.
    # Only roots are sampled: a child follows its parent, so a trace is kept or dropped whole.
    return ParentBased(ALWAYS_ON if ratio >= 1.0 else TraceIdRatioBased(ratio))


class OtlpExport:
    """The OpenTelemetry collector spans also (``dual``) or only go to."""

    def __init__(self, processor: SpanProcessor, dual: bool) -> None:
        self.processor = processor
        self.dual = dual

    def flush(self) -> None:
        self.processor.force_flush()


def _add_otlp_exporter(provider: TracerProvider) -> OtlpExport | None:
    """Add an OTLP exporter when a collector is configured (OpenTelemetry's own variables, such
    as ``OTEL_EXPORTER_OTLP_TRACES_HEADERS``, configure it)."""
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not endpoint:
        return None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        _logger.warning(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set but the OTLP exporter is not installed "
            "(pip install opentelemetry-exporter-otlp-proto-http): traces go to the tracking "
            "store only."
        )
        return None
    processor = BatchSpanProcessor(OTLPSpanExporter())
    provider.add_span_processor(processor)
    atexit.register(processor.shutdown)  # sends what is still batched
    dual = any(
        (os.environ.get(f"{p}_TRACE_ENABLE_OTLP_DUAL_EXPORT") or "").lower() in ("true", "1")
        for p in ("WAYLINE", "MLFLOW")
    )
    return OtlpExport(processor, dual)


_tracing: Tracing | None = None
_lock = threading.Lock()


def tracing() -> Tracing:
    """The process's tracing machinery, built on first use."""
    global _tracing  # noqa: PLW0603 - one provider per process
    found = _tracing
    if found is None:
        with _lock:
            found = _tracing
            if found is None:
                found = _tracing = Tracing(settings())
    return found


def built() -> Tracing | None:
    """The machinery if a span was ever started, else None (nothing to flush)."""
    return _tracing


__all__ = ["TraceAssembler", "Tracing", "built", "tracing"]
