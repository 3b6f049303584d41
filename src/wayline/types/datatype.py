"""``DataType``: the scalar column types of signatures (``mlflow.types.DataType``)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameter

if TYPE_CHECKING:
    import numpy as np


class DataType(Enum):
    """A scalar column type; the value is MLflow's type number, the name its JSON name.

    Example::

        DataType["double"].to_numpy()  # dtype('float64')
    """

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> np.dtype[Any]:
        """The numpy dtype of this type (``str`` and ``bytes`` without a size)."""
        import numpy as np

        return np.dtype(_NUMPY_NAMES[self])

    def to_python(self) -> type:
        """The Python type values of this type are given as."""
        import datetime as dt

        python: dict[DataType, type] = {
            DataType.boolean: bool,
            DataType.integer: int,
            DataType.long: int,
            DataType.float: _builtin_float,
            DataType.double: _builtin_float,
            DataType.string: str,
            DataType.binary: bytes,
            DataType.datetime: dt.date,
        }
        return python[self]


_builtin_float = float
_NUMPY_NAMES = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "str",
    DataType.binary: "bytes",
    DataType.datetime: "datetime64[ns]",
}


def data_type(value: Any, what: str) -> DataType:
    if isinstance(value, DataType):
        return value
    try:
        return DataType[value]
    except KeyError:
        raise InvalidParameter(
            f"Unsupported {what} type {value!r}: expected one of {[t.name for t in DataType]}, "
            "Array, Object, Map or AnyType."
        ) from None


__all__ = ["DataType", "data_type"]
