"""Real MLflow 3.18 as an oracle: run a snippet in its venv and read back the JSON it prints.

The venv is the one ``tests/compat/mlflow_venv.sh`` builds (and caches); when it cannot be built
the tests that need it skip, or fail under CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

VENV_SCRIPT = Path(__file__).resolve().parent.parent / "compat" / "mlflow_venv.sh"


@pytest.fixture(scope="session")
def mlflow_python() -> str:
    """The python of the MLflow 3.18 venv."""
    done = subprocess.run(
        ["bash", str(VENV_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        message = f"MLflow 3.18 venv unavailable: {done.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return done.stdout.strip().splitlines()[-1]


def run_mlflow(python: str, source: str, cwd: Path) -> Any:
    """Run ``source`` with MLflow's python in ``cwd``; the JSON its last stdout line holds."""
    script = cwd / "mlflow_snippet.py"
    script.write_text(textwrap.dedent(source))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [python, str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return json.loads(done.stdout.strip().splitlines()[-1])
