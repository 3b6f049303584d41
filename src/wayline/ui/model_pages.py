"""The model registry's pages: the list (``/models``), a model (``/models/<name>``) and a version
(``/models/<name>/versions/<version>``), with the forms that change them.

Prompts are registered models too; every search here adds the registry's "not a prompt" clause,
so they stay on their own pages (``prompt_pages``). Writes are HTML forms posting to endpoints
that answer with a redirect (post/redirect/get); a refused write renders the page again with the
store's message and status. The audit trail shown is the store's own (``get_registry_history``):
every change, who made it and what it changed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.artifacts.repository import ArtifactRepository
from wayline.entities import PagedList, Run
from wayline.entities.logged_model import LoggedModel
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    RegistryChange,
    Stage,
)
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.server.settings import ServerSettings
from wayline.store.backend import Store
from wayline.ui.forms import Form, local_path, read_form, see_other
from wayline.ui.list_state import ListState
from wayline.ui.model_files import VersionFiles, proxy_destination, version_files
from wayline.ui.templating import Pages, render_markdown

MODELS_PER_PAGE = 50
VERSIONS_PER_PAGE = 50
HISTORY_PER_PAGE = 50
# The version page picks its own changes out of the model's newest ones.
VERSION_HISTORY_SCAN = 500
NOT_A_PROMPT = f"tags.`{PROMPT_TAG}` != 'true'"
STAGES = [stage.value for stage in Stage]
# A search that starts like a clause of the registry's grammar (``name LIKE 'a%'``,
# ``tags.team = 'x'``) is passed on as a filter; anything else is a part of a name.
_FILTER_START = re.compile(
    r"^\s*(?:name|tags?\.\S+?)\s*(?:=|!=|\b(?:NOT\s+)?(?:I?LIKE|IN)\b)", re.IGNORECASE
)
Endpoint = Callable[[Request], Awaitable[Response]]


def quoted(value: str) -> str:
    """``value`` as a literal of the filter grammar, which has no escapes: the quote it lacks."""
    for quote_char in ("'", '"'):
        if quote_char not in value:
            return f"{quote_char}{value}{quote_char}"
    raise InvalidParameter(
        f"The text {value!r} holds both quote characters and cannot be searched."
    )


def name_filter(search: str) -> str | None:
    """The registry filter a search box's text stands for (module doc), None for no text."""
    if not search:
        return None
    if _FILTER_START.match(search):
        return search
    return f"name ILIKE {quoted('%' + search + '%')}"


@dataclass(frozen=True)
class ModelListState(ListState):
    """The models and prompts lists' query string: ``q``, ``sort``/``dir`` and the page
    tokens."""

    SORTS: ClassVar[Mapping[str, str]] = {"name": "name", "updated": "last_updated_timestamp"}


def model_url(name: str) -> str:
    return "/models/" + quote(name, safe="")


async def search_page(
    store: Store, state: ModelListState, kind: str, per_page: int
) -> tuple[PagedList[RegisteredModel], str | None]:
    """One page of the registered models matching ``kind`` (the clause that tells models from
    prompts) and the list's search; a bad search comes back as the message to show."""
    try:
        user_filter = name_filter(state.search)
        clause = f"{kind} AND {user_filter}" if user_filter else kind
        found = await run_in_threadpool(
            store.search_registered_models,
            clause,
            per_page,
            state.order_by(),
            state.page_token or None,
        )
    except InvalidParameter as exc:
        return PagedList(), exc.message
    return found, None


def version_url(name: str, version: str) -> str:
    return f"{model_url(name)}/versions/{quote(version, safe='')}"


def _compact(values: Mapping[str, Any]) -> str:
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str) if values else ""
    return text if len(text) <= 400 else text[:400] + "…"


def change_rows(changes: Iterable[RegistryChange]) -> list[dict[str, Any]]:
    """Audit entries as the history table shows them (before/after as compact JSON text)."""
    return [
        {
            "timestamp": change.timestamp,
            "user": change.user,
            "action": change.action,
            "version": change.version,
            "before": _compact(change.before),
            "after": _compact(change.after),
        }
        for change in changes
    ]


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


