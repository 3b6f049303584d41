"""wayline.onnx: an ONNX graph saved, loaded as a ModelProto and run by onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper, numpy_helper

import wayline
import wayline.onnx
import wayline.pyfunc
from wayline.errors import InvalidParameter
from wayline.models import Model, infer_signature

WEIGHTS = np.array([[0.5], [-1.0], [2.0]], dtype=np.float32)
BIAS = np.array([0.25], dtype=np.float32)


@pytest.fixture(scope="module")
def linear() -> onnx.ModelProto:
    """``y = x @ W + b`` for x of shape (batch, 3)."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        [numpy_helper.from_array(WEIGHTS, "W"), numpy_helper.from_array(BIAS, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def test_round_trip(tracking: str, linear: onnx.ModelProto) -> None:
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(20, 3)), columns=["a", "b", "c"])
    expected = X.to_numpy() @ WEIGHTS.astype(np.float64) + BIAS
    signature = infer_signature(X, pd.DataFrame({"y": expected[:, 0]}))
    with wayline.start_run():
        info = wayline.onnx.log_model(
            linear, name="model", signature=signature, input_example=X[:3]
        )
    native = wayline.onnx.load_model(info.model_uri)
    assert isinstance(native, onnx.ModelProto) and native.graph.name == "linear"
    pyfunc = wayline.pyfunc.load_model(info.model_uri)
    out = pyfunc.predict(X)
    assert list(out.columns) == ["y"]
    np.testing.assert_allclose(out["y"], expected[:, 0], rtol=1e-5)
    conf = Model.load(info.model_uri).flavors["onnx"]
    assert conf["data"] == "model.onnx"
    assert conf["providers"] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert conf["onnx_version"] == onnx.__version__
    with pytest.raises(InvalidParameter, match="missing inputs"):
        pyfunc.predict(X[["a", "b"]])


def test_ndarray_and_dict_inputs(tmp_path: Path, linear: onnx.ModelProto) -> None:
    path = tmp_path / "m"
    wayline.onnx.save_model(linear, path, onnx_execution_providers=["CPUExecutionProvider"])
    model = wayline.pyfunc.load_model(str(path))
    x = np.ones((2, 3), dtype=np.float64)  # float64 is cast to the model's float32
    out = model.predict(x)
    np.testing.assert_allclose(out["y"], np.full((2, 1), 1.75), rtol=1e-6)
    np.testing.assert_allclose(model.predict({"x": x.astype(np.float32)})["y"], out["y"])
    requirements = (path / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("onnxruntime==") for r in requirements)
