"""A registered scikit-learn model served by alias: ``log_model(registered_model_name=...)``,
``models:/<name>@champion`` through pyfunc and the sklearn flavor, ``wayline models serve`` and
``wayline models predict`` with registry URIs, on a SQLite store in tmp_path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.datasets import load_iris  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]

import wayline
import wayline.pyfunc
import wayline.sklearn
from serving._servers import serve_process
from wayline.cli.main import cli
from wayline.tracking import fluent, uri

NAME = "iris-classifier"
TRACKING_ENV = ("WAYLINE_TRACKING_URI", "MLFLOW_TRACKING_URI")


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fluent API on a SQLite file in tmp_path (artifacts there too), set in the
    environment as well, so the CLI and server processes find the same store."""
    monkeypatch.chdir(tmp_path)
    db_uri = f"sqlite:///{tmp_path / 'wayline.db'}"
    for name in TRACKING_ENV:
        monkeypatch.setenv(name, db_uri)
    uri.set_tracking_uri(db_uri)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setattr(fluent, "_last_active_run_id", None)
    try:
        yield db_uri
    finally:
        while fluent.active_run() is not None:
            fluent.end_run()
        uri.set_tracking_uri(None)


@pytest.fixture
def champion(tracking: str, iris: pd.DataFrame) -> list[int]:
    """Two registered versions of an iris classifier, ``champion`` on the second (fitted on
    all classes); the champion's predictions for rows 0, 60 and 120."""
    _, target = load_iris(return_X_y=True, as_frame=True)
    weak = LogisticRegression(max_iter=200).fit(iris.iloc[:100], target.iloc[:100])
    strong = LogisticRegression(max_iter=500).fit(iris, target)
    with wayline.start_run():
        first = wayline.sklearn.log_model(weak, name="model", registered_model_name=NAME)
        second = wayline.sklearn.log_model(
            strong, name="model", registered_model_name=NAME, input_example=iris.head(3)
        )
    assert (first.registered_model_version, second.registered_model_version) == (1, 2)
    client = wayline.MlflowClient()
    client.set_registered_model_alias(NAME, "champion", 2)
    assert client.get_model_version(NAME, 2).model_id == second.model_id
    return [int(x) for x in strong.predict(iris.iloc[[0, 60, 120]])]


def test_load_by_alias_version_and_stage(champion: list[int], iris: pd.DataFrame) -> None:
    rows = iris.iloc[[0, 60, 120]]
    by_alias = wayline.pyfunc.load_model(f"models:/{NAME}@champion")
    assert [int(x) for x in by_alias.predict(rows)] == champion
    assert by_alias.model_id == wayline.MlflowClient().get_model_version(NAME, 2).model_id
    assert [int(x) for x in wayline.sklearn.load_model(f"models:/{NAME}/2").predict(rows)] == (
        champion
    )
    wayline.MlflowClient().transition_model_version_stage(NAME, 1, "Production")
    weak = wayline.pyfunc.load_model(f"models:/{NAME}/Production")
    assert weak.model_id == wayline.MlflowClient().get_model_version(NAME, 1).model_id
    latest = wayline.pyfunc.load_model(f"models:/{NAME}/latest")
    assert latest.model_id == by_alias.model_id


def test_serve_by_alias(champion: list[int], iris: pd.DataFrame, tmp_path: Path) -> None:
    rows = iris.iloc[[0, 60, 120]]
    body = {"dataframe_split": rows.to_dict(orient="split", index=False)}
    with serve_process(["-m", f"models:/{NAME}@champion"], tmp_path) as server:
        response = httpx.post(f"{server.url}/invocations", json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": champion}


def test_predict_by_version(champion: list[int], iris: pd.DataFrame, tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.json"
    iris.iloc[[0, 60, 120]].to_csv(source, index=False)
    args = ["models", "predict", "-m", f"models:/{NAME}/2", "-i", str(source), "-o", str(target)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_bytes()) == {"predictions": champion}


def test_serving_an_unknown_alias_fails_with_the_registry_message(
    champion: list[int], tmp_path: Path
) -> None:
    with (
        pytest.raises(RuntimeError, match="alias ghost not found"),
        serve_process(["-m", f"models:/{NAME}@ghost"], tmp_path),
    ):
        pass
