"""wayline.lightgbm: Boosters (model.lgb) and scikit-learn API models (skops)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

import wayline
import wayline.lightgbm
import wayline.pyfunc
from wayline.errors import InvalidParameter
from wayline.models import Model

Data = tuple[pd.DataFrame, pd.Series]
PARAMS: dict[str, Any] = {"num_leaves": 4, "min_data_in_leaf": 5, "verbose": -1}


def test_booster_round_trip(tracking: str, frame: Data) -> None:
    X, y = frame
    booster = lgb.train(PARAMS, lgb.Dataset(X, label=y), num_boost_round=5)
    with wayline.start_run():
        info = wayline.lightgbm.log_model(booster, name="model", input_example=X[:5])
    native = wayline.lightgbm.load_model(info.model_uri)
    assert isinstance(native, lgb.Booster)
    np.testing.assert_allclose(native.predict(X), booster.predict(X))
    pyfunc = wayline.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(pyfunc.predict(X), booster.predict(X))
    conf = Model.load(info.model_uri).flavors["lightgbm"]
    assert (conf["data"], conf["model_class"]) == ("model.lgb", "lightgbm.basic.Booster")
    with pytest.raises(InvalidParameter, match="column a"):
        pyfunc.predict(X.assign(a="x"))


def test_sklearn_api_model_saved_with_skops(tmp_path: Path, frame: Data) -> None:
    X, y = frame
    clf = lgb.LGBMClassifier(n_estimators=5, num_leaves=4, min_child_samples=5, verbose=-1)
    clf.fit(X, y)
    wayline.lightgbm.save_model(clf, tmp_path / "m")
    conf = Model.load(tmp_path / "m").flavors["lightgbm"]
    assert conf["data"] == "model.skops" and conf["serialization_format"] == "skops"
    assert "lightgbm.sklearn.LGBMClassifier" in conf["skops_trusted_types"]
    native = wayline.lightgbm.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(native.predict(X), clf.predict(X))
    pyfunc = wayline.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(pyfunc.predict(X), clf.predict(X))
