"""Traces made by hand: the client's start_trace/start_span/end_span/end_trace, ``log_trace`` and
``add_trace``, read back from the store."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import wayline
from wayline.entities.trace import SpanStatusCode, Trace
from wayline.errors import InvalidParameter, NotFound
from wayline.tracking.client import Client

Finished = Callable[[str | None], Trace]


def test_spans_started_and_ended_by_id(client: Client, finished: Finished) -> None:
    root = client.start_trace(
        "agent", span_type="AGENT", inputs={"q": "hi"}, tags={"team": "red"}, start_time_ns=1_000
    )
    assert root.trace_id is not None and root.span_id is not None
    llm = client.start_span(
        "llm", root.trace_id, root.span_id, span_type="LLM", inputs=["hi"], start_time_ns=2_000
    )
    tool = client.start_span("tool", root.trace_id, llm.span_id or "", start_time_ns=3_000)
    client.end_span(root.trace_id, tool.span_id or "", outputs=1, end_time_ns=4_000)
    client.end_span(
        root.trace_id, llm.span_id or "", outputs="hello", status="ERROR", end_time_ns=5_000
    )
    client.end_trace(root.trace_id, outputs={"a": "hello"}, end_time_ns=6_000)

    trace = finished(root.trace_id)
    by_name = {span.name: span for span in trace.spans}
    assert by_name["agent"].parent_id is None
    assert by_name["llm"].parent_id == by_name["agent"].span_id
    assert by_name["tool"].parent_id == by_name["llm"].span_id
    assert by_name["llm"].span_type == "LLM" and by_name["llm"].inputs == ["hi"]
    assert by_name["llm"].status_code == SpanStatusCode.ERROR
    assert (by_name["tool"].start_time_ns, by_name["tool"].end_time_ns) == (3_000, 4_000)
    assert by_name["agent"].outputs == {"a": "hello"}
    assert trace.info.tags["team"] == "red"


def test_unknown_or_ended_spans_are_named_in_the_error(client: Client) -> None:
    root = client.start_trace("root")
    assert root.trace_id is not None and root.span_id is not None
    with pytest.raises(NotFound, match="not in progress"):
        client.start_span("child", root.trace_id, "0" * 16)
    child = client.start_span("child", root.trace_id, root.span_id)
    client.end_span(root.trace_id, child.span_id or "")
    with pytest.raises(NotFound, match="ended already"):
        client.end_span(root.trace_id, child.span_id or "")
    client.end_trace(root.trace_id)
    with pytest.raises(NotFound):
        client.end_trace(root.trace_id)


def test_ending_the_root_with_end_span_ends_the_trace(client: Client, finished: Finished) -> None:
    root = client.start_trace("root")
    assert root.trace_id is not None and root.span_id is not None
    client.end_span(root.trace_id, root.span_id, outputs="done")
    assert finished(root.trace_id).spans[0].outputs == "done"


def test_log_trace_records_one_finished_span(finished: Finished) -> None:
    trace_id = wayline.log_trace(
        name="qa",
        request={"question": "2 + 2?"},
        response="4",
        intermediate_outputs={"retrieved": ["doc"]},
        attributes={"model": "m"},
        tags={"source": "batch"},
        start_time_ms=1_700_000_000_000,
        execution_time_ms=120,
    )
    trace = finished(trace_id)
    (span,) = trace.spans
    assert span.name == "qa" and span.inputs == {"question": "2 + 2?"} and span.outputs == "4"
    assert span.attributes["intermediate_outputs"] == {"retrieved": ["doc"]}
    assert span.attributes["model"] == "m"
    assert trace.info.tags["source"] == "batch"
    assert trace.info.request_time_ms == 1_700_000_000_000
    assert trace.info.execution_duration_ms == 120


def test_add_trace_grafts_a_remote_trace_under_the_current_span(
    client: Client, finished: Finished
) -> None:
    with wayline.start_span("remote-root", span_type="CHAIN") as remote_root:
        remote_root.set_inputs({"x": 1})
        with wayline.start_span("remote-llm", span_type="LLM") as llm:
            llm.set_outputs("y")
            llm.set_status("ERROR")
    remote = finished(wayline.get_last_active_trace_id())

    with wayline.start_span("local") as local:
        wayline.add_trace(remote)
    trace = finished(local.trace_id)
    by_name = {span.name: span for span in trace.spans}
    assert set(by_name) == {"local", "remote-root", "remote-llm"}
    assert by_name["remote-root"].parent_id == by_name["local"].span_id
    assert by_name["remote-llm"].parent_id == by_name["remote-root"].span_id
    assert by_name["remote-root"].span_type == "CHAIN" and by_name["remote-root"].inputs == {"x": 1}
    assert by_name["remote-llm"].status_code == SpanStatusCode.ERROR
    original = {span.name: span for span in remote.spans}
    assert by_name["remote-llm"].start_time_ns == original["remote-llm"].start_time_ns
    assert by_name["remote-llm"].end_time_ns == original["remote-llm"].end_time_ns


def test_add_trace_takes_mlflows_dict_form(finished: Finished) -> None:
    with wayline.start_span("remote") as remote_span:
        remote_span.set_outputs("r")
    remote = finished(remote_span.trace_id)
    as_dict = {"info": {}, "data": {"spans": [span.to_dict() for span in remote.spans]}}
    with wayline.start_span("local") as local:
        wayline.add_trace(as_dict)
    names = sorted(span.name for span in finished(local.trace_id).spans)
    assert names == ["local", "remote"]


def test_add_trace_outside_a_span_says_what_to_do() -> None:
    with pytest.raises(InvalidParameter, match="inside a traced function"):
        wayline.add_trace({"info": {}, "data": {"spans": []}})
    with pytest.raises(InvalidParameter, match=r"data\.spans"), wayline.start_span("local"):
        wayline.add_trace({"nothing": 1})
