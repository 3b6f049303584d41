"""The run page's charts, datasets, logged models and editable tags, over HTTP and in Chromium.

One live server per module over a SQLite database seeded here: a run whose ``loss`` has a
million points with one spike up and one down, a ``system/`` metric, a step-0 metric logged
over time, a dataset, logged models and hostile tags; and a second run whose tags the form
tests edit. Browser tests (marked ``ui``) use the ``page`` fixture, which fails a test on a
console error, a dialog or a request leaving localhost.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from servers import live_server
from wayline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
    ModelOutput,
    Param,
    RunTag,
)
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore

from ._timing import assert_within

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
START = 1_700_000_000_000
BIG = 1_000_000
UP_STEP, UP = 123_457, 50.0
DOWN_STEP, DOWN = 876_543, -70.0
FLAT = 5_000  # points of a metric logged at step 0 (log_metric's default) over time

ui = pytest.mark.ui
Shoot = Callable[[Page, str], Path]


def loss(step: int) -> float:
    spike = UP if step == UP_STEP else DOWN if step == DOWN_STEP else 0.0
    return math.sin(step / 5000) + spike


@dataclass(frozen=True)
class Charted:
    url: str
    experiment_id: str
    run_id: str  # the run with the big metric
    other_experiment_id: str
    editable_run_id: str  # the run whose tags the form tests change
    model_id: str

    def run_path(self, run_id: str | None = None) -> str:
        return f"/experiments/{self.experiment_id}/runs/{run_id or self.run_id}"


def _seed(store: SqlStore) -> tuple[str, str, str, str, str]:
    experiment = store.create_experiment("charts")
    run_id = store.create_run(experiment, "tester", START, [], "million").info.run_id
    # The store's batch API: 1,000 points a call, the most a batch holds.
    for first in range(0, BIG, 1000):
        batch = [Metric("loss", loss(s), START + s * 10, s) for s in range(first, first + 1000)]
        store.log_batch(run_id, metrics=batch)
    small = [Metric("acc", i / 100, START + i, i) for i in range(100)]
    small[50] = Metric("acc", float("nan"), START + 50, 50)
    system = [
        Metric("system/cpu_utilization_percentage", 10.0 + i % 7, START + i, i) for i in range(60)
    ]
    store.log_batch(run_id, metrics=small + system, params=[Param("lr", "0.01")])
    for first in range(0, FLAT, 1000):
        batch = [
            Metric("flat", 1000.0 if t == 2500 else math.cos(t / 100), START + t, 0)
            for t in range(first, first + 1000)
        ]
        store.log_batch(run_id, metrics=batch)
    store.log_batch(
        run_id,
        tags=[
            RunTag("note", IMG),
            RunTag("team", "charts"),
            RunTag("mlflow.note.content", f"# Big run\n{SCRIPT}"),
        ],
    )
    dataset = Dataset(f"train {SCRIPT}", "d1g3st", "local", '{"uri": "/data/train.csv"}')
    store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
    model = store.create_logged_model(experiment, "model-a", run_id, model_type="classifier")
    store.log_outputs(run_id, [ModelOutput(model.model_id, 10)])
    store.record_logged_model(
        run_id, {"artifact_path": "sk_model", "flavors": {"sklearn": {}}, "run_id": run_id}
    )
    editable = store.create_run(experiment, "tester", START, [], "editable").info.run_id
    other = store.create_experiment("other")
    return experiment, run_id, other, editable, model.model_id


@pytest.fixture(scope="module")
def charted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Charted]:
    folder = tmp_path_factory.mktemp("charts")
    uri = f"sqlite:///{folder / 'charts.db'}"
    artifacts = str(folder / "artifacts")
    store = SqlStore(uri, artifacts)
    try:
        experiment, run_id, other, editable, model_id = _seed(store)
    finally:
        store.close()
    settings = ServerSettings(backend_store_uri=uri, default_artifact_root=artifacts)
    with live_server(create_app(settings)) as url:
        yield Charted(url, experiment, run_id, other, editable, model_id)


@pytest.fixture(scope="module")
def http(charted: Charted) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=charted.url, follow_redirects=False, timeout=30) as client:
        yield client


def series(http: httpx.Client, path: str, **query: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = http.get(f"{path}/metric-data", params=query)
    return response, time.perf_counter() - started


# ---------------------------------------------------------------- chart data over HTTP
def test_a_million_points_come_back_downsampled_with_their_spikes(
    http: httpx.Client, charted: Charted
) -> None:
    series(http, charted.run_path(), key="loss", points=1000)  # the first read warms the cache
    response, seconds = series(http, charted.run_path(), key="loss", points=1000)
    print(f"\nmetric-data for {BIG:,} points: {seconds * 1000:.0f} ms")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["downsampled"] is True
    assert 900 <= len(body["values"]) <= 1000
    assert len(body["steps"]) == len(body["timestamps"]) == len(body["values"])
    assert max(body["values"]) == loss(UP_STEP)  # both spikes survive, at their own steps
    assert min(body["values"]) == loss(DOWN_STEP)
    assert body["steps"][body["values"].index(loss(UP_STEP))] == UP_STEP
    assert body["timestamps"][body["values"].index(loss(DOWN_STEP))] == START + DOWN_STEP * 10
    assert body["steps"] == sorted(body["steps"])
    assert_within(seconds * 1000, 1000, "metric-data for a million points")
    most, _ = series(http, charted.run_path(), key="loss", points=2000)
    assert 1800 <= len(most.json()["values"]) <= 2000
    assert max(most.json()["values"]) == loss(UP_STEP)


def test_a_step_zero_metric_is_bucketed_by_time(http: httpx.Client, charted: Charted) -> None:
    body = series(http, charted.run_path(), key="flat", points=200)[0].json()
    assert body["downsampled"] is True
    assert 150 <= len(body["values"]) <= 200  # not one bucket at step 0
    assert max(body["values"]) == 1000.0
    assert body["timestamps"] == sorted(body["timestamps"])


def test_a_short_history_comes_back_whole_with_nan_as_null(
    http: httpx.Client, charted: Charted
) -> None:
    body = series(http, charted.run_path(), key="acc")[0].json()
    assert body["downsampled"] is False
    assert body["steps"] == list(range(100))
    assert body["values"][50] is None
    assert body["values"][99] == 0.99


def test_bad_chart_requests_are_json_errors(http: httpx.Client, charted: Charted) -> None:
    missing_key, _ = series(http, charted.run_path())
    assert missing_key.status_code == 400
    assert missing_key.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert series(http, charted.run_path(), key="loss", points=5000)[0].status_code == 400
    assert series(http, charted.run_path(), key="loss", points="many")[0].status_code == 400
    elsewhere = f"/experiments/{charted.other_experiment_id}/runs/{charted.run_id}"
    assert series(http, elsewhere, key="loss")[0].status_code == 404
    unknown = series(http, charted.run_path("0" * 32), key="loss")[0]
    assert unknown.status_code == 404
    assert unknown.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert series(http, charted.run_path(), key="nothing")[0].json()["values"] == []


# ---------------------------------------------------------------- the downsampler per backend
@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgresql),
        pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
    ]
)
def backend_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(request.getfixturevalue(f"{request.param}_uri"), str(tmp_path))
    try:
        yield store
    finally:
        store.close()


def test_each_backend_keeps_every_buckets_extremes(backend_store: SqlStore) -> None:
    store = backend_store
    experiment = store.create_experiment("extremes")
    run_id = store.create_run(experiment, "tester", START, [], "r").info.run_id
    values = [math.sin(i / 50) for i in range(5000)]
    values[1234], values[4321], values[10] = 99.0, -99.0, float("nan")
    for first in range(0, 5000, 1000):
        steps = range(first, first + 1000)
        store.log_batch(run_id, metrics=[Metric("m", values[i], START + i, i) for i in steps])
        at_zero = [Metric("flat", values[i], START + i, 0) for i in steps]
        store.log_batch(run_id, metrics=at_zero)

    points, downsampled = store.get_metric_history_extremes(run_id, "m", 100)
    assert downsampled and 90 <= len(points) <= 100
    assert (1234, START + 1234, 99.0) in points and (4321, START + 4321, -99.0) in points
    assert points == sorted(points)
    assert all(value is not None for _, _, value in points)  # NaN never stands for an extreme
    flat, _ = store.get_metric_history_extremes(run_id, "flat", 100)
    assert 90 <= len(flat) <= 100  # cut by timestamp: every point is at step 0
    assert max(value for _, _, value in flat if value is not None) == 99.0
    whole, downsampled = store.get_metric_history_extremes(run_id, "m", 5000)
    assert not downsampled and len(whole) == 5000 and whole[10][2] is None


# ---------------------------------------------------------------- the page over HTTP
def test_the_run_page_lists_charts_datasets_models_and_links(
    http: httpx.Client, charted: Charted
) -> None:
    html = http.get(charted.run_path()).text
    for key in ("loss", "acc", "flat"):
        assert f'<figure class="chart-card" data-key="{key}"' in html
        assert f'data-series="{charted.run_path()}/metric-data?key={key}&amp;points=1000"' in html
    system = html[html.index('id="system-metrics"') :]
    assert 'data-key="system/cpu_utilization_percentage"' in system
    charts = html[html.index('id="charts"') : html.index('id="system-metrics"')]
    assert "system/" not in charts
    assert f'href="{charted.run_path()}/artifacts"' in html
    assert 'src="/static-files/run-charts.js' in html
    assert '<script async src="/static-files/vendor/plotly.min.js"' in html
    datasets = html[html.index('id="datasets"') :]
    assert "d1g3st" in datasets and "training" in datasets
    models = html[html.index('id="logged-models"') :]
    assert charted.model_id in models and "model-a" in models and "classifier" in models
    assert "sk_model" in html[html.index('id="history-models"') :]


def test_chart_state_comes_from_the_url(http: httpx.Client, charted: Charted) -> None:
    html = http.get(f"{charted.run_path()}?x=relative&log=1&smooth=0.6&m=acc").text
    assert '<option value="relative" selected>' in html
    assert 'id="chart-log" checked' in html
    assert 'value="0.6"' in html
    assert '<input type="checkbox" name="m" value="acc" checked>' in html
    assert '<figure class="chart-card" hidden data-key="loss"' in html
    assert '<figure class="chart-card" data-key="acc"' in html
    # Only the shown charts' series are preloaded.
    assert 'rel="preload" as="fetch" crossorigin="anonymous" href="' in html
    preloads = re.findall(r'rel="preload" as="fetch"[^>]*href="[^"]*\?key=([^&]*)&', html)
    assert preloads == ["acc", "system%2Fcpu_utilization_percentage"]
    fallback = http.get(f"{charted.run_path()}?x=sideways&smooth=nan&log=yes").text
    assert '<option value="step" selected>' in fallback
    assert 'id="chart-log" checked' not in fallback


def test_hostile_values_on_the_run_page_are_text(http: httpx.Client, charted: Charted) -> None:
    html = http.get(charted.run_path()).text
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # dataset name, description source


# ---------------------------------------------------------------- forms over HTTP
def test_tags_are_added_edited_and_deleted(http: httpx.Client, charted: Charted) -> None:
    path = charted.run_path(charted.editable_run_id)
    added = http.post(f"{path}/tags/set", data={"key": "stage", "value": "draft"})
    assert added.status_code == 303
    assert added.headers["location"] == f"{path}#tags-heading"
    assert ">draft</td>" in http.get(path).text
    http.post(f"{path}/tags/set", data={"key": "stage", "value": f"final {SCRIPT}"})
    page = http.get(path).text
    assert "final &lt;script&gt;" in page and ">draft</td>" not in page
    deleted = http.post(f"{path}/tags/delete", data={"key": "stage"})
    assert deleted.status_code == 303
    assert "stage" not in http.get(path).text
    assert http.post(f"{path}/tags/set", data={"key": " ", "value": "x"}).status_code == 400
    assert http.post(f"{path}/tags/delete", data={"key": "never-set"}).status_code == 404
    elsewhere = f"/experiments/{charted.other_experiment_id}/runs/{charted.editable_run_id}"
    assert http.post(f"{elsewhere}/tags/set", data={"key": "a", "value": "b"}).status_code == 404


def test_the_description_is_set_and_cleared(http: httpx.Client, charted: Charted) -> None:
    path = charted.run_path(charted.editable_run_id)
    saved = http.post(f"{path}/description", data={"description": "## Plan\n*bold* move"})
    assert saved.status_code == 303
    page = http.get(path).text
    assert "<h2>Plan</h2>" in page and "<em>bold</em>" in page
    http.post(f"{path}/description", data={"description": "  "})
    cleared = http.get(path).text
    assert "No description." in cleared
    # A run without metrics: no chart, no Plotly, no system-metrics section.
    assert "No metrics to chart." in cleared
    assert "<script async" not in cleared and 'id="system-metrics"' not in cleared


def test_a_tag_post_from_another_site_is_refused(http: httpx.Client, charted: Charted) -> None:
    path = charted.run_path(charted.editable_run_id)
    for action, data in (("tags/set", {"key": "csrf", "value": "1"}), ("description", {})):
        response = http.post(
            f"{path}/{action}", data=data, headers={"Origin": "https://evil.example"}
        )
        assert response.status_code == 403
    assert "csrf" not in http.get(path).text


# ---------------------------------------------------------------- in the browser
# When the loss chart's line is in the document, as a MutationObserver sees it.
DRAW_TIMER = """
window.__chartDrawnAt = null;
new MutationObserver((_, observer) => {
  if (document.querySelector('#charts figure[data-key="loss"] .scatterlayer .trace path')) {
    window.__chartDrawnAt = performance.now();
    observer.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""


# Plotly's 4.8 MB bundle is compiled when a page opens; on a busy machine that takes seconds,
# so the tests wait for the page's HTML only and give a chart generous time to appear (the
# one test that times the drawing asserts its own bound).
CHART_TIMEOUT_MS = 30_000


def open_page(page: Page, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")


def expect_drawn(page: Page, key: str) -> None:
    chart = page.locator(f"figure[data-key='{key}'] .chart[data-drawn]")
    chart.scroll_into_view_if_needed(timeout=CHART_TIMEOUT_MS)
    expect(chart).to_be_visible(timeout=CHART_TIMEOUT_MS)


def wait_for(page: Page, expression: str, timeout_ms: int = CHART_TIMEOUT_MS) -> None:
    """Poll ``expression`` until it is true. Not ``page.wait_for_function``: it evaluates its
    predicate with ``eval`` inside the page, which the UI's CSP (rightly) refuses."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        time.sleep(0.02)


def chart_data(page: Page, key: str) -> Any:
    return page.evaluate(
        "key => { const d = document.querySelector(`figure[data-key='${key}'] .chart`);"
        " return {data: d.data.map(t => ({y: t.y, x: t.x})), layout: d.layout}; }",
        key,
    )


@ui
@pytest.mark.slow
def test_a_million_point_chart_draws_within_a_second(
    page: Page, charted: Charted, shoot: Shoot
) -> None:
    page.add_init_script(DRAW_TIMER)  # times the first Plotly svg independently of the page
    url = f"{charted.url}{charted.run_path()}?m=loss"
    # The first visit also fetches and compiles Plotly's 4.8 MB bundle, once per browser (it
    # is cached for a day); the second is what opening a run costs: the page, the million
    # points downsampled by the server (never cached), and the drawing.
    timings = []
    for _ in range(2):
        open_page(page, url)
        svg = page.locator('#charts figure[data-key="loss"] .main-svg').first
        expect(svg).to_be_visible(timeout=CHART_TIMEOUT_MS)
        wait_for(page, "window.__chartDrawnAt !== null")
        timings.append(page.evaluate("window.__chartDrawnAt"))
    marked = page.evaluate("performance.getEntriesByName('wayline:first-chart')[0].startTime")
    print(
        f"\n{BIG:,}-point chart drawn {timings[1]:.0f} ms after navigation (the page's first"
        f" chart: {marked:.0f} ms; first visit, compiling Plotly: {timings[0]:.0f} ms)"
    )
    data = chart_data(page, "loss")["data"]
    assert len(data) == 1
    assert len(data[0]["y"]) <= 2000
    assert max(data[0]["y"]) == loss(UP_STEP) and min(data[0]["y"]) == loss(DOWN_STEP)
    shoot(page, "run-charts-million")
    assert_within(timings[1], 1000, "million-point chart drawn")


@ui
def test_chart_controls_live_in_the_url(page: Page, charted: Charted, shoot: Shoot) -> None:
    url = f"{charted.url}{charted.run_path()}"
    open_page(page, url)
    expect_drawn(page, "acc")
    page.select_option("#chart-x", "time")
    expect(page).to_have_url(f"{url}?x=time")
    assert chart_data(page, "acc")["layout"]["xaxis"]["type"] == "date"
    page.check("#chart-log")
    expect(page).to_have_url(f"{url}?x=time&log=1")
    assert chart_data(page, "acc")["layout"]["yaxis"]["type"] == "log"
    page.locator("#chart-smooth").evaluate(
        "el => { el.value = '0.6'; el.dispatchEvent(new Event('input', {bubbles: true}));"
        " el.dispatchEvent(new Event('change', {bubbles: true})); }"
    )
    expect(page).to_have_url(f"{url}?x=time&log=1&smooth=0.6")
    expect(page.locator("#chart-smooth-value")).to_have_text("0.6")
    wait_for(page, "document.querySelector(\"figure[data-key='acc'] .chart\").data.length === 2")
    page.locator("details.metric-chooser > summary").click()
    page.locator("input[name=m][value=acc]").check()
    expect(page).to_have_url(f"{url}?x=time&log=1&smooth=0.6&m=acc")
    expect(page.locator("figure[data-key='loss']")).to_be_hidden()
    expect(page.locator("figure[data-key='system/cpu_utilization_percentage']")).to_be_visible()
    shoot(page, "run-charts-controls")
    page.go_back()
    expect(page.locator("figure[data-key='loss']")).to_be_visible()
    page.go_back()
    expect(page.locator("#chart-smooth-value")).to_have_text("0")
    page.go_back()
    expect(page.locator("#chart-log")).not_to_be_checked()
    assert chart_data(page, "acc")["layout"]["yaxis"]["type"] == "linear"
    page.go_forward()
    expect(page.locator("#chart-log")).to_be_checked()
    expect(page).to_have_url(f"{url}?x=time&log=1")
    open_page(page, f"{url}?x=relative&m=acc")  # a deep link draws as it says
    expect_drawn(page, "acc")
    layout = chart_data(page, "acc")["layout"]
    assert layout["xaxis"]["title"]["text"] == "Relative time (s)"


@ui
def test_charts_follow_dark_mode(page: Page, charted: Charted, shoot: Shoot) -> None:
    page.emulate_media(color_scheme="light")
    open_page(page, f"{charted.url}{charted.run_path()}?m=acc")
    expect_drawn(page, "acc")
    assert chart_data(page, "acc")["layout"]["paper_bgcolor"] == "#ffffff"
    page.click("#theme-toggle")
    wait_for(
        page,
        "document.querySelector(\"figure[data-key='acc'] .chart\").layout.paper_bgcolor"
        " === '#0f1419'",
    )
    shoot(page, "run-charts-dark")


@ui
def test_tags_and_description_are_edited_by_clicking(
    page: Page, charted: Charted, shoot: Shoot
) -> None:
    open_page(page, f"{charted.url}{charted.run_path(charted.editable_run_id)}")
    page.fill("#new-tag-key", "clicked")
    page.fill("#new-tag-value", IMG)
    page.click("#add-tag button")
    row = page.locator("#tags tbody tr", has_text="clicked")
    expect(row.locator("td.pre")).to_have_text(IMG)
    row.locator("summary", has_text="Edit").click()
    row.locator("input[name=value]").fill("changed")
    row.locator("button", has_text="Save").click()
    expect(page.locator("#tags tbody tr", has_text="clicked").locator("td.pre")).to_have_text(
        "changed"
    )
    page.locator("details.edit-description > summary").click()
    page.fill("#description-text", f"Edited {SCRIPT}")
    page.click("details.edit-description button")
    expect(page.get_by_test_id("description")).to_contain_text(f"Edited {SCRIPT}")
    shoot(page, "run-edit-tags")
    row = page.locator("#tags tbody tr", has_text="clicked")
    row.locator("summary", has_text="Delete").click()
    row.locator("button.danger").click()
    expect(page.locator("#tags")).to_have_count(0)  # no tags left: the table is gone
    assert page.locator("img").count() == 0


@ui
def test_datasets_models_and_artifacts_link(page: Page, charted: Charted, shoot: Shoot) -> None:
    open_page(page, f"{charted.url}{charted.run_path()}")
    expect(page.locator("#datasets")).to_contain_text(f"train {SCRIPT}")
    expect(page.locator("#logged-models")).to_contain_text("model-a")
    expect(page.locator("#tags")).to_contain_text(IMG)
    expect(page.get_by_test_id("artifacts-link")).to_have_attribute(
        "href", f"{charted.run_path()}/artifacts"
    )
    expect_drawn(page, "system/cpu_utilization_percentage")
    assert page.locator("img").count() == 0
    shoot(page, "run-details")
