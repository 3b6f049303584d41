from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wayline.errors import WaylineError
from wayline.store import resolve
from wayline.store.sql.store import SqlStore


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    resolve.clear_cache()
    yield
    resolve.clear_cache()


def test_sqlite_store_is_cached_per_uri_and_root(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'a.db'}"
    store = resolve.tracking_store(uri)
    assert isinstance(store, SqlStore)
    assert resolve.tracking_store(uri) is store
    assert resolve.tracking_store(uri, str(tmp_path / "art")) is not store


def test_truncation_is_read_from_the_environment_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", "false")
    refusing = resolve.tracking_store(f"sqlite:///{tmp_path / 'a.db'}")
    monkeypatch.delenv("MLFLOW_TRUNCATE_LONG_VALUES")
    truncating = resolve.tracking_store(f"sqlite:///{tmp_path / 'b.db'}")
    assert isinstance(refusing, SqlStore) and isinstance(truncating, SqlStore)
    assert (refusing.truncate_long_values, truncating.truncate_long_values) == (False, True)


def test_relative_uri_is_resolved_where_first_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    first = resolve.tracking_store("sqlite:///w.db")
    monkeypatch.chdir(tmp_path / "two")
    second = resolve.tracking_store("sqlite:///w.db")
    assert first is not second
    assert (tmp_path / "one" / "w.db").exists() and (tmp_path / "two" / "w.db").exists()
    artifact_location = first.get_experiment("0").artifact_location
    assert artifact_location == str(tmp_path / "one" / "wayline-artifacts" / "0")


def test_server_databases(postgresql_uri: str, mysql_uri: str) -> None:
    plain_pg = postgresql_uri.replace("postgresql+psycopg://", "postgresql://")
    plain_my = mysql_uri.replace("mysql+pymysql://", "mysql://")
    for uri in (plain_pg, plain_my):
        assert resolve.tracking_store(uri).get_experiment("0").name == "Default"


def test_http_uris_get_the_rest_store() -> None:
    from wayline.store.rest import RestStore

    assert isinstance(resolve.tracking_store("http://localhost:5000"), RestStore)


@pytest.mark.parametrize("uri", ["file:///tmp/mlruns", "databricks", "ftp://x"])
def test_unsupported_uris(uri: str) -> None:
    with pytest.raises(WaylineError, match="Unsupported tracking URI"):
        resolve.tracking_store(uri)
