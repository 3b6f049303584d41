"""The shared autolog machinery on its own: patch bookkeeping, recorded inputs, JSON values and
stream assembly cases the wire-format servers do not produce."""

from __future__ import annotations

import json
from typing import Any

import pydantic

from wayline.anthropic._streams import MessageAccumulator
from wayline.autolog.calls import call_inputs
from wayline.autolog.integration import Integration
from wayline.autolog.values import jsonable
from wayline.openai._streams import ChatAccumulator, ResponsesAccumulator


class _Base:
    def create(self, x: int) -> int:
        return x


class _Resource(_Base):
    def own(self) -> str:
        return "own"


class _Unset:
    pass


def test_patches_are_installed_once_and_restored_exactly() -> None:
    integration = Integration("test")
    calls: list[str] = []

    def wrap(original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append("wrapped")
            return original(self, *args, **kwargs)

        return wrapper

    integration.patch(_Resource, "create", wrap)  # inherited from _Base
    integration.patch(_Resource, "own", wrap)
    integration.patch(_Resource, "own", wrap)  # already patched: nothing happens
    assert _Resource().create(3) == 3
    assert _Resource().own() == "own"
    assert calls == ["wrapped", "wrapped"]
    assert integration.installed

    integration.uninstall()

    assert "create" not in _Resource.__dict__  # un-shadowed, not copied onto the subclass
    assert _Resource.own.__name__ == "own"
    assert not integration.installed and not integration.tracing


def test_call_inputs_are_what_the_caller_passed() -> None:
    def create(self: Any, *, model: str, n: Any = None, stop: Any = None) -> None: ...

    inputs = call_inputs(
        create,
        (),
        {"model": "m", "n": _Unset(), "extra_headers": {"Authorization": "x", "X-Trace": "1"}},
        (_Unset,),
    )
    # default values the caller did not pass are not inputs; sentinels are dropped; secrets hidden
    assert inputs == {
        "model": "m",
        "extra_headers": {"Authorization": "<redacted>", "X-Trace": "1"},
    }


def test_jsonable_turns_sdk_objects_into_plain_values() -> None:
    class Part(pydantic.BaseModel):
        text: str

    value = jsonable({"parts": (Part(text="a"),), "format": Part, "raw": b"abc", 1: None})

    assert value == {"parts": [{"text": "a"}], "format": "Part", "raw": "<3 bytes>", "1": None}
    json.dumps(value)


def test_chat_stream_with_several_choices_and_parallel_tool_calls() -> None:
    accumulator = ChatAccumulator()
    base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    deltas: list[tuple[int, dict[str, Any], str | None]] = [
        (0, {"role": "assistant", "content": "A"}, None),
        (1, {"role": "assistant", "content": "B"}, None),
        (1, {"content": "b"}, "stop"),
        (
            0,
            {"tool_calls": [{"index": 1, "id": "t2", "function": {"name": "g", "arguments": ""}}]},
            None,
        ),
        (
            0,
            {"tool_calls": [{"index": 0, "id": "t1", "function": {"name": "f", "arguments": "{"}}]},
            None,
        ),
        (0, {"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}, "tool_calls"),
    ]
    for index, delta, finish in deltas:
        choice = {"index": index, "delta": delta, "finish_reason": finish}
        accumulator.add({**base, "choices": [choice]})

    result = accumulator.result()

    assert [c["message"]["content"] for c in result["choices"]] == ["A", "Bb"]
    assert [c["finish_reason"] for c in result["choices"]] == ["tool_calls", "stop"]
    calls = result["choices"][0]["message"]["tool_calls"]
    assert [(c["id"], c["function"]["arguments"]) for c in calls] == [("t1", "{}"), ("t2", "")]


def test_an_empty_stream_assembles_nothing() -> None:
    assert ChatAccumulator().result() is None
    assert ResponsesAccumulator().result() is None
    assert MessageAccumulator().result() is None


def test_responses_stream_cut_short_keeps_the_finished_items() -> None:
    accumulator = ResponsesAccumulator()
    accumulator.add({"type": "response.created", "response": {"id": "r", "output": []}})
    item = {"type": "message", "content": [{"type": "output_text", "text": "hi"}]}
    accumulator.add({"type": "response.output_item.done", "output_index": 0, "item": item})

    assert accumulator.result() == {"id": "r", "output": [item]}


def test_anthropic_thinking_and_cut_tool_input_are_kept() -> None:
    accumulator = MessageAccumulator()
    start = {"id": "m", "content": [], "usage": {"input_tokens": 3, "output_tokens": 1}}
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "hm"},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "s"},
        },
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"a": '},
        },
    ]
    for event in events:
        accumulator.add(event)

    result = accumulator.result()

    assert result["content"] == [
        {"type": "thinking", "thinking": "hm", "signature": "s"},
        {"type": "tool_use", "input": '{"a": '},
    ]
    assert result["usage"] == {"input_tokens": 3, "output_tokens": 1}
