"""``PromptRegistry``: prompts in one store, and the prompt URI and link-tag helpers.

The registry does the work on the store it is given (the CLI builds one per tracking URI);
``wayline.genai.prompts`` puts the fluent context around it. Prompts are stored as MLflow stores
them (spec rest-registry.md §3), so MLflow's own client reads what Wayline writes and the other
way round; ``wayline.entities.prompt`` holds the encoding.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import Any, ParamSpec, TypeVar

from wayline.entities import LoggedModelTag, PagedList, RunTag
from wayline.entities.prompt import (
    EXPERIMENT_IDS_TAG,
    LINKED_PROMPTS_TAG,
    PROMPT_SOURCE,
    Prompt,
    PromptVersion,
    Template,
    validate_prompt_name,
    validate_template,
    version_tags,
)
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from wayline.errors import AlreadyExists, InvalidParameter, NotFound, WaylineError
from wayline.store.backend import Store
from wayline.store.registry import SEARCH_REGISTERED_MODELS_MAX_RESULTS_LIMIT
from wayline.store.tracking import TrackingStore

P = ParamSpec("P")
R = TypeVar("R")

PROMPT_URI_PREFIX = "prompts:/"
_IS_PROMPT_CLAUSE = f"tags.`{PROMPT_TAG}` = 'true'"
_EXPERIMENT_CLAUSE = re.compile(r"experiment_id\s*=\s*['\"]([^'\"]*)['\"]")
_MODEL_WORDS = re.compile(r"(registered model|model version)", re.IGNORECASE)
# Linking is read-modify-write of one tag; one lock per process keeps threads from losing entries.
_link_lock = threading.Lock()

VersionRef = int | str  # a version number, or an alias name ("latest" is the highest version)


def registry_store(store: TrackingStore) -> Store:
    """``store`` as a registry store (every Wayline backend is one)."""
    if not isinstance(store, Store):
        raise WaylineError(
            f"The tracking store {type(store).__name__} has no model registry, so it cannot "
            "hold prompts: use a sqlite://, postgresql://, mysql:// or http(s):// tracking URI.",
            "NOT_IMPLEMENTED",
        )
    return store


def _prompt_words(func: Callable[P, R]) -> Callable[P, R]:
    """Re-raise registry errors in prompt words ("Registered Model with name=x not found" →
    "Prompt with name=x not found"), keeping the error class and code, as MLflow does."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except WaylineError as exc:
            message = _MODEL_WORDS.sub(
                lambda m: "Prompt" if m.group(0)[0].isupper() else "prompt", exc.message
            )
            if message == exc.message:
                raise
            raise type(exc)(message, exc.error_code) from exc

    return wrapper


def _version_number(value: object, name: str) -> int:
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise InvalidParameter(
            f"Invalid version {value!r} of prompt '{name}': expected a positive integer, as in "
            f"prompts:/{name}/1 (or an alias: prompts:/{name}@production)."
        )
    return int(text)


def parse_prompt_uri(name_or_uri: str, version: str | int | None = None) -> tuple[str, VersionRef]:
    """(name, version number or alias) of ``prompts:/name/3``, ``prompts:/name@alias``,
    ``prompts:/name@latest``, or a bare name with an optional ``version`` (latest if none)."""
    if not isinstance(name_or_uri, str) or not name_or_uri.strip():
        raise InvalidParameter("Give a prompt name or a URI such as prompts:/my-prompt/1.")
    if not name_or_uri.startswith(PROMPT_URI_PREFIX):
        if version is None:
            return name_or_uri, "latest"
        return name_or_uri, _version_number(version, name_or_uri)
    if version is not None:
        raise InvalidParameter(
            "The `version` argument should not be specified when loading a prompt by URI: "
            f"the URI {name_or_uri!r} names the version."
        )
    rest = name_or_uri[len(PROMPT_URI_PREFIX) :].lstrip("/")
    if "@" in rest:
        name, _, alias = rest.partition("@")
        if not name or not alias or "/" in alias:
            raise InvalidParameter(
                f"Invalid prompt URI {name_or_uri!r}: expected prompts:/<name>@<alias>."
            )
        # MLflow reads a numeric alias as a version number.
        return name, int(alias) if alias.isdigit() else alias
    name, _, number = rest.rstrip("/").partition("/")
    if not name or "/" in number:
        raise InvalidParameter(
            f"Invalid prompt URI {name_or_uri!r}: expected prompts:/<name>/<version> or "
            "prompts:/<name>@<alias>."
        )
    if not number or number.lower() == "latest":
        return name, "latest"
    return name, _version_number(number, name)


