"""Helpers shared by the tracking tests (import them relatively: ``from ._support``)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

ScriptRunner = Callable[..., subprocess.CompletedProcess[str]]

TRACKING_ENV = (
    "WAYLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
    "MLFLOW_ENABLE_ASYNC_LOGGING",
)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without tracking settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in TRACKING_ENV}
    env.update(extra)
    return env


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def make_repo(path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / "f.txt").write_text("x")
    git(path, "add", "f.txt")
    git(path, "commit", "-q", "-m", "init")
    return git(path, "rev-parse", "HEAD")
