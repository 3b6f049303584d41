"""Fixtures for the tracing SDK tests: every test records into a fresh SQLite database.

``traced`` (autouse) points the fluent API at a new database (``fluent_db``), turns tracing on,
and at the end waits for the traces still being exported, so none is written after its database
is gone. ``finished`` flushes the export queue and reads a trace back through the store.
``run_traced`` runs a script in a fresh interpreter, for the settings read once per process
from the environment.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import wayline
from wayline import tracing
from wayline.entities.trace import Trace
from wayline.tracking.client import Client

from ._support import ScriptRunner, clean_env


@pytest.fixture(autouse=True)
def traced(fluent_db: str) -> Iterator[str]:
    tracing.enable()
    yield fluent_db
    wayline.flush_trace_async_logging()
    tracing.enable()


@pytest.fixture
def client(traced: str) -> Client:
    return Client(traced)


@pytest.fixture
def finished(client: Client) -> Callable[[str | None], Trace]:
    """The trace with this id as stored, once the export queue is flushed."""

    def read(trace_id: str | None) -> Trace:
        assert trace_id is not None
        wayline.flush_trace_async_logging()
        return client.get_trace(trace_id)

    return read


@pytest.fixture
def run_traced(tmp_path: Path) -> ScriptRunner:
    """Run ``source`` in a new interpreter in tmp_path with ``env`` added to a clean
    environment; return the finished process (its exit status must be 0)."""

    def run(source: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "traced_script.py"
        path.write_text(textwrap.dedent(source))
        done = subprocess.run(
            [sys.executable, str(path)],
            check=False,
            cwd=tmp_path,
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done

    return run
