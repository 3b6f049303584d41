"""MLflow's span keys for spans recorded under other conventions (OTLP ingest).

Apps instrumented with plain OpenTelemetry describe LLM calls with the GenAI semantic
conventions (``gen_ai.*``; OpenLLMetry adds ``traceloop.*``, ``llm.*`` and indexed
``gen_ai.prompt.0.content`` keys) or with OpenInference (``openinference.span.kind``,
``input.value``, ``llm.*``, ``retrieval.documents.*``). MLflow's UI and search read
``mlflow.spanType``, ``mlflow.spanInputs``/``mlflow.spanOutputs``, ``mlflow.chat.tokenUsage``,
``mlflow.llm.model``, ``mlflow.llm.provider`` and ``mlflow.chat.tools``, so
``apply_semantic_conventions`` derives those from the others, as MLflow's server does when it
stores such spans. The original attributes are kept. A key the span already has is never
replaced, except a span type of UNKNOWN (the default), so spans from MLflow's or Wayline's own
SDK come through as they were sent.

Messages gathered from indexed keys take OpenAI's chat shape, which MLflow's UI renders as a
conversation: inputs ``{"messages": [...]}``, outputs ``{"choices": [{"index", "message",
"finish_reason"}]}``; retrieved documents take MLflow's ``{"page_content", "metadata", "id"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from wayline.entities.trace import Span, SpanAttributeKey, SpanEvent, SpanType

# Only spans carrying one of these prefixes (or GenAI events) are looked at further.
_CONVENTION_PREFIXES = (
    "gen_ai.",
    "llm.",
    "openinference.",
    "input.",
    "output.",
    "retrieval.",
    "reranker.",
    "embedding.",
    "traceloop.",
)
_GEN_AI_EVENT_PREFIX = "gen_ai."

# (attribute, its values mapped to span types, whether values are upper-case)
_SPAN_KINDS: tuple[tuple[str, Mapping[str, str], bool], ...] = (
    (
        "openinference.span.kind",
        {
            "LLM": SpanType.LLM,
            "CHAIN": SpanType.CHAIN,
            "TOOL": SpanType.TOOL,
            "RETRIEVER": SpanType.RETRIEVER,
            "EMBEDDING": SpanType.EMBEDDING,
            "AGENT": SpanType.AGENT,
            "RERANKER": SpanType.RERANKER,
            "GUARDRAIL": SpanType.GUARDRAIL,
            "EVALUATOR": SpanType.EVALUATOR,
        },
        True,
    ),
    (
        "gen_ai.operation.name",
        {
            "chat": SpanType.CHAT_MODEL,
            "text_completion": SpanType.LLM,
            "generate_content": SpanType.LLM,
            "response": SpanType.LLM,
            "embeddings": SpanType.EMBEDDING,
            "execute_tool": SpanType.TOOL,
            "create_agent": SpanType.AGENT,
            "invoke_agent": SpanType.AGENT,
            "retrieval": SpanType.RETRIEVER,
        },
        False,
    ),
    (
        "traceloop.span.kind",
        {
            "workflow": SpanType.WORKFLOW,
            "task": SpanType.TASK,
            "agent": SpanType.AGENT,
            "tool": SpanType.TOOL,
        },
        False,
    ),
    (
        # OpenLLMetry's older name for the kind of LLM request.
        "llm.request.type",
        {
            "chat": SpanType.CHAT_MODEL,
            "completion": SpanType.LLM,
            "embedding": SpanType.EMBEDDING,
            "rerank": SpanType.RERANKER,
        },
        False,
    ),
)


# Where each count of mlflow.chat.tokenUsage is found: OpenInference, the GenAI conventions
# (which define no total), then the older GenAI names OpenLLMetry still sends.
_TOKEN_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "input_tokens",
        ("llm.token_count.prompt", "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"),
    ),
    (
        "output_tokens",
        (
            "llm.token_count.completion",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
        ),
    ),
    (
        "total_tokens",
        ("llm.token_count.total", "gen_ai.usage.total_tokens", "llm.usage.total_tokens"),
    ),
    (
        "cache_read_input_tokens",
        (
            "llm.token_count.prompt_details.cache_read",
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_read_input_tokens",
        ),
    ),
    (
        "cache_creation_input_tokens",
        (
            "llm.token_count.prompt_details.cache_write",
            "gen_ai.usage.cache_write.input_tokens",
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
        ),
    ),
)

_MODEL_KEYS = (
    "gen_ai.response.model",
    "gen_ai.request.model",
    "llm.response.model_name",
    "llm.model_name",
    "llm.request.model_name",
    "embedding.model_name",
)
_PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
_MODEL_CALL_TYPES = frozenset({SpanType.LLM, SpanType.CHAT_MODEL, SpanType.EMBEDDING})
_INPUT_KEYS = (
    "input.value",
    "gen_ai.input.messages",
    "gen_ai.tool.call.arguments",
    "traceloop.entity.input",
)
_OUTPUT_KEYS = (
    "output.value",
    "gen_ai.output.messages",
    "gen_ai.tool.call.result",
    "traceloop.entity.output",
)
# GenAI message events (the conventions' event form of prompts and completions).
_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_CHOICE_EVENT = "gen_ai.choice"


def apply_semantic_conventions(span: Span) -> Span:
    """Add MLflow's keys derived from GenAI or OpenInference attributes to ``span`` (in place;
    returned for convenience). Spans without such attributes are left untouched."""
    attributes = span.attributes
    if not _uses_conventions(attributes, span.events):
        return span
    span_type = attributes.get(SpanAttributeKey.SPAN_TYPE)
    if span_type in (None, "", SpanType.UNKNOWN) and (derived := _span_type(attributes)):
        attributes[SpanAttributeKey.SPAN_TYPE] = span_type = derived
    _set_missing(attributes, SpanAttributeKey.INPUTS, lambda: _inputs(attributes, span.events))
    _set_missing(attributes, SpanAttributeKey.OUTPUTS, lambda: _outputs(attributes, span.events))
    _set_missing(attributes, SpanAttributeKey.TOKEN_USAGE, lambda: _token_usage(attributes))
    _set_missing(attributes, SpanAttributeKey.MODEL, lambda: _model(attributes, span_type))
    _set_missing(attributes, SpanAttributeKey.PROVIDER, lambda: _first(attributes, _PROVIDER_KEYS))
    _set_missing(attributes, SpanAttributeKey.CHAT_TOOLS, lambda: _tools(attributes))
    return span


def _uses_conventions(attributes: Mapping[str, Any], events: Sequence[SpanEvent]) -> bool:
    return any(key.startswith(_CONVENTION_PREFIXES) for key in attributes) or any(
        event.name.startswith(_GEN_AI_EVENT_PREFIX) for event in events
    )


def _set_missing(attributes: dict[str, Any], key: str, derive: Any) -> None:
    if key not in attributes and not _empty(value := derive()):
        attributes[key] = value


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, dict | list) and not value)


def _first(attributes: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        value = attributes.get(key)
        if not _empty(value):
            return value
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _structured(value: Any) -> Any:
    """JSON text of an object or array as that object or array (values some exporters send as
    text); anything else as it is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------- span type and model
