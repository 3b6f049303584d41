"""An experiment's runs table (``/experiments/<id>``) and a run's page
(``/experiments/<id>/runs/<run_id>``).

The table page makes two store calls, the experiment and one ``search_runs`` page; a bad filter
is shown inline with the parser's message instead of failing the page. The run page makes three:
the run, its parent (for its name) and one search for its children.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.entities import PagedList, Run, ViewType
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.store.tracking import TrackingStore
from wayline.ui.forms import local_path, read_form, see_other
from wayline.ui.runs_table import (
    ATTRIBUTE_COLUMNS,
    PAGE_SIZES,
    PARENT_TAG,
    TableState,
    available_columns,
    cell_value,
    nest,
    visible_columns,
)
from wayline.ui.templating import Pages, render_markdown

MAX_CHILDREN_SHOWN = 100
DESCRIPTION_TAG = "mlflow.note.content"


class RunPages:
    def __init__(self, store: TrackingStore, pages: Pages) -> None:
        self.store = store
        self.pages = pages

    async def table(self, request: Request) -> Response:
        experiment_id = request.path_params["experiment_id"]
        experiment = await run_in_threadpool(self.store.get_experiment, experiment_id)
        state = TableState.from_query(request.query_params, request.query_params.getlist("c"))
        runs: PagedList[Run] = PagedList()
        error = None
        try:
            runs = await run_in_threadpool(
                self.store.search_runs,
                [experiment_id],
                state.filter or None,
                state.view_type,
                state.page_size,
                state.order_by(),
                state.page_token or None,
            )
        except InvalidParameter as exc:
            error = exc.message
        available = available_columns(runs, state.columns or ())
        columns = visible_columns(state, available)
        rows = nest(runs)
        for row in rows:
            row.values = {column.id: cell_value(row.run, column) for column in columns}
        context: dict[str, Any] = {
            "title": experiment.name,
            "experiment": experiment,
            "state": state,
            "rows": rows,
            "columns": columns,
            "attribute_columns": ATTRIBUTE_COLUMNS,
            "available": available,
            "chosen": set(state.columns) if state.columns is not None else {c.id for c in columns},
            "page_sizes": PAGE_SIZES,
            "error": error,
            "next_link": state.next_page(runs.token) if runs.token else None,
            "previous_link": state.previous_page(),
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        }
        return self.pages.render("runs.html", context, status_code=400 if error else 200)

    async def run(self, request: Request) -> Response:
        experiment_id = request.path_params["experiment_id"]
        run_id = request.path_params["run_id"]
        run = await run_in_threadpool(self.store.get_run, run_id)
        if run.info.experiment_id != experiment_id:
            return see_other(f"/experiments/{run.info.experiment_id}/runs/{run_id}")
        experiment = await run_in_threadpool(self.store.get_experiment, experiment_id)
        tags = run.data.tags
        parent = None
        if parent_id := tags.get(PARENT_TAG):
            try:
                parent = await run_in_threadpool(self.store.get_run, parent_id)
            except NotFound:
                parent = None
        children = await run_in_threadpool(
            self.store.search_runs,
            [experiment_id],
            f"tags.`{PARENT_TAG}` = '{run_id}'",
            ViewType.ACTIVE_ONLY,
            MAX_CHILDREN_SHOWN,
        )
        description = tags.get(DESCRIPTION_TAG, "")
        context = {
            "title": run.info.run_name or run_id,
            "experiment": experiment,
            "run": run,
            "tags": sorted((k, v) for k, v in tags.items() if not k.startswith("mlflow.")),
            "system_tags": sorted((k, v) for k, v in tags.items() if k.startswith("mlflow.")),
            "params": sorted(run.data.params.items()),
            "metrics": sorted(run.data.latest_metrics, key=lambda m: m.key),
            "parent": parent,
            "parent_id": parent_id,
            "children": children,
            "more_children": children.token is not None,
            "description": render_markdown(description) if description else None,
        }
        return self.pages.render("run.html", context)

    async def delete_runs(self, request: Request) -> Response:
        return await self._apply(request, self.store.delete_run)

    async def restore_runs(self, request: Request) -> Response:
        return await self._apply(request, self.store.restore_run)

    async def _apply(self, request: Request, action: Any) -> Response:
        form = await read_form(request)
        experiment_id = request.path_params["experiment_id"]
        run_ids = form.all("run_id")
        if not run_ids:
            raise InvalidParameter("Select at least one run.")

        def apply_all() -> None:
            for run_id in run_ids:
                run = self.store.get_run(run_id)
                if run.info.experiment_id != experiment_id:
                    raise WaylineError(
                        f"Run {run_id!r} is not in experiment {experiment_id!r}.",
                        "INVALID_PARAMETER_VALUE",
                    )
                action(run_id)

        await run_in_threadpool(apply_all)
        return see_other(local_path(form.get("return_to"), f"/experiments/{experiment_id}"))


__all__ = ["RunPages"]
