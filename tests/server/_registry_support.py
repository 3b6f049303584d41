"""Shared by the registry server tests (import as ``._registry_support``): a live uvicorn server
on a fresh SQLite store, and helpers that call the API as MLflow's client does.

A test module imports the fixtures ``server`` (one live server per module), ``http`` (an httpx
client on it) and ``rest`` (a RestStore on it) by name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import live_server
from wayline.server import ServerSettings, create_app
from wayline.store.rest import RestSettings, RestStore

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


@contextmanager
def registry_server(folder: Path) -> Iterator[str]:
    """A live server (uvicorn in a thread) on a new SQLite database in ``folder``; its URL."""
    settings = ServerSettings(backend_store_uri=f"sqlite:///{folder / 'server.db'}")
    with live_server(create_app(settings)) as url:
        yield url


@contextmanager
def rest_store(url: str) -> Iterator[RestStore]:
    """Wayline's REST store on the server at ``url``, without retries (errors are answers)."""
    store = RestStore(url, RestSettings(max_retries=0))
    try:
        yield store
    finally:
        store.close()


def unique(prefix: str = "model") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def call(
    http: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None, **kw: Any
) -> httpx.Response:
    """One request as MLflow's client sends it: query string for GET, JSON body otherwise."""
    if method == "GET":
        return http.get(f"{API}/{path}", params=body, **kw)
    return http.request(method, f"{API}/{path}", json=body or {}, **kw)


def ok(http: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = call(http, method, path, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def error(response: httpx.Response, status: int, code: str, message: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    if message is not None:
        assert body["message"] == message


def new_run(http: httpx.Client) -> str:
    experiment_id = ok(http, "POST", "experiments/create", {"name": unique("exp")})["experiment_id"]
    run = ok(http, "POST", "runs/create", {"experiment_id": experiment_id, "start_time": 1})
    run_id: str = run["run"]["info"]["run_id"]
    return run_id


def history(http: httpx.Client, name: str) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = ok(http, "GET", "registered-models/history", {"name": name})[
        "changes"
    ]
    return changes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with registry_server(tmp_path_factory.mktemp("registry-server")) as url:
        yield url


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30.0) as client:
        yield client


@pytest.fixture
def rest(server: str) -> Iterator[RestStore]:
    with rest_store(server) as store:
        yield store
