"""The compare page (``/compare``): up to 500 runs side by side.

Overlaid metric charts, parallel coordinates, a scatter of any two values and a diff table,
over runs of any experiments. The URL holds the runs and every choice (``compare_state``); the
runs table posts its selection to ``POST /compare``, which redirects to that compact URL.

Store calls: the page makes two, one ``search_experiments`` (names, and the ids to search in)
and one ``search_runs`` with ``attributes.run_id IN (…)``; only on a server holding more than
``EXPERIMENT_SEARCH_LIMIT`` experiments does it read the runs one by one instead. The charts'
data comes from ``GET /compare/metric-history``, one metric of every run downsampled by
``get_metric_history_bulk_interval`` (one store call per 100 runs).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from wayline.entities import Experiment, Metric, Run, ViewType
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.store.tracking import BULK_INTERVAL_MAX_RUNS, TrackingStore
from wayline.ui.compare_state import CompareState, compact_run_query, parse_run_ids
from wayline.ui.forms import read_form, see_other
from wayline.ui.templating import Pages, format_duration, format_number, format_timestamp

EXPERIMENT_SEARCH_LIMIT = 1000
# Points drawn per chart across all its lines, shared out between the runs, within bounds: three
# runs get 1,000 points each, 500 runs 120 each (60,000 points stay quick in WebGL).
CHART_POINT_BUDGET = 60_000
MIN_POINTS_PER_RUN = 50
MAX_POINTS_PER_RUN = 1000
DEFAULT_CHARTS = 4
DEFAULT_PARAM_AXES = 4
DEFAULT_METRIC_AXES = 2
KINDS = ("metrics", "params", "tags")
SYSTEM_METRIC_PREFIX = "system/"


@dataclass(frozen=True)
class Cell:
    text: str
    missing: bool = False


@dataclass
class DiffRow:
    """One row of the diff table: a value of every run (``column`` is ``<kind>.<key>``)."""

    group: str
    label: str
    column: str
    cells: list[Cell] = field(default_factory=list)
    equal: bool = False


@dataclass(frozen=True)
class Compared:
    """The runs of a compare URL that exist, in the URL's order, with their experiments."""

    runs: list[Run]
    experiments: dict[str, Experiment]
    missing: list[str]


def run_color(index: int) -> str:
    """A distinct hue per run (golden-angle steps), readable on light and dark backgrounds."""
    return f"hsl({(index * 137.508) % 360:.1f}, 65%, 50%)"


def points_per_run(run_count: int) -> int:
    share = CHART_POINT_BUDGET // max(1, run_count)
    return max(MIN_POINTS_PER_RUN, min(MAX_POINTS_PER_RUN, share))


def fetch_runs(store: TrackingStore, run_ids: Sequence[str]) -> Compared:
    """The runs, deleted ones included, in as few store calls as the store allows."""
    experiments = store.search_experiments(ViewType.ALL, EXPERIMENT_SEARCH_LIMIT)
    by_experiment = {e.experiment_id: e for e in experiments}
    if experiments.token is None:
        # Ids are checked against a quote-free alphabet (compare_state), so they need no escaping.
        listed = ", ".join(f"'{run_id}'" for run_id in run_ids)
        found: dict[str, Run] = {}
        token = None
        while True:
            page = store.search_runs(
                list(by_experiment),
                f"attributes.run_id IN ({listed})",
                ViewType.ALL,
                len(run_ids),
                None,
                token,
            )
            found.update((run.info.run_id, run) for run in page)
            token = page.token
            if token is None:
                break
    else:
        found = {}
        for run_id in run_ids:
            try:
                found[run_id] = store.get_run(run_id)
            except NotFound:
                continue
        for experiment_id in {run.info.experiment_id for run in found.values()}:
            if experiment_id not in by_experiment:
                by_experiment[experiment_id] = store.get_experiment(experiment_id)
    runs = [found[run_id] for run_id in run_ids if run_id in found]
    missing = [run_id for run_id in run_ids if run_id not in found]
    return Compared(runs, by_experiment, missing)


def _numeric(value: float | None) -> float | None:
    """JSON has no NaN or infinity: such values travel as null (not drawn)."""
    return value if value is not None and math.isfinite(value) else None


