"""Webhooks in the SQL store: their CRUD, the delivery log, and emitting registry events.

Registry writes call ``_emit`` after they commit. The store asks the database which events any
active webhook wants at most every ``SUBSCRIPTIONS_TTL_S`` seconds (at once after a webhook
change through this store), so with no webhooks a write costs nothing more; only when some
webhook wants the event is the ``WebhookDispatcher`` created (once per store), which delivers on
its own thread and reports each attempt back through ``record_webhook_delivery``.

A webhook's ``events`` column holds the JSON list of its event names (``model_version.created``);
webhooks are few, so they are read whole and matched in Python. The secret is stored for signing
and never leaves the store except towards the dispatcher.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, select, update

from wayline.entities import PagedList
from wayline.entities.registry import (
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from wayline.errors import InvalidParameter, NotFound
from wayline.store.registry import WEBHOOKS_MAX_RESULTS_DEFAULT
from wayline.store.sql.base import (
    SqlBase,
    decode_page_token,
    encode_page_token,
    fetch_rows,
    now_ms,
)
from wayline.store.sql.tables import webhook_deliveries, webhooks
from wayline.validation import validate_length, validate_max_results

if TYPE_CHECKING:
    from wayline.webhooks import WebhookDispatcher

logger = logging.getLogger(__name__)

SUBSCRIPTIONS_TTL_S = 2.0
WEBHOOKS_MAX_RESULTS_LIMIT = 1000
MAX_WEBHOOK_URL_LENGTH = 2000
MAX_WEBHOOK_SECRET_LENGTH = 1000
# MLflow's rule: 1-63 characters, letters, digits, '.', '_' and '-', a letter or digit at each end.
_NAME = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
_DISPATCHER_LOCK = threading.Lock()

wc = webhooks.c
dc = webhook_deliveries.c
_WEBHOOK_COLUMNS = (
    wc.webhook_id,
    wc.name,
    wc.url,
    wc.events,
    wc.creation_timestamp,
    wc.last_updated_timestamp,
    wc.description,
    wc.status,
    wc.secret,
)
_DELIVERY_COLUMNS = (
    dc.delivery_id,
    dc.webhook_id,
    dc.event,
    dc.timestamp,
    dc.attempt,
    dc.success,
    dc.response_status,
    dc.error_message,
)


def _not_found(webhook_id: str) -> NotFound:
    return NotFound(f"Webhook with ID {webhook_id} not found.")


def _webhook(row: Sequence[Any]) -> Webhook:
    return Webhook(
        webhook_id=row[0],
        name=row[1],
        url=row[2],
        events=[WebhookEvent.parse(name) for name in json.loads(row[3])],
        creation_timestamp=row[4],
        last_updated_timestamp=row[5],
        description=row[6] or "",
        status=WebhookStatus(row[7]),
    )


def _validate_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidParameter(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, "
            "be less than 63 characters long, and contain only letters, digits, dots (.), "
            "underscores (_), and hyphens (-)."
        )
    return name


def _validate_url(url: object) -> str:
    from wayline.webhooks import validate_webhook_url

    if not isinstance(url, str):
        raise InvalidParameter(f"Webhook URL must be a string, got {type(url).__name__!r}")
    validate_length("Webhook URL", url, MAX_WEBHOOK_URL_LENGTH)
    validate_webhook_url(url)
    return url


def _event_names(events: Sequence[WebhookEvent | str] | None) -> str:
    if isinstance(events, str | WebhookEvent) or not events:
        raise InvalidParameter(f"Webhook events must be a non-empty list of events: {events!r}.")
    parsed = [str(WebhookEvent.parse(event)) for event in events]
    return json.dumps(list(dict.fromkeys(parsed)))


def _status(status: WebhookStatus | str) -> str:
    try:
        return WebhookStatus(str(status).upper()).value
    except ValueError:
        valid = ", ".join(s.value for s in WebhookStatus)
        raise InvalidParameter(
            f"Invalid webhook status {status!r}: expected one of {valid}."
        ) from None


def _validate_secret(secret: str | None) -> str | None:
    if secret is not None and not isinstance(secret, str):
        raise InvalidParameter("Webhook secret must be a string.")
    validate_length("Webhook secret", secret, MAX_WEBHOOK_SECRET_LENGTH)
    return secret


class WebhooksMixin(SqlBase):
    # Class-level defaults: SqlBase owns __init__; both are replaced per instance when set.
    _dispatcher: WebhookDispatcher | None = None
    _subscriptions: tuple[float, frozenset[str]] = (0.0, frozenset())

    # ------------------------------------------------------------ emitting events
    def _emit(self, entity: str, action: str, data: dict[str, Any]) -> None:
        """Hand a committed change's event to the dispatcher if any active webhook wants it.

        The change is committed already: a failure here is logged, never raised, or the
        caller would take a successful write for a failed one.
        """
        event = WebhookEvent(entity, action)
        try:
            if str(event) in self._subscribed_events():
                self._webhook_dispatcher().emit(event, data)
        except Exception:
            logger.exception("webhook event %s for %s was not queued", event, data.get("name"))

    def _subscribed_events(self) -> frozenset[str]:
        expires, events = self._subscriptions
        now = time.monotonic()
        if now < expires:
            return events
        with self._read() as conn:
            rows = fetch_rows(
                conn, select(wc.events).where(wc.status == WebhookStatus.ACTIVE.value)
            )
        events = frozenset(name for (text,) in rows for name in json.loads(text))
        self._subscriptions = (now + SUBSCRIPTIONS_TTL_S, events)
        return events

    def _forget_subscriptions(self) -> None:
        self._subscriptions = (0.0, frozenset())

    def _webhook_dispatcher(self) -> WebhookDispatcher:
        from wayline.webhooks import WebhookDispatcher

        with _DISPATCHER_LOCK:
            if self._dispatcher is None:
                self._dispatcher = WebhookDispatcher(self)
            return self._dispatcher

    def close(self) -> None:
        """Also stop the webhook dispatcher (queued deliveries get one attempt timeout)."""
        with _DISPATCHER_LOCK:
            dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None:
            dispatcher.close()
        super().close()

    # ------------------------------------------------------------ what the dispatcher reads
    def active_webhooks(self, event: WebhookEvent) -> list[tuple[Webhook, str | None]]:
        """The active webhooks subscribed to ``event``, each with its secret."""
        name = str(event)
        query = (
            select(*_WEBHOOK_COLUMNS)
            .where(wc.status == WebhookStatus.ACTIVE.value)
            .order_by(wc.creation_timestamp, wc.webhook_id)
        )
        with self._read() as conn:
            rows = fetch_rows(conn, query)
        return [(_webhook(row), row[8] or None) for row in rows if name in json.loads(row[3])]

    def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        with self._write() as conn:
            conn.execute(
                webhook_deliveries.insert(),
                {
                    "delivery_id": delivery.delivery_id,
                    "attempt": delivery.attempt,
                    "webhook_id": delivery.webhook_id,
                    "event": str(delivery.event)[:64],
                    "timestamp": delivery.timestamp,
                    "success": bool(delivery.success),
                    "response_status": delivery.response_status,
                    "error_message": delivery.error_message or None,
                },
            )

    # ------------------------------------------------------------ CRUD
    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent | str],
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus | str = WebhookStatus.ACTIVE,
    ) -> Webhook:
        webhook_id, created = str(uuid.uuid4()), now_ms()
        row: dict[str, Any] = {
            "webhook_id": webhook_id,
            "name": _validate_name(name),
            "url": _validate_url(url),
            "events": _event_names(events),
            "description": description or None,
            "secret": _validate_secret(secret) or None,
            "status": _status(status or WebhookStatus.ACTIVE),
            "creation_timestamp": created,
            "last_updated_timestamp": created,
        }
        with self._write() as conn:
            conn.execute(webhooks.insert(), row)
            webhook = self._load_webhook(conn, webhook_id)[0]
        self._forget_subscriptions()
        return webhook

    def get_webhook(self, webhook_id: str) -> Webhook:
        with self._read() as conn:
            return self._load_webhook(conn, webhook_id)[0]

    def list_webhooks(
        self, max_results: int = WEBHOOKS_MAX_RESULTS_DEFAULT, page_token: str | None = None
    ) -> PagedList[Webhook]:
        max_results = validate_max_results(max_results, WEBHOOKS_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        query = (
            select(*_WEBHOOK_COLUMNS)
            .order_by(wc.creation_timestamp.desc(), wc.webhook_id)
            .limit(max_results + 1)
            .offset(offset)
        )
        with self._read() as conn:
            rows = fetch_rows(conn, query)
        token = None
        if len(rows) > max_results:
            rows, token = rows[:max_results], encode_page_token(offset + max_results)
        return PagedList([_webhook(row) for row in rows], token)

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent | str] | None = None,
        secret: str | None = None,
        status: WebhookStatus | str | None = None,
    ) -> Webhook:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _validate_name(name)
        if url is not None:
            values["url"] = _validate_url(url)
        if events is not None:
            values["events"] = _event_names(events)
        if description is not None:
            values["description"] = description or None
        if secret is not None:
            values["secret"] = _validate_secret(secret) or None
        if status is not None:
            values["status"] = _status(status)
        values["last_updated_timestamp"] = now_ms()
        with self._write() as conn:
            query = update(webhooks).where(wc.webhook_id == webhook_id).values(**values)
            if conn.execute(query).rowcount == 0:
                raise _not_found(webhook_id)
            webhook = self._load_webhook(conn, webhook_id)[0]
        self._forget_subscriptions()
        return webhook

    def delete_webhook(self, webhook_id: str) -> None:
        with self._write() as conn:
            if conn.execute(delete(webhooks).where(wc.webhook_id == webhook_id)).rowcount == 0:
                raise _not_found(webhook_id)
            conn.execute(delete(webhook_deliveries).where(dc.webhook_id == webhook_id))
        self._forget_subscriptions()

    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | str | None = None
    ) -> WebhookTestResult:
        with self._read() as conn:
            webhook, secret = self._load_webhook(conn, webhook_id)
        chosen = WebhookEvent.parse(event) if event else webhook.events[0]
        return self._webhook_dispatcher().send_test(webhook, secret, chosen)

    def list_webhook_deliveries(
        self,
        webhook_id: str,
        max_results: int = WEBHOOKS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        max_results = validate_max_results(max_results, WEBHOOKS_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        query = (
            select(*_DELIVERY_COLUMNS)
            .where(dc.webhook_id == webhook_id)
            .order_by(dc.timestamp.desc(), dc.attempt.desc(), dc.delivery_id)
            .limit(max_results + 1)
            .offset(offset)
        )
        with self._read() as conn:
            self._load_webhook(conn, webhook_id)
            rows = fetch_rows(conn, query)
        token = None
        if len(rows) > max_results:
            rows, token = rows[:max_results], encode_page_token(offset + max_results)
        deliveries = [
            WebhookDelivery(
                delivery_id=row[0],
                webhook_id=row[1],
                event=row[2],
                timestamp=row[3],
                attempt=row[4],
                success=bool(row[5]),
                response_status=row[6],
                error_message=row[7] or "",
            )
            for row in rows
        ]
        return PagedList(deliveries, token)

    @staticmethod
    def _load_webhook(conn: Connection, webhook_id: str) -> tuple[Webhook, str | None]:
        query = select(*_WEBHOOK_COLUMNS).where(wc.webhook_id == webhook_id)
        rows = fetch_rows(conn, query)
        if not rows:
            raise _not_found(webhook_id)
        return _webhook(rows[0]), rows[0][8] or None


__all__ = ["SUBSCRIPTIONS_TTL_S", "WEBHOOKS_MAX_RESULTS_LIMIT", "WebhooksMixin"]
