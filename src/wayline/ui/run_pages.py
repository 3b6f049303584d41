"""An experiment's runs table (``/experiments/<id>``) and a run's page
(``/experiments/<id>/runs/<run_id>``).

The table page makes two store calls, the experiment and one ``search_runs`` page; a bad filter
is shown inline with the parser's message instead of failing the page. The run page reads the
run, its parent (for its name), one search for its children and one for its logged models; its
charts fetch each metric's downsampled history from ``metric-data`` (``metric_charts``).

A run's tags and description are edited with plain form posts answered by a redirect back to
the run (post/redirect/get); ``SecurityMiddleware`` refuses such a post from another site.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wayline.entities import DatasetInput, LoggedModel, PagedList, Run, RunTag, ViewType
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.store.tracking import TrackingStore
from wayline.ui.forms import local_path, read_form, see_other
from wayline.ui.metric_charts import (
    SYSTEM_PREFIX,
    X_AXES,
    ChartState,
    metric_series,
    parse_points,
    series_url,
    split_system_metrics,
)
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
MAX_MODELS_SHOWN = 50
# Charts whose series the page preloads: those on screen first (the rest load as they scroll in).
PRELOADED_CHARTS = 4
DESCRIPTION_TAG = "mlflow.note.content"
DATASET_CONTEXT_TAG = "mlflow.data.context"
MODEL_HISTORY_TAG = "mlflow.log-model.history"


class RunPages:
    def __init__(self, store: TrackingStore, pages: Pages, plotly_url: str = "") -> None:
        self.store = store
        self.pages = pages
        self.plotly_url = plotly_url  # where the run page's charts load Plotly from

    def run_routes(self) -> list[tuple[str, Any, str]]:
        """The run page's own endpoints beside the page itself: chart data and edit forms."""
        run = "/experiments/{experiment_id}/runs/{run_id}"
        return [
            (f"{run}/metric-data", self.metric_data, "GET"),
            (f"{run}/tags/set", self.set_tag, "POST"),
            (f"{run}/tags/delete", self.delete_tag, "POST"),
            (f"{run}/description", self.set_description, "POST"),
        ]

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
            query = f"?{request.url.query}" if request.url.query else ""
            return see_other(f"/experiments/{run.info.experiment_id}/runs/{run_id}{query}")
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
        models = await run_in_threadpool(self._logged_models, run)
        description = tags.get(DESCRIPTION_TAG, "")
        metrics = sorted(run.data.latest_metrics, key=lambda m: m.key)
        chart_keys, system_keys = split_system_metrics([m.key for m in metrics])
        state = ChartState.from_query(request.query_params, request.query_params.getlist("m"))
        here = f"/experiments/{experiment_id}/runs/{run_id}"
        series_urls = {key: series_url(here, key) for key in chart_keys + system_keys}
        shown = [key for key in chart_keys if state.shows(key)] + system_keys
        context = {
            "title": run.info.run_name or run_id,
            "experiment": experiment,
            "run": run,
            "here": here,
            "plotly_url": self.plotly_url,
            "tags": sorted((k, v) for k, v in tags.items() if not k.startswith("mlflow.")),
            "system_tags": sorted((k, v) for k, v in tags.items() if k.startswith("mlflow.")),
            "params": sorted(run.data.params.items()),
            "metrics": [m for m in metrics if not m.key.startswith(SYSTEM_PREFIX)],
            "system_metrics": [m for m in metrics if m.key.startswith(SYSTEM_PREFIX)],
            "chart_keys": chart_keys,
            "system_keys": system_keys,
            "chart": state,
            "series_urls": series_urls,
            "preload_keys": shown[:PRELOADED_CHARTS],
            "x_axes": X_AXES,
            "datasets": [dataset_row(item) for item in run.inputs.dataset_inputs],
            "models": models,
            "history_models": model_history(tags.get(MODEL_HISTORY_TAG)),
            "parent": parent,
            "parent_id": parent_id,
            "children": children,
            "more_children": children.token is not None,
            "description": render_markdown(description) if description else None,
            "description_source": description,
        }
        return self.pages.render("run.html", context)

    def _logged_models(self, run: Run) -> list[LoggedModel]:
        """The logged models this run produced: those naming it as their source, then those
        its outputs list (at most ``MAX_MODELS_SHOWN``)."""
        run_id = run.info.run_id
        found = self.store.search_logged_models(
            [run.info.experiment_id], f"source_run_id = '{run_id}'", None, MAX_MODELS_SHOWN
        )
        models = list(found)
        known = {model.model_id for model in models}
        for output in run.outputs.model_outputs:
            if len(models) >= MAX_MODELS_SHOWN:
                break
            if output.model_id in known:
                continue
            known.add(output.model_id)
            try:
                models.append(self.store.get_logged_model(output.model_id))
            except NotFound:
                continue  # deleted since: the run's output record outlives it
        return models

    async def metric_data(self, request: Request) -> Response:
        """``GET …/runs/<run_id>/metric-data?key=K&points=N``: one metric's chart series as
        JSON (errors as the API's JSON error body, since a script reads them)."""
        try:
            run_id, key, points = await self._series_request(request)
            series = await run_in_threadpool(metric_series, self.store, run_id, key, points)
        except WaylineError as exc:
            body = {"error_code": exc.error_code, "message": exc.message}
            return Response(orjson.dumps(body), exc.http_status, media_type="application/json")
        return Response(
            orjson.dumps(series),
            media_type="application/json",
            headers={"cache-control": "no-store"},
        )

    async def _series_request(self, request: Request) -> tuple[str, str, int]:
        run = await self._run_of(request)
        key = request.query_params.get("key", "")
        if not key:
            raise InvalidParameter("The query parameter 'key' names the metric to chart.")
        return run.info.run_id, key, parse_points(request.query_params.get("points"))

    async def _run_of(self, request: Request) -> Run:
        """The run of the URL, which must belong to the URL's experiment."""
        experiment_id = request.path_params["experiment_id"]
        run_id = request.path_params["run_id"]
        run = await run_in_threadpool(self.store.get_run, run_id)
        if run.info.experiment_id != experiment_id:
            raise NotFound(f"Run {run_id!r} is not in experiment {experiment_id!r}.")
        return run

    async def set_tag(self, request: Request) -> Response:
        """Add a tag, or change a tag's value."""
        run = await self._run_of(request)
        form = await read_form(request)
        tag = RunTag(form.required("key"), form.get("value"))
        await run_in_threadpool(self.store.set_tag, run.info.run_id, tag)
        return see_other(self._run_path(run) + "#tags-heading")

    async def delete_tag(self, request: Request) -> Response:
        run = await self._run_of(request)
        form = await read_form(request)
        await run_in_threadpool(self.store.delete_tag, run.info.run_id, form.required("key"))
        return see_other(self._run_path(run) + "#tags-heading")

    async def set_description(self, request: Request) -> Response:
        """Set the run's Markdown description (``mlflow.note.content``); empty removes it."""
        run = await self._run_of(request)
        form = await read_form(request)
        text = form.get("description")
        run_id = run.info.run_id
        if text.strip():
            await run_in_threadpool(self.store.set_tag, run_id, RunTag(DESCRIPTION_TAG, text))
        elif DESCRIPTION_TAG in run.data.tags:
            await run_in_threadpool(self.store.delete_tag, run_id, DESCRIPTION_TAG)
        return see_other(self._run_path(run) + "#description-heading")

    @staticmethod
    def _run_path(run: Run) -> str:
        return f"/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"

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


def dataset_row(item: DatasetInput) -> dict[str, str]:
    """A run input as the datasets table shows it; the context is the ``mlflow.data.context``
    input tag (``training``, ``eval``…)."""
    dataset = item.dataset
    context = next((t.value for t in item.tags if t.key == DATASET_CONTEXT_TAG), "")
    return {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
        "context": context,
    }


def model_history(raw: str | None) -> list[dict[str, str]]:
    """The MLflow 2 models of ``mlflow.log-model.history`` (artifact path, flavors, time);
    an unreadable tag lists nothing rather than failing the page."""
    if not raw:
        return []
    try:
        entries = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(entries, list):
        return []
    rows = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        flavors = entry.get("flavors")
        rows.append(
            {
                "artifact_path": str(entry.get("artifact_path", "")),
                "flavors": ", ".join(sorted(flavors)) if isinstance(flavors, dict) else "",
                "created": str(entry.get("utc_time_created", "")),
            }
        )
    return rows


__all__ = ["RunPages"]
