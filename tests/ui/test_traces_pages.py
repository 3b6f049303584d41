"""The traces pages (list, trace view, spans JSON, feedback form) against a live server seeded
with a few traces through the store: over HTTP for status, escaping and forms, and in headless
Chromium for the span tree, the waterfall, the details panel and history."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from servers import live_server
from wayline.entities.assessment import (
    Assessment,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.entities.trace import Span, SpanEvent, SpanStatusCode
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore

pytestmark = pytest.mark.ui

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
T0_MS = 1_700_000_000_000
T0_NS = T0_MS * 1_000_000
MS = 1_000_000
SIMPLE_TRACES = 30
QUESTION = {"question": "What is 2+2?", "history": [{"role": "user", "content": "hi"}]}

Shoot = Callable[[Page, str], Path]


@dataclass(frozen=True)
class Traced:
    url: str
    experiment: str
    agent: str  # nested spans, tokens, an error span, assessments
    hostile: str  # markup in span names, inputs and tags
    failed: str  # root span in error: the trace's state is ERROR
    other_experiment: str


def _trace_id(n: int) -> str:
    return f"tr-{n:032x}"


def _span_id(trace: int, n: int) -> str:
    return f"{trace:08x}{n:08x}"


def span(
    trace: int,
    n: int,
    parent: int | None,
    name: str,
    start_ms: int,
    duration_ms: int,
    span_type: str = "UNKNOWN",
    status: SpanStatusCode = SpanStatusCode.OK,
    extra: dict[str, Any] | None = None,
    **attributes: Any,
) -> Span:
    """Span ``n`` of trace number ``trace``; ``__`` in an attribute's name stands for a dot."""
    attrs = {
        "mlflow.spanType": span_type,
        **{k.replace("__", "."): v for k, v in attributes.items()},
        **(extra or {}),
    }
    start = T0_NS + (trace * 60_000 + start_ms) * MS
    return Span(
        trace_id=_trace_id(trace),
        span_id=_span_id(trace, n),
        parent_id=None if parent is None else _span_id(trace, parent),
        name=name,
        start_time_ns=start,
        end_time_ns=start + duration_ms * MS,
        status_code=status,
        attributes=attrs,
    )


def _agent_spans() -> list[Span]:
    t = 1
    failing = span(
        t, 5, 3, "flaky_tool", 30, 5, "TOOL", SpanStatusCode.ERROR, mlflow__spanInputs={"q": 1}
    )
    failing.status_message = "tool exploded"
    failing.events = [
        SpanEvent(
            "exception",
            T0_NS + (t * 60_000 + 34) * MS,
            {
                "exception.type": "RuntimeError",
                "exception.message": "tool exploded",
                "exception.stacktrace": "Traceback (most recent call last):\n  boom",
            },
        )
    ]
    return [
        span(
            t,
            1,
            None,
            "agent",
            0,
            100,
            "AGENT",
            mlflow__spanInputs=QUESTION,
            mlflow__spanOutputs={"answer": "4"},
        ),
        span(
            t,
            2,
            1,
            "plan",
            2,
            20,
            "LLM",
            mlflow__spanInputs=[{"role": "user", "content": "2+2"}],
            mlflow__spanOutputs="I will search.",
            mlflow__chat__tokenUsage={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15},
            model="tiny-1",
        ),
        span(
            t,
            3,
            1,
            "search",
            25,
            40,
            "TOOL",
            mlflow__spanInputs={"query": "2+2"},
            mlflow__spanOutputs=["4", "four"],
        ),
        span(
            t,
            4,
            3,
            "fetch_docs",
            26,
            10,
            "RETRIEVER",
            mlflow__spanInputs={"k": 2},
            mlflow__spanOutputs=[{"doc": "2+2=4"}],
        ),
        failing,
        span(
            t,
            6,
            1,
            "answer",
            70,
            25,
            "LLM",
            mlflow__spanInputs={"prompt": "say it"},
            mlflow__spanOutputs={"answer": "4"},
            mlflow__chat__tokenUsage={"input_tokens": 20, "output_tokens": 7, "total_tokens": 27},
        ),
    ]


