"""Data types and schemas of model signatures, as ``mlflow.types`` defines them.

A ``Schema`` is a list of ``ColSpec`` (named or unnamed columns of a ``DataType``, ``Array``,
``Object``, ``Map`` or ``AnyType``) or of ``TensorSpec`` (numpy dtype and shape, ``-1`` for a
variable dimension), never a mix. ``ParamSchema`` lists the inference params a model accepts.
``to_dict``/``from_json`` give exactly MLflow's JSON, so MLmodel files move both ways.

NumPy is imported only where a dtype is built (``TensorSpec``, ``DataType.to_numpy``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameter
from wayline.types.composite import (
    AnyType,
    Array,
    Map,
    Object,
    Property,
    TypeSpec,
    type_from_dict,
    type_to_dict,
)
from wayline.types.datatype import DataType, data_type

if TYPE_CHECKING:
    import numpy as np


class ColSpec:
    """A column: its type, optional name, and whether it is required.

    Example::

        ColSpec("double", "x").to_dict()  # {"type": "double", "name": "x", "required": True}
    """

    def __init__(
        self, type: TypeSpec | str, name: str | None = None, required: bool = True
    ) -> None:
        self.type: TypeSpec = data_type(type, "column") if isinstance(type, str) else type
        self.name = name
        self.required = required

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and (self.name, self.type, self.required) == (
            other.name,
            other.type,
            other.required,
        )

    def __hash__(self) -> int:
        return hash((self.name, repr(self.type)))

    def __repr__(self) -> str:
        required = "required" if self.required else "optional"
        prefix = "" if self.name is None else f"{self.name!r}: "
        return f"{prefix}{self.type!r} ({required})"

    def to_dict(self) -> dict[str, Any]:
        d = type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> ColSpec:
        required = kwargs.get("required")
        return cls(
            type_from_dict(kwargs), kwargs.get("name"), True if required is None else required
        )


class TensorSpec:
    """A tensor: numpy dtype, shape (``-1`` = any size) and optional name.

    Example::

        TensorSpec(np.dtype("float32"), (-1, 3), "x").to_dict()
        # {"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}
    """

    required = True

    def __init__(
        self, type: np.dtype[Any], shape: tuple[int, ...] | list[int], name: str | None = None
    ) -> None:
        import numpy as np

        if not isinstance(type, np.dtype):
            raise TypeError(f"Expected `type` to be a numpy dtype, got {type!r}")
        if type.char in ("U", "S") and not type.name.isalpha():
            raise InvalidParameter(
                "Size information in flexible numpy data types is not supported; use "
                f'np.dtype("{type.name.rstrip("0123456789")}") instead'
            )
        self.type = type
        self.shape = tuple(shape)
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.name, self.type, self.shape) == (
            other.name,
            other.type,
            other.shape,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.shape))

    def __repr__(self) -> str:
        info = f"Tensor({self.type.name!r}, {self.shape!r})"
        return info if self.name is None else f"{self.name!r}: {info}"

    def to_dict(self) -> dict[str, Any]:
        spec = {
            "type": "tensor",
            "tensor-spec": {"dtype": self.type.name, "shape": list(self.shape)},
        }
        return spec if self.name is None else {"name": self.name, **spec}

    @classmethod
    def from_json_dict(cls, **kwargs: Any) -> TensorSpec:
        import numpy as np

        info = kwargs["tensor-spec"]
        return cls(np.dtype(info["dtype"]), tuple(info["shape"]), kwargs.get("name"))


class Schema:
    """The inputs or outputs of a model: all ColSpecs or all TensorSpecs.

    Example::

        schema = Schema([ColSpec("double", "x1"), ColSpec("string", "label")])
        Schema.from_json(schema.to_json()) == schema  # True
    """

    def __init__(self, inputs: list[ColSpec | TensorSpec]) -> None:
        if not isinstance(inputs, list) or not inputs:
            raise InvalidParameter("Creating Schema with empty inputs is not allowed.")
        named = [x.name is not None for x in inputs]
        if any(named) and not all(named):
            raise InvalidParameter(
                "Creating Schema with a combination of named and unnamed inputs is not allowed. "
                f"Got input names {[x.name for x in inputs]}"
            )
        tensors = [isinstance(x, TensorSpec) for x in inputs]
        if any(tensors) and not all(tensors):
            raise InvalidParameter(
                "Creating Schema with a mix of ColSpec and TensorSpec is not supported."
            )
        if all(tensors) and len(inputs) > 1 and not all(named):
            raise InvalidParameter(
                "Creating Schema with multiple unnamed TensorSpecs is not supported."
            )
        if not any(named) and not all(x.required for x in inputs):
            raise InvalidParameter("Creating Schema with unnamed optional inputs is not supported.")
        self.inputs = inputs

    def __len__(self) -> int:
        return len(self.inputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __hash__(self) -> int:
        return hash(tuple(self.inputs))

    def __repr__(self) -> str:
        return repr(self.inputs)

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [x.name if x.name is not None else i for i, x in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        return [
            x.name if x.name is not None else i for i, x in enumerate(self.inputs) if x.required
        ]

    def optional_input_names(self) -> list[str | int]:
        return [
            x.name if x.name is not None else i for i, x in enumerate(self.inputs) if not x.required
        ]

    def to_dict(self) -> list[dict[str, Any]]:
        return [x.to_dict() for x in self.inputs]

    def to_json(self) -> str:
        """MLflow's JSON string of this schema (what MLmodel's ``signature.inputs`` holds)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, json_str: str) -> Schema:
        def read(x: dict[str, Any]) -> ColSpec | TensorSpec:
            if x["type"] == "tensor":
                return TensorSpec.from_json_dict(**x)
            return ColSpec.from_json_dict(**x)

        return cls([read(x) for x in json.loads(json_str)])


__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Object",
    "Property",
    "Schema",
    "TensorSpec",
    "TypeSpec",
    "type_from_dict",
    "type_to_dict",
]
