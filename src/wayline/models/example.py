"""Input examples saved with a model (spec/model-format.md §4).

``input_example.json`` holds the example (a DataFrame in pandas "split" orient without index, an
ndarray or dict of ndarrays as nested lists, JSON values as they are; with params
``{"inputs": ..., "params": ...}``); ``serving_input_example.json`` holds the ready-to-POST
``/invocations`` body. ``saved_input_example_info`` in MLmodel records both files and the type.
An example given as a tuple ``(data, params)`` carries inference params.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from typing import Any

from wayline.errors import InvalidParameter

EXAMPLE_FILENAME = "input_example.json"
SERVING_INPUT_FILENAME = "serving_input_example.json"


class _Encoder(json.JSONEncoder):
    """numpy scalars and arrays, bytes (base64) and datetimes as JSON, as MLflow writes them."""

    def default(self, o: Any) -> Any:
        import numpy as np
        import pandas as pd

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, (bytes, bytearray)):
            return base64.b64encode(o).decode("ascii")
        if isinstance(o, (dt.date, pd.Timestamp)):
            return o.isoformat()
        return super().default(o)


def _nan_to_none(a: Any) -> Any:
    import numpy as np

    if np.issubdtype(a.dtype, np.number):
        return np.where(np.isnan(a), None, a).tolist()  # type: ignore[attr-defined]
    return a.tolist()


def _split(df: Any) -> dict[str, Any]:
    result: dict[str, Any] = df.astype(object).where(df.notnull(), None).to_dict(orient="split")
    del result["index"]
    if list(df.columns) == list(range(len(df.columns))):
        del result["columns"]  # default column labels are not written out
    return result


def split_params(example: Any) -> tuple[Any, dict[str, Any] | None]:
    """``(data, params)`` of an example given as ``(data, params)``, else ``(example, None)``."""
    if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
        return example[0], example[1]
    return example, None


def _encode(data: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """``(JSON data, info, serving body)`` of an example's data."""
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        split = _split(data)
        orient = "split" if "columns" in split else "values"
        return split, {"type": "dataframe", "pandas_orient": orient}, {"dataframe_split": split}
    if isinstance(data, np.ndarray):
        values = _nan_to_none(data)
        return values, {"type": "ndarray"}, {"inputs": values}
    if isinstance(data, dict) and any(isinstance(v, np.ndarray) for v in data.values()):
        if not all(isinstance(v, np.ndarray) for v in data.values()):
            raise InvalidParameter(
                "Mixed types in dictionary are not supported as input examples: found numpy "
                "arrays and other types."
            )
        values_dict = {k: _nan_to_none(v) for k, v in data.items()}
        return values_dict, {"type": "ndarray"}, {"inputs": values_dict}
    if isinstance(data, (dict, list)) or np.isscalar(data) or isinstance(data, dt.datetime):
        if isinstance(data, dict) and any(k in data for k in ("messages", "prompt", "input")):
            return data, {"type": "json_object"}, dict(data)  # unified LLM body: sent as it is
        return data, {"type": "json_object"}, {"inputs": data}
    raise InvalidParameter(
        "Expected the input example to be a pandas DataFrame, a numpy array, a dict of numpy "
        f"arrays, a dict, a list or a scalar, but got {type(data).__name__}"
    )


def save_example(path: str, input_example: Any) -> dict[str, Any]:
    """Write the example files into the model directory ``path``; returns the MLmodel
    ``saved_input_example_info``.

    Example::

        info = save_example("/tmp/model", pd.DataFrame({"x": [1.0]}))
        # {"artifact_path": "input_example.json", "type": "dataframe", "pandas_orient": "split",
        #  "serving_input_path": "serving_input_example.json"}
    """
    data, params = split_params(input_example)
    encoded, kind, serving = _encode(data)
    info: dict[str, Any] = {"artifact_path": EXAMPLE_FILENAME}
    payload: Any = encoded
    if params is not None:
        info["params"] = "true"
        payload = {"inputs": encoded, "params": params}
        llm_body = "inputs" not in serving and "dataframe_split" not in serving
        serving = {**serving, **params} if llm_body else {**serving, "params": params}
    info.update(kind)
    with open(os.path.join(path, EXAMPLE_FILENAME), "w", encoding="utf-8") as f:
        f.write(json.dumps(payload, cls=_Encoder))
    with open(os.path.join(path, SERVING_INPUT_FILENAME), "w", encoding="utf-8") as f:
        f.write(json.dumps(serving, cls=_Encoder, indent=2))
    info["serving_input_path"] = SERVING_INPUT_FILENAME
    return info


def load_example(path: str, info: dict[str, Any] | None) -> Any:
    """The example saved in model directory ``path`` (None without one): a DataFrame, an
    ndarray or dict of them, or the JSON value.

    Example::

        load_example("/tmp/model", Model.load("/tmp/model").saved_input_example_info)
    """
    if not info:
        return None
    with open(
        os.path.join(path, info.get("artifact_path", EXAMPLE_FILENAME)), encoding="utf-8"
    ) as f:
        data = json.load(f)
    if info.get("params"):
        data = data["inputs"]
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        return pd.DataFrame(data["data"], columns=data.get("columns"))
    if kind == "ndarray":
        import numpy as np

        return (
            {k: np.array(v) for k, v in data.items()} if isinstance(data, dict) else np.array(data)
        )
    return data


__all__ = [
    "EXAMPLE_FILENAME",
    "SERVING_INPUT_FILENAME",
    "load_example",
    "save_example",
    "split_params",
]
