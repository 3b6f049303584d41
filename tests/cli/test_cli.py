"""The `wayline` command end to end on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wayline.cli.db import parse_duration_ms
from wayline.cli.main import cli
from wayline.errors import InvalidParameter
from wayline.tracking.client import Client


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_experiment_lifecycle(store_uri: str) -> None:
    out = invoke("experiments", "create", "-n", "churn", "--tracking-uri", store_uri)
    assert "Created experiment 'churn' with id 1" in out
    invoke(
        "experiments", "rename", "-x", "1", "--new-name", "churn-v2", "--tracking-uri", store_uri
    )
    assert "churn-v2" in invoke("experiments", "search", "--tracking-uri", store_uri)

    invoke("experiments", "delete", "-x", "1", "--tracking-uri", store_uri)
    active = invoke("experiments", "search", "--tracking-uri", store_uri)
    assert "churn-v2" not in active
    assert "churn-v2" in invoke("experiments", "search", "-v", "all", "--tracking-uri", store_uri)

    invoke("experiments", "restore", "-x", "1", "--tracking-uri", store_uri)
    assert Client(store_uri).get_experiment("1").lifecycle_stage == "active"


def test_errors_are_one_line_not_tracebacks(store_uri: str) -> None:
    invoke("experiments", "create", "-n", "dup", "--tracking-uri", store_uri)
    result = CliRunner().invoke(
        cli, ["experiments", "create", "-n", "dup", "--tracking-uri", store_uri]
    )
    assert result.exit_code == 1
    assert "RESOURCE_ALREADY_EXISTS" in result.output
    assert "Traceback" not in result.output


def test_runs_list_describe_delete_restore(store_uri: str) -> None:
    client = Client(store_uri)
    run = client.create_run("0", run_name="first")
    run_id = run.info.run_id
    client.log_param(run_id, "alpha", "0.5")
    client.log_metric(run_id, "loss", 0.25, step=3)

    listing = invoke("runs", "list", "--experiment-id", "0", "--tracking-uri", store_uri)
    assert run_id in listing
    filtered = invoke(
        "runs",
        "list",
        "--experiment-id",
        "0",
        "--filter",
        "metrics.loss > 1",
        "--tracking-uri",
        store_uri,
    )
    assert run_id not in filtered

    described = json.loads(
        invoke("runs", "describe", "--run-id", run_id, "--tracking-uri", store_uri)
    )
    assert described["info"]["run_name"] == "first"
    assert described["data"]["params"] == {"alpha": "0.5"}
    assert described["data"]["metrics"]["loss"] == {
        "value": 0.25,
        "step": 3,
        "timestamp": described["data"]["metrics"]["loss"]["timestamp"],
    }

    invoke("runs", "delete", "--run-id", run_id, "--tracking-uri", store_uri)
    assert run_id not in invoke("runs", "list", "--experiment-id", "0", "--tracking-uri", store_uri)
    invoke("runs", "restore", "--run-id", run_id, "--tracking-uri", store_uri)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_gc_removes_deleted_runs_and_their_artifacts(store_uri: str, tmp_path: Path) -> None:
    client = Client(store_uri)
    exp_id = client.create_experiment("gc", artifact_location=str(tmp_path / "art"))
    doomed = client.create_run(exp_id).info
    kept = client.create_run(exp_id).info
    Path(doomed.artifact_uri).mkdir(parents=True)
    (Path(doomed.artifact_uri) / "model.bin").write_bytes(b"x")
    client.delete_run(doomed.run_id)

    out = invoke("gc", "--backend-store-uri", store_uri)
    assert "Removed 1 run(s)" in out
    assert not Path(doomed.artifact_uri).exists()
    assert client.get_run(kept.run_id).info.run_id == kept.run_id
    with pytest.raises(Exception, match="not found"):
        client.get_run(doomed.run_id)


def test_gc_older_than_keeps_recent_deletions(store_uri: str) -> None:
    client = Client(store_uri)
    run_id = client.create_run("0").info.run_id
    client.delete_run(run_id)
    assert "Removed 0 run(s)" in invoke(
        "gc", "--older-than", "1d", "--backend-store-uri", store_uri
    )
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"


def test_db_upgrade_on_fresh_database(store_uri: str) -> None:
    assert "up to date" in invoke("db", "upgrade", store_uri)
    assert Client(store_uri).get_experiment("0").name == "Default"


@pytest.mark.parametrize(
    ("text", "ms"),
    [("30d", 30 * 86_400_000), ("1d2h3m4s", 93_784_000), ("45m", 2_700_000), ("10s", 10_000)],
)
def test_parse_duration(text: str, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "3x", "1h2d", "-1d"])
def test_parse_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(InvalidParameter, match=r"e\.g\. '30d'"):
        parse_duration_ms(text)
