"""wayline.pytorch: whole-module pickles, exported programs, and state dicts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import wayline
import wayline.pyfunc
import wayline.pytorch
from wayline.errors import InvalidParameter
from wayline.models import Model

Data = tuple[pd.DataFrame, pd.Series]


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.linear(x))


@pytest.fixture
def net() -> Net:
    torch.manual_seed(0)
    return Net().eval()


def _array(X: pd.DataFrame) -> np.ndarray:
    return np.array(X, dtype=np.float32)  # a writable copy (torch warns on read-only arrays)


def _expected(net: Net, X: pd.DataFrame) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = net(torch.from_numpy(_array(X))).numpy()
    return out


def test_pickled_module_round_trip(tracking: str, frame: Data, net: Net) -> None:
    X, _ = frame
    with wayline.start_run():
        info = wayline.pytorch.log_model(net, name="model", input_example=X[:5])
    native = wayline.pytorch.load_model(info.model_uri)
    with torch.no_grad():
        out = native(torch.from_numpy(_array(X))).numpy()
    np.testing.assert_allclose(out, _expected(net, X))
    pyfunc = wayline.pyfunc.load_model(info.model_uri)
    predicted = pyfunc.predict(X)
    assert isinstance(predicted, pd.DataFrame)
    np.testing.assert_allclose(predicted.to_numpy(), _expected(net, X), rtol=1e-6)
    meta = Model.load(info.model_uri)
    assert meta.flavors["pytorch"]["model_data"] == "data"
    assert meta.flavors["pytorch"]["pytorch_version"] == torch.__version__
    pyfunc_conf = meta.flavors["python_function"]
    assert pyfunc_conf["pickle_module_name"] == "mlflow.pytorch.pickle_module"
    assert pyfunc_conf["config"] == {"device": None}
    with pytest.raises(InvalidParameter, match="missing inputs"):
        pyfunc.predict(X[["a"]])


def test_exported_program(tmp_path: Path, frame: Data, net: Net) -> None:
    X, _ = frame
    example = _array(X)[:4]
    path = tmp_path / "pt2"
    wayline.pytorch.save_model(net, path, serialization_format="pt2", input_example=example)
    assert (path / "data" / "model.pt2").is_file()
    predicted = wayline.pyfunc.load_model(str(path)).predict(_array(X))
    np.testing.assert_allclose(predicted, _expected(net, X), rtol=1e-6)


def test_state_dict(tracking: str, net: Net) -> None:
    with wayline.start_run() as run:
        wayline.pytorch.log_state_dict(net.state_dict(), "weights")
    state = wayline.pytorch.load_state_dict(f"runs:/{run.info.run_id}/weights")
    fresh = Net()
    fresh.load_state_dict(state)
    assert torch.equal(fresh.linear.weight, net.linear.weight)
    with pytest.raises(InvalidParameter, match="must be a dict"):
        wayline.pytorch.save_state_dict(net, "unused")  # type: ignore[arg-type]
