"""GenAI and OpenInference attributes mapped to MLflow's keys: ``wayline.tracing.semconv``."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from wayline.entities.trace import Span, SpanAttributeKey, SpanEvent, SpanType
from wayline.tracing.semconv import apply_semantic_conventions, indexed

K = SpanAttributeKey


def mapped(attributes: dict[str, Any], events: list[SpanEvent] | None = None) -> dict[str, Any]:
    span = Span(
        trace_id="tr-" + "1" * 32,
        span_id="2" * 16,
        parent_id=None,
        name="call",
        start_time_ns=1,
        end_time_ns=2,
        attributes=dict(attributes),
        events=events or [],
    )
    return apply_semantic_conventions(span).attributes


def derived(attributes: dict[str, Any], events: list[SpanEvent] | None = None) -> dict[str, Any]:
    """Only the keys the mapping added (the originals are always kept)."""
    result = mapped(attributes, events)
    assert {key: result[key] for key in attributes} == attributes
    return {key: value for key, value in result.items() if key not in attributes}


# ---------------------------------------------------------------- GenAI semantic conventions
def test_genai_chat_span() -> None:
    input_messages = [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
    output_messages = [{"role": "assistant", "parts": [{"type": "text", "content": "Hello"}]}]

    assert derived(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 12,
            "gen_ai.usage.output_tokens": 30,
            "gen_ai.input.messages": input_messages,
            "gen_ai.output.messages": output_messages,
        }
    ) == {
        K.SPAN_TYPE: SpanType.CHAT_MODEL,
        K.INPUTS: input_messages,
        K.OUTPUTS: output_messages,
        K.TOKEN_USAGE: {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42},
        K.MODEL: "gpt-4o-2024-08-06",
        K.PROVIDER: "openai",
    }


@pytest.mark.parametrize(
    ("operation", "span_type"),
    [
        ("chat", SpanType.CHAT_MODEL),
        ("text_completion", SpanType.LLM),
        ("generate_content", SpanType.LLM),
        ("embeddings", SpanType.EMBEDDING),
        ("execute_tool", SpanType.TOOL),
        ("invoke_agent", SpanType.AGENT),
        ("create_agent", SpanType.AGENT),
        ("retrieval", SpanType.RETRIEVER),
    ],
)
def test_genai_operations_give_span_types(operation: str, span_type: str) -> None:
    assert mapped({"gen_ai.operation.name": operation})[K.SPAN_TYPE] == span_type


def test_genai_tool_execution() -> None:
    assert derived(
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.arguments": {"city": "Paris"},
            "gen_ai.tool.call.result": {"temperature": 21},
        }
    ) == {
        K.SPAN_TYPE: SpanType.TOOL,
        K.INPUTS: {"city": "Paris"},
        K.OUTPUTS: {"temperature": 21},
    }


def test_genai_tool_definitions_become_chat_tools() -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}]

    assert mapped({"gen_ai.tool.definitions": json.dumps(tools)})[K.CHAT_TOOLS] == tools


def test_genai_message_events() -> None:
    events = [
        SpanEvent("gen_ai.system.message", 1, {"content": "Be brief."}),
        SpanEvent("gen_ai.user.message", 2, {"content": "Hi"}),
        SpanEvent("gen_ai.choice", 3, {"content": "Hello", "finish_reason": "stop"}),
    ]

    result = mapped({"gen_ai.operation.name": "chat"}, events)

    assert result[K.INPUTS] == {
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    }
    assert result[K.OUTPUTS] == {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello"},
                "finish_reason": "stop",
            }
        ]
    }


def test_cache_token_counts_are_kept() -> None:
    usage = mapped(
        {
            "gen_ai.usage.input_tokens": "100",  # some exporters send counts as text
            "gen_ai.usage.output_tokens": 5.0,
            "gen_ai.usage.cache_read.input_tokens": 80,
            "gen_ai.usage.cache_creation.input_tokens": 20,
        }
    )[K.TOKEN_USAGE]

    assert usage == {
        "input_tokens": 100,
        "output_tokens": 5,
        "total_tokens": 105,
        "cache_read_input_tokens": 80,
        "cache_creation_input_tokens": 20,
    }


def test_model_falls_back_to_the_request_of_a_model_call() -> None:
    attributes = {"gen_ai.operation.name": "chat", "input.value": {"model": "m1", "x": 1}}

    assert mapped(attributes)[K.MODEL] == "m1"
    assert K.MODEL not in mapped({**attributes, "gen_ai.operation.name": "invoke_agent"})


# ---------------------------------------------------------------- OpenLLMetry
def test_openllmetry_chat_span_with_indexed_messages_and_tool_calls() -> None:
    assert derived(
        {
            "llm.request.type": "chat",
            "gen_ai.system": "OpenAI",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.prompt.0.role": "system",
            "gen_ai.prompt.0.content": "You are terse.",
            "gen_ai.prompt.1.role": "user",
            "gen_ai.prompt.1.content": "Weather in Paris?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.finish_reason": "tool_calls",
            "gen_ai.completion.0.tool_calls.0.id": "call_1",
            "gen_ai.completion.0.tool_calls.0.name": "get_weather",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Paris"}',
            "gen_ai.usage.prompt_tokens": 20,
            "gen_ai.usage.completion_tokens": 9,
            "llm.usage.total_tokens": 29,
            "llm.request.functions.0.name": "get_weather",
            "llm.request.functions.0.description": "Weather for a city",
            "llm.request.functions.0.parameters": '{"type": "object"}',
        }
    ) == {
        K.SPAN_TYPE: SpanType.CHAT_MODEL,
        K.INPUTS: {
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "Weather in Paris?"},
            ]
        },
        K.OUTPUTS: {
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "type": "function",
                                "id": "call_1",
                                "function": {
                                    "name": "get_weather",
                                    "arguments": '{"city": "Paris"}',
                                },
                            }
                        ],
                    },
                    "finish_reason": "tool_calls",
                }
            ]
        },
        K.TOKEN_USAGE: {"input_tokens": 20, "output_tokens": 9, "total_tokens": 29},
        K.MODEL: "gpt-4o-mini",
        K.PROVIDER: "OpenAI",
        K.CHAT_TOOLS: [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": {"type": "object"},
                },
            }
        ],
    }


def test_traceloop_workflow_span() -> None:
    assert derived(
        {
            "traceloop.span.kind": "workflow",
            "traceloop.entity.input": {"inputs": {"q": "x"}},
            "traceloop.entity.output": {"answer": 1},
        }
    ) == {
        K.SPAN_TYPE: SpanType.WORKFLOW,
        K.INPUTS: {"inputs": {"q": "x"}},
        K.OUTPUTS: {"answer": 1},
    }


def test_legacy_flat_prompt_and_completion() -> None:
    result = mapped({"gen_ai.prompt": "Say hi", "gen_ai.completion": "hi"})

    assert (result[K.INPUTS], result[K.OUTPUTS]) == ("Say hi", "hi")


# ---------------------------------------------------------------- OpenInference
def test_openinference_llm_span() -> None:
    assert derived(
        {
            "openinference.span.kind": "LLM",
            "input.value": {"messages": [{"role": "user", "content": "2+2?"}]},
            "input.mime_type": "application/json",
            "output.value": {"choices": [{"message": {"content": "4"}}]},
            "llm.model_name": "claude-sonnet",
            "llm.provider": "anthropic",
            "llm.token_count.prompt": 7,
            "llm.token_count.completion": 1,
            "llm.token_count.total": 8,
            "llm.tools.0.tool.json_schema": '{"type": "function", "function": {"name": "add"}}',
        }
    ) == {
        K.SPAN_TYPE: SpanType.LLM,
        K.INPUTS: {"messages": [{"role": "user", "content": "2+2?"}]},
        K.OUTPUTS: {"choices": [{"message": {"content": "4"}}]},
        K.TOKEN_USAGE: {"input_tokens": 7, "output_tokens": 1, "total_tokens": 8},
        K.MODEL: "claude-sonnet",
        K.PROVIDER: "anthropic",
        K.CHAT_TOOLS: [{"type": "function", "function": {"name": "add"}}],
    }


def test_openinference_messages_when_no_value_is_given() -> None:
    result = mapped(
        {
            "openinference.span.kind": "llm",
            "llm.input_messages.0.message.role": "user",
            "llm.input_messages.0.message.content": "Add 2 and 3",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "c1",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "add",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": {"a": 2},
        }
    )

    assert result[K.SPAN_TYPE] == SpanType.LLM
    assert result[K.INPUTS] == {"messages": [{"role": "user", "content": "Add 2 and 3"}]}
    assert result[K.OUTPUTS]["choices"][0]["message"] == {
        "role": "assistant",
        "tool_calls": [
            {"type": "function", "id": "c1", "function": {"name": "add", "arguments": '{"a": 2}'}}
        ],
    }


def test_openinference_retriever_documents() -> None:
    result = mapped(
        {
            "openinference.span.kind": "RETRIEVER",
            "input.value": "what is wayline?",
            "retrieval.documents.0.document.id": "d1",
            "retrieval.documents.0.document.content": "Wayline is ...",
            "retrieval.documents.0.document.score": 0.9,
            "retrieval.documents.0.document.metadata": '{"source": "readme"}',
            "retrieval.documents.1.document.content": "More.",
        }
    )

    assert result[K.SPAN_TYPE] == SpanType.RETRIEVER
    assert result[K.INPUTS] == "what is wayline?"
    assert result[K.OUTPUTS] == [
        {
            "page_content": "Wayline is ...",
            "metadata": {"source": "readme", "score": 0.9},
            "id": "d1",
        },
        {"page_content": "More.", "metadata": {}, "id": None},
    ]


@pytest.mark.parametrize(
    ("kind", "span_type"),
    [
        ("CHAIN", SpanType.CHAIN),
        ("TOOL", SpanType.TOOL),
        ("AGENT", SpanType.AGENT),
        ("EMBEDDING", SpanType.EMBEDDING),
        ("RERANKER", SpanType.RERANKER),
        ("GUARDRAIL", SpanType.GUARDRAIL),
        ("EVALUATOR", SpanType.EVALUATOR),
    ],
)
def test_openinference_kinds_give_span_types(kind: str, span_type: str) -> None:
    assert mapped({"openinference.span.kind": kind})[K.SPAN_TYPE] == span_type


# ---------------------------------------------------------------- what is left alone
def test_keys_the_span_has_are_never_replaced() -> None:
    attributes = {
        K.SPAN_TYPE: SpanType.LLM,
        K.INPUTS: {"mine": True},
        K.TOKEN_USAGE: {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
        "openinference.span.kind": "CHAIN",
        "input.value": "theirs",
        "output.value": "out",
        "llm.token_count.prompt": 50,
    }

    assert derived(attributes) == {K.OUTPUTS: "out"}


def test_an_unknown_span_type_is_replaced() -> None:
    attributes = {K.SPAN_TYPE: SpanType.UNKNOWN, "gen_ai.operation.name": "chat"}

    assert mapped(attributes)[K.SPAN_TYPE] == SpanType.CHAT_MODEL


def test_spans_without_conventions_are_untouched() -> None:
    attributes = {K.SPAN_TYPE: "CHAIN", K.INPUTS: {"x": 1}, "http.method": "GET", "model": "m"}

    assert mapped(attributes) == attributes


def test_unknown_kinds_and_empty_values_add_nothing() -> None:
    assert (
        derived(
            {
                "gen_ai.operation.name": "dance",
                "openinference.span.kind": 3,
                "input.value": "",
                "output.value": {},
                "gen_ai.usage.input_tokens": "many",
                "gen_ai.request.model": None,
            }
        )
        == {}
    )


JUNK: list[Any] = [None, 0, -1, 2.5, True, "", "x", "{", "[1]", [], {}, [None], {"a": None}]
KEYS = [
    "openinference.span.kind",
    "gen_ai.operation.name",
    "llm.request.type",
    "gen_ai.prompt.0.content",
    "gen_ai.prompt.0.tool_calls.0",
    "gen_ai.prompt.x.role",
    "gen_ai.completion.0.tool_calls",
    "llm.input_messages.0.message",
    "llm.output_messages.0.message.tool_calls.0.tool_call",
    "llm.output_messages.0.message.tool_calls.0",
    "llm.output_messages.0.message.contents.0.message_content.text",
    "retrieval.documents.0.document",
    "retrieval.documents.0.document.metadata",
    "llm.tools.0.tool",
    "llm.tools.0.tool.json_schema",
    "llm.request.functions.0",
    "llm.request.functions.0.parameters",
    "gen_ai.tool.definitions",
    "gen_ai.usage.input_tokens",
]


@pytest.mark.parametrize("key", KEYS)
def test_odd_values_never_raise(key: str) -> None:
    for value, other in itertools.product(JUNK, JUNK[:5]):
        mapped({key: value, "gen_ai.operation.name": other, "input.value": other})


# ---------------------------------------------------------------- indexed keys
def test_indexed_keys_nest_and_order_by_number() -> None:
    attributes = {
        "p.10.role": "late",
        "p.2.role": "user",
        "p.2.tool_calls.1.name": "b",
        "p.2.tool_calls.0.name": "a",
        "p.2.meta": {"0": "a value that is a dict stays a dict"},
        "p.x.role": "ignored",
        "p.3": "ignored",
        "other.0.role": "ignored",
    }

    assert indexed(attributes, "p") == [
        {
            "role": "user",
            "tool_calls": [{"name": "a"}, {"name": "b"}],
            "meta": {"0": "a value that is a dict stays a dict"},
        },
        {"role": "late"},
    ]
