"""Registry entities to and from MLflow's JSON (spec rest-registry.md §1, §4, §5).

Covers registered models, model versions, their tags and aliases, webhooks and their events,
and two Wayline extensions: the audit trail (``RegistryChange``) and the webhook delivery log.

The omission rules are those MLflow's server shows on the wire: a version always carries
``current_stage``, ``description``, ``source``, ``run_id``, ``status`` and ``run_link`` (empty
strings included) while ``user_id``, ``status_message``, ``tags`` and ``aliases`` are omitted when
empty; a registered model omits an empty ``description``, ``latest_versions``, ``tags`` and
``aliases``. A version number travels as a decimal string. Aliases appear as
``[{alias, version}]`` on a registered model and as ``[alias, ...]`` on a version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from wayline.entities.registry import (
    WEBHOOK_EVENTS,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    RegistryChange,
    Stage,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from wayline.errors import InvalidParameter
from wayline.protocol.tracking import JsonDict, as_list, as_object
from wayline.protocol.values import (
    enum_number,
    missing_parameter,
    parse_bool,
    parse_enum,
    parse_int,
    parse_str,
)

_VERSION_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")

# Proto enum numbers (spec §4-§5), for clients that send numbers instead of names.
_STATUS_BY_NUMBER = {status.number: status for status in ModelVersionStatus}
_WEBHOOK_STATUS_NUMBERS = {1: WebhookStatus.ACTIVE, 2: WebhookStatus.DISABLED}
_ENTITY_BY_NUMBER = dict(enumerate(WEBHOOK_EVENTS, start=1))
_ACTION_BY_NUMBER = {1: "CREATED", 2: "UPDATED", 3: "DELETED", 4: "SET", 5: "EXCEEDED"}


# ---------------------------------------------------------------- helpers
def _text(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    return "" if value is None else parse_str(value, key)


def _required(obj: Mapping[str, Any], key: str) -> object:
    value = obj.get(key)
    if value is None:
        raise missing_parameter(key)
    return value


def _required_text(obj: Mapping[str, Any], key: str) -> str:
    return parse_str(_required(obj, key), key)


def _int(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    return 0 if value is None else parse_int(value, key)


def _optional_int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return None if value is None else parse_int(value, key)


def _items(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    return [] if value is None else as_list(value, key)


def _put(out: JsonDict, key: str, value: object) -> None:
    """Set ``key`` unless ``value`` is unset: None, an empty string, list or dict."""
    if value is not None and value not in ("", [], {}):
        out[key] = value


def _key_value(value: object) -> tuple[str, str]:
    obj = as_object(value, "tag")
    return _required_text(obj, "key"), _text(obj, "value")


def _pairs(mapping: Mapping[str, str]) -> list[JsonDict]:
    return [{"key": key, "value": value} for key, value in mapping.items()]


# ---------------------------------------------------------------- scalars
def parse_version(value: object, name: str = "version") -> str:
    """A version number as the wire's decimal string, from a string or a JSON integer.

    An empty string stays empty (a required field's emptiness is the caller's "Missing value"
    error); anything else that is not an integer is MLflow's 400.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        if value == "":
            return value
        if _VERSION_TEXT.match(value):
            return str(int(value))
    raise InvalidParameter(f"Parameter '{name}' must be an integer, got {value!r}.")


def parse_model_version_status(value: object, name: str = "status") -> ModelVersionStatus:
    """A ModelVersionStatus from its name (any case) or its proto number."""
    return parse_enum(value, name, ModelVersionStatus, _STATUS_BY_NUMBER)


def parse_webhook_status(value: object, name: str = "status") -> WebhookStatus:
    """A WebhookStatus from its name (any case) or its proto number (ACTIVE=1, DISABLED=2)."""
    return parse_enum(value, name, WebhookStatus, _WEBHOOK_STATUS_NUMBERS)


def _stage(value: str) -> str:
    # Known stages come back as the enum so entities compare equal however they were built.
    try:
        return Stage(value)
    except ValueError:
        return value


# ---------------------------------------------------------------- tags
def encode_registry_tag(tag: RegisteredModelTag | ModelVersionTag) -> JsonDict:
    return {"key": tag.key, "value": tag.value}


def decode_registered_model_tag(value: object) -> RegisteredModelTag:
    return RegisteredModelTag(*_key_value(value))


def decode_model_version_tag(value: object) -> ModelVersionTag:
    return ModelVersionTag(*_key_value(value))


