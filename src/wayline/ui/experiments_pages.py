"""The experiments page (``/`` and ``/experiments``): search, create, rename, delete.

Writes are plain HTML forms posting to UI endpoints that answer with a redirect (post/redirect/
get), so they work without JavaScript and the back button never re-posts. A refused write
(a taken name, say) renders the page again with the store's message and a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.entities import Experiment, PagedList, ViewType
from wayline.errors import InvalidParameter, WaylineError
from wayline.store.tracking import TrackingStore
from wayline.ui.forms import local_path, read_form, see_other
from wayline.ui.list_state import ListState
from wayline.ui.templating import Pages

EXPERIMENTS_PER_PAGE = 100


@dataclass(frozen=True)
class ExperimentListState(ListState):
    SORTS: ClassVar[Mapping[str, str]] = {
        "name": "name",
        "created": "creation_time",
        "updated": "last_update_time",
    }
    DEFAULT_SORT: ClassVar[str] = "created"
    DEFAULT_DESCENDING: ClassVar[bool] = True

    def filter_string(self) -> str | None:
        if not self.search:
            return None
        # The grammar takes quoted text literally: pick the quote the text does not hold.
        for quote in ("'", '"'):
            if quote not in self.search:
                return f"name ILIKE {quote}%{self.search}%{quote}"
        raise InvalidParameter("A name search cannot hold both ' and \" quotes.")


class ExperimentPages:
    def __init__(self, store: TrackingStore, pages: Pages) -> None:
        self.store = store
        self.pages = pages

    async def list(self, request: Request) -> Response:
        return await self._render(request, ExperimentListState.from_query(request.query_params))

    async def _render(
        self,
        request: Request,
        state: ExperimentListState,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        experiments: PagedList[Experiment] = PagedList()
        try:
            experiments = await run_in_threadpool(
                self.store.search_experiments,
                ViewType.ACTIVE_ONLY,
                EXPERIMENTS_PER_PAGE,
                state.filter_string(),
                state.order_by(),
                state.page_token or None,
            )
        except InvalidParameter as exc:
            error, status = error or exc.message, 400
        context = {
            "title": "Experiments",
            "state": state,
            "experiments": experiments,
            "error": error,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "next_link": state.next_link(experiments.token),
            "previous_link": state.previous_link(),
        }
        return self.pages.render("experiments.html", context, status_code=status)

    async def create(self, request: Request) -> Response:
        form = await read_form(request)
        try:
            experiment_id = await run_in_threadpool(
                self.store.create_experiment, form.required("name")
            )
        except WaylineError as exc:
            return await self._refused(request, exc)
        return see_other(f"/experiments/{experiment_id}")

    async def rename(self, request: Request) -> Response:
        form = await read_form(request)
        experiment_id = request.path_params["experiment_id"]
        try:
            await run_in_threadpool(
                self.store.rename_experiment, experiment_id, form.required("name")
            )
        except WaylineError as exc:
            return await self._refused(request, exc)
        return see_other(local_path(form.get("return_to"), "/experiments"))

    async def delete(self, request: Request) -> Response:
        form = await read_form(request)
        experiment_id = request.path_params["experiment_id"]
        try:
            await run_in_threadpool(self.store.delete_experiment, experiment_id)
        except WaylineError as exc:
            return await self._refused(request, exc)
        return see_other(local_path(form.get("return_to"), "/experiments"))

    async def _refused(self, request: Request, error: WaylineError) -> Response:
        return await self._render(
            request, ExperimentListState.from_query({}), error.message, error.http_status
        )


__all__ = ["ExperimentListState", "ExperimentPages"]
