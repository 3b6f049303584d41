"""Webhooks in the store: create, read, list, update, delete, and the validation of each field.

Deliveries over HTTP (events, signatures, retries, the delivery log they write) are tested in
``tests/webhooks/``; here the URLs are public IP literals that nothing is ever sent to.
"""

from __future__ import annotations

import pytest

from wayline.entities.registry import WebhookDelivery, WebhookEvent, WebhookStatus
from wayline.errors import InvalidParameter, NotFound
from wayline.store.backend import Store

from ._support import raises

INVALID = "INVALID_PARAMETER_VALUE"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
URL = "https://93.184.215.14/hooks/registry"
CREATED = WebhookEvent("MODEL_VERSION", "CREATED")
ALIAS_SET = WebhookEvent("MODEL_VERSION_ALIAS", "CREATED")


@pytest.fixture(autouse=True)
def _no_private_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS"):
        monkeypatch.delenv(name, raising=False)


def test_create_and_get_webhook(store: Store) -> None:
    created = store.create_webhook(
        "deploy-hook",
        URL,
        ["model_version.created", ALIAS_SET],
        description="tells CI",
        secret="s3cret",
    )

    assert (created.name, created.url, created.description) == ("deploy-hook", URL, "tells CI")
    assert created.events == [CREATED, ALIAS_SET]
    assert created.status == WebhookStatus.ACTIVE
    assert created.creation_timestamp == created.last_updated_timestamp > 0
    assert created.webhook_id
    assert store.get_webhook(created.webhook_id) == created
    # The secret is stored for signing, never returned.
    assert "s3cret" not in repr(created)


def test_webhook_validation(store: Store) -> None:
    for name in ("", "-leading", "trailing-", "has space", "x" * 64):
        with raises(InvalidParameter, INVALID):
            store.create_webhook(name, URL, [CREATED])
    for url in ("ftp://93.184.215.14/x", "not a url", "", "http://127.0.0.1:8080/x"):
        with raises(InvalidParameter, INVALID):
            store.create_webhook("hook", url, [CREATED])
    for events in ([], ["model_version.deleted"], ["nonsense"], ["registered_model.set"]):
        with raises(InvalidParameter, INVALID):
            store.create_webhook("hook", URL, events)
    with raises(InvalidParameter, INVALID):
        store.create_webhook("hook", URL, [CREATED], status="SLEEPING")
    assert store.list_webhooks() == []


def test_private_receivers_when_allowed(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "true")

    created = store.create_webhook("local", "http://127.0.0.1:9/hook", [CREATED])

    assert created.url == "http://127.0.0.1:9/hook"


def test_update_webhook_changes_given_fields_only(store: Store) -> None:
    created = store.create_webhook("hook", URL, [CREATED], description="d", secret="one")

    renamed = store.update_webhook(created.webhook_id, name="hook-2")
    assert (renamed.name, renamed.url, renamed.events, renamed.description) == (
        "hook-2",
        URL,
        [CREATED],
        "d",
    )
    assert renamed.last_updated_timestamp >= created.last_updated_timestamp
    changed = store.update_webhook(
        created.webhook_id,
        url="https://93.184.215.15/other",
        events=["prompt_version.created", "prompt_alias.deleted"],
        status="disabled",
        secret="two",
    )
    assert changed.url == "https://93.184.215.15/other"
    assert changed.events == [
        WebhookEvent("PROMPT_VERSION", "CREATED"),
        WebhookEvent("PROMPT_ALIAS", "DELETED"),
    ]
    assert changed.status == WebhookStatus.DISABLED
    assert store.get_webhook(created.webhook_id) == changed
    with raises(InvalidParameter, INVALID):
        store.update_webhook(created.webhook_id, url="http://10.0.0.1/x")
    with raises(NotFound, NOT_FOUND):
        store.update_webhook("no-such-webhook", name="x")


def test_list_webhooks_newest_first_in_pages(store: Store) -> None:
    ids = [store.create_webhook(f"hook-{i}", URL, [CREATED]).webhook_id for i in range(5)]

    seen: list[str] = []
    token = None
    while True:
        page = store.list_webhooks(max_results=2, page_token=token)
        seen += [w.webhook_id for w in page]
        token = page.token
        if token is None:
            break

    assert sorted(seen) == sorted(ids)
    assert len(seen) == 5
    stamps = [store.get_webhook(i).creation_timestamp for i in seen]
    assert stamps == sorted(stamps, reverse=True)
    with raises(InvalidParameter, INVALID):
        store.list_webhooks(max_results=1001)


def test_delete_webhook(store: Store) -> None:
    kept = store.create_webhook("kept", URL, [CREATED])
    gone = store.create_webhook("gone", URL, [CREATED])

    store.delete_webhook(gone.webhook_id)

    assert [w.webhook_id for w in store.list_webhooks()] == [kept.webhook_id]
    with pytest.raises(NotFound, match=f"Webhook with ID {gone.webhook_id} not found"):
        store.get_webhook(gone.webhook_id)
    with raises(NotFound, NOT_FOUND):
        store.delete_webhook(gone.webhook_id)
    with raises(NotFound, NOT_FOUND):
        store.list_webhook_deliveries(gone.webhook_id)


def test_a_new_webhook_has_no_deliveries(store: Store) -> None:
    created = store.create_webhook("hook", URL, [CREATED])

    assert store.list_webhook_deliveries(created.webhook_id) == []
    with raises(InvalidParameter, INVALID):
        store.list_webhook_deliveries(created.webhook_id, max_results=0)


def test_delivery_log_and_subscribers(sql_store: Store) -> None:
    # What the dispatcher reads and writes (SQL stores only: it runs beside the database).
    from wayline.store.sql.store import SqlStore

    assert isinstance(sql_store, SqlStore)
    hook = sql_store.create_webhook("hook", URL, [CREATED], secret="s3cret")
    sql_store.create_webhook("off", URL, [CREATED], status=WebhookStatus.DISABLED)
    sql_store.create_webhook("other", URL, [ALIAS_SET])
    for attempt, (success, status) in enumerate([(False, 503), (False, None), (True, 200)], 1):
        sql_store.record_webhook_delivery(
            WebhookDelivery(
                delivery_id="d-1",
                webhook_id=hook.webhook_id,
                event="model_version.created",
                timestamp=1_000 + attempt,
                attempt=attempt,
                success=success,
                response_status=status,
                error_message="" if success else "try later",
            )
        )

    subscribed = sql_store.active_webhooks(CREATED)
    assert [(w.name, secret) for w, secret in subscribed] == [("hook", "s3cret")]
    first = sql_store.list_webhook_deliveries(hook.webhook_id, max_results=2)
    rest = sql_store.list_webhook_deliveries(hook.webhook_id, page_token=first.token)
    log = [*first, *rest]
    assert [(d.attempt, d.success, d.response_status) for d in log] == [
        (3, True, 200),
        (2, False, None),
        (1, False, 503),
    ]
    assert (log[1].error_message, log[0].error_message, rest.token) == ("try later", "", None)
