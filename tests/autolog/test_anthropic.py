"""wayline.anthropic.autolog against the real Anthropic SDK and a wire-format server on
loopback."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import anthropic
import pytest
from anthropic.resources.messages import AsyncMessages, Messages

import wayline
import wayline.anthropic
from autolog.conftest import chunk_events, exception_event, last_trace, only_span
from wayline.entities.trace import SpanStatusCode, TraceState
from wayline.errors import WaylineError

MESSAGES: Any = [{"role": "user", "content": "hello world"}]
# input: "Be brief." + "hello world" = 4 words; reply "You said: hello world" = 4 words
USAGE = {"input_tokens": 4, "output_tokens": 4, "total_tokens": 8}
REQUEST: Any = {
    "model": "claude-test-1",
    "max_tokens": 64,
    "system": "Be brief.",
    "messages": MESSAGES,
}
TOOLS: Any = [
    {
        "name": "get_weather",
        "description": "Weather in a city",
        "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
    }
]
MLFLOW_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": TOOLS[0]["input_schema"],
        },
    }
]


AsyncBody = Callable[[anthropic.AsyncAnthropic], Awaitable[Any]]


@pytest.fixture
def client(
    anthropic_url: str, traced_provider: Callable[[str], None]
) -> Iterator[anthropic.Anthropic]:
    traced_provider("anthropic")
    with anthropic.Anthropic(base_url=anthropic_url, api_key="test-key", max_retries=0) as client:
        yield client


@pytest.fixture
def run_async(
    anthropic_url: str, traced_provider: Callable[[str], None]
) -> Callable[[AsyncBody], Any]:
    """Run ``body(client)`` with an async client made (and closed) in its own event loop."""
    traced_provider("anthropic")

    def run(body: AsyncBody) -> Any:
        async def main() -> Any:
            async with anthropic.AsyncAnthropic(
                base_url=anthropic_url, api_key="test-key", max_retries=0
            ) as client:
                return await body(client)

        return asyncio.run(main())

    return run


def _essentials(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Content blocks without the fields the SDK fills with None."""
    return [{k: v for k, v in block.items() if v is not None} for block in content]


def test_message_becomes_a_chat_model_span(client: anthropic.Anthropic) -> None:
    message = client.messages.create(**REQUEST)

    assert isinstance(message, anthropic.types.Message)
    trace = last_trace()
    span = only_span(trace)
    assert span.name == "Messages.create"
    assert span.span_type == "CHAT_MODEL"
    assert span.parent_id is None
    assert span.status_code == SpanStatusCode.OK
    assert span.inputs == REQUEST
    assert span.outputs == message.model_dump(mode="json")
    assert span.outputs["content"] == [
        {"type": "text", "text": "You said: hello world", "citations": None}
    ]
    attributes = span.attributes
    assert attributes["mlflow.llm.model"] == "claude-test-1"
    assert attributes["mlflow.llm.provider"] == "anthropic"
    assert attributes["mlflow.message.format"] == "anthropic"
    assert attributes["mlflow.chat.tokenUsage"] == USAGE
    assert "mlflow.chat.tools" not in attributes
    assert trace.info.token_usage == USAGE


def test_tools_are_recorded_in_mlflow_form(client: anthropic.Anthropic) -> None:
    message = client.messages.create(**REQUEST, tools=TOOLS)

    assert message.stop_reason == "tool_use"
    span = only_span(last_trace())
    assert span.attributes["mlflow.chat.tools"] == MLFLOW_TOOLS
    assert span.inputs["tools"] == TOOLS
    assert span.outputs["content"][1]["input"] == {"location": "Paris"}


def test_streamed_create_records_events_and_the_assembled_message(
    client: anthropic.Anthropic,
) -> None:
    unstreamed = client.messages.create(**REQUEST)
    stream = client.messages.create(**REQUEST, stream=True)

    assert isinstance(stream, anthropic.Stream)
    events = list(stream)
    assert [e.type for e in events][:2] == ["message_start", "content_block_start"]

    span = only_span(last_trace())
    recorded = [json.loads(value) for value in chunk_events(span)]
    assert recorded == [e.model_dump(mode="json") for e in events]
    # the events add up to the message the same request gets unstreamed
    assert span.outputs == unstreamed.model_dump(mode="json")
    assert span.attributes["mlflow.chat.tokenUsage"] == USAGE
    assert span.status_code == SpanStatusCode.OK


def test_stream_helper_is_traced_from_open_to_final_message(client: anthropic.Anthropic) -> None:
    with client.messages.stream(**REQUEST, tools=TOOLS) as stream:
        final = stream.get_final_message()

    assert final.content[1].type == "tool_use"
    span = only_span(last_trace())
    assert span.name == "Messages.stream"
    assert span.span_type == "CHAT_MODEL"
    assert span.inputs == {**REQUEST, "tools": TOOLS}
    assert span.attributes["mlflow.chat.tools"] == MLFLOW_TOOLS
    assert span.outputs["stop_reason"] == "tool_use"
    assert _essentials(span.outputs["content"]) == [
        {"type": "text", "text": "Let me check."},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "get_weather",
            "input": {"location": "Paris"},
        },
    ]
    assert span.attributes["mlflow.chat.tokenUsage"]["output_tokens"] == 3
    assert len(chunk_events(span)) > 0


