"""The OpenAI SDK methods autologging patches, and what their spans record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wayline.autolog.attributes import chat_tool, token_usage
from wayline.autolog.calls import Endpoint, Provider, traced, unset_types
from wayline.autolog.integration import Integration, Settings, require_sdk
from wayline.entities.trace import SpanAttributeKey, SpanType
from wayline.errors import WaylineError
from wayline.openai._streams import ChatAccumulator, CompletionAccumulator, ResponsesAccumulator

INTEGRATION = Integration("openai")

# Inputs that steer the HTTP request rather than the model: kept in the inputs, not repeated as
# attributes. Messages and Responses input are left out of attributes as MLflow leaves them.
_NOT_ATTRIBUTES = frozenset(
    {"messages", "input", "extra_headers", "extra_query", "extra_body", "timeout"}
)


def _tool(tool: Any) -> dict[str, Any]:
    """A chat completions or Responses API tool as an ``mlflow.chat.tools`` entry."""
    if not isinstance(tool, dict):
        return chat_tool(str(tool))
    if isinstance(tool.get("function"), dict):  # chat completions: already MLflow's shape
        return {"type": tool.get("type", "function"), "function": tool["function"]}
    if tool.get("type", "function") == "function":  # Responses API function tool
        return chat_tool(tool.get("name"), tool.get("description"), tool.get("parameters"))
    # a built-in tool (web_search, file_search, ...): known by its name or type
    return chat_tool(tool.get("name") or tool.get("type"))


def _request_attributes(message_format: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def attributes(inputs: dict[str, Any]) -> dict[str, Any]:
        # MLflow records the call's parameters (model, temperature, ...) as attributes as well.
        result = {k: v for k, v in inputs.items() if k not in _NOT_ATTRIBUTES}
        if message_format:
            result[SpanAttributeKey.MESSAGE_FORMAT] = "openai"
        if isinstance(inputs.get("model"), str):
            result[SpanAttributeKey.MODEL] = inputs["model"]
        if isinstance(tools := inputs.get("tools"), list) and tools:
            result[SpanAttributeKey.CHAT_TOOLS] = [_tool(tool) for tool in tools]
        return result

    return attributes


def _cached_tokens(details: Any) -> Any:
    return details.get("cached_tokens") if isinstance(details, dict) else None


def _result_attributes(output: Any) -> dict[str, Any]:
    usage = output.get("usage") if isinstance(output, dict) else None
    if not isinstance(usage, dict):
        return {}
    # OpenAI counts cached prompt tokens inside the input tokens; their share rides along.
    if "input_tokens" in usage:  # Responses API
        return token_usage(
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            usage.get("total_tokens"),
            cache_read_input_tokens=_cached_tokens(usage.get("input_tokens_details")),
        )
    # chat and legacy completions; embeddings report prompt tokens only
    return token_usage(
        usage.get("prompt_tokens"),
        usage.get("completion_tokens"),
        usage.get("total_tokens"),
        cache_read_input_tokens=_cached_tokens(usage.get("prompt_tokens_details")),
    )


CHAT = Endpoint(
    "{cls}", SpanType.CHAT_MODEL, _request_attributes(True), _result_attributes, ChatAccumulator
)
COMPLETIONS = Endpoint(
    "{cls}", SpanType.LLM, _request_attributes(True), _result_attributes, CompletionAccumulator
)
EMBEDDINGS = Endpoint("{cls}", SpanType.EMBEDDING, _request_attributes(False), _result_attributes)
RESPONSES = Endpoint(
    "{cls}",
    SpanType.CHAT_MODEL,
    _request_attributes(True),
    _result_attributes,
    ResponsesAccumulator,
)


def _targets() -> list[tuple[type, type, tuple[str, ...], Endpoint]]:
    """(sync class, async class, methods, endpoint) for every patched resource."""
    try:
        from openai.resources.chat.completions import AsyncCompletions as AsyncChatCompletions
        from openai.resources.chat.completions import Completions as ChatCompletions
        from openai.resources.completions import AsyncCompletions, Completions
        from openai.resources.embeddings import AsyncEmbeddings, Embeddings
    except ImportError as e:
        raise WaylineError("OpenAI autologging needs openai>=1.0.") from e
    targets: list[tuple[type, type, tuple[str, ...], Endpoint]] = [
        (ChatCompletions, AsyncChatCompletions, ("create", "parse"), CHAT),
        (Completions, AsyncCompletions, ("create",), COMPLETIONS),
        (Embeddings, AsyncEmbeddings, ("create",), EMBEDDINGS),
    ]
    try:  # the Responses API came with openai 1.66
        from openai.resources.responses import AsyncResponses, Responses
    except ImportError:
        return targets
    targets.append((Responses, AsyncResponses, ("create", "parse"), RESPONSES))
    return targets


def configure(*, disable: bool, log_traces: bool, silent: bool) -> None:
    INTEGRATION.settings = Settings(log_traces=log_traces, silent=silent)
    if disable:
        INTEGRATION.uninstall()
        return
    sdk = require_sdk("openai", "openai", "OpenAI autologging")
    provider = Provider(
        INTEGRATION,
        stream_types=(sdk.Stream, sdk.AsyncStream),
        unset_types=unset_types(sdk),
    )
    for sync_class, async_class, methods, endpoint in _targets():
        for method in methods:
            if hasattr(sync_class, method):
                INTEGRATION.patch(sync_class, method, traced(provider, endpoint, is_async=False))
            if hasattr(async_class, method):
                INTEGRATION.patch(async_class, method, traced(provider, endpoint, is_async=True))
