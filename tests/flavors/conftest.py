"""Fixtures of the flavor tests: a tracking store in tmp_path (the pyfunc tests' fixture), the
MLflow oracle, and a small tabular data set."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models._mlflow import mlflow_python
from pyfunc.conftest import tracking

__all__ = ["mlflow_python", "tracking"]


@pytest.fixture(scope="session")
def frame() -> tuple[pd.DataFrame, pd.Series]:
    """200 rows of three float features and a 0/1 label that depends on them."""
    rng = np.random.default_rng(7)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    y = pd.Series((X["a"] + 0.5 * X["b"] - X["c"] > 0).astype(int), name="y")
    return X, y
