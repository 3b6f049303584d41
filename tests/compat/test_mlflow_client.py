"""Compatibility with MLflow 3.18, checked against the real thing over loopback HTTP.

* The real ``mlflow`` client runs ``scenario.py`` against ``mlflow server`` (the reference) and
  against ``wayline server`` on SQLite, PostgreSQL and MariaDB; every section must come out equal.
* Our client runs the sections it supports against a second ``mlflow server``; they must equal
  the reference too.

MLflow's pins clash with ours, so it lives in a venv of its own that ``mlflow_venv.sh`` builds once
into ``~/.cache/wayline-tests`` (about two minutes the first time; then reused). The scenario runs
as a subprocess of that venv's python. When the venv cannot be built the tests skip, or fail
under CI. Every server starts once per module, and all the scenario runs the selected tests need
go at once (MLflow's server is slow; they mostly wait on it): about a minute and a half in all.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from compat.comparison import Document, fail_unless_equal, set_differences_aside
from compat.scenario import SECTIONS

pytestmark = pytest.mark.compat

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenario.py"
VENV_SCRIPT = HERE / "mlflow_venv.sh"
VENV_BUILD_TIMEOUT_S = 1800.0
SERVER_START_TIMEOUT_S = 120.0
SCENARIO_TIMEOUT_S = 600.0

# Sections our client can run through the MLflow-style API (the others use MLflow-only calls:
# mlflow.data.from_pandas digests, artifacts, the /version parser).
WAYLINE_CLIENT_SECTIONS = [
    "experiments",
    "runs",
    "errors",
    "metric_history",
    "search_runs",
    "datasets",
    "logged_models",
]
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("mysql", marks=pytest.mark.mysql),
]

# Where Wayline's server answers differently on purpose: (section, key) -> why. These keys must
# still differ (if one comes to match, the entry is stale: the test says so); every other key of
# the section must be equal.
INTENDED_DIFFERENCES: dict[tuple[str, str], str] = {
    ("errors", "status_in_list"): (
        "MLflow rejects `attributes.status IN (...)` with 400; Wayline's filter grammar is a"
        " documented superset (IN on string attributes, OR, parentheses), so it answers"
    ),
    ("bulk_interval", "two_runs_max_20"): (
        "MLflow samples with one NTILE(max_results) over all runs' rows, so a run can get more"
        " than max_results points; Wayline samples each run on its own, max_results points each"
    ),
    ("bulk_interval", "window"): "the same per-run sampling, inside a step window",
}

# Server differences found by these tests and not fixed yet: (section, key) -> what MLflow
# does. Same rule as above: remove an entry once the server is fixed (the test says so).
KNOWN_SERVER_DIFFERENCES: dict[tuple[str, str], str] = {}

# MLflow's server also starts a job runner (huey consumers, periodic tasks) these tests never use.
MLFLOW_SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}

# (client, server): client "mlflow" | "wayline"; server "mlflow" (the reference), "mlflow-2"
# (a fresh one for our client) or "wayline-<backend>".
Pairing = tuple[str, str]
REFERENCE: Pairing = ("mlflow", "mlflow")


# --------------------------------------------------------------------------- processes
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


class _Server:
    """A tracking server process in a session of its own, launched at once, awaited on use."""

    def __init__(self, command: list[str], root: Path, env: dict[str, str] | None = None) -> None:
        port = _free_port()
        self._command = [*command, "--host", "127.0.0.1", "--port", str(port)]
        self._log = root / "server.log"
        self._base_url = f"http://127.0.0.1:{port}"
        self._ready = False
        with self._log.open("wb") as output:
            self._process = subprocess.Popen(
                self._command,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        """The base URL, once ``/health`` answers (fails the test if it never does)."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not self._ready:
            code = self._process.poll()
            if code is not None:
                pytest.fail(f"{self._command[:2]} exited with {code}:\n{_tail(self._log)}")
            with contextlib.suppress(httpx.TransportError):
                self._ready = httpx.get(f"{self._base_url}/health", timeout=2.0).is_success
            if not self._ready and time.monotonic() > deadline:
                pytest.fail(f"no /health answer in {SERVER_START_TIMEOUT_S}s:\n{_tail(self._log)}")
            if not self._ready:
                time.sleep(0.2)
        return self._base_url

    def stop(self) -> None:
        # Signal the server's own process group (uvicorn workers, MLflow's helpers), only it.
        for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self._process.pid, sig)
            except ProcessLookupError:
                return
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(wait_s)
                return


