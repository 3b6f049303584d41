"""Anthropic stream events (as JSON dicts) assembled into the ``Message`` a non-streamed call
returns: message_start gives the message, content blocks grow by their deltas (text, tool input
JSON, thinking, signature, citations), message_delta sets the stop reason and the final usage."""

from __future__ import annotations

import json
from typing import Any


class MessageAccumulator:
    def __init__(self) -> None:
        self._message: dict[str, Any] | None = None
        self._blocks: dict[int, dict[str, Any]] = {}
        self._tool_json: dict[int, str] = {}

    def add(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        index = int(event.get("index") or 0)
        if kind == "message_start" and isinstance(event.get("message"), dict):
            self._message = dict(event["message"])
            self._blocks.update(enumerate(self._message.get("content") or ()))
        elif kind == "content_block_start" and isinstance(event.get("content_block"), dict):
            self._blocks[index] = dict(event["content_block"])
        elif kind == "content_block_delta" and isinstance(event.get("delta"), dict):
            self._delta(index, event["delta"])
        elif kind == "content_block_stop":
            self._close_tool_input(index)
        elif kind == "message_delta":
            self._message_delta(event)

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        block = self._blocks.setdefault(index, {})
        kind = delta.get("type")
        if kind == "text_delta":
            block["text"] = block.get("text", "") + str(delta.get("text", ""))
        elif kind == "input_json_delta":
            self._tool_json[index] = self._tool_json.get(index, "") + str(
                delta.get("partial_json", "")
            )
        elif kind == "thinking_delta":
            block["thinking"] = block.get("thinking", "") + str(delta.get("thinking", ""))
        elif kind == "signature_delta":
            block["signature"] = delta.get("signature")
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta.get("citation"))

    def _close_tool_input(self, index: int) -> None:
        text = self._tool_json.pop(index, None)
        if text is None or index not in self._blocks:
            return
        try:
            self._blocks[index]["input"] = json.loads(text) if text else {}
        except ValueError:  # cut short: keep what arrived
            self._blocks[index]["input"] = text

    def _message_delta(self, event: dict[str, Any]) -> None:
        if self._message is None:
            self._message = {}
        self._message.update(event.get("delta") or {})
        usage = event.get("usage")
        if isinstance(usage, dict):
            merged = dict(self._message.get("usage") or {})
            merged.update({k: v for k, v in usage.items() if v is not None})
            self._message["usage"] = merged

    def result(self) -> Any:
        if self._message is None:
            return None
        for index in list(self._tool_json):
            self._close_tool_input(index)
        content = [self._blocks[index] for index in sorted(self._blocks)]
        return {**self._message, "content": content}
