"""The registry part of ``RestStore`` (spec rest-registry.md §2, §4), one request per method.

Registered models, versions, aliases, the audit trail (Wayline's extension) and webhooks. A
mixin, like the logged-model one: it only needs ``_call``. Works against MLflow's server too,
except for the audit trail and the delivery log, which MLflow does not have (it answers 404).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
from wayline.errors import WaylineError
from wayline.protocol import (
    JsonDict,
    decode_model_version,
    decode_page,
    decode_registered_model,
    decode_registry_change,
    decode_webhook,
    decode_webhook_delivery,
    decode_webhook_test_result,
)
from wayline.store.registry import (
    HISTORY_MAX_RESULTS_DEFAULT,
    SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
    WEBHOOKS_MAX_RESULTS_DEFAULT,
)


def _field(body: JsonDict, key: str, rpc: str) -> Any:
    if body.get(key) is None:
        raise WaylineError(f"The server answered {rpc} without {key}: {body!r}")
    return body[key]


class RegistryRest:
    def _call(self, rpc: str, /, **values: Any) -> JsonDict:
        raise NotImplementedError  # RestStore sends the request

    def _registered_model(self, rpc: str, /, **values: Any) -> RegisteredModel:
        body = self._call(rpc, **values)
        return decode_registered_model(_field(body, "registered_model", rpc))

    def _model_version(self, rpc: str, /, **values: Any) -> ModelVersion:
        body = self._call(rpc, **values)
        return decode_model_version(_field(body, "model_version", rpc))

    # ---------------------------------------------------------------- registered models
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
    ) -> RegisteredModel:
        return self._registered_model(
            "CreateRegisteredModel", name=name, tags=list(tags), description=description
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._registered_model("GetRegisteredModel", name=name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        return self._registered_model("RenameRegisteredModel", name=name, new_name=new_name)

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        return self._registered_model("UpdateRegisteredModel", name=name, description=description)

    def delete_registered_model(self, name: str) -> None:
        self._call("DeleteRegisteredModel", name=name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        body = self._call(
            "SearchRegisteredModels",
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return decode_page(body, "registered_models", decode_registered_model)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        body = self._call("GetLatestVersions", name=name, stages=list(stages) if stages else None)
        return list(decode_page(body, "model_versions", decode_model_version))

    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        self._call("SetRegisteredModelTag", name=name, key=tag.key, value=tag.value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("DeleteRegisteredModelTag", name=name, key=key)

    # ---------------------------------------------------------------- aliases
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        self._call("SetRegisteredModelAlias", name=name, alias=alias, version=version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._call("DeleteRegisteredModelAlias", name=name, alias=alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._model_version("GetModelVersionByAlias", name=name, alias=alias)

    # ---------------------------------------------------------------- model versions
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
        return self._model_version(
            "CreateModelVersion",
            name=name,
            source=source,
            run_id=run_id or None,
            tags=list(tags),
            run_link=run_link or None,
            description=description,
            model_id=model_id or None,
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        return self._model_version("GetModelVersion", name=name, version=version)

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        return self._model_version(
            "UpdateModelVersion", name=name, version=version, description=description
        )

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str | Stage,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        return self._model_version(
            "TransitionModelVersionStage",
            name=name,
            version=version,
            stage=str(stage),
            archive_existing_versions=archive_existing_versions,
        )

    def delete_model_version(self, name: str, version: str | int) -> None:
        self._call("DeleteModelVersion", name=name, version=version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        body = self._call(
            "SearchModelVersions",
            filter=filter_string or None,
            max_results=max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return decode_page(body, "model_versions", decode_model_version)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        body = self._call("GetModelVersionDownloadUri", name=name, version=version)
        return str(_field(body, "artifact_uri", "GetModelVersionDownloadUri"))

    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        self._call("SetModelVersionTag", name=name, version=version, key=tag.key, value=tag.value)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._call("DeleteModelVersionTag", name=name, version=version, key=key)

    # ---------------------------------------------------------------- audit trail
    def get_registry_history(
        self,
        name: str,
        max_results: int = HISTORY_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryChange]:
        body = self._call(
            "GetRegistryHistory", name=name, max_results=max_results, page_token=page_token
        )
        return decode_page(body, "changes", decode_registry_change)

    # ---------------------------------------------------------------- webhooks
    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent | str],
        description: str | None = None,
        secret: str | None = None,
        status: WebhookStatus | str = WebhookStatus.ACTIVE,
    ) -> Webhook:
        body = self._call(
            "CreateWebhook",
            name=name,
            url=url,
            events=list(events),
            description=description,
            secret=secret,
            status=status,
        )
        return decode_webhook(_field(body, "webhook", "CreateWebhook"))

    def get_webhook(self, webhook_id: str) -> Webhook:
        body = self._call("GetWebhook", webhook_id=webhook_id)
        return decode_webhook(_field(body, "webhook", "GetWebhook"))

    def list_webhooks(
        self, max_results: int = WEBHOOKS_MAX_RESULTS_DEFAULT, page_token: str | None = None
    ) -> PagedList[Webhook]:
        body = self._call("ListWebhooks", max_results=max_results, page_token=page_token)
        return decode_page(body, "webhooks", decode_webhook)

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
        body = self._call(
            "UpdateWebhook",
            webhook_id=webhook_id,
            name=name,
            description=description,
            url=url,
            events=None if events is None else list(events),
            secret=secret,
            status=status,
        )
        return decode_webhook(_field(body, "webhook", "UpdateWebhook"))

    def delete_webhook(self, webhook_id: str) -> None:
        self._call("DeleteWebhook", webhook_id=webhook_id)

    def test_webhook(
        self, webhook_id: str, event: WebhookEvent | str | None = None
    ) -> WebhookTestResult:
        body = self._call("TestWebhook", webhook_id=webhook_id, event=event)
        return decode_webhook_test_result(_field(body, "result", "TestWebhook"))

    def list_webhook_deliveries(
        self,
        webhook_id: str,
        max_results: int = WEBHOOKS_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[WebhookDelivery]:
        body = self._call(
            "ListWebhookDeliveries",
            webhook_id=webhook_id,
            max_results=max_results,
            page_token=page_token,
        )
        return decode_page(body, "deliveries", decode_webhook_delivery)


__all__ = ["RegistryRest"]
