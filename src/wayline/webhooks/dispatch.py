"""Delivering registry events to webhooks: a queue, one worker thread, retries, a delivery log.

``WebhookDispatcher.emit`` returns at once: it freezes the event's body and queues it. A daemon
thread (started by the first emit) asks the source which active webhooks want the event, then
POSTs to each (spec rest-registry.md §4): signed when the webhook has a secret, with one delivery
id for all attempts of one delivery, a fresh timestamp and signature per attempt. Connection
errors, timeouts, 429 and 5xx answers are retried up to ``max_retries`` times after
``retry_backoff`` seconds, doubling each time (plus up to 25 % jitter; a longer ``Retry-After``
wins, up to a minute); other answers are final, redirects are not followed. Every attempt is
recorded through ``source.record_webhook_delivery``.

Retries wait in a time-ordered heap rather than in a sleeping thread, so one dead receiver
delays nobody else's deliveries. Each attempt checks the URL again and connects to the address it
just checked (``urls.Target``): a DNS answer that changes after the webhook was created cannot
turn it towards a private address.
"""

from __future__ import annotations

import dataclasses
import email.utils
import heapq
import itertools
import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from wayline import __version__
from wayline.entities.registry import Webhook, WebhookDelivery, WebhookEvent, WebhookTestResult
from wayline.errors import InvalidParameter
from wayline.webhooks.payloads import envelope, example_payload
from wayline.webhooks.settings import WebhookSettings
from wayline.webhooks.signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from wayline.webhooks.urls import HostResolutionError, resolve_target

logger = logging.getLogger(__name__)

_BODY_LIMIT = 64 * 1024  # of a receiver's answer kept for a test result: enough to debug with
_ERROR_BODY_CHARS = 500  # of an error answer quoted in the delivery log
_MAX_DELAY_S = 60.0


class WebhookSource(Protocol):
    """What the dispatcher needs from a store."""

    def active_webhooks(self, event: WebhookEvent) -> list[tuple[Webhook, str | None]]:
        """The active webhooks subscribed to ``event``, each with its secret (None if unset)."""
        ...

    def record_webhook_delivery(self, delivery: WebhookDelivery) -> None:
        """Append one attempt to the delivery log."""
        ...


@dataclass(slots=True)
class _Emitted:
    event: WebhookEvent
    body: bytes


@dataclass(slots=True)
class _Attempt:
    webhook: Webhook
    secret: str | None
    event: WebhookEvent
    body: bytes
    delivery_id: str
    number: int = 1


@dataclass(frozen=True, slots=True)
class _Outcome:
    success: bool
    status: int | None = None
    body: str = ""
    error: str = ""
    retryable: bool = False
    retry_after: float | None = None