class ModelPages:
    """The registry's pages and form endpoints over one store (see ``routes``)."""

    def __init__(self, store: Store, pages: Pages, settings: ServerSettings) -> None:
        self.store = store
        self.pages = pages
        self._settings = settings
        self._proxy: list[ArtifactRepository | None] = []  # built on first use, then kept

    def routes(self) -> list[tuple[str, Endpoint, str]]:
        model = "/models/{name}"
        version = model + "/versions/{version}"
        return [
            ("/models", self.list, "GET"),
            (model, self.model, "GET"),
            (model + "/description", self.update_description, "POST"),
            (model + "/tags/set", self.set_tag, "POST"),
            (model + "/tags/delete", self.delete_tag, "POST"),
            (model + "/aliases/set", self.set_alias, "POST"),
            (model + "/aliases/delete", self.delete_alias, "POST"),
            (version, self.version, "GET"),
            (version + "/description", self.update_version_description, "POST"),
            (version + "/stage", self.transition_stage, "POST"),
            (version + "/tags/set", self.set_version_tag, "POST"),
            (version + "/tags/delete", self.delete_version_tag, "POST"),
        ]

    # ------------------------------------------------------------------ the list
    async def list(self, request: Request) -> Response:
        state = ModelListState.from_query(request.query_params)
        models, error = await search_page(self.store, state, NOT_A_PROMPT, MODELS_PER_PAGE)
        rows = [
            {
                "model": model,
                "latest": max((int(v.version) for v in model.latest_versions), default=None),
                "stages": sorted(
                    {v.current_stage for v in model.latest_versions} - {Stage.NONE.value}
                ),
            }
            for model in models
        ]
        context = {
            "title": "Models",
            "state": state,
            "rows": rows,
            "error": error,
            "next_link": state.next_link(models.token),
            "previous_link": state.previous_link(),
            "model_url": model_url,
        }
        return self.pages.render("models.html", context, status_code=400 if error else 200)

    # ------------------------------------------------------------------ a model
    async def model(self, request: Request) -> Response:
        return await self._model_page(request)

    async def _model_page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Response:
        name = request.path_params["name"]
        query = request.query_params
        versions_token = query.get("versions_token") or None
        history_token = query.get("history_token") or None

        def load() -> dict[str, Any]:
            model = self.store.get_registered_model(name)
            if model.is_prompt:
                raise NotFound(f"{name!r} is a prompt: see /prompts/{name}")
            versions = self.store.search_model_versions(
                f"name = {quoted(name)}",
                VERSIONS_PER_PAGE,
                ["version_number DESC"],
                versions_token,
            )
            history = self.store.get_registry_history(name, HISTORY_PER_PAGE, history_token)
            runs = self._runs(v.run_id for v in versions)
            return {"model": model, "versions": versions, "history": history, "runs": runs}

        loaded = await run_in_threadpool(load)
        model: RegisteredModel = loaded["model"]
        versions: PagedList[ModelVersion] = loaded["versions"]
        history: PagedList[RegistryChange] = loaded["history"]
        base = model_url(name)
        context = {
            "title": model.name,
            "model": model,
            "url": base,
            "description": render_markdown(model.description) if model.description else None,
            "tags": sorted(model.tags.items()),
            "aliases": sorted(model.aliases.items()),
            "versions": versions,
            "runs": loaded["runs"],
            "history": change_rows(history),
            "versions_next": _page_link(base, "versions_token", versions.token),
            "versions_first": base if versions_token else None,
            "history_next": _page_link(base, "history_token", history.token, "history"),
            "history_first": f"{base}#history" if history_token else None,
            "version_url": version_url,
            "error": error,
            "here": _here(request) if request.method == "GET" else base,
        }
        return self.pages.render("model.html", context, status_code=status)

    def _runs(self, run_ids: Iterable[str]) -> dict[str, Run]:
        """The source runs that still exist, by id (a deleted one is shown by its id only)."""
        found: dict[str, Run] = {}
        for run_id in {r for r in run_ids if r}:
            try:
                found[run_id] = self.store.get_run(run_id)
            except NotFound:
                continue
        return found

    # ------------------------------------------------------------------ a version
    async def version(self, request: Request) -> Response:
        return await self._version_page(request)

    async def _version_page(
        self, request: Request, error: str | None = None, status: int = 200
    ) -> Response:
        name = request.path_params["name"]
        number = request.path_params["version"]

        def load() -> dict[str, Any]:
            mv = self.store.get_model_version(name, number)
            if mv.is_prompt:
                raise NotFound(f"{name!r} is a prompt: see /prompts/{name}")
            model = self.store.get_registered_model(name)
            runs = self._runs([mv.run_id])
            run = runs.get(mv.run_id)
            experiment = self.store.get_experiment(run.info.experiment_id) if run else None
            logged: LoggedModel | None = None
            if mv.model_id:
                try:
                    logged = self.store.get_logged_model(mv.model_id)
                except NotFound:
                    logged = None
            history = self.store.get_registry_history(name, VERSION_HISTORY_SCAN)
            files: VersionFiles | None = None
            files_error = None
            try:
                files = version_files(self.store, name, mv.version, self._destination())
            except (WaylineError, OSError) as exc:
                files_error = exc.message if isinstance(exc, WaylineError) else str(exc)
            return {
                "mv": mv,
                "model": model,
                "run": run,
                "experiment": experiment,
                "logged": logged,
                "history": [c for c in history if c.version == mv.version],
                "files": files,
                "files_error": files_error,
            }

        loaded = await run_in_threadpool(load)
        mv: ModelVersion = loaded["mv"]
        url = version_url(mv.name, mv.version)
        context = {
            **loaded,
            "title": f"{mv.name} v{mv.version}",
            "url": url,
            "model_url": model_url(mv.name),
            "description": render_markdown(mv.description) if mv.description else None,
            "tags": sorted(mv.tags.items()),
            "history": change_rows(loaded["history"]),
            "stages": STAGES,
            "error": error,
            "here": _here(request) if request.method == "GET" else url,
        }
        return self.pages.render("model_version.html", context, status_code=status)

    def _destination(self) -> ArtifactRepository | None:
        if not self._proxy:
            self._proxy.append(proxy_destination(self._settings))
        return self._proxy[0]

    # ------------------------------------------------------------------ model forms
    async def update_description(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, _, form: self.store.update_registered_model(name, form.get("description")),
        )

    async def set_tag(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, _, form: self.store.set_registered_model_tag(
                name, RegisteredModelTag(form.required("key"), form.get("value"))
            ),
        )

    async def delete_tag(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, _, form: self.store.delete_registered_model_tag(
                name, form.required("key")
            ),
        )

    async def set_alias(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, _, form: self.store.set_registered_model_alias(
                name, form.required("alias"), form.required("version")
            ),
        )

    async def delete_alias(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, _, form: self.store.delete_registered_model_alias(
                name, form.required("alias")
            ),
        )

    # ------------------------------------------------------------------ version forms
    async def update_version_description(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, version, form: self.store.update_model_version(
                name, version, form.get("description")
            ),
        )

    async def transition_stage(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, version, form: self.store.transition_model_version_stage(
                name, version, form.required("stage"), form.get("archive_existing") == "on"
            ),
        )

    async def set_version_tag(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, version, form: self.store.set_model_version_tag(
                name, version, ModelVersionTag(form.required("key"), form.get("value"))
            ),
        )

    async def delete_version_tag(self, request: Request) -> Response:
        return await self._act(
            request,
            lambda name, version, form: self.store.delete_model_version_tag(
                name, version, form.required("key")
            ),
        )

    async def _act(self, request: Request, action: Callable[[str, str, Form], object]) -> Response:
        """Apply one form's change, then send the browser back where it came from; a refused
        change shows the page again with the store's message."""
        form = await read_form(request)
        name = request.path_params["name"]
        version = request.path_params.get("version", "")

        def apply() -> None:
            model = self.store.get_registered_model(name)
            if model.is_prompt:  # prompts change through their own page and rules
                raise InvalidParameter(f"{name!r} is a prompt: change it on /prompts/{name}.")
            action(name, version, form)

        fallback = version_url(name, version) if version else model_url(name)
        try:
            await run_in_threadpool(apply)
        except WaylineError as exc:
            if version:
                return await self._version_page(request, exc.message, exc.http_status)
            return await self._model_page(request, exc.message, exc.http_status)
        return see_other(local_path(form.get("return_to"), fallback))


def _page_link(base: str, key: str, token: str | None, anchor: str = "") -> str | None:
    if not token:
        return None
    return f"{base}?{urlencode({key: token})}" + (f"#{anchor}" if anchor else "")


__all__ = ["ModelListState", "ModelPages", "change_rows", "model_url", "name_filter", "version_url"]
