"""Fluent and Client artifact logging on a local store (SQLite + a local artifact root)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import wayline
from wayline.errors import InvalidParameter
from wayline.tracking import fluent, uri

TRACKING_ENV = (
    "WAYLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
)


@pytest.fixture
def local_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fluent API on a fresh database in tmp_path; artifacts default to tmp_path too."""
    for name in TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setattr(fluent, "_last_active_run_id", None)
    uri.set_tracking_uri(f"sqlite:///{tmp_path / 'fluent.db'}")
    try:
        yield tmp_path
    finally:
        while fluent.active_run() is not None:
            fluent.end_run()
        uri.set_tracking_uri(None)


def test_fluent_artifact_logging_lands_under_the_run_root(local_store: Path) -> None:
    source = local_store / "src"
    (source / "inner").mkdir(parents=True)
    (source / "inner" / "x.txt").write_text("x")
    (local_store / "model.pkl").write_bytes(b"pickle")

    with wayline.start_run() as run:
        wayline.log_text("hello", "notes/hello.txt")
        wayline.log_dict({"lr": 0.1, "layers": [2, 1]}, "config.yml")
        wayline.log_dict({"lr": 0.1}, "config.json")
        wayline.log_artifact(local_store / "model.pkl", artifact_path="model")
        wayline.log_artifacts(source, artifact_path="data")
        artifact_uri = wayline.get_artifact_uri()
        assert wayline.get_artifact_uri("model") == f"{artifact_uri}/model"

    run_id = run.info.run_id
    root = Path(artifact_uri)
    assert root == local_store / "wayline-artifacts" / "0" / run_id / "artifacts"
    assert (root / "notes" / "hello.txt").read_text() == "hello"
    assert yaml.safe_load((root / "config.yml").read_text()) == {"lr": 0.1, "layers": [2, 1]}
    assert json.loads((root / "config.json").read_text()) == {"lr": 0.1}
    assert (root / "model" / "model.pkl").read_bytes() == b"pickle"
    assert (root / "data" / "inner" / "x.txt").read_text() == "x"

    client = wayline.Client()
    assert [f.path for f in client.list_artifacts(run_id)] == [
        "config.json",
        "config.yml",
        "data",
        "model",
        "notes",
    ]
    local = client.download_artifacts(run_id, "data", local_store / "dl")
    assert (Path(local) / "inner" / "x.txt").read_text() == "x"


def test_logging_without_an_active_run_starts_one(local_store: Path) -> None:
    wayline.log_text("auto", "a.txt")
    active = wayline.active_run()
    assert active is not None
    assert [f.path for f in wayline.Client().list_artifacts(active.info.run_id)] == ["a.txt"]


def test_an_explicit_run_id_is_used(local_store: Path) -> None:
    client = wayline.Client()
    run = client.create_run("0")
    wayline.log_text("direct", "b.txt", run_id=run.info.run_id)
    assert wayline.active_run() is None
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == ["b.txt"]


def test_unsafe_artifact_files_are_refused(local_store: Path) -> None:
    with wayline.start_run():
        for bad in ("../escape.txt", "/abs.txt", "%2e%2e/x.txt"):
            with pytest.raises(InvalidParameter):
                wayline.log_text("no", bad)
    assert not (local_store / "wayline-artifacts" / "0" / "escape.txt").exists()
