"""The prompt part of ``Client`` (MlflowClient's prompt methods), over ``genai.PromptRegistry``.

The fluent ``wayline.genai`` functions also link what they touch to the active run, experiment
and model; these methods do only what they say, on the client's registry store. The registry is
built on first use, so a client that never touches prompts never imports ``wayline.genai``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wayline.entities import PagedList
from wayline.store.tracking import TrackingStore

if TYPE_CHECKING:
    from wayline.entities.prompt import Prompt, PromptVersion, Template
    from wayline.genai.registry import PromptRegistry


class PromptsClient:
    _registry_store: TrackingStore

    @property
    def _prompts(self) -> PromptRegistry:
        from wayline.genai.registry import PromptRegistry

        return PromptRegistry(self._registry_store)

    def register_prompt(
        self,
        name: str,
        template: Template,
        commit_message: str | None = None,
        tags: Mapping[str, Any] | None = None,
        response_format: Any = None,
        model_config: Any = None,
    ) -> PromptVersion:
        """A new version of prompt ``name`` (created if needed); ``{{var}}`` placeholders, a text
        template or a list of ``{"role", "content"}`` messages.

        Example::

            client.register_prompt("qa", "Answer {{question}}.", commit_message="first")
        """
        return self._prompts.register(
            name, template, commit_message, tags, response_format, model_config
        )

    def load_prompt(
        self, name_or_uri: str, version: str | int | None = None, allow_missing: bool = False
    ) -> PromptVersion | None:
        """``prompts:/name/3``, ``prompts:/name@alias`` (``@latest`` too), or a name + version.

        Example::

            client.load_prompt("prompts:/qa@production").format(question="Why?")
        """
        return self._prompts.load(name_or_uri, version, allow_missing)

    def get_prompt(self, name: str) -> Prompt | None:
        """The prompt (its tags, aliases, latest version), or None.

        Example::

            client.get_prompt("qa")
        """
        return self._prompts.get(name)

    def search_prompts(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[str] | None = None,
    ) -> PagedList[Prompt]:
        """Prompts matching a registry filter; all of them unless ``max_results``.

        Example::

            client.search_prompts("name LIKE 'qa%'")
        """
        return self._prompts.search(filter_string, max_results, order_by)

    def search_prompt_versions(
        self, name: str, max_results: int | None = None
    ) -> list[PromptVersion]:
        """The versions of one prompt, newest first.

        Example::

            client.search_prompt_versions("qa")
        """
        return self._prompts.versions(name, max_results)

    def set_prompt_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``alias`` at a version (moving it if it exists).

        Example::

            client.set_prompt_alias("qa", "production", 1)
        """
        self._prompts.set_alias(name, alias, version)

    def delete_prompt_alias(self, name: str, alias: str) -> None:
        """Remove an alias.

        Example::

            client.delete_prompt_alias("qa", "production")
        """
        self._prompts.delete_alias(name, alias)

    def set_prompt_tag(self, name: str, key: str, value: Any) -> None:
        """Set a tag on the prompt.

        Example::

            client.set_prompt_tag("qa", "team", "search")
        """
        self._prompts.set_tag(name, key, value)

    def delete_prompt_tag(self, name: str, key: str) -> None:
        """Remove a tag from the prompt.

        Example::

            client.delete_prompt_tag("qa", "team")
        """
        self._prompts.delete_tag(name, key)

    def set_prompt_version_tag(self, name: str, version: str | int, key: str, value: Any) -> None:
        """Set a tag on one version.

        Example::

            client.set_prompt_version_tag("qa", 1, "reviewed", "yes")
        """
        self._prompts.set_version_tag(name, version, key, value)

    def delete_prompt_version_tag(self, name: str, version: str | int, key: str) -> None:
        """Remove a tag from one version.

        Example::

            client.delete_prompt_version_tag("qa", 1, "reviewed")
        """
        self._prompts.delete_version_tag(name, version, key)

    def delete_prompt_version(self, name: str, version: str | int) -> None:
        """Delete one version (and the aliases pointing at it).

        Example::

            client.delete_prompt_version("qa", 2)
        """
        self._prompts.delete_version(name, version)

    def delete_prompt(self, name: str) -> None:
        """Delete the prompt with all its versions, tags and aliases.

        Example::

            client.delete_prompt("qa")
        """
        self._prompts.delete(name)

    def link_prompt_versions_to_run(self, run_id: str, prompts: Sequence[PromptVersion]) -> None:
        """Record the versions in the run's ``mlflow.linkedPrompts`` tag (no duplicates).

        Example::

            client.link_prompt_versions_to_run(run_id, [client.load_prompt("qa", 1)])
        """
        self._prompts.link_to_run(run_id, prompts)


__all__ = ["PromptsClient"]
