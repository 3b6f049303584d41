"""Fixtures for the tracking tests: user scripts run in a fresh working directory.

``run_script`` writes a script into ``tmp_path`` and runs it with this interpreter in that
directory, with no tracking configuration in the environment, so the defaults
(``sqlite:///wayline.db``, ``./wayline-artifacts``) land in ``tmp_path``. ``workdir_client``
opens that same database for assertions.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from wayline.tracking.client import Client

from ._support import ScriptRunner, clean_env


@pytest.fixture
def run_script(tmp_path: Path) -> ScriptRunner:
    """Run ``source`` as ``<name>`` in tmp_path; assert its exit status is ``expect_rc``."""

    def run(
        source: str,
        name: str = "script.py",
        expect_rc: int = 0,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        folder = cwd or tmp_path
        path = folder / name
        path.write_text(textwrap.dedent(source))
        done = subprocess.run(
            [sys.executable, name],
            cwd=folder,
            env=env or clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == expect_rc, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        return done

    return run


@pytest.fixture
def workdir_client(tmp_path: Path) -> Callable[[], Client]:
    """A Client on the default database a script in tmp_path created."""
    return lambda: Client(f"sqlite:///{tmp_path / 'wayline.db'}")
