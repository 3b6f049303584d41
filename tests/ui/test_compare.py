"""The compare page (``/compare``) against a live server over a seeded SQLite database: its URL
(readable and packed run lists), escaping, the metric-history endpoint, and in Chromium the
path from the runs table's selection to drawn charts, the diff table's toggle and keys, the
scatter's axes and 500 runs drawn in a measured time."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

from servers import live_server
from wayline.entities import Metric, Param, RunStatus, RunTag
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore
from wayline.ui.compare_state import (
    MAX_COMPARE_RUNS,
    compact_run_query,
    pack_run_ids,
    unpack_run_ids,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
START = 1_700_000_000_000
EXPERIMENTS = ("alpha", "beta", "gamma")
RUNS_PER_EXPERIMENT = 4
STEPS = 60
BIG_RUNS = 500
BIG_STEPS = 100
# Generous for a CI machine whose cores are shared; the measured figure is printed.
BIG_DRAW_BUDGET_MS = 10_000
DRAW_TIMEOUT_MS = 60_000

Shoot = Callable[[Page, str], Path]


@dataclass(frozen=True)
class Seeded:
    url: str
    uri: str
    artifacts: str
    experiments: dict[str, str]  # name -> id
    runs: list[str]  # every plain run, experiment by experiment
    hostile_run: str
    hostile_experiment: str


def _history(run_id: str, key: str, scale: float, steps: int) -> list[Metric]:
    return [
        Metric(key, scale / (step + 1), START + step, step, run_id=run_id) for step in range(steps)
    ]


def _seed(uri: str, artifacts: str) -> tuple[dict[str, str], list[str], str, str]:
    store = SqlStore(uri, artifacts)
    try:
        experiments, runs = {}, []
        for e, name in enumerate(EXPERIMENTS):
            experiment = store.create_experiment(name)
            experiments[name] = experiment
            for i in range(RUNS_PER_EXPERIMENT):
                n = e * RUNS_PER_EXPERIMENT + i
                run = store.create_run(experiment, "tester", START + n * 1000, [], f"{name}-{i}")
                run_id = run.info.run_id
                store.log_batch(
                    run_id,
                    metrics=[
                        *_history(run_id, "loss", 1 + n / 10, STEPS),
                        Metric("acc", n / 20, START, 0),
                    ],
                    params=[
                        Param("lr", str(0.01 * (n + 1))),
                        Param("optimizer", "adam" if n % 2 else "sgd"),
                        Param("seed", "42"),
                    ],
                    tags=[RunTag("team", "red" if n % 3 else "blue")],
                )
                store.update_run_info(run_id, RunStatus.FINISHED.name, START + n * 1000 + 5000)
                runs.append(run_id)
        hostile_experiment = store.create_experiment(f"exp {SCRIPT}")
        hostile = store.create_run(hostile_experiment, "tester", START, [], SCRIPT)
        hostile_run = hostile.info.run_id
        store.log_batch(
            hostile_run,
            metrics=[Metric("loss", 0.5, START, 0), Metric("loss", 0.25, START, 1)],
            params=[Param("lr", IMG), Param("optimizer", SCRIPT), Param("seed", "42")],
            tags=[RunTag("team", IMG)],
        )
        return experiments, runs, hostile_run, hostile_experiment
    finally:
        store.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    folder = tmp_path_factory.mktemp("ui-compare")
    uri = f"sqlite:///{folder / 'compare.db'}"
    artifacts = str(folder / "artifacts")
    experiments, runs, hostile_run, hostile_experiment = _seed(uri, artifacts)
    settings = ServerSettings(backend_store_uri=uri, default_artifact_root=artifacts)
    with live_server(create_app(settings)) as url:
        yield Seeded(url, uri, artifacts, experiments, runs, hostile_run, hostile_experiment)


@pytest.fixture(scope="module")
def http(seeded: Seeded) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=seeded.url, follow_redirects=False, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def big_runs(seeded: Seeded) -> list[str]:
    """500 runs in one more experiment of the same database, each with two 100-step metrics,
    written with one log_batch per run."""
    store = SqlStore(seeded.uri, seeded.artifacts)
    began = time.perf_counter()
    try:
        experiment = store.create_experiment("five hundred")
        ids = []
        for i in range(BIG_RUNS):
            run = store.create_run(experiment, "tester", START + i, [], f"big-{i:03d}")
            run_id = run.info.run_id
            store.log_batch(
                run_id,
                metrics=[
                    *_history(run_id, "loss", 1 + i / 100, BIG_STEPS),
                    *_history(run_id, "val_loss", 2 + i / 100, BIG_STEPS),
                ],
                params=[Param("lr", str(0.001 * (i % 17))), Param("depth", str(i % 9))],
                tags=[RunTag("shard", str(i % 4))],
            )
            ids.append(run_id)
    finally:
        store.close()
    print(f"\nseeded {BIG_RUNS} runs x 200 points in {time.perf_counter() - began:.2f}s")
    return ids


def compare_url(run_ids: list[str], path: str = "/compare", **extra: str) -> str:
    query = httpx.QueryParams([*compact_run_query(run_ids), *extra.items()])
    return f"{path}?{query}"


def history_url(run_ids: list[str], **extra: str) -> str:
    return compare_url(run_ids, "/compare/metric-history", **extra)


# ---------------------------------------------------------------- URL and HTTP


def test_run_lists_pack_to_16_bytes_a_run() -> None:
    ids = [f"{i:032x}" for i in range(MAX_COMPARE_RUNS)]
    packed = pack_run_ids(ids)
    assert unpack_run_ids(packed) == ids
    assert len(packed) == 10_667  # 500 x 16 bytes in base64url, no padding
    assert compact_run_query(ids[:3]) == [("runs", ",".join(ids[:3]))]
    assert compact_run_query(ids)[0][0] == "packed"
    # An id that is not 32 hex digits keeps the whole list readable.
    assert compact_run_query([*ids[:100], "custom_id"])[0][0] == "runs"


def test_the_page_compares_runs_of_several_experiments(http: httpx.Client, seeded: Seeded) -> None:
    response = http.get(compare_url(seeded.runs))
    assert response.status_code == 200
    html = response.text
    assert "Compare 12 runs" in html
    heads = re.findall(r'<th scope="col" class="run-col" data-run-id="([0-9a-f]+)"', html)
    assert heads == seeded.runs  # the URL's order
    for name in EXPERIMENTS:
        assert f'href="/experiments/{seeded.experiments[name]}">{name}</a>' in html
    # "seed" is 42 everywhere: an equal row; "lr" differs.
    row = r'class="value-row{}"\s*>\s*<th scope="row" class="key mono">{}<'
    assert re.search(row.format(" is-equal", "seed"), html)
    assert re.search(row.format("", "lr"), html)
    assert not re.search(row.format("", "seed"), html)
    assert 'data-metric="loss"' in html


def test_hostile_values_render_as_text(http: httpx.Client, seeded: Seeded) -> None:
    html = http.get(compare_url([seeded.runs[0], seeded.hostile_run])).text
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # run name, param, experiment
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    data = re.search(r'<script type="application/json" id="compare-data">(.*?)</script>', html)
    assert data is not None
    assert "<" not in data.group(1)  # tojson writes < as \u003c inside the block


def test_unknown_runs_are_listed_and_bad_lists_refused(http: httpx.Client, seeded: Seeded) -> None:
    unknown = "f" * 32
    html = http.get(compare_url([seeded.runs[0], unknown])).text
    assert "1 run(s) not found" in html and unknown in html
    assert http.get(compare_url([unknown])).status_code == 404
    assert http.get("/compare").status_code == 400
    too_many = ",".join(f"{i:032x}" for i in range(MAX_COMPARE_RUNS + 1))
    refused = http.get("/compare", params={"runs": too_many})
    assert refused.status_code == 400
    assert "at most 500 runs" in refused.text
    # A quote cannot reach the search filter the page builds.
    quoted = http.get("/compare", params={"runs": "a') OR ('1'='1"})
    assert quoted.status_code == 400
    assert "is not a run id" in quoted.text
    assert http.get("/compare", params={"packed": "not base64!"}).status_code == 400


def test_posting_a_selection_redirects_to_a_compact_link(
    http: httpx.Client, seeded: Seeded
) -> None:
    response = http.post(
        "/compare",
        data={"run_id": seeded.runs[:3], "return_to": "/experiments/1"},
        headers={"Origin": seeded.url},
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert parse_qs(urlsplit(location).query) == {"runs": [",".join(seeded.runs[:3])]}
    assert http.post("/compare", data={"run_id": ""}).status_code == 400
    cross_site = http.post(
        "/compare", data={"run_id": seeded.runs[:2]}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403


def test_metric_history_serves_every_run_downsampled(http: httpx.Client, seeded: Seeded) -> None:
    runs = [*seeded.runs, seeded.hostile_run]
    body = http.get(history_url(runs, metric="loss")).json()
    assert body["metric"] == "loss"
    assert [series["run_id"] for series in body["series"]] == runs
    first = body["series"][0]
    assert first["step"] == list(range(STEPS))  # 60 steps fit in the budget: all of them
    assert first["value"][0] == pytest.approx(1.0)
    acc = http.get(history_url(runs[:2], metric="acc")).json()
    assert [len(series["step"]) for series in acc["series"]] == [1, 1]
    missing = http.get(history_url(runs))
    assert missing.status_code == 400
    assert missing.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_five_hundred_runs_fetch_and_downsample(http: httpx.Client, big_runs: list[str]) -> None:
    response = http.post("/compare", data={"run_id": big_runs})
    location = response.headers["location"]
    assert "packed=" in location
    assert len(location) < 11_000  # within h11's 16 KB request head, with room for headers
    began = time.perf_counter()
    page = http.get(location)
    page_ms = (time.perf_counter() - began) * 1000
    assert page.status_code == 200
    assert "Compare 500 runs" in page.text
    history_url = location.replace("/compare", "/compare/metric-history", 1) + "&metric=loss"
    began = time.perf_counter()
    body = http.get(history_url).json()
    history_ms = (time.perf_counter() - began) * 1000
    assert len(body["series"]) == BIG_RUNS
    assert body["points"] == 120  # 60,000 points shared by 500 runs
    assert all(len(series["step"]) == 100 for series in body["series"])  # 100 steps < 120
    print(f"\n500 runs: page HTML {page_ms:.0f} ms, one metric's history {history_ms:.0f} ms")


# ---------------------------------------------------------------- in Chromium


def wait_drawn(page: Page, charts: int) -> None:
    """Until every chart is drawn: Plotly's 3.5 MB bundle is compiled in each new browser
    context, which takes seconds on a busy machine."""
    expect(page.locator("#metric-charts figure")).to_have_count(charts)
    drawn = page.locator("#metric-charts .plot[aria-busy=false]")
    expect(drawn).to_have_count(charts, timeout=DRAW_TIMEOUT_MS)
    expect(page.locator("#parcoords[aria-busy=false]")).to_have_count(1, timeout=DRAW_TIMEOUT_MS)
    expect(page.locator("#scatter[aria-busy=false]")).to_have_count(1, timeout=DRAW_TIMEOUT_MS)


def visible_value_rows(page: Page) -> int:
    return page.locator("#diff tbody tr.value-row:visible").count()


@pytest.mark.ui
def test_select_runs_then_compare(page: Page, seeded: Seeded, shoot: Shoot) -> None:
    page.goto(f"{seeded.url}/experiments/{seeded.experiments['beta']}")
    compare = page.locator("#compare-selected")
    expect(compare).to_be_disabled()
    boxes = page.locator("#runs tbody input[name=run_id]")
    boxes.nth(0).check()
    expect(compare).to_be_disabled()  # one run is no comparison
    boxes.nth(1).check()
    boxes.nth(2).check()
    expect(compare).to_be_enabled()
    compare.click()
    expect(page.locator("h1")).to_have_text("Compare 3 runs")
    assert urlsplit(page.url).path == "/compare"
    assert len(parse_qs(urlsplit(page.url).query)["runs"][0].split(",")) == 3
    wait_drawn(page, 2)  # loss and acc
    expect(page.locator("#metric-charts figure[data-metric=loss] .main-svg").first).to_be_visible()
    expect(page.locator("#parcoords svg.parallel polyline")).to_have_count(3)
    expect(page.locator("#scatter .main-svg").first).to_be_visible()
    shoot(page, "compare-3-runs")


@pytest.mark.ui
def test_hide_equal_rows_and_walk_back(page: Page, seeded: Seeded, shoot: Shoot) -> None:
    page.goto(seeded.url + compare_url(seeded.runs[:4]))
    wait_drawn(page, 2)
    everything = visible_value_rows(page)
    page.locator("#hide-equal").check()
    assert "diff=changed" in page.url
    expect(page.locator("#diff tbody tr.value-row", has_text="seed")).to_be_hidden()
    fewer = visible_value_rows(page)
    assert 0 < fewer < everything
    shoot(page, "compare-hide-equal")
    page.go_back()
    expect(page.locator("#hide-equal")).not_to_be_checked()
    expect(page.locator("#diff tbody tr.value-row", has_text="seed")).to_be_visible()
    assert visible_value_rows(page) == everything
    page.go_forward()
    expect(page.locator("#hide-equal")).to_be_checked()
    page.reload()  # the deep link renders the same state on the server
    expect(page.locator("#hide-equal")).to_be_checked()
    assert visible_value_rows(page) == fewer


@pytest.mark.ui
def test_choose_scatter_axes_and_charts(page: Page, seeded: Seeded, shoot: Shoot) -> None:
    page.goto(seeded.url + compare_url(seeded.runs))
    wait_drawn(page, 2)
    page.select_option("#scatter-x", "params.optimizer")
    page.select_option("#scatter-y", "metrics.loss")
    query = parse_qs(urlsplit(page.url).query)
    assert query["x"] == ["params.optimizer"] and query["y"] == ["metrics.loss"]
    expect(page.locator("#scatter .xtitle")).to_have_text("params.optimizer")
    expect(page.locator("#scatter .xtick").first).to_have_text(re.compile("adam|sgd"))
    shoot(page, "compare-scatter")
    # Charts: drop acc in the chooser, then add it back from the diff table with the keyboard.
    page.locator("#metric-chooser summary").click()
    page.locator("#metric-chooser input[value=acc]").uncheck()
    expect(page.locator("#metric-charts figure")).to_have_count(1)
    assert parse_qs(urlsplit(page.url).query, keep_blank_values=True)["m"] == ["", "loss"]
    page.locator("#metric-chooser summary").click()
    page.locator("#diff-heading").click()
    acc_row = page.locator("#diff tbody tr[data-metric=acc]")
    for _ in range(30):
        page.keyboard.press("j")
        if "is-current" in (acc_row.get_attribute("class") or ""):
            break
    page.keyboard.press("Enter")
    expect(page.locator("#metric-charts figure")).to_have_count(2)
    expect(acc_row).to_have_class(re.compile("is-charted"))
    page.go_back()
    expect(page.locator("#metric-charts figure")).to_have_count(1)
    page.go_back()  # before a chart was dropped: the default charts
    expect(page.locator("#metric-charts figure")).to_have_count(2)
    page.go_back()  # before y was chosen
    expect(page.locator("#scatter-y")).to_have_value("metrics.acc")
    expect(page.locator("#scatter-x")).to_have_value("params.optimizer")
    page.go_back()  # the page as it opened: the default axes
    expect(page.locator("#scatter-x")).to_have_value("params.lr")
    expect(page.locator("#scatter .xtitle")).to_have_text("params.lr")


@pytest.mark.ui
def test_hostile_values_in_charts_stay_text(page: Page, seeded: Seeded, shoot: Shoot) -> None:
    runs = [seeded.runs[0], seeded.hostile_run]
    page.goto(seeded.url + compare_url(runs, x="params.lr", y="params.optimizer"))
    wait_drawn(page, 2)
    header = page.locator(f"#diff th[data-run-id='{seeded.hostile_run}'] a")
    expect(header).to_have_text(SCRIPT)
    expect(page.locator("#diff td", has_text=IMG)).to_have_count(2)  # lr and team
    legend = page.locator("#metric-charts figure[data-metric=loss] .legendtext")
    expect(legend.last).to_have_text(SCRIPT)
    expect(page.locator("#scatter .xtick", has_text="<img src=x")).to_have_count(1)
    assert page.locator("img[src=x]").count() == 0
    assert page.locator("#metric-charts script, #scatter script").count() == 0
    # Dark mode: the charts are drawn again in the theme's colours.
    page.locator("#theme-toggle").click()
    page.wait_for_function(
        "getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() !== '#ffffff'"
        " && document.querySelector('#scatter .xtick text')?.style.fill !== 'rgb(29, 35, 48)'"
    )
    wait_drawn(page, 2)
    shoot(page, "compare-hostile-dark")
    # Names of the URL that are no column, not even of a JavaScript object, fall back or drop.
    page.goto(seeded.url + compare_url(runs, x="constructor", y="__proto__", pc="toString"))
    wait_drawn(page, 2)
    expect(page.locator("#scatter .xtitle")).to_have_text("params.lr")
    expect(page.locator("#parcoords")).to_have_text("Choose at least two axes.")


@pytest.mark.ui
@pytest.mark.slow
def test_five_hundred_runs_draw_quickly(
    page: Page, seeded: Seeded, big_runs: list[str], shoot: Shoot
) -> None:
    with httpx.Client(base_url=seeded.url) as client:
        location = client.post("/compare", data={"run_id": big_runs}).headers["location"]
    page.goto(seeded.url + location)  # warm: the first load also compiles Plotly's bundle
    wait_drawn(page, 2)
    page.goto(seeded.url + location + "&diff=changed")
    wait_drawn(page, 2)
    drawn_ms = page.evaluate("performance.now()")  # since this navigation began
    print(f"\n500 runs: every chart drawn {drawn_ms:.0f} ms after navigation")
    assert drawn_ms < BIG_DRAW_BUDGET_MS
    traces = page.evaluate(
        "document.querySelector('#metric-charts figure[data-metric=loss] .plot').data.length"
    )
    assert traces == BIG_RUNS
    expect(page.locator("#diff thead th.run-col")).to_have_count(BIG_RUNS)
    # Still responsive: a new scatter axis draws at once.
    began = page.evaluate("performance.now()")
    page.select_option("#scatter-x", "params.depth")
    expect(page.locator("#scatter .xtitle")).to_have_text("params.depth")
    assert page.evaluate("performance.now()") - began < 2000
    shoot(page, "compare-500-runs")
