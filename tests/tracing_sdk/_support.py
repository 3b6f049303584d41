"""Helpers shared by the tracing SDK tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from wayline.entities.trace import Span, Trace

ScriptRunner = Callable[..., subprocess.CompletedProcess[str]]

# Every variable that changes where traces go or how they are recorded.
TRACING_ENV = (
    "WAYLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "WAYLINE_TRACING_ENABLED",
    "MLFLOW_TRACING_ENABLED",
    "WAYLINE_ENABLE_ASYNC_TRACE_LOGGING",
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING",
    "WAYLINE_TRACE_SAMPLING_RATIO",
    "MLFLOW_TRACE_SAMPLING_RATIO",
    "WAYLINE_LLM_PRICES",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without tracking or tracing settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in TRACING_ENV}
    env.update(extra)
    return env


def by_name(trace: Trace) -> dict[str, Span]:
    """The trace's spans by name (names are unique in these tests)."""
    spans = {span.name: span for span in trace.spans}
    assert len(spans) == len(trace.spans), [s.name for s in trace.spans]
    return spans
