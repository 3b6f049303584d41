"""A small Anthropic Messages API on loopback that speaks the real wire format, for the autolog
tests.

Replies are deterministic so tests can assert on them:

* the assistant says ``"You said: <last user text>"``; token counts are whitespace-separated
  words (input: the system prompt and every message's text, output: the reply);
* when ``tools`` are passed, the reply is ``"Let me check."`` and a ``tool_use`` block calling
  the first tool with ``{"location": "Paris"}``;
* a model named ``error-<status>`` (400, 401, 429, 500, 529) is answered with Anthropic's error
  JSON and that status; ``stream-error`` fails in the middle of a stream with an ``error`` event;
* ``stream: true`` answers the SSE events message_start, content_block_start, ping,
  content_block_delta, content_block_stop, message_delta (with usage) and message_stop.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

TOOL_INPUT_JSON = '{"location": "Paris"}'

_ERRORS = {
    400: ("invalid_request_error", "max_tokens: Field required"),
    401: ("authentication_error", "invalid x-api-key"),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def _error_body(status: int) -> dict[str, Any]:
    kind, message = _ERRORS[status]
    return {"type": "error", "error": {"type": kind, "message": message}}


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def _words(text: str) -> int:
    return len(text.split())


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [words[0]] + [f" {word}" for word in words[1:]]


def _content(reply: str, tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not tools:
        return [{"type": "text", "text": reply}]
    return [
        {"type": "text", "text": "Let me check."},
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": tools[0]["name"],
            "input": json.loads(TOOL_INPUT_JSON),
        },
    ]


async def messages(request: Request) -> Response:
    # Anthropic's SDKs have sent the key as x-api-key and, lately, as a bearer token.
    if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
        return JSONResponse(_error_body(401), status_code=401)
    body: dict[str, Any] = await request.json()
    model = str(body.get("model", ""))
    if model.startswith("error-"):
        status = int(model.removeprefix("error-"))
        return JSONResponse(_error_body(status), status_code=status)
    turns = body.get("messages") or []
    input_tokens = _words(_text_of(body.get("system"))) + sum(
        _words(_text_of(m.get("content"))) for m in turns
    )
    user_texts = [_text_of(m.get("content")) for m in turns if m.get("role") == "user"]
    reply = f"You said: {user_texts[-1] if user_texts else ''}"
    tools = body.get("tools") or []
    content = _content(reply, tools)
    output_tokens = sum(_words(block.get("text", "")) for block in content)
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if tools else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    if not body.get("stream"):
        return JSONResponse(message)
    return StreamingResponse(_events(message), media_type="text/event-stream")


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    if block["type"] == "text":
        start = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(block["text"])]
    else:
        start = {**block, "input": {}}
        half = len(TOOL_INPUT_JSON) // 2
        deltas = [
            {"type": "input_json_delta", "partial_json": part}
            for part in (TOOL_INPUT_JSON[:half], TOOL_INPUT_JSON[half:])
        ]
    events = [{"type": "content_block_start", "index": index, "content_block": start}]
    events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
    events.append({"type": "content_block_stop", "index": index})
    return events


async def _events(message: dict[str, Any]) -> AsyncIterator[bytes]:
    usage = message["usage"]
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**usage, "output_tokens": 1},
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    if message["model"] == "stream-error":
        events = [*events[:4], _error_body(529)]
    else:
        events += [
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
            {"type": "message_stop"},
        ]
    for event in events:
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def anthropic_app() -> Starlette:
    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])
