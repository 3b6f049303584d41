"""wayline.xgboost: Boosters and scikit-learn API models, native and pyfunc loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

import wayline
import wayline.pyfunc
import wayline.xgboost
from wayline.errors import InvalidParameter
from wayline.models import Model

Data = tuple[pd.DataFrame, pd.Series]


def test_booster_round_trip(tracking: str, frame: Data) -> None:
    X, y = frame
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(X, label=y), num_boost_round=5)
    with wayline.start_run():
        info = wayline.xgboost.log_model(booster, name="model", input_example=X[:5])
    expected = booster.predict(xgb.DMatrix(X))
    native = wayline.xgboost.load_model(info.model_uri)
    assert isinstance(native, xgb.Booster)
    np.testing.assert_allclose(native.predict(xgb.DMatrix(X)), expected)
    pyfunc = wayline.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(pyfunc.predict(X), expected)
    conf = Model.load(info.model_uri).flavors["xgboost"]
    assert conf["model_class"] == "xgboost.core.Booster"
    assert (conf["data"], conf["model_format"]) == ("model.ubj", "ubj")
    with pytest.raises(InvalidParameter, match="missing inputs"):
        pyfunc.predict(X.drop(columns="b"))


def test_sklearn_api_model_in_json(tmp_path: Path, frame: Data) -> None:
    X, y = frame
    clf = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(X, y)
    wayline.xgboost.save_model(clf, tmp_path / "m", model_format="json")
    assert (tmp_path / "m" / "model.json").is_file()
    native = wayline.xgboost.load_model(str(tmp_path / "m"))
    assert isinstance(native, xgb.XGBClassifier)
    np.testing.assert_array_equal(native.predict(X), clf.predict(X))
    pyfunc = wayline.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(pyfunc.predict(X), clf.predict(X))
    reqs = (tmp_path / "m" / "requirements.txt").read_text()
    assert f"xgboost=={xgb.__version__}" in reqs.splitlines()
