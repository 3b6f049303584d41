"""``@wayline.trace``: a span around each call of a function, coroutine function, generator or
async generator.

Inputs are the call's arguments bound to the parameter names (defaults included, ``self``
left out), outputs the return value. A generator's span covers the whole iteration and is
current only while the generator's own code runs; its outputs are the yielded items (or
``output_reducer(items)``) and each item is also an event ``mlflow.chunk.item.<i>``, as MLflow
records streams. An exception marks the span ERROR with an ``exception`` event and goes on
unchanged. Closing a generator early ends its span normally with the items so far.

The hot path is one function: attributes known at decoration time (name, type, user attributes)
are encoded once, arguments are bound without ``inspect`` for plain signatures, and the inputs
are serialised once with orjson.
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from wayline.entities.trace import SpanAttributeKey, SpanEvent, SpanType
from wayline.errors import InvalidParameter
from wayline.tracing import context
from wayline.tracing.config import is_enabled
from wayline.tracing.fluent import encode_attributes
from wayline.tracing.serialize import dumps
from wayline.tracing.span import LiveSpan, NoOpSpan

_logger = logging.getLogger("wayline.tracing")

F = TypeVar("F", bound=Callable[..., Any])

_MISSING: Any = object()
_INPUTS = SpanAttributeKey.INPUTS
CHUNK_EVENT = "mlflow.chunk.item.{}"
CHUNK_VALUE_KEY = "mlflow.chunk.value"


class _Binder:
    """Maps a call's arguments to parameter names, as ``Signature.bind`` + ``apply_defaults``
    would, several times faster for the common signature without ``*args``/``**kwargs``."""

    __slots__ = ("_names", "_required", "_signature", "_simple", "_template")

    def __init__(self, fn: Callable[..., Any]) -> None:
        try:
            signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            signature = None
        self._signature = signature
        params = list(signature.parameters.values()) if signature is not None else []
        self._simple = signature is not None and all(
            p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params
        )
        self._names = tuple(p.name for p in params)
        self._template = {
            p.name: p.default if p.default is not inspect.Parameter.empty else _MISSING
            for p in params
        }
        self._required = sum(1 for p in params if p.default is inspect.Parameter.empty)

    def bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        names = self._names
        if self._simple and len(args) <= len(names):
            inputs = self._template.copy()
            for name, value in zip(names, args, strict=False):
                inputs[name] = value
            for key, value in kwargs.items():
                if key not in inputs:
                    return self._bind_slowly(args, kwargs)
                inputs[key] = value
            if len(args) < self._required and any(
                inputs[n] is _MISSING for n in names[len(args) : self._required]
            ):
                return self._bind_slowly(args, kwargs)
        else:
            found = self._bind_slowly(args, kwargs)
            if found is None:
                return None
            inputs = found
        inputs.pop("self", None)
        if names and names[0] == "cls" and isinstance(inputs.get("cls"), type):
            del inputs["cls"]
        return inputs

    def _bind_slowly(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        if self._signature is None:
            return {"args": list(args), "kwargs": kwargs} if args or kwargs else {}
        try:
            bound = self._signature.bind(*args, **kwargs)
        except TypeError:
            return None  # the call itself will raise the TypeError
        bound.apply_defaults()
        return dict(bound.arguments)


@dataclass(frozen=True, slots=True)
class TraceOptions:
    """The decorator's arguments, as MLflow 3.18's ``@mlflow.trace`` takes them.

    ``experiment_id`` (from ``trace_destination``) and ``sampling_ratio`` apply when the call
    starts a new trace; ``log_level`` and ``description`` are recorded on every span.
    """

    name: str | None = None
    span_type: str = SpanType.UNKNOWN
    attributes: Mapping[str, Any] | None = None
    output_reducer: Callable[[list[Any]], Any] | None = None
    experiment_id: str | None = None
    sampling_ratio: float | None = None
    log_level: int | None = None
    description: str | None = None


_LOG_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


def _destination_experiment(destination: Any) -> str | None:
    """The experiment id of ``trace_destination``: an id, or MLflow's experiment location
    objects (anything with an ``experiment_id``)."""
    if destination is None:
        return None
    experiment_id = destination if isinstance(destination, (str, int)) else None
    experiment_id = getattr(destination, "experiment_id", experiment_id)
    if experiment_id is None or str(experiment_id) == "":
        raise InvalidParameter(
            f"trace_destination must name an experiment (an id, or an object with an "
            f"experiment_id), got {destination!r}."
        )
    return str(experiment_id)


def _log_level(level: int | str | None) -> int | None:
    if level is None or isinstance(level, int):
        return level
    try:
        return _LOG_LEVELS[str(level).upper()]
    except KeyError:
        raise InvalidParameter(
            f"log_level must be DEBUG, INFO, WARNING, ERROR or a number, got {level!r}."
        ) from None


class _Traced:
    """What every wrapper needs: the span's name, fixed attributes and the argument binder."""

    __slots__ = (
        "attributes",
        "binder",
        "experiment_id",
        "name",
        "reducer",
        "sampling_ratio",
        "span_type",
    )

    def __init__(self, fn: Callable[..., Any], options: TraceOptions) -> None:
        self.name: str = options.name or getattr(fn, "__name__", None) or "function"
        self.span_type = str(options.span_type or SpanType.UNKNOWN)
        self.attributes = encode_attributes(self.span_type, options.attributes)
        self.attributes[SpanAttributeKey.FUNCTION_NAME] = dumps(getattr(fn, "__name__", ""))
        if options.log_level is not None:
            self.attributes[SpanAttributeKey.LOG_LEVEL] = dumps(options.log_level)
        if options.description is not None:
            self.attributes[SpanAttributeKey.DESCRIPTION] = dumps(options.description)
        self.binder = _Binder(fn)
        self.reducer = options.output_reducer
        self.experiment_id = options.experiment_id
        self.sampling_ratio = options.sampling_ratio

    def begin(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> LiveSpan | None:
        try:
            parent = context.current.get()
            ratio = self.sampling_ratio
            if parent is None and ratio is not None and random.random() >= ratio:
                return NoOpSpan()  # not sampled: nor are the calls it makes
            attributes = self.attributes.copy()
            attributes[_INPUTS] = dumps(self.binder.bind(args, kwargs))
            return context.start(
                self.name, self.span_type, parent, attributes, experiment_id=self.experiment_id
            )
        except Exception:
            _logger.warning("Could not start span %r.", self.name, exc_info=True)
            return None

    def succeed(self, span: LiveSpan, result: Any) -> None:
        try:
            if not span._outputs_set:
                span.set_outputs(result)
            span.end()
        except Exception:
            _logger.warning("Could not end span %r.", self.name, exc_info=True)

    def fail(self, span: LiveSpan, exc: BaseException) -> None:
        try:
            span.record_exception(exc)
            span.end()
        except Exception:
            _logger.warning("Could not end span %r.", self.name, exc_info=True)

    def chunk(self, span: LiveSpan, index: int, value: Any) -> None:
        try:
            span.add_event(SpanEvent(CHUNK_EVENT.format(index), 0, {CHUNK_VALUE_KEY: dumps(value)}))
        except Exception:
            _logger.debug("Could not record chunk %d of span %r.", index, self.name)

    def finish_stream(self, span: LiveSpan, items: list[Any]) -> None:
        outputs: Any = items
        if self.reducer is not None:
            try:
                outputs = self.reducer(items)
            except Exception:
                _logger.warning("output_reducer of %r failed; outputs are the items.", self.name)
        self.succeed(span, outputs)


def _wrap_function(fn: Callable[..., Any], traced: _Traced) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_enabled():
            return fn(*args, **kwargs)
        span = traced.begin(args, kwargs)
        if span is None:
            return fn(*args, **kwargs)
        current = context.current
        token = current.set(span)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            current.reset(token)
            traced.fail(span, exc)
            raise
        current.reset(token)
        traced.succeed(span, result)
        return result

    return wrapper


def _wrap_coroutine(fn: Callable[..., Any], traced: _Traced) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not is_enabled():
            return await fn(*args, **kwargs)
        span = traced.begin(args, kwargs)
        if span is None:
            return await fn(*args, **kwargs)
        current = context.current
        token = current.set(span)
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            current.reset(token)
            traced.fail(span, exc)
            raise
        current.reset(token)
        traced.succeed(span, result)
        return result

    return wrapper


def _wrap_generator(fn: Callable[..., Any], traced: _Traced) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        if not is_enabled():
            return (yield from fn(*args, **kwargs))
        span = traced.begin(args, kwargs)
        if span is None:
            return (yield from fn(*args, **kwargs))
        gen = fn(*args, **kwargs)
        items: list[Any] = []
        sent: Any = None
        thrown: BaseException | None = None
        current = context.current
        while True:
            token = current.set(span)
            try:
                if thrown is not None:
                    exc, thrown = thrown, None
                    value = gen.throw(exc)
                else:
                    value = gen.send(sent)
            except StopIteration as stop:
                current.reset(token)
                traced.finish_stream(span, items)
                return stop.value
            except BaseException as exc:
                current.reset(token)
                traced.fail(span, exc)
                raise
            current.reset(token)
            traced.chunk(span, len(items), value)
            items.append(value)
            try:
                sent = yield value
            except GeneratorExit:
                gen.close()
                traced.finish_stream(span, items)
                raise
            except BaseException as exc:
                thrown, sent = exc, None

    return wrapper


def _wrap_async_generator(fn: Callable[..., Any], traced: _Traced) -> Callable[..., Any]:
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        gen = fn(*args, **kwargs)
        span = traced.begin(args, kwargs) if is_enabled() else None
        items: list[Any] = []
        sent: Any = None
        thrown: BaseException | None = None
        current = context.current
        while True:
            token = current.set(span) if span is not None else None
            try:
                if thrown is not None:
                    exc, thrown = thrown, None
                    value = await gen.athrow(exc)
                else:
                    value = await gen.asend(sent)
            except StopAsyncIteration:
                if token is not None and span is not None:
                    current.reset(token)
                    traced.finish_stream(span, items)
                return
            except BaseException as exc:
                if token is not None and span is not None:
                    current.reset(token)
                    traced.fail(span, exc)
                raise
            if token is not None and span is not None:
                current.reset(token)
                traced.chunk(span, len(items), value)
                items.append(value)
            try:
                sent = yield value
            except GeneratorExit:
                await gen.aclose()
                if span is not None:
                    traced.finish_stream(span, items)
                raise
            except BaseException as exc:
                thrown, sent = exc, None

    return wrapper


def _decorate(fn: Any, options: TraceOptions) -> Any:
    descriptor = type(fn) if isinstance(fn, (classmethod, staticmethod)) else None
    original = fn.__func__ if descriptor is not None else fn
    is_stream = inspect.isgeneratorfunction(original) or inspect.isasyncgenfunction(original)
    if options.output_reducer is not None and not is_stream:
        raise InvalidParameter(
            "The output_reducer argument is only supported for generator functions."
        )
    traced = _Traced(original, options)
    if inspect.isasyncgenfunction(original):
        wrapper = _wrap_async_generator(original, traced)
    elif inspect.isgeneratorfunction(original):
        wrapper = _wrap_generator(original, traced)
    elif inspect.iscoroutinefunction(original):
        wrapper = _wrap_coroutine(original, traced)
    else:
        wrapper = _wrap_function(original, traced)
    wrapped = functools.wraps(original)(wrapper)
    wrapped.__wayline_traced__ = True  # type: ignore[attr-defined]
    return descriptor(wrapped) if descriptor is not None else wrapped


@overload
def trace(func: F) -> F: ...


@overload
def trace(
    func: None = None,
    *,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
    trace_destination: Any = None,
    sampling_ratio_override: float | None = None,
    log_level: int | str | None = None,
    description: str | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: Any = None,
    *,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
    output_reducer: Callable[[list[Any]], Any] | None = None,
    trace_destination: Any = None,
    sampling_ratio_override: float | None = None,
    log_level: int | str | None = None,
    description: str | None = None,
) -> Any:
    """Record each call of the decorated function as a span (a child of the current span, or
    the root of a new trace). Works on functions, ``async def`` functions, generators and async
    generators, methods, classmethods and staticmethods.

    Example::

        import wayline as mlflow

        @mlflow.trace(span_type="LLM")
        def ask(question: str, temperature: float = 0.0) -> str:
            return "42"

        @mlflow.trace(output_reducer="".join)
        def stream(prompt: str):
            yield from ("4", "2")

        ask("meaning of life?")      # inputs {"question": ..., "temperature": 0.0}
        list(stream("go"))           # outputs "42"

    A call that starts a new trace records it in ``trace_destination``'s experiment (an id, or
    MLflow's experiment location object) if given, and is traced with probability
    ``sampling_ratio_override`` if given (the calls it makes go with it).
    """
    if sampling_ratio_override is not None and not 0.0 <= sampling_ratio_override <= 1.0:
        raise InvalidParameter(
            f"sampling_ratio_override must be between 0 and 1, got {sampling_ratio_override}."
        )
    options = TraceOptions(
        name,
        span_type,
        attributes,
        output_reducer,
        _destination_experiment(trace_destination),
        sampling_ratio_override,
        _log_level(log_level),
        description,
    )
    if func is not None:
        return _decorate(func, options)

    def decorator(fn: Any) -> Any:
        return _decorate(fn, options)

    return decorator


__all__ = ["trace"]
