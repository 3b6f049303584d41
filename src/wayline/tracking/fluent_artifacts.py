"""Fluent artifact logging: ``log_artifact``, ``log_artifacts``, ``log_text``, ``log_dict``.

Each call resolves the active run (starting one if there is none, as MLflow does) and hands the
work to the cached Client, which picks the run's artifact repository; storage libraries load
only then, so ``import wayline`` stays light.
"""

from __future__ import annotations

import os
from typing import Any

from wayline.tracking.fluent import active_run_id, client


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Upload a local file to the active run (or ``run_id``), into directory ``artifact_path``.

    Example::

        with wayline.start_run():
            wayline.log_artifact("model.pkl", artifact_path="model")
    """
    client().log_artifact(run_id or active_run_id(), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Upload every file under a local directory to the active run, keeping its layout.

    Example::

        wayline.log_artifacts("outputs/", artifact_path="outputs")
    """
    client().log_artifacts(run_id or active_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Save ``text`` as the artifact ``artifact_file`` (a path relative to the run's root).

    Example::

        wayline.log_text("accuracy went up", "notes/summary.txt")
    """
    client().log_text(run_id or active_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a dict as JSON, or as YAML when ``artifact_file`` ends in ``.yaml``/``.yml``.

    Example::

        wayline.log_dict({"lr": 0.01, "layers": [64, 32]}, "config.json")
    """
    client().log_dict(run_id or active_run_id(), dictionary, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The URI of the active run's artifact root, or of ``artifact_path`` under it.

    Example::

        with wayline.start_run():
            print(wayline.get_artifact_uri("model"))  # .../<run_id>/artifacts/model
    """
    from wayline.artifacts.paths import safe_relative_path

    root = client().get_run(active_run_id()).info.artifact_uri
    path = safe_relative_path(artifact_path)
    return f"{root.rstrip('/')}/{path}" if path else root


__all__ = ["get_artifact_uri", "log_artifact", "log_artifacts", "log_dict", "log_text"]
