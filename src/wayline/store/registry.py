"""The registry store interface: registered models, versions, aliases, audit trail, webhooks.

Every backend (SQL, REST) implements all of it next to ``TrackingStore`` (see ``backend.Store``):
the registry lives in the tracking database, as in MLflow, so a version's source can be checked
against its run. Every method raises a ``wayline.errors.WaylineError`` subclass on bad input or
missing entities (messages and codes as spec rest-registry.md §2.1 lists them), and every write is
one transaction that also appends its audit entries, so the trail cannot miss a change.

Prompts are registered models tagged ``mlflow.prompt.is_prompt = "true"``: searches leave them out
unless the filter asks for that tag (spec search-syntax.md §4).
"""

from __future__ import annotations

import getpass
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextvars import ContextVar

from wayline.entities import PagedList
from wayline.entities.registry import (
    ModelVersion,
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

SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT = 100
SEARCH_REGISTERED_MODELS_MAX_RESULTS_LIMIT = 1000
# The proto's default; MLflow's client sends 10000.
SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT = 200_000
WEBHOOKS_MAX_RESULTS_DEFAULT = 100
HISTORY_MAX_RESULTS_DEFAULT = 100

# Who the audit trail names for the changes of this context. The server sets it per request (from
# the authenticated user); in-process use falls back to the operating-system user.
acting_user: ContextVar[str | None] = ContextVar("wayline_acting_user", default=None)


def current_user() -> str:
    user = acting_user.get()
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


class RegistryStore(ABC):
    # ---------------------------------------------------------------- registered models
    @abstractmethod
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
    ) -> RegisteredModel:
        """AlreadyExists ("Registered Model (name=X) already exists.") if the name is taken;
        InvalidParameter for an empty or path-ambiguous name."""

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """NotFound ("Registered Model with name=X not found") if absent."""

    @abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename the model and its versions; aliases and tags follow."""

    @abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel: ...

    @abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Hard delete, cascading to versions, tags and aliases (the audit trail stays)."""

    @abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """spec search-syntax.md §4, prompt rule included; default order ``name ASC``."""

    @abstractmethod
    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Per requested stage (any case; none means all four) the highest version in it."""

    @abstractmethod
    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None: ...

    @abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None: ...

    # ---------------------------------------------------------------- aliases
    @abstractmethod
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at ``version``, moving it if it exists. Reserved names (``latest``,
        ``v<digits>``) are refused with InvalidParameter."""

    @abstractmethod
    def delete_registered_model_alias(self, name: str, alias: str) -> None: ...

    @abstractmethod
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version the alias points at; alias ``latest`` is the highest version. A missing
        alias is InvalidParameter ("Registered model alias X not found."), as MLflow answers."""

    # ---------------------------------------------------------------- model versions
    @abstractmethod
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        """The next version (never reusing a deleted number), READY at once.

        ``source`` is validated (spec rest-registry.md §2.1): ``runs:/<id>/…`` needs the same
        ``run_id``; a local path must lie inside the run's artifact folder; ``..`` is refused;
        prompts take ``dummy-source``/``prompt-template`` only. With ``model_id`` the run id is
        taken from the logged model and the model's ``mlflow.modelVersions`` tag records the
        version.
        """

    @abstractmethod
    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """NotFound ("Model Version (name=X, version=9) not found"); InvalidParameter for a
        version that is not an integer."""

    @abstractmethod
    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion: ...

    @abstractmethod
    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str | Stage,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move the version to ``stage``; with ``archive_existing_versions`` (Staging and
        Production only) every other version in that stage goes to Archived."""

    @abstractmethod
    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete the version and the aliases pointing at it."""

    @abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """spec search-syntax.md §5; default order
        ``last_updated_timestamp DESC, name ASC, version_number DESC``."""

    @abstractmethod
    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """The logged model's artifact URI for versions made from one, else the source."""

    @abstractmethod
    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        """Insert or replace a tag."""

    @abstractmethod
    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None: ...

    # ---------------------------------------------------------------- audit trail
    @abstractmethod
    def get_registry_history(
        self,
        name: str,
        max_results: int = HISTORY_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryChange]:
        """Every recorded change to the model ``name`` (under any earlier name too), its
        versions, tags, aliases and stages, newest first. It outlives the model's deletion."""

    # ---------------------------------------------------------------- webhooks
    @abstractmethod
    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent | str],
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus | str = WebhookStatus.ACTIVE,
    ) -> Webhook:
        """InvalidParameter for a URL that is not http(s) or (unless allowed) points at a
        loopback, link-local or private address, and for an invalid event."""

    @abstractmethod
    def get_webhook(self, webhook_id: str) -> Webhook: ...

    @abstractmethod
    def list_webhooks(
        self, max_results: int = WEBHOOKS_MAX_RESULTS_DEFAULT, page_token: str | None = None
    ) -> PagedList[Webhook]: ...

    @abstractmethod
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
        """Change the given fields only."""

    @abstractmethod
    def delete_webhook(self, webhook_id: str) -> None: ...

    @abstractmethod
    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | str | None = None
    ) -> WebhookTestResult:
        """Deliver one example payload now (one attempt) and say how the receiver answered."""

    @abstractmethod
    def list_webhook_deliveries(
        self,
        webhook_id: str,
        max_results: int = WEBHOOKS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        """The delivery log of one webhook, newest first: one entry per attempt."""


__all__ = [
    "HISTORY_MAX_RESULTS_DEFAULT",
    "SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT",
    "SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT",
    "SEARCH_REGISTERED_MODELS_MAX_RESULTS_LIMIT",
    "WEBHOOKS_MAX_RESULTS_DEFAULT",
    "RegistryStore",
    "acting_user",
    "current_user",
]
