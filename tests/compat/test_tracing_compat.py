"""Tracing with MLflow 3.18's own client, against MLflow and Wayline.

``tracing_scenario.py`` records traces through the real ``mlflow`` package (``@mlflow.trace`` on
nested, async and generator functions, ``start_span`` with inputs, outputs, attributes, span
types and an exception, ``update_current_trace``, a trace inside a run and one linked to it
later, spans with chosen times (``start_span_no_context``, ``log_trace``), a 300-span trace), reads
them back with ``get_trace`` and ``search_traces`` (filters, order, paging, list and DataFrame),
sets and deletes trace tags, logs, updates, overrides and deletes assessments, and deletes traces
by id and by time. It runs against ``mlflow server`` (the reference) and against ``wayline
server`` on SQLite, PostgreSQL and MariaDB; every section must come out equal (ids and times
normalised away). The client picks its export path from the server's ``/version``: OTLP to
``/v1/traces`` for both, as both answer 3.4 or later.

The machinery (MLflow's venv, server processes) is ``test_mlflow_client``'s; servers start once
per module and all scenarios run side by side.
"""

from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from compat.test_mlflow_client import (  # the fixture is used by name below
    MLFLOW_SERVER_ENV,
    ScenarioProcess,
    _Server,
    _wayline_server_flags,
    mlflow_python,  # noqa: F401
)

pytestmark = [pytest.mark.compat, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "tracing_scenario.py"
SECTIONS = [
    "decorated",
    "spans",
    "run_link",
    "no_context",
    "search",
    "tags",
    "assessments",
    "delete",
]
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("mysql", marks=pytest.mark.mysql),
]
REFERENCE = "mlflow"

# Sections still expected to fail (section -> why): a strict xfail, so a fixed gap fails the
# test until its entry is removed.
KNOWN_GAPS: dict[str, str] = {}

# Where Wayline answers differently on purpose: (section, key) -> why. Such keys must still
# differ (a stale entry fails the test); every other key of the section must be equal.
INTENDED_DIFFERENCES: dict[tuple[str, str], str] = {
    ("tags", "set_on_unknown"): (
        "MLflow's SQL store lets the foreign key fail and answers BAD_REQUEST with SQLAlchemy's"
        " text; Wayline answers RESOURCE_DOES_NOT_EXIST, as for every other call on an unknown"
        " trace"
    ),
}

# Differences found by these tests and not fixed yet: (section, key) -> what MLflow does.
# Same rule: remove an entry once Wayline is fixed (the test says so).
KNOWN_SERVER_DIFFERENCES: dict[tuple[str, str], str] = {}

Document = dict[str, Any]


def _scenario(python: str, url: str, workdir: Path, label: str) -> ScenarioProcess:
    """One run of tracing_scenario.py in MLflow's venv against ``url``."""
    # A working directory of its own: runs side by side must not share local files.
    run_dir = workdir / f"cwd-{label}"
    run_dir.mkdir()
    command = [python, str(SCENARIO), "--tracking-uri", url]
    what = f"tracing scenario (mlflow client -> {label})"
    return ScenarioProcess(command, workdir / f"tracing-{label}.json", what, run_dir)


def _selected_backends(session: pytest.Session) -> list[str]:
    backends = []
    for item in session.items:
        if Path(item.path) != Path(__file__) or not hasattr(item, "callspec"):
            continue
        backend = item.callspec.params.get("backend")
        if backend and backend not in backends:
            backends.append(backend)
    return backends


