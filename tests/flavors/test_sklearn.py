"""wayline.sklearn: log, load natively and through pyfunc, MLflow's MLmodel keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped]

import wayline
import wayline.pyfunc
import wayline.sklearn
from wayline.errors import InvalidParameter
from wayline.models import Model

Data = tuple[pd.DataFrame, pd.Series]


@pytest.fixture(scope="module")
def clf(frame: Data) -> object:
    X, y = frame
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)


def test_log_and_load_round_trip(tracking: str, frame: Data, clf: object) -> None:
    X, _ = frame
    with wayline.start_run():
        info = wayline.sklearn.log_model(clf, name="model", input_example=X[:5])
    native = wayline.sklearn.load_model(info.model_uri)
    pyfunc = wayline.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(native.predict(X), clf.predict(X))  # type: ignore[attr-defined]
    np.testing.assert_array_equal(pyfunc.predict(X), clf.predict(X))  # type: ignore[attr-defined]
    meta = Model.load(info.model_uri)
    assert meta.flavors["sklearn"]["serialization_format"] == "skops"
    assert meta.flavors["sklearn"]["pickled_model"] == "model.skops"
    assert meta.flavors["python_function"]["loader_module"] == "mlflow.sklearn"
    assert meta.flavors["python_function"]["predict_fn"] == "predict"
    schema = meta.get_input_schema()
    assert schema is not None and schema.input_names() == ["a", "b", "c"]


def test_signature_rejects_a_missing_column(tracking: str, frame: Data, clf: object) -> None:
    X, _ = frame
    with wayline.start_run():
        info = wayline.sklearn.log_model(clf, name="model", input_example=X[:5])
    model = wayline.pyfunc.load_model(info.model_uri)
    with pytest.raises(InvalidParameter, match=r"missing inputs.*'c'"):
        model.predict(X[["a", "b"]])
    with pytest.raises(InvalidParameter, match="column a"):
        model.predict(X.assign(a="text"))


def test_cloudpickle_and_predict_proba(tmp_path: Path, frame: Data, clf: object) -> None:
    X, _ = frame
    path = tmp_path / "proba"
    wayline.sklearn.save_model(
        clf, path, serialization_format="cloudpickle", pyfunc_predict_fn="predict_proba"
    )
    meta = Model.load(path)
    assert meta.flavors["sklearn"]["pickled_model"] == "model.pkl"
    assert meta.flavors["python_function"]["predict_fn"] == "predict_proba"
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert reqs[0].startswith("wayline") and any(r.startswith("cloudpickle==") for r in reqs)
    assert any(r.startswith("scikit-learn==") for r in reqs)
    proba = wayline.pyfunc.load_model(str(path)).predict(X)
    np.testing.assert_allclose(proba, clf.predict_proba(X))  # type: ignore[attr-defined]


def test_predict_method_param(tmp_path: Path, frame: Data, clf: object) -> None:
    X, _ = frame
    path = tmp_path / "m"
    wayline.sklearn.save_model(clf, path, input_example=(X[:3], {"predict_method": "predict"}))
    model = wayline.pyfunc.load_model(str(path))
    log_proba = model.predict(X, params={"predict_method": "predict_log_proba"})
    np.testing.assert_allclose(log_proba, clf.predict_log_proba(X))  # type: ignore[attr-defined]
    with pytest.raises(InvalidParameter, match="predict_method 'transform'"):
        model.predict(X, params={"predict_method": "transform"})


def test_skops_refuses_untrusted_types(tmp_path: Path, frame: Data) -> None:
    X, y = frame

    class Custom(LogisticRegression):  # type: ignore[misc]  # a type skops does not trust
        pass

    model = Custom().fit(X, y)
    with pytest.raises(InvalidParameter, match=r"untrusted types.*skops_trusted_types"):
        wayline.sklearn.save_model(model, tmp_path / "m")
    wayline.sklearn.save_model(model, tmp_path / "pickled", serialization_format="cloudpickle")
    loaded = wayline.sklearn.load_model(str(tmp_path / "pickled"))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
