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

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compat.comparison import Document, fail_unless_equal, set_differences_aside
from compat.side_by_side import BACKENDS, REFERENCE, scenario_documents
from compat.test_mlflow_client import mlflow_python  # noqa: F401  # a fixture, used by name

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


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest,
    mlflow_python: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], Document]]:
    """``runs(label)``: the scenario document of the reference or of ``wayline-<backend>``."""
    workdir = tmp_path_factory.mktemp("tracing-compat")
    yield from scenario_documents(request, mlflow_python, workdir, SCENARIO)


@pytest.fixture(scope="module")
def reference(runs: Callable[[str], Document]) -> Document:
    return runs(REFERENCE)


def _compare(section: str, got: Document, expected: Document, what: str) -> None:
    tables = {
        "INTENDED_DIFFERENCES": INTENDED_DIFFERENCES,
        "KNOWN_SERVER_DIFFERENCES": KNOWN_SERVER_DIFFERENCES,
    }
    want, have = set_differences_aside(section, expected.get(section), got.get(section), tables)
    fail_unless_equal(section, want, have, what)


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
