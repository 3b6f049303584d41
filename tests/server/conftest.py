"""Fixtures: ``client`` (one app per module, shared database) and ``make_client`` (fresh ones)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from wayline.server import ServerSettings, create_app

from ._support import serve, sqlite_settings

MakeClient = Callable[..., AbstractContextManager[httpx.Client]]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client on one app per test module; tests use unique names, so they can share it."""
    with serve(create_app(sqlite_settings(tmp_path_factory.mktemp("server")))) as http:
        yield http


@pytest.fixture
def make_client(tmp_path: Path) -> MakeClient:
    """``with make_client() as http:``: a client on a new app over an empty database."""

    def make(
        settings: ServerSettings | None = None, *, raise_errors: bool = True
    ) -> AbstractContextManager[httpx.Client]:
        folder = tmp_path / uuid.uuid4().hex
        folder.mkdir()
        return serve(create_app(settings or sqlite_settings(folder)), raise_errors=raise_errors)

    return make
