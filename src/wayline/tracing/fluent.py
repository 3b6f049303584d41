"""The span API of ``import wayline as mlflow``: ``start_span``, ``start_span_no_context``, the
current span and trace, ``update_current_trace`` and ``flush_trace_async_logging``.

Recording never raises into the traced code: a span that cannot be started is replaced by a
``NoOpSpan`` and the problem logged. Arguments that are wrong (an unknown state) raise
``InvalidParameter``, as in MLflow.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from wayline.entities.trace import (
    SpanAttributeKey,
    SpanType,
    TraceMetadataKey,
    TraceState,
    TraceTagKey,
)
from wayline.errors import InvalidParameter
from wayline.tracing import context
from wayline.tracing.config import is_enabled
from wayline.tracing.record import last_trace_id
from wayline.tracing.serialize import dumps, dumps_pretty
from wayline.tracing.span import LiveSpan, NoOpSpan

_logger = logging.getLogger("wayline.tracing")


def encode_attributes(span_type: str, attributes: Mapping[str, Any] | None) -> dict[str, str]:
    """Span attributes as JSON text, with the span type (left out when UNKNOWN: the default)."""
    encoded = {str(k): dumps(v) for k, v in (attributes or {}).items()}
    if span_type != SpanType.UNKNOWN:
        encoded[SpanAttributeKey.SPAN_TYPE] = dumps(span_type)
    return encoded


class SpanScope:
    """What ``start_span`` returns: a context manager that makes its span current."""

    __slots__ = ("_attributes", "_name", "_previous", "_span", "_token", "_type")

    def __init__(self, name: str, span_type: str, attributes: Mapping[str, Any] | None) -> None:
        self._name = name
        self._type = span_type
        self._attributes = attributes
        self._span: LiveSpan = NoOpSpan()
        self._token: Any = None
        self._previous: LiveSpan | None = None

    def __enter__(self) -> LiveSpan:
        if not is_enabled():
            return self._span
        parent = context.current.get()
        try:
            span = context.start(
                self._name, self._type, parent, encode_attributes(self._type, self._attributes)
            )
        except Exception:
            _logger.warning("Could not start span %r.", self._name, exc_info=True)
            return self._span
        self._span, self._previous = span, parent
        self._token = context.current.set(span)
        return span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            context.restore(self._token, self._previous)
            self._token = None
        span = self._span
        try:
            if exc is not None and not isinstance(exc, GeneratorExit):
                span.record_exception(exc)
            span.end()
        except Exception:
            _logger.warning("Could not end span %r.", self._name, exc_info=True)


def start_span(
    name: str = "span",
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
) -> SpanScope:
    """A span around a block of code, a child of the current span (or a new trace's root).

    An exception leaving the block marks the span ERROR with an ``exception`` event and goes on.

    Example::

        import wayline as mlflow

        with mlflow.start_span("retrieve", span_type="RETRIEVER") as span:
            span.set_inputs({"query": "what is wayline?"})
            docs = ["doc-1", "doc-2"]
            span.set_outputs(docs)
    """
    return SpanScope(name, str(span_type or SpanType.UNKNOWN), attributes)


def start_span_no_context(
    name: str,
    span_type: str = SpanType.UNKNOWN,
    parent_span: LiveSpan | None = None,
    inputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, str] | None = None,
    experiment_id: str | None = None,
    start_time_ns: int | None = None,
) -> LiveSpan:
    """Start a span that is not made current and must be ended with ``span.end()``: for spans
    that outlive a block, such as a streamed response. Without ``parent_span`` it is the root
    of a new trace (``tags``, ``metadata`` and ``experiment_id`` apply to that trace).

    Example::

        root = wayline.tracing.start_span_no_context("chat", inputs={"q": "hi"})
        child = wayline.tracing.start_span_no_context("llm", "LLM", parent_span=root)
        child.end(outputs="hello")
        root.end(outputs="hello")
    """
    if not is_enabled():
        return NoOpSpan()
    kind = str(span_type or SpanType.UNKNOWN)
    encoded = encode_attributes(kind, attributes)
    if inputs is not None:
        encoded[SpanAttributeKey.INPUTS] = dumps(inputs)
    try:
        span = context.start(
            name,
            kind,
            parent_span,
            encoded,
            experiment_id=str(experiment_id) if experiment_id is not None else None,
            start_time_ns=start_time_ns,
        )
    except Exception:
        _logger.warning("Could not start span %r.", name, exc_info=True)
        return NoOpSpan()
    if parent_span is None and (tags or metadata) and not isinstance(span, NoOpSpan):
        record = span._record
        record.tags.update((str(k), _text(v)) for k, v in (tags or {}).items())
        record.metadata.update((str(k), _text(v)) for k, v in (metadata or {}).items())
    return span


def _text(value: Any) -> str:
    return value if isinstance(value, str) else dumps_pretty(value)


def get_current_active_span() -> LiveSpan | None:
    """The span of the innermost ``start_span`` block or traced function running now, or None.

    Example::

        @wayline.trace
        def answer(q):
            wayline.get_current_active_span().set_attribute("model", "gpt-4o")
            return "42"
    """
    span = context.current.get()
    return None if span is None or isinstance(span, NoOpSpan) else span


def get_active_trace_id() -> str | None:
    """The id of the trace being recorded here now, or None.

    Example::

        with wayline.start_span("root"):
            print(wayline.get_active_trace_id())
    """
    span = get_current_active_span()
    return span.trace_id if span is not None else None


def get_last_active_trace_id(thread_local: bool = False) -> str | None:
    """The id of the trace that ended last (in this thread with ``thread_local=True``).

    Example::

        answer("why?")
        trace = wayline.get_trace(wayline.get_last_active_trace_id())
    """
    return last_trace_id(thread_local)


def _session_text(session_id: str | list[str]) -> str:
    if isinstance(session_id, list):
        return dumps_pretty([str(s) for s in session_id])
    return str(session_id)


def _trace_state(state: TraceState | str | None) -> TraceState | None:
    if state is None:
        return None
    text = str(getattr(state, "value", state))
    if text not in (TraceState.OK, TraceState.ERROR):
        raise InvalidParameter(f"State must be either 'OK' or 'ERROR', but got '{text}'.")
    return TraceState(text)


def update_current_trace(
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    client_request_id: str | None = None,
    request_preview: str | None = None,
    response_preview: str | None = None,
    state: TraceState | str | None = None,
    session_id: str | list[str] | None = None,
    user: str | None = None,
    model_id: str | None = None,
) -> None:
    """Add tags and metadata to the trace being recorded, or override its previews, state or
    client request id. ``session_id`` and ``user`` become metadata ``mlflow.trace.session`` and
    ``mlflow.trace.user``. Outside a trace it warns and does nothing.

    Example::

        @wayline.trace
        def chat(message):
            wayline.update_current_trace(tags={"channel": "web"}, session_id="s-1", user="ana")
            return "hi"
    """
    for label, text in (
        ("request_preview", request_preview),
        ("response_preview", response_preview),
    ):
        if text is not None and not isinstance(text, str):
            raise InvalidParameter(f"The `{label}` parameter must be a string.")
    trace_state = _trace_state(state)
    span = get_current_active_span()
    if span is None:
        _logger.warning(
            "No active trace found. Start a span with `wayline.start_span` or `@wayline.trace` "
            "before calling `wayline.update_current_trace`."
        )
        return
    record = span._record
    record.tags.update((str(k), _text(v)) for k, v in (tags or {}).items())
    extra = {str(k): _text(v) for k, v in (metadata or {}).items()}
    if session_id is not None:
        extra[TraceMetadataKey.TRACE_SESSION] = _session_text(session_id)
    if user is not None:
        extra[TraceMetadataKey.TRACE_USER] = str(user)
    if model_id:
        extra[TraceMetadataKey.MODEL_ID] = str(model_id)
    record.metadata.update(extra)
    if client_request_id is not None:
        record.client_request_id = str(client_request_id)
    if request_preview:
        record.request_preview = request_preview
    if response_preview:
        record.response_preview = response_preview
    if trace_state is not None:
        record.state = trace_state


def link_prompt_to_current_trace(name: str, version: str | int) -> None:
    """Add a prompt version to the ``mlflow.linkedPrompts`` tag of the trace being recorded
    (``load_prompt`` calls it, so ``trace.prompt = 'name/version'`` finds the traces that used
    a prompt). Outside a trace it does nothing."""
    span = get_current_active_span()
    if span is None:
        return
    tags = span._record.tags
    try:
        linked = json.loads(tags.get(TraceTagKey.LINKED_PROMPTS) or "[]")
    except ValueError:
        linked = []
    entry = {"name": name, "version": str(version)}
    if isinstance(linked, list) and entry not in linked:
        tags[TraceTagKey.LINKED_PROMPTS] = json.dumps([*linked, entry])


def flush_trace_async_logging(terminate: bool = False) -> None:
    """Wait until every finished trace is written to the tracking store (and sent to the
    OpenTelemetry collector, when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` names one).

    ``terminate`` is accepted for MLflow compatibility; the export thread stays (it is idle).

    Example::

        answer("why?")
        wayline.flush_trace_async_logging()
        print(wayline.search_traces(return_type="list"))
    """
    machinery = context.tracing_machinery()
    if machinery is not None:
        machinery.exporter.flush()
        if machinery.otlp is not None:
            machinery.otlp.flush()


__all__ = [
    "LiveSpan",
    "NoOpSpan",
    "SpanScope",
    "flush_trace_async_logging",
    "get_active_trace_id",
    "get_current_active_span",
    "get_last_active_trace_id",
    "link_prompt_to_current_trace",
    "start_span",
    "start_span_no_context",
    "update_current_trace",
]
