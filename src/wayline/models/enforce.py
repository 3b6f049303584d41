"""Signature enforcement at predict time, by MLflow's rules.

Column signatures: the input becomes a DataFrame; a missing required column is an error naming
it, optional ones may be absent, extra columns are dropped (with a warning), and each column is
converted only where nothing is lost: int32 -> int64, float32 -> float64, (u)int up to 48 bits ->
double, int64 of 0/1 values -> float, datetime precisions, object -> string. Tensor signatures
check dtype and shape. Params are validated against the ParamSchema, missing ones take their
defaults, unknown ones are ignored. Every violation raises ``InvalidParameter``.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameter
from wayline.types.params import ParamSchema
from wayline.types.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    Schema,
    TensorSpec,
    TypeSpec,
)

if TYPE_CHECKING:
    import pandas as pd

_logger = logging.getLogger(__name__)


def _column(name: Any, values: pd.Series, t: DataType) -> pd.Series:
    import numpy as np
    import pandas as pd

    if values.dtype == object and t not in (DataType.binary, DataType.string):
        values = values.infer_objects()
    text = values.dtype == object or isinstance(values.dtype, pd.StringDtype)
    if t in (DataType.string, DataType.binary) and text:
        return values
    target = t.to_numpy()
    if values.dtype == target or (t == DataType.binary and values.dtype.kind == "S"):
        return values
    if t == DataType.datetime and (values.dtype.kind == "M" or values.dtype == object):
        try:
            return values.astype(np.dtype("datetime64[ns]"))
        except (TypeError, ValueError) as e:
            raise InvalidParameter(f"Failed to convert column {name} to datetime: {e}") from None
    if t == DataType.boolean and values.dtype == object:
        return values  # converting would turn None into False
    kind, size = values.dtype.kind, getattr(values.dtype, "itemsize", 0)
    if kind == target.kind:
        upcast = size <= target.itemsize
    elif kind == "u" and target.kind == "i":
        upcast = size < target.itemsize
    elif kind in "iu" and target == np.float64:
        upcast = size <= 6
    else:
        upcast = False
    zero_one = (
        values.dtype == np.int64
        and target.kind == "f"
        and all(pd.isnull(x) or x in (0, 1) for x in values)
    )
    if upcast or zero_one:
        return values.astype(target)
    hint = ""
    if values.dtype == np.float64 and target.kind in "iu" and values.hasnans:
        hint = (
            " Hint: the type mismatch is likely caused by missing values: integer columns "
            "cannot hold them, so they arrive as floats. Declare the column as double instead."
        )
    raise InvalidParameter(
        f"Incompatible input types for column {name}. "
        f"Can not safely convert {values.dtype} to {target}.{hint}"
    )


def enforce_type(data: Any, t: TypeSpec, required: bool = True) -> Any:
    """``data`` checked (and converted where safe) against a type of a ColSpec, Property or
    ParamSpec; InvalidParameter if it does not fit."""
    import numpy as np
    import pandas as pd

    if isinstance(t, AnyType):
        return data
    if not required and (data is None or (isinstance(data, float) and math.isnan(data))):
        return None
    if isinstance(t, DataType):
        if not np.isscalar(data):
            raise InvalidParameter(f"Expected data to be scalar, got {type(data).__name__}")
        try:
            return _column("", pd.Series([data]), t).iloc[0]
        except InvalidParameter:
            raise InvalidParameter(
                f"Failed to enforce schema of data `{data!r}` with dtype `{t.name}`"
            ) from None
    if isinstance(t, Array):
        if not isinstance(data, (list, np.ndarray)):
            raise InvalidParameter(
                f"Expected data to be list or numpy array, got {type(data).__name__}"
            )
        items = [enforce_type(x, t.dtype) for x in data]
        return np.array(items) if isinstance(data, np.ndarray) else items
    if isinstance(t, Map):
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise InvalidParameter(f"Expected data to be a dict with string keys, got {data!r}")
        return {k: enforce_type(v, t.value_type) for k, v in data.items()}
    return _object(data, t)


def _object(data: Any, t: Object) -> Any:
    if not isinstance(data, dict):
        raise InvalidParameter(f"Expected data to be dictionary, got {type(data).__name__}")
    props = {p.name: p for p in t.properties}
    if missing := sorted(n for n, p in props.items() if p.required and n not in data):
        raise InvalidParameter(f"Missing required properties: {missing}")
    if extra := sorted(set(data) - set(props)):
        raise InvalidParameter(f"Invalid properties not defined in the schema found: {extra}")
    return {k: enforce_type(v, props[k].dtype, props[k].required) for k, v in data.items()}


def _as_frame(data: Any, schema: Schema) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return pd.DataFrame(data)
    if np.isscalar(data):
        return pd.DataFrame([data])
    if isinstance(data, dict):
        composite = any(isinstance(c.type, (Array, Object, Map)) for c in schema.inputs)
        scalars = all(np.isscalar(v) or v is None for v in data.values())
        try:
            return pd.DataFrame([data]) if composite or scalars else pd.DataFrame(data)
        except ValueError as e:
            raise InvalidParameter(f"Could not read the input dict as a DataFrame: {e}") from None
    if isinstance(data, (list, np.ndarray)):
        return pd.DataFrame(data)
    raise InvalidParameter(f"Expected input to be DataFrame. Found: {type(data).__name__}")


def _conforms(frame: pd.DataFrame, schema: Schema) -> bool:
    """Whether ``frame`` already is its enforced self: exactly the schema's columns, in order,
    each of its type's numpy dtype (a scoring request built straight from an array)."""
    specs = schema.inputs
    if not schema.has_input_names() or list(frame.columns) != [s.name for s in specs]:
        return False
    for spec, dtype in zip(specs, frame.dtypes, strict=True):
        t = spec.type
        if not isinstance(t, DataType) or t in (DataType.string, DataType.binary):
            return False
        if dtype != t.to_numpy():
            return False
    return True


