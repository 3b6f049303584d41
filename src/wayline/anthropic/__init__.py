"""Automatic tracing of the Anthropic Python SDK: ``wayline.anthropic.autolog()``.

Example::

    import anthropic
    import wayline

    wayline.anthropic.autolog()
    client = anthropic.Anthropic()
    client.messages.create(
        model="claude-sonnet-4-5", max_tokens=256, messages=[{"role": "user", "content": "Hi"}]
    )
    trace = wayline.get_trace(wayline.get_last_active_trace_id())

Every ``messages.create`` (streamed or not), ``messages.parse`` and ``messages.stream`` call, on
sync and async clients, becomes a ``CHAT_MODEL`` span with the request as inputs, the message as
outputs (for streams, the message assembled from the events, each event also recorded as a
chunk), and the model, token usage and tools as attributes. The SDK is imported only when
``autolog`` runs.
"""

from __future__ import annotations

FLAVOR_NAME = "anthropic"


def autolog(log_traces: bool = True, disable: bool = False, silent: bool = False) -> None:
    """Trace Anthropic SDK calls (or stop: ``disable=True`` restores the SDK's methods).

    The parameters are MLflow's, in its order. ``log_traces=False`` keeps the patches but records
    nothing; ``silent=True`` turns autologging's own warnings into debug logs.

    Raises ``WaylineError`` naming ``pip install anthropic`` when the SDK is not installed.
    """
    from wayline.anthropic import _autolog

    _autolog.configure(disable=disable, log_traces=log_traces, silent=silent)


__all__ = ["FLAVOR_NAME", "autolog"]
