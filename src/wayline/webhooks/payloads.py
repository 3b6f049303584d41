"""What a webhook delivery carries: the JSON envelope and the example ``data`` of test deliveries.

The envelope (spec rest-registry.md §4) is
``{"entity": "model_version", "action": "created", "timestamp": "<ISO-8601 UTC>", "data": {...}}``
with entity and action in lower case. ``data`` per event is what the registry store passes to
``WebhookDispatcher.emit``; the examples below have the same fields as MLflow's, so a receiver
tested with ``test_webhook`` sees the shape real events will have.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from wayline.entities.registry import WebhookEvent

_TAGS = {"example_key": "example_value"}
_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("REGISTERED_MODEL", "CREATED"): {
        "name": "example_model",
        "tags": _TAGS,
        "description": "An example registered model",
    },
    ("MODEL_VERSION", "CREATED"): {
        "name": "example_model",
        "version": "1",
        "source": "models:/123",
        "run_id": "abcd1234abcd5678",
        "tags": _TAGS,
        "description": "An example model version",
    },
    ("MODEL_VERSION_TAG", "SET"): {
        "name": "example_model",
        "version": "1",
        "key": "example_key",
        "value": "example_value",
    },
    ("MODEL_VERSION_TAG", "DELETED"): {
        "name": "example_model",
        "version": "1",
        "key": "example_key",
    },
    ("MODEL_VERSION_ALIAS", "CREATED"): {
        "name": "example_model",
        "alias": "example_alias",
        "version": "1",
    },
    ("MODEL_VERSION_ALIAS", "DELETED"): {"name": "example_model", "alias": "example_alias"},
    ("PROMPT", "CREATED"): {
        "name": "example_prompt",
        "tags": _TAGS,
        "description": "An example prompt",
    },
    ("PROMPT_VERSION", "CREATED"): {
        "name": "example_prompt",
        "version": "1",
        "template": "Hello {{name}}!",
        "tags": _TAGS,
        "description": "An example prompt version",
    },
    ("PROMPT_TAG", "SET"): {
        "name": "example_prompt",
        "key": "example_key",
        "value": "example_value",
    },
    ("PROMPT_TAG", "DELETED"): {"name": "example_prompt", "key": "example_key"},
    ("PROMPT_VERSION_TAG", "SET"): {
        "name": "example_prompt",
        "version": "1",
        "key": "example_key",
        "value": "example_value",
    },
    ("PROMPT_VERSION_TAG", "DELETED"): {
        "name": "example_prompt",
        "version": "1",
        "key": "example_key",
    },
    ("PROMPT_ALIAS", "CREATED"): {
        "name": "example_prompt",
        "alias": "example_alias",
        "version": "1",
    },
    ("PROMPT_ALIAS", "DELETED"): {"name": "example_prompt", "alias": "example_alias"},
    ("BUDGET_POLICY", "EXCEEDED"): {
        "budget_policy_id": "bp-abc123",
        "budget_unit": "USD",
        "budget_amount": 100.0,
        "current_spend": 105.5,
        "duration_unit": "MONTHS",
        "duration_value": 1,
        "target_scope": "ENDPOINT",
        "workspace": "default",
        "target_value": "ep-abc123",
        "window_start": 1704067200000,
    },
}


def example_payload(event: WebhookEvent | str) -> dict[str, Any]:
    """The ``data`` of a test delivery for ``event`` (a fresh copy, safe to change)."""
    parsed = WebhookEvent.parse(event)  # InvalidParameter for a pair that is no event
    copy: dict[str, Any] = json.loads(json.dumps(_EXAMPLES[(parsed.entity, parsed.action)]))
    return copy


def envelope(event: WebhookEvent, data: dict[str, Any], when: datetime | None = None) -> bytes:
    """The request body of a delivery: the envelope around ``data``, as UTF-8 JSON."""
    moment = when or datetime.now(UTC)
    document = {
        "entity": event.entity.lower(),
        "action": event.action.lower(),
        "timestamp": moment.astimezone(UTC).isoformat(),
        "data": data,
    }
    # default=str: a stray non-JSON value (a datetime, a Decimal) must not lose the event.
    return json.dumps(document, default=str).encode("utf-8")


__all__ = ["envelope", "example_payload"]
