"""Predictions as JSON, the way MLflow's scoring server writes them, encoded by orjson.

DataFrames become records (``[{"col": v, ...}, ...]``), a Series a list, numpy arrays nested
lists (orjson writes numeric arrays natively), numpy scalars plain numbers, bytes base64 text,
dates ISO 8601; lists and dicts stay as they are. One difference from MLflow: a NaN is written
``null`` (valid JSON) instead of the bare ``NaN`` Python's json module emits.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(o: Any) -> Any:
    """What orjson cannot write by itself (object arrays, pandas values, bytes…)."""
    import numpy as np

    if isinstance(o, np.ndarray):
        if o.dtype.kind == "S":
            return [_default(x) for x in o.tolist()]
        return o.tolist()
    if isinstance(o, np.generic):
        if isinstance(o, np.datetime64):
            return np.datetime_as_string(o)
        return o.item()
    if isinstance(o, (bytes, bytearray)):
        # MLflow uses encodebytes (newline every 76 characters): clients decode either way.
        return base64.encodebytes(o).decode("ascii")
    if isinstance(o, (dt.date, dt.time)):
        return o.isoformat()
    import pandas as pd

    if isinstance(o, pd.DataFrame):
        return jsonable(o)
    if isinstance(o, pd.Series):
        return o.tolist()
    if o is pd.NaT or o is pd.NA:
        return None
    if hasattr(o, "model_dump"):  # pydantic models, as MLflow writes them
        return o.model_dump()
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def jsonable(predictions: Any) -> Any:
    """``predictions`` with pandas objects turned into JSON shapes (records orient)."""
    import sys

    # Models that never touch pandas need not load it: only check when it is imported.
    pd = sys.modules.get("pandas")
    if pd is None:
        return predictions
    if isinstance(predictions, pd.DataFrame):
        columns = [str(c) if not isinstance(c, (str, int)) else c for c in predictions.columns]
        values = [predictions.iloc[:, i].tolist() for i in range(predictions.shape[1])]
        return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
    if isinstance(predictions, pd.Series):
        # MLflow makes a Series into a one-column frame's records: [{"name": v}, ...].
        name = predictions.name if predictions.name is not None else 0
        return [{name: v} for v in predictions.tolist()]
    return predictions


def encode_predictions(predictions: Any, unwrapped: bool = False) -> bytes:
    """The response body for ``predictions``: ``{"predictions": ...}`` (or the bare value for
    unified LLM requests).

    Example::

        encode_predictions(np.array([0, 1]))  # b'{"predictions":[0,1]}'
    """
    value = jsonable(predictions)
    return orjson.dumps(value if unwrapped else {"predictions": value}, _default, _OPTIONS)


def encode(value: Any) -> bytes:
    """Any JSON value (error bodies, metadata) with the same encoder."""
    return orjson.dumps(value, _default, _OPTIONS)


__all__ = ["encode", "encode_predictions", "jsonable"]
