"""Registry events end to end: the SQL store's writes reach a real receiver, signed and logged.

The store is a real ``SqlStore`` on a SQLite file; the receiver a real HTTP server on loopback
(allowed by ``WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS``, set before the store builds its dispatcher).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersionTag,
    RegisteredModelTag,
    WebhookDelivery,
)
from wayline.errors import InvalidParameter
from wayline.store.sql.store import SqlStore
from wayline.webhooks import example_payload

from ._receiver import Received, Receiver, serve_receiver

MODEL_EVENTS = [
    "registered_model.created",
    "model_version.created",
    "model_version_tag.set",
    "model_version_tag.deleted",
    "model_version_alias.created",
    "model_version_alias.deleted",
]
PROMPT_EVENTS = [
    "prompt.created",
    "prompt_version.created",
    "prompt_tag.set",
    "prompt_tag.deleted",
    "prompt_version_tag.set",
    "prompt_version_tag.deleted",
    "prompt_alias.created",
    "prompt_alias.deleted",
]


@pytest.fixture
def make_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], SqlStore]]:
    monkeypatch.setenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
    monkeypatch.setenv("WAYLINE_WEBHOOK_RETRY_BACKOFF", "0.05")
    monkeypatch.setenv("WAYLINE_WEBHOOK_TIMEOUT", "2")
    opened: list[SqlStore] = []

    def make() -> SqlStore:
        store = SqlStore(f"sqlite:///{tmp_path / 'wayline.db'}", str(tmp_path / "artifacts"))
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[[], SqlStore]) -> SqlStore:
    return make_store()


def _verify(secret: str, request: Received) -> None:
    """Check the signature as a receiver does: HMAC over id, timestamp and the raw body."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    content = f"{headers['x-mlflow-delivery-id']}.{headers['x-mlflow-timestamp']}."
    digest = hmac.new(secret.encode(), content.encode() + request.body, hashlib.sha256).digest()
    assert headers["x-mlflow-signature"] == "v1," + base64.b64encode(digest).decode()
    assert abs(time.time() - int(headers["x-mlflow-timestamp"])) < 60


def _deliveries(store: SqlStore, webhook_id: str, count: int) -> list[WebhookDelivery]:
    """The delivery log once it holds ``count`` attempts (the worker writes it after sending)."""
    deadline = time.monotonic() + 10
    while True:
        log = list(store.list_webhook_deliveries(webhook_id, max_results=1000))
        if len(log) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.02)


def _events(requests: list[Received]) -> list[str]:
    return [f"{r.json()['entity']}.{r.json()['action']}" for r in requests]


def test_model_registry_writes_reach_the_receiver_signed(
    store: SqlStore, receiver: Receiver
) -> None:
    hook = store.create_webhook("ci", receiver.url, MODEL_EVENTS, secret="s3cret")

    store.create_registered_model("m", [RegisteredModelTag("team", "x")], "a model")
    store.create_model_version(
        "m", "s3://bucket/m/1", tags=[ModelVersionTag("k", "v")], description="first"
    )
    store.set_registered_model_alias("m", "champion", 1)
    store.set_model_version_tag("m", "1", ModelVersionTag("stage", "ok"))
    store.delete_model_version_tag("m", "1", "stage")
    store.delete_registered_model_alias("m", "champion")
    store.update_registered_model("m", "no event for this one")

    requests = receiver.wait_for(6)
    assert [
        (event, r.json()["data"]) for event, r in zip(_events(requests), requests, strict=True)
    ] == [
        (
            "registered_model.created",
            {"name": "m", "tags": {"team": "x"}, "description": "a model"},
        ),
        (
            "model_version.created",
            {
                "name": "m",
                "version": "1",
                "source": "s3://bucket/m/1",
                "run_id": None,  # as MLflow sends it
                "tags": {"k": "v"},
                "description": "first",
            },
        ),
        ("model_version_alias.created", {"name": "m", "alias": "champion", "version": "1"}),
        ("model_version_tag.set", {"name": "m", "version": "1", "key": "stage", "value": "ok"}),
        ("model_version_tag.deleted", {"name": "m", "version": "1", "key": "stage"}),
        ("model_version_alias.deleted", {"name": "m", "alias": "champion"}),
    ]
    for request in requests:
        _verify("s3cret", request)
    log = _deliveries(store, hook.webhook_id, 6)
    assert sorted(d.event for d in log) == sorted(MODEL_EVENTS)
    assert all(d.success and d.attempt == 1 and d.response_status == 200 for d in log)
    sent_ids = {r.headers["X-MLflow-Delivery-Id"] for r in requests}
    assert {d.delivery_id for d in log} == sent_ids
    time.sleep(0.2)
    assert len(receiver.requests) == 6  # the description update is no webhook event


