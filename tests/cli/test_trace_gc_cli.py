"""`wayline gc --traces` end to end on a real SQLite store."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from wayline.cli.main import cli
from wayline.entities.trace import TraceInfo
from wayline.store.sql.store import SqlStore

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _trace(store: SqlStore, experiment_id: str, age_days: float) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    now = time.time_ns() // 1_000_000
    info = store.start_trace(TraceInfo(trace_id, experiment_id, now - int(age_days * DAY_MS)))
    # A file in the trace's artifact folder (traces.json, as MLflow's clients upload it).
    folder = Path(info.tags["mlflow.artifactLocation"])
    folder.mkdir(parents=True)
    (folder / "traces.json").write_text("{}")
    return trace_id


def _ids(store: SqlStore, experiment_id: str) -> set[str]:
    return {t.trace_id for t in store.search_traces([experiment_id])}


def test_gc_traces_older_than(store_uri: str, tmp_path: Path) -> None:
    store = SqlStore(store_uri, str(tmp_path / "artifacts"))
    try:
        experiment_id = store.create_experiment("traced")
        old, recent = _trace(store, experiment_id, 40), _trace(store, experiment_id, 1)
        old_folder = tmp_path / "artifacts" / experiment_id / "traces" / old

        out = invoke("gc", "--traces", "--older-than", "30d", "--backend-store-uri", store_uri)

        assert "Removed 1 trace(s) from 1 experiment(s)." in out
        assert _ids(store, experiment_id) == {recent}
        assert not old_folder.exists()
        assert (tmp_path / "artifacts" / experiment_id / "traces" / recent).exists()
    finally:
        store.close()


def test_gc_traces_keep_last_in_the_experiments_named(store_uri: str, tmp_path: Path) -> None:
    store = SqlStore(store_uri, str(tmp_path / "artifacts"))
    try:
        swept = store.create_experiment("swept")
        spared = store.create_experiment("spared")
        newest = [_trace(store, swept, age) for age in (3, 2, 1)][1:]
        untouched = {_trace(store, spared, age) for age in (3, 2, 1)}

        out = invoke(
            "gc",
            "--traces",
            "--keep-last",
            "2",
            "--experiment-ids",
            swept,
            "--backend-store-uri",
            store_uri,
        )

        assert "Removed 1 trace(s) from 1 experiment(s)." in out
        assert _ids(store, swept) == set(newest)
        assert _ids(store, spared) == untouched
    finally:
        store.close()


def test_gc_without_traces_leaves_traces_alone(store_uri: str, tmp_path: Path) -> None:
    store = SqlStore(store_uri, str(tmp_path / "artifacts"))
    try:
        experiment_id = store.create_experiment("traced")
        trace_id = _trace(store, experiment_id, 400)
        out = invoke("gc", "--older-than", "1d", "--backend-store-uri", store_uri)
        assert "Removed 0 run(s) and 0 experiment(s)." in out
        assert _ids(store, experiment_id) == {trace_id}
    finally:
        store.close()


@pytest.mark.parametrize(
    "args",
    [
        ["--keep-last", "2"],
        ["--traces"],
        ["--traces", "--older-than", "1d", "--run-ids", "abc"],
        ["--traces", "--keep-last", "-1"],
    ],
    ids=["keep-last-alone", "no-rule", "run-ids", "negative"],
)
def test_gc_traces_usage_errors(store_uri: str, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["gc", *args, "--backend-store-uri", store_uri])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