class _Runs:
    """Servers and scenario documents: the reference and each selected Wayline backend."""

    def __init__(self, request: pytest.FixtureRequest, python: str, workdir: Path) -> None:
        self._request, self._python, self._workdir = request, python, workdir
        self.servers: dict[str, _Server] = {}
        self.scenarios: dict[str, ScenarioProcess] = {}
        self.problems: dict[str, BaseException] = {}

    def start(self, labels: list[str]) -> None:
        for label in labels:
            try:
                self.servers[label] = self._server(label)
            except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
                self.problems[label] = exc
        for label, server in self.servers.items():
            try:
                self.scenarios[label] = _scenario(self._python, server.url, self._workdir, label)
            except (Exception, pytest.fail.Exception) as exc:
                self.problems[label] = exc

    def document(self, label: str) -> Document:
        if label in self.problems:
            raise self.problems[label]
        return self.scenarios[label].document()

    def _server(self, label: str) -> _Server:
        root = self._workdir / f"server-{label}"
        root.mkdir()
        if label == REFERENCE:
            command = [str(Path(self._python).parent / "mlflow"), "server", "--workers", "1"]
            command += ["--backend-store-uri", f"sqlite:///{root}/mlflow.db"]
            command += ["--artifacts-destination", str(root / "artifacts")]
            return _Server(command, root, MLFLOW_SERVER_ENV)
        make_database = self._request.getfixturevalue("make_session_database")
        command = [sys.executable, "-c", "from wayline.cli.main import cli; cli()", "server"]
        command += ["--backend-store-uri", make_database(label.removeprefix("wayline-"))]
        if "--artifacts-destination" in _wayline_server_flags():
            command += ["--artifacts-destination", str(root / "artifacts")]
        return _Server(command, root)


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest,
    mlflow_python: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], Document]]:
    """``runs(label)``: the scenario document of the reference or of ``wayline-<backend>``."""
    found = _Runs(request, mlflow_python, tmp_path_factory.mktemp("tracing-compat"))
    labels = [REFERENCE, *(f"wayline-{b}" for b in _selected_backends(request.session))]
    try:
        found.start(labels)
        cache: dict[str, Document] = {}

        def document(label: str) -> Document:
            if label not in cache:
                cache[label] = found.document(label)
            return cache[label]

        yield document
    finally:
        for server in found.servers.values():
            server.stop()


@pytest.fixture(scope="module")
def reference(runs: Callable[[str], Document]) -> Document:
    return runs(REFERENCE)


def _set_listed_differences_aside(section: str, want: Any, have: Any) -> tuple[Any, Any]:
    """Both results without the listed differences' keys; fails if one of them now matches."""
    tables = {
        "INTENDED_DIFFERENCES": INTENDED_DIFFERENCES,
        "KNOWN_SERVER_DIFFERENCES": KNOWN_SERVER_DIFFERENCES,
    }
    strip: set[str] = set()
    for table_name, table in tables.items():
        listed = [key for (name, key) in table if name == section]
        if not listed or not isinstance(want, dict) or not isinstance(have, dict):
            continue
        fixed = [key for key in listed if key in want and want.get(key) == have.get(key)]
        if fixed:
            pytest.fail(
                f"{section}: {fixed} now match MLflow: remove them from {table_name}",
                pytrace=False,
            )
        strip.update(listed)
    if not strip:
        return want, have
    return (
        {k: v for k, v in want.items() if k not in strip},
        {k: v for k, v in have.items() if k not in strip},
    )


def _compare(section: str, got: Document, expected: Document, what: str) -> None:
    want, have = _set_listed_differences_aside(section, expected.get(section), got.get(section))
    if have == want:
        return
    diff = difflib.unified_diff(
        json.dumps(want, indent=1, sort_keys=True).splitlines(),
        json.dumps(have, indent=1, sort_keys=True).splitlines(),
        fromfile=f"{section}: mlflow client on mlflow server",
        tofile=f"{section}: {what}",
        lineterm="",
    )
    pytest.fail("\n".join(diff), pytrace=False)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("section", SECTIONS)
def test_tracing_on_wayline_server(
    section: str,
    backend: str,
    reference: Document,
    runs: Callable[[str], Document],
    request: pytest.FixtureRequest,
) -> None:
    if section in KNOWN_GAPS:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_GAPS[section], strict=True))
    got = runs(f"wayline-{backend}")
    _compare(section, got, reference, f"mlflow client on wayline server ({backend})")


def test_reference_tracing_sections_all_ran(reference: Document) -> None:
    """The reference must be complete: a section failing there is a scenario bug."""
    assert sorted(reference) == sorted(SECTIONS)
    failed = {name: result for name, result in reference.items() if "failed" in result}
    assert not failed
