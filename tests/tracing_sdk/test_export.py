"""Export to the store: flushing, exit, a failing or slow store never reaching user code, and the
environment switches (sync export, sampling, tracing off) read once per process."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import wayline
from wayline.entities.trace import Trace
from wayline.tracking.client import Client

from ._support import ScriptRunner

Finished = Callable[[str | None], Trace]


def test_flush_makes_every_finished_trace_visible(client: Client) -> None:
    @wayline.trace
    def work(i: int) -> int:
        return i

    for i in range(50):
        work(i)
    wayline.flush_trace_async_logging()
    page = client.search_traces(["0"], max_results=100, include_spans=False)
    assert len(page) == 50


def test_an_unknown_experiment_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    span = wayline.tracing.start_span_no_context("orphan", experiment_id="424242")
    span.end(outputs=1)
    wayline.flush_trace_async_logging()
    assert f"Could not export trace {span.trace_id}" in caplog.text


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def test_an_unreachable_store_never_breaks_the_traced_code(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("WAYLINE_HTTP_REQUEST_MAX_RETRIES", "0")
    wayline.set_tracking_uri(f"http://127.0.0.1:{port}")

    @wayline.trace
    def compute(x: int) -> int:
        with wayline.start_span("step"):
            return x * 2

    span = wayline.tracing.start_span_no_context("manual", experiment_id="1")
    span.end()
    assert compute(21) == 42
    wayline.flush_trace_async_logging()
    assert "Could not export" in caplog.text


@pytest.mark.slow
def test_a_full_queue_drops_traces_instead_of_waiting(
    run_traced: ScriptRunner, silent_server: str
) -> None:
    done = run_traced(
        f"""
        import time
        import wayline

        wayline.set_tracking_uri({silent_server!r})

        @wayline.trace
        def work(i):
            return i

        start = time.monotonic()
        results = [work(i) for i in range(20)]
        assert results == list(range(20))
        print("elapsed", time.monotonic() - start)
        """,
        env={
            "WAYLINE_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE": "2",
            "WAYLINE_HTTP_REQUEST_MAX_RETRIES": "0",
            "WAYLINE_HTTP_REQUEST_TIMEOUT": "1",
        },
    )
    elapsed = float(done.stdout.split()[-1])
    assert elapsed < 3.0  # it would take 20 s if the traced code waited for the silent store
    assert "Trace export queue is full" in done.stderr


def _stored_traces(db: Path) -> list[Trace]:
    client = Client(f"sqlite:///{db}")
    return list(client.search_traces(["0"], max_results=500))


def test_traces_are_flushed_at_exit(run_traced: ScriptRunner, tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    run_traced(
        f"""
        import wayline

        wayline.set_tracking_uri("sqlite:///{db}")

        @wayline.trace
        def work(i):
            return i

        for i in range(5):
            work(i)
        """
    )
    assert len(_stored_traces(db)) == 5


@pytest.mark.slow
def test_synchronous_export_sampling_and_the_off_switch(
    run_traced: ScriptRunner, tmp_path: Path
) -> None:
    script = """
        import threading
        import wayline

        wayline.set_tracking_uri("sqlite:///{db}")

        @wayline.trace
        def outer(i):
            return inner(i)

        @wayline.trace
        def inner(i):
            return i

        for i in range({n}):
            outer(i)
        exporting = any(t.name == "wayline-trace-export" for t in threading.enumerate())
        print(wayline.tracing.is_enabled(), exporting)
        """
    sync_db = tmp_path / "sync.db"
    done = run_traced(
        textwrap.dedent(script).format(db=sync_db, n=3),
        env={"MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "false"},
    )
    assert done.stdout.split() == ["True", "False"]
    assert len(_stored_traces(sync_db)) == 3

    sampled_db = tmp_path / "sampled.db"
    run_traced(
        textwrap.dedent(script).format(db=sampled_db, n=200),
        env={"WAYLINE_TRACE_SAMPLING_RATIO": "0.5"},
    )
    sampled = _stored_traces(sampled_db)
    assert 40 <= len(sampled) <= 160
    assert all(len(t.spans) == 2 for t in sampled)  # a trace is kept or dropped whole

    off_db = tmp_path / "off.db"
    done = run_traced(
        textwrap.dedent(script).format(db=off_db, n=3),
        env={"WAYLINE_TRACING_ENABLED": "false"},
    )
    assert done.stdout.split() == ["False", "False"]
    assert _stored_traces(off_db) == []