def _span_type(attributes: Mapping[str, Any]) -> str | None:
    for key, mapping, upper in _SPAN_KINDS:
        value = attributes.get(key)
        if isinstance(value, str):
            mapped = mapping.get(value.upper() if upper else value.lower())
            if mapped:
                return mapped
    return None


def _model(attributes: Mapping[str, Any], span_type: Any) -> Any:
    model = _first(attributes, _MODEL_KEYS)
    if model is None and span_type in _MODEL_CALL_TYPES:
        # As MLflow does: an LLM call's request usually names its model.
        for key in (SpanAttributeKey.INPUTS, SpanAttributeKey.OUTPUTS):
            payload = _structured(attributes.get(key))
            if isinstance(payload, dict) and isinstance(payload.get("model"), str):
                return payload["model"]
    return model


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _token_usage(attributes: Mapping[str, Any]) -> dict[str, int] | None:
    usage: dict[str, int] = {}
    for name, keys in _TOKEN_KEYS:
        for key in keys:
            count = _as_int(attributes.get(key))
            if count is not None:
                usage[name] = count
                break
    if not usage.keys() & {"input_tokens", "output_tokens", "total_tokens"}:
        return None
    if "total_tokens" not in usage and usage.keys() >= {"input_tokens", "output_tokens"}:
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    return usage


# ---------------------------------------------------------------- inputs and outputs
def _inputs(attributes: Mapping[str, Any], events: Sequence[SpanEvent]) -> Any:
    value = _first(attributes, _INPUT_KEYS)
    if value is not None:
        return value
    messages = [_openllmetry_message(m, "user") for m in indexed(attributes, "gen_ai.prompt")]
    if not messages:
        messages = [
            _openinference_message(m, "user") for m in indexed(attributes, "llm.input_messages")
        ]
    if not messages:
        messages = [
            {"role": _MESSAGE_EVENTS[event.name], "content": event.attributes.get("content")}
            for event in events
            if event.name in _MESSAGE_EVENTS and "content" in event.attributes
        ]
    if messages:
        return {"messages": messages}
    return _first(attributes, ("gen_ai.prompt",))


def _outputs(attributes: Mapping[str, Any], events: Sequence[SpanEvent]) -> Any:
    value = _first(attributes, _OUTPUT_KEYS)
    if value is not None:
        return value
    choices = [
        _openllmetry_message(m, "assistant") for m in indexed(attributes, "gen_ai.completion")
    ]
    if not choices:
        choices = [
            _openinference_message(m, "assistant")
            for m in indexed(attributes, "llm.output_messages")
        ]
    if not choices:
        choices = [
            {
                "role": event.attributes.get("role", "assistant"),
                "content": event.attributes.get("content"),
                "finish_reason": event.attributes.get("finish_reason"),
            }
            for event in events
            if event.name == _CHOICE_EVENT and "content" in event.attributes
        ]
    if choices:
        return {"choices": [_choice(index, message) for index, message in enumerate(choices)]}
    for key in ("retrieval.documents", "reranker.output_documents"):
        documents = [_document(item) for item in indexed(attributes, key)]
        if documents:
            return documents
    return _first(attributes, ("gen_ai.completion",))


