"""``LiveSpan``: a span being recorded, over an OpenTelemetry SDK span.

Attribute values are stored on the OpenTelemetry span as JSON text (MLflow's convention, so any
value fits in OpenTelemetry's primitive attributes and a foreign exporter sees what MLflow
would send); they are decoded only when read. Nothing here raises into user code for a value it
cannot record: the problem is logged and the call does nothing.

``NoOpSpan`` has the same methods and records nothing: it stands for a span when tracing is
disabled or the trace was not sampled.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from wayline.entities.trace import (
    SpanAttributeKey,
    SpanEvent,
    SpanStatusCode,
    SpanType,
)
from wayline.tracing.serialize import dumps, loads

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import Span as OtelSpan
    from opentelemetry.trace import Span as OtelApiSpan

    from wayline.tracing.record import TraceRecord

_logger = logging.getLogger(__name__)

_INPUTS = SpanAttributeKey.INPUTS
_OUTPUTS = SpanAttributeKey.OUTPUTS
_SPAN_TYPE = SpanAttributeKey.SPAN_TYPE


def _event_value(value: Any) -> Any:
    # OpenTelemetry event attributes hold primitives and lists of one primitive type.
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return dumps(value)


class LiveSpan:
    """A span in progress. Get one from ``wayline.start_span``, ``@wayline.trace`` (through
    ``wayline.get_current_active_span()``) or ``wayline.tracing.start_span_no_context``.

    Example::

        with wayline.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": "q"})
            span.set_outputs(["doc-1", "doc-2"])
    """

    __slots__ = ("_child_context", "_ended", "_otel", "_outputs_set", "_record", "_type")

    def __init__(self, otel: OtelSpan, record: TraceRecord, span_type: str) -> None:
        self._otel = otel
        self._record = record
        self._type = span_type
        self._child_context: Context | None = None
        self._ended = False
        self._outputs_set = False

    # ------------------------------------------------------------------ identity
    @property
    def trace_id(self) -> str | None:
        """``tr-`` + 32 hex digits (None for a span that records nothing)."""
        return self._record.trace_id

    @property
    def request_id(self) -> str | None:
        """MLflow 2's name for ``trace_id``."""
        return self.trace_id

    @property
    def span_id(self) -> str | None:
        """16 hex digits."""
        return format(self._otel.get_span_context().span_id, "016x")

    @property
    def parent_id(self) -> str | None:
        parent = self._otel.parent
        return format(parent.span_id, "016x") if parent is not None else None

    @property
    def name(self) -> str:
        return self._otel.name

    @property
    def span_type(self) -> str:
        return self._type

    @property
    def start_time_ns(self) -> int:
        return self._otel.start_time or 0

    @property
    def end_time_ns(self) -> int | None:
        return self._otel.end_time

    @property
    def status(self) -> SpanStatusCode:
        return SpanStatusCode(self._otel.status.status_code.name)

    # ------------------------------------------------------------------ attributes
    def get_attribute(self, key: str) -> Any:
        """The decoded value of an attribute, or None."""
        return loads((self._otel.attributes or {}).get(key))

    @property
    def attributes(self) -> dict[str, Any]:
        return {key: loads(value) for key, value in (self._otel.attributes or {}).items()}

    @property
    def inputs(self) -> Any:
        return self.get_attribute(_INPUTS)

    @property
    def outputs(self) -> Any:
        return self.get_attribute(_OUTPUTS)

    def set_inputs(self, inputs: Any) -> None:
        self._otel.set_attribute(_INPUTS, dumps(inputs))

    def set_outputs(self, outputs: Any) -> None:
        self._outputs_set = True
        self._otel.set_attribute(_OUTPUTS, dumps(outputs))

    def set_attribute(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            _logger.warning("Span attribute keys are strings; skipping %r.", key)
            return
        if key == _SPAN_TYPE:
            self._type = str(value)
        elif key == _OUTPUTS:
            self._outputs_set = True
        self._otel.set_attribute(key, dumps(value))

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_span_type(self, span_type: str) -> None:
        self._type = str(span_type)
        self._otel.set_attribute(_SPAN_TYPE, dumps(self._type))

    # ------------------------------------------------------------------ status and events
    def set_status(self, status: SpanStatusCode | str | Any) -> None:
        """``"OK"``, ``"ERROR"`` (or ``"UNSET"``), a ``SpanStatusCode`` or OpenTelemetry's
        ``Status``/``StatusCode``."""
        from opentelemetry.trace import Status, StatusCode

        if isinstance(status, (Status, StatusCode)):
            self._otel.set_status(status)
            return
        name = str(getattr(status, "value", status)).upper().removeprefix("STATUS_CODE_")
        if name not in StatusCode.__members__:
            _logger.warning("Unknown span status %r; expected OK, ERROR or UNSET.", status)
            return
        self._otel.set_status(Status(StatusCode[name]))

    def add_event(self, event: SpanEvent) -> None:
        attributes = {str(k): _event_value(v) for k, v in (event.attributes or {}).items()}
        self._otel.add_event(event.name, attributes, event.time_unix_nano or None)

    def record_exception(self, exception: BaseException | str) -> None:
        """Add an ``exception`` event and mark the span ERROR (``"<Type>: <message>"``)."""
        from opentelemetry.trace import Status, StatusCode

        exc = Exception(exception) if isinstance(exception, str) else exception
        self.add_event(SpanEvent.from_exception(exc))
        self._otel.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))

    # ------------------------------------------------------------------ end
    def end(
        self,
        outputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        status: SpanStatusCode | str | None = None,
        end_time_ns: int | None = None,
    ) -> None:
        """End the span (once; later calls do nothing). Its trace is exported when the root
        span ends.

        Example::

            span = wayline.tracing.start_span_no_context("stream")
            ...
            span.end(outputs={"text": "done"})
        """
        if self._ended:
            return
        self._ended = True
        try:
            if attributes:
                self.set_attributes(attributes)
            if outputs is not None:
                self.set_outputs(outputs)
            if status is not None:
                self.set_status(status)
        except Exception:  # recording must never break the caller; still end the span
            _logger.warning("Could not record the end of span %r.", self.name, exc_info=True)
        self._otel.end(end_time_ns)

    # ------------------------------------------------------------------ internals
    @property
    def otel_span(self) -> OtelApiSpan:
        """The OpenTelemetry span underneath."""
        return self._otel

    def child_context(self) -> Context:
        """OpenTelemetry's context with this span as parent (made once, shared by children)."""
        ctx = self._child_context
        if ctx is None:
            from opentelemetry.context import Context
            from opentelemetry.trace import set_span_in_context

            ctx = self._child_context = set_span_in_context(self._otel, Context())
        return ctx

    def __repr__(self) -> str:
        return f"LiveSpan(name={self.name!r}, trace_id={self.trace_id!r}, span_id={self.span_id})"


