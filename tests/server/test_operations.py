"""Operating the server: metrics, access log, busy databases, schema checks, workers, shutdown.

In-process tests use ``live_server``; the worker and shutdown tests run ``wayline server`` as a
real process (``server_process``), as a deployment does.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from servers import live_server, server_process
from wayline.cli.main import cli
from wayline.errors import WaylineError
from wayline.server import ServerSettings, create_app
from wayline.store.sql.migrate import MIGRATIONS_DIR
from wayline.store.sql.migrations import HEAD_REVISION

from ._support import API, unique


def _settings(folder: Path, uri: str | None = None, **overrides: object) -> ServerSettings:
    return ServerSettings(
        backend_store_uri=uri or f"sqlite:///{folder / 'server.db'}",
        artifacts_destination=str(folder / "artifacts"),
        **overrides,  # type: ignore[arg-type]
    )


def _samples(metrics_text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == name
    ]


def _count(metrics_text: str, **labels: str) -> float:
    return sum(
        value
        for found, value in _samples(metrics_text, "wayline_http_requests_total")
        if all(found.get(k) == v for k, v in labels.items())
    )


async def _thing(request: Request) -> Response:
    return PlainTextResponse(request.path_params["thing_id"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(_settings(tmp_path_factory.mktemp("ops")))
    app.add_route("/things/{thing_id}", _thing)
    with live_server(app) as url:
        yield url


# ---------------------------------------------------------------- metrics and access log
def test_metrics_count_requests_by_route_template(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as http:
        for _ in range(3):
            assert http.get(f"{API}/experiments/get", params={"experiment_id": "0"}).is_success
        assert http.get("/ajax-api/2.0/mlflow/experiments/get?experiment_id=0").is_success
        for thing in ("a", "b", "c"):
            assert http.get(f"/things/{thing}").text == thing
        assert http.get(f"/random/{uuid.uuid4().hex}").status_code == 404
        assert http.get(f"{API}/experiments/get", params={"experiment_id": "999999"}).is_error
        scrape = http.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    metrics = scrape.text
    route = f"{API}/experiments/get"
    assert _count(metrics, method="GET", route=route, status="200") == 3
    assert _count(metrics, route=route, status="404") == 1
    assert _count(metrics, route="/ajax-api/2.0/mlflow/experiments/get") == 1
    # Paths with parameters collapse into their pattern; unknown paths into one series.
    assert _count(metrics, route="/things/{thing_id}", status="200") == 3
    assert _count(metrics, route="<unmatched>", status="404") >= 1
    assert not any(
        "random" in labels["route"]
        for labels, _ in _samples(metrics, "wayline_http_requests_total")
    )
    buckets = _samples(metrics, "wayline_http_request_duration_seconds_bucket")
    infinite = [
        value
        for labels, value in buckets
        if labels["route"] == route and labels["status"] == "200" and labels["le"] == "+Inf"
    ]
    assert infinite == [3.0]
    # The scrape itself is the one request in progress.
    assert _samples(metrics, "wayline_http_requests_in_progress") == [({}, 1.0)]


def test_access_log_has_one_line_per_request(served: str, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, logger="wayline.access"),
        httpx.Client(base_url=served, timeout=30) as http,
    ):
        http.get("/health?probe=1")
        http.post(f"{API}/experiments/create", content=b"x", headers={"Content-Type": "text/x"})
    lines = [r.getMessage() for r in caplog.records if r.name == "wayline.access"]
    assert len(lines) == 2
    health, create = lines
    assert health.startswith("method=GET path=/health status=200 duration_ms=")
    assert "probe" not in health  # the query string stays out of the log
    assert create.startswith(f"method=POST path={API}/experiments/create status=400 ")
    assert " client=127.0.0.1:" in create


def test_access_log_can_be_turned_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(_settings(tmp_path, access_log=False))
    with live_server(app) as url, caplog.at_level(logging.INFO, logger="wayline.access"):
        assert httpx.get(f"{url}/health").status_code == 200
    assert not [r for r in caplog.records if r.name == "wayline.access"]


# ---------------------------------------------------------------- busy and outdated databases
def test_locked_sqlite_answers_503_not_500(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    # A short busy timeout, so the write gives up quickly instead of waiting a minute.
    settings = _settings(tmp_path, f"sqlite:///{path}?timeout=0.2")
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as http:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process's writer holding the lock
            blocked = http.post(f"{API}/experiments/create", json={"name": "blocked"})
            assert blocked.status_code == 503
            body = blocked.json()
            assert body["error_code"] == "TEMPORARILY_UNAVAILABLE"
            assert str(tmp_path) not in body["message"]  # no server paths in answers
            # WAL readers do not wait for the writer.
            read = http.get(f"{API}/experiments/get", params={"experiment_id": "0"})
            assert read.status_code == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert http.post(f"{API}/experiments/create", json={"name": "after"}).status_code == 200


def _make_outdated(uri: str) -> str:
    """A database migrated to the revision before HEAD_REVISION, whatever HEAD is."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_revision(HEAD_REVISION)
    assert head is not None and isinstance(head.down_revision, str)
    engine = create_engine(uri, poolclass=NullPool)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, head.down_revision)
    engine.dispose()
    return head.down_revision


