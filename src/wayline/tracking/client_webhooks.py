"""The webhook part of ``Client`` (MlflowClient's webhook methods, and Wayline's delivery log).

Events are given as MLflow's strings (``"model_version.created"``) or ``WebhookEvent``s; the
store validates URLs and delivers. A mixin beside ``client_registry``.
"""

from __future__ import annotations

from collections.abc import Sequence

from wayline.entities import PagedList
from wayline.entities.registry import (
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from wayline.store.registry import WEBHOOKS_MAX_RESULTS_DEFAULT, RegistryStore
from wayline.store.tracking import TrackingStore
from wayline.tracking.client_registry import registry_of

EventArg = WebhookEvent | str


class WebhooksClient:
    _registry_store: TrackingStore

    @property
    def _webhooks(self) -> RegistryStore:
        return registry_of(self._registry_store)

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[EventArg],
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus | str | None = None,
    ) -> Webhook:
        """Create a webhook called on registry events; ``secret`` signs each delivery.

        Example::

            hook = client.create_webhook(
                "ci", "https://ci.example.com/hook", ["model_version.created"], secret="s3cret"
            )
        """
        return self._webhooks.create_webhook(
            name,
            url,
            [WebhookEvent.parse(e) for e in events],
            description=description,
            secret=secret,
            status=status or WebhookStatus.ACTIVE,
        )

    def get_webhook(self, webhook_id: str) -> Webhook:
        """A webhook (its secret is never returned).

        Example::

            print(client.get_webhook(hook.webhook_id).events)
        """
        return self._webhooks.get_webhook(webhook_id)

    def list_webhooks(
        self, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[Webhook]:
        """One page of webhooks; ``.token`` fetches the next.

        Example::

            hooks = client.list_webhooks(max_results=50)
        """
        return self._webhooks.list_webhooks(max_results or WEBHOOKS_MAX_RESULTS_DEFAULT, page_token)

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[EventArg] | None = None,
        secret: str | None = None,
        status: WebhookStatus | str | None = None,
    ) -> Webhook:
        """Change the given fields of a webhook.

        Example::

            client.update_webhook(hook.webhook_id, status="DISABLED")
        """
        return self._webhooks.update_webhook(
            webhook_id,
            name=name,
            description=description,
            url=url,
            events=None if events is None else [WebhookEvent.parse(e) for e in events],
            secret=secret,
            status=status,
        )

    def delete_webhook(self, webhook_id: str) -> None:
        """Delete a webhook.

        Example::

            client.delete_webhook(hook.webhook_id)
        """
        self._webhooks.delete_webhook(webhook_id)

    def test_webhook(self, webhook_id: str, event: EventArg | None = None) -> WebhookTestResult:
        """Send one example delivery now and report the receiver's answer.

        Example::

            result = client.test_webhook(hook.webhook_id, "model_version.created")
            assert result.success, result.error_message
        """
        parsed = None if event is None else WebhookEvent.parse(event)
        return self._webhooks.test_webhook(webhook_id, parsed)

    def list_webhook_deliveries(
        self, webhook_id: str, max_results: int | None = None, page_token: str | None = None
    ) -> PagedList[WebhookDelivery]:
        """A webhook's delivery log, newest first, one entry per attempt (Wayline's).

        Example::

            failed = [d for d in client.list_webhook_deliveries(hook.webhook_id) if not d.success]
        """
        return self._webhooks.list_webhook_deliveries(
            webhook_id, max_results or WEBHOOKS_MAX_RESULTS_DEFAULT, page_token
        )


__all__ = ["WebhooksClient"]
