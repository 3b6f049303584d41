"""Fixtures of the pyfunc tests: the MLflow oracle and a tracking store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from models._mlflow import mlflow_python
from wayline.tracking import fluent, fluent_models, uri

__all__ = ["mlflow_python"]


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fluent API on a SQLite file in tmp_path, artifacts under tmp_path (the default root
    is ./wayline-artifacts, hence the chdir)."""
    for name in ("WAYLINE_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    db_uri = f"sqlite:///{tmp_path / 'wayline.db'}"
    uri.set_tracking_uri(db_uri)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setattr(fluent, "_last_active_run_id", None)
    monkeypatch.setattr(fluent_models, "_last_logged_model_id", None)
    try:
        yield db_uri
    finally:
        while fluent.active_run() is not None:
            fluent.end_run()
        uri.set_tracking_uri(None)