def linked_prompts_value(current: str | None, versions: Sequence[PromptVersion]) -> str | None:
    """The ``mlflow.linkedPrompts`` tag value with ``versions`` added once each (unchanged, and
    so not rewritten, when they are all there already)."""
    entries: list[Any] = []
    if current is not None:
        try:
            parsed = json.loads(current)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, list):
            raise InvalidParameter(
                f"The '{LINKED_PROMPTS_TAG}' tag holds {current!r}, not a JSON list of "
                '{"name", "version"} entries: fix or delete the tag, then link again.'
            )
        entries = parsed
    to_add: list[dict[str, str]] = []
    for version in versions:
        entry = {"name": version.name, "version": str(version.version)}
        if entry not in entries and entry not in to_add:
            to_add.append(entry)
    if not to_add:
        return current
    return json.dumps([*entries, *to_add])


def _quoted(value: str) -> str:
    # The filter grammar takes quoted text literally (no escapes): pick the quote it lacks.
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise InvalidParameter(f"The name {value!r} has both quote characters and cannot be searched.")


def _experiment_filter(filter_string: str) -> str:
    """MLflow's ``experiment_id = '1'`` prompt filter, as the tag clause it stands for."""
    match = _EXPERIMENT_CLAUSE.search(filter_string)
    if not match:
        return filter_string
    experiment_id = match.group(1)
    if not experiment_id.isdigit():
        raise InvalidParameter(
            f"Invalid experiment_id: {experiment_id!r}. Must be a numeric value, e.g. "
            "experiment_id = '1'."
        )
    clause = f"tags.`{EXPERIMENT_IDS_TAG}` LIKE '%,{experiment_id},%'"
    rest = _EXPERIMENT_CLAUSE.sub("", filter_string, count=1).strip()
    rest = re.sub(r"^(?i:AND)\s+|\s+(?i:AND)$", "", rest).strip()
    rest = re.sub(r"\s+(?i:AND)\s+(?i:AND)\s+", " AND ", rest)
    return f"{clause} AND {rest}" if rest else clause


