"""Signature inference and its MLmodel JSON, checked against real MLflow 3.18's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models._mlflow import run_mlflow
from wayline.errors import InvalidParameter
from wayline.models import ModelSignature, infer_signature
from wayline.types import ColSpec, DataType, ParamSchema, ParamSpec, Schema, TensorSpec
from wayline.types.schema import Array, Object, Property

# Built the same way in this process and in MLflow's (exec'd in both).
CASES_SOURCE = """
import numpy as np
import pandas as pd

CASES = {
    "dataframe": pd.DataFrame({
        "i": np.array([1, 2], dtype="int64"),
        "i32": np.array([1, 2], dtype="int32"),
        "f": [1.5, 2.5],
        "f32": np.array([1.5, 2.5], dtype="float32"),
        "s": ["a", "b"],
        "b": [True, False],
        "opt": ["x", None],
        "tags": [["a", "b"], ["c"]],
    }),
    "series": pd.Series([1.0, 2.0], name="y"),
    "unnamed_series": pd.Series([1, 2]),
    "ndarray": np.zeros((4, 3), dtype="float32"),
    "dict_of_arrays": {"a": np.ones((2, 2)), "b": np.array(["x", "y"])},
    "records": [{"q": "hi", "n": 1, "extra": {"k": 1}}, {"q": "yo", "n": 2}],
    "string": "a sentence",
    "strings": ["a", "b"],
    "json_dict": {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5},
}
PARAMS = {"mult": 2.0, "n": 3, "flag": True, "name": "x", "tags": ["a", "b"]}
"""


def _cases() -> tuple[dict[str, Any], dict[str, Any]]:
    scope: dict[str, Any] = {}
    exec(CASES_SOURCE, scope)
    return scope["CASES"], scope["PARAMS"]


def _ours() -> dict[str, Any]:
    cases, params = _cases()
    out = {name: infer_signature(data).to_dict()["inputs"] for name, data in cases.items()}
    out["params"] = infer_signature(params=params).to_dict()["params"]
    return out


def test_inferred_json_matches_mlflow(mlflow_python: str, tmp_path: Path) -> None:
    theirs = run_mlflow(
        mlflow_python,
        CASES_SOURCE
        + """
import json, warnings
warnings.simplefilter("ignore")
from mlflow.models import infer_signature
out = {name: infer_signature(data).to_dict()["inputs"] for name, data in CASES.items()}
out["params"] = infer_signature(params=PARAMS).to_dict()["params"]
print(json.dumps(out))
""",
        tmp_path,
    )
    ours = _ours()
    for name in theirs:
        assert json.loads(ours[name]) == json.loads(theirs[name]), name
        assert ours[name] == theirs[name], name  # byte for byte: key order too


def test_mlflow_json_reads_back_equal(mlflow_python: str, tmp_path: Path) -> None:
    theirs = run_mlflow(
        mlflow_python,
        CASES_SOURCE
        + """
import json, warnings
warnings.simplefilter("ignore")
from mlflow.models import infer_signature
print(json.dumps(infer_signature(CASES["dataframe"], CASES["series"], PARAMS).to_dict()))
""",
        tmp_path,
    )
    signature = ModelSignature.from_dict(theirs)
    assert signature.to_dict() == theirs


def test_dataframe_types_and_optional_columns() -> None:
    cases, _ = _cases()
    inputs = infer_signature(cases["dataframe"]).inputs
    assert inputs is not None
    by_name = {c.name: c for c in inputs.inputs if isinstance(c, ColSpec)}
    assert by_name["i"].type == DataType.long
    assert by_name["i32"].type == DataType.integer
    assert by_name["f"].type == DataType.double
    assert by_name["s"].type == DataType.string
    assert by_name["b"].type == DataType.boolean
    assert not by_name["opt"].required
    assert by_name["tags"].type == Array(DataType.string)


def test_tensors_have_a_variable_first_dimension() -> None:
    inputs = infer_signature(np.zeros((5, 2), dtype="int32")).inputs
    assert inputs is not None
    assert inputs.inputs == [TensorSpec(np.dtype("int32"), (-1, 2))]


def test_records_with_missing_keys_are_optional() -> None:
    cases, _ = _cases()
    inputs = infer_signature(cases["records"]).inputs
    assert inputs is not None
    extra = inputs.inputs[2]
    assert isinstance(extra, ColSpec)
    assert (extra.name, extra.required) == ("extra", False)
    assert extra.type == Object([Property("k", DataType.long)])


def test_schema_round_trip_by_hand() -> None:
    signature = ModelSignature(
        Schema([ColSpec("double", "x"), ColSpec(Array("string"), "tags", required=False)]),
        Schema([ColSpec("double")]),
        ParamSchema([ParamSpec("mult", "double", 1.0), ParamSpec("k", "long", [1], (-1,))]),
    )
    assert ModelSignature.from_dict(signature.to_dict()) == signature


def test_bad_param_values_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="nested"):
        infer_signature(params={"nested": [[1, 2]]})
    with pytest.raises(InvalidParameter):
        ParamSpec("mult", "double", "abc")


def test_uninferable_input_falls_back_to_any() -> None:
    signature = infer_signature(object())
    assert signature.to_dict()["inputs"] == '[{"type": "any", "required": true}]'


def test_mixed_schema_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="combination of named and unnamed"):
        Schema([ColSpec("double", "x"), ColSpec("double")])
    frame = pd.DataFrame({"x": [1.0]})
    assert infer_signature(frame).inputs == Schema([ColSpec("double", "x")])