def seed(uri: str, artifacts: str) -> Traced:
    store = SqlStore(uri, artifacts)
    try:
        experiment = store.create_experiment("traced")
        other = store.create_experiment("other")
        store.log_spans(experiment, _agent_spans())
        agent = _trace_id(1)
        store.set_trace_tag(agent, "env", "prod")
        store.set_trace_tag(agent, "note", SCRIPT)
        human = AssessmentSource(AssessmentSourceType.HUMAN, "alice")
        store.create_assessment(
            Assessment("correctness", agent, human, Feedback(True), rationale=f"fine {IMG}")
        )
        store.create_assessment(
            Assessment("expected", agent, human, expectation=Expectation({"answer": "4"}))
        )
        store.create_assessment(
            Assessment("relevance", agent, human, Feedback(0.5), span_id=_span_id(1, 4))
        )
        hostile = 2
        store.log_spans(
            experiment,
            [
                span(
                    hostile,
                    1,
                    None,
                    SCRIPT,
                    0,
                    10,
                    "CHAIN",
                    mlflow__spanInputs={"x": SCRIPT},
                    mlflow__spanOutputs=IMG,
                ),
                span(hostile, 2, 1, IMG, 1, 5, "LLM", extra={IMG: SCRIPT}),
            ],
        )
        store.set_trace_tag(_trace_id(hostile), "payload", IMG)
        failed = 3
        store.log_spans(
            experiment,
            [
                span(
                    failed,
                    1,
                    None,
                    "broken",
                    0,
                    3,
                    "CHAIN",
                    SpanStatusCode.ERROR,
                    mlflow__spanInputs={"n": 0},
                )
            ],
        )
        store.log_spans(
            experiment,
            [
                span(
                    100 + i,
                    1,
                    None,
                    f"simple-{i:02d}",
                    0,
                    200 + i,
                    "CHAIN",
                    mlflow__spanInputs={"i": i},
                    mlflow__spanOutputs=i * 2,
                )
                for i in range(SIMPLE_TRACES)
            ],
        )
        store.log_spans(other, [span(999, 1, None, "elsewhere", 0, 1)])
        return Traced("", experiment, agent, _trace_id(hostile), _trace_id(failed), other)
    finally:
        store.close()


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Traced]:
    folder = tmp_path_factory.mktemp("ui-traces")
    uri = f"sqlite:///{folder / 'traces.db'}"
    artifacts = str(folder / "artifacts")
    seeded = seed(uri, artifacts)
    settings = ServerSettings(backend_store_uri=uri, default_artifact_root=artifacts)
    with live_server(create_app(settings)) as url:
        yield replace(seeded, url=url)


@pytest.fixture(scope="module")
def http(traced: Traced) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=traced.url, follow_redirects=False) as client:
        yield client


def trace_ids(html: str) -> list[str]:
    return re.findall(r'class="row-link"[^>]*>(tr-[0-9a-f]{32})</a>', html)


# ---------------------------------------------------------------- HTTP
def test_trace_list_shows_columns_and_escapes(http: httpx.Client, traced: Traced) -> None:
    response = http.get(f"/experiments/{traced.experiment}/traces?per_page=100")
    assert response.status_code == 200
    html = response.text
    ids = trace_ids(html)
    assert len(ids) == 3 + SIMPLE_TRACES
    assert traced.agent in ids and _trace_id(999) not in ids
    assert "What is 2+2?" in html  # request preview
    assert "env=prod" in html
    assert "42" in html  # the agent's total tokens: 15 + 27
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_trace_list_filter_sort_and_pages(http: httpx.Client, traced: Traced) -> None:
    base = f"/experiments/{traced.experiment}/traces"
    errors = http.get(base, params={"filter": "trace.status = 'ERROR'"})
    assert trace_ids(errors.text) == [traced.failed]
    bad = http.get(base, params={"filter": "trace.status >>> 1"})
    assert bad.status_code == 400
    assert 'data-testid="filter-error"' in bad.text
    assert "Invalid filter" in bad.text
    shortest = http.get(base, params={"sort": "duration", "dir": "asc", "per_page": "25"})
    first_page = trace_ids(shortest.text)
    assert first_page[0] == traced.failed  # 3 ms
    assert len(first_page) == 25
    next_link = re.search(r'href="([^"]+)" rel="next"', shortest.text)
    assert next_link is not None
    second = http.get(base + next_link.group(1).replace("&amp;", "&"))
    rest = trace_ids(second.text)
    assert len(rest) == 3 + SIMPLE_TRACES - 25 and not set(rest) & set(first_page)
    assert rest[-1] == _trace_id(100 + SIMPLE_TRACES - 1)  # the longest: 229 ms
    assert "Page 2" in second.text


def test_trace_page_renders_info_tokens_and_assessments(http: httpx.Client, traced: Traced) -> None:
    response = http.get(f"/experiments/{traced.experiment}/traces/{traced.agent}")
    assert response.status_code == 200
    html = response.text
    assert "total tokens: <b>42</b>" in html
    assert "correctness" in html and "relevance" in html and "expected" in html
    assert f"fine {IMG}" not in html and "fine &#34;&gt;&lt;img" in html
    assert 'data-spans-url="/experiments/' in html
    # The trace seen through another experiment's URL is redirected to its own.
    moved = http.get(f"/experiments/{traced.other_experiment}/traces/{traced.agent}?span=x")
    assert moved.status_code == 303
    assert moved.headers["location"] == (
        f"/experiments/{traced.experiment}/traces/{traced.agent}?span=x"
    )
    missing = http.get(f"/experiments/{traced.experiment}/traces/tr-{'0' * 31}f")
    assert missing.status_code == 404
    assert "not found" in missing.text


