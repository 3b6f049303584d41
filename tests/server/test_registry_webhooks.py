"""Webhooks over HTTP (spec rest-registry.md §4) and Wayline's delivery log: a live server
delivering to a live receiver on loopback, through raw requests and through the REST store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from servers import live_server
from wayline.entities.registry import WebhookEvent, WebhookStatus
from wayline.errors import NotFound
from wayline.store.rest import RestStore

from . import _registry_support
from ._registry_support import (
    call,
    error,
    ok,
    unique,
)

# The shared fixtures, found by pytest under these names.
server, http, rest = _registry_support.server, _registry_support.http, _registry_support.rest


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A live HTTP receiver on loopback (allowed for this test) that records every POST."""
    monkeypatch.setenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> Response:
        received.append(
            {"headers": dict(request.headers), "body": json.loads(await request.body())}
        )
        return JSONResponse({"ok": True})

    app = Starlette(routes=[StarletteRoute("/hook", hook, methods=["POST"])])
    with live_server(app) as url:
        yield f"{url}/hook", received


def _wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for a webhook delivery")
        time.sleep(0.05)


def test_webhook_lifecycle_and_deliveries(
    http: httpx.Client, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = receiver
    created = ok(
        http,
        "POST",
        "webhooks",
        {
            "name": "hook",
            "url": url,
            "events": [{"entity": "REGISTERED_MODEL", "action": "CREATED"}],
            "description": "d",
            "secret": "s3cret",
        },
    )["webhook"]
    webhook_id = created["webhook_id"]
    assert created["events"] == [{"entity": "REGISTERED_MODEL", "action": "CREATED"}]
    assert created["status"] == "ACTIVE"
    assert "secret" not in created

    assert ok(http, "GET", f"webhooks/{webhook_id}")["webhook"] == created
    listed = ok(http, "GET", "webhooks", {"max_results": 100})["webhooks"]
    assert webhook_id in [w["webhook_id"] for w in listed]

    result = ok(http, "POST", f"webhooks/{webhook_id}/test", {})["result"]
    assert result["success"] is True and result["response_status"] == 200
    assert received[-1]["body"]["entity"] == "registered_model"
    assert received[-1]["headers"]["x-mlflow-signature"].startswith("v1,")

    name = unique("hooked")
    ok(http, "POST", "registered-models/create", {"name": name})
    _wait_for(lambda: any(r["body"]["data"].get("name") == name for r in received))

    def delivered() -> list[dict[str, Any]]:
        page = ok(http, "GET", f"webhooks/{webhook_id}/deliveries", {})
        deliveries: list[dict[str, Any]] = page.get("deliveries", [])
        return deliveries

    _wait_for(lambda: len(delivered()) >= 2)
    newest = delivered()[0]
    assert newest["webhook_id"] == webhook_id
    assert newest["event"] == "registered_model.created"
    assert (newest["success"], newest["response_status"], newest["attempt"]) == (True, 200, 1)

    updated = ok(
        http,
        "PATCH",
        f"webhooks/{webhook_id}",
        {"status": "DISABLED", "events": ["model_version.created"]},
    )["webhook"]
    assert updated["status"] == "DISABLED"
    assert updated["events"] == [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    assert (updated["name"], updated["description"], updated["url"]) == ("hook", "d", url)

    assert ok(http, "DELETE", f"webhooks/{webhook_id}") == {}
    error(call(http, "GET", f"webhooks/{webhook_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(call(http, "POST", f"webhooks/{webhook_id}/test", {}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_webhook_input_errors(http: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", raising=False)
    monkeypatch.delenv("MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS", raising=False)
    event = [{"entity": "MODEL_VERSION", "action": "CREATED"}]
    bad: list[dict[str, Any]] = [
        {"url": "https://hooks.example.com", "events": event},  # no name
        {"name": "w", "events": event},  # no url
        {"name": "w", "url": "https://hooks.example.com"},  # no events
        {"name": "w", "url": "https://hooks.example.com", "events": []},
        {"name": "w", "url": "ftp://hooks.example.com", "events": event},
        {"name": "w", "url": "http://127.0.0.1:9/x", "events": event},  # loopback refused
        {"name": "w", "url": "https://a.example", "events": [{"entity": "MODEL_VERSION"}]},
        {"name": "w", "url": "https://a.example", "events": ["model_version.set"]},
        {"name": "w", "url": "https://a.example", "events": event, "status": "SOMETIMES"},
    ]
    for body in bad:
        error(call(http, "POST", "webhooks", body), 400, "INVALID_PARAMETER_VALUE")
    error(call(http, "GET", "webhooks", {"max_results": "many"}), 400, "INVALID_PARAMETER_VALUE")
    error(call(http, "PATCH", "webhooks/nope", {"name": "x"}), 404, "RESOURCE_DOES_NOT_EXIST")
    error(call(http, "DELETE", "webhooks/nope"), 404, "RESOURCE_DOES_NOT_EXIST")
    error(call(http, "GET", "webhooks/nope/deliveries"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_rest_store_webhooks(rest: RestStore, receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    hook = rest.create_webhook("rest-hook", url, ["model_version.created"], secret="x")
    assert hook.events == [WebhookEvent("MODEL_VERSION", "CREATED")]
    assert rest.get_webhook(hook.webhook_id) == hook
    assert hook.webhook_id in [w.webhook_id for w in rest.list_webhooks()]
    result = rest.test_webhook(hook.webhook_id, "model_version.created")
    assert result.success and result.response_status == 200
    assert received[-1]["body"]["entity"] == "model_version"
    deliveries = rest.list_webhook_deliveries(hook.webhook_id)
    assert deliveries[0].success and deliveries[0].event == "model_version.created"
    changed = rest.update_webhook(hook.webhook_id, status=WebhookStatus.DISABLED, name="renamed")
    assert (changed.status, changed.name, changed.url) == (WebhookStatus.DISABLED, "renamed", url)
    rest.delete_webhook(hook.webhook_id)
    with pytest.raises(NotFound):
        rest.get_webhook(hook.webhook_id)
