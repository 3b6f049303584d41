"""A busy database is TemporarilyUnavailable (HTTP 503, retried by clients), on every backend.

Each test holds a lock from a second connection, with a short lock timeout on the store's side,
so the store's write gives up quickly; permanent SQL errors must stay what they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from wayline.errors import TemporarilyUnavailable
from wayline.store.sql.engine import transaction
from wayline.store.sql.store import SqlStore

# Per backend: a URI suffix that makes lock waits short (SQLite's busy timeout, PostgreSQL's
# lock_timeout, InnoDB's lock wait timeout, whose minimum is one second).
SHORT_LOCK_WAIT = {
    "sqlite": "?timeout=0.1",
    "postgresql": "?options=" + quote("-c lock_timeout=100"),
    "mysql": "?init_command=" + quote("SET SESSION innodb_lock_wait_timeout=1"),
}


@contextmanager
def _row_locked(backend: str, uri: str) -> Iterator[None]:
    """Another connection holding the Default experiment's row (SQLite: the whole file)."""
    if backend == "sqlite":
        holder = sqlite3.connect(uri.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(uri, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT * FROM experiments WHERE experiment_id = 0 FOR UPDATE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_lock_timeouts_are_temporarily_unavailable(
    backend: str, make_database: Callable[[str], str]
) -> None:
    uri = make_database(backend)
    SqlStore(uri).close()  # the schema, created without the short timeout
    store = SqlStore(uri + SHORT_LOCK_WAIT[backend])
    try:
        with _row_locked(backend, uri), pytest.raises(TemporarilyUnavailable) as raised:
            store.rename_experiment("0", "renamed")
        assert raised.value.http_status == 503
        assert raised.value.error_code == "TEMPORARILY_UNAVAILABLE"
        assert uri.split("/")[-1] not in raised.value.message  # no database names in answers
        # Once the lock is gone the same call succeeds.
        store.rename_experiment("0", "renamed")
        assert store.get_experiment("0").name == "renamed"
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "mysql"])
def test_permanent_errors_stay_errors(backend: str, make_database: Callable[[str], str]) -> None:
    store = SqlStore(make_database(backend))
    try:
        # PyMySQL reports an unknown column, and SQLite a missing table, as OperationalError.
        for statement in ("SELECT no_such_column FROM experiments", "SELECT * FROM no_such_table"):
            with pytest.raises(DBAPIError) as raised, transaction(store.engine) as conn:
                conn.execute(text(statement))
            assert not isinstance(raised.value, TemporarilyUnavailable)
    finally:
        store.close()
