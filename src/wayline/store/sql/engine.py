"""Engine creation per dialect: driver choice, connection settings, transaction start.

SQLite is the embedded default and gets the most care: several processes (a training script, the
UI, a notebook) may write one file at once. Each connection runs in WAL mode with a long busy
timeout, and every write transaction starts with ``BEGIN IMMEDIATE`` so that it takes the write
lock up front: a deferred transaction that later tries to write can fail at once with "database
is locked" (its snapshot may be stale, so SQLite cannot make it wait), an immediate one waits.
"""

from __future__ import annotations

import os
import sqlite3
import time
import weakref
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from wayline.errors import WaylineError

SQLITE_BUSY_TIMEOUT_MS = 60_000
# Execution option carried by the write engine: the "begin" hook reads it to pick the BEGIN.
WRITE_OPTION = "wayline_write"

_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql"}
_EXTRAS = {"postgresql": "postgres", "mysql": "mysql"}


def normalize_url(uri: str) -> URL:
    """Parse a database URI, filling in Wayline's default driver for each dialect."""
    try:
        url = make_url(uri)
    except Exception as exc:  # SQLAlchemy raises ArgumentError or ValueError
        raise WaylineError(f"Invalid database URI {uri!r}: {exc}") from None
    backend = url.get_backend_name()
    if backend in _DRIVERS and "+" not in url.drivername:
        url = url.set(drivername=f"{backend}+{_DRIVERS[backend]}")
    file_db = backend == "sqlite" and not is_memory_sqlite(url) and url.database
    if file_db and not str(url.database).startswith("file:"):
        # Absolute now: pooled connections opened later must not follow a change of directory.
        url = url.set(database=os.path.abspath(str(url.database)))
    if backend == "mysql" and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


# Engines of this process, so a forked child can drop the connections it inherited: sharing a
# SQLite handle or a server socket with the parent corrupts both sides' conversations.
_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def build_engine(uri: str, **kwargs: Any) -> Engine:
    """A configured engine for ``uri``; ``kwargs`` override the pool settings."""
    engine = _build_engine(uri, **kwargs)
    _engines.add(engine)
    return engine


def _build_engine(uri: str, **kwargs: Any) -> Engine:
    url = normalize_url(uri)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, **kwargs)
    if backend not in _DRIVERS:
        raise WaylineError(
            f"Unsupported database URI {uri!r}: use sqlite:///, postgresql:// or mysql://."
        )
    options: dict[str, Any] = {
        "pool_size": 5,
        "max_overflow": 10,
        "pool_pre_ping": True,
        # Servers close idle connections (MySQL's wait_timeout defaults to 8 hours).
        "pool_recycle": 3600,
    }
    if backend == "mysql":
        # Fewer gap locks than REPEATABLE READ, so concurrent upserts on different runs do not
        # deadlock each other; every call is one short transaction anyway.
        options["isolation_level"] = "READ COMMITTED"
    options.update(kwargs)
    try:
        return create_engine(url, **options)
    except ImportError as exc:
        extra = _EXTRAS[backend]
        raise WaylineError(
            f"The {url.drivername} driver is not installed ({exc}). Install it with:"
            f" pip install 'wayline[{extra}]'"
        ) from None


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    memory = is_memory_sqlite(url)
    if memory:
        # One shared connection, or every checkout would see its own empty database.
        options["poolclass"] = StaticPool
        options["connect_args"]["check_same_thread"] = False
    else:
        options["pool_size"] = 5
        options["max_overflow"] = 10
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_on_connect(wal=not memory))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(wal: bool) -> Any:
    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # The driver's own transaction handling is off: it would start deferred transactions
        # lazily before DML and commit before DDL. We emit BEGIN ourselves (see _sqlite_on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA case_sensitive_like = ON")
            if wal:
                _ensure_wal(cursor)
            # Durable at checkpoints, not at every commit: safe against process crashes (WAL),
            # and what makes one-row transactions fast.
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return on_connect


def _ensure_wal(cursor: sqlite3.Cursor) -> None:
    # WAL is persistent in the file, so usually this is one read. Switching needs a moment of
    # exclusive access, which processes opening a fresh file together can contend for.
    for attempt in range(50):
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        if str(mode).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.05)


def _sqlite_on_begin(conn: Any) -> None:
    # Straight to the driver: this runs for every store call, and nothing needs a result.
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions begin as writers on SQLite."""
    return engine.execution_options(**{WRITE_OPTION: True})


__all__ = ["build_engine", "is_memory_sqlite", "normalize_url", "write_engine"]