def _choice(index: int, message: dict[str, Any]) -> dict[str, Any]:
    finish_reason = message.pop("finish_reason", None)
    return {"index": index, "message": message, "finish_reason": finish_reason}


def _openllmetry_message(item: dict[str, Any], role: str) -> dict[str, Any]:
    """``gen_ai.prompt.0.{role,content,tool_calls.0.{id,name,arguments}}`` as a chat message."""
    message = {key: value for key, value in item.items() if key != "tool_calls"}
    message.setdefault("role", role)
    calls = item.get("tool_calls")
    if isinstance(calls, list) and calls:
        message["tool_calls"] = [
            _tool_call(call.get("id"), call.get("name"), call.get("arguments"))
            for call in calls
            if isinstance(call, dict)
        ]
    return message


def _openinference_message(item: dict[str, Any], role: str) -> dict[str, Any]:
    """``llm.input_messages.0.message.{role,content,contents,tool_calls}`` as a chat message."""
    raw = _dict(item.get("message"))
    message: dict[str, Any] = {"role": raw.get("role", role)}
    contents = raw.get("contents")
    if "content" in raw:
        message["content"] = raw["content"]
    elif isinstance(contents, list):
        message["content"] = [
            part.get("message_content", part) for part in contents if isinstance(part, dict)
        ]
    calls = raw.get("tool_calls")
    if isinstance(calls, list) and calls:
        message["tool_calls"] = []
        for entry in calls:
            call = _dict(entry.get("tool_call", entry) if isinstance(entry, dict) else None)
            function = _dict(call.get("function"))
            message["tool_calls"].append(
                _tool_call(call.get("id"), function.get("name"), function.get("arguments"))
            )
    if "tool_call_id" in raw:
        message["tool_call_id"] = raw["tool_call_id"]
    return message


def _tool_call(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"type": "function", "function": {"name": name}}
    if call_id is not None:
        call["id"] = call_id
    if arguments is not None:
        # OpenAI's chat format carries the arguments as JSON text.
        call["function"]["arguments"] = (
            arguments if isinstance(arguments, str) else json.dumps(arguments)
        )
    return call


def _document(item: dict[str, Any]) -> dict[str, Any]:
    raw = _dict(item.get("document"))
    metadata = _structured(raw.get("metadata"))
    metadata = dict(metadata) if isinstance(metadata, dict) else {}
    if raw.get("score") is not None:
        metadata.setdefault("score", raw["score"])
    return {"page_content": raw.get("content", ""), "metadata": metadata, "id": raw.get("id")}


def _tools(attributes: Mapping[str, Any]) -> Any:
    definitions = _structured(attributes.get("gen_ai.tool.definitions"))
    if not _empty(definitions):
        return definitions
    tools: list[Any] = []
    for item in indexed(attributes, "llm.tools"):  # OpenInference: JSON schemas
        tool = item.get("tool")
        schema = _structured(tool.get("json_schema")) if isinstance(tool, dict) else None
        if schema is not None:
            tools.append(schema)
    if tools:
        return tools
    return [  # OpenLLMetry
        {"type": "function", "function": {**item, "parameters": _structured(item["parameters"])}}
        if "parameters" in item
        else {"type": "function", "function": item}
        for item in indexed(attributes, "llm.request.functions")
    ]


# ---------------------------------------------------------------- indexed keys
def indexed(attributes: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Attributes named ``<prefix>.<n>.<path>`` gathered into a list ordered by ``n``, each item
    a nested dict of its dotted paths (numbered segments become lists): ``gen_ai.prompt.0.role``
    and ``gen_ai.prompt.0.tool_calls.1.name`` give ``[{"role": ..., "tool_calls": [{...},
    {"name": ...}]}]``."""
    head = prefix + "."
    items: dict[int, _Node] = {}
    for key, value in attributes.items():
        if not key.startswith(head):
            continue
        index, _, path = key[len(head) :].partition(".")
        if index.isdigit() and path:
            _put(items.setdefault(int(index), _Node()), path.split("."), value)
    built = (_build(items[index]) for index in sorted(items))
    return [item for item in built if isinstance(item, dict)]


class _Node(dict[str, Any]):
    """A level of dotted key paths (as opposed to an attribute value that is itself a dict)."""


def _put(tree: _Node, path: list[str], value: Any) -> None:
    for segment in path[:-1]:
        child = tree.get(segment)
        if not isinstance(child, _Node):
            child = tree[segment] = _Node()
        tree = child
    tree.setdefault(path[-1], value)


def _build(tree: _Node) -> Any:
    items = {
        key: _build(value) if isinstance(value, _Node) else value for key, value in tree.items()
    }
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


__all__ = ["apply_semantic_conventions", "indexed"]
