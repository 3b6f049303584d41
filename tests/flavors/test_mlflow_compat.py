"""scikit-learn models move between Wayline and real MLflow 3.18 (run in its own venv)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

import wayline.pyfunc
import wayline.sklearn
from models._mlflow import run_mlflow
from wayline.errors import InvalidParameter

pytestmark = pytest.mark.compat

FRAME: dict[str, Any] = {
    "columns": ["a", "b"],
    "data": [[0.1, 1.0], [2.0, -1.0], [-0.5, 0.3], [1.5, 1.5]],
}

MLFLOW_SAVE = """
import json
import pandas as pd
import mlflow.sklearn
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

frame = pd.DataFrame(**FRAME)
clf = LogisticRegression().fit(frame, [0, 1, 0, 1])
mlflow.sklearn.save_model(clf, "mlflow_skops", input_example=frame[:2])
mlflow.sklearn.save_model(
    clf, "mlflow_pickle", serialization_format="cloudpickle", pyfunc_predict_fn="predict_proba"
)
print(json.dumps({"pred": clf.predict(frame).tolist(), "proba": clf.predict_proba(frame).tolist()}))
"""

MLFLOW_LOAD = """
import json
import pandas as pd
import mlflow.pyfunc
import mlflow.sklearn

frame = pd.DataFrame(**FRAME)
model = mlflow.pyfunc.load_model("wl_model")
native = mlflow.sklearn.load_model("wl_model")
try:
    model.predict(frame[["a"]])
    error = None
except Exception as e:
    error = str(e)
print(json.dumps({
    "pred": model.predict(frame).tolist(),
    "native": native.predict(frame).tolist(),
    "error": error,
}))
"""


def test_mlflow_sklearn_models_load_in_wayline(mlflow_python: str, tmp_path: Path) -> None:
    expected = run_mlflow(mlflow_python, f"FRAME = {FRAME!r}\n" + MLFLOW_SAVE, tmp_path)
    frame = pd.DataFrame(**FRAME)
    skops_model = wayline.pyfunc.load_model(str(tmp_path / "mlflow_skops"))
    assert skops_model.predict(frame).tolist() == expected["pred"]
    native = wayline.sklearn.load_model(str(tmp_path / "mlflow_skops"))
    assert native.predict(frame).tolist() == expected["pred"]
    with pytest.raises(InvalidParameter, match="missing inputs"):
        skops_model.predict(frame[["a"]])
    proba = wayline.pyfunc.load_model(str(tmp_path / "mlflow_pickle")).predict(frame)
    np.testing.assert_allclose(proba, expected["proba"])


def test_wayline_sklearn_models_load_in_mlflow(mlflow_python: str, tmp_path: Path) -> None:
    frame = pd.DataFrame(**FRAME)
    clf = LogisticRegression().fit(frame, [0, 1, 0, 1])
    wayline.sklearn.save_model(clf, tmp_path / "wl_model", input_example=frame[:2])
    out = run_mlflow(mlflow_python, f"FRAME = {FRAME!r}\n" + MLFLOW_LOAD, tmp_path)
    assert out["pred"] == clf.predict(frame).tolist() == out["native"]
    assert out["error"] is not None and "b" in out["error"], json.dumps(out)
