"""Fixtures of the serving tests: saved models, once per session."""

from __future__ import annotations

from pathlib import Path

import cloudpickle  # type: ignore[import-untyped]
import pandas as pd
import pytest
from sklearn.datasets import load_iris  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]

import wayline.pyfunc
from serving import _models
from wayline.models import ModelSignature
from wayline.types import ColSpec, ParamSchema, ParamSpec, Schema


@pytest.fixture(scope="session")
def iris() -> pd.DataFrame:
    features, _ = load_iris(return_X_y=True, as_frame=True)
    assert isinstance(features, pd.DataFrame)
    return features


def _save(path: Path, model: wayline.pyfunc.PythonModel, **kwargs: object) -> str:
    cloudpickle.register_pickle_by_value(_models)
    try:
        wayline.pyfunc.save_model(str(path), python_model=model, **kwargs)  # type: ignore[arg-type]
    finally:
        cloudpickle.unregister_pickle_by_value(_models)
    return str(path)


@pytest.fixture(scope="session")
def iris_model(tmp_path_factory: pytest.TempPathFactory, iris: pd.DataFrame) -> str:
    """A logistic regression on iris, signature and example from three rows."""
    _, target = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(iris, target)
    path = tmp_path_factory.mktemp("models") / "iris"
    return _save(path, _models.Classifier(estimator), input_example=iris.head(3))


@pytest.fixture(scope="session")
def scaler_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Column ``x`` (double) times the ``mult`` param (double, default 1.0)."""
    signature = ModelSignature(
        inputs=Schema([ColSpec("double", "x")]),
        params=ParamSchema([ParamSpec("mult", "double", 1.0)]),
    )
    path = tmp_path_factory.mktemp("models") / "scaler"
    return _save(path, _models.Scaler(), signature=signature)


@pytest.fixture(scope="session")
def echo_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """No signature: the input comes back as the model got it."""
    return _save(tmp_path_factory.mktemp("models") / "echo", _models.Echo())


@pytest.fixture(scope="session")
def chat_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    signature = ModelSignature(
        inputs=None, params=ParamSchema([ParamSpec("temperature", "double", 0.0)])
    )
    path = tmp_path_factory.mktemp("models") / "chat"
    return _save(path, _models.Chat(), signature=signature)
