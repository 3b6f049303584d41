"""Streamed responses: keep streaming to the caller, record each chunk, end the span at the end.

An SDK stream object (``openai.Stream``, ``anthropic.AsyncStream``, ...) yields its chunks from
an inner iterator held in ``_iterator``. ``record_stream`` swaps in a generator around it, on the
same object, so the caller keeps the exact object (and type) the SDK returned. That generator
records chunk ``i`` as span event ``mlflow.chunk.item.<i>`` (its JSON under
``mlflow.chunk.value``, as MLflow records them), feeds it to the provider's accumulator, and ends
the span — outputs the assembled message — when the stream is exhausted, raises (ERROR), is
closed, or is dropped unread.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from wayline.autolog.integration import Integration
from wayline.autolog.values import jsonable
from wayline.entities.trace import SpanEvent, SpanStatusCode

CHUNK_EVENT_NAME = "mlflow.chunk.item.{index}"
CHUNK_VALUE_KEY = "mlflow.chunk.value"


class Span(Protocol):
    """What autologging needs of a live span (``wayline.tracing``'s ``LiveSpan``)."""

    def set_attribute(self, key: str, value: Any) -> None: ...

    def add_event(self, event: SpanEvent) -> None: ...

    def record_exception(self, exception: BaseException) -> None: ...

    def end(
        self,
        outputs: Any | None = None,
        attributes: dict[str, Any] | None = None,
        status: Any | None = None,
        end_time_ns: int | None = None,
    ) -> None: ...


class Accumulator(Protocol):
    """Assembles a provider's stream chunks (as JSON-ready dicts) into its final message."""

    def add(self, chunk: Any) -> None: ...

    def result(self) -> Any: ...


ResultAttributes = Callable[[Any], dict[str, Any]]


class StreamRecorder:
    """Records one stream on one span; ends the span exactly once."""

    def __init__(
        self,
        span: Span,
        accumulator: Accumulator,
        result_attributes: ResultAttributes,
        integration: Integration,
    ) -> None:
        self._span = span
        self._accumulator = accumulator
        self._result_attributes = result_attributes
        self._integration = integration
        self._count = 0
        self._ended = False
        self._lock = threading.Lock()

    def chunk(self, item: Any) -> None:
        try:
            value = jsonable(item)
            name = CHUNK_EVENT_NAME.format(index=self._count)
            self._count += 1
            attributes = {CHUNK_VALUE_KEY: json.dumps(value, ensure_ascii=False)}
            self._span.add_event(SpanEvent(name, time.time_ns(), attributes))
            self._accumulator.add(value)
        except Exception:
            self._integration.warn("could not record a stream chunk")

    def _claim_end(self) -> bool:
        with self._lock:
            if self._ended:
                return False
            self._ended = True
            return True

    def _assembled(self) -> tuple[Any, dict[str, Any]]:
        try:
            output = self._accumulator.result()
            return output, self._result_attributes(output)
        except Exception:
            self._integration.warn("could not assemble the streamed response")
            return None, {}

    def finish(self) -> None:
        """The stream ended (read to the end, closed or dropped): end the span OK."""
        if not self._claim_end():
            return
        output, attributes = self._assembled()
        try:
            self._span.end(outputs=output, attributes=attributes, status=SpanStatusCode.OK)
        except Exception:
            self._integration.warn("could not end the span of a stream")

    def fail(self, error: BaseException) -> None:
        """Reading the stream raised ``error``: end the span ERROR, with what had arrived."""
        if not self._claim_end():
            return
        output, attributes = self._assembled()
        try:
            # record_exception marks the span ERROR with "<Type>: <message>"; passing a status
            # to end() as well would replace that message.
            self._span.record_exception(error)
            self._span.end(outputs=output, attributes=attributes)
        except Exception:
            self._integration.warn("could not end the span of a failed stream")


def _chunks(inner: Iterator[Any], recorder: StreamRecorder) -> Iterator[Any]:
    try:
        for item in inner:
            recorder.chunk(item)
            yield item
    except GeneratorExit:  # closed (or collected) before the end: not an error
        recorder.finish()
        raise
    except BaseException as error:
        recorder.fail(error)
        raise
    recorder.finish()


async def _async_chunks(inner: AsyncIterator[Any], recorder: StreamRecorder) -> AsyncIterator[Any]:
    try:
        async for item in inner:
            recorder.chunk(item)
            yield item
    except GeneratorExit:
        recorder.finish()
        raise
    except BaseException as error:
        recorder.fail(error)
        raise
    recorder.finish()


def _hook_close(stream: Any, recorder: StreamRecorder) -> None:
    """Make ``stream.close()`` (also what ``with`` calls on exit) end the span too. The hook holds
    the stream weakly: a stream must not keep itself alive, so that dropping it closes it."""
    close = type(stream).close
    try:
        stream_ref = weakref.ref(stream)
    except TypeError:  # not weakly referenceable: its span ends when it is read to the end
        return

    if inspect.iscoroutinefunction(close):

        async def aclose_and_finish() -> None:
            try:
                target = stream_ref()
                if target is not None:
                    await close(target)
            finally:
                recorder.finish()

        stream.close = aclose_and_finish
    else:

        def close_and_finish() -> None:
            try:
                target = stream_ref()
                if target is not None:
                    close(target)
            finally:
                recorder.finish()

        stream.close = close_and_finish


def record_stream(stream: Any, recorder: StreamRecorder) -> bool:
    """Route ``stream``'s chunks through ``recorder``; False (stream untouched) when the stream
    does not have the shape this relies on."""
    try:
        # For some SDKs ``_iterator`` is a cached property made on first use: reading it makes it.
        inner = stream._iterator
    except AttributeError:
        return False
    if hasattr(inner, "__anext__"):
        stream._iterator = _async_chunks(inner, recorder)
    elif hasattr(inner, "__next__"):
        stream._iterator = _chunks(inner, recorder)
    else:
        return False
    if callable(getattr(type(stream), "close", None)):
        _hook_close(stream, recorder)
    # A stream dropped before it was ever read never runs the generator above: end the span when
    # the stream is collected. Not at interpreter exit, when the exporters may be gone.
    with contextlib.suppress(TypeError):
        weakref.finalize(stream, recorder.finish).atexit = False
    return True
