"""Schema versioning: create the schema in an empty database, refuse an outdated one.

Store start-up calls ``ensure_schema``. When the database is at ``HEAD_REVISION`` (the common
case) that is a single query and Alembic is never imported; an empty database gets the newest
schema from ``tables.py`` directly (``wayline db upgrade`` runs the migrations instead).
Otherwise the check is repeated under a lock, so that several processes starting on a fresh
database create the schema exactly once: SQLite takes the write lock (``BEGIN IMMEDIATE``),
PostgreSQL a transaction-scoped advisory lock, MySQL a named lock (its DDL commits implicitly,
so a transaction cannot serialize it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError

from wayline.entities import LifecycleStage
from wayline.errors import WaylineError
from wayline.store.sql import tables
from wayline.store.sql.base import join_uri, now_ms, resolve_artifact_root
from wayline.store.sql.engine import build_engine, write_engine
from wayline.store.sql.migrations import HEAD_REVISION
from wayline.store.sql.tables import experiments
from wayline.store.tracking import DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
# Any fixed number: PostgreSQL advisory locks are per database, keyed by a bigint.
_PG_LOCK_KEY = 0x5741594C494E45  # "WAYLINE"
_MYSQL_LOCK_TIMEOUT_S = 600


def ensure_schema(engine: Engine, artifact_root: str) -> None:
    """Make the database usable by this version of Wayline, or explain why it is not."""
    if _fast_version(engine) == HEAD_REVISION:
        return
    _migrate_locked(engine, artifact_root, upgrade_existing=False)


def upgrade(uri: str, artifact_root: str | None = None) -> str:
    """Bring the database at ``uri`` to the newest schema (``wayline db upgrade``).

    An empty database gets the whole schema and the Default experiment, whose artifacts go to
    ``<artifact_root>/0``. Returns the revision the database is at afterwards.

    Example::

        from wayline.store.sql.migrate import upgrade
        upgrade("postgresql://user@db.example.com/wayline")
    """
    engine = build_engine(uri)
    try:
        _migrate_locked(engine, resolve_artifact_root(artifact_root), upgrade_existing=True)
    finally:
        engine.dispose()
    return HEAD_REVISION


def alembic_head() -> str | None:
    """The head revision according to Alembic's scripts (what HEAD_REVISION must equal)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _fast_version(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            value = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    except DBAPIError:
        # No version table yet (or the database is unreachable, which the locked path reports).
        return None
    return str(value) if value is not None else None


def _migrate_locked(engine: Engine, artifact_root: str, upgrade_existing: bool) -> None:
    if engine.dialect.name == "mysql":
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT GET_LOCK(CONCAT('wayline-migrate:', DATABASE()), :timeout)"),
                {"timeout": _MYSQL_LOCK_TIMEOUT_S},
            ).scalar()
            if got != 1:
                raise WaylineError(
                    "Timed out waiting for another process to finish migrating the database."
                )
            try:
                _check_and_migrate(conn, artifact_root, upgrade_existing)
                conn.commit()
            finally:
                conn.execute(text("SELECT RELEASE_LOCK(CONCAT('wayline-migrate:', DATABASE()))"))
                conn.commit()
        return
    with write_engine(engine).begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        _check_and_migrate(conn, artifact_root, upgrade_existing)


def _check_and_migrate(conn: Connection, artifact_root: str, upgrade_existing: bool) -> None:
    inspector = inspect(conn)
    version = None
    if inspector.has_table(VERSION_TABLE):
        version = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    if version == HEAD_REVISION:
        return  # another process got here first
    url = conn.engine.url.render_as_string()
    if version is None:
        existing = [t for t in inspector.get_table_names() if t != VERSION_TABLE]
        if existing:
            raise WaylineError(
                f"The database {url} already holds tables ({', '.join(sorted(existing)[:5])})"
                " but no Wayline schema version. Point Wayline at an empty database."
            )
        if upgrade_existing:
            _run_alembic(conn)  # `wayline db upgrade`: the migrations themselves
        else:
            _create_head_schema(conn)
        _create_default_experiment(conn, artifact_root)
        return
    if not _is_known_revision(str(version)):
        raise WaylineError(
            f"The database {url} is at schema revision {version!r}, which this version of"
            " Wayline does not know: it was created by a newer Wayline or by another tool."
        )
    if not upgrade_existing:
        raise WaylineError(
            f"The database {url} uses an older schema (revision {version}; this version of"
            f" Wayline needs {HEAD_REVISION}). Back it up, then run: wayline db upgrade {url}"
        )
    _run_alembic(conn)


def _create_head_schema(conn: Connection) -> None:
    """The newest schema straight from ``tables.py``, stamped with ``HEAD_REVISION``.

    What the migrations build (tests/schema checks both paths against the same golden
    schema), without importing Alembic: a server or script on a new database starts faster.
    """
    tables.metadata.create_all(conn)
    _VERSION.create(conn)
    conn.execute(_VERSION.insert().values(version_num=HEAD_REVISION))


# Alembic's own version table, as its migrations create it.
_VERSION = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def _alembic_config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    # Config values go through ConfigParser interpolation: escape '%' in the path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def _run_alembic(conn: Connection) -> None:
    from alembic import command

    command.upgrade(_alembic_config(conn), "head")


def _is_known_revision(version: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(_alembic_config()).get_revision(version) is not None
    except CommandError:
        return False


def _create_default_experiment(conn: Connection, artifact_root: str) -> None:
    now = now_ms()
    insert = experiments.insert().values(
        experiment_id=int(DEFAULT_EXPERIMENT_ID),
        name=DEFAULT_EXPERIMENT_NAME,
        artifact_location=join_uri(artifact_root, DEFAULT_EXPERIMENT_ID),
        lifecycle_stage=LifecycleStage.ACTIVE.value,
        creation_time=now,
        last_update_time=now,
    )
    if conn.dialect.name != "mysql":
        # PostgreSQL and SQLite store an explicit 0; their sequences still start at 1.
        conn.execute(insert)
        return
    # MySQL reads 0 in an AUTO_INCREMENT column as "next value" unless told otherwise.
    mode = conn.execute(text("SELECT @@SESSION.sql_mode")).scalar() or ""
    conn.execute(
        text("SET SESSION sql_mode = :mode"),
        {"mode": f"{mode},NO_AUTO_VALUE_ON_ZERO" if mode else "NO_AUTO_VALUE_ON_ZERO"},
    )
    try:
        conn.execute(insert)
    finally:
        conn.execute(text("SET SESSION sql_mode = :mode"), {"mode": mode})


__all__ = ["alembic_head", "ensure_schema", "upgrade"]
