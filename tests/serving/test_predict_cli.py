"""``wayline models predict``: CSV, JSON, JSON lines and Parquet, streamed in chunks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import wayline.pyfunc
from wayline.cli.main import cli


def predict(*args: str, input: bytes | None = None) -> bytes:
    result = CliRunner().invoke(cli, ["models", "predict", *args], input=input)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.fixture
def sample(iris: pd.DataFrame) -> pd.DataFrame:
    """75 rows, 25 of each class."""
    return iris.iloc[[*range(0, 25), *range(50, 75), *range(100, 125)]].reset_index(drop=True)


@pytest.fixture
def classes(iris_model: str, sample: pd.DataFrame) -> list[int]:
    """The model's answers for ``sample``, predicted in one piece in this process."""
    return [int(x) for x in wayline.pyfunc.load_model(iris_model).predict(sample)]


def test_csv_in_chunks_to_csv(
    iris_model: str, sample: pd.DataFrame, tmp_path: Path, classes: list[int]
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    sample.to_csv(source, index=False)
    predict("-m", iris_model, "-i", str(source), "-o", str(target), "--chunk-size", "10")
    written = pd.read_csv(target)
    assert list(written.columns) == ["prediction"]
    assert written["prediction"].tolist() == classes


def test_csv_to_json_matches_mlflow_output(
    iris_model: str, sample: pd.DataFrame, tmp_path: Path, classes: list[int]
) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.json"
    sample.to_csv(source, index=False)
    predict("-m", iris_model, "-i", str(source), "-o", str(target), "--chunk-size", "7")
    assert json.loads(target.read_bytes()) == {"predictions": classes}


def test_parquet_in_batches(
    iris_model: str, sample: pd.DataFrame, tmp_path: Path, classes: list[int]
) -> None:
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    sample.to_parquet(source, row_group_size=10)
    predict("-m", iris_model, "-i", str(source), "-o", str(target), "--chunk-size", "8")
    assert pd.read_parquet(target)["prediction"].tolist() == classes


def test_json_lines_and_stdout(
    iris_model: str, sample: pd.DataFrame, tmp_path: Path, classes: list[int]
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(sample.to_json(orient="records", lines=True))
    out = predict(
        "-m", iris_model, "-i", str(source), "--chunk-size", "20", "--output-format", "jsonl"
    )
    assert [json.loads(line) for line in out.splitlines()] == classes


def test_invocations_body_from_stdin(
    iris_model: str, sample: pd.DataFrame, classes: list[int]
) -> None:
    body = {"dataframe_split": sample.to_dict(orient="split", index=False)}
    out = predict("-m", iris_model, "-t", "json", input=json.dumps(body).encode())
    assert json.loads(out) == {"predictions": classes}


def test_params_flag(scaler_model: str, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("x\n1.0\n2.5\n")
    out = predict("-m", scaler_model, "-i", str(source), "--params", '{"mult": 2}')
    assert json.loads(out) == {"predictions": [2.0, 5.0]}


def test_bad_input_leaves_no_output(iris_model: str, tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(
        cli, ["models", "predict", "-m", iris_model, "-i", str(source), "-o", str(target)]
    )
    assert result.exit_code == 1
    assert "Model is missing inputs" in result.output
    assert list(tmp_path.iterdir()) == [source]