def test_spans_json_pages_in_start_order(http: httpx.Client, traced: Traced) -> None:
    url = f"/experiments/{traced.experiment}/traces/{traced.agent}/spans"
    spans: list[dict[str, Any]] = []
    token = None
    pages = 0
    while True:
        params = {"max_results": "2", **({"page_token": token} if token else {})}
        body = http.get(url, params=params).json()
        spans += body["spans"]
        pages += 1
        token = body["next_page_token"]
        if not token:
            break
    assert pages == 3
    assert [s["name"] for s in spans] == [
        "agent",
        "plan",
        "search",
        "fetch_docs",
        "flaky_tool",
        "answer",
    ]
    root, plan = spans[0], spans[1]
    assert root["parent"] is None and plan["parent"] == root["id"]
    assert root["inputs"] == QUESTION  # decoded, not JSON text
    assert plan["tokens"]["total_tokens"] == 15
    assert plan["s"] == 2 * MS and plan["d"] == 20 * MS  # ns from the trace's request time
    assert plan["attributes"] == {"model": "tiny-1"}
    error = spans[4]
    assert error["status"] == "ERROR" and error["message"] == "tool exploded"
    assert error["events"][0]["attributes"]["exception.type"] == "RuntimeError"
    bad = http.get(url, params={"max_results": "0"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    foreign = http.get(f"/experiments/{traced.other_experiment}/traces/{traced.agent}/spans")
    assert foreign.status_code == 400
    missing = http.get(f"/experiments/{traced.experiment}/traces/tr-{'0' * 31}f/spans")
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_feedback_form_adds_an_assessment(http: httpx.Client, traced: Traced) -> None:
    page = f"/experiments/{traced.experiment}/traces/{traced.failed}"
    posted = http.post(
        f"{page}/assessments",
        data={"name": "helpful", "value": "4", "rationale": SCRIPT, "return_to": page + "?span=a"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == page + "?span=a#assessments"
    text = json.dumps(http.get(f"/api/3.0/mlflow/traces/{traced.failed}").json())
    assert '"helpful"' in text and "HUMAN" in text
    html = http.get(page).text
    assert "helpful" in html and SCRIPT not in html
    # Plain words need no quotes; the value is a string then.
    http.post(f"{page}/assessments", data={"name": "tone", "value": "friendly"})
    # Never redirected off this server; an empty name is refused; another site cannot post.
    off = http.post(
        f"{page}/assessments", data={"name": "x", "value": "1", "return_to": "//evil.example/"}
    )
    assert off.headers["location"] == page + "#assessments"
    empty = http.post(f"{page}/assessments", data={"name": " ", "value": "1"})
    assert empty.status_code == 400
    csrf = http.post(
        f"{page}/assessments",
        data={"name": "csrf", "value": "1"},
        headers={"Origin": "https://evil.example"},
    )
    assert csrf.status_code == 403
    assert "csrf" not in http.get(page).text


def test_runs_page_links_to_traces(http: httpx.Client, traced: Traced) -> None:
    html = http.get(f"/experiments/{traced.experiment}").text
    assert f'href="/experiments/{traced.experiment}/traces"' in html


# ---------------------------------------------------------------- browser
def rows(page: Page) -> Any:
    return page.locator("#span-rows .span-row")


def open_trace(page: Page, traced: Traced, trace_id: str, query: str = "") -> None:
    page.goto(f"{traced.url}/experiments/{traced.experiment}/traces/{trace_id}{query}")
    expect(page.locator("#trace-view[data-loaded=true]")).to_have_count(1)


def test_list_in_the_browser(page: Page, traced: Traced, shoot: Shoot) -> None:
    page.goto(f"{traced.url}/experiments/{traced.experiment}")
    page.locator(f'a[href="/experiments/{traced.experiment}/traces"]').first.click()
    expect(page.locator("#traces tbody tr")).to_have_count(33)
    shoot(page, "traces-list")
    page.fill("#trace-filter", "trace.status >>> 1")
    page.press("#trace-filter", "Enter")
    expect(page.get_by_test_id("filter-error")).to_be_visible()
    page.go_back()
    page.locator("th a[data-sort=duration]").click()
    expect(page.locator("#traces tbody tr").first).to_contain_text(_trace_id(100 + 29))
    page.locator("#traces").click(position={"x": 5, "y": 40})
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page.locator("#trace-view[data-loaded=true]")).to_have_count(1)


def test_tree_waterfall_details_and_history(page: Page, traced: Traced, shoot: Shoot) -> None:
    open_trace(page, traced, traced.agent)
    names = rows(page).locator(".span-name")
    expect(names).to_have_text(["agent", "plan", "search", "fetch_docs", "flaky_tool", "answer"])
    # The waterfall: bars start at the span's offset in the trace and are as wide as it lasts.
    bar = page.locator(f'.span-row[data-span-id="{_span_id(1, 6)}"] .span-bar')
    box = bar.evaluate("b => [parseFloat(b.style.left), parseFloat(b.style.width)]")
    assert box == [pytest.approx(70), pytest.approx(25)]
    page.locator(".span-row", has_text="search").click()
    expect(page.get_by_test_id("span-name")).to_have_text("search")
    assert page.url.endswith(f"?span={_span_id(1, 3)}")
    page.locator(".span-row", has_text="agent").first.click()
    inputs = page.get_by_test_id("span-inputs")
    # Pretty-printed: indented JSON, as text.
    expect(inputs).to_have_text(json.dumps(QUESTION, indent=2))
    page.go_back()
    expect(page.get_by_test_id("span-name")).to_have_text("search")
    page.go_forward()
    expect(page.get_by_test_id("span-name")).to_have_text("agent")
    page.locator(".span-row", has_text="flaky_tool").click()
    expect(page.get_by_test_id("span-error")).to_contain_text("RuntimeError: tool exploded")
    page.locator(".span-row", has_text="plan").click()
    expect(page.locator(".span-facts")).to_contain_text("total tokens: 15")
    expect(page.get_by_test_id("trace-tokens")).to_contain_text("42")
    shoot(page, "trace-view")
    # Collapse the search span's subtree with its toggle, then with the keyboard.
    search_row = page.locator(".span-row", has_text="search")
    search_row.locator(".span-toggle").click()
    expect(names).to_have_count(4)
    search_row.locator(".span-toggle").click()
    expect(names).to_have_count(6)
    page.locator(".span-row", has_text="agent").first.click()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("span-name")).to_have_text("plan")
    page.keyboard.press("ArrowLeft")  # a leaf: to its parent
    expect(page.get_by_test_id("span-name")).to_have_text("agent")
    page.keyboard.press("ArrowLeft")  # collapse the root
    expect(names).to_have_count(1)
    page.keyboard.press("ArrowRight")
    expect(names).to_have_count(6)
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    shoot(page, "trace-view-dark")


def test_deep_link_selects_and_feedback_on_a_span(page: Page, traced: Traced, shoot: Shoot) -> None:
    open_trace(page, traced, traced.agent, f"?span={_span_id(1, 4)}")
    expect(page.get_by_test_id("span-name")).to_have_text("fetch_docs")
    expect(page.locator(".span-row.is-selected")).to_have_text(re.compile("fetch_docs"))
    expect(page.get_by_test_id("span-outputs")).to_have_text(
        json.dumps([{"doc": "2+2=4"}], indent=2)
    )
    form = page.locator("#feedback-form")
    form.locator("input[name=name]").fill("grounded")
    form.locator("input[name=value]").fill("true")
    form.locator("textarea[name=rationale]").fill(IMG)
    form.locator("#feedback-span").check()
    form.locator("button[type=submit]").click()
    table = page.get_by_test_id("assessments")
    expect(table).to_contain_text("grounded")
    expect(table).to_contain_text(IMG)  # as text
    assert page.url.endswith(f"?span={_span_id(1, 4)}#assessments")
    row = table.locator("tr", has_text="grounded")
    expect(row.locator("a.span-link")).to_have_text(_span_id(1, 4))
    row.locator("a.span-link").click()
    expect(page.get_by_test_id("span-name")).to_have_text("fetch_docs")
    shoot(page, "trace-feedback")


def test_hostile_values_render_as_text(page: Page, traced: Traced, shoot: Shoot) -> None:
    open_trace(page, traced, traced.hostile)
    expect(rows(page).locator(".span-name")).to_have_text([SCRIPT, IMG])
    rows(page).nth(1).click()
    expect(page.get_by_test_id("span-name")).to_have_text(IMG)
    expect(page.locator(".span-attributes")).to_contain_text(SCRIPT)
    rows(page).nth(0).click()
    expect(page.get_by_test_id("span-outputs")).to_have_text(IMG)
    assert page.locator("img[src=x]").count() == 0
    shoot(page, "trace-hostile")
