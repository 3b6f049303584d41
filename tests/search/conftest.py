from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._support import SearchDb, search_engine


@pytest.fixture
def db() -> Iterator[SearchDb]:
    """An empty in-memory SQLite database with the store's tables."""
    engine = search_engine()
    yield SearchDb(engine)
    engine.dispose()
