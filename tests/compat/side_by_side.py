"""Running one scenario script with MLflow 3.18's client against ``mlflow server`` (the
reference) and ``wayline server`` on each selected backend, side by side, and comparing the
documents they write section by section (import as ``compat.side_by_side``).

The machinery underneath (MLflow's venv, server processes, scenario processes) is
``test_mlflow_client``'s.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compat.comparison import Document
from compat.test_mlflow_client import (
    MLFLOW_SERVER_ENV,
    ScenarioProcess,
    _Server,
    _wayline_server_flags,
)

REFERENCE = "mlflow"
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


def _selected_backends(session: pytest.Session, test_file: Path) -> list[str]:
    backends = []
    for item in session.items:
        if Path(item.path) != test_file or not hasattr(item, "callspec"):
            continue
        backend = item.callspec.params.get("backend")
        if backend and backend not in backends:
            backends.append(backend)
    return backends


class _Runs:
    """Servers and scenario documents: the reference and each selected Wayline backend."""

    def __init__(
        self,
        request: pytest.FixtureRequest,
        python: str,
        workdir: Path,
        scenario: Path,
    ) -> None:
        self._request, self._python, self._workdir = request, python, workdir
        self._scenario_path = scenario
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
                self.scenarios[label] = self._scenario(server.url, label)
            except (Exception, pytest.fail.Exception) as exc:
                self.problems[label] = exc

    def document(self, label: str) -> Document:
        if label in self.problems:
            raise self.problems[label]
        return self.scenarios[label].document()

    def _scenario(self, url: str, label: str) -> ScenarioProcess:
        # A working directory of its own: runs side by side must not share local files.
        run_dir = self._workdir / f"cwd-{label}"
        run_dir.mkdir()
        command = [self._python, str(self._scenario_path), "--tracking-uri", url]
        what = f"{self._scenario_path.stem} (mlflow client -> {label})"
        output = self._workdir / f"{self._scenario_path.stem}-{label}.json"
        return ScenarioProcess(command, output, what, run_dir)

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


def scenario_documents(
    request: pytest.FixtureRequest, python: str, workdir: Path, scenario: Path
) -> Iterator[Callable[[str], Document]]:
    """For a module fixture: start the reference and a Wayline server per backend the module's
    selected tests use, run ``scenario`` against each, and yield ``document(label)`` (label
    ``mlflow`` or ``wayline-<backend>``); the servers stop after the module."""
    found = _Runs(request, python, workdir, scenario)
    test_file = Path(str(request.node.path))
    labels = [REFERENCE, *(f"wayline-{b}" for b in _selected_backends(request.session, test_file))]
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


__all__ = ["BACKENDS", "REFERENCE", "scenario_documents"]
