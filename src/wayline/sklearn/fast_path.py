"""Predicting from plain arrays when a DataFrame adds nothing but cost.

scikit-learn turns a DataFrame into an array on every call, after checking its column names
against ``feature_names_in_``: on a one-row request that is most of the time ``predict`` takes
(about four fifths here). When a DataFrame holds exactly the fitted columns, in order, all of
plain numeric dtypes, the array is the same data. So the pyfunc wrapper keeps a *twin*: a shallow
copy of the estimator without ``feature_names_in_`` (sharing every fitted array), called with the
array, which scikit-learn then takes without a names warning.

The twin is trusted only after a check at first use: on a row of zeros it must answer exactly
as the estimator does on the same row as a DataFrame, and warn about nothing. Meta-estimators
whose inner estimators still know the names (a search's ``best_estimator_``, a pipeline's steps),
or that select columns by name, fail the check and keep the DataFrame path.
"""

from __future__ import annotations

import copy
import sys
import warnings
from typing import Any

# Not the first choice for estimators that route columns by name.
_NAME_ROUTING_MODULES = ("sklearn.pipeline", "sklearn.compose")


def names_free_twin(model: Any, method: str) -> Any | None:
    """The estimator's twin for ``method`` (module docstring), or None when it does not hold."""
    names = getattr(model, "feature_names_in_", None)
    if names is None or type(model).__module__.startswith(_NAME_ROUTING_MODULES):
        return None
    import numpy as np
    import pandas as pd

    try:
        twin = copy.copy(model)
        del twin.feature_names_in_
        zeros = np.zeros((1, len(names)))
        expected = getattr(model, method)(pd.DataFrame(zeros, columns=list(names)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = getattr(twin, method)(zeros)
        if caught or type(got) is not type(expected) or not np.array_equal(got, expected):
            return None
    except Exception:  # any failure: the estimator keeps the DataFrame path
        return None
    return twin


def plain_rows(data: Any, names: list[str]) -> Any | None:
    """``data`` as an array when it is a DataFrame of exactly ``names``, in order, with plain
    numeric columns; None otherwise."""
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(data, pandas.DataFrame):
        return None
    if list(data.columns) != names:
        return None
    numpy = sys.modules["numpy"]  # pandas imports it
    for dtype in data.dtypes:
        # numpy dtypes only: nullable extension types carry NA the array would lose.
        if not isinstance(dtype, numpy.dtype) or dtype.kind not in "fiu":
            return None
    return data.to_numpy()


__all__ = ["names_free_twin", "plain_rows"]
