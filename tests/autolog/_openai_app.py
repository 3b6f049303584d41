"""A small OpenAI API on loopback that speaks the real wire format, for the autolog tests.

Replies are deterministic so tests can assert on them:

* the assistant says ``"You said: <last user text>"``; token counts are whitespace-separated
  words (prompt: every message's text, completion: the reply);
* when ``tools`` are passed, the reply is a call of the first tool with ``{"location": "Paris"}``;
  with a ``json_schema`` response format, it is ``{"text": <the reply>}``;
* a model named ``error-<status>`` (400, 401, 429, 500) is answered with OpenAI's error JSON
  and that status; ``stream-error`` fails in the middle of a stream, as the API does;
* ``stream: true`` answers Server-Sent Events: ``data: {chunk}`` lines ending ``data: [DONE]``
  (chat and legacy completions, with a usage chunk when ``stream_options.include_usage``), or
  the Responses API's typed events ending ``response.completed``.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import AsyncIterator, Iterable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CREATED = 1_700_000_000
TOOL_ARGUMENTS = '{"location": "Paris"}'

_ERRORS = {
    400: ("invalid_request_error", "invalid_value", "Invalid value for 'model'."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
}


def _error(status: int) -> JSONResponse:
    kind, code, message = _ERRORS[status]
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _words(text: str) -> int:
    return len(text.split())


def _sse(chunks: Iterable[dict[str, Any]], *, done: bool = True) -> StreamingResponse:
    async def body() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        if done:
            yield b"data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


def _pieces(text: str) -> list[str]:
    """The reply as stream deltas: one word (with the space before it) per chunk."""
    words = text.split(" ")
    return [words[0]] + [f" {word}" for word in words[1:]]


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def _parse(request: Request) -> tuple[dict[str, Any], Response | None]:
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return {}, _error(401)
    body: dict[str, Any] = await request.json()
    model = str(body.get("model", ""))
    if model.startswith("error-"):
        return body, _error(int(model.removeprefix("error-")))
    return body, None


def _tool_call(tools: list[dict[str, Any]]) -> dict[str, Any]:
    name = tools[0].get("function", tools[0]).get("name")
    return {
        "id": "call_1",
        "type": "function",
        "function": {"name": name, "arguments": TOOL_ARGUMENTS},
    }


async def chat_completions(request: Request) -> Response:
    body, failure = await _parse(request)
    if failure is not None:
        return failure
    messages = body.get("messages") or []
    prompt_tokens = sum(_words(_text_of(m.get("content"))) for m in messages)
    user_texts = [_text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    reply = f"You said: {user_texts[-1] if user_texts else ''}"
    tools = body.get("tools") or []
    usage = _usage(prompt_tokens, 0 if tools else _words(reply))
    if (body.get("response_format") or {}).get("type") == "json_schema":
        reply = json.dumps({"text": reply})  # structured output: the reply as the schema's JSON
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": reply, "refusal": None}
        if tools:
            message.update(content=None, tool_calls=[_tool_call(tools)])
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": CREATED,
                "model": body["model"],
                "system_fingerprint": "fp_test",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "tool_calls" if tools else "stop",
                    }
                ],
                "usage": usage,
            }
        )
    return _sse(_chat_chunks(body, reply, tools, usage))


def _chat_chunks(
    body: dict[str, Any], reply: str, tools: list[dict[str, Any]], usage: dict[str, int]
) -> list[dict[str, Any]]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": body["model"],
        "system_fingerprint": "fp_test",
    }
    extra = {"usage": None} if include_usage else {}

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**base, "choices": [choice], **extra}

    chunks = [chunk({"role": "assistant", "content": ""})]
    if tools:
        call = _tool_call(tools)
        half = len(TOOL_ARGUMENTS) // 2
        first = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
        chunks.append(chunk({"tool_calls": [{"index": 0, **first}]}))
        for part in (TOOL_ARGUMENTS[:half], TOOL_ARGUMENTS[half:]):
            chunks.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]}))
        chunks.append(chunk({}, "tool_calls"))
    else:
        chunks += [chunk({"content": piece}) for piece in _pieces(reply)]
        if body["model"] == "stream-error":
            chunks.append({"error": {"message": "The stream broke.", "type": "server_error"}})
            return chunks
        chunks.append(chunk({}, "stop"))
    if include_usage:
        chunks.append({**base, "choices": [], "usage": usage})
    return chunks


async def completions(request: Request) -> Response:
    body, failure = await _parse(request)
    if failure is not None:
        return failure
    prompt = body.get("prompt") or ""
    prompts = [prompt] if isinstance(prompt, str) else [str(p) for p in prompt]
    reply = f"You said: {prompts[-1]}"
    usage = _usage(sum(_words(p) for p in prompts), _words(reply))
    base = {"id": "cmpl-1", "object": "text_completion", "created": CREATED, "model": body["model"]}
    if not body.get("stream"):
        choice = {"index": 0, "text": reply, "logprobs": None, "finish_reason": "stop"}
        return JSONResponse({**base, "choices": [choice], "usage": usage})
    chunks = [
        {**base, "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": None}]}
        for piece in _pieces(reply)
    ]
    chunks.append({**base, "choices": [{"index": 0, "text": "", "finish_reason": "stop"}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": usage})
    return _sse(chunks)


def _vector(text: str) -> list[float]:
    return [float(len(text)), 0.5, -0.25]


async def embeddings(request: Request) -> Response:
    body, failure = await _parse(request)
    if failure is not None:
        return failure
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else [str(item) for item in raw or []]
    data = []
    for index, text in enumerate(texts):
        vector: Any = _vector(text)
        if body.get("encoding_format") == "base64":
            vector = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(_words(text) for text in texts)
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def _response_input_text(raw: Any) -> tuple[str, int]:
    """The last user text of a Responses API ``input`` and the words of all of it."""
    if isinstance(raw, str):
        return raw, _words(raw)
    texts = [_text_of(item.get("content")) for item in raw or [] if isinstance(item, dict)]
    return (texts[-1] if texts else ""), sum(_words(text) for text in texts)


def _response_object(body: dict[str, Any], status: str, output: list[Any]) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "usage": None,
    }


async def responses(request: Request) -> Response:
    body, failure = await _parse(request)
    if failure is not None:
        return failure
    last, prompt_tokens = _response_input_text(body.get("input"))
    reply = f"You said: {last}"
    part = {"type": "output_text", "text": reply, "annotations": []}
    item = {
        "type": "message",
        "id": "msg_1",
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }
    final = _response_object(body, "completed", [item])
    final["usage"] = {
        "input_tokens": prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": _words(reply),
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt_tokens + _words(reply),
    }
    if not body.get("stream"):
        return JSONResponse(final)
    started = _response_object(body, "in_progress", [])
    ids = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **ids, "part": {**part, "text": ""}},
    ]
    events += [
        {"type": "response.output_text.delta", **ids, "delta": piece, "logprobs": []}
        for piece in _pieces(reply)
    ]
    events += [
        {"type": "response.output_text.done", **ids, "text": reply, "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": final},
    ]

    async def stream() -> AsyncIterator[bytes]:
        for number, event in enumerate(events):
            data = json.dumps({**event, "sequence_number": number})
            yield f"event: {event['type']}\ndata: {data}\n\n".encode()

    return StreamingResponse(stream(), media_type="text/event-stream")


def openai_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/responses", responses, methods=["POST"]),
        ]
    )
