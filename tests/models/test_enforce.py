"""Signature enforcement at predict time: clear errors, safe upcasts only, params with defaults."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wayline.errors import InvalidParameter
from wayline.models.enforce import enforce_params, enforce_schema
from wayline.types import ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec
from wayline.types.schema import Array

SCHEMA = Schema([ColSpec("double", "x"), ColSpec("long", "n"), ColSpec("string", "s", False)])


def test_missing_column_is_named() -> None:
    with pytest.raises(InvalidParameter, match=r"Model is missing inputs \['n'\]"):
        enforce_schema(pd.DataFrame({"x": [1.0]}), SCHEMA)


def test_optional_column_may_be_absent_and_extra_columns_are_dropped() -> None:
    out = enforce_schema(pd.DataFrame({"x": [1.0], "n": [2], "zzz": [0]}), SCHEMA)
    assert list(out.columns) == ["x", "n"]


def test_safe_upcasts() -> None:
    frame = pd.DataFrame(
        {"x": np.array([1, 2], dtype="int32"), "n": np.array([1, 2], dtype="int32")}
    )
    out = enforce_schema(frame, SCHEMA)
    assert (out["x"].dtype, out["n"].dtype) == (np.float64, np.int64)
    float32 = pd.DataFrame({"x": np.array([1.5], dtype="float32"), "n": [1]})
    assert enforce_schema(float32, SCHEMA)["x"].dtype == np.float64


def test_lossy_conversions_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="Incompatible input types for column n"):
        enforce_schema(pd.DataFrame({"x": [1.0], "n": [1.5]}), SCHEMA)
    with pytest.raises(InvalidParameter, match="column x"):
        enforce_schema(pd.DataFrame({"x": ["a"], "n": [1]}), SCHEMA)
    narrow = Schema([ColSpec("float", "x")])
    with pytest.raises(InvalidParameter, match="float64 to float32"):
        enforce_schema(pd.DataFrame({"x": [1.5]}), narrow)


def test_missing_ints_get_a_hint() -> None:
    with pytest.raises(InvalidParameter, match="missing values"):
        enforce_schema(pd.DataFrame({"x": [1.0], "n": [None]}).astype({"n": float}), SCHEMA)


def test_dicts_lists_and_scalars_become_frames() -> None:
    assert enforce_schema({"x": 1.0, "n": 2}, SCHEMA)["x"].tolist() == [1.0]
    assert enforce_schema([{"x": 1.0, "n": 2}], SCHEMA)["n"].tolist() == [2]
    unnamed = Schema([ColSpec("string")])
    assert enforce_schema(["a", "b"], unnamed)[0].tolist() == ["a", "b"]
    assert enforce_schema("a", unnamed)[0].tolist() == ["a"]


def test_array_columns_check_their_items() -> None:
    schema = Schema([ColSpec(Array("string"), "tags")])
    assert enforce_schema({"tags": ["a", "b"]}, schema)["tags"][0] == ["a", "b"]
    with pytest.raises(InvalidParameter):
        enforce_schema({"tags": [1.5]}, schema)


def test_tensors_check_shape_and_dtype() -> None:
    schema = Schema([TensorSpec(np.dtype("float32"), (-1, 3))])
    assert enforce_schema(np.zeros((2, 3), dtype="float32"), schema).shape == (2, 3)
    with pytest.raises(InvalidParameter, match="Shape of input"):
        enforce_schema(np.zeros((2, 4), dtype="float32"), schema)
    with pytest.raises(InvalidParameter, match="dtype of input"):
        enforce_schema(np.zeros((2, 3), dtype="float64"), schema)
    named = Schema([TensorSpec(np.dtype("float64"), (-1,), "a")])
    with pytest.raises(InvalidParameter, match=r"missing inputs \['a'\]"):
        enforce_schema({"b": np.zeros(2)}, named)


PARAMS = ParamSchema([ParamSpec("mult", "double", 1.0), ParamSpec("tags", "string", ["x"], (-1,))])


def test_params_defaults_conversions_and_unknowns() -> None:
    assert enforce_params(None, PARAMS) == {"mult": 1.0, "tags": ["x"]}
    out = enforce_params({"mult": 3, "other": 1}, PARAMS)
    assert out == {"mult": 3.0, "tags": ["x"]}
    assert isinstance(out["mult"], float)


def test_bad_params_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="Invalid parameters found"):
        enforce_params({"mult": "abc"}, PARAMS)
    with pytest.raises(InvalidParameter, match="1D array"):
        enforce_params({"tags": "x"}, PARAMS)


def test_params_without_a_schema_are_ignored() -> None:
    assert enforce_params({"a": 1}, None) == {}
    assert enforce_params(None, None) is None
