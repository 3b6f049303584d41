"""Schemas inferred from example data, by MLflow's rules.

* DataFrame / Series -> one ColSpec per column (int64 -> long, float64 -> double, str ->
  string, bool -> boolean; lists and dicts in cells -> Array / Object); a column holding a
  missing value is optional.
* ndarray -> one unnamed TensorSpec (first dimension variable); dict of ndarrays -> named
  TensorSpecs.
* dict of JSON values -> one ColSpec per key; list of dicts -> one ColSpec per key seen (optional
  when absent or None somewhere); list of scalars, or a scalar -> one unnamed ColSpec.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

from wayline.errors import InvalidParameter
from wayline.types.params import ParamSchema, ParamSpec
from wayline.types.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    Property,
    Schema,
    TensorSpec,
    TypeSpec,
)

_MIXED = (
    "Expected all values in list to be of same type. To specify a list with several types, "
    "use AnyType for the items."
)


def _is_missing(x: Any) -> bool:
    import pandas as pd

    if isinstance(x, float):
        return math.isnan(x)
    return x is None or x is pd.NA or x is pd.NaT


def _scalar_type(x: Any) -> DataType:
    import numpy as np

    if isinstance(x, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(x, np.int32):
        return DataType.integer
    if isinstance(x, (int, np.int64)):
        return DataType.long
    if isinstance(x, np.float32):
        return DataType.float
    if isinstance(x, (float, np.float64)):
        return DataType.double
    if isinstance(x, (str, np.str_)):
        return DataType.string
    if isinstance(x, (bytes, bytearray, np.bytes_)):
        return DataType.binary
    if isinstance(x, (dt.date, np.datetime64)):
        return DataType.datetime
    raise InvalidParameter(f"Data {x!r} is not one of the supported DataType")


def merge_types(a: TypeSpec, b: TypeSpec) -> TypeSpec:
    """The type covering both ``a`` and ``b`` (Object properties missing on one side become
    optional); InvalidParameter if they cannot be merged."""
    if isinstance(a, AnyType):
        return b
    if isinstance(b, AnyType) or a == b:
        return a
    if isinstance(a, Array) and isinstance(b, Array):
        return Array(merge_types(a.dtype, b.dtype))
    if isinstance(a, Map) and isinstance(b, Map):
        return Map(merge_types(a.value_type, b.value_type))
    if isinstance(a, Object) and isinstance(b, Object):
        left = {p.name: p for p in a.properties}
        right = {p.name: p for p in b.properties}
        merged = []
        for name in left.keys() | right.keys():
            if name in left and name in right:
                dtype = merge_types(left[name].dtype, right[name].dtype)
                required = left[name].required and right[name].required
                merged.append(Property(name, dtype, required))
            else:
                only = left.get(name) or right[name]
                merged.append(Property(name, only.dtype, False))
        return Object(merged)
    raise InvalidParameter(_MIXED)


def infer_type(data: Any) -> TypeSpec | None:
    """The type of one value (None for an empty numpy array: undetermined)."""
    import numpy as np

    if _is_missing(data) or (isinstance(data, (list, dict)) and not data):
        return AnyType()
    if isinstance(data, dict):
        props = []
        for k, v in data.items():
            t = infer_type(v)
            if t is None:
                raise InvalidParameter("Dictionary value must not be an empty numpy array.")
            props.append(Property(str(k), t, required=not isinstance(t, AnyType)))
        return Object(props)
    if isinstance(data, (list, np.ndarray)):
        result: TypeSpec | None = None
        for item in data:
            t = infer_type(item)
            if t is None:
                continue
            if result is None:
                result = t
            elif isinstance(result, DataType) and not isinstance(t, AnyType):
                if t != result:
                    raise InvalidParameter(_MIXED)
            elif not isinstance(result, DataType):
                result = merge_types(result, t)
        return None if result is None else Array(result)
    return _scalar_type(data)


def _colspec_type(data: Any) -> TypeSpec:
    t = infer_type(data)
    if t is None:
        raise InvalidParameter(f"Numpy array must include at least one non-empty item: {data!r}")
    return t


def _numpy_type(dtype: Any) -> DataType:
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind in "iu":
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        return DataType.long
    if kind == "f":
        return DataType.float if size <= 4 else DataType.double
    if kind == "U":
        return DataType.string
    if kind == "S":
        return DataType.binary
    if kind == "M":
        return DataType.datetime
    raise InvalidParameter(f"Unsupported numpy data type '{dtype}', kind '{kind}'")


def _pandas_column(col: Any) -> TypeSpec:
    import pandas as pd

    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind == "O" or isinstance(col.dtype, pd.StringDtype):
        try:
            element = _colspec_type(col.to_list())
        except InvalidParameter:
            if pd.api.types.is_string_dtype(col):
                return DataType.string
            raise
        return element.dtype if isinstance(element, Array) else element
    return _numpy_type(col.dtype)


def _required(values: Any) -> bool:
    return not any(_is_missing(x) for x in values)


def _tensor(array: Any, name: str | None = None) -> TensorSpec:
    import numpy as np

    dtype = array.dtype
    if dtype.char == "U":
        dtype = np.dtype("str")
    elif dtype.char == "S":
        dtype = np.dtype("bytes")
    shape = list(array.shape)
    if shape:
        shape[0] = -1
    return TensorSpec(dtype, tuple(shape), name)


def _from_records(data: list[dict[str, Any]]) -> Schema:
    columns: dict[str, list[Any]] = {}
    for item in data:
        for k, v in item.items():
            columns.setdefault(k, []).append(v)
    specs = []
    for name, values in columns.items():
        element = _colspec_type(values)
        required = all(item.get(name) is not None for item in data)
        specs.append(
            ColSpec(element.dtype if isinstance(element, Array) else element, name, required)
        )
    return Schema(list(specs))


def infer_schema(data: Any) -> Schema:
    """The Schema of example data (see the module docstring for the rules).

    Example::

        infer_schema(pd.DataFrame({"x": [1.0, 2.0]})).to_json()
        # '[{"type": "double", "name": "x", "required": true}]'
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, list) and not data:
        return Schema([ColSpec(DataType.string)])
    if isinstance(data, list) and all(isinstance(v, dict) for v in data):
        return _from_records(data)
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([_tensor(v, str(k)) for k, v in data.items()])
        return Schema(
            [
                ColSpec(_colspec_type(v), str(k), _required(v if isinstance(v, list) else [v]))
                for k, v in data.items()
            ]
        )
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema([ColSpec(_pandas_column(data), name, _required(data) if name else True)])
    if isinstance(data, pd.DataFrame):
        return Schema(
            [ColSpec(_pandas_column(data[c]), str(c), _required(data[c])) for c in data.columns]
        )
    if isinstance(data, np.ndarray):
        return Schema([_tensor(data)])
    if isinstance(data, list):
        element = _colspec_type(data)
        return Schema([ColSpec(element.dtype if isinstance(element, Array) else element)])
    try:
        return Schema([ColSpec(_colspec_type(data))])
    except InvalidParameter as e:
        raise InvalidParameter(
            "Failed to infer schema. Expected a pandas DataFrame or Series, a numpy array, a dict "
            "of numpy arrays, a scalar, a list of scalars, a dict or a list of dicts, but got "
            f"{type(data).__name__}. Error: {e.message}"
        ) from None