# ---------------------------------------------------------------- model versions
def encode_model_version(version: ModelVersion) -> JsonDict:
    out: JsonDict = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
    }
    _put(out, "user_id", version.user_id)
    out["current_stage"] = str(version.current_stage)
    out["description"] = version.description or ""
    out["source"] = version.source
    out["run_id"] = version.run_id or ""
    out["status"] = ModelVersionStatus(version.status).value
    _put(out, "status_message", version.status_message)
    _put(out, "tags", _pairs(version.tags))
    out["run_link"] = version.run_link or ""
    _put(out, "aliases", list(version.aliases))
    # Not sent by MLflow's server (its entity leaves it out), but a proto field its client
    # ignores; Wayline's client reads it back.
    _put(out, "model_id", version.model_id)
    return out


def decode_model_version(value: object) -> ModelVersion:
    obj = as_object(value, "model_version")
    status = obj.get("status")
    return ModelVersion(
        name=_required_text(obj, "name"),
        version=parse_version(_required(obj, "version")),
        creation_timestamp=_int(obj, "creation_timestamp"),
        last_updated_timestamp=_int(obj, "last_updated_timestamp"),
        current_stage=_stage(_text(obj, "current_stage") or Stage.NONE.value),
        description=_text(obj, "description"),
        source=_text(obj, "source"),
        run_id=_text(obj, "run_id"),
        # Every server sends it; an absent one reads as the entity's default.
        status=(ModelVersionStatus.READY if status is None else parse_model_version_status(status)),
        status_message=_text(obj, "status_message"),
        user_id=_text(obj, "user_id"),
        run_link=_text(obj, "run_link"),
        model_id=_text(obj, "model_id"),
        tags={t.key: t.value for t in map(decode_model_version_tag, _items(obj, "tags"))},
        aliases=[parse_str(alias, "aliases") for alias in _items(obj, "aliases")],
    )


# ---------------------------------------------------------------- registered models
def encode_registered_model(model: RegisteredModel) -> JsonDict:
    out: JsonDict = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }
    _put(out, "user_id", model.user_id)
    _put(out, "description", model.description)
    _put(out, "latest_versions", [encode_model_version(v) for v in model.latest_versions])
    _put(out, "tags", _pairs(model.tags))
    aliases = [{"alias": alias, "version": str(v)} for alias, v in model.aliases.items()]
    _put(out, "aliases", aliases)
    return out


def decode_registered_model(value: object) -> RegisteredModel:
    obj = as_object(value, "registered_model")
    aliases: dict[str, str] = {}
    for item in _items(obj, "aliases"):
        alias = as_object(item, "aliases")
        aliases[_required_text(alias, "alias")] = parse_version(_required(alias, "version"))
    return RegisteredModel(
        name=_required_text(obj, "name"),
        creation_timestamp=_int(obj, "creation_timestamp"),
        last_updated_timestamp=_int(obj, "last_updated_timestamp"),
        description=_text(obj, "description"),
        user_id=_text(obj, "user_id"),
        latest_versions=[decode_model_version(v) for v in _items(obj, "latest_versions")],
        tags={t.key: t.value for t in map(decode_registered_model_tag, _items(obj, "tags"))},
        aliases=aliases,
    )


# ---------------------------------------------------------------- audit trail (Wayline)
def encode_registry_change(change: RegistryChange) -> JsonDict:
    """Every key always present: ``version`` is ``""`` for a change to the model itself."""
    return {
        "id": change.id,
        "timestamp": change.timestamp,
        "user": change.user,
        "action": change.action,
        "name": change.name,
        "version": change.version,
        "before": dict(change.before),
        "after": dict(change.after),
    }


def decode_registry_change(value: object) -> RegistryChange:
    obj = as_object(value, "change")
    return RegistryChange(
        id=_int(obj, "id"),
        timestamp=_int(obj, "timestamp"),
        user=_text(obj, "user"),
        action=_required_text(obj, "action"),
        name=_text(obj, "name"),
        version=_text(obj, "version"),
        before=dict(as_object(obj.get("before") or {}, "before")),
        after=dict(as_object(obj.get("after") or {}, "after")),
    )


# ---------------------------------------------------------------- webhooks
def encode_webhook_event(event: WebhookEvent) -> JsonDict:
    return {"entity": event.entity, "action": event.action}


