"""The model and prompt registry with MLflow 3.18's own client, against MLflow and Wayline.

``registry_scenario.py`` runs the whole registry flow through the real ``mlflow`` client (log and
register models, versions from runs:/ and models:/ URIs, tags, descriptions, aliases and
``models:/name@alias`` loading, stages with archive_existing_versions, latest versions, searches
with filters, order and paging, rename, download URIs, deletes, errors, prompts) against
``mlflow server`` (the reference) and against ``wayline server`` on SQLite, PostgreSQL and
MariaDB; every section must come out equal (ids and timestamps normalised away).

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

pytestmark = pytest.mark.compat

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "registry_scenario.py"
SECTIONS = ["register", "crud", "search", "prompts"]

# Where Wayline answers differently on purpose: (section, key) -> why. Such keys must still
# differ (a stale entry fails the test); every other key of the section must be equal.
INTENDED_DIFFERENCES: dict[tuple[str, str], str] = {}


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest,
    mlflow_python: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], Document]]:
    """``runs(label)``: the scenario document of the reference or of ``wayline-<backend>``."""
    workdir = tmp_path_factory.mktemp("registry-compat")
    yield from scenario_documents(request, mlflow_python, workdir, SCENARIO)


@pytest.fixture(scope="module")
def reference(runs: Callable[[str], Document]) -> Document:
    return runs(REFERENCE)


def _compare(section: str, got: Document, expected: Document, what: str) -> None:
    tables = {"INTENDED_DIFFERENCES": INTENDED_DIFFERENCES}
    want, have = set_differences_aside(section, expected.get(section), got.get(section), tables)
    fail_unless_equal(section, want, have, what)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("section", SECTIONS)
def test_registry_on_wayline_server(
    section: str, backend: str, reference: Document, runs: Callable[[str], Document]
) -> None:
    got = runs(f"wayline-{backend}")
    _compare(section, got, reference, f"mlflow client on wayline server ({backend})")


def test_reference_registry_sections_all_ran(reference: Document) -> None:
    """The reference must be complete: a section failing there is a scenario bug."""
    assert sorted(reference) == sorted(SECTIONS)
    failed = {name: result for name, result in reference.items() if "failed" in result}
    assert not failed
