"""OpenAI stream chunks (as JSON dicts) assembled into the response a non-streamed call returns.

* chat completions: ``chat.completion.chunk`` deltas -> one ``chat.completion`` (every choice,
  content, refusal and tool calls merged; the usage chunk's usage when
  ``stream_options.include_usage`` asked for one);
* legacy completions: ``text_completion`` chunks -> one ``text_completion``;
* Responses API: the ``response`` of the last event that carries one (``response.completed``),
  or, for a stream cut short, the items that were done.
"""

from __future__ import annotations

from typing import Any

_HEADER_FIELDS = ("id", "created", "model", "system_fingerprint", "service_tier")


def _append(target: dict[str, Any], key: str, piece: Any) -> None:
    if isinstance(piece, str):
        target[key] = (target.get(key) or "") + piece


class _ChoicesAccumulator:
    """What chat and legacy completion streams share: header fields, usage, choices by index."""

    object_name = ""

    def __init__(self) -> None:
        self._header: dict[str, Any] = {}
        self._choices: dict[int, dict[str, Any]] = {}
        self._usage: Any = None

    def add(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            return
        for field in _HEADER_FIELDS:
            if chunk.get(field) is not None:
                self._header[field] = chunk[field]
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            index = int(choice.get("index") or 0)
            state = self._choices.get(index)
            if state is None:
                state = self._choices[index] = self._new_choice(index)
            if choice.get("finish_reason"):
                state["finish_reason"] = choice["finish_reason"]
            self._merge(state, choice)

    def _new_choice(self, index: int) -> dict[str, Any]:
        raise NotImplementedError

    def _merge(self, state: dict[str, Any], choice: dict[str, Any]) -> None:
        raise NotImplementedError

    def _choices_out(self) -> list[dict[str, Any]]:
        return [self._choices[index] for index in sorted(self._choices)]

    def result(self) -> Any:
        if not self._header and not self._choices:
            return None
        return {
            **self._header,
            "object": self.object_name,
            "choices": self._choices_out(),
            "usage": self._usage,
        }


class ChatAccumulator(_ChoicesAccumulator):
    object_name = "chat.completion"

    def _new_choice(self, index: int) -> dict[str, Any]:
        message = {"role": "assistant", "content": None}
        return {"index": index, "message": message, "finish_reason": None, "logprobs": None}

    def _merge(self, state: dict[str, Any], choice: dict[str, Any]) -> None:
        delta = choice.get("delta") or {}
        message = state["message"]
        if delta.get("role"):
            message["role"] = delta["role"]
        _append(message, "content", delta.get("content"))
        _append(message, "refusal", delta.get("refusal"))
        for call in delta.get("tool_calls") or ():
            calls = message.setdefault("tool_calls", {})
            merged = calls.setdefault(int(call.get("index") or 0), {"function": {}})
            for field in ("id", "type"):
                if call.get(field):
                    merged[field] = call[field]
            function = call.get("function") or {}
            if function.get("name"):
                merged["function"]["name"] = function["name"]
            _append(merged["function"], "arguments", function.get("arguments"))

    def _choices_out(self) -> list[dict[str, Any]]:
        choices = []
        for choice in super()._choices_out():
            message = dict(choice["message"])
            if "tool_calls" in message:  # merged by the stream's index; a message has a list
                calls = message["tool_calls"]
                message["tool_calls"] = [calls[index] for index in sorted(calls)]
            choices.append({**choice, "message": message})
        return choices


class CompletionAccumulator(_ChoicesAccumulator):
    object_name = "text_completion"

    def _new_choice(self, index: int) -> dict[str, Any]:
        return {"index": index, "text": "", "finish_reason": None, "logprobs": None}

    def _merge(self, state: dict[str, Any], choice: dict[str, Any]) -> None:
        _append(state, "text", choice.get("text"))


class ResponsesAccumulator:
    def __init__(self) -> None:
        self._response: dict[str, Any] | None = None
        self._items: dict[int, Any] = {}

    def add(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        if isinstance(event.get("response"), dict):
            self._response = event["response"]
        if event.get("type") == "response.output_item.done":
            self._items[int(event.get("output_index") or 0)] = event.get("item")

    def result(self) -> Any:
        if self._response is None and not self._items:
            return None
        response = dict(self._response or {})
        if not response.get("output") and self._items:
            response["output"] = [self._items[index] for index in sorted(self._items)]
        return response
