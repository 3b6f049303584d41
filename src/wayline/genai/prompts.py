"""MLflow 3's ``mlflow.genai`` prompt functions, on the fluent API's store.

Beyond what ``PromptRegistry`` does, these record what the fluent context says: the experiment a
prompt was used in (the prompt's ``_mlflow_experiment_ids`` tag), the active run that loaded or
registered it (the run's ``mlflow.linkedPrompts`` tag) and the active logged model (the same tag
on the model).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from wayline.entities import PagedList
from wayline.entities.prompt import (
    MODEL_CONFIG_TAG,
    Prompt,
    PromptVersion,
    normalize_model_config,
)
from wayline.entities.registry import RegisteredModel
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.genai.registry import PromptRegistry

_logger = logging.getLogger(__name__)


def _registry() -> PromptRegistry:
    from wayline.tracking import fluent

    return PromptRegistry(fluent.client().store)


@contextmanager
def _secondary(what: str) -> Iterator[None]:
    """A bookkeeping link must not fail the user's call (MLflow makes these links in the
    background and only logs failures)."""
    try:
        yield
    except WaylineError as exc:
        _logger.warning("Could not %s: %s", what, exc.message)


def _link_context(
    registry: PromptRegistry,
    prompt: PromptVersion,
    model: RegisteredModel | None,
    link_model_id: str | None,
) -> None:
    """Record the fluent context's experiment, run, trace and (if asked) logged model on the
    prompt."""
    from wayline.tracking import fluent

    run = fluent.active_run()
    with _secondary(f"tag prompt '{prompt.name}' with the active experiment"):
        experiment_id = (
            run.info.experiment_id if run else fluent.default_experiment_id(fluent.client())
        )
        registry.link_to_experiment(prompt.name, experiment_id, model)
    if run is not None:
        registry.link_to_run(run.info.run_id, [prompt])
    if "wayline.tracing.fluent" in sys.modules:  # a trace can be open only if tracing is loaded
        from wayline.tracing.fluent import link_prompt_to_current_trace

        link_prompt_to_current_trace(prompt.name, prompt.version)
    if link_model_id:
        with _secondary(f"link prompt '{prompt.name}' to logged model {link_model_id}"):
            registry.link_to_model(link_model_id, [prompt])


def register_prompt(
    name: str,
    template: str | list[dict[str, Any]],
    commit_message: str | None = None,
    tags: Mapping[str, Any] | None = None,
    response_format: Any = None,
    model_config: Any = None,
) -> PromptVersion:
    """Register a prompt, or a new version of it if the name exists (MLflow's
    ``mlflow.genai.register_prompt``).

    ``template`` is text with ``{{ variables }}`` or a list of ``{"role", "content"}``
    messages; ``response_format`` a JSON-schema dict or pydantic class; ``model_config`` a dict
    such as ``{"model_name": "gpt-4o", "temperature": 0.2}``. Inside an active run the version
    is recorded in the run's ``mlflow.linkedPrompts`` tag.

    Example::

        import wayline

        v1 = wayline.genai.register_prompt(
            "qa", "Answer {{question}} briefly.", commit_message="first", tags={"team": "search"}
        )
        chat = wayline.genai.register_prompt(
            "assistant",
            [
                {"role": "system", "content": "You are a {{style}} assistant."},
                {"role": "user", "content": "{{question}}"},
            ],
        )
    """
    registry = _registry()
    prompt = registry.register(name, template, commit_message, tags, response_format, model_config)
    _link_context(registry, prompt, None, None)
    return prompt


def load_prompt(
    name_or_uri: str,
    version: str | int | None = None,
    allow_missing: bool = False,
    link_to_model: bool = True,
    model_id: str | None = None,
    cache_ttl_seconds: float | None = None,
) -> PromptVersion | None:
    """Load a prompt version: ``prompts:/name/3``, ``prompts:/name@alias``,
    ``prompts:/name@latest``, or a name with an optional ``version`` (the latest if none).

    With ``allow_missing`` a missing prompt, version or alias gives None instead of an error.
    The version is recorded in the ``mlflow.linkedPrompts`` tag of the active run and of the trace
    being recorded, if any; with ``link_to_model`` it is also recorded on ``model_id`` (or the
    active model, if one is set).
    ``cache_ttl_seconds`` is taken for MLflow's signature only: Wayline keeps no prompt cache,
    every load reads the store (so an alias moved elsewhere is seen at once).

    Example::

        prompt = wayline.genai.load_prompt("prompts:/qa@production")
        text = prompt.format(question="What is a registry?")
    """
    from wayline.tracking.fluent_models import get_active_model_id

    if cache_ttl_seconds is not None and cache_ttl_seconds < 0:
        raise InvalidParameter("`cache_ttl_seconds` argument must be greater than or equal to 0.")
    registry = _registry()
    found = registry.load_with_model(name_or_uri, version, allow_missing)
    if found is None:
        return None
    prompt, model = found
    target_model = (model_id or get_active_model_id()) if link_to_model else None
    _link_context(registry, prompt, model, target_model)
    return prompt


def search_prompts(
    filter_string: str | None = None,
    max_results: int | None = None,
    order_by: Sequence[str] | None = None,
) -> PagedList[Prompt]:
    """Prompts matching a filter (all of them, or ``max_results`` at most).

    Example::

        for prompt in wayline.genai.search_prompts("name LIKE 'qa%'"):
            print(prompt.name, prompt.latest_version, prompt.aliases)
    """
    return _registry().search(filter_string, max_results, order_by)


def get_prompt(name: str) -> Prompt | None:
    """A prompt's metadata (description, tags, aliases, latest version), or None.

    Example::

        prompt = wayline.genai.get_prompt("qa")
    """
    return _registry().get(name)


def search_prompt_versions(name: str, max_results: int | None = None) -> list[PromptVersion]:
    """A prompt's versions, newest first.

    Example::

        history = [p.commit_message for p in wayline.genai.search_prompt_versions("qa")]
    """
    return _registry().versions(name, max_results)


def set_prompt_alias(name: str, alias: str, version: int | str) -> None:
    """Point an alias at a prompt version (``prompts:/name@alias`` then loads it).

    Example::

        wayline.genai.set_prompt_alias("qa", alias="production", version=2)
    """
    _registry().set_alias(name, alias, version)


def delete_prompt_alias(name: str, alias: str) -> None:
    """Remove an alias from a prompt.

    Example::

        wayline.genai.delete_prompt_alias("qa", "production")
    """
    _registry().delete_alias(name, alias)


def delete_prompt_version(name: str, version: int | str) -> None:
    """Delete one prompt version (its aliases go with it).

    Example::

        wayline.genai.delete_prompt_version("qa", 1)
    """
    _registry().delete_version(name, version)


def delete_prompt(name: str) -> None:
    """Delete a prompt and all its versions.

    Example::

        wayline.genai.delete_prompt("qa")
    """
    _registry().delete(name)


def set_prompt_tag(name: str, key: str, value: Any) -> None:
    """Set a tag on a prompt.

    Example::

        wayline.genai.set_prompt_tag("qa", "owner", "search-team")
    """
    _registry().set_tag(name, key, value)


def delete_prompt_tag(name: str, key: str) -> None:
    """Remove a tag from a prompt.

    Example::

        wayline.genai.delete_prompt_tag("qa", "owner")
    """
    _registry().delete_tag(name, key)


def set_prompt_version_tag(name: str, version: int | str, key: str, value: Any) -> None:
    """Set a tag on one prompt version.

    Example::

        wayline.genai.set_prompt_version_tag("qa", 2, "reviewed", "yes")
    """
    _registry().set_version_tag(name, version, key, value)


def get_prompt_tags(name: str) -> dict[str, str]:
    """A prompt's tags (NotFound if there is no such prompt).

    Example::

        owner = wayline.genai.get_prompt_tags("qa").get("owner")
    """
    prompt = _registry().get(name)
    if prompt is None:
        raise NotFound(f"Prompt with name={name} not found")
    return prompt.tags


def set_prompt_model_config(name: str, version: int | str, model_config: Any) -> None:
    """Set or replace the model config of one prompt version (unlike its template, it may
    change after registration).

    Example::

        wayline.genai.set_prompt_model_config("qa", 2, {"model_name": "gpt-4o", "temperature": 0})
    """
    value = json.dumps(normalize_model_config(model_config))
    _registry().set_version_tag(name, version, MODEL_CONFIG_TAG, value)


def delete_prompt_model_config(name: str, version: int | str) -> None:
    """Remove the model config of one prompt version.

    Example::

        wayline.genai.delete_prompt_model_config("qa", 2)
    """
    _registry().delete_version_tag(name, version, MODEL_CONFIG_TAG)


def delete_prompt_version_tag(name: str, version: int | str, key: str) -> None:
    """Remove a tag from one prompt version.

    Example::

        wayline.genai.delete_prompt_version_tag("qa", 2, "reviewed")
    """
    _registry().delete_version_tag(name, version, key)


__all__ = [
    "delete_prompt",
    "delete_prompt_alias",
    "delete_prompt_model_config",
    "delete_prompt_tag",
    "delete_prompt_version",
    "delete_prompt_version_tag",
    "get_prompt",
    "get_prompt_tags",
    "load_prompt",
    "register_prompt",
    "search_prompt_versions",
    "search_prompts",
    "set_prompt_alias",
    "set_prompt_model_config",
    "set_prompt_tag",
    "set_prompt_version_tag",
]
