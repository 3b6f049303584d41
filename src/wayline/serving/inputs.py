"""Request bodies of ``/invocations`` turned into model input, by MLflow's scoring-server rules.

JSON bodies hold exactly one of ``dataframe_split``, ``dataframe_records`` (both become a pandas
DataFrame, cast column by column to the input schema), ``instances`` or ``inputs`` (TF-serving
formats: numpy arrays or dicts of them, no pandas), plus optional ``params``. A body with a
``messages``, ``prompt`` or ``input`` key is a unified LLM request: passed as a dict, answered
unwrapped. CSV and Parquet bodies are read in ``tables.py``.

Every malformed body raises ``InvalidInput`` (400 ``BAD_REQUEST``); the messages are MLflow's,
except that they never repeat the request body back.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from wayline.errors import WaylineError
from wayline.types.composite import Array
from wayline.types.datatype import DataType
from wayline.types.params import ParamSchema
from wayline.types.schema import ColSpec, Schema, TensorSpec

if TYPE_CHECKING:
    import pandas as pd

DF_SPLIT = "dataframe_split"
DF_RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
SUPPORTED_FORMATS = (DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS)
PARAMS_KEY = "params"
LLM_KEYS = ("messages", "prompt", "input")
REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{'dataframe_split', 'dataframe_records', 'instances', 'inputs'}"
)
# MLflow's names of the schema types as pandas dtypes (DataType.to_pandas).
PANDAS_DTYPES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
}


class InvalidInput(WaylineError):
    """The request body cannot be read as model input (400 ``BAD_REQUEST``)."""

    default_code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(f"Invalid input. {message}")


@dataclass(frozen=True)
class ParsedInput:
    """What a request asks the model: the data, the params, and whether the answer is
    unwrapped (unified LLM requests get the raw output, not ``{"predictions": ...}``)."""

    data: Any
    params: dict[str, Any] | None = None
    unwrapped: bool = False


def decode_json(body: bytes | str) -> dict[str, Any]:
    """The JSON object of a request body; InvalidInput for anything else."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidInput(
            f"Ensure that input is a valid JSON formatted string. Error: '{e}'"
        ) from None
    if isinstance(decoded, dict):
        return decoded
    if isinstance(decoded, list):
        raise InvalidInput(f"{REQUIRED_INPUT_FORMAT}. Received a list.")
    raise InvalidInput(
        f"{REQUIRED_INPUT_FORMAT}. Received unexpected input type '{type(decoded).__name__}'."
    )


def parse_json(
    body: bytes | str | dict[str, Any],
    schema: Schema | None,
    params_schema: ParamSchema | None = None,
    from_type_hints: bool = False,
) -> ParsedInput:
    """Model input for a JSON ``/invocations`` body.

    Example::

        parse_json(b'{"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}', None).data
        #      x
        # 0  1.0
    """
    request = body if isinstance(body, dict) else decode_json(body)
    if any(key in request for key in LLM_KEYS):
        names = {p.name for p in params_schema.params} if params_schema else set()
        llm_data = {k: v for k, v in request.items() if k not in names}
        llm_params = {k: v for k, v in request.items() if k in names}
        return ParsedInput(llm_data, llm_params, unwrapped=True)
    params = request.get(PARAMS_KEY)
    keys = [k for k in SUPPORTED_FORMATS if k in request]
    if len(keys) != 1:
        raise WaylineError(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {list(request)}.",
            "BAD_REQUEST",
        )
    key = keys[0]
    if from_type_hints:
        # A signature taken from predict's type hints: the data goes to the model as it came.
        if key != INPUTS:
            raise WaylineError(
                "Request payload must be a dictionary with 'inputs' key when the model contains "
                f"a valid type hint. Found keys in payload: {list(request)}.",
                "INVALID_PARAMETER_VALUE",
            )
        return ParsedInput(request[INPUTS], params)
    if key == DF_SPLIT:
        data: Any = frame_from_split(request[key], schema)
    elif key == DF_RECORDS:
        data = frame_from_records(request[key], schema)
    elif key == INSTANCES:
        data = parse_instances(request[key], schema)
    else:
        data = cast_to_schema(request[key], schema)
    return ParsedInput(data, params)