def _param_type(value: Any) -> tuple[DataType | Object, tuple[int, ...] | None]:
    import numpy as np

    if isinstance(value, (list, np.ndarray)):
        if any(isinstance(v, (list, dict, np.ndarray)) for v in value):
            raise InvalidParameter("Expected parameters to be 1D array or scalar")
        if value and all(isinstance(v, dt.date) for v in value):
            return DataType.datetime, (-1,)
        return _numpy_type(np.array(value).dtype), (-1,)
    if isinstance(value, dt.date):
        return DataType.datetime, None
    if isinstance(value, dict):
        t = infer_type(value)
        if not isinstance(t, Object):
            raise InvalidParameter(f"Can not infer a param type for {value!r}")
        return t, None
    if np.isscalar(value):
        return _numpy_type(np.array(value).dtype), None
    raise InvalidParameter(
        f"Expected parameters to be 1D array or scalar, got {type(value).__name__}"
    )


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    """A ParamSchema whose defaults are the given values.

    Example::

        infer_param_schema({"mult": 2.0, "tags": ["a"]}).to_json()
    """
    if not isinstance(params, dict):
        raise InvalidParameter(f"Expected parameters to be dict, got {type(params).__name__}")
    specs, invalid = [], []
    for name, value in params.items():
        try:
            dtype, shape = _param_type(value)
            specs.append(ParamSpec(name, dtype, copy.deepcopy(value), shape))
        except InvalidParameter as e:
            invalid.append((name, value, e.message))
    if invalid:
        raise InvalidParameter(f"Failed to infer schema for parameters: {invalid}")
    return ParamSchema(specs)


__all__ = ["infer_param_schema", "infer_schema", "infer_type", "merge_types"]
