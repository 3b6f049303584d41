"""wayline.openai.autolog against the real OpenAI SDK and a wire-format server on loopback."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import openai
import pydantic
import pytest
from openai.resources.chat.completions import AsyncCompletions as AsyncChatCompletions
from openai.resources.chat.completions import Completions as ChatCompletions
from openai.resources.embeddings import Embeddings

import wayline
import wayline.openai
from autolog.conftest import chunk_events, exception_event, last_trace, only_span
from wayline.entities.trace import SpanStatusCode, TraceState
from wayline.errors import WaylineError

MESSAGES: Any = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "hello world"},
]
# prompt: "Be brief." + "hello world" = 4 words; reply "You said: hello world" = 4 words
USAGE = {"input_tokens": 4, "output_tokens": 4, "total_tokens": 8}
TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
    }
]


AsyncBody = Callable[[openai.AsyncOpenAI], Awaitable[Any]]


@pytest.fixture
def client(openai_url: str, traced_provider: Callable[[str], None]) -> Iterator[openai.OpenAI]:
    traced_provider("openai")
    with openai.OpenAI(base_url=openai_url, api_key="test-key", max_retries=0) as client:
        yield client


@pytest.fixture
def run_async(
    openai_url: str, traced_provider: Callable[[str], None]
) -> Callable[[AsyncBody], Any]:
    """Run ``body(client)`` with an async client made (and closed) in its own event loop."""
    traced_provider("openai")

    def run(body: AsyncBody) -> Any:
        async def main() -> Any:
            async with openai.AsyncOpenAI(
                base_url=openai_url, api_key="test-key", max_retries=0
            ) as client:
                return await body(client)

        return asyncio.run(main())

    return run


def test_chat_completion_becomes_a_chat_model_span(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, temperature=0.2
    )

    assert isinstance(response, openai.types.chat.ChatCompletion)
    trace = last_trace()
    span = only_span(trace)
    assert span.name == "Completions"
    assert span.span_type == "CHAT_MODEL"
    assert span.parent_id is None
    assert span.status_code == SpanStatusCode.OK
    assert span.inputs == {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.2}
    assert span.outputs["choices"][0]["message"]["content"] == "You said: hello world"
    assert span.outputs == response.model_dump(mode="json")
    attributes = span.attributes
    assert attributes["mlflow.llm.model"] == "gpt-4o-mini"
    assert attributes["mlflow.llm.provider"] == "openai"
    assert attributes["mlflow.message.format"] == "openai"
    assert attributes["mlflow.chat.tokenUsage"] == USAGE
    assert attributes["temperature"] == 0.2  # MLflow repeats call parameters as attributes
    assert "mlflow.chat.tools" not in attributes
    assert trace.info.state == TraceState.OK
    assert trace.info.token_usage == USAGE


def test_a_priced_model_gets_its_cost(client: openai.OpenAI) -> None:
    wayline.tracing.set_prices({"gpt-4o-mini": {"input": 1.0, "output": 2.0}})
    try:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        trace = last_trace()  # costs are worked out when the trace is exported
    finally:
        wayline.tracing.set_prices(None)

    cost = only_span(trace).attributes["mlflow.llm.cost"]
    # 4 input and 4 output tokens at $1 and $2 per million
    assert cost == pytest.approx({"input_cost": 4e-6, "output_cost": 8e-6, "total_cost": 12e-6})
    assert json.loads(trace.info.trace_metadata["mlflow.trace.cost"]) == pytest.approx(cost)


def test_tools_are_recorded_and_the_tool_call_is_in_the_outputs(client: openai.OpenAI) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS)

    span = only_span(last_trace())
    assert span.attributes["mlflow.chat.tools"] == TOOLS
    call = span.outputs["choices"][0]["message"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"location": "Paris"}'}


def test_streamed_chat_records_chunks_and_the_assembled_completion(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )

    assert isinstance(stream, openai.Stream)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: hello world"

    span = only_span(last_trace())
    assert span.span_type == "CHAT_MODEL"
    recorded = chunk_events(span)
    assert [json.loads(value) for value in recorded] == [c.model_dump(mode="json") for c in chunks]
    assert span.outputs["object"] == "chat.completion"
    assert span.outputs["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "You said: hello world"},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ]
    assert span.attributes["mlflow.chat.tokenUsage"] == USAGE
    assert span.status_code == SpanStatusCode.OK


def test_streamed_tool_call_is_assembled(client: openai.OpenAI) -> None:
    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=True
    ) as stream:
        for _ in stream:
            pass

    span = only_span(last_trace())
    message = span.outputs["choices"][0]["message"]
    assert message["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location": "Paris"}'},
        }
    ]
    assert span.outputs["choices"][0]["finish_reason"] == "tool_calls"
    assert "mlflow.chat.tokenUsage" not in span.attributes  # no usage chunk was asked for


def test_a_stream_closed_early_ends_its_span_with_what_arrived(client: openai.OpenAI) -> None:
    with client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as stream:
        for chunk in stream:
            if chunk.choices[0].delta.content:
                break

    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.OK
    assert span.outputs["choices"][0]["message"]["content"] == "You"
    assert len(chunk_events(span)) == 2


def test_a_stream_dropped_unread_still_ends_its_span(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    stream.response.close()  # what a well-behaved caller does; the SDK cannot know otherwise
    del stream
    gc.collect()

    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.OK
    assert span.outputs is None
    assert chunk_events(span) == []


def test_streaming_response_body_stays_the_callers(client: openai.OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    ) as response:
        body = json.loads(response.read())

    assert body["choices"][0]["message"]["content"] == "You said: hello world"
    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.OK
    assert span.outputs is None


def test_messages_from_a_generator_reach_the_sdk_and_the_span(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="gpt-4o-mini", messages=(message for message in MESSAGES)
    )

    assert response.choices[0].message.content == "You said: hello world"
    assert only_span(last_trace()).inputs["messages"] == MESSAGES


def test_a_stream_failing_midway_marks_the_span_error(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="stream-error", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(openai.APIError, match="The stream broke"):
        for chunk in stream:
            received.append(chunk)

    trace = last_trace()
    span = only_span(trace)
    assert span.status_code == SpanStatusCode.ERROR
    assert exception_event(span)["exception.type"] == "APIError"
    assert len(chunk_events(span)) == len(received)
    assert span.outputs["choices"][0]["message"]["content"] == "You said: hello world"
    assert trace.info.state == TraceState.ERROR


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
def test_an_api_error_is_reraised_unchanged_and_marks_the_span(
    client: openai.OpenAI, status: int, error_type: type[openai.APIStatusError]
) -> None:
    with pytest.raises(error_type) as caught:
        client.chat.completions.create(model=f"error-{status}", messages=MESSAGES)

    assert type(caught.value) is error_type
    assert caught.value.status_code == status
    assert caught.value.__traceback__ is not None
    trace = last_trace()
    span = only_span(trace)
    assert span.status_code == SpanStatusCode.ERROR
    assert span.status_message.startswith(f"{error_type.__name__}: ")
    event = exception_event(span)
    assert event["exception.type"] == error_type.__name__
    assert event["exception.message"] == str(caught.value)
    assert span.outputs is None
    assert trace.info.state == TraceState.ERROR


def test_legacy_completion_is_an_llm_span(client: openai.OpenAI) -> None:
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="say this")

    span = only_span(last_trace())
    assert span.span_type == "LLM"
    assert span.inputs == {"model": "gpt-3.5-turbo-instruct", "prompt": "say this"}
    assert span.outputs["choices"][0]["text"] == "You said: say this"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 2,
        "output_tokens": 4,
        "total_tokens": 6,
    }


def test_streamed_legacy_completion_is_assembled(client: openai.OpenAI) -> None:
    stream = client.completions.create(
        model="gpt-3.5-turbo-instruct",
        prompt="say this",
        stream=True,
        stream_options={"include_usage": True},
    )
    assert "".join(c.choices[0].text for c in stream if c.choices) == "You said: say this"

    span = only_span(last_trace())
    assert span.outputs["object"] == "text_completion"
    assert span.outputs["choices"][0]["text"] == "You said: say this"
    assert span.outputs["choices"][0]["finish_reason"] == "stop"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 6


def test_embeddings_are_an_embedding_span(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["one two", "three"])

    assert result.data[0].embedding == [7.0, 0.5, -0.25]
    span = only_span(last_trace())
    assert span.name == "Embeddings"
    assert span.span_type == "EMBEDDING"
    assert span.inputs == {"model": "text-embedding-3-small", "input": ["one two", "three"]}
    assert span.outputs["data"][1]["embedding"] == [5.0, 0.5, -0.25]
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 3,
        "output_tokens": 0,
        "total_tokens": 3,
    }
    assert "mlflow.message.format" not in span.attributes


def test_responses_api_is_a_chat_model_span(client: openai.OpenAI) -> None:
    tools: Any = [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}]
    response = client.responses.create(model="gpt-4.1", input="tell me", tools=tools)

    assert response.output_text == "You said: tell me"
    span = only_span(last_trace())
    assert span.name == "Responses"
    assert span.span_type == "CHAT_MODEL"
    assert span.outputs["output"][0]["content"][0]["text"] == "You said: tell me"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 2,
        "output_tokens": 4,
        "total_tokens": 6,
    }
    assert span.attributes["mlflow.chat.tools"] == [
        {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    ]


def test_streamed_responses_api_outputs_the_completed_response(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="gpt-4.1", input="tell me", stream=True))

    span = only_span(last_trace())
    assert len(chunk_events(span)) == len(events)
    completed = events[-1]
    assert completed.type == "response.completed"
    assert span.outputs == completed.response.model_dump(mode="json")
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 6


def test_chat_stream_helper_records_one_span(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()

    assert final.choices[0].message.content == "You said: hello world"
    span = only_span(last_trace())
    assert span.outputs["choices"][0]["message"]["content"] == "You said: hello world"


class Echo(pydantic.BaseModel):
    text: str


def test_structured_output_parse_is_traced(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Echo
    )

    assert completion.choices[0].message.parsed == Echo(text="You said: hello world")
    span = only_span(last_trace())
    assert span.name == "Completions"
    assert span.inputs["response_format"] == "Echo"
    assert span.outputs["choices"][0]["message"]["parsed"] == {"text": "You said: hello world"}


def test_raw_response_calls_are_traced_and_still_raw(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)

    assert raw.http_response.status_code == 200
    completion = raw.parse()
    span = only_span(last_trace())
    assert span.outputs == completion.model_dump(mode="json")


def test_async_client_calls_and_streams_are_traced(run_async: Callable[[AsyncBody], Any]) -> None:
    async def body(client: openai.AsyncOpenAI) -> tuple[Any, list[Any]]:
        response = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        assert isinstance(stream, openai.AsyncStream)
        return response, [chunk async for chunk in stream]

    response, chunks = run_async(body)

    assert response.choices[0].message.content == "You said: hello world"
    span = only_span(last_trace())  # the streamed call's trace
    assert span.name == "AsyncCompletions"
    assert len(chunk_events(span)) == len(chunks)
    assert span.outputs["choices"][0]["message"]["content"] == "You said: hello world"
    assert span.attributes["mlflow.chat.tokenUsage"] == USAGE


def test_an_async_stream_closed_early_ends_its_span(run_async: Callable[[AsyncBody], Any]) -> None:
    async def body(client: openai.AsyncOpenAI) -> None:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices[0].delta.content:
                    break

    run_async(body)

    span = only_span(last_trace())
    assert span.status_code == SpanStatusCode.OK
    assert span.outputs["choices"][0]["message"]["content"] == "You"


def test_async_errors_mark_the_span(run_async: Callable[[AsyncBody], Any]) -> None:
    async def body(client: openai.AsyncOpenAI) -> None:
        await client.embeddings.create(model="error-429", input="x")

    with pytest.raises(openai.RateLimitError):
        run_async(body)
    span = only_span(last_trace())
    assert span.name == "AsyncEmbeddings"
    assert span.status_code == SpanStatusCode.ERROR


def test_a_call_inside_a_traced_function_is_its_child(client: openai.OpenAI) -> None:
    @wayline.trace
    def answer(question: str) -> str | None:
        response = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
        )
        return response.choices[0].message.content

    assert answer("why not") == "You said: why not"

    trace = last_trace()
    assert len(trace.spans) == 2
    root = trace.root_span
    assert root is not None and root.name == "answer"
    (child,) = [span for span in trace.spans if span is not root]
    assert child.parent_id == root.span_id
    assert child.span_type == "CHAT_MODEL"
    assert trace.info.token_usage == {"input_tokens": 2, "output_tokens": 4, "total_tokens": 6}


def test_a_stream_read_inside_a_span_is_its_child(client: openai.OpenAI) -> None:
    with wayline.start_span("outer"):
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        chunks = list(stream)

    trace = last_trace()
    assert [span.name for span in trace.spans if span.parent_id] == ["Completions"]
    child = next(span for span in trace.spans if span.parent_id)
    assert len(chunk_events(child)) == len(chunks)


def test_log_traces_false_records_nothing(client: openai.OpenAI) -> None:
    wayline.openai.autolog(log_traces=False)
    before = wayline.get_last_active_trace_id()

    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    wayline.flush_trace_async_logging()
    assert wayline.get_last_active_trace_id() == before


def test_disable_restores_the_sdk(openai_url: str, fluent_db: str) -> None:
    originals = (ChatCompletions.create, AsyncChatCompletions.create, Embeddings.create)
    wayline.openai.autolog()
    wayline.openai.autolog()  # installed once, not twice
    assert ChatCompletions.create is not originals[0]
    assert ChatCompletions.create.__dict__["__wrapped__"] is originals[0]
    with openai.OpenAI(base_url=openai_url, api_key="k", max_retries=0) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        traced_id = wayline.get_last_active_trace_id()
        assert traced_id is not None

        wayline.openai.autolog(disable=True)

        assert (ChatCompletions.create, AsyncChatCompletions.create, Embeddings.create) == (
            originals
        )
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    wayline.flush_trace_async_logging()
    assert wayline.get_last_active_trace_id() == traced_id


def test_tracing_disabled_records_nothing(client: openai.OpenAI) -> None:
    before = wayline.get_last_active_trace_id()
    wayline.tracing.disable()
    try:
        response = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        wayline.tracing.enable()
    assert response.choices[0].message.content == "You said: hello world"
    assert wayline.get_last_active_trace_id() == before


def test_missing_sdk_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)
    with pytest.raises(WaylineError, match="pip install openai"):
        wayline.openai.autolog()


def test_importing_the_integrations_does_not_import_the_sdks() -> None:
    script = (
        "import sys, wayline\n"
        "assert wayline.openai.FLAVOR_NAME == 'openai'\n"
        "assert wayline.anthropic.FLAVOR_NAME == 'anthropic'\n"
        "assert 'openai' not in sys.modules and 'anthropic' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