def frame_from_split(split: Any, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from pandas' split orient (``columns``, ``data``, optional ``index``)."""
    import pandas as pd

    if not isinstance(split, dict):
        kind = "list" if isinstance(split, list) else f"type {type(split).__name__}"
        raise InvalidInput(f"Dataframe split format must be a dictionary. Got {kind}.")
    keys = set(split)
    if "data" not in keys or keys - {"columns", "data", "index"}:
        raise InvalidInput(
            "Dataframe split format must have 'data' field and optionally 'columns' and "
            f"'index' fields. Got {sorted(keys)}."
        )
    columns, rows = split.get("columns"), split["data"]
    fast = _numeric_frame(columns, rows, split.get("index"), schema)
    if fast is not None:
        return fast
    try:
        frame = pd.DataFrame(index=split.get("index"), columns=columns, data=rows)
    except Exception as e:  # pandas raises ValueError, TypeError, AssertionError… for bad shapes
        raise InvalidInput(
            "Provided dataframe_split field is not a valid dataframe representation in 'split' "
            f"format. Error: '{e}'"
        ) from None
    return cast_frame(frame, schema) if schema is not None else frame


def _numeric_frame(
    columns: Any, rows: Any, index: Any, schema: Schema | None
) -> pd.DataFrame | None:
    """The common case built in one step: every column of one numeric schema type, given in
    schema order. One numpy array replaces pandas' per-cell type inference and the per-column
    casts (a few hundred microseconds on a one-row request); None when the case does not
    apply or the values do not convert, and the general path then decides."""
    import numpy as np
    import pandas as pd

    if schema is None or index is not None or not isinstance(rows, list) or not rows:
        return None
    types = {spec.type for spec in schema.inputs if isinstance(spec, ColSpec)}
    if (
        len(types) != 1
        or len(schema.inputs) != len(columns or ())
        or columns != schema.input_names()
        or not isinstance(t := next(iter(types)), DataType)
        or t not in (DataType.double, DataType.float, DataType.long, DataType.integer)
    ):
        return None
    try:
        values = np.array(rows, dtype=PANDAS_DTYPES[t])
    except (TypeError, ValueError):
        return None
    if values.ndim != 2 or values.shape[1] != len(columns):
        return None
    return pd.DataFrame(values, columns=columns)


def frame_from_records(records: Any, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from a list of row objects (missing keys are nulls)."""
    import pandas as pd

    if not isinstance(records, list):
        kind = "dictionary" if isinstance(records, dict) else f"type {type(records).__name__}"
        raise InvalidInput(f"Dataframe records format must be a list of records. Got {kind}.")
    try:
        frame = pd.DataFrame(data=records)
    except Exception as e:  # as above: pandas' errors for malformed rows vary
        raise InvalidInput(
            "Provided dataframe_records field is not a valid dataframe representation in "
            f"'records' format. Error: '{e}'"
        ) from None
    return cast_frame(frame, schema) if schema is not None else frame


def cast_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Columns converted to the schema's types (binary columns base64-decoded), as MLflow's
    ``cast_df_types_according_to_schema``; the strict checks come later, in predict."""

    present = set(frame.columns)
    if schema.has_input_names():
        pairs = list(zip(schema.input_names(), schema.inputs, strict=True))
    elif schema.is_tensor_spec() and len(schema.inputs) == 1:
        pairs = [(c, schema.inputs[0]) for c in frame.columns]
    else:
        n = min(len(schema.inputs), len(frame.columns))
        pairs = list(zip(frame.columns[:n], schema.inputs[:n], strict=True))
    for name, spec in pairs:
        if name not in present:
            continue
        try:
            converted = _cast_column(frame[name], spec)
        except Exception as e:  # astype and friends raise ValueError, TypeError, OverflowError…
            raise InvalidInput(
                "Data is not compatible with model signature. Failed to convert column "
                f"{name} to type '{_type_name(spec.type)}'. Error: '{e!r}'"
            ) from None
        if converted is not None:
            frame[name] = converted
    return frame


def _cast_column(column: pd.Series, spec: ColSpec | TensorSpec) -> pd.Series | None:
    """``column`` converted to ``spec``'s type, or None where predict's checks do it."""
    import pandas as pd

    t = spec.type
    if t == DataType.binary:
        return column.map(lambda x: base64.decodebytes(bytes(x, "utf8")))
    if isinstance(spec, TensorSpec):
        if len(column) and isinstance(column.iloc[0], list):
            return None  # multidimensional cells: predict's enforcement converts them
        return column.astype(spec.type)
    if not isinstance(t, DataType):
        return None  # composite cells (arrays, objects, maps) are checked value by value
    if t == DataType.datetime:
        return pd.to_datetime(column).astype("datetime64[ns]")
    if t == DataType.boolean and column.isna().any():
        # astype(bool) would turn None into False: keep the gaps for enforcement.
        return column.where(column.isna(), column.astype(bool))
    dtype: Any = PANDAS_DTYPES[t]
    if dtype == "object" and isinstance(column.dtype, pd.StringDtype):
        return None
    return column.astype(dtype)


def _type_name(t: Any) -> str:
    if isinstance(t, DataType):
        return PANDAS_DTYPES.get(t, t.name)
    return str(t)


def _convert(data: Any, spec: ColSpec | TensorSpec | None) -> Any:
    """One input (a column, a tensor or a value) as MLflow's ``convert_data_type`` makes it."""
    import numpy as np

    from wayline.models.enforce import enforce_type

    try:
        if spec is None:
            return np.array(data)
        if isinstance(spec, TensorSpec):
            return np.array(data, dtype=spec.type)
        t = spec.type
        if isinstance(t, DataType):
            if t in (DataType.boolean, DataType.string, DataType.binary):
                # numpy would make None into False or "None": keep the gaps for enforcement.
                if data is None:
                    return None
                if isinstance(data, list) and any(x is None for x in data):
                    return np.array(
                        [x if x is None else _convert(x, spec) for x in data], dtype=object
                    )
            target = t.to_numpy()
            if isinstance(data, (list, np.ndarray)):
                return np.array(data, target)
            return np.array([data], target)[0]
        if isinstance(t, Array):
            return np.array(enforce_type(data, t, spec.required))
        return enforce_type(data, t, spec.required)
    except WaylineError as e:
        raise InvalidInput(e.message) from None
    except Exception as e:  # numpy's conversions raise ValueError, TypeError, OverflowError
        raise InvalidInput(f"{e}") from None


def cast_to_schema(data: Any, schema: Schema | None) -> Any:
    """``inputs`` data (columnar dict, list or tensor) as numpy values typed by the schema."""
    import numpy as np

    specs: Mapping[Any, ColSpec | TensorSpec] = (
        {s.name: s for s in schema.inputs}
        if schema is not None and schema.has_input_names()
        else {}
    )
    if schema is not None:
        if (
            len(specs) == 1
            and isinstance(data, list)
            and not any(isinstance(x, dict) for x in data)
        ):
            data = {next(iter(specs)): data}  # a single named column given as a bare list
        elif not schema.has_input_names() and not (isinstance(data, list) or np.isscalar(data)):
            raise InvalidInput(
                "Failed to parse input data. This model contains an un-named model signature "
                "which expects a single n-dimensional array or a single value as input, however, "
                f"an input of type {type(data).__name__} was found."
            )
    if isinstance(data, dict):
        return {col: _convert(values, specs.get(col)) for col, values in data.items()}
    first = schema.inputs[0] if schema is not None else None
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        return [{c: _convert(v, specs.get(c)) for c, v in row.items()} for row in data]
    return _convert(data, first)


def parse_instances(instances: Any, schema: Schema | None) -> Any:
    """``instances`` (TF-serving rows): a list of row dicts becomes a dict of columns."""
    import numpy as np

    if not (isinstance(instances, list) and instances and isinstance(instances[0], dict)):
        return cast_to_schema(instances, schema)
    specs = {s.name: s for s in schema.inputs} if schema and schema.has_input_names() else {}
    columns: dict[Any, list[Any]] = {}
    for row in instances:
        if not isinstance(row, dict):
            raise InvalidInput("Every item of 'instances' must be an object when the first is.")
        for col, value in row.items():
            columns.setdefault(col, []).append(_convert(value, specs.get(col)))
    data = {col: np.array(values) for col, values in columns.items()}
    # Rows must agree on the 0th dimension (array-typed columns may differ).
    checked = [c for c in data if not (c in specs and isinstance(specs[c].type, Array))]
    if schema is not None and schema.has_input_names():
        required = set(schema.required_input_names())
        checked = [c for c in checked if c in required]
    if len({len(data[c]) for c in checked}) > 1:
        raise InvalidInput("The length of values for each input/column name are not the same")
    return data


__all__ = [
    "PANDAS_DTYPES",
    "SUPPORTED_FORMATS",
    "InvalidInput",
    "ParsedInput",
    "cast_frame",
    "decode_json",
    "parse_json",
]
