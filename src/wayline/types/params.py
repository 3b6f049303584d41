"""Inference params a model accepts: ``ParamSpec`` and ``ParamSchema`` (``mlflow.types``).

A param is a scalar of a ``DataType`` (``shape`` None), a 1-D list of them (``shape`` ``(-1,)``)
or an ``Object``. Values are checked with the conversions MLflow allows: int to long, float or
double, long to float or double, float to double, and anything parseable to datetime.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from wayline.errors import InvalidParameter
from wayline.types.schema import DataType, Object, type_from_dict

# Which value types may be converted to a param's type (MLflow's list).
_CONVERSIONS: dict[DataType, tuple[DataType, ...]] = {
    DataType.long: (DataType.integer,),
    DataType.float: (DataType.integer, DataType.long),
    DataType.double: (DataType.integer, DataType.long, DataType.float),
}


def _value_type(value: Any) -> DataType | None:
    import numpy as np

    if isinstance(value, (bool, np.bool_)):
        return DataType.boolean
    if isinstance(value, np.integer):
        return DataType.integer if value.dtype.itemsize <= 4 else DataType.long
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, np.floating):
        return DataType.float if value.dtype.itemsize <= 4 else DataType.double
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    return None


def _scalar(value: Any, dtype: DataType) -> Any:
    if value is None:
        return None
    if dtype == DataType.datetime:
        import numpy as np

        try:
            parsed = np.datetime64(value).item()
        except (ValueError, TypeError) as e:
            raise InvalidParameter(f"Failed to convert value `{value}` to `datetime`") from e
        if not isinstance(parsed, dt.date):
            raise InvalidParameter(f"Failed to convert value `{value}` to `datetime`")
        return parsed
    found = _value_type(value)
    if found is None:
        raise InvalidParameter(f"Value must be a scalar for type `{dtype.name}`, got `{value!r}`")
    # An integer 32 is acceptable where a long is expected (and is the same Python int).
    if found == dtype or (dtype == DataType.integer and found == DataType.long):
        return dtype.to_python()(value)
    if found in _CONVERSIONS.get(dtype, ()):
        return dtype.to_python()(value)
    raise InvalidParameter(
        f"Can not safely convert `{type(value).__name__}` to `{dtype.name}` for value `{value!r}`"
    )


class ParamSpec:
    """One inference param: name, type, default, and shape (None or ``(-1,)``).

    Example::

        ParamSpec("mult", "double", 1.0).to_dict()
        # {"name": "mult", "default": 1.0, "shape": None, "type": "double"}
    """

    def __init__(
        self,
        name: str,
        dtype: DataType | Object | str,
        default: Any,
        shape: tuple[int, ...] | list[int] | None = None,
    ) -> None:
        self.name = str(name)
        self.shape = tuple(shape) if shape is not None else None
        if isinstance(dtype, str):
            try:
                dtype = DataType[dtype]
            except KeyError:
                raise InvalidParameter(f"Unsupported type {dtype!r} for param {name!r}") from None
        if dtype == DataType.binary:
            raise InvalidParameter(
                f"Binary type is not supported for parameters, ParamSpec {name!r}"
            )
        self.dtype: DataType | Object = dtype
        self.default = default  # repr() in validate's errors shows it
        self.default = self.validate(default)

    def validate(self, value: Any) -> Any:
        """The value converted to this param's type; InvalidParameter if it cannot be."""
        try:
            if self.shape == (-1,):
                if not isinstance(value, (list, tuple)) and not hasattr(value, "tolist"):
                    raise InvalidParameter(
                        f"Value must be a 1D array with shape (-1,), got {type(value).__name__}"
                    )
                items = list(value.tolist() if hasattr(value, "tolist") else value)
                if any(isinstance(v, (list, tuple, dict)) for v in items):
                    raise InvalidParameter("Value must be a 1D array with shape (-1,)")
                return [self._one(v) for v in items]
            if self.shape is not None:
                raise InvalidParameter(f"Shape must be None or (-1,), got {self.shape}")
            return self._one(value)
        except InvalidParameter as e:
            raise InvalidParameter(
                f"Failed to validate type and shape for {self!r}, error: {e.message}"
            ) from None

    def _one(self, value: Any) -> Any:
        if isinstance(self.dtype, Object):
            from wayline.models.enforce import enforce_type

            enforce_type(value, self.dtype)
            return value
        return _scalar(value, self.dtype)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and (
            self.name,
            self.dtype,
            self.default,
            self.shape,
        ) == (
            other.name,
            other.dtype,
            other.default,
            other.shape,
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        shape = f" (shape: {self.shape})" if self.shape is not None else ""
        return f"{self.name!r}: {self.dtype!r} (default: {self.default}){shape}"

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.dtype == DataType.datetime and default is not None:
            default = [v.isoformat() for v in default] if self.shape else default.isoformat()
        result: dict[str, Any] = {"name": self.name, "default": default, "shape": self.shape}
        if isinstance(self.dtype, DataType):
            result["type"] = self.dtype.name
        else:
            result.update(self.dtype.to_dict())
        return result

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ParamSpec:
        kind = kwargs.get("type") or kwargs.get("dtype")
        if "name" not in kwargs or kind is None or "default" not in kwargs:
            raise InvalidParameter(
                "Missing keys in ParamSpec JSON: expected `name`, `type` and `default`, got "
                f"{sorted(kwargs)}"
            )
        dtype = type_from_dict(kwargs) if kind == "object" else kind
        if not isinstance(dtype, (DataType, Object, str)):
            raise InvalidParameter(f"Unsupported param type {kind!r}")
        return cls(str(kwargs["name"]), dtype, kwargs["default"], kwargs.get("shape"))


class ParamSchema:
    """The params a model accepts at inference.

    Example::

        schema = ParamSchema([ParamSpec("mult", "double", 1.0)])
        ParamSchema.from_json(schema.to_json()) == schema  # True
    """

    def __init__(self, params: list[ParamSpec]) -> None:
        names = [p.name for p in params]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise InvalidParameter(f"Duplicated parameters found in schema: {dupes}")
        self.params = params

    def __len__(self) -> int:
        return len(self.params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    def __hash__(self) -> int:
        return hash(tuple(self.params))

    def __repr__(self) -> str:
        return repr(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> ParamSchema:
        return cls([ParamSpec.from_json_dict(**x) for x in json.loads(json_str)])


__all__ = ["ParamSchema", "ParamSpec"]
