"""The public surface of wayline.serving changes only on purpose; the CLI stays light."""

from __future__ import annotations

import subprocess
import sys

import wayline.serving


def test_public_names() -> None:
    names = ["ScoringApp", "ScoringSettings", "create_scoring_app"]
    assert sorted(wayline.serving.__all__) == names


def test_cli_imports_no_server_stack() -> None:
    code = (
        "import sys, wayline.cli.main; "
        "print(sorted(m for m in ('pandas', 'uvicorn', 'fastapi') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
