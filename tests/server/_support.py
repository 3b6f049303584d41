"""Serve the real app in-process to a synchronous ``httpx.Client`` (import as ``._support``).

``starlette.testclient`` warns that using it with httpx is deprecated (it wants httpx2), and
``httpx.ASGITransport`` is async-only, so ``SyncASGITransport`` bridges the two: each request runs
on an anyio event loop in a blocking portal, the one the app's lifespan also runs in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.applications import Starlette

from wayline.server import ServerSettings

API = "/api/2.0/mlflow"


class SyncASGITransport(httpx.BaseTransport):
    """``httpx.ASGITransport`` for a sync client: requests run through a blocking portal."""

    def __init__(self, app: Starlette, portal: BlockingPortal, *, raise_errors: bool = True):
        self._transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_errors)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._transport.handle_async_request(request)
            body = await response.aread()
            await response.aclose()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._portal.call(send)


@contextmanager
def serve(app: Starlette, *, raise_errors: bool = True) -> Iterator[httpx.Client]:
    """A client on ``app`` with its lifespan running, so its stores are closed at the end."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
        httpx.Client(
            transport=SyncASGITransport(app, portal, raise_errors=raise_errors),
            base_url="http://localhost",
        ) as client,
    ):
        yield client


def new_run(client: httpx.Client, **body: object) -> tuple[str, str]:
    created = client.post(f"{API}/experiments/create", json={"name": unique()})
    experiment_id = created.json()["experiment_id"]
    response = client.post(f"{API}/runs/create", json={"experiment_id": experiment_id, **body})
    assert response.status_code == 200, response.text
    run_id = response.json()["run"]["info"]["run_id"]
    assert isinstance(run_id, str)
    return experiment_id, run_id


def get_run(client: httpx.Client, run_id: str) -> dict[str, Any]:
    # The client always sends both spellings of the id.
    response = client.get(f"{API}/runs/get", params={"run_uuid": run_id, "run_id": run_id})
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()["run"]
    return run


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(f"{API}/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def sqlite_settings(folder: Path) -> ServerSettings:
    return ServerSettings(backend_store_uri=f"sqlite:///{folder / 'server.db'}")


def unique(prefix: str = "exp") -> str:
    """A name no other test uses, for tests sharing one module-wide database."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