class WebhookDispatcher:
    """Delivers events to the webhooks of ``source``; see the module docstring.

    ``settings`` default to ``WebhookSettings.from_env()``, read when the dispatcher is built.
    """

    def __init__(self, source: WebhookSource, settings: WebhookSettings | None = None) -> None:
        self._source = source
        self._settings = settings or WebhookSettings.from_env()
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Emitted | _Attempt]] = []
        self._order = itertools.count()
        self._pending = 0  # queued or in progress: flush waits for zero
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = False
        self._client_lock = threading.Lock()
        self._http: httpx.Client | None = None

    @property
    def settings(self) -> WebhookSettings:
        return self._settings

    # ------------------------------------------------------------ public API
    def emit(self, event: WebhookEvent, data: dict[str, Any]) -> None:
        """Queue ``event`` with its ``data`` for every subscribed webhook; returns at once."""
        body = envelope(event, data)  # frozen now: the caller may reuse ``data``
        with self._cond:
            if self._closed:
                logger.warning("webhook event %s dropped: the dispatcher is closed", event)
                return
            if self._pending >= self._settings.max_queued:
                logger.warning(
                    "webhook event %s dropped: %d deliveries already wait", event, self._pending
                )
                return
            self._push(time.monotonic(), _Emitted(event, body))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wayline-webhooks", daemon=True
                )
                self._thread.start()

    def send_test(
        self, webhook: Webhook, secret: str | None, event: WebhookEvent
    ) -> WebhookTestResult:
        """Deliver ``example_payload(event)`` to ``webhook`` now, once, and log the attempt."""
        attempt = _Attempt(
            webhook, secret, event, envelope(event, example_payload(event)), str(uuid.uuid4())
        )
        outcome = self._send(attempt, keep_body=True)
        self._record(attempt, outcome)
        error = "" if outcome.success else f"Failed to test webhook: {outcome.error}"
        return WebhookTestResult(
            success=outcome.success,
            response_status=outcome.status,
            response_body=outcome.body,
            error_message=error,
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued delivery (retries included) has finished; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Stop taking events, give queued deliveries one attempt timeout to finish, stop the
        worker. Deliveries still waiting (a receiver still failing) are dropped and logged."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
        self.flush(self._settings.timeout)
        with self._cond:
            self._stopping = True
            dropped = self._pending
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self._settings.timeout + 1.0)
        if dropped:
            logger.warning("webhook dispatcher closed with %d deliveries undone", dropped)
        with self._client_lock:
            if self._http is not None:
                self._http.close()
                self._http = None

    # ------------------------------------------------------------ the worker
    def _push(self, due: float, item: _Emitted | _Attempt) -> None:
        # Under self._cond.
        heapq.heappush(self._heap, (due, next(self._order), item))
        self._pending += 1
        self._cond.notify_all()

    def _next(self) -> _Emitted | _Attempt | None:
        """The next item once it is due, or None when the dispatcher stops."""
        with self._cond:
            while not self._stopping:
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait <= 0:
                    return heapq.heappop(self._heap)[2]
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            try:
                if isinstance(item, _Emitted):
                    self._fan_out(item)
                else:
                    self._deliver(item)
            except Exception:  # the worker must outlive any one bad event or store hiccup
                logger.exception("webhook delivery failed unexpectedly")
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _fan_out(self, emitted: _Emitted) -> None:
        webhooks = self._source.active_webhooks(emitted.event)
        now = time.monotonic()
        with self._cond:
            for webhook, secret in webhooks:
                attempt = _Attempt(webhook, secret, emitted.event, emitted.body, str(uuid.uuid4()))
                self._push(now, attempt)

    def _deliver(self, attempt: _Attempt) -> None:
        outcome = self._send(attempt)
        self._record(attempt, outcome)
        if outcome.success:
            return
        if outcome.retryable and attempt.number <= self._settings.max_retries:
            delay = self._settings.retry_backoff * 2 ** (attempt.number - 1)
            delay *= 1 + random.random() * 0.25  # jitter: retries of many deliveries spread out
            if outcome.retry_after is not None:
                delay = max(delay, outcome.retry_after)
            retry = _Attempt(
                attempt.webhook,
                attempt.secret,
                attempt.event,
                attempt.body,
                attempt.delivery_id,
                attempt.number + 1,
            )
            with self._cond:
                self._push(time.monotonic() + min(delay, _MAX_DELAY_S), retry)
            return
        logger.warning(
            "webhook %s (%s): delivery %s of %s failed after %d attempt(s): %s",
            attempt.webhook.name,
            attempt.webhook.webhook_id,
            attempt.delivery_id,
            attempt.event,
            attempt.number,
            outcome.error,
        )

    def _record(self, attempt: _Attempt, outcome: _Outcome) -> None:
        delivery = WebhookDelivery(
            delivery_id=attempt.delivery_id,
            webhook_id=attempt.webhook.webhook_id,
            event=str(attempt.event),
            timestamp=int(time.time() * 1000),
            attempt=attempt.number,
            success=outcome.success,
            response_status=outcome.status,
            error_message=outcome.error,
        )
        try:
            self._source.record_webhook_delivery(delivery)
        except Exception:  # a full disk must not stop deliveries; the log line keeps the fact
            logger.exception("could not record webhook delivery %s", delivery)

    # ------------------------------------------------------------ one HTTP attempt
    def _client(self) -> httpx.Client:
        with self._client_lock:
            if self._http is None:
                self._http = httpx.Client(
                    timeout=self._settings.timeout,
                    follow_redirects=False,
                    # No proxies from the environment: the checked address must be the peer.
                    trust_env=False,
                    headers={"User-Agent": f"wayline-webhooks/{__version__}"},
                )
            return self._http

    def _send(self, attempt: _Attempt, *, keep_body: bool = False) -> _Outcome:
        try:
            target = resolve_target(
                attempt.webhook.url, allow_private=self._settings.allow_private_ips
            )
        except HostResolutionError as error:
            return _Outcome(False, error=error.message, retryable=True)
        except InvalidParameter as error:
            return _Outcome(False, error=error.message)
        timestamp = str(int(time.time()))
        headers = {
            **target.headers(),
            "Content-Type": "application/json",
            DELIVERY_ID_HEADER: attempt.delivery_id,
            TIMESTAMP_HEADER: timestamp,
        }
        if attempt.secret:
            headers[SIGNATURE_HEADER] = sign(
                attempt.secret, attempt.delivery_id, timestamp, attempt.body
            )
        client = self._client()
        request = client.build_request(
            "POST",
            target.pinned_url(),
            content=attempt.body,
            headers=headers,
            extensions=target.extensions(),
        )
        try:
            response = client.send(request, stream=True)
        except httpx.TimeoutException as error:
            message = f"no answer within {self._settings.timeout:g} s ({type(error).__name__})"
            return _Outcome(False, error=message, retryable=True)
        except httpx.TransportError as error:
            return _Outcome(False, error=f"{type(error).__name__}: {error}", retryable=True)
        try:
            text = _read_capped(response)
        finally:
            response.close()
        outcome = _judge(response, text)
        return outcome if keep_body else dataclasses.replace(outcome, body="")


def _read_capped(response: httpx.Response) -> str:
    """The start of the answer's body: a receiver could send gigabytes."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= _BODY_LIMIT:
                break
    except httpx.HTTPError:  # the status line arrived; a broken body does not change it
        pass
    return b"".join(chunks)[:_BODY_LIMIT].decode("utf-8", errors="replace")


def _judge(response: httpx.Response, body: str) -> _Outcome:
    status = response.status_code
    if 200 <= status < 300:
        return _Outcome(True, status=status, body=body)
    if 300 <= status < 400:
        where = response.headers.get("Location", "?")
        error = f"HTTP {status}: redirect to {where} not followed; give the final URL instead"
        return _Outcome(False, status=status, body=body, error=error)
    snippet = _read_error(response, body)
    error = f"HTTP {status}{': ' + snippet if snippet else ''}"
    retryable = status == 429 or status >= 500
    retry_after = _retry_after(response.headers.get("Retry-After")) if retryable else None
    return _Outcome(False, status, body, error, retryable, retry_after)


def _read_error(response: httpx.Response, body: str) -> str:
    text = body or response.reason_phrase
    return " ".join(text.split())[:_ERROR_BODY_CHARS]


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


__all__ = ["WebhookDispatcher", "WebhookSource"]
