from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ._support import SearchDb, search_engine


@pytest.fixture
def db() -> Iterator[SearchDb]:
    """An empty in-memory SQLite database with the store's tables."""
    engine = search_engine()
    yield SearchDb(engine)
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def backend_db(
    request: pytest.FixtureRequest, make_database: Callable[[str], str]
) -> Iterator[SearchDb]:
    """The same tables on a fresh database of each backend (real servers for PG/MariaDB)."""
    engine = search_engine(make_database(request.param))
    yield SearchDb(engine)
    engine.dispose()