class NoOpSpan(LiveSpan):
    """A span that records nothing (tracing disabled, trace not sampled). Its children are
    no-op spans too."""

    __slots__ = ()

    def __init__(self, otel: OtelApiSpan | None = None) -> None:
        self._otel = otel  # type: ignore[assignment]  # a NonRecordingSpan or nothing
        self._type = SpanType.UNKNOWN
        self._child_context = None
        self._ended = True
        self._outputs_set = False

    @property
    def trace_id(self) -> str | None:
        return None

    @property
    def span_id(self) -> str | None:
        return None

    @property
    def parent_id(self) -> str | None:
        return None

    @property
    def name(self) -> str:
        return ""

    @property
    def start_time_ns(self) -> int:
        return 0

    @property
    def end_time_ns(self) -> int | None:
        return None

    @property
    def status(self) -> SpanStatusCode:
        return SpanStatusCode.UNSET

    def get_attribute(self, key: str) -> Any:
        return None

    @property
    def attributes(self) -> dict[str, Any]:
        return {}

    def set_inputs(self, inputs: Any) -> None:
        pass

    def set_outputs(self, outputs: Any) -> None:
        pass

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def set_span_type(self, span_type: str) -> None:
        pass

    def set_status(self, status: SpanStatusCode | str | Any) -> None:
        pass

    def add_event(self, event: SpanEvent) -> None:
        pass

    def record_exception(self, exception: BaseException | str) -> None:
        pass

    def end(
        self,
        outputs: Any = None,
        attributes: Mapping[str, Any] | None = None,
        status: SpanStatusCode | str | None = None,
        end_time_ns: int | None = None,
    ) -> None:
        pass

    def child_context(self) -> Context:
        from opentelemetry.context import Context
        from opentelemetry.trace import set_span_in_context

        if self._otel is None:
            return Context()
        return set_span_in_context(self._otel, Context())

    def __repr__(self) -> str:
        return "NoOpSpan()"


__all__ = ["LiveSpan", "NoOpSpan"]