def decode_webhook_event(value: object) -> WebhookEvent:
    """An event from ``{"entity", "action"}`` (enum names in any case, or proto numbers) or
    from the client-side spelling ``"model_version.created"``; InvalidParameter if the pair
    is not a valid event."""
    if isinstance(value, WebhookEvent | str):
        return WebhookEvent.parse(value)
    obj = as_object(value, "events")
    entity, action = obj.get("entity"), obj.get("action")
    entity_number, action_number = enum_number(entity), enum_number(action)
    if entity_number is not None:
        entity = _ENTITY_BY_NUMBER.get(entity_number, str(entity))
    if action_number is not None:
        action = _ACTION_BY_NUMBER.get(action_number, str(action))
    if not isinstance(entity, str) or not entity or not isinstance(action, str) or not action:
        raise InvalidParameter(
            f"Invalid webhook event {dict(obj)!r}: expected an entity and an action."
        )
    return WebhookEvent.parse(WebhookEvent(entity.strip().upper(), action.strip().upper()))


def encode_webhook(webhook: Webhook) -> JsonDict:
    """A webhook as MLflow writes it; the secret is never part of it."""
    out: JsonDict = {
        "webhook_id": webhook.webhook_id,
        "name": webhook.name,
    }
    _put(out, "description", webhook.description)
    out["url"] = webhook.url
    out["events"] = [encode_webhook_event(event) for event in webhook.events]
    out["status"] = parse_webhook_status(webhook.status).value
    out["creation_timestamp"] = webhook.creation_timestamp
    out["last_updated_timestamp"] = webhook.last_updated_timestamp
    return out


def decode_webhook(value: object) -> Webhook:
    obj = as_object(value, "webhook")
    status = obj.get("status")
    return Webhook(
        webhook_id=_required_text(obj, "webhook_id"),
        name=_text(obj, "name"),
        url=_text(obj, "url"),
        events=[decode_webhook_event(event) for event in _items(obj, "events")],
        creation_timestamp=_int(obj, "creation_timestamp"),
        last_updated_timestamp=_int(obj, "last_updated_timestamp"),
        description=_text(obj, "description"),
        status=WebhookStatus.ACTIVE if status is None else parse_webhook_status(status),
    )


def encode_webhook_delivery(delivery: WebhookDelivery) -> JsonDict:
    """Every key always present; ``response_status`` is null when no answer came."""
    return {
        "delivery_id": delivery.delivery_id,
        "webhook_id": delivery.webhook_id,
        "event": delivery.event,
        "timestamp": delivery.timestamp,
        "attempt": delivery.attempt,
        "success": delivery.success,
        "response_status": delivery.response_status,
        "error_message": delivery.error_message,
    }


def decode_webhook_delivery(value: object) -> WebhookDelivery:
    obj = as_object(value, "delivery")
    success = obj.get("success")
    return WebhookDelivery(
        delivery_id=_required_text(obj, "delivery_id"),
        webhook_id=_text(obj, "webhook_id"),
        event=_text(obj, "event"),
        timestamp=_int(obj, "timestamp"),
        attempt=_int(obj, "attempt"),
        success=False if success is None else parse_bool(success, "success"),
        response_status=_optional_int(obj, "response_status"),
        error_message=_text(obj, "error_message"),
    )


def encode_webhook_test_result(result: WebhookTestResult) -> JsonDict:
    out: JsonDict = {"success": result.success}
    _put(out, "response_status", result.response_status)
    _put(out, "response_body", result.response_body)
    _put(out, "error_message", result.error_message)
    return out


def decode_webhook_test_result(value: object) -> WebhookTestResult:
    obj = as_object(value, "result")
    success = obj.get("success")
    return WebhookTestResult(
        success=False if success is None else parse_bool(success, "success"),
        response_status=_optional_int(obj, "response_status"),
        response_body=_text(obj, "response_body"),
        error_message=_text(obj, "error_message"),
    )


__all__ = [
    "decode_model_version",
    "decode_model_version_tag",
    "decode_registered_model",
    "decode_registered_model_tag",
    "decode_registry_change",
    "decode_webhook",
    "decode_webhook_delivery",
    "decode_webhook_event",
    "decode_webhook_test_result",
    "encode_model_version",
    "encode_registered_model",
    "encode_registry_change",
    "encode_registry_tag",
    "encode_webhook",
    "encode_webhook_delivery",
    "encode_webhook_event",
    "encode_webhook_test_result",
    "parse_model_version_status",
    "parse_version",
    "parse_webhook_status",
]