def test_only_subscribed_active_webhooks_hear_an_event(store: SqlStore) -> None:
    with serve_receiver() as wanted, serve_receiver() as other, serve_receiver() as off:
        store.create_webhook("versions", wanted.url, ["model_version.created"])
        store.create_webhook("aliases", other.url, ["model_version_alias.created"])
        disabled = store.create_webhook("off", off.url, ["model_version.created"])
        store.update_webhook(disabled.webhook_id, status="DISABLED")

        store.create_registered_model("m")
        store.create_model_version("m", "s3://bucket/m/1")
        store.create_model_version("m", "s3://bucket/m/2")

        assert [r.json()["data"]["version"] for r in wanted.wait_for(2)] == ["1", "2"]
        assert "x-mlflow-signature" not in {k.lower() for k in wanted.requests[0].headers}
        time.sleep(0.3)
        assert other.requests == [] and off.requests == []


def test_failed_attempts_are_retried_and_logged(store: SqlStore, receiver: Receiver) -> None:
    receiver.fail_first = 2
    hook = store.create_webhook("flaky", receiver.url, ["registered_model.created"], secret="k")

    store.create_registered_model("m")

    requests = receiver.wait_for(3)
    assert len({r.headers["X-MLflow-Delivery-Id"] for r in requests}) == 1
    for request in requests:
        _verify("k", request)
    log = _deliveries(store, hook.webhook_id, 3)  # newest first
    assert [(d.attempt, d.success, d.response_status) for d in log] == [
        (3, True, 200),
        (2, False, 500),
        (1, False, 500),
    ]
    assert log[-1].error_message == "HTTP 500: receiver is down"
    assert {d.delivery_id for d in log} == {requests[0].headers["X-MLflow-Delivery-Id"]}


def test_test_webhook_sends_an_example_now(store: SqlStore, receiver: Receiver) -> None:
    hook = store.create_webhook(
        "t", receiver.url, ["model_version_alias.created", "model_version.created"], secret="k"
    )

    result = store.test_webhook(hook.webhook_id)
    assert (result.success, result.response_status, result.error_message) == (True, 200, "")
    again = store.test_webhook(hook.webhook_id, "model_version.created")
    assert again.success

    first, second = receiver.requests
    assert first.json()["data"] == example_payload("model_version_alias.created")
    assert second.json()["data"] == example_payload("model_version.created")
    _verify("k", first)
    log = store.list_webhook_deliveries(hook.webhook_id)
    assert sorted(d.event for d in log) == ["model_version.created", "model_version_alias.created"]


def test_test_webhook_reports_a_failing_receiver(store: SqlStore, receiver: Receiver) -> None:
    receiver.fail_first = 1
    receiver.fail_status = 503
    hook = store.create_webhook("t", receiver.url, ["registered_model.created"])
    result = store.test_webhook(hook.webhook_id)
    assert (result.success, result.response_status) == (False, 503)
    assert result.response_body == "receiver is down"
    assert "HTTP 503" in result.error_message
    assert len(receiver.requests) == 1  # a test is one attempt


def test_prompt_writes_are_prompt_events(store: SqlStore, receiver: Receiver) -> None:
    store.create_webhook("prompts", receiver.url, PROMPT_EVENTS + MODEL_EVENTS)
    prompt_tags = [RegisteredModelTag(PROMPT_TAG, "true")]

    store.create_registered_model("qa", prompt_tags, "first")
    store.create_model_version(
        "qa",
        "dummy-source",
        tags=[ModelVersionTag(PROMPT_TAG, "true"), ModelVersionTag("mlflow.prompt.text", "Hi")],
    )
    store.set_registered_model_tag("qa", RegisteredModelTag("team", "x"))
    store.delete_registered_model_tag("qa", "team")
    store.set_model_version_tag("qa", "1", ModelVersionTag("k", "v"))
    store.delete_model_version_tag("qa", "1", "k")
    store.set_registered_model_alias("qa", "prod", 1)
    store.delete_registered_model_alias("qa", "prod")

    requests = receiver.wait_for(len(PROMPT_EVENTS))
    assert _events(requests) == PROMPT_EVENTS  # in the order of the calls above
    assert all(r.json()["data"]["name"] == "qa" for r in requests)


def test_urls_are_checked_when_webhooks_are_made(
    store: SqlStore, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = store.create_webhook("ok", receiver.url, ["model_version.created"])
    monkeypatch.delenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS")

    with pytest.raises(InvalidParameter, match=r"\(loopback\).*ALLOW_PRIVATE_IPS"):
        store.create_webhook("local", receiver.url, ["model_version.created"])
    with pytest.raises(InvalidParameter, match=r"\(link-local\)"):
        store.update_webhook(hook.webhook_id, url="http://169.254.169.254/latest")
    with pytest.raises(InvalidParameter, match="scheme 'ftp'"):
        store.create_webhook("ftp", "ftp://93.184.215.14/x", ["model_version.created"])