class RunValues:
    """The params, latest metrics and (non-system) tags of the runs, read once per run."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self.metrics: list[dict[str, float]] = [run.data.metrics for run in runs]
        self.params: list[dict[str, str]] = [run.data.params for run in runs]
        self.tags: list[dict[str, str]] = [
            {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")} for run in runs
        ]

    def of(self, kind: str) -> Sequence[Mapping[str, object]]:
        if kind == "metrics":
            return self.metrics
        return self.params if kind == "params" else self.tags

    def keys(self, kind: str) -> list[str]:
        found: set[str] = set()
        for values in self.of(kind):
            found.update(values)
        return sorted(found)

    def column(self, column_id: str) -> list[Any]:
        kind, _, key = column_id.partition(".")
        if kind == "metrics":
            return [_numeric(values.get(key)) for values in self.metrics]
        return [values.get(key) for values in self.of(kind)]

    def varies(self, kind: str, key: str) -> bool:
        sources = self.of(kind)
        first = sources[0].get(key, _ABSENT) if sources else _ABSENT
        return any(values.get(key, _ABSENT) != first for values in sources)


_ABSENT = object()


def _row(group: str, label: str, column: str, values: Sequence[Any]) -> DiffRow:
    cells = [
        Cell("—", missing=True)
        if value is None
        else Cell(format_number(value) if isinstance(value, float) else str(value))
        for value in values
    ]
    equal = all(value is not None for value in values) and len(set(map(repr, values))) <= 1
    return DiffRow(group, label, column, cells, equal)


def diff_rows(compared: Compared, values: RunValues) -> list[DiffRow]:
    """Attributes, then params, metrics and tags: a row per key any run has."""
    runs = compared.runs
    experiments = compared.experiments

    def experiment_name(run: Run) -> str:
        experiment = experiments.get(run.info.experiment_id)
        return experiment.name if experiment else run.info.experiment_id

    attributes: list[tuple[str, list[Any]]] = [
        ("Experiment", [experiment_name(run) for run in runs]),
        ("Status", [run.info.status for run in runs]),
        ("Lifecycle", [run.info.lifecycle_stage for run in runs]),
        ("Created", [format_timestamp(run.info.start_time) for run in runs]),
        ("Duration", [format_duration(run.info.start_time, run.info.end_time) for run in runs]),
        ("User", [run.info.user_id for run in runs]),
        ("Source", [run.data.tags.get("mlflow.source.name", "") for run in runs]),
    ]
    rows = [_row("Attributes", label, "", cells) for label, cells in attributes]
    for kind, group in (("params", "Parameters"), ("metrics", "Metrics"), ("tags", "Tags")):
        sources = values.of(kind)  # metrics as logged: a NaN shows as nan, not as missing
        for key in values.keys(kind):
            cells = [source.get(key) for source in sources]
            rows.append(_row(group, key, f"{kind}.{key}", cells))
    return rows


@dataclass(frozen=True)
class Choices:
    """What the charts show: the URL's choices, or defaults picked from the runs' values."""

    metrics: list[str]
    axes: list[str]
    x: str
    y: str


def default_choices(values: RunValues) -> Choices:
    metric_keys = values.keys("metrics")
    plain = [k for k in metric_keys if not k.startswith(SYSTEM_METRIC_PREFIX)] or metric_keys
    charts = plain[:DEFAULT_CHARTS]
    varying = [k for k in values.keys("params") if values.varies("params", k)]
    params = varying or values.keys("params")
    axes = [f"params.{k}" for k in params[:DEFAULT_PARAM_AXES]]
    axes += [f"metrics.{k}" for k in plain[:DEFAULT_METRIC_AXES]]
    numbers = [f"metrics.{k}" for k in plain] + [f"params.{k}" for k in params]
    x = f"params.{params[0]}" if params else (numbers[1] if len(numbers) > 1 else "")
    y = f"metrics.{plain[0]}" if plain else (numbers[0] if numbers else "")
    return Choices(charts, axes, x, y)


def chosen(state: CompareState, defaults: Choices, columns: Iterable[str]) -> Choices:
    """The URL's choices where it makes them, limited to what these runs hold."""
    known = set(columns)
    metrics = (
        [k for k in state.metrics if f"metrics.{k}" in known]
        if state.metrics is not None
        else defaults.metrics
    )
    axes = [c for c in state.axes if c in known] if state.axes is not None else defaults.axes
    return Choices(
        metrics,
        axes,
        state.x if state.x in known else defaults.x,
        state.y if state.y in known else defaults.y,
    )


def chart_data(
    compared: Compared, values: RunValues, columns: list[str], defaults: Choices
) -> dict[str, Any]:
    """What the page's script draws from, read from a JSON block (no inline script)."""
    return {
        "runs": [
            {
                "id": run.info.run_id,
                "name": run.info.run_name or run.info.run_id,
                "color": run_color(index),
            }
            for index, run in enumerate(compared.runs)
        ],
        "columns": {column: values.column(column) for column in columns},
        "defaults": {"m": defaults.metrics, "pc": defaults.axes, "x": defaults.x, "y": defaults.y},
        "points": points_per_run(len(compared.runs)),
    }


