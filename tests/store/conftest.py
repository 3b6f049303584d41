"""Fixtures for the SQL store's own tests: one fresh database per test on each SQL backend.

``db_uri`` is parametrized over SQLite, PostgreSQL and MariaDB (the server ones carry their
marker, so ``-m "not mysql"`` deselects them); ``sql_store`` is a SqlStore on it, disposed after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wayline.store.sql.store import SqlStore

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]


@pytest.fixture(params=BACKENDS)
def db_uri(request: pytest.FixtureRequest, make_database: Callable[[str], str]) -> str:
    return make_database(request.param)


@pytest.fixture
def artifact_root(tmp_path: Path) -> str:
    return str(tmp_path / "artifacts")


@pytest.fixture
def make_store(db_uri: str, artifact_root: str) -> Iterator[Callable[[], SqlStore]]:
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        store = SqlStore(db_uri, artifact_root)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def sql_store(make_store: Callable[[], SqlStore]) -> SqlStore:
    return make_store()