class PromptRegistry:
    """Prompts in one store: register, load, search, alias, tag and delete them.

    Example::

        from wayline import Client
        from wayline.genai import PromptRegistry

        registry = PromptRegistry(Client("sqlite:///wayline.db").store)
        registry.register("qa", "Answer {{question}} briefly.", commit_message="first")
        registry.load("prompts:/qa@latest").format(question="Why?")
    """

    def __init__(self, store: TrackingStore) -> None:
        self._store = registry_store(store)

    @property
    def store(self) -> Store:
        return self._store

    # ------------------------------------------------------------------ register and load
    @_prompt_words
    def register(
        self,
        name: str,
        template: Template,
        commit_message: str | None = None,
        tags: Mapping[str, Any] | None = None,
        response_format: Any = None,
        model_config: Any = None,
    ) -> PromptVersion:
        """Create the prompt if needed, then its next version. ``tags`` go on the version and
        on the prompt (later versions overwrite the prompt's values), as MLflow stores them."""
        validate_prompt_name(name)
        template = validate_template(template)
        user_tags = {str(k): str(v) for k, v in (tags or {}).items()}
        # Encode (and so validate) everything before anything is written.
        stored = version_tags(template, user_tags, response_format, model_config)
        created = self._ensure_prompt(name, commit_message, user_tags)
        try:
            mv = self._store.create_model_version(
                name,
                PROMPT_SOURCE,
                tags=[ModelVersionTag(k, v) for k, v in stored.items()],
                description=commit_message,
            )
        except WaylineError:
            if created:  # leave no empty prompt behind a first version that failed
                with suppress(WaylineError):
                    self._store.delete_registered_model(name)
            raise
        return PromptVersion.from_model_version(mv)

    def _ensure_prompt(
        self, name: str, commit_message: str | None, user_tags: Mapping[str, str]
    ) -> bool:
        """Make sure the prompt exists (True when this call created it) and has the tags."""
        try:
            model = self._store.get_registered_model(name)
        except NotFound:
            marker = [RegisteredModelTag(PROMPT_TAG, "true")]
            try:
                self._store.create_registered_model(
                    name,
                    tags=marker + [RegisteredModelTag(k, v) for k, v in user_tags.items()],
                    description=commit_message,
                )
                return True
            except AlreadyExists:  # another writer created it in between: use theirs
                model = self._store.get_registered_model(name)
        if not model.is_prompt:
            raise InvalidParameter(
                f"Model '{name}' exists with the same name. A prompt cannot share its name with "
                "a model: choose a different name for the prompt."
            )
        for key, value in user_tags.items():
            if model.tags.get(key) != value:
                self._store.set_registered_model_tag(name, RegisteredModelTag(key, value))
        return False

    def load(
        self, name_or_uri: str, version: str | int | None = None, allow_missing: bool = False
    ) -> PromptVersion | None:
        """The prompt version a URI or name (+ version) names; None when it does not exist and
        ``allow_missing`` is set."""
        found = self.load_with_model(name_or_uri, version, allow_missing)
        return found[0] if found else None

    @_prompt_words
    def load_with_model(
        self, name_or_uri: str, version: str | int | None, allow_missing: bool
    ) -> tuple[PromptVersion, RegisteredModel] | None:
        """``load``, with the prompt's registered model read on the way (its tags, aliases)."""
        name, ref = parse_prompt_uri(name_or_uri, version)
        try:
            model = self._require_prompt(name)
            mv: ModelVersion | None
            if isinstance(ref, int):
                mv = self._store.get_model_version(name, ref)
            else:
                mv = self._by_alias(name, ref, allow_missing)
            if mv is None:
                return None
        except NotFound:
            if allow_missing:
                return None
            raise
        return PromptVersion.from_model_version(mv), model

    def _by_alias(self, name: str, alias: str, allow_missing: bool) -> ModelVersion | None:
        try:
            return self._store.get_model_version_by_alias(name, alias)
        except InvalidParameter:
            # The wire answers a missing alias with INVALID_PARAMETER_VALUE, not 404.
            if allow_missing:
                return None
            raise

    def _require_prompt(self, name: str) -> RegisteredModel:
        model = self._store.get_registered_model(name)
        if not model.is_prompt:
            raise InvalidParameter(
                f"Name `{name}` is registered as a model, not a prompt: use the model registry "
                f"(wayline models describe {name})."
            )
        return model

    # ------------------------------------------------------------------ read
    @_prompt_words
    def get(self, name: str) -> Prompt | None:
        """The prompt's metadata, or None if there is no prompt of that name."""
        try:
            model = self._store.get_registered_model(name)
        except NotFound:
            return None
        return Prompt.from_registered_model(model) if model.is_prompt else None

    @_prompt_words
    def search(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Prompt]:
        """Prompts matching a registry filter (``name LIKE 'qa%'``, ``tags.team = 'x'``, and
        MLflow's ``experiment_id = '1'``); all of them unless ``max_results`` is given."""
        clause = _IS_PROMPT_CLAUSE
        if filter_string and filter_string.strip():
            clause = f"{clause} AND {_experiment_filter(filter_string.strip())}"
        found: list[Prompt] = []
        token: str | None = None
        while True:
            wanted = SEARCH_REGISTERED_MODELS_MAX_RESULTS_LIMIT
            if max_results is not None:
                wanted = min(wanted, max_results - len(found))
            page = self._store.search_registered_models(clause, wanted, order_by, token)
            found.extend(Prompt.from_registered_model(m) for m in page)
            token = page.token
            if not token or (max_results is not None and len(found) >= max_results):
                return PagedList(found, token)

    @_prompt_words
    def versions(self, name: str, max_results: int | None = None) -> list[PromptVersion]:
        """The prompt's versions, newest first."""
        self._require_prompt(name)
        clause = f"name = {_quoted(name)} AND {_IS_PROMPT_CLAUSE}"
        found: list[PromptVersion] = []
        token: str | None = None
        while True:
            page = self._store.search_model_versions(
                clause, max_results or 1000, ["version_number DESC"], token
            )
            found.extend(PromptVersion.from_model_version(mv) for mv in page)
            token = page.token
            if not token or (max_results is not None and len(found) >= max_results):
                return found[:max_results] if max_results is not None else found

    # ------------------------------------------------------------------ aliases, tags, deletes
    @_prompt_words
    def set_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at a version (moving it if it points elsewhere)."""
        self._require_prompt(name)
        number = _version_number(version, name)
        self._store.get_model_version(name, number)  # NotFound names the missing version
        self._store.set_registered_model_alias(name, alias, number)

    @_prompt_words
    def delete_alias(self, name: str, alias: str) -> None:
        self._require_prompt(name)
        self._store.delete_registered_model_alias(name, alias)

    @_prompt_words
    def set_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on the prompt itself (not on a version)."""
        self._require_prompt(name)
        self._store.set_registered_model_tag(name, RegisteredModelTag(key, str(value)))

    @_prompt_words
    def delete_tag(self, name: str, key: str) -> None:
        self._require_prompt(name)
        self._store.delete_registered_model_tag(name, key)

    @_prompt_words
    def set_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        self._require_prompt(name)
        number = _version_number(version, name)
        self._store.set_model_version_tag(name, number, ModelVersionTag(key, str(value)))

    @_prompt_words
    def delete_version_tag(self, name: str, version: str | int, key: str) -> None:
        self._require_prompt(name)
        self._store.delete_model_version_tag(name, _version_number(version, name), key)

    @_prompt_words
    def delete_version(self, name: str, version: str | int) -> None:
        """Delete one version (and the aliases pointing at it); its number is never reused."""
        self._require_prompt(name)
        self._store.delete_model_version(name, _version_number(version, name))

    @_prompt_words
    def delete(self, name: str) -> None:
        """Delete the prompt with all its versions, tags and aliases."""
        self._require_prompt(name)
        self._store.delete_registered_model(name)

    # ------------------------------------------------------------------ links
    def link_to_run(self, run_id: str, versions: Sequence[PromptVersion]) -> None:
        """Add the versions to the run's ``mlflow.linkedPrompts`` tag (once each)."""
        with _link_lock:
            current = self._store.get_run(run_id).data.tags.get(LINKED_PROMPTS_TAG)
            updated = linked_prompts_value(current, versions)
            if updated is not None and updated != current:
                self._store.set_tag(run_id, RunTag(LINKED_PROMPTS_TAG, updated))

    def link_to_model(self, model_id: str, versions: Sequence[PromptVersion]) -> None:
        """Add the versions to the logged model's ``mlflow.linkedPrompts`` tag (once each)."""
        with _link_lock:
            current = self._store.get_logged_model(model_id).tags.get(LINKED_PROMPTS_TAG)
            updated = linked_prompts_value(current, versions)
            if updated is not None and updated != current:
                self._store.set_logged_model_tags(
                    model_id, [LoggedModelTag(LINKED_PROMPTS_TAG, updated)]
                )

    def link_to_experiment(
        self, name: str, experiment_id: str, model: RegisteredModel | None = None
    ) -> None:
        """Add the experiment to the prompt's ``_mlflow_experiment_ids`` tag (``,0,4,``)."""
        with _link_lock:
            model = model or self._store.get_registered_model(name)
            raw = model.tags.get(EXPERIMENT_IDS_TAG, "")
            ids = [i.strip() for i in raw.strip(",").split(",") if i.strip()]
            if experiment_id in ids:
                return
            value = ",".join([*ids, experiment_id])
            self._store.set_registered_model_tag(
                name, RegisteredModelTag(EXPERIMENT_IDS_TAG, f",{value},")
            )


__all__ = [
    "PROMPT_URI_PREFIX",
    "PromptRegistry",
    "linked_prompts_value",
    "parse_prompt_uri",
    "registry_store",
]
