"""The model registry: registered models, their versions, aliases, the audit trail, webhooks.

Wire facts are those of spec rest-registry.md: a version number travels as a decimal string, a
stage is one of four literal strings, a prompt is a registered model tagged
``mlflow.prompt.is_prompt = "true"``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from wayline.errors import InvalidParameter

PROMPT_TAG = "mlflow.prompt.is_prompt"


class Stage(enum.StrEnum):
    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    @classmethod
    def parse(cls, value: str | Stage) -> Stage:
        """A stage from any spelling (``staging`` → ``Staging``); InvalidParameter otherwise."""
        for stage in cls:
            if isinstance(value, str) and value.lower() == stage.value.lower():
                return stage
        allowed = ", ".join(s.value for s in cls)
        raise InvalidParameter(
            f"Invalid Model Version stage: {value}. Value must be one of {allowed}."
        )


class ModelVersionStatus(enum.StrEnum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"

    @property
    def number(self) -> int:
        return _STATUS_NUMBERS[self]


_STATUS_NUMBERS = {
    ModelVersionStatus.PENDING_REGISTRATION: 1,
    ModelVersionStatus.FAILED_REGISTRATION: 2,
    ModelVersionStatus.READY: 3,
}


@dataclass(frozen=True, slots=True)
class RegisteredModelTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class ModelVersionTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class RegisteredModelAlias:
    alias: str
    version: str


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One immutable version of a registered model. ``version`` is the decimal string MLflow's
    client shows; ``tags`` maps keys to values; ``aliases`` names the aliases pointing here."""

    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    current_stage: str = Stage.NONE.value
    description: str = ""
    source: str = ""
    run_id: str = ""
    status: ModelVersionStatus = ModelVersionStatus.READY
    status_message: str = ""
    user_id: str = ""
    run_link: str = ""
    model_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @property
    def is_prompt(self) -> bool:
        return self.tags.get(PROMPT_TAG, "").lower() == "true"


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A named model. ``latest_versions`` holds, per stage, the highest version in it;
    ``aliases`` maps alias names to version strings."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    user_id: str = ""
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def is_prompt(self) -> bool:
        return self.tags.get(PROMPT_TAG, "").lower() == "true"


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """One entry of the audit trail (beyond MLflow): who changed what, when, from what to what.

    ``action`` is ``<entity>.<verb>`` such as ``registered_model.renamed``,
    ``model_version.stage_transitioned`` or ``alias.set``; ``before`` and ``after`` hold the
    changed fields only (``{}`` when the entity did not exist before or no longer exists).
    """

    id: int
    timestamp: int
    user: str
    action: str
    name: str
    version: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


class WebhookStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """``entity``/``action`` as the enum names of the wire (``MODEL_VERSION``/``CREATED``)."""

    entity: str
    action: str

    @classmethod
    def parse(cls, value: str | WebhookEvent) -> WebhookEvent:
        """From ``"model_version.created"`` or an event; InvalidParameter if not a valid pair."""
        if isinstance(value, WebhookEvent):
            event = value
        else:
            entity, sep, action = str(value).partition(".")
            if not sep:
                raise InvalidParameter(
                    f"Invalid webhook event {value!r}: expected '<entity>.<action>',"
                    " e.g. 'model_version.created'."
                )
            event = cls(entity.upper(), action.upper())
        if event.action not in WEBHOOK_EVENTS.get(event.entity, ()):
            valid = ", ".join(
                f"{e.lower()}.{a.lower()}" for e, actions in WEBHOOK_EVENTS.items() for a in actions
            )
            raise InvalidParameter(
                f"Invalid webhook event {event.entity.lower()}.{event.action.lower()}:"
                f" valid events are {valid}."
            )
        return event

    def __str__(self) -> str:
        return f"{self.entity.lower()}.{self.action.lower()}"


# spec rest-registry.md §4: the valid entity → actions pairs.
WEBHOOK_EVENTS: dict[str, tuple[str, ...]] = {
    "REGISTERED_MODEL": ("CREATED",),
    "MODEL_VERSION": ("CREATED",),
    "MODEL_VERSION_TAG": ("SET", "DELETED"),
    "MODEL_VERSION_ALIAS": ("CREATED", "DELETED"),
    "PROMPT": ("CREATED",),
    "PROMPT_VERSION": ("CREATED",),
    "PROMPT_TAG": ("SET", "DELETED"),
    "PROMPT_VERSION_TAG": ("SET", "DELETED"),
    "PROMPT_ALIAS": ("CREATED", "DELETED"),
    "BUDGET_POLICY": ("EXCEEDED",),
}


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered receiver of registry events. The secret is stored, never returned."""

    webhook_id: str
    name: str
    url: str
    events: list[WebhookEvent]
    creation_timestamp: int
    last_updated_timestamp: int
    description: str = ""
    status: WebhookStatus = WebhookStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One attempt to deliver one event (the delivery log)."""

    delivery_id: str
    webhook_id: str
    event: str
    timestamp: int
    attempt: int
    success: bool
    response_status: int | None = None
    error_message: str = ""


@dataclass(frozen=True, slots=True)
class WebhookTestResult:
    success: bool
    response_status: int | None = None
    response_body: str = ""
    error_message: str = ""


__all__ = [
    "PROMPT_TAG",
    "WEBHOOK_EVENTS",
    "ModelVersion",
    "ModelVersionStatus",
    "ModelVersionTag",
    "RegisteredModel",
    "RegisteredModelAlias",
    "RegisteredModelTag",
    "RegistryChange",
    "Stage",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookStatus",
    "WebhookTestResult",
]
