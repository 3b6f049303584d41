"""The model-registry part of ``Client`` (MlflowClient's registry and webhook methods).

A mixin, as ``client_models`` is for logged models: arguments are MLflow's friendly ones (dicts
of tags, versions as ``str`` or ``int``), turned into entities here; validation is the store's.
Like MLflow's client, the methods that act on a *model* first check that the registered model is
not a prompt (one ``get_registered_model``), so a prompt's versions, tags and aliases are only
changed through the prompt APIs; ``raise_if_prompt`` / ``raise_if_not_prompt`` are that check,
for the prompt side to use the other way round.

Beyond MLflow: ``get_registry_history`` (the audit trail). Webhooks are in ``client_webhooks``.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from wayline.entities import PagedList
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    RegistryChange,
    Stage,
)
from wayline.errors import AlreadyExists, InvalidParameter, WaylineError
from wayline.store.registry import (
    HISTORY_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
    RegistryStore,
)
from wayline.store.tracking import TrackingStore
from wayline.tracking.values import tag_value

_logger = logging.getLogger(__name__)

# MLflow's client defaults: it sends 10000 for version searches, waits 300 s for READY.
SEARCH_MODEL_VERSIONS_CLIENT_MAX_RESULTS = 10_000
AWAIT_CREATION_DEFAULT_S = 300
_AWAIT_POLL_S = 0.5

Version = str | int


def eprint(message: str) -> None:
    """A progress line on stderr, as MLflow's registry calls print them."""
    print(message, file=sys.stderr)


def _model_tags(tags: Mapping[str, Any] | None) -> list[RegisteredModelTag]:
    return [RegisteredModelTag(str(k), tag_value(v)) for k, v in (tags or {}).items()]


def _version_tags(tags: Mapping[str, Any] | None) -> list[ModelVersionTag]:
    return [ModelVersionTag(str(k), tag_value(v)) for k, v in (tags or {}).items()]


def _is_a_prompt(name: str) -> InvalidParameter:
    return InvalidParameter(
        f"Registered model '{name}' is a prompt, not a model: manage it with the prompt APIs "
        "(load_prompt, set_prompt_alias, delete_prompt ...)."
    )


def raise_if_prompt(model: RegisteredModel) -> None:
    """InvalidParameter when ``model`` is a prompt (a model API was called on it)."""
    if model.is_prompt:
        raise _is_a_prompt(model.name)


def raise_if_not_prompt(model: RegisteredModel) -> None:
    """InvalidParameter when ``model`` is a model, not a prompt (a prompt API was called)."""
    if not model.is_prompt:
        raise InvalidParameter(
            f"Registered model '{model.name}' is a model, not a prompt: manage it with the "
            "model registry APIs (create_model_version, set_registered_model_alias ...)."
        )


def _version_or_stage(version: Version | None, stage: str | None) -> None:
    if version and stage:
        raise InvalidParameter("version and stage cannot be set together")
    if not (version or stage):
        raise InvalidParameter("version or stage must be set")


def registry_of(store: TrackingStore) -> RegistryStore:
    """``store`` as a registry store (every Wayline backend is one)."""
    if not isinstance(store, RegistryStore):
        raise WaylineError(
            f"The store {type(store).__name__} serves no model registry.", "NOT_IMPLEMENTED"
        )
    return store


