"""The scoring server live over HTTP (uvicorn in a thread, one server per model and module):
every input format, params, encodings, limits, and malformed bodies (400, never 500)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from servers import live_server
from wayline.serving import ScoringSettings, create_scoring_app

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def iris_url(iris_model: str) -> Iterator[str]:
    with live_server(create_scoring_app(iris_model)) as url:
        yield url


@pytest.fixture(scope="module")
def scaler_url(scaler_model: str) -> Iterator[str]:
    with live_server(create_scoring_app(scaler_model)) as url:
        yield url


@pytest.fixture(scope="module")
def echo_url(echo_model: str) -> Iterator[str]:
    settings = ScoringSettings(timeout_s=0.5, max_request_bytes=2_000_000, max_batch_rows=50_000)
    with live_server(create_scoring_app(echo_model, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def chat_url(chat_model: str) -> Iterator[str]:
    with live_server(create_scoring_app(chat_model)) as url:
        yield url


def post(url: str, body: Any, content_type: str = "application/json") -> httpx.Response:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(
        f"{url}/invocations", content=content, headers={"Content-Type": content_type}, timeout=30
    )


def expected(iris: pd.DataFrame, rows: slice) -> list[int]:
    """The iris classes of ``rows`` (the first 50 are class 0, and so on); the model gets the
    rows the tests pick right."""
    return [int(i) // 50 for i in iris.index[rows]]


def test_health_version_and_routes(iris_url: str) -> None:
    for path in ("/ping", "/health"):
        response = httpx.get(iris_url + path)
        assert (response.status_code, response.text) == (200, "\n")
        assert response.headers["content-type"] == "application/json"
    assert httpx.get(iris_url + "/version").text == "3.18.0"
    assert httpx.get(iris_url + "/invocations").status_code == 405
    assert httpx.get(iris_url + "/nowhere").status_code == 404


def test_dataframe_split(iris_url: str, iris: pd.DataFrame) -> None:
    sample = iris.iloc[[0, 60, 120]]
    split = {"columns": list(sample.columns), "data": sample.to_numpy().tolist()}
    response = post(iris_url, {"dataframe_split": split})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": [0, 1, 2]}
    # integers where the schema says double are cast, as MLflow casts them
    ints = {"columns": split["columns"], "data": [[5, 3, 1, 0]]}
    assert post(iris_url, {"dataframe_split": ints}).json() == {"predictions": [0]}


def test_dataframe_records_instances_inputs(iris_url: str, iris: pd.DataFrame) -> None:
    records = iris.iloc[[0, 120]].to_dict(orient="records")
    assert post(iris_url, {"dataframe_records": records}).json() == {"predictions": [0, 2]}
    assert post(iris_url, {"instances": records}).json() == {"predictions": [0, 2]}
    columns = iris.iloc[[0, 120]].to_dict(orient="list")
    assert post(iris_url, {"inputs": columns}).json() == {"predictions": [0, 2]}


def test_csv_and_parquet(iris_url: str, iris: pd.DataFrame) -> None:
    response = post(iris_url, iris.iloc[::30].to_csv(index=False), "text/csv")
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": expected(iris, slice(None, None, 30))}
    buffer = io.BytesIO()
    iris.iloc[::30].to_parquet(buffer)
    response = post(iris_url, buffer.getvalue(), "application/vnd.apache.parquet")
    assert response.json() == {"predictions": expected(iris, slice(None, None, 30))}
    assert post(iris_url, "a,b\n1,2\n", "text/csv; charset=UTF-8").status_code == 400


def test_params(scaler_url: str) -> None:
    body: dict[str, Any] = {"inputs": {"x": [1.0, 2.0]}}
    assert post(scaler_url, body).json() == {"predictions": [1.0, 2.0]}
    assert post(scaler_url, {**body, "params": {"mult": 3}}).json() == {"predictions": [3.0, 6.0]}
    response = post(scaler_url, {**body, "params": {"mult": "abc"}})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "mult" in response.json()["message"]


def test_schema_enforcement_is_400(iris_url: str, iris: pd.DataFrame) -> None:
    missing = {"columns": list(iris.columns[:3]), "data": [[1.0, 2.0, 3.0]]}
    response = post(iris_url, {"dataframe_split": missing})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "petal width (cm)" in body["message"]
    assert body["error_class"] == "SCHEMA_ENFORCEMENT_FAILED"
    text = {"columns": list(iris.columns), "data": [["a", "b", "c", "d"]]}
    response = post(iris_url, {"dataframe_split": text})
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"


MALFORMED: list[tuple[str, bytes | str, str]] = [
    ("not json", b"{nope", "application/json"),
    ("not utf-8", b'{"inputs": "\xff\xfe"}', "application/json"),
    ("a list", b"[1, 2]", "application/json"),
    ("a number", b"3", "application/json"),
    ("no format key", b'{"data": [[1]]}', "application/json"),
    ("two format keys", b'{"inputs": [1], "instances": [1]}', "application/json"),
    ("split not a dict", b'{"dataframe_split": [[1]]}', "application/json"),
    ("split without data", b'{"dataframe_split": {"columns": ["a"]}}', "application/json"),
    ("split extra key", b'{"dataframe_split": {"data": [], "rows": 1}}', "application/json"),
    (
        "ragged split",
        b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}',
        "application/json",
    ),
    ("records not a list", b'{"dataframe_records": {"a": 1}}', "application/json"),
    ("records a string", b'{"dataframe_records": "rows"}', "application/json"),
    ("ragged instances", b'{"instances": [{"a": 1}, {"a": 1, "b": 2}]}', "application/json"),
    ("csv garbage", b'"unclosed,\n\x00\x01', "text/csv"),
    ("csv not utf-8", b"a,b\n\xff,\xfe\n", "text/csv"),
    ("parquet garbage", b"PAR1 not really", "application/vnd.apache.parquet"),
]


@pytest.mark.parametrize(
    ("body", "content_type"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_bodies_are_400(echo_url: str, body: bytes, content_type: str) -> None:
    response = post(echo_url, body, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE")
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/json; format=pandas-split", "application/json; charset=latin-1"],
)
def test_wrong_content_type_is_415(echo_url: str, content_type: str) -> None:
    response = post(echo_url, b'{"inputs": [1]}', content_type)
    assert response.status_code == 415
    no_header = httpx.post(f"{echo_url}/invocations", content=b'{"inputs": [1]}')
    assert no_header.status_code == 415


def test_model_error_is_400_without_traceback(echo_url: str) -> None:
    response = post(echo_url, {"inputs": {"fail": [1]}})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "BAD_REQUEST"
    assert "ValueError: the model cannot take this input" in body["message"]
    assert "stack_trace" not in body and "Traceback" not in response.text


def test_encodings(echo_url: str) -> None:
    split = {"columns": ["a", "b"], "data": [[1, "x"], [None, "y"]]}
    response = post(echo_url, {"dataframe_split": split})
    assert response.json() == {"predictions": [{"a": 1.0, "b": "x"}, {"a": None, "b": "y"}]}
    assert post(echo_url, {"inputs": [[1, 2], [3, 4]]}).json() == {"predictions": [[1, 2], [3, 4]]}
    assert post(echo_url, {"inputs": {"k": [1.5]}}).json() == {"predictions": {"k": [1.5]}}
    series = post(echo_url, {"inputs": {"shape": ["series"]}}).json()
    assert series == {"predictions": [{"score": 1.5}, {"score": 2.5}]}


def test_unified_llm_request_is_answered_unwrapped(chat_url: str) -> None:
    body = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}
    response = post(chat_url, body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "choices": [{"message": {"role": "user", "content": "hi"}}],
        "params": {"temperature": 0.5},
    }


def test_ten_megabyte_request(iris_url: str, iris: pd.DataFrame) -> None:
    rows = iris.to_numpy().tolist() * 3200  # 480,000 rows
    body = json.dumps({"dataframe_split": {"columns": list(iris.columns), "data": rows}})
    assert len(body) > 10_000_000
    response = post(iris_url, body)
    assert response.status_code == 200, response.text[:300]
    predictions = response.json()["predictions"]
    assert len(predictions) == len(rows)
    split = {"columns": list(iris.columns), "data": iris.to_numpy().tolist()}
    assert predictions[:150] == post(iris_url, {"dataframe_split": split}).json()["predictions"]


def test_limits(echo_url: str) -> None:
    too_large = post(echo_url, {"inputs": ["x" * 2_100_000]})
    assert too_large.status_code == 413
    assert "--max-request-bytes" in too_large.json()["message"]
    too_many = post(echo_url, {"inputs": list(range(60_000))})
    assert too_many.status_code == 400
    assert "at most 50000" in too_many.json()["message"]
    slow = post(echo_url, {"inputs": {"sleep": [2.0]}})
    assert slow.status_code == 504
    assert slow.json()["error_code"] == "DEADLINE_EXCEEDED"
    assert httpx.get(echo_url + "/ping").status_code == 200


def test_sklearn_flavor_model(iris: pd.DataFrame, tmp_path: Path) -> None:
    """A model of the sklearn flavor (model.skops, loaded through its pyfunc loader)."""
    from sklearn.datasets import load_iris  # type: ignore[import-untyped, unused-ignore]
    from sklearn.linear_model import (  # type: ignore[import-untyped, unused-ignore]
        LogisticRegression,
    )

    import wayline.sklearn

    _, target = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(iris, target)
    wayline.sklearn.save_model(estimator, str(tmp_path / "m"), input_example=iris.head(3))
    with live_server(create_scoring_app(str(tmp_path / "m"))) as url:
        records = iris.iloc[[0, 120]].to_dict(orient="records")
        response = post(url, {"dataframe_records": records})
        assert response.json() == {"predictions": estimator.predict(iris.iloc[[0, 120]]).tolist()}
        csv = post(url, iris.iloc[[0, 120]].to_csv(index=False), "text/csv")
        assert csv.json() == response.json()