class ScenarioProcess:
    """A scenario script run as a subprocess, writing its JSON document to ``out``: started by
    ``__init__`` (in ``cwd``, without MLFLOW_/WAYLINE_ settings and without retries), read by
    ``document``."""

    def __init__(self, command: list[str], out: Path, what: str, cwd: Path) -> None:
        self._out = out
        self._stderr = out.with_suffix(".stderr")
        self._what = what
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}
        env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"  # a server error is an answer, not a wait
        env["WAYLINE_HTTP_REQUEST_MAX_RETRIES"] = "0"
        with self._stderr.open("wb") as err:
            self._process = subprocess.Popen(
                [*command, "--out", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
                cwd=cwd,
            )

    def document(self) -> Document:
        try:
            code = self._process.wait(SCENARIO_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
            pytest.fail(f"{self._what} ran over {SCENARIO_TIMEOUT_S}s:\n{_tail(self._stderr)}")
        if code != 0:
            pytest.fail(f"{self._what} exited {code}:\n{_tail(self._stderr)}")
        document: Document = json.loads(self._out.read_text())
        return document


def _scenario(python: str, client: str, url: str, workdir: Path, label: str) -> ScenarioProcess:
    """One run of scenario.py with ``client``'s library against ``url``."""
    sections = list(SECTIONS) if client == "mlflow" else WAYLINE_CLIENT_SECTIONS
    command = [python, str(SCENARIO), "--client", client, "--tracking-uri", url]
    command += ["--sections", ",".join(sections)]
    what = f"scenario ({client} client -> {url})"
    return ScenarioProcess(command, workdir / f"{label}.json", what, workdir)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def mlflow_python() -> str:
    """The python of the cached MLflow 3.18 venv, built on first use."""
    try:
        done = subprocess.run(
            ["bash", str(VENV_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=VENV_BUILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    else:
        python = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
        if done.returncode == 0 and Path(python).exists():
            return python
        problem = f"exit {done.returncode}: {done.stderr.strip()[-2000:]}"
    message = f"could not build the MLflow 3.18 venv with {VENV_SCRIPT} ({problem})"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


@functools.cache
def _wayline_server_flags() -> frozenset[str]:
    help_text = subprocess.run(
        [sys.executable, "-c", "from wayline.cli.main import cli; cli()", "server", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return frozenset(word for word in help_text.split() if word.startswith("--"))


def _pairings(session: pytest.Session) -> list[Pairing]:
    """The (client, server) runs the selected tests of this module compare."""
    wanted = [REFERENCE]
    for item in session.items:
        if Path(item.path) != Path(__file__) or not isinstance(item, pytest.Function):
            continue
        backend = item.callspec.params.get("backend") if hasattr(item, "callspec") else None
        if item.originalname == test_mlflow_client_on_wayline_server.__name__:
            wanted.append(("mlflow", f"wayline-{backend}"))
        elif item.originalname == test_wayline_client_on_mlflow_server.__name__:
            wanted.append(("wayline", "mlflow-2"))
    return list(dict.fromkeys(wanted))


class _Documents:
    """The scenario documents of every pairing the selected tests need, run side by side.

    Servers launch together, then scenarios start as soon as their server answers; a pairing
    that cannot run (its database server is down) keeps the skip or failure for its own tests.
    """

    def __init__(self, request: pytest.FixtureRequest, mlflow_python: str, workdir: Path) -> None:
        self._request, self._python, self._workdir = request, mlflow_python, workdir
        self.servers: dict[str, _Server] = {}
        self._documents: dict[Pairing, Document] = {}
        self._problems: dict[Pairing, BaseException] = {}

    def run_all(self, pairings: list[Pairing]) -> None:
        for pairing in pairings:
            try:
                self._launch_server(pairing[1])
            except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
                self._problems[pairing] = exc
        running: dict[Pairing, ScenarioProcess] = {}
        for client, server in pairings:
            if (client, server) in self._problems:
                continue
            try:
                python = self._python if client == "mlflow" else sys.executable
                label = f"{client}-client-on-{server}"
                url = self.servers[server].url
                running[client, server] = _scenario(python, client, url, self._workdir, label)
            except (Exception, pytest.fail.Exception) as exc:
                self._problems[client, server] = exc
        for pairing, scenario in running.items():
            try:
                self._documents[pairing] = scenario.document()
            except (Exception, pytest.fail.Exception) as exc:
                self._problems[pairing] = exc

    def get(self, pairing: Pairing) -> Document:
        if pairing not in self._documents and pairing not in self._problems:
            self.run_all([pairing])
        if pairing in self._problems:
            raise self._problems[pairing]
        return self._documents[pairing]

    def _launch_server(self, name: str) -> None:
        if name in self.servers:
            return
        root = self._workdir / f"server-{name}"
        root.mkdir()
        if name.startswith("mlflow"):
            command = [str(Path(self._python).parent / "mlflow"), "server", "--workers", "1"]
            command += ["--backend-store-uri", f"sqlite:///{root}/mlflow.db"]
            command += ["--artifacts-destination", str(root / "artifacts")]
            self.servers[name] = _Server(command, root, MLFLOW_SERVER_ENV)
            return
        backend = name.removeprefix("wayline-")
        make_database = self._request.getfixturevalue("make_session_database")
        command = [sys.executable, "-c", "from wayline.cli.main import cli; cli()", "server"]
        command += ["--backend-store-uri", make_database(backend)]
        if "--artifacts-destination" in _wayline_server_flags():
            command += ["--artifacts-destination", str(root / "artifacts")]
        self.servers[name] = _Server(command, root)


@pytest.fixture(scope="module")
def documents(
    request: pytest.FixtureRequest,
    mlflow_python: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Pairing], Document]]:
    """``documents((client, server))``: that pairing's scenario document, run once per module."""
    found = _Documents(request, mlflow_python, tmp_path_factory.mktemp("compat"))
    try:
        found.run_all(_pairings(request.session))
        yield found.get
    finally:
        for server in found.servers.values():
            server.stop()


@pytest.fixture(scope="module")
def reference(documents: Callable[[Pairing], Document]) -> Document:
    """The mlflow client's document on mlflow server: what every other pairing must equal."""
    return documents(REFERENCE)


# --------------------------------------------------------------------------- comparison
def _without_user_tag(value: Any) -> Any:
    """``value`` without the ``mlflow.user`` run tag (and its search_runs column)."""
    if isinstance(value, dict):
        return {k: _without_user_tag(v) for k, v in value.items() if k != "mlflow.user"}
    if isinstance(value, list):
        return [_without_user_tag(v) for v in value if v != "tags.mlflow.user"]
    return value


def _compare(section: str, got: Document, expected: Document, what: str) -> None:
    want, have = expected.get(section), got.get(section)
    if what.startswith("wayline client"):
        # Our Client.create_run adds the mlflow.user tag (on purpose: MLflow's fluent start_run
        # does, its MlflowClient.create_run does not); the comparison ignores that tag.
        want, have = _without_user_tag(want), _without_user_tag(have)
    if what.startswith("mlflow client on wayline"):
        tables = {
            "INTENDED_DIFFERENCES": INTENDED_DIFFERENCES,
            "KNOWN_SERVER_DIFFERENCES": KNOWN_SERVER_DIFFERENCES,
        }
        want, have = set_differences_aside(section, want, have, tables)
    fail_unless_equal(section, want, have, what)


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("section", list(SECTIONS))
def test_mlflow_client_on_wayline_server(
    section: str, backend: str, reference: Document, documents: Callable[[Pairing], Document]
) -> None:
    got = documents(("mlflow", f"wayline-{backend}"))
    _compare(section, got, reference, f"mlflow client on wayline server ({backend})")


@pytest.mark.parametrize("section", WAYLINE_CLIENT_SECTIONS)
def test_wayline_client_on_mlflow_server(
    section: str, reference: Document, documents: Callable[[Pairing], Document]
) -> None:
    got = documents(("wayline", "mlflow-2"))
    _compare(section, got, reference, "wayline client on mlflow server")


def test_reference_sections_all_ran(reference: Document) -> None:
    """The reference itself must be complete: a failing section there is a scenario bug."""
    failed = {name: result for name, result in reference.items() if "failed" in result}
    assert not failed
