"""Webhooks through a live ``wayline server``: MLflow 3.18's own client and our RestStore make
the webhook and the versions; the server process delivers to a real receiver on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models._mlflow import run_mlflow
from servers import ServerProcess, server_process
from wayline.entities.registry import ModelVersionTag
from wayline.store.rest.store import RestStore

from ._receiver import Received, Receiver

pytestmark = pytest.mark.slow

SERVER_ENV = {
    "WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS": "true",  # the receiver is on loopback
    "WAYLINE_WEBHOOK_RETRY_BACKOFF": "0.05",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    args = [
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'wayline.db'}",
        "--artifacts-destination",
        str(tmp_path / "artifacts"),
        "--host",
        "127.0.0.1",
    ]
    with server_process(args, tmp_path, env=SERVER_ENV) as running:
        yield running


def _signed(secret: str, request: Received) -> bool:
    headers = {k.lower(): v for k, v in request.headers.items()}
    content = f"{headers['x-mlflow-delivery-id']}.{headers['x-mlflow-timestamp']}."
    digest = hmac.new(secret.encode(), content.encode() + request.body, hashlib.sha256).digest()
    return headers.get("x-mlflow-signature") == "v1," + base64.b64encode(digest).decode()


def _deliveries(url: str, webhook_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        answer = httpx.get(f"{url}/api/2.0/mlflow/webhooks/{webhook_id}/deliveries")
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json().get("deliveries", [])
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.mark.compat
def test_mlflow_client_registers_and_the_server_delivers(
    server: ServerProcess, receiver: Receiver, mlflow_python: str, tmp_path: Path
) -> None:
    out = run_mlflow(
        mlflow_python,
        f"""
        import json
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri={server.url!r})
        hook = client.create_webhook(
            name="ci",
            url={receiver.url!r},
            events=["registered_model.created", "model_version.created",
                    "model_version_alias.created"],
            secret="s3cret",
        )
        client.create_registered_model("m", tags={{"team": "x"}})
        version = client.create_model_version("m", source="s3://bucket/m/1", tags={{"k": "v"}})
        client.set_registered_model_alias("m", "champion", version.version)
        test = client.test_webhook(hook.webhook_id, event="model_version.created")
        print(json.dumps({{"webhook_id": hook.webhook_id, "success": test.success,
                          "status": test.response_status}}))
        """,
        tmp_path,
    )

    assert (out["success"], out["status"]) == (True, 200)
    requests = receiver.wait_for(4)
    assert all(_signed("s3cret", r) for r in requests)
    events = sorted(
        (r.json()["entity"], r.json()["action"], r.json()["data"]["name"]) for r in requests
    )
    assert events == [
        ("model_version", "created", "example_model"),  # the test delivery
        ("model_version", "created", "m"),
        ("model_version_alias", "created", "m"),
        ("registered_model", "created", "m"),
    ]
    log = _deliveries(server.url, out["webhook_id"], 4)
    assert len(log) == 4 and all(d["success"] and d["response_status"] == 200 for d in log)


def test_rest_store_writes_reach_the_receiver_and_retries_are_logged(
    server: ServerProcess, receiver: Receiver
) -> None:
    receiver.fail_first = 1
    store = RestStore(server.url)
    try:
        hook = store.create_webhook("ours", receiver.url, ["model_version_tag.set"], secret="k")
        store.create_registered_model("m")
        store.create_model_version("m", "s3://bucket/m/1")
        store.set_model_version_tag("m", "1", ModelVersionTag("stage", "ok"))

        first, second = receiver.wait_for(2)
        assert first.headers["X-MLflow-Delivery-Id"] == second.headers["X-MLflow-Delivery-Id"]
        assert _signed("k", second)
        assert second.json()["data"] == {"name": "m", "version": "1", "key": "stage", "value": "ok"}
        log = list(store.list_webhook_deliveries(hook.webhook_id))
        deadline = time.monotonic() + 10
        while len(log) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            log = list(store.list_webhook_deliveries(hook.webhook_id))
        assert [(d.attempt, d.success, d.response_status) for d in log] == [
            (2, True, 200),
            (1, False, 500),
        ]
    finally:
        store.close()
