"""Automatic tracing of the OpenAI Python SDK: ``wayline.openai.autolog()``.

Example::

    import openai
    import wayline

    wayline.openai.autolog()
    client = openai.OpenAI()
    client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
    )
    trace = wayline.get_trace(wayline.get_last_active_trace_id())

Every call of ``chat.completions.create`` / ``parse``, ``completions.create``,
``embeddings.create`` and ``responses.create`` / ``parse``, on sync and async clients and
streamed or not, becomes a span (``CHAT_MODEL``, ``LLM`` or ``EMBEDDING``, as MLflow types
them) with the request as inputs, the response as outputs, the model, token usage and tools as
attributes. The SDK is imported only when ``autolog`` runs.
"""

from __future__ import annotations

FLAVOR_NAME = "openai"


def autolog(
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    log_traces: bool = True,
) -> None:
    """Trace OpenAI SDK calls (or stop: ``disable=True`` restores the SDK's methods).

    The parameters are MLflow's, in its order. ``log_traces=False`` keeps the patches but records
    nothing; ``silent=True`` turns autologging's own warnings into debug logs. ``exclusive`` and
    ``disable_for_unsupported_versions`` are accepted for compatibility and change nothing
    (autologging here logs traces only, never to a run).

    Raises ``WaylineError`` naming ``pip install openai`` when the SDK is not installed.
    """
    from wayline.openai import _autolog

    _autolog.configure(disable=disable, log_traces=log_traces, silent=silent)


__all__ = ["FLAVOR_NAME", "autolog"]