def metric_history(
    store: TrackingStore, run_ids: Sequence[str], key: str, points: int
) -> dict[str, Any]:
    """One metric of every run, downsampled: ``{"metric", "series": [{run_id, step, value}]}``
    with the series in the runs' order (runs without the metric have none)."""
    by_run: dict[str, tuple[list[int], list[float]]] = {}
    for start in range(0, len(run_ids), BULK_INTERVAL_MAX_RUNS):
        chunk = run_ids[start : start + BULK_INTERVAL_MAX_RUNS]
        history: list[Metric] = store.get_metric_history_bulk_interval(chunk, key, points)
        for metric in history:
            steps, numbers = by_run.setdefault(metric.run_id or "", ([], []))
            steps.append(metric.step)
            numbers.append(metric.value)
    series = [
        {"run_id": run_id, "step": by_run[run_id][0], "value": by_run[run_id][1]}
        for run_id in run_ids
        if run_id in by_run
    ]
    return {"metric": key, "points": points, "series": series}


def history_url(run_query: list[tuple[str, str]], key: str) -> str:
    """The URL compare.js fetches a chart's data from, byte for byte (``encodeURIComponent``
    spares exactly these characters), so the page can preload it."""
    return f"/compare/metric-history?{urlencode(run_query)}&metric={quote(key, safe=_JS_SAFE)}"


_JS_SAFE = "-_.!~*'()"


def _json(body: Any, status: int = 200) -> Response:
    # orjson writes NaN and infinities as null: a gap in the line, as in MLflow's charts.
    return Response(
        orjson.dumps(body),
        status,
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


class ComparePages:
    def __init__(self, store: TrackingStore, pages: Pages, plotly_url: str) -> None:
        self.store = store
        self.pages = pages
        self.plotly_url = plotly_url  # where the page's charts load Plotly from

    def routes(self) -> list[tuple[str, Callable[[Request], Awaitable[Response]], str]]:
        return [
            ("/compare", self.page, "GET"),
            ("/compare", self.select, "POST"),
            ("/compare/metric-history", self.metric_history, "GET"),
        ]

    async def page(self, request: Request) -> Response:
        state = CompareState.from_query(request.query_params)
        compared = await run_in_threadpool(fetch_runs, self.store, state.run_ids)
        if not compared.runs:
            raise NotFound("None of the runs to compare exists.")
        values = RunValues(compared.runs)
        keys = {kind: values.keys(kind) for kind in KINDS}
        columns = [f"{kind}.{key}" for kind in KINDS for key in keys[kind]]
        defaults = default_choices(values)
        choices = chosen(state, defaults, columns)
        experiment_ids = list(dict.fromkeys(run.info.experiment_id for run in compared.runs))
        run_query = compact_run_query([run.info.run_id for run in compared.runs])
        context = {
            "title": f"Compare {len(compared.runs)} runs",
            "runs": [
                (run, run_color(index), compared.experiments.get(run.info.experiment_id))
                for index, run in enumerate(compared.runs)
            ],
            "experiments": [compared.experiments.get(e) for e in experiment_ids],
            "missing": compared.missing,
            "run_query": run_query,
            "run_query_string": urlencode(run_query),
            "history_urls": [history_url(run_query, key) for key in choices.metrics],
            "keys": keys,
            "choices": choices,
            "hide_equal": state.hide_equal,
            "rows": diff_rows(compared, values),
            "data": chart_data(compared, values, columns, defaults),
            "plotly_url": self.plotly_url,
        }
        return self.pages.render("compare.html", context)

    async def select(self, request: Request) -> Response:
        """``POST /compare`` with the runs table's ``run_id`` fields: redirects to the compare
        page's compact URL, so a selection of hundreds of runs still makes a short link."""
        form = await read_form(request)
        run_ids = form.all("run_id")
        if not run_ids:
            raise InvalidParameter("Select the runs to compare.")
        checked = parse_run_ids(QueryParams([("runs", ",".join(run_ids))]))
        return see_other("/compare?" + urlencode(compact_run_query(checked)))

    async def metric_history(self, request: Request) -> Response:
        """``GET /compare/metric-history?runs=…&metric=K``: JSON for one overlaid chart (errors
        as the API's JSON error body, since a script reads them)."""
        try:
            run_ids = parse_run_ids(request.query_params)
            key = request.query_params.get("metric", "")
            if not key:
                raise InvalidParameter("The query parameter 'metric' names the metric to chart.")
            points = points_per_run(len(run_ids))
            body = await run_in_threadpool(metric_history, self.store, run_ids, key, points)
        except WaylineError as exc:
            error = {"error_code": exc.error_code, "message": exc.message}
            return _json(error, exc.http_status)
        return _json(body)


__all__ = [
    "ComparePages",
    "Compared",
    "DiffRow",
    "chart_data",
    "default_choices",
    "diff_rows",
    "fetch_runs",
    "metric_history",
    "points_per_run",
    "run_color",
]
