"""Models move between Wayline and real MLflow 3.18 (run from its own venv as a subprocess).

Each side defines its model class in a ``__main__`` script, as a user does in a notebook, so the
class is pickled by value; the base classes are the only names the pickle refers to, and each
side reads the other's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wayline.pyfunc
from models._mlflow import run_mlflow
from wayline.errors import InvalidParameter, WaylineError

pytestmark = pytest.mark.compat

FRAME: dict[str, list[Any]] = {"columns": ["x", "s"], "data": [[1.0, "a"], [2.5, "b"]]}

WAYLINE_SAVE = """
import json
import pandas as pd
import wayline.pyfunc

class Affine(wayline.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["offset"]) as f:
            self.offset = float(f.read())

    def predict(self, context, model_input, params=None):
        return model_input["x"] * params["mult"] + self.offset

frame = pd.DataFrame(**FRAME)
wayline.pyfunc.save_model(
    "wl_model", python_model=Affine(), artifacts={"offset": "offset.txt"},
    input_example=(frame, {"mult": 2.0}),
)
loaded = wayline.pyfunc.load_model("wl_model")
print(json.dumps(loaded.predict(frame, params={"mult": 3.0}).tolist()))
"""

MLFLOW_LOAD = """
import json
import pandas as pd
import mlflow.pyfunc

model = mlflow.pyfunc.load_model("wl_model")
frame = pd.DataFrame(**FRAME)
out = {"pred": model.predict(frame, params={"mult": 3.0}).tolist()}
try:
    model.predict(frame[["s"]])
except Exception as e:
    out["missing"] = str(e)
print(json.dumps(out))
"""

MLFLOW_SAVE = """
import json
import pandas as pd
import mlflow.pyfunc
from mlflow.models import infer_signature

class Affine(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["offset"]) as f:
            self.offset = float(f.read())

    def predict(self, context, model_input, params=None):
        return model_input["x"] * params["mult"] + self.offset

class NoContext(mlflow.pyfunc.PythonModel):
    def predict(self, model_input, params=None):
        return [len(model_input)]

frame = pd.DataFrame(**FRAME)
mlflow.pyfunc.save_model(
    "mlflow_model", python_model=Affine(), artifacts={"offset": "offset.txt"},
    signature=infer_signature(frame, frame["x"], params={"mult": 2.0}),
)
mlflow.pyfunc.save_model("mlflow_no_context", python_model=NoContext(), input_example=["a"])
loaded = mlflow.pyfunc.load_model("mlflow_model")
print(json.dumps(loaded.predict(frame, params={"mult": 3.0}).tolist()))
"""


def _with_frame(source: str) -> str:
    return f"FRAME = {json.dumps(FRAME)}\n" + textwrap.dedent(source)


def test_wayline_model_loads_in_mlflow(mlflow_python: str, tmp_path: Path) -> None:
    (tmp_path / "offset.txt").write_text("0.5")
    (tmp_path / "save.py").write_text(_with_frame(WAYLINE_SAVE))
    done = subprocess.run(
        [sys.executable, "save.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ours = json.loads(done.stdout.strip().splitlines()[-1])
    theirs = run_mlflow(mlflow_python, _with_frame(MLFLOW_LOAD), tmp_path)
    assert theirs["pred"] == ours == [3.5, 8.0]
    assert "missing inputs ['x']" in theirs["missing"]


def test_mlflow_model_loads_in_wayline(mlflow_python: str, tmp_path: Path) -> None:
    (tmp_path / "offset.txt").write_text("0.5")
    theirs = run_mlflow(mlflow_python, _with_frame(MLFLOW_SAVE), tmp_path)
    (tmp_path / "offset.txt").unlink()
    model = wayline.pyfunc.load_model(str(tmp_path / "mlflow_model"))
    frame = pd.DataFrame(FRAME["data"], columns=FRAME["columns"])
    assert model.predict(frame, params={"mult": 3.0}).tolist() == theirs == [3.5, 8.0]
    with pytest.raises(InvalidParameter, match=r"missing inputs \['x'\]"):
        model.predict(frame[["s"]])
    assert model.metadata.mlflow_version == "3.18.0"
    no_context = wayline.pyfunc.load_model(str(tmp_path / "mlflow_no_context"))
    assert no_context.predict(["a", "b"]) == [2]


def test_an_mlflow_flavor_without_a_wayline_loader_is_named(tmp_path: Path) -> None:
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.unknown_flavor\n"
    )
    with pytest.raises(WaylineError, match=r"mlflow\.unknown_flavor"):
        wayline.pyfunc.load_model(str(model_dir))
