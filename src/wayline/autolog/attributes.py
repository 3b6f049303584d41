"""Span attributes every LLM provider records the same way (spec tracing.md §2.4)."""

from __future__ import annotations

from typing import Any

from wayline.entities.trace import SpanAttributeKey


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def token_usage(
    input_tokens: Any, output_tokens: Any, total_tokens: Any = None, **details: Any
) -> dict[str, Any]:
    """``{mlflow.chat.tokenUsage: {input_tokens, output_tokens, total_tokens, ...}}``, or ``{}``
    when the response reported no counts. ``details`` (non-zero integers) ride along."""
    given_input, given_output = _count(input_tokens), _count(output_tokens)
    if given_input is None and given_output is None:
        return {}
    usage: dict[str, int] = {
        "input_tokens": given_input or 0,
        "output_tokens": given_output or 0,
        "total_tokens": _count(total_tokens) or (given_input or 0) + (given_output or 0),
    }
    usage.update({key: n for key, value in details.items() if (n := _count(value))})
    return {SpanAttributeKey.TOKEN_USAGE: usage}


def chat_tool(name: Any, description: Any = None, parameters: Any = None) -> dict[str, Any]:
    """One entry of ``mlflow.chat.tools``: MLflow's chat tool (OpenAI's function-tool shape)."""
    function: dict[str, Any] = {"name": name}
    if description is not None:
        function["description"] = description
    if parameters is not None:
        function["parameters"] = parameters
    return {"type": "function", "function": function}
