"""Tracking-URI resolution: explicit, WAYLINE_TRACKING_URI, MLFLOW_TRACKING_URI, default."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wayline.tracking import uri


@pytest.fixture(autouse=True)
def no_tracking_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("WAYLINE_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri.set_tracking_uri(None)
    yield
    uri.set_tracking_uri(None)


def test_default_is_sqlite_in_working_directory() -> None:
    assert uri.get_tracking_uri() == "sqlite:///wayline.db"
    assert not uri.is_tracking_uri_set()


def test_mlflow_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert uri.get_tracking_uri() == "http://mlflow:5000"
    assert uri.is_tracking_uri_set()


def test_wayline_variable_beats_mlflow_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    monkeypatch.setenv("WAYLINE_TRACKING_URI", "http://wayline:5000")
    assert uri.get_tracking_uri() == "http://wayline:5000"


def test_explicit_uri_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", "http://wayline:5000")
    uri.set_tracking_uri("sqlite:////tmp/explicit.db")
    assert uri.get_tracking_uri() == "sqlite:////tmp/explicit.db"
    uri.set_tracking_uri(None)
    assert uri.get_tracking_uri() == "http://wayline:5000"


def test_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", "")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    assert uri.get_tracking_uri() == "http://mlflow:5000"


def test_plain_database_path_becomes_absolute_sqlite_uri(tmp_path: object) -> None:
    uri.set_tracking_uri("runs.db")
    resolved = uri.get_tracking_uri()
    assert resolved.startswith("sqlite:////")
    assert resolved.endswith("/runs.db")


def test_env_flag_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("true", True), ("TRUE", True), ("1", True), ("false", False)):
        monkeypatch.setenv(uri.ASYNC_LOGGING_VAR, value)
        assert uri.env_flag(uri.ASYNC_LOGGING_VAR) is expected
    monkeypatch.delenv(uri.ASYNC_LOGGING_VAR)
    assert uri.env_flag(uri.ASYNC_LOGGING_VAR) is False
