"""Signature types, as ``mlflow.types`` names them: ``Schema``, ``ColSpec``, ``TensorSpec``,
``DataType``, ``ParamSchema``, ``ParamSpec`` and the composite ``Array``, ``Object``,
``Property``, ``Map``, ``AnyType``.

Example::

    from wayline.types import ColSpec, ParamSchema, ParamSpec, Schema

    inputs = Schema([ColSpec("double", "x")])
    params = ParamSchema([ParamSpec("mult", "double", 1.0)])
"""

from __future__ import annotations

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
)

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]
