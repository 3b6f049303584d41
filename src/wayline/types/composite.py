"""Composite signature types: ``Array``, ``Object`` (of ``Property``), ``Map``, ``AnyType``,
and MLflow's JSON for any type (``type_to_dict`` / ``type_from_dict``)."""

from __future__ import annotations

from typing import Any

from wayline.errors import InvalidParameter
from wayline.types.datatype import DataType, data_type


class AnyType:
    """Any JSON value, None included; not validated."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    def __hash__(self) -> int:
        return hash("any")

    def __repr__(self) -> str:
        return "Any"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}


class Array:
    """A list whose items are all of ``dtype``.

    Example::

        Array(DataType.string).to_dict()  # {"type": "array", "items": {"type": "string"}}
    """

    def __init__(self, dtype: TypeSpec | str) -> None:
        self.dtype: TypeSpec = data_type(dtype, "item") if isinstance(dtype, str) else dtype

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("array", repr(self.dtype)))

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": type_to_dict(self.dtype)}


class Map:
    """A dict from strings to values of ``value_type``."""

    def __init__(self, value_type: TypeSpec | str) -> None:
        self.value_type: TypeSpec = (
            data_type(value_type, "value") if isinstance(value_type, str) else value_type
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __hash__(self) -> int:
        return hash(("map", repr(self.value_type)))

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": type_to_dict(self.value_type)}


class Property:
    """One named field of an ``Object``."""

    def __init__(self, name: str, dtype: TypeSpec | str, required: bool = True) -> None:
        self.name = name
        self.dtype: TypeSpec = data_type(dtype, "property") if isinstance(dtype, str) else dtype
        self.required = required

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and (self.name, self.dtype, self.required) == (
            other.name,
            other.dtype,
            other.required,
        )

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r} ({'required' if self.required else 'optional'})"

    def to_dict(self) -> dict[str, Any]:
        return {self.name: {**type_to_dict(self.dtype), "required": self.required}}


class Object:
    """A dict with named, typed properties (kept sorted by name, as MLflow keeps them)."""

    def __init__(self, properties: list[Property]) -> None:
        if not properties:
            raise InvalidParameter("Creating Object with empty properties is not allowed.")
        names = [p.name for p in properties]
        if len(set(names)) != len(names):
            raise InvalidParameter(f"Found duplicated property names: {names}")
        self.properties = sorted(properties, key=lambda p: p.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    def __hash__(self) -> int:
        return hash(tuple(p.name for p in self.properties))

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.properties)) + "}"

    def to_dict(self) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for prop in self.properties:
            props.update(prop.to_dict())
        return {"type": "object", "properties": props}


TypeSpec = DataType | Array | Object | Map | AnyType


def type_to_dict(t: TypeSpec) -> dict[str, Any]:
    """MLflow's JSON of a type: ``{"type": "double"}`` or a composite's dict."""
    return {"type": t.name} if isinstance(t, DataType) else t.to_dict()


def type_from_dict(d: dict[str, Any]) -> TypeSpec:
    """The type a JSON type spec names (the inverse of ``type_to_dict``)."""
    kind = d.get("type")
    if kind == "array":
        return Array(type_from_dict(d["items"]))
    if kind == "object":
        return Object(
            [
                Property(name, type_from_dict(spec), spec.get("required", True))
                for name, spec in d["properties"].items()
            ]
        )
    if kind == "map":
        return Map(type_from_dict(d["values"]))
    if kind == "any":
        return AnyType()
    return data_type(kind, "column")


__all__ = [
    "AnyType",
    "Array",
    "Map",
    "Object",
    "Property",
    "TypeSpec",
    "type_from_dict",
    "type_to_dict",
]
