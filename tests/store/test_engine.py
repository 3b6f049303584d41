from __future__ import annotations

import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from wayline.errors import WaylineError
from wayline.store.sql.engine import build_engine, normalize_url
from wayline.store.sql.store import SqlStore


def test_default_drivers_and_charset() -> None:
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql+psycopg2://u@h/db").drivername == "postgresql+psycopg2"
    mysql = normalize_url("mysql://u@h/db")
    assert mysql.drivername == "mysql+pymysql"
    assert mysql.query["charset"] == "utf8mb4"


def test_relative_sqlite_path_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert normalize_url("sqlite:///rel.db").database == str(tmp_path / "rel.db")


@pytest.mark.parametrize(
    ("uri", "extra"),
    [
        ("mysql://u@127.0.0.1/db", "wayline[mysql]"),
        ("postgresql://u@127.0.0.1/db", "wayline[postgres]"),
    ],
)
def test_missing_driver_names_the_extra(
    uri: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(WaylineError, match=rf"pip install '{re.escape(extra)}'"):
        build_engine(uri)


def test_unsupported_scheme() -> None:
    with pytest.raises(WaylineError, match="Unsupported database URI"):
        build_engine("oracle://u@h/db")


def test_sqlite_connection_settings(sqlite_uri: str) -> None:
    engine = build_engine(sqlite_uri)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert conn.execute(text("SELECT 'a' LIKE 'A'")).scalar() == 0
    finally:
        engine.dispose()


def _try_write_lock(path: str) -> bool:
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_sqlite_writes_take_the_lock_at_begin(sqlite_uri: str) -> None:
    store = SqlStore(sqlite_uri)
    path = sqlite_uri.removeprefix("sqlite:///")
    try:
        with store._write() as conn:
            conn.execute(text("SELECT 1"))
            assert not _try_write_lock(path)  # held from BEGIN IMMEDIATE, before any write
        with store._read() as conn:
            conn.execute(text("SELECT 1"))
            assert _try_write_lock(path)  # readers do not block writers
        assert _try_write_lock(path)
    finally:
        store.close()


def test_memory_sqlite_is_one_database() -> None:
    store = SqlStore("sqlite://")
    try:
        experiment_id = store.create_experiment("in-memory")
        assert store.get_experiment(experiment_id).name == "in-memory"
    finally:
        store.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_opens_its_own_connections(sqlite_uri: str) -> None:
    store = SqlStore(sqlite_uri)
    try:
        store.create_experiment("parent")  # the pool now holds a connection
        pid = os.fork()
        if pid == 0:  # child: must not reuse the parent's SQLite handle
            code = 0
            try:
                store.create_experiment("child")
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        assert store.get_experiment_by_name("child") is not None
    finally:
        store.close()