def test_outdated_schema_is_refused(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'old.db'}"
    older = _make_outdated(uri)
    with pytest.raises(WaylineError, match="wayline db upgrade") as raised:
        create_app(_settings(tmp_path, uri))
    assert older in raised.value.message
    result = CliRunner().invoke(cli, ["server", "--backend-store-uri", uri, "--port", "0"])
    assert result.exit_code == 1
    assert "wayline db upgrade" in result.output
    assert "Traceback" not in result.output
    # After the upgrade the same command would serve: the app builds.
    assert CliRunner().invoke(cli, ["db", "upgrade", uri]).exit_code == 0
    create_app(_settings(tmp_path, uri))


# ---------------------------------------------------------------- worker processes
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_lose_no_concurrent_writes(
    backend: str, make_database: Callable[[str], str], tmp_path: Path
) -> None:
    if backend == "postgresql":
        pytest.importorskip("psycopg")
    uri = make_database(backend)
    args = ["--backend-store-uri", uri, "--workers", "2", "--no-access-log"]
    writers, points = 8, 25
    with (
        server_process(args, tmp_path) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        experiment = http.post(f"{API}/experiments/create", json={"name": unique()}).json()
        run = http.post(
            f"{API}/runs/create", json={"experiment_id": experiment["experiment_id"]}
        ).json()["run"]["info"]["run_id"]

        def write(writer: int) -> None:
            # A client of its own per thread: separate connections spread over both workers.
            with httpx.Client(base_url=server.url, timeout=60) as own:
                for step in range(points):
                    response = own.post(
                        f"{API}/runs/log-metric",
                        json={
                            "run_id": run,
                            "key": f"m{writer}",
                            "value": step,
                            "timestamp": 1,
                            "step": step,
                        },
                    )
                    assert response.status_code == 200, response.text
                own.post(
                    f"{API}/runs/log-parameter",
                    json={"run_id": run, "key": f"p{writer}", "value": "v"},
                )

        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        got = http.get(f"{API}/runs/get", params={"run_id": run})
        assert got.status_code == 200, server.output()[-3000:]
        data = got.json()["run"]["data"]
        assert len(data["params"]) == writers
        for writer in range(writers):
            history = http.get(
                f"{API}/metrics/get-history", params={"run_id": run, "metric_key": f"m{writer}"}
            ).json()["metrics"]
            assert sorted(m["step"] for m in history) == list(range(points))
        # Both workers count into one set of metrics, whichever of them answers the scrape.
        scrape = http.get("/metrics").text
        assert _count(scrape, route=f"{API}/runs/log-metric", status="200") == writers * points
        pids = {line for line in server.output().splitlines() if "Started server process" in line}
        assert len(pids) == 2


# ---------------------------------------------------------------- graceful shutdown
@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    path = tmp_path / "graceful.db"
    uri = f"sqlite:///{path}?timeout=60"
    with server_process(["--backend-store-uri", uri], tmp_path) as server:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the request will wait for this lock
        released = False
        try:
            answer: dict[str, httpx.Response] = {}

            def slow_request() -> None:
                answer["create"] = httpx.post(
                    f"{server.url}{API}/experiments/create", json={"name": "in-flight"}, timeout=60
                )

            thread = threading.Thread(target=slow_request)
            thread.start()
            _wait_for_in_progress(server.url, 2)  # the waiting request and the scrape itself
            server.process.send_signal(signal.SIGTERM)
            # Shutting down, not dead: it waits for the request, which waits for the lock.
            assert server.process.poll() is None
            holder.execute("ROLLBACK")
            released = True
            thread.join(60)
            assert answer["create"].status_code == 200, answer["create"].text
            # uvicorn re-raises the signal once it has shut down cleanly.
            assert server.process.wait(timeout=60) in (0, -signal.SIGTERM)
        finally:
            if not released:
                holder.execute("ROLLBACK")
            holder.close()
    check = sqlite3.connect(path)
    try:
        names = [row[0] for row in check.execute("SELECT name FROM experiments")]
    finally:
        check.close()
    assert "in-flight" in names
    assert (
        "Waiting for connections to close" in server.output() or "Shutting down" in server.output()
    )


def _wait_for_in_progress(url: str, expected: float) -> None:
    for _ in range(600):
        scrape = httpx.get(f"{url}/metrics", timeout=10).text
        if _samples(scrape, "wayline_http_requests_in_progress") == [({}, expected)]:
            return
        threading.Event().wait(0.05)
    pytest.fail("the slow request never reached the server")
