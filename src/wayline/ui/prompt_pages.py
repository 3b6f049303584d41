"""The prompt registry's pages: the list (``/prompts``), a prompt with its versions
(``/prompts/<name>``) and a line diff of two versions (``/prompts/<name>/diff?a=1&b=3``).

Prompts are read and changed through ``wayline.genai.PromptRegistry``, which owns their storage
format (registered models tagged as prompts, templates in version tags); only the list page asks
the store directly, because it pages with the store's tokens. A chat template is shown message by
message; the diff compares templates line by line (``difflib`` on the server), each line escaped
like every other value.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.entities.prompt import Prompt, PromptVersion
from wayline.entities.registry import PROMPT_TAG
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.genai.registry import PromptRegistry
from wayline.store.backend import Store
from wayline.ui.forms import Form, local_path, read_form, see_other
from wayline.ui.model_pages import ModelListState, search_page
from wayline.ui.templating import Pages, render_markdown

PROMPTS_PER_PAGE = 50
MAX_VERSIONS_SHOWN = 200
IS_PROMPT = f"tags.`{PROMPT_TAG}` = 'true'"
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a diff: ``kind`` is ``same``, ``added`` or ``removed``; ``old``/``new`` are
    its line numbers in each version (None on the side that lacks it)."""

    kind: str
    old: int | None
    new: int | None
    text: str


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)


def messages(version: PromptVersion) -> list[Message]:
    """A chat template's messages, each content as text (structured content as JSON)."""
    if isinstance(version.template, str):
        return []
    return [Message(str(m.get("role", "")), _text(m.get("content", ""))) for m in version.template]


def template_text(version: PromptVersion) -> str:
    """The template as the diff compares it: text as stored; a chat template as a ``[role]``
    line before each message's content."""
    if isinstance(version.template, str):
        return version.template
    return "\n".join(f"[{m.role}]\n{m.content}" for m in messages(version))


def line_diff(old: str, new: str) -> list[DiffLine]:
    """Every line of ``old`` and ``new`` in order, marked same, removed or added."""
    before, after = old.splitlines(), new.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [
                DiffLine("same", i + 1, j + 1, before[i])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            ]
            continue
        lines += [DiffLine("removed", i + 1, None, before[i]) for i in range(i1, i2)]
        lines += [DiffLine("added", None, j + 1, after[j]) for j in range(j1, j2)]
    return lines


def prompt_url(name: str) -> str:
    return "/prompts/" + quote(name, safe="")


class PromptPages:
    """The prompt pages and their alias forms over one store (see ``routes``)."""

    def __init__(self, store: Store, pages: Pages) -> None:
        self.store = store
        self.registry = PromptRegistry(store)
        self.pages = pages

    def routes(self) -> list[tuple[str, Endpoint, str]]:
        prompt = "/prompts/{name}"
        return [
            ("/prompts", self.list, "GET"),
            (prompt, self.prompt, "GET"),
            (prompt + "/diff", self.diff, "GET"),
            (prompt + "/aliases/set", self.set_alias, "POST"),
            (prompt + "/aliases/delete", self.delete_alias, "POST"),
        ]

    # ------------------------------------------------------------------ the list
    async def list(self, request: Request) -> Response:
        state = ModelListState.from_query(request.query_params)
        found, error = await search_page(self.store, state, IS_PROMPT, PROMPTS_PER_PAGE)
        context = {
            "title": "Prompts",
            "state": state,
            "prompts": [Prompt.from_registered_model(model) for model in found],
            "error": error,
            "next_link": state.next_link(found.token),
            "previous_link": state.previous_link(),
            "prompt_url": prompt_url,
        }
        return self.pages.render("prompts.html", context, status_code=400 if error else 200)

    # ------------------------------------------------------------------ a prompt
    async def prompt(self, request: Request) -> Response:
        return await self._prompt_page(request)

    def _require(self, name: str) -> Prompt:
        prompt = self.registry.get(name)
        if prompt is None:
            raise NotFound(f"Prompt with name={name} not found")
        return prompt

    async def _prompt_page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Response:
        name = request.path_params["name"]
        wanted = request.query_params.get("version", "")

        def load() -> tuple[Prompt, list[PromptVersion]]:
            return self._require(name), self.registry.versions(name, MAX_VERSIONS_SHOWN)

        prompt, versions = await run_in_threadpool(load)
        shown = versions[0] if versions else None
        if wanted:
            shown = next((v for v in versions if str(v.version) == wanted), None)
            if shown is None:
                raise NotFound(
                    f"Prompt {name!r} has no version {wanted!r} (among the newest shown)."
                )
        older = [v for v in versions if shown is not None and v.version < shown.version]
        base = prompt_url(name)
        context = {
            "title": prompt.name,
            "prompt": prompt,
            "url": base,
            "versions": versions,
            "more_versions": len(versions) >= MAX_VERSIONS_SHOWN,
            "shown": shown,
            "messages": messages(shown) if shown else [],
            "description": render_markdown(prompt.description) if prompt.description else None,
            "tags": sorted(prompt.tags.items()),
            "aliases": sorted(prompt.aliases.items()),
            "diff_a": older[0].version if older else (shown.version if shown else ""),
            "diff_b": shown.version if shown else "",
            "error": error,
            "here": (base + (f"?{request.url.query}" if request.url.query else ""))
            if request.method == "GET"
            else base,
        }
        return self.pages.render("prompt.html", context, status_code=status)

    # ------------------------------------------------------------------ the diff
    async def diff(self, request: Request) -> Response:
        name = request.path_params["name"]
        query = request.query_params
        if not query.get("a") or not query.get("b"):
            raise InvalidParameter("Name the two versions to compare: ?a=1&b=2.")

        def load() -> tuple[Prompt, PromptVersion, PromptVersion, list[PromptVersion]]:
            prompt = self._require(name)
            old = self.registry.load(name, query["a"])
            new = self.registry.load(name, query["b"])
            assert old is not None and new is not None  # allow_missing is off: NotFound instead
            return prompt, old, new, self.registry.versions(name, MAX_VERSIONS_SHOWN)

        prompt, old, new, versions = await run_in_threadpool(load)
        lines = line_diff(template_text(old), template_text(new))
        swapped = urlencode({"a": new.version, "b": old.version})
        context = {
            "title": f"{prompt.name}: v{old.version} → v{new.version}",
            "prompt": prompt,
            "url": prompt_url(name),
            "old": old,
            "new": new,
            "versions": versions,
            "lines": lines,
            "added": sum(line.kind == "added" for line in lines),
            "removed": sum(line.kind == "removed" for line in lines),
            "swap_link": f"{prompt_url(name)}/diff?{swapped}",
        }
        return self.pages.render("prompt_diff.html", context)

    # ------------------------------------------------------------------ alias forms
    async def set_alias(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, form: self.registry.set_alias(
                name, form.required("alias"), form.required("version")
            ),
        )

    async def delete_alias(self, request: Request) -> Response:
        return await self._act(
            request, lambda name, form: self.registry.delete_alias(name, form.required("alias"))
        )

    async def _act(self, request: Request, action: Callable[[str, Form], None]) -> Response:
        form = await read_form(request)
        name = request.path_params["name"]
        try:
            await run_in_threadpool(action, name, form)
        except WaylineError as exc:
            return await self._prompt_page(request, exc.message, exc.http_status)
        return see_other(local_path(form.get("return_to"), prompt_url(name)))


__all__ = ["DiffLine", "PromptPages", "line_diff", "messages", "prompt_url", "template_text"]