class RegistryClient:
    _store: TrackingStore
    _registry_store: TrackingStore

    @property
    def _registry(self) -> RegistryStore:
        return registry_of(self._registry_store)

    def _model(self, name: str) -> RegisteredModel:
        """The registered model ``name``, refused if it is a prompt."""
        model = self._registry.get_registered_model(name)
        raise_if_prompt(model)
        return model

    # ------------------------------------------------------------ registered models
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model (AlreadyExists if the name is taken).

        Example::

            client.create_registered_model("churn", tags={"team": "growth"}, description="v1")
        """
        return self._registry.create_registered_model(name, _model_tags(tags), description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The registered model with its tags, aliases and latest version per stage.

        Example::

            model = client.get_registered_model("churn")
            print(model.aliases)  # {"champion": "3"}
        """
        return self._registry.get_registered_model(name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; its versions, tags and aliases follow.

        Example::

            client.rename_registered_model("churn", "churn-classifier")
        """
        self._model(name)
        return self._registry.rename_registered_model(name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Change a registered model's description.

        Example::

            client.update_registered_model("churn", description="Gradient boosting, weekly")
        """
        self._model(name)
        return self._registry.update_registered_model(name, description)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions, tags and aliases.

        Example::

            client.delete_registered_model("churn")
        """
        self._model(name)
        self._registry.delete_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """One page of registered models (prompts left out); ``.token`` fetches the next.

        Example::

            page = client.search_registered_models("name LIKE 'churn%'", order_by=["name"])
        """
        return self._registry.search_registered_models(
            filter_string or None, max_results, order_by, page_token
        )

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each stage asked for (all four when none is given).

        Example::

            [prod] = client.get_latest_versions("churn", stages=["Production"])
        """
        self._model(name)
        return self._registry.get_latest_versions(name, list(stages) if stages else None)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set (or replace) a tag on a registered model.

        Example::

            client.set_registered_model_tag("churn", "owner", "ana")
        """
        self._model(name)
        self._registry.set_registered_model_tag(name, RegisteredModelTag(key, tag_value(value)))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag from a registered model.

        Example::

            client.delete_registered_model_tag("churn", "owner")
        """
        self._model(name)
        self._registry.delete_registered_model_tag(name, key)

    # ------------------------------------------------------------ aliases
    def set_registered_model_alias(self, name: str, alias: str, version: Version) -> None:
        """Point an alias at a version (moving it if it points elsewhere).

        Example::

            client.set_registered_model_alias("churn", "champion", 3)
            wayline.pyfunc.load_model("models:/churn@champion")
        """
        self._model(name)
        self._registry.set_registered_model_alias(name, alias, str(version))

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias.

        Example::

            client.delete_registered_model_alias("churn", "champion")
        """
        self._model(name)
        self._registry.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at (``latest``: the highest version).

        Example::

            version = client.get_model_version_by_alias("churn", "champion").version
        """
        found = self._registry.get_model_version_by_alias(name, alias)
        if found.is_prompt:
            raise _is_a_prompt(name)
        return found

    # ------------------------------------------------------------ model versions
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = AWAIT_CREATION_DEFAULT_S,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register the model at ``source`` as the next version of ``name``.

        ``source`` is where the files are (``models:/m-<id>`` with ``model_id``, a storage URI
        or ``runs:/<run_id>/<path>`` with ``run_id``); the call waits up to
        ``await_creation_for`` seconds for the version to be READY.

        Example::

            mv = client.create_model_version("churn", f"models:/{model_id}", model_id=model_id)
        """
        if tags and PROMPT_TAG in tags:
            raise InvalidParameter("Prompts cannot be registered as models.")
        self._model(name)
        created = self._registry.create_model_version(
            name,
            source,
            run_id=run_id or None,
            tags=_version_tags(tags),
            run_link=run_link or None,
            description=description,
            model_id=model_id or None,
        )
        if await_creation_for and await_creation_for > 0:
            return self._await_ready(created, await_creation_for)
        return created

    def _await_ready(self, version: ModelVersion, seconds: float) -> ModelVersion:
        deadline = time.monotonic() + seconds
        while version.status == ModelVersionStatus.PENDING_REGISTRATION:
            if time.monotonic() > deadline:
                raise WaylineError(
                    f"Exceeded max wait time for model name: {version.name} version: "
                    f"{version.version} to become READY. Status: {version.status.value} "
                    f"Wait Time: {seconds}"
                )
            time.sleep(_AWAIT_POLL_S)
            version = self._registry.get_model_version(version.name, version.version)
        if version.status == ModelVersionStatus.FAILED_REGISTRATION:
            raise WaylineError(
                f"Model version creation failed for model name: {version.name} version: "
                f"{version.version} with status: {version.status.value} and message: "
                f"{version.status_message}"
            )
        return version

    def get_model_version(self, name: str, version: Version) -> ModelVersion:
        """One version of a registered model, with its tags and aliases.

        Example::

            mv = client.get_model_version("churn", "3")
            print(mv.current_stage, mv.source, mv.aliases)
        """
        return self._registry.get_model_version(name, str(version))

    def update_model_version(
        self, name: str, version: Version, description: str | None = None
    ) -> ModelVersion:
        """Change a version's description.

        Example::

            client.update_model_version("churn", 3, description="retrained on May data")
        """
        self._model(name)
        return self._registry.update_model_version(name, str(version), description)

    def transition_model_version_stage(
        self,
        name: str,
        version: Version,
        stage: str | Stage,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        """Move a version to a stage (``None``, ``Staging``, ``Production``, ``Archived``, any
        case); ``archive_existing_versions`` archives the others in Staging/Production.

        Example::

            client.transition_model_version_stage("churn", 3, "Production", True)
        """
        self._model(name)
        return self._registry.transition_model_version_stage(
            name, str(version), stage, archive_existing_versions
        )

    def delete_model_version(self, name: str, version: Version) -> None:
        """Delete a version (and the aliases pointing at it); its number is never reused.

        Example::

            client.delete_model_version("churn", 1)
        """
        self._model(name)
        self._registry.delete_model_version(name, str(version))

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_CLIENT_MAX_RESULTS,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """One page of model versions (prompt versions left out); ``.token`` fetches the next.

        Example::

            page = client.search_model_versions("name = 'churn' AND version_number >= 2")
        """
        return self._registry.search_model_versions(
            filter_string or None, max_results, order_by, page_token
        )

    def get_model_version_download_uri(self, name: str, version: Version) -> str:
        """Where a version's files are: the logged model's location, else its source.

        Example::

            uri = client.get_model_version_download_uri("churn", 3)
        """
        self._model(name)
        return self._registry.get_model_version_download_uri(name, str(version))

    def set_model_version_tag(
        self,
        name: str,
        version: Version | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Set (or replace) a tag on a version, given by number or (deprecated) by stage.

        Example::

            client.set_model_version_tag("churn", "3", "validated", "true")
        """
        self._model(name)
        number = self._version_of(name, version, stage)
        if key is None:
            raise InvalidParameter("Missing value for required parameter 'key'.")
        self._registry.set_model_version_tag(name, number, ModelVersionTag(key, tag_value(value)))

    def delete_model_version_tag(
        self,
        name: str,
        version: Version | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        """Remove a tag from a version, given by number or (deprecated) by stage.

        Example::

            client.delete_model_version_tag("churn", "3", "validated")
        """
        self._model(name)
        number = self._version_of(name, version, stage)
        if key is None:
            raise InvalidParameter("Missing value for required parameter 'key'.")
        self._registry.delete_model_version_tag(name, number, key)

    def _version_of(self, name: str, version: Version | None, stage: str | None) -> str:
        _version_or_stage(version, stage)
        if version:
            return str(version)
        latest = self._registry.get_latest_versions(name, [str(stage)])
        if not latest:
            raise InvalidParameter(f"Could not find any model version for {stage} stage")
        return latest[0].version

    def copy_model_version(self, src_model_uri: str, dst_name: str) -> ModelVersion:
        """Copy a version (``models:/<name>/<version>``, ``@<alias>``, ``/<stage>``) to a new
        version of ``dst_name``, creating that model if needed; the copy's source is
        ``models:/<name>/<version>`` of the original.

        Example::

            client.copy_model_version("models:/churn@champion", "churn-prod")
        """
        from wayline.artifacts.uris import parse_model_uri, registered_version, uri_scheme

        if uri_scheme(src_model_uri) != "models":
            raise InvalidParameter(
                f"Unsupported source model URI: '{src_model_uri}'. The `copy_model_version` API "
                "only copies models stored in the 'models:/' scheme."
            )
        parsed = parse_model_uri(src_model_uri)
        if parsed.name is None or parsed.path:
            raise InvalidParameter(
                f"'{src_model_uri}' names no registered model version: give "
                "models:/<name>/<version>, models:/<name>/<stage> or models:/<name>@<alias>."
            )
        source = self._registry.get_model_version(
            parsed.name, registered_version(parsed, self._registry)
        )
        if source.is_prompt:
            raise _is_a_prompt(source.name)
        try:
            self.create_registered_model(dst_name)
            eprint(f"Successfully registered model '{dst_name}'.")
        except AlreadyExists:
            eprint(f"Registered model '{dst_name}' already exists. Creating a new version ...")
        copy = self.create_model_version(
            dst_name,
            f"models:/{source.name}/{source.version}",
            run_id=source.run_id or None,
            tags=source.tags,
            run_link=source.run_link or None,
            description=source.description or None,
            model_id=source.model_id or None,
        )
        eprint(
            f"Copied version '{source.version}' of model '{source.name}' to version "
            f"'{copy.version}' of model '{copy.name}'."
        )
        return copy

    # ------------------------------------------------------------ audit trail (Wayline)
    def get_registry_history(
        self,
        name: str,
        max_results: int = HISTORY_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryChange]:
        """Who changed what in a registered model (versions, stages, tags, aliases), newest
        first; it outlives the model's deletion.

        Example::

            for change in client.get_registry_history("churn"):
                print(change.timestamp, change.user, change.action, change.before, change.after)
        """
        return self._registry.get_registry_history(name, max_results, page_token)


__all__ = [
    "AWAIT_CREATION_DEFAULT_S",
    "SEARCH_MODEL_VERSIONS_CLIENT_MAX_RESULTS",
    "RegistryClient",
    "eprint",
    "raise_if_not_prompt",
    "raise_if_prompt",
    "registry_of",
]
