"""``wayline models serve`` as a real process: one worker, several workers, and a model
environment built by ``--env-manager virtualenv``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from serving._servers import serve_process


def split_body(frame: pd.DataFrame) -> dict[str, object]:
    return {"dataframe_split": frame.to_dict(orient="split", index=False)}


def test_serve_answers_ping_and_predicts(
    iris_model: str, iris: pd.DataFrame, tmp_path: Path
) -> None:
    with serve_process(["-m", iris_model, "--timeout", "5", "--access-log"], tmp_path) as server:
        response = httpx.post(f"{server.url}/invocations", json=split_body(iris.iloc[[0, 120]]))
        assert response.status_code == 200, response.text
        assert response.json() == {"predictions": [0, 2]}
        assert httpx.get(f"{server.url}/health").status_code == 200
    assert "path=/invocations status=200" in server.output()


@pytest.mark.slow
def test_serve_with_workers(iris_model: str, iris: pd.DataFrame, tmp_path: Path) -> None:
    with serve_process(["-m", iris_model, "-w", "2"], tmp_path) as server:
        for _ in range(4):
            response = httpx.post(f"{server.url}/invocations", json=split_body(iris.iloc[[0]]))
            assert response.json() == {"predictions": [0]}


def test_serve_reports_a_missing_model(tmp_path: Path) -> None:
    missing = ["-m", str(tmp_path / "nothing")]
    with (
        pytest.raises(RuntimeError, match="There is no model at"),
        serve_process(missing, tmp_path),
    ):
        pass
