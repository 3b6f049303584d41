"""Traces as a pandas DataFrame, with MLflow's columns (spec tracing.md §5): ``trace_id, trace,
client_request_id, state, request_time, execution_duration, request, response, trace_metadata,
tags, spans, assessments``.

``trace`` is the trace's JSON text (MLflow's ``Trace.to_json()``), ``request``/``response`` the
root span's inputs and outputs, ``spans`` the span dicts and ``assessments`` the assessments'
JSON objects. Imported only when a DataFrame is asked for (pandas is heavy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pandas as pd

from wayline.entities.trace import Trace
from wayline.protocol.assessments import encode_assessment
from wayline.protocol.traces import trace_to_dict

COLUMNS = (
    "trace_id",
    "trace",
    "client_request_id",
    "state",
    "request_time",
    "execution_duration",
    "request",
    "response",
    "trace_metadata",
    "tags",
    "spans",
    "assessments",
)


def _row(trace: Trace) -> dict[str, Any]:
    info = trace.info
    root = trace.root_span
    as_dict = trace_to_dict(trace)
    return {
        "trace_id": info.trace_id,
        "trace": orjson.dumps(as_dict).decode(),
        "client_request_id": info.client_request_id,
        "state": info.state.value,
        "request_time": info.request_time_ms,
        "execution_duration": info.execution_duration_ms,
        "request": root.inputs if root is not None else None,
        "response": root.outputs if root is not None else None,
        "trace_metadata": dict(info.trace_metadata),
        "tags": dict(info.tags),
        "spans": as_dict["data"]["spans"],
        "assessments": [encode_assessment(a) for a in info.assessments],
    }


def traces_to_dataframe(traces: Sequence[Trace]) -> pd.DataFrame:
    """One row per trace, in the order given."""
    return pd.DataFrame.from_records([_row(t) for t in traces], columns=list(COLUMNS))


__all__ = ["COLUMNS", "traces_to_dataframe"]
