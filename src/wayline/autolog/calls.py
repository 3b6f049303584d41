"""The wrappers that turn one SDK method's calls into spans.

A wrapped call records a span named after the SDK class (``Completions``, ``Messages.create``)
whose inputs are the arguments the caller passed, child of the current span when there is one
(inside ``@wayline.trace`` or ``wayline.start_span``) and otherwise the root of its own trace.
The call's result is returned untouched; its JSON form becomes the span's outputs and the
provider adds attributes (model, token usage, tools). An exception the SDK raises marks the span
ERROR with an exception event and propagates unchanged. A failure of autologging itself is only
logged: it never reaches the caller.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from wayline.autolog.integration import Integration, Original, WrapperFactory
from wayline.autolog.streams import (
    Accumulator,
    ResultAttributes,
    Span,
    StreamRecorder,
    record_stream,
)
from wayline.autolog.values import jsonable
from wayline.entities.trace import SpanAttributeKey, SpanStatusCode

# The provider whose traced call is running, so that an SDK method calling another patched one
# of its own SDK (a helper built on ``create``) records one span, not two.
_IN_CALL: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "wayline_autolog_call", default=None
)

# Stainless-generated SDKs (OpenAI's, Anthropic's) mark ``with_raw_response`` and
# ``with_streaming_response`` calls with this header; the method then returns a response wrapper.
_RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"


# Header values of these names are kept out of recorded inputs.
_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie")


def unset_types(sdk: ModuleType) -> tuple[type, ...]:
    """The "argument not given" sentinel classes of a Stainless-generated SDK."""
    found = (getattr(sdk, "NotGiven", None), getattr(sdk, "Omit", None))
    return tuple(cls for cls in found if isinstance(cls, type))


@dataclass(frozen=True)
class Provider:
    """What the generic wrappers need to know of one SDK."""

    integration: Integration
    stream_types: tuple[type, ...]  # the SDK's stream classes, sync and async
    unset_types: tuple[type, ...]  # the SDK's "argument not given" sentinels (NotGiven, Omit)

    @property
    def name(self) -> str:
        return self.integration.name


@dataclass(frozen=True)
class Endpoint:
    """How the calls of one SDK method become spans.

    ``span_name`` is formatted with ``cls``, the name of the resource's class.
    ``request_attributes`` maps the recorded inputs to span attributes (model, tools, message
    format); ``result_attributes`` maps the JSON form of the result (for a stream, the
    assembled message) to more (token usage). ``accumulator`` assembles a streamed result.
    """

    span_name: str
    span_type: str
    request_attributes: Callable[[dict[str, Any]], dict[str, Any]]
    result_attributes: ResultAttributes
    accumulator: Callable[[], Accumulator] | None = None


def traced(provider: Provider, endpoint: Endpoint, *, is_async: bool) -> WrapperFactory:
    """A patch factory for ``Integration.patch``. ``is_async`` says the method returns an
    awaitable (SDK async methods are often plain functions returning a coroutine)."""

    def make(original: Original) -> Original:
        if is_async:
            return _async_wrapper(provider, endpoint, original)
        return _sync_wrapper(provider, endpoint, original)

    return make


def _sync_wrapper(provider: Provider, endpoint: Endpoint, original: Original) -> Original:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not should_trace(provider):
            return original(self, *args, **kwargs)
        args, kwargs = materialized(args, kwargs)
        call = functools.partial(original, self, *args, **kwargs)
        return run_traced(provider, endpoint, self, original, args, kwargs, call)

    return wrapper


def _async_wrapper(provider: Provider, endpoint: Endpoint, original: Original) -> Original:
    # A plain function returning a coroutine, like the SDK's own: argument errors the SDK raises
    # at call time are still raised at call time, and the span starts when the call is awaited.
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not should_trace(provider):
            return original(self, *args, **kwargs)
        args, kwargs = materialized(args, kwargs)
        awaitable = original(self, *args, **kwargs)
        return run_traced_async(provider, endpoint, self, original, args, kwargs, awaitable)

    return wrapper


def run_traced(
    provider: Provider,
    endpoint: Endpoint,
    instance: Any,
    original: Original,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    run: Callable[[], Any],
) -> Any:
    """``run()`` (the SDK call of ``original`` with these arguments) inside its span."""
    call = TracedCall.start(provider, endpoint, instance, original, args, kwargs)
    if call is None:
        return run()
    token = _IN_CALL.set(provider.name)
    try:
        result = run()
    except BaseException as error:
        call.fail(error)
        raise
    finally:
        _IN_CALL.reset(token)
    return call.succeed(result)


async def run_traced_async(
    provider: Provider,
    endpoint: Endpoint,
    instance: Any,
    original: Original,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    awaitable: Awaitable[Any],
) -> Any:
    """``run_traced`` for an SDK call that is awaited."""
    call = TracedCall.start(provider, endpoint, instance, original, args, kwargs)
    if call is None:
        return await awaitable
    token = _IN_CALL.set(provider.name)
    try:
        result = await awaitable
    except BaseException as error:
        call.fail(error)
        raise
    finally:
        _IN_CALL.reset(token)
    return call.succeed(result)


def should_trace(provider: Provider) -> bool:
    """Whether a call should record a span now."""
    if not provider.integration.tracing or _IN_CALL.get() == provider.name:
        return False
    from wayline import tracing

    return tracing.is_enabled()


def materialized(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """One-shot iterators (a generator of messages) as lists, so that recording them as inputs
    does not use them up before the SDK reads them."""
    if not any(isinstance(v, Iterator) for v in (*args, *kwargs.values())):
        return args, kwargs
    return (
        tuple(list(v) if isinstance(v, Iterator) else v for v in args),
        {k: list(v) if isinstance(v, Iterator) else v for k, v in kwargs.items()},
    )


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


def call_inputs(
    original: Original, args: tuple[Any, ...], kwargs: dict[str, Any], unset: tuple[type, ...]
) -> dict[str, Any]:
    """The arguments the caller passed, by parameter name (without ``self`` and without the
    SDK's not-given sentinels), as JSON-ready values."""
    signature = _signature(original)
    inputs: dict[str, Any] = {}
    try:
        if signature is None:
            raise TypeError
        bound = signature.bind_partial(None, *args, **kwargs).arguments
        for position, (name, value) in enumerate(bound.items()):
            kind = signature.parameters[name].kind
            if position == 0 and name in ("self", "cls"):
                continue
            if kind is inspect.Parameter.VAR_KEYWORD:
                inputs.update(value)
            else:
                inputs[name] = value
    except TypeError:  # arguments the method does not take: the SDK itself will say so
        inputs = {**({"args": list(args)} if args else {}), **kwargs}
    recorded = {k: jsonable(v) for k, v in inputs.items() if not isinstance(v, unset)}
    if isinstance(headers := recorded.get("extra_headers"), dict):
        recorded["extra_headers"] = {
            name: "<redacted>" if any(w in name.lower() for w in _SECRET_HEADER_WORDS) else value
            for name, value in headers.items()
        }
    return recorded


class TracedCall:
    """The span of one SDK call, from start to the end of its result."""

    def __init__(
        self, provider: Provider, endpoint: Endpoint, span: Span, kwargs: dict[str, Any]
    ) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self.span = span
        self.kwargs = kwargs

    @classmethod
    def start(
        cls,
        provider: Provider,
        endpoint: Endpoint,
        instance: Any,
        original: Original,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> TracedCall | None:
        """Open the call's span; None (call untraced) when autologging itself fails."""
        try:
            from wayline import tracing

            inputs = call_inputs(original, args, kwargs, provider.unset_types)
            attributes = {
                SpanAttributeKey.PROVIDER: provider.name,
                **endpoint.request_attributes(inputs),
            }
            span = tracing.start_span_no_context(
                name=endpoint.span_name.format(cls=type(instance).__name__),
                span_type=endpoint.span_type,
                parent_span=tracing.get_current_active_span(),
                inputs=inputs,
                attributes=attributes,
            )
        except Exception:
            provider.integration.warn("could not start a span")
            return None
        return cls(provider, endpoint, span, kwargs)

    def fail(self, error: BaseException) -> None:
        try:
            self.span.record_exception(error)  # marks it ERROR, with the exception's message
            self.span.end()
        except Exception:
            self.provider.integration.warn("could not end the span of a failed call")

    def succeed(self, result: Any) -> Any:
        """End the span with ``result`` (or hand it to a stream recorder); return ``result``."""
        try:
            target = self._parsed(result)
            if isinstance(target, self.provider.stream_types) and self._record_stream(target):
                return result
            outputs = None if target is None else jsonable(target)
            self._end(outputs)
        except Exception:
            self.provider.integration.warn("could not record the result of a call")
            self._end(None)
        return result

    def _parsed(self, result: Any) -> Any:
        """The SDK object of a ``with_raw_response`` result, parsed as the caller's own
        ``parse()`` will return it (the SDK caches it); None for ``with_streaming_response``,
        whose body is the caller's to read."""
        mode = (self.kwargs.get("extra_headers") or {}).get(_RAW_RESPONSE_HEADER)
        if mode is None or not hasattr(result, "http_response"):
            return result
        parse = getattr(result, "parse", None)
        if mode == "stream" or parse is None or inspect.iscoroutinefunction(parse):
            return None
        return parse()

    def _record_stream(self, stream: Any) -> bool:
        if self.endpoint.accumulator is None:
            return False
        recorder = StreamRecorder(
            self.span,
            self.endpoint.accumulator(),
            self.endpoint.result_attributes,
            self.provider.integration,
        )
        return record_stream(stream, recorder)

    def _end(self, outputs: Any) -> None:
        attributes: dict[str, Any] = {}
        try:
            attributes = self.endpoint.result_attributes(outputs) if outputs is not None else {}
        except Exception:
            self.provider.integration.warn("could not read the usage of a response")
        try:
            self.span.end(outputs=outputs, attributes=attributes, status=SpanStatusCode.OK)
        except Exception:
            self.provider.integration.warn("could not end a span")
