"""The Anthropic SDK methods autologging patches, and what their spans record.

``messages.create`` and ``messages.parse`` are wrapped like any traced call. ``messages.stream``
makes no request itself: it returns a stream manager whose ``with`` block sends it. The manager
is returned as it is, with its request swapped for one that runs inside a span, so the span
covers the request and the events, and is the child of the span current when the block opens.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from wayline.anthropic._streams import MessageAccumulator
from wayline.autolog.attributes import chat_tool, token_usage
from wayline.autolog.calls import (
    Endpoint,
    Provider,
    materialized,
    run_traced,
    run_traced_async,
    should_trace,
    traced,
    unset_types,
)
from wayline.autolog.integration import Integration, Original, Settings, require_sdk
from wayline.entities.trace import SpanAttributeKey, SpanType
from wayline.errors import WaylineError

INTEGRATION = Integration("anthropic")


def _tool(tool: Any) -> dict[str, Any]:
    """An Anthropic tool (``name``, ``description``, ``input_schema``; or a server tool such as
    web search, known by its name) as an ``mlflow.chat.tools`` entry."""
    if not isinstance(tool, dict):
        return chat_tool(str(tool))
    return chat_tool(
        tool.get("name") or tool.get("type"), tool.get("description"), tool.get("input_schema")
    )


def _request_attributes(inputs: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {SpanAttributeKey.MESSAGE_FORMAT: "anthropic"}
    if isinstance(inputs.get("model"), str):
        result[SpanAttributeKey.MODEL] = inputs["model"]
    if isinstance(tools := inputs.get("tools"), list) and tools:
        result[SpanAttributeKey.CHAT_TOOLS] = [_tool(tool) for tool in tools]
    return result


def _result_attributes(output: Any) -> dict[str, Any]:
    usage = output.get("usage") if isinstance(output, dict) else None
    if not isinstance(usage, dict):
        return {}
    # As MLflow counts them: input_tokens excludes cached prompt tokens, which ride along.
    return token_usage(
        usage.get("input_tokens"),
        usage.get("output_tokens"),
        cache_creation_input_tokens=usage.get("cache_creation_input_tokens"),
        cache_read_input_tokens=usage.get("cache_read_input_tokens"),
    )


def _endpoint(method: str) -> Endpoint:
    return Endpoint(
        "{cls}." + method,
        SpanType.CHAT_MODEL,
        _request_attributes,
        _result_attributes,
        MessageAccumulator,
    )


# The stream managers keep their request in a private attribute; a manager without it (another
# SDK version) is returned untraced.
_SYNC_REQUEST = "_MessageStreamManager__api_request"
_ASYNC_REQUEST = "_AsyncMessageStreamManager__api_request"


class _Deferred:
    """An awaitable that makes its coroutine only when awaited: a stream manager that is never
    entered then leaves no coroutine of ours un-awaited (only the SDK's own, as without us)."""

    def __init__(self, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        self._make = make

    def __await__(self) -> Generator[Any, None, Any]:
        return self._make().__await__()


def _stream_wrapper(provider: Provider, *, is_async: bool) -> Callable[[Original], Original]:
    endpoint = _endpoint("stream")

    def make(original: Original) -> Original:
        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not should_trace(provider):
                return original(self, *args, **kwargs)
            args, kwargs = materialized(args, kwargs)
            manager = original(self, *args, **kwargs)
            attribute = _ASYNC_REQUEST if is_async else _SYNC_REQUEST
            request = manager.__dict__.get(attribute)
            if request is None:
                provider.integration.warn(
                    "cannot trace this SDK version's messages.stream", exc_info=False
                )
                return manager

            def traced_request() -> Any:
                if not should_trace(provider):
                    return request()
                return run_traced(provider, endpoint, self, original, args, kwargs, request)

            async def traced_async_request() -> Any:
                if not should_trace(provider):
                    return await request
                return await run_traced_async(
                    provider, endpoint, self, original, args, kwargs, request
                )

            hooked = _Deferred(traced_async_request) if is_async else traced_request
            setattr(manager, attribute, hooked)
            return manager

        return wrapper

    return make


def configure(*, disable: bool, log_traces: bool, silent: bool) -> None:
    INTEGRATION.settings = Settings(log_traces=log_traces, silent=silent)
    if disable:
        INTEGRATION.uninstall()
        return
    sdk = require_sdk("anthropic", "anthropic", "Anthropic autologging")
    try:
        from anthropic.resources.messages import AsyncMessages, Messages
    except ImportError as e:
        raise WaylineError("Anthropic autologging needs a newer anthropic SDK.") from e
    provider = Provider(
        INTEGRATION,
        stream_types=(sdk.Stream, sdk.AsyncStream),
        unset_types=unset_types(sdk),
    )
    for method in ("create", "parse"):
        endpoint = _endpoint(method)
        if hasattr(Messages, method):
            INTEGRATION.patch(Messages, method, traced(provider, endpoint, is_async=False))
        if hasattr(AsyncMessages, method):
            INTEGRATION.patch(AsyncMessages, method, traced(provider, endpoint, is_async=True))
    if hasattr(Messages, "stream"):
        INTEGRATION.patch(Messages, "stream", _stream_wrapper(provider, is_async=False))
    if hasattr(AsyncMessages, "stream"):
        INTEGRATION.patch(AsyncMessages, "stream", _stream_wrapper(provider, is_async=True))