def _columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    import pandas as pd

    if _conforms(frame, schema):
        return frame
    out: dict[Any, pd.Series] = {}
    if schema.has_input_names():
        wanted = [(c.name, c) for c in schema.inputs if c.name in frame.columns]
    else:
        if len(frame.columns) < len(schema.inputs):
            raise InvalidParameter(
                f"Model inference is missing inputs. The model signature declares "
                f"{len(schema.inputs)} inputs but the provided value only has "
                f"{len(frame.columns)} inputs."
            )
        wanted = list(zip(frame.columns[: len(schema.inputs)], schema.inputs, strict=True))
    for name, spec in wanted:
        if isinstance(spec.type, DataType):
            out[name] = _column(name, frame[name], spec.type)
        elif isinstance(spec, ColSpec):
            cells = [enforce_type(v, spec.type, spec.required) for v in frame[name]]
            out[name] = pd.Series(cells, index=frame.index, name=name, dtype=object)
    return pd.DataFrame(out, index=frame.index)


def _check_names(data: Any, schema: Schema) -> None:
    import pandas as pd

    required = [n for n in schema.required_input_names()]
    optional = set(schema.optional_input_names())
    actual = set(data.columns if isinstance(data, pd.DataFrame) else data.keys())
    if missing := [n for n in required if n not in actual]:
        raise InvalidParameter(f"Model is missing inputs {missing}.")
    if extra := [c for c in actual if c not in set(required) | optional]:
        _logger.warning(
            "Found extra inputs in the model input that are not defined in the model signature: "
            "`%s`. These inputs will be ignored.",
            extra,
        )


def _tensor(values: Any, spec: TensorSpec) -> Any:
    import numpy as np

    if not isinstance(values, np.ndarray):
        raise InvalidParameter(
            f"Expected a numpy array for tensor input, got {type(values).__name__}"
        )
    expected = spec.shape
    if len(expected) != values.ndim or any(
        e not in (-1, a) for e, a in zip(expected, values.shape, strict=True)
    ):
        raise InvalidParameter(
            f"Shape of input {values.shape} does not match expected shape {expected}."
        )
    dtype = values.dtype
    clean = (
        np.dtype("str") if dtype.char == "U" else np.dtype("bytes") if dtype.char == "S" else dtype
    )
    if clean != spec.type:
        raise InvalidParameter(f"dtype of input {dtype} does not match expected dtype {spec.type}")
    return values


def _tensors(data: Any, schema: Schema) -> Any:
    import pandas as pd

    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            data = {c: data[c].to_numpy() for c in data.columns}
        if not isinstance(data, dict):
            raise InvalidParameter(
                "This model has a tensor signature with named inputs: give a dict mapping each "
                f"input name to a numpy array, not {type(data).__name__}."
            )
        _check_names(data, schema)
        return {s.name: _tensor(data[s.name], s) for s in specs}
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    return _tensor(data, specs[0])


def enforce_schema(data: Any, schema: Schema) -> Any:
    """The input checked and converted to the model's input schema.

    Example::

        schema = Schema([ColSpec("double", "x")])
        enforce_schema(pd.DataFrame({"x": [1, 2]}), schema)  # x becomes float64
        enforce_schema(pd.DataFrame({"y": [1.0]}), schema)   # InvalidParameter: missing ['x']
    """
    if schema.is_tensor_spec():
        return _tensors(data, schema)
    frame = _as_frame(data, schema)
    if schema.has_input_names():
        _check_names(frame, schema)
    return _columns(frame, schema)


def enforce_params(
    params: dict[str, Any] | None, schema: ParamSchema | None
) -> dict[str, Any] | None:
    """Params validated against the schema: defaults filled in, unknown names dropped.

    Example::

        schema = ParamSchema([ParamSpec("mult", "double", 1.0)])
        enforce_params({"mult": 3}, schema)      # {"mult": 3.0}
        enforce_params({"mult": "abc"}, schema)  # InvalidParameter
    """
    if schema is None:
        if params:
            _logger.warning(
                "`params` can only be given at inference if the model signature defines a params "
                "schema; this model has none. Ignoring params: %s",
                list(params) if isinstance(params, dict) else params,
            )
            return {}
        return params
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise InvalidParameter(
            f"Parameters must be a dictionary. Got type '{type(params).__name__}'."
        )
    known = {p.name for p in schema.params}
    if ignored := sorted(str(k) for k in params if str(k) not in known):
        _logger.warning("Unrecognized params %s are ignored for inference.", ignored)
    given = {str(k): v for k, v in params.items()}
    result: dict[str, Any] = {}
    invalid = []
    for spec in schema.params:
        if spec.name not in given:
            result[spec.name] = spec.default
            continue
        try:
            result[spec.name] = spec.validate(given[spec.name])
        except InvalidParameter as e:
            invalid.append((spec.name, e.message))
    if invalid:
        raise InvalidParameter(f"Invalid parameters found: {invalid!r}")
    return result


__all__ = ["enforce_params", "enforce_schema", "enforce_type"]
