"""Engine creation per dialect: driver choice, connection settings, transaction start.

SQLite is the embedded default and gets the most care: several processes (a training script, the
UI, a notebook) may write one file at once. Each connection runs in WAL mode with a long busy
timeout, and every write transaction starts with ``BEGIN IMMEDIATE`` so that it takes the write
lock up front: a deferred transaction that later tries to write can fail at once with "database
is locked" (its snapshot may be stale, so SQLite cannot make it wait), an immediate one waits.
A ``?timeout=SECONDS`` query on a SQLite URI replaces the 60 s busy timeout.

Store calls run their transactions through ``transaction(engine)``, the one place where a
database that is busy or unreachable (a lock held past the busy timeout, a dropped connection, a
deadlock, an exhausted pool) becomes ``TemporarilyUnavailable`` (HTTP 503, which clients retry)
instead of an internal error.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import weakref
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from wayline.errors import TemporarilyUnavailable, WaylineError

logger = logging.getLogger(__name__)

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
    busy_ms = SQLITE_BUSY_TIMEOUT_MS
    if "timeout" in url.query:
        try:
            busy_ms = int(float(str(url.query["timeout"])) * 1000)
        except ValueError:
            raise WaylineError(
                f"Invalid timeout {url.query['timeout']!r} in the SQLite URI: expected seconds."
            ) from None
        url = url.difference_update_query(["timeout"])
    options: dict[str, Any] = {"connect_args": {"timeout": busy_ms / 1000}}
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
    event.listen(engine, "connect", _sqlite_on_connect(wal=not memory, busy_ms=busy_ms))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(wal: bool, busy_ms: int) -> Any:
    def on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # The driver's own transaction handling is off: it would start deferred transactions
        # lazily before DML and commit before DDL. We emit BEGIN ourselves (see _sqlite_on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
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


class transaction:
    """``engine.begin()`` whose transient database failures raise ``TemporarilyUnavailable``.

    A class rather than a generator-based context manager: it wraps every store call, so it
    stays as cheap as one extra frame on the way in and out.
    """

    __slots__ = ("_engine", "_inner")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._inner = engine.begin()

    def __enter__(self) -> Connection:
        try:
            return self._inner.__enter__()
        except Exception as exc:
            _raise_if_transient(exc, self._engine)
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            suppressed = bool(self._inner.__exit__(exc_type, exc, tb))
        except Exception as error:  # the commit (or the rollback) itself failed
            _raise_if_transient(error, self._engine)
            raise
        if isinstance(exc, Exception) and not suppressed:
            _raise_if_transient(exc, self._engine)
        return suppressed


# MySQL/MariaDB error numbers that mean "try again": too many connections, server shutting
# down, lock wait timeout, deadlock, connection killed, can't connect, server gone away, lost
# connection, idle disconnect. PyMySQL reports many permanent errors (an unknown column) as
# OperationalError too, so the class alone does not tell.
_MYSQL_TRANSIENT = frozenset({1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 4031})


def _transient_reason(exc: BaseException, engine: Engine) -> str | None:
    """Why ``exc`` is a passing condition of the database, or None when it is not one."""
    if isinstance(exc, sa_exc.TimeoutError):
        return "no database connection became free in time"
    orig: BaseException = exc
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return "the database connection was lost"
        orig = exc.orig if isinstance(exc.orig, BaseException) else exc
    if isinstance(orig, sqlite3.OperationalError):
        # Other SQLite OperationalErrors (no such table, syntax) are bugs, not load.
        message = str(orig).lower()
        return "the database is locked" if "locked" in message or "busy" in message else None
    dbapi = engine.dialect.loaded_dbapi
    operational = getattr(dbapi, "OperationalError", None)
    if operational is None or not isinstance(orig, operational):
        return None
    if engine.dialect.name == "mysql":
        code = orig.args[0] if orig.args else None
        return "the database is busy or unreachable" if code in _MYSQL_TRANSIENT else None
    # PostgreSQL: OperationalError is connection failures, serialization failures, deadlocks,
    # lock and statement timeouts, too many clients, shutdowns; permanent errors have other
    # classes (ProgrammingError, IntegrityError, DataError).
    return "the database is busy or unreachable"


def _raise_if_transient(exc: BaseException, engine: Engine) -> None:
    reason = _transient_reason(exc, engine)
    if reason is None:
        return
    # The driver's text names hosts and files: it goes to the log, never into the answer.
    logger.warning("database temporarily unavailable: %s", exc)
    raise TemporarilyUnavailable(
        f"Temporarily unavailable: {reason}. Retry the request later."
    ) from exc


__all__ = [
    "build_engine",
    "is_memory_sqlite",
    "normalize_url",
    "transaction",
    "write_engine",
]
