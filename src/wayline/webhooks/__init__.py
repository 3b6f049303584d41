"""Webhooks: registry events POSTed to receivers, signed, retried and logged (MLflow's format).

* ``WebhookDispatcher`` (``dispatch``): queues events from a store and delivers them on a
  daemon thread; ``WebhookSource`` is what it needs from the store.
* ``validate_webhook_url`` (``urls``): the SSRF rules a webhook URL must pass.
* ``sign`` / ``verify_signature`` (``signing``): the ``X-MLflow-Signature`` scheme, for receivers.
* ``example_payload`` (``payloads``): the ``data`` of a test delivery.
* ``WebhookSettings`` (``settings``): timeout, retries, backoff, read from the environment.
"""

from __future__ import annotations

from wayline.webhooks.dispatch import WebhookDispatcher, WebhookSource
from wayline.webhooks.payloads import example_payload
from wayline.webhooks.settings import WebhookSettings
from wayline.webhooks.signing import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)
from wayline.webhooks.urls import validate_webhook_url

__all__ = [
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
