from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from wayline.errors import WaylineError
from wayline.store.sql import migrate
from wayline.store.sql.migrations import HEAD_REVISION
from wayline.store.sql.store import SqlStore


def test_head_constant_is_alembics_head() -> None:
    assert migrate.alembic_head() == HEAD_REVISION


def test_fresh_database_gets_schema_and_default_experiment(
    make_store: Callable[[], SqlStore], artifact_root: str
) -> None:
    store = make_store()
    default = store.get_experiment("0")
    assert (default.name, default.lifecycle_stage) == ("Default", "active")
    assert default.artifact_location == f"{artifact_root}/0"
    # The explicit 0 did not disturb the id sequence (MySQL needs NO_AUTO_VALUE_ON_ZERO for it).
    assert store.create_experiment("first") == "1"
    assert make_store().get_experiment("1").name == "first"


def _set_version(uri: str, version: str) -> None:
    engine = create_engine(uri)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": version})
    finally:
        engine.dispose()


def test_older_schema_asks_for_db_upgrade(
    db_uri: str, make_store: Callable[[], SqlStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    make_store().close()
    # Pretend this Wayline has a newer revision: the database's (real) revision is then older.
    monkeypatch.setattr(migrate, "HEAD_REVISION", "9999_future")
    with pytest.raises(WaylineError, match="wayline db upgrade") as info:
        SqlStore(db_uri)
    assert "older schema" in str(info.value)


def test_unknown_revision_is_refused(db_uri: str, make_store: Callable[[], SqlStore]) -> None:
    make_store().close()
    _set_version(db_uri, "abcdef123456")
    with pytest.raises(WaylineError, match="does not know"):
        SqlStore(db_uri)
    with pytest.raises(WaylineError, match="does not know"):
        migrate.upgrade(db_uri)


def test_foreign_tables_are_refused(sqlite_uri: str) -> None:
    engine = create_engine(sqlite_uri)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE runs (run_uuid VARCHAR(32))"))
    engine.dispose()
    with pytest.raises(WaylineError, match="no Wayline schema version"):
        SqlStore(sqlite_uri)


def test_upgrade_is_idempotent(db_uri: str) -> None:
    assert migrate.upgrade(db_uri) == HEAD_REVISION
    assert migrate.upgrade(db_uri) == HEAD_REVISION
    store = SqlStore(db_uri)
    try:
        assert store.get_experiment("0").name == "Default"
    finally:
        store.close()


def test_current_schema_check_does_not_import_alembic(sqlite_uri: str) -> None:
    SqlStore(sqlite_uri).close()
    code = (
        "import sys\n"
        "from wayline.store.sql.store import SqlStore\n"
        f"SqlStore({sqlite_uri!r}).close()\n"
        "assert 'alembic' not in sys.modules, 'alembic imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_concurrent_initialisation_creates_the_schema_once(db_uri: str) -> None:
    errors: list[BaseException] = []
    stores: list[SqlStore] = []
    barrier = threading.Barrier(4)

    def open_store() -> None:
        try:
            barrier.wait()
            stores.append(SqlStore(db_uri))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        names = [e.name for e in stores[0].search_experiments()]
        assert names == ["Default"]
    finally:
        for store in stores:
            store.close()


def test_migrations_build_exactly_tables_py(db_uri: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from wayline.store.sql.tables import metadata

    migrate.upgrade(db_uri)
    engine = create_engine(db_uri)
    try:
        with engine.connect() as conn:
            drift = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert drift == []
