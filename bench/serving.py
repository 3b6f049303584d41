"""Prepare the model environment that W6's ``wayline-virtualenv`` target serves from.

W6 logs an iris LogisticRegression with ``wayline.sklearn.log_model`` and starts
``wayline models serve --env-manager virtualenv``: the server then runs in an environment holding
only the model's recorded requirements (scikit-learn, skops, numpy, scipy and Wayline), as a
deployment would, rather than in the development environment (where torch, installed for the
pytorch flavor's tests, is imported by skops' scan of scikit-learn and costs ~1.5 s and ~180 MB).
Environments are cached by their requirements, so saving the same kind of model here and
preparing its environment once makes W6 measure a warm start.

Usage (run by bench/run.sh MODE=serving): python bench/serving.py
"""

from __future__ import annotations

import tempfile

from sklearn.datasets import load_iris  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]

import wayline.sklearn
from wayline.serving.envs import prepare_environment


def main() -> None:
    features, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(features, target)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/model"
        wayline.sklearn.save_model(model, path, input_example=features.head(3))
        print(prepare_environment(path, "virtualenv"))


if __name__ == "__main__":
    main()