def test_stream_helper_text_stream_closed_early(client: anthropic.Anthropic) -> None:
    with client.messages.stream(**REQUEST) as stream:
        first = next(iter(stream.text_stream))

    assert first == "You"
    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.OK
    assert _essentials(span.outputs["content"]) == [{"type": "text", "text": "You"}]


def test_a_stream_failing_midway_marks_the_span_error(client: anthropic.Anthropic) -> None:
    request = {**REQUEST, "model": "stream-error"}
    with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        for _ in client.messages.create(**request, stream=True):
            pass

    trace = last_trace()
    span = only_span(trace)
    assert span.status_code == SpanStatusCode.ERROR
    assert exception_event(span)["exception.type"] == "APIStatusError"
    assert _essentials(span.outputs["content"]) == [{"type": "text", "text": "You"}]
    assert trace.info.state == TraceState.ERROR


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, anthropic.BadRequestError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.OverloadedError),
    ],
)
def test_an_api_error_is_reraised_unchanged_and_marks_the_span(
    client: anthropic.Anthropic, status: int, error_type: type[anthropic.APIStatusError]
) -> None:
    with pytest.raises(error_type) as caught:
        client.messages.create(**{**REQUEST, "model": f"error-{status}"})

    assert type(caught.value) is error_type
    assert caught.value.status_code == status
    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.ERROR
    assert span.status_message.startswith(f"{error_type.__name__}: ")
    event = exception_event(span)
    assert event["exception.type"] == error_type.__name__
    assert event["exception.message"] == str(caught.value)


def test_async_create_and_stream_are_traced(run_async: Callable[[AsyncBody], Any]) -> None:
    async def body(client: anthropic.AsyncAnthropic) -> tuple[Any, Any]:
        message = await client.messages.create(**REQUEST)
        async with client.messages.stream(**REQUEST) as stream:
            final = await stream.get_final_message()
        return message, final

    message, final = run_async(body)

    assert message.content[0].text == final.content[0].text == "You said: hello world"
    span = only_span(last_trace())
    assert span.name == "AsyncMessages.stream"
    assert _essentials(span.outputs["content"]) == [
        {"type": "text", "text": "You said: hello world"}
    ]
    assert span.attributes["mlflow.chat.tokenUsage"] == USAGE


def test_async_streamed_create_is_traced(run_async: Callable[[AsyncBody], Any]) -> None:
    async def body(client: anthropic.AsyncAnthropic) -> list[Any]:
        stream = await client.messages.create(**REQUEST, stream=True)
        return [event async for event in stream]

    events = run_async(body)

    span = only_span(last_trace())
    assert span.name == "AsyncMessages.create"
    assert len(chunk_events(span)) == len(events)
    assert _essentials(span.outputs["content"]) == [
        {"type": "text", "text": "You said: hello world"}
    ]


def test_async_error_marks_the_span(run_async: Callable[[AsyncBody], Any]) -> None:
    async def body(client: anthropic.AsyncAnthropic) -> None:
        await client.messages.create(**{**REQUEST, "model": "error-500"})

    with pytest.raises(anthropic.InternalServerError):
        run_async(body)
    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.ERROR


def test_calls_inside_a_user_span_are_its_children(client: anthropic.Anthropic) -> None:
    with wayline.start_span("agent", span_type="AGENT") as agent:
        client.messages.create(**REQUEST)
        with client.messages.stream(**REQUEST) as stream:
            stream.until_done()

    trace = last_trace()
    assert trace.root_span is not None and trace.root_span.span_id == agent.span_id
    children = sorted(
        (span for span in trace.spans if span.parent_id == agent.span_id),
        key=lambda span: span.start_time_ns,
    )
    assert [span.name for span in children] == ["Messages.create", "Messages.stream"]
    assert trace.info.token_usage == {"input_tokens": 8, "output_tokens": 8, "total_tokens": 16}


def test_disable_restores_the_sdk(anthropic_url: str, fluent_db: str) -> None:
    originals = (Messages.create, Messages.stream, AsyncMessages.create, AsyncMessages.stream)
    wayline.anthropic.autolog()
    assert Messages.create is not originals[0]
    assert Messages.stream.__dict__["__wrapped__"] is originals[1]

    wayline.anthropic.autolog(disable=True)

    assert (Messages.create, Messages.stream, AsyncMessages.create, AsyncMessages.stream) == (
        originals
    )
    before = wayline.get_last_active_trace_id()
    with anthropic.Anthropic(base_url=anthropic_url, api_key="k", max_retries=0) as client:
        client.messages.create(**REQUEST)
    assert wayline.get_last_active_trace_id() == before


def test_missing_sdk_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)
    with pytest.raises(WaylineError, match="pip install anthropic"):
        wayline.anthropic.autolog()
