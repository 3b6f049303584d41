"""The dispatcher against a real HTTP receiver on loopback.

The source is a small in-memory implementation of ``WebhookSource`` (the receiver-side interface
the dispatcher is written against); tests/webhooks/test_store_delivery.py runs the same paths with
the SQL store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from wayline.entities.registry import (
    WEBHOOK_EVENTS,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
)
from wayline.errors import InvalidParameter, WaylineError
from wayline.webhooks import WebhookDispatcher, WebhookSettings, example_payload

from ._receiver import Receiver

CREATED = WebhookEvent("MODEL_VERSION", "CREATED")
TAG_SET = WebhookEvent("MODEL_VERSION_TAG", "SET")
MakeDispatcher = Callable[..., WebhookDispatcher]
FAST = WebhookSettings(timeout=2.0, max_retries=3, retry_backoff=0.05, allow_private_ips=True)


class MemorySource:
    """Webhooks and the delivery log in memory, as the dispatcher sees a store."""

    def __init__(self) -> None:
        self.hooks: list[tuple[Webhook, str | None]] = []
        self.deliveries: list[WebhookDelivery] = []
        self.lock = threading.Lock()

    def add(
        self,
        url: str,
        secret: str | None = None,
        events: tuple[WebhookEvent, ...] = (CREATED,),
        status: WebhookStatus = WebhookStatus.ACTIVE,
    ) -> Webhook:
        n = len(self.hooks)
        hook = Webhook(f"wh-{n}", f"hook{n}", url, list(events), 0, 0, status=status)
        self.hooks.append((hook, secret))
        return hook

    def active_webhooks(self, event: WebhookEvent) -> list[tuple[Webhook, str | None]]:
        return [
            (hook, secret)
            for hook, secret in self.hooks
            if event in hook.events and hook.status == WebhookStatus.ACTIVE
        ]

    def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)


@pytest.fixture
def source() -> MemorySource:
    return MemorySource()


@pytest.fixture
def make_dispatcher(source: MemorySource) -> Iterator[MakeDispatcher]:
    made: list[WebhookDispatcher] = []

    def make(settings: WebhookSettings = FAST) -> WebhookDispatcher:
        dispatcher = WebhookDispatcher(source, settings)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        dispatcher.close()


def _signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    # What a receiver computes, following MLflow's documentation (not our signing module).
    content = f"{delivery_id}.{timestamp}.{body.decode('utf-8')}".encode()
    digest = hmac.new(secret.encode(), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_an_event_reaches_its_webhook_signed(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    hook = source.add(receiver.url, secret="s3cret")
    source.add(receiver.url, events=(TAG_SET,))  # not subscribed to model_version.created
    dispatcher = make_dispatcher()
    data = {"name": "m", "version": "1", "source": "s", "run_id": "", "tags": {}, "description": ""}

    before = int(time.time())
    dispatcher.emit(CREATED, data)
    data["name"] = "changed later"  # the event was frozen when emitted
    assert dispatcher.flush(10)

    (request,) = receiver.requests
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert request.path == "/hook"
    assert headers["content-type"] == "application/json"
    assert headers["host"] == receiver.url.split("/")[2]
    assert headers["user-agent"].startswith("wayline-webhooks/")
    body = request.json()
    assert body["entity"] == "model_version" and body["action"] == "created"
    assert body["data"] == {**data, "name": "m"}
    assert datetime.fromisoformat(body["timestamp"]).utcoffset() == timedelta(0)
    delivery_id, stamp = headers["x-mlflow-delivery-id"], headers["x-mlflow-timestamp"]
    assert before <= int(stamp) <= time.time() + 1
    assert headers["x-mlflow-signature"] == _signature("s3cret", delivery_id, stamp, request.body)
    (logged,) = source.deliveries
    assert logged.delivery_id == delivery_id
    assert (logged.webhook_id, logged.event, logged.attempt) == (hook.webhook_id, str(CREATED), 1)
    assert (logged.success, logged.response_status, logged.error_message) == (True, 200, "")


def test_no_secret_no_signature(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    source.add(receiver.url)
    dispatcher = make_dispatcher()
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    (request,) = receiver.requests
    assert "x-mlflow-signature" not in {k.lower() for k in request.headers}


def test_failures_are_retried_with_backoff_under_one_delivery_id(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    receiver.fail_first = 2
    source.add(receiver.url, secret="k")
    dispatcher = make_dispatcher(WebhookSettings(2.0, 3, 0.2, True))

    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)

    requests = receiver.requests
    assert len(requests) == 3
    ids = {r.headers["X-MLflow-Delivery-Id"] for r in requests}
    assert len(ids) == 1
    (delivery_id,) = ids
    assert len({r.body for r in requests}) == 1
    for r in requests:  # each attempt signed for its own timestamp
        stamp = r.headers["X-MLflow-Timestamp"]
        assert r.headers["X-MLflow-Signature"] == _signature("k", delivery_id, stamp, r.body)
    assert requests[1].at - requests[0].at >= 0.2 - 0.02
    assert requests[2].at - requests[1].at >= 0.4 - 0.02  # doubled
    log = sorted(source.deliveries, key=lambda d: d.attempt)
    assert [(d.attempt, d.success, d.response_status) for d in log] == [
        (1, False, 500),
        (2, False, 500),
        (3, True, 200),
    ]
    assert log[0].error_message == "HTTP 500: receiver is down"
    assert len({d.delivery_id for d in log}) == 1


def test_retries_stop_after_max_retries(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    receiver.fail_first = 100
    receiver.fail_status = 503
    source.add(receiver.url)
    dispatcher = make_dispatcher(WebhookSettings(2.0, 2, 0.01, True))
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    assert len(receiver.requests) == 3
    assert [(d.attempt, d.success, d.response_status) for d in source.deliveries] == [
        (1, False, 503),
        (2, False, 503),
        (3, False, 503),
    ]


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_client_errors_are_final(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher, status: int
) -> None:
    receiver.fail_first = 100
    receiver.fail_status = status
    source.add(receiver.url)
    dispatcher = make_dispatcher()
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    assert len(receiver.requests) == 1
    (logged,) = source.deliveries
    assert (logged.success, logged.response_status) == (False, status)
    assert logged.error_message.startswith(f"HTTP {status}")


def test_429_is_retried_after_retry_after(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    receiver.fail_first = 1
    receiver.fail_status = 429
    receiver.retry_after = "1"
    source.add(receiver.url)
    dispatcher = make_dispatcher(WebhookSettings(2.0, 3, 0.01, True))
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    first, second = receiver.requests
    assert second.at - first.at >= 0.95
    assert [d.response_status for d in source.deliveries] == [429, 200]


def test_connection_errors_are_retried_and_logged(
    source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source.add(f"http://127.0.0.1:{port}/hook")
    dispatcher = make_dispatcher(WebhookSettings(2.0, 1, 0.01, True))
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    assert [(d.attempt, d.success, d.response_status) for d in source.deliveries] == [
        (1, False, None),
        (2, False, None),
    ]
    assert source.deliveries[0].error_message.startswith("ConnectError")


def test_a_slow_receiver_times_out_and_is_retried(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    receiver.delay_s = 1.0
    source.add(receiver.url)
    dispatcher = make_dispatcher(WebhookSettings(0.2, 1, 0.01, True))
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    assert len(receiver.wait_for(2)) == 2
    assert [d.success for d in source.deliveries] == [False, False]
    assert "no answer within 0.2 s" in source.deliveries[0].error_message


def test_redirects_are_not_followed(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    receiver.location = "http://169.254.169.254/latest/meta-data"
    source.add(receiver.url)
    dispatcher = make_dispatcher()
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    assert len(receiver.requests) == 1
    (logged,) = source.deliveries
    assert (logged.success, logged.response_status) == (False, 302)
    assert "not followed" in logged.error_message


def test_private_addresses_are_refused_at_delivery_too(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    # As after DNS rebinding: the URL passed when the webhook was made, no longer does.
    source.add(receiver.url.replace("127.0.0.1", "localhost"))
    dispatcher = make_dispatcher(WebhookSettings(2.0, 3, 0.01, allow_private_ips=False))
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    assert receiver.requests == []
    (logged,) = source.deliveries  # not retried: the address will not become public
    assert not logged.success and "(loopback)" in logged.error_message


def test_a_host_name_is_resolved_then_pinned(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    url = receiver.url.replace("127.0.0.1", "localhost")
    source.add(url)
    dispatcher = make_dispatcher()
    dispatcher.emit(CREATED, {"name": "m"})
    assert dispatcher.flush(10)
    (request,) = receiver.requests
    assert request.headers["Host"] == url.split("/")[2]


def test_one_failing_webhook_does_not_hold_up_another(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    source.add(dead)
    source.add(receiver.url)
    dispatcher = make_dispatcher(WebhookSettings(1.0, 3, 5.0, True))
    start = time.monotonic()
    dispatcher.emit(CREATED, {"name": "one"})
    dispatcher.emit(CREATED, {"name": "two"})
    requests = receiver.wait_for(2, timeout=10)
    assert time.monotonic() - start < 4.0  # while the dead one waits 5 s for its first retry
    assert [r.json()["data"]["name"] for r in requests] == ["one", "two"]


def test_send_test_delivers_one_example_now(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    hook = source.add(receiver.url, secret="k")
    dispatcher = make_dispatcher()

    result = dispatcher.send_test(hook, "k", TAG_SET)

    assert (result.success, result.response_status, result.error_message) == (True, 200, "")
    assert result.response_body == '{"ok": true}'
    (request,) = receiver.requests
    assert request.json()["data"] == example_payload(TAG_SET)
    assert (request.json()["entity"], request.json()["action"]) == ("model_version_tag", "set")
    stamp = request.headers["X-MLflow-Timestamp"]
    delivery_id = request.headers["X-MLflow-Delivery-Id"]
    assert request.headers["X-MLflow-Signature"] == _signature(
        "k", delivery_id, stamp, request.body
    )
    (logged,) = source.deliveries
    assert (logged.delivery_id, logged.event, logged.success) == (
        delivery_id,
        "model_version_tag.set",
        True,
    )


def test_send_test_reports_failures_without_retrying(
    receiver: Receiver, source: MemorySource, make_dispatcher: MakeDispatcher
) -> None:
    receiver.fail_first = 5
    hook = source.add(receiver.url)
    dispatcher = make_dispatcher()
    result = dispatcher.send_test(hook, None, CREATED)
    assert (result.success, result.response_status) == (False, 500)
    assert result.response_body == "receiver is down"
    assert result.error_message == "Failed to test webhook: HTTP 500: receiver is down"
    assert len(receiver.requests) == 1

    refused = make_dispatcher(WebhookSettings(allow_private_ips=False)).send_test(
        hook, None, CREATED
    )
    assert not refused.success and refused.response_status is None
    assert "(loopback)" in refused.error_message


class FlakySource(MemorySource):
    def __init__(self) -> None:
        super().__init__()
        self.fail_lookups = 1
        self.fail_records = 1

    def active_webhooks(self, event: WebhookEvent) -> list[tuple[Webhook, str | None]]:
        if self.fail_lookups:
            self.fail_lookups -= 1
            raise WaylineError("database is locked")
        return super().active_webhooks(event)

    def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        if self.fail_records:
            self.fail_records -= 1
            raise WaylineError("disk full")
        super().record_webhook_delivery(delivery)


def test_the_worker_survives_a_failing_source(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    source = FlakySource()
    source.add(receiver.url)
    dispatcher = WebhookDispatcher(source, FAST)
    try:
        dispatcher.emit(CREATED, {"name": "lost"})  # the lookup fails: logged, dropped
        dispatcher.emit(CREATED, {"name": "delivered"})  # delivered; its log entry fails
        dispatcher.emit(CREATED, {"name": "logged"})
        assert dispatcher.flush(10)
    finally:
        dispatcher.close()
    assert [r.json()["data"]["name"] for r in receiver.requests] == ["delivered", "logged"]
    assert len(source.deliveries) == 1
    assert "database is locked" in caplog.text and "disk full" in caplog.text


def test_flush_times_out_and_close_stops_the_worker(
    receiver: Receiver, source: MemorySource
) -> None:
    receiver.fail_first = 100
    source.add(receiver.url)
    others = set(threading.enumerate())  # other tests' stores may have workers of their own
    dispatcher = WebhookDispatcher(source, WebhookSettings(0.5, 3, 5.0, True))
    dispatcher.emit(CREATED, {"name": "m"})
    assert not dispatcher.flush(0.3)  # the retry waits 5 s
    dispatcher.close()
    assert not _workers_besides(others)
    dispatcher.emit(CREATED, {"name": "late"})  # ignored after close
    assert len(receiver.requests) == 1
    dispatcher.close()  # twice is fine


def test_no_thread_until_the_first_event(source: MemorySource) -> None:
    others = set(threading.enumerate())
    dispatcher = WebhookDispatcher(source, FAST)
    assert dispatcher.flush(0)
    dispatcher.close()
    assert not _workers_besides(others)


def _workers_besides(others: set[threading.Thread]) -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name == "wayline-webhooks" and t.is_alive() and t not in others
    ]


def test_settings_from_environment() -> None:
    assert WebhookSettings.from_env({}) == WebhookSettings(5.0, 3, 1.0, False)
    env = {
        "WAYLINE_WEBHOOK_TIMEOUT": "2.5",
        "WAYLINE_WEBHOOK_MAX_RETRIES": "0",
        "WAYLINE_WEBHOOK_RETRY_BACKOFF": "0.1",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
    }
    assert WebhookSettings.from_env(env) == WebhookSettings(2.5, 0, 0.1, True)
    mlflow = {"MLFLOW_WEBHOOK_REQUEST_TIMEOUT": "30", "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES": "5"}
    assert WebhookSettings.from_env(mlflow) == WebhookSettings(30.0, 5, 1.0, False)
    for bad in (
        {"WAYLINE_WEBHOOK_TIMEOUT": "soon"},
        {"WAYLINE_WEBHOOK_MAX_RETRIES": "-1"},
        {"WAYLINE_WEBHOOK_MAX_RETRIES": "1.5"},
        {"WAYLINE_WEBHOOK_TIMEOUT": "0"},
    ):
        with pytest.raises(WaylineError, match="WAYLINE_WEBHOOK"):
            WebhookSettings.from_env(bad)


@pytest.mark.parametrize(
    "event", [WebhookEvent(e, a) for e, actions in WEBHOOK_EVENTS.items() for a in actions], ids=str
)
def test_every_event_has_an_example(event: WebhookEvent) -> None:
    data = example_payload(event)
    assert data
    data.clear()
    assert example_payload(event)  # a fresh copy each time
    assert example_payload(str(event)) == example_payload(event)


def test_example_payload_fields_follow_the_spec() -> None:
    assert set(example_payload(CREATED)) == {
        "name",
        "version",
        "source",
        "run_id",
        "tags",
        "description",
    }
    assert set(example_payload("registered_model.created")) == {"name", "tags", "description"}
    assert set(example_payload("model_version_alias.deleted")) == {"name", "alias"}
    with pytest.raises(InvalidParameter):
        example_payload("model_version.exploded")


def test_public_names() -> None:
    import wayline.webhooks

    assert sorted(wayline.webhooks.__all__) == [
        "DELIVERY_ID_HEADER",
        "SIGNATURE_HEADER",
        "TIMESTAMP_HEADER",
        "WebhookDispatcher",
        "WebhookSettings",
        "WebhookSource",
        "example_payload",
        "sign",
        "validate_webhook_url",
        "verify_signature",
    ]
