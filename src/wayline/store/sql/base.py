"""What every part of the SQL store shares: the engine, transactions, run checks, page tokens."""

from __future__ import annotations

import base64
import binascii
import gc
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from sqlalchemy import Connection, Dialect, Engine, Executable, Insert, Select, bindparam, select
from sqlalchemy import insert as core_insert
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from wayline.entities import LifecycleStage
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql.engine import build_engine, transaction, write_engine
from wayline.store.sql.tables import runs

T = TypeVar("T")

DEFAULT_ARTIFACT_DIR = "wayline-artifacts"
# Rows per IN (...) list when loading values for many runs: well under every backend's limit on
# bound parameters (SQLite's is 32,766), large enough that a 1000-run page is one query a table.
IN_CHUNK = 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while building many objects at once.

    Each few hundred allocations trigger a collection, and the older generations' collections
    walk the whole growing result again and again: for a 200,000-point history that is close to
    half of the read time. Nothing built here forms cycles, so nothing is left for later.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def fetch_rows(
    conn: Connection, statement: Executable, params: Mapping[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """All result rows as the driver's plain tuples, without SQLAlchemy's Row objects.

    For bulk reads on hot paths (a search page, a metric history) where per-row overhead counts.
    Only for columns the driver already returns as the right Python type: strings, integers,
    floats; booleans come back as 0/1 on SQLite and MySQL, so test them for truth only.
    """
    result = conn.execute(statement, params or {})
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


# Compiled SQL of module-level statements, per dialect and driver: every store (and engine) of
# the same kind shares the text, so creating many stores does not grow this.
_sql_texts: dict[tuple[Select[Any], str, str], str] = {}


def _sql_text(statement: Select[Any], dialect: Dialect) -> str:
    key = (statement, dialect.name, dialect.driver)
    text = _sql_texts.get(key)
    if text is None:
        text = _sql_texts[key] = str(statement.compile(dialect=dialect))
    return text


class _DriverStatement:
    """A statement compiled once per dialect, to run on the DBAPI cursor itself."""

    __slots__ = ("defaults", "names", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        # Positional paramstyles need values in placeholder order; named ones take the dict.
        self.names: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup is not None else None
        )
        # Values the statement carries itself (literals SQLAlchemy turned into parameters).
        self.defaults = {k: v for k, v in compiled.params.items() if v is not None}

    def bind(self, values: Mapping[str, Any]) -> Any:
        merged = {**self.defaults, **values} if self.defaults else values
        if self.names is None:
            return merged
        return tuple(merged[name] for name in self.names)


_driver_statements: dict[tuple[ClauseElement, str, str], _DriverStatement] = {}


def driver_execute(
    conn: Connection,
    statement: ClauseElement,
    values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> Any:
    """Run a module-level statement on the connection's DBAPI cursor; return the cursor.

    Per-call writes (``log_metric``, ``set_tag``) are a handful of tiny statements, where
    SQLAlchemy's per-execution machinery costs more than the database's work. The statement is
    compiled once per dialect and runs inside the connection's current transaction.
    """
    dialect = conn.dialect
    key = (statement, dialect.name, dialect.driver)
    prepared = _driver_statements.get(key)
    if prepared is None:
        prepared = _driver_statements[key] = _DriverStatement(statement, dialect)
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    if isinstance(values, Mapping):
        cursor.execute(prepared.sql, prepared.bind(values))
    else:
        cursor.executemany(prepared.sql, [prepared.bind(row) for row in values])
    return cursor


def fetch_in(
    conn: Connection, statement: Select[Any], column: str, keys: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Rows of ``statement`` (a SELECT without WHERE) whose ``column`` is one of ``keys``.

    Loading a page of runs filters five tables by up to thousands of ids. Rendering such IN
    lists through SQLAlchemy costs more than the queries, so this compiles the SELECT once and
    appends the list in the driver's own syntax (an array parameter on PostgreSQL). Rows are
    plain driver tuples, as with ``fetch_rows``.
    """
    prefix = _sql_text(statement, conn.dialect)
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks(keys):
        params: tuple[Any, ...]
        if conn.dialect.name == "postgresql":
            sql, params = f"{prefix} WHERE {column} = ANY(%s)", (list(chunk),)
        else:
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            sql, params = (
                f"{prefix} WHERE {column} IN ({', '.join([mark] * len(chunk))})",
                tuple(chunk),
            )
        result = conn.exec_driver_sql(sql, params)
        try:
            rows.extend(result.cursor.fetchall())
        finally:
            result.close()
    return rows


def resolve_artifact_root(root: str | None) -> str:
    """The artifact root as stored in experiments: local paths become absolute."""
    if root is None:
        root = DEFAULT_ARTIFACT_DIR
    parsed = urlparse(root)
    # A one-letter "scheme" is a Windows drive; no scheme at all is a relative or absolute path.
    if parsed.scheme and len(parsed.scheme) > 1:
        return root
    return str(Path(root).expanduser().resolve())


def join_uri(base: str, *parts: str) -> str:
    """``base`` with path segments appended, keeping its scheme (``s3://b/x`` + ``1``)."""
    return base.rstrip("/") + "/" + "/".join(parts)


def encode_page_token(offset: int) -> str:
    return base64.b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """The row offset a page token stands for (0 without a token)."""
    if not token:
        return 0
    try:
        decoded = json.loads(base64.b64decode(token, validate=True))
        offset = decoded["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise InvalidParameter(
            f"Invalid page token {token!r}: pass the next_page_token of a previous response."
        ) from None
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidParameter(f"Invalid page token {token!r}: the offset must be non-negative.")
    return offset


def insert_ignore(dialect: str, table: Any) -> Insert:
    """INSERT that skips rows whose key already exists, in the dialect's own syntax."""
    if dialect == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    # MySQL's IGNORE also downgrades other errors to warnings; values are validated beforehand.
    return core_insert(table).prefix_with("IGNORE")


def upsert(dialect: str, table: Any, keys: Sequence[str], update: Sequence[str]) -> Insert:
    """INSERT that replaces the ``update`` columns when a row with the same ``keys`` exists."""
    if dialect == "mysql":
        mstmt = mysql_insert(table)
        return mstmt.on_duplicate_key_update({col: mstmt.inserted[col] for col in update})
    stmt = sqlite_insert(table) if dialect == "sqlite" else pg_insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(keys), set_={col: stmt.excluded[col] for col in update}
    )


_RUN_STATE = select(runs.c.experiment_id, runs.c.lifecycle_stage).where(
    runs.c.run_id == bindparam("run_id")
)


class SqlBase:
    """State shared by the store's parts; each part is a mixin over this class."""

    def __init__(
        self,
        db_uri: str,
        default_artifact_root: str | None = None,
        *,
        truncate_long_values: bool = True,
        **engine_options: Any,
    ) -> None:
        from wayline.store.sql.migrate import ensure_schema

        self.db_uri = db_uri
        # MLflow's default: over-long run param/tag values are cut, not refused (validation.py).
        self.truncate_long_values = truncate_long_values
        self.artifact_root = resolve_artifact_root(default_artifact_root)
        self.engine: Engine = build_engine(db_uri, **engine_options)
        self.dialect: str = self.engine.dialect.name
        self._writer: Engine = write_engine(self.engine)
        try:
            ensure_schema(self.engine, self.artifact_root)
        except BaseException:
            self.engine.dispose()  # no half-built store holding connections
            raise

    def _read(self) -> AbstractContextManager[Connection]:
        """A read transaction (a consistent snapshot on SQLite); see ``transaction``."""
        return transaction(self.engine)

    def _write(self) -> AbstractContextManager[Connection]:
        """A write transaction; on SQLite it holds the write lock from its first statement."""
        return transaction(self._writer)

    def close(self) -> None:
        """Close pooled connections (the store stays usable; new ones open on demand)."""
        self.engine.dispose()

    @staticmethod
    def _run_state(conn: Connection, run_id: str) -> tuple[int, str]:
        row = driver_execute(conn, _RUN_STATE, {"run_id": run_id}).fetchone()
        if row is None:
            raise NotFound(f"Run with id={run_id} not found")
        return row[0], row[1]

    @classmethod
    def _active_run(cls, conn: Connection, run_id: str) -> int:
        """The run's experiment id; NotFound or InvalidParameter unless the run is active."""
        experiment_id, stage = cls._run_state(conn, run_id)
        if stage != LifecycleStage.ACTIVE:
            raise InvalidParameter(
                f"The run {run_id} must be in the 'active' state. Current state is {stage}."
            )
        return experiment_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.engine.url.render_as_string()!r})"


def parse_experiment_id(experiment_id: str | int) -> int | None:
    """The table key for an API experiment id, or None when no experiment can have it."""
    if isinstance(experiment_id, bool):
        return None
    if isinstance(experiment_id, int):
        return experiment_id if 0 <= experiment_id < 2**31 else None
    text = str(experiment_id).strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if value < 2**31 else None
