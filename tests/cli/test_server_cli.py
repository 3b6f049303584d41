"""``wayline server`` flags: refused combinations in-process, the rest on a real server process."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from servers import server_process
from wayline.cli.main import cli
from wayline.server.settings import ServerSettings

API = "/api/2.0/mlflow"


def test_no_serve_artifacts_needs_an_artifact_root(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'x.db'}"
    for extra in ([], ["--default-artifact-root", "mlflow-artifacts:/"]):
        result = CliRunner().invoke(
            cli, ["server", "--backend-store-uri", uri, "--no-serve-artifacts", *extra]
        )
        assert result.exit_code == 2
        assert "--default-artifact-root" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "x.db").exists()  # refused before touching the database


def test_artifacts_only_needs_the_proxy() -> None:
    result = CliRunner().invoke(cli, ["server", "--artifacts-only", "--no-serve-artifacts"])
    assert result.exit_code == 2
    assert "--artifacts-only" in result.output


def test_bad_database_uri_is_one_line() -> None:
    result = CliRunner().invoke(cli, ["server", "--backend-store-uri", "oracle://db/x"])
    assert result.exit_code == 1
    assert "Unsupported" in result.output
    assert "Traceback" not in result.output


def test_pool_sizes_shrink_with_workers() -> None:
    assert ServerSettings().pool_options() == {"pool_size": 5, "max_overflow": 10}
    assert ServerSettings(workers=8).pool_options() == {"pool_size": 2, "max_overflow": 5}
    explicit = ServerSettings(workers=8, db_pool_size=3, db_max_overflow=0)
    assert explicit.pool_options() == {"pool_size": 3, "max_overflow": 0}


@pytest.mark.slow
def test_flags_and_environment_reach_the_server(tmp_path: Path) -> None:
    backend = tmp_path / "backend.db"
    registry = tmp_path / "registry.db"
    root = tmp_path / "shared-artifacts"
    args = [
        "--registry-store-uri",
        f"sqlite:///{registry}",
        "--no-serve-artifacts",
        "--default-artifact-root",
        str(root),
        "--allowed-hosts",
        "127.0.0.1, wayline.test",
        "--cors-allowed-origins",
        "https://notebook.example",
        "--x-frame-options",
        "deny",
    ]
    # The backend store comes from MLflow's environment variable, as `mlflow server` reads it;
    # so does the choice to refuse over-long param values rather than truncate them.
    env = {
        "MLFLOW_BACKEND_STORE_URI": f"sqlite:///{backend}",
        "MLFLOW_TRUNCATE_LONG_VALUES": "false",
    }
    with server_process(args, tmp_path, env=env) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            created = http.post(
                f"{API}/experiments/create",
                json={"name": "flags"},
                headers={"Origin": "https://notebook.example"},
            )
            assert created.status_code == 200, created.text
            assert created.headers["access-control-allow-origin"] == "https://notebook.example"
            assert created.headers["x-frame-options"] == "DENY"
            experiment = http.get(
                f"{API}/experiments/get", params={"experiment_id": created.json()["experiment_id"]}
            ).json()["experiment"]
            assert experiment["artifact_location"].startswith(str(root))
            run = http.post(
                f"{API}/runs/create", json={"experiment_id": created.json()["experiment_id"]}
            ).json()["run"]
            long_param = {"run_id": run["info"]["run_id"], "key": "p", "value": "v" * 6001}
            refused = http.post(f"{API}/runs/log-parameter", json=long_param)
            assert refused.status_code == 400, refused.text
            assert http.get("/version", headers={"Host": "wayline.test:80"}).status_code == 200
            assert http.get("/version", headers={"Host": "localhost"}).status_code == 403
            # Without --serve-artifacts the proxy is not mounted.
            assert http.get("/api/2.0/mlflow-artifacts/artifacts").status_code == 404
        output = server.output()
    assert "method=POST path=/api/2.0/mlflow/experiments/create status=200" in output
    # Both stores got their schema before the server started.
    for database in (backend, registry):
        with sqlite3.connect(database) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone()


@pytest.mark.slow
def test_artifacts_only_serves_the_proxy_alone(tmp_path: Path) -> None:
    destination = tmp_path / "store"
    args = [
        "--artifacts-only",
        "--artifacts-destination",
        str(destination),
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'unused.db'}",
        "--no-access-log",
    ]
    with (
        server_process(args, tmp_path) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        tracking = http.post(f"{API}/experiments/create", json={"name": "nope"})
        assert tracking.status_code == 503
        assert tracking.headers["content-type"].startswith("text/plain")
        assert "artifacts-only" in tracking.text
        assert http.get(f"{API}/experiments/search").status_code == 503
        uploaded = http.put(
            "/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/a.txt", content=b"hello"
        )
        assert uploaded.status_code == 200, uploaded.text
        assert (destination / "1" / "run" / "artifacts" / "a.txt").read_bytes() == b"hello"
        assert http.get("/health").text == "OK"
        # How clients learn what the proxy offers stays open.
        assert http.get("/api/3.0/mlflow/server-info").status_code == 200
        output = server.output()
    assert not (tmp_path / "unused.db").exists()  # the tracking database is never opened
    assert "method=" not in output  # --no-access-log
