"""The array fast path of the sklearn pyfunc wrapper: same answers as the DataFrame path, taken
only where it holds (sklearn/fast_path.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped, unused-ignore]
from sklearn.datasets import load_iris  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import GridSearchCV  # type: ignore[import-untyped, unused-ignore]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped, unused-ignore]
from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped, unused-ignore]

from wayline.sklearn import _SklearnModelWrapper
from wayline.sklearn.fast_path import names_free_twin, plain_rows


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    features, target = load_iris(return_X_y=True, as_frame=True)
    return features, target


def test_a_plain_estimator_answers_the_same_from_arrays(
    iris: tuple[pd.DataFrame, pd.Series],
) -> None:
    features, target = iris
    model = LogisticRegression(max_iter=500).fit(features, target)
    wrapper = _SklearnModelWrapper(model)
    for method in ("predict", "predict_proba"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "X does not have valid feature names"
            got = wrapper.predict(features.head(7), {"predict_method": method})
        np.testing.assert_array_equal(got, getattr(model, method)(features.head(7)))
    assert wrapper._twins["predict"] is not None
    assert hasattr(model, "feature_names_in_")  # the estimator itself is untouched


@pytest.mark.parametrize(
    "build",
    [
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        lambda: GridSearchCV(LogisticRegression(max_iter=500), {"C": [1.0]}, cv=2),
        lambda: make_pipeline(
            ColumnTransformer([("scale", StandardScaler(), ["sepal length (cm)"])]),
            LogisticRegression(max_iter=500),
        ),
    ],
    ids=["pipeline", "search", "column-transformer"],
)
def test_estimators_that_know_names_inside_keep_the_dataframe_path(
    iris: tuple[pd.DataFrame, pd.Series], build: object
) -> None:
    features, target = iris
    model = build().fit(features, target)  # type: ignore[operator]
    assert names_free_twin(model, "predict") is None
    wrapper = _SklearnModelWrapper(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = wrapper.predict(features.head(5))
    np.testing.assert_array_equal(got, model.predict(features.head(5)))


def test_only_exact_numeric_frames_become_arrays() -> None:
    names = ["a", "b"]
    exact = pd.DataFrame({"a": [1.0], "b": [2]})
    assert plain_rows(exact, names) is not None
    assert plain_rows(exact[["b", "a"]], names) is None  # other order
    assert plain_rows(pd.DataFrame({"a": [1.0]}), names) is None  # a column missing
    assert plain_rows(pd.DataFrame({"a": ["x"], "b": [2]}), names) is None  # text
    nullable = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [1, 2]})
    assert plain_rows(nullable, names) is None  # NA the array would lose
    assert plain_rows(np.zeros((1, 2)), names) is None
