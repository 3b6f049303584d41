"""The tracing switches: on or off, and how traces are exported.

The environment is read once, on first use, into a frozen ``TracingSettings``; each variable has
a ``WAYLINE_`` name and MLflow's name (for drop-in use), the first one set wins:

* ``WAYLINE_TRACING_ENABLED`` / ``MLFLOW_TRACING_ENABLED`` (default true): record spans at all.
* ``WAYLINE_ENABLE_ASYNC_TRACE_LOGGING`` / ``MLFLOW_ENABLE_ASYNC_TRACE_LOGGING`` (default true):
  export finished traces on a background thread; false exports in the thread that ends a trace.
* ``WAYLINE_TRACE_SAMPLING_RATIO`` / ``MLFLOW_TRACE_SAMPLING_RATIO`` (default 1.0): the share of
  traces recorded, decided per trace (a trace is kept or dropped whole).
* ``WAYLINE_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE`` / ``MLFLOW_...`` (default 1000): finished traces
  waiting for export; when the queue is full new traces are dropped with a warning, never waited
  for.
* ``WAYLINE_TRACE_BUFFER_MAX_SIZE`` / ``MLFLOW_TRACE_BUFFER_MAX_SIZE`` (default 10000): traces in
  progress at once; beyond it the oldest is dropped (a root span that never ends would otherwise
  hold its spans forever).
* ``WAYLINE_LLM_PRICES``: a JSON file of model prices (see ``wayline.tracing.cost``).

``enable()`` and ``disable()`` switch recording at run time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import cache

_logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TracingSettings:
    enabled: bool = True
    async_logging: bool = True
    sampling_ratio: float = 1.0
    max_queue_size: int = 1000
    buffer_max_size: int = 10_000
    prices_file: str | None = None


def _env(name: str) -> str | None:
    for prefix in ("WAYLINE_", "MLFLOW_"):
        value = os.environ.get(prefix + name)
        if value:
            return value.strip()
    return None


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.lower() in ("true", "1", "yes", "on")


def _number(name: str, default: float, low: float, high: float) -> float:
    value = _env(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        _logger.warning("Ignoring %s=%r: expected a number in [%s, %s].", name, value, low, high)
        return default
    return number


@cache
def settings() -> TracingSettings:
    """The settings from the environment, read on first call."""
    return TracingSettings(
        enabled=_flag("TRACING_ENABLED", True),
        async_logging=_flag("ENABLE_ASYNC_TRACE_LOGGING", True),
        sampling_ratio=_number("TRACE_SAMPLING_RATIO", 1.0, 0.0, 1.0),
        max_queue_size=int(_number("ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE", 1000, 1, 10**7)),
        buffer_max_size=int(_number("TRACE_BUFFER_MAX_SIZE", 10_000, 1, 10**7)),
        prices_file=os.environ.get("WAYLINE_LLM_PRICES") or None,
    )


class _Switch:
    """Whether spans are recorded now; read on every traced call, so one attribute lookup."""

    __slots__ = ("on",)

    def __init__(self) -> None:
        self.on: bool | None = None  # None until the environment has been read


switch = _Switch()


def is_enabled() -> bool:
    """True when spans are recorded (``enable``/``disable``, else the environment).

    Example::

        import wayline
        if wayline.tracing.is_enabled():
            print("tracing on")
    """
    if switch.on is None:
        switch.on = settings().enabled
    return switch.on


def enable() -> None:
    """Record spans from now on (the default unless ``WAYLINE_TRACING_ENABLED=false``).

    Example::

        wayline.tracing.disable()
        ...                       # nothing is traced here
        wayline.tracing.enable()
    """
    switch.on = True


def disable() -> None:
    """Stop recording spans: traced functions run as if undecorated, ``start_span`` yields a
    span that records nothing. Traces already finished are still exported.

    Example::

        wayline.tracing.disable()
    """
    switch.on = False


__all__ = ["TracingSettings", "disable", "enable", "is_enabled", "settings", "switch"]
