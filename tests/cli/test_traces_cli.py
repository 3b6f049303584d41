"""`wayline traces list|show|delete|tag|feedback` on a real SQLite store."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from wayline.cli.main import cli
from wayline.entities.trace import Span, SpanAttributeKey, SpanStatusCode
from wayline.store.backend import Store
from wayline.tracking.client import Client

NOW_NS = time.time_ns()


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def trace_spans(number: int, failed: bool = False, children: int = 2) -> list[Span]:
    trace_id = f"tr-{number:032x}"
    start = NOW_NS + number * 1_000_000_000
    root = Span(
        trace_id,
        f"{number:016x}",
        None,
        f"agent-{number}",
        start,
        start + 50_000_000,
        SpanStatusCode.ERROR if failed else SpanStatusCode.OK,
        attributes={
            SpanAttributeKey.SPAN_TYPE: "AGENT",
            SpanAttributeKey.INPUTS: {"question": f"q{number}"},
            SpanAttributeKey.OUTPUTS: "an answer",
        },
    )
    llms = [
        Span(
            trace_id,
            f"{number:08x}{child + 1:08x}",
            root.span_id,
            f"llm-{child}",
            start + (child + 1) * 1_000_000,
            start + (child + 2) * 1_000_000,
            SpanStatusCode.OK,
            attributes={
                SpanAttributeKey.SPAN_TYPE: "LLM",
                SpanAttributeKey.TOKEN_USAGE: {
                    "input_tokens": 10,
                    "output_tokens": 5,
                    "total_tokens": 15,
                },
            },
        )
        for child in range(children)
    ]
    return [root, *llms]


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    uri = f"sqlite:///{tmp_path / 'traces.db'}"
    store = Client(uri).store
    assert isinstance(store, Store)
    store.log_spans("0", trace_spans(1))
    store.log_spans("0", trace_spans(2, failed=True))
    store.log_spans("0", trace_spans(3, children=300))
    return uri


def test_list_shows_newest_first_and_filters(store_uri: str) -> None:
    listed = json.loads(run("traces", "list", "--json", "--tracking-uri", store_uri).output)
    assert [t["name"] for t in listed] == ["agent-3", "agent-2", "agent-1"]
    assert listed[2]["trace_metadata"]["mlflow.trace.tokenUsage"]

    failed = run(
        "traces", "list", "--filter", "trace.status = 'ERROR'", "--tracking-uri", store_uri
    ).output
    assert f"tr-{2:032x}" in failed
    assert f"tr-{1:032x}" not in failed
    assert "ERROR" in failed


def test_bad_filter_is_one_line_error(store_uri: str) -> None:
    result = run(
        "traces", "list", "--filter", "trace.colour = 'red'", "--tracking-uri", store_uri, code=1
    )
    assert "INVALID_PARAMETER_VALUE" in result.output


def test_show_prints_the_tree_up_to_the_limit(store_uri: str) -> None:
    shown = run("traces", "show", f"tr-{3:032x}", "--max-spans", "20", "--tracking-uri", store_uri)
    assert "agent-3" in shown.output
    assert "llm-0" in shown.output
    assert "281 more spans" in shown.output
    as_json = json.loads(
        run("traces", "show", f"tr-{1:032x}", "--json", "--tracking-uri", store_uri).output
    )
    assert [s["name"] for s in as_json["spans"]] == ["agent-1", "llm-0", "llm-1"]
    assert as_json["info"]["state"] == "OK"


def test_missing_trace_says_so(store_uri: str) -> None:
    result = run("traces", "show", f"tr-{9:032x}", "--tracking-uri", store_uri, code=1)
    assert "RESOURCE_DOES_NOT_EXIST" in result.output


def test_tag_and_feedback(store_uri: str) -> None:
    trace_id = f"tr-{1:032x}"
    run("traces", "tag", trace_id, "reviewed", "yes", "--tracking-uri", store_uri)
    run(
        "traces",
        "feedback",
        trace_id,
        "correct",
        "true",
        "--rationale",
        "ok",
        "--tracking-uri",
        store_uri,
    )
    shown = json.loads(
        run("traces", "show", trace_id, "--json", "--tracking-uri", store_uri).output
    )
    assert shown["info"]["tags"]["reviewed"] == "yes"
    assert [(a["name"], a["value"]) for a in shown["info"]["assessments"]] == [("correct", True)]
    run("traces", "tag", trace_id, "reviewed", "--delete", "--tracking-uri", store_uri)
    shown = json.loads(
        run("traces", "show", trace_id, "--json", "--tracking-uri", store_uri).output
    )
    assert "reviewed" not in shown["info"]["tags"]


def test_delete_by_id_and_by_age(store_uri: str) -> None:
    run("traces", "delete", "-x", "0", "--trace-id", f"tr-{1:032x}", "--tracking-uri", store_uri)
    assert len(json.loads(run("traces", "list", "--json", "--tracking-uri", store_uri).output)) == 2
    # All remaining traces started within seconds from now: none is a day old.
    kept = run("traces", "delete", "-x", "0", "--older-than", "1d", "--tracking-uri", store_uri)
    assert "Deleted 0 traces." in kept.output
    run("traces", "delete", "-x", "0", "--tracking-uri", store_uri, code=1)
