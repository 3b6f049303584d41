"""``start_span``, ``start_span_no_context`` and ``LiveSpan``'s methods: attributes of any value,
events, status, and the current span."""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from typing import Any

import pytest

import wayline
from wayline import tracing
from wayline.entities.trace import SpanEvent, SpanStatusCode, Trace
from wayline.tracing import LiveSpan, NoOpSpan

from ._support import by_name

Finished = Callable[[str | None], Trace]


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Dumpable:
    """Shaped like a pydantic model (the LLM SDKs' responses)."""

    def model_dump(self) -> dict[str, Any]:
        return {"kind": "dumped"}


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def test_start_span_records_what_the_block_sets(finished: Finished) -> None:
    with wayline.start_span("retrieve", span_type="RETRIEVER", attributes={"k": 1}) as span:
        assert isinstance(span, LiveSpan) and wayline.get_current_active_span() is span
        assert span.trace_id is not None and span.trace_id.startswith("tr-")
        assert len(span.trace_id) == 35 and len(span.span_id or "") == 16
        assert span.name == "retrieve" and span.span_type == "RETRIEVER"
        span.set_inputs({"query": "cats"})
        span.set_outputs(["doc-1", "doc-2"])
        span.set_attribute("score", 0.5)
        span.set_attributes({"flags": [True, False], "meta": {"a": None}})
        span.add_event(SpanEvent("cache-miss", attributes={"key": "q", "n": 3, "nested": {"x": 1}}))
        assert span.inputs == {"query": "cats"} and span.get_attribute("score") == 0.5
    assert wayline.get_current_active_span() is None
    trace = finished(span.trace_id)

    [stored] = trace.spans
    assert stored.span_type == "RETRIEVER"
    assert stored.inputs == {"query": "cats"} and stored.outputs == ["doc-1", "doc-2"]
    assert stored.attributes["k"] == 1 and stored.attributes["score"] == 0.5
    assert stored.attributes["flags"] == [True, False]
    assert stored.attributes["meta"] == {"a": None}
    [event] = stored.events
    assert event.name == "cache-miss" and event.time_unix_nano > 0
    assert event.attributes == {"key": "q", "n": 3, "nested": '{"x":1}'}


def test_any_value_is_recorded_without_raising(finished: Finished) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with wayline.start_span("values") as span:
        span.set_attributes(
            {
                "dataclass": Point(1, 2),
                "model": Dumpable(),
                "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
                "set": {3},
                "huge": 2**80,
                "cycle": loop,
                "bad": Unprintable(),
                "type": Point,
                "tuple": (1, "a"),
                "unicode": "héllo ✓",
            }
        )
    attrs = finished(span.trace_id).spans[0].attributes
    assert attrs["dataclass"] == {"x": 1, "y": 2}
    assert attrs["model"] == {"kind": "dumped"}
    assert attrs["when"] == "2026-01-02T03:04:05"
    assert attrs["set"] == [3]
    assert attrs["huge"] == 2**80
    assert isinstance(attrs["cycle"], str)
    assert attrs["bad"] == "<Unprintable>"
    assert attrs["type"] == "Point"
    assert attrs["tuple"] == [1, "a"]
    assert attrs["unicode"] == "héllo ✓"


def test_an_exception_in_the_block_marks_the_span_and_propagates(finished: Finished) -> None:
    with pytest.raises(ZeroDivisionError), wayline.start_span("divide") as span:
        _ = 1 / 0
    stored = finished(span.trace_id).spans[0]
    assert stored.status_code is SpanStatusCode.ERROR
    assert stored.status_message == "ZeroDivisionError: division by zero"
    assert stored.events[0].attributes["exception.type"] == "ZeroDivisionError"


def test_status_can_be_set_by_name_or_code(finished: Finished) -> None:
    with wayline.start_span("root") as root:
        with wayline.start_span("bad") as bad:
            bad.set_status("ERROR")
        with wayline.start_span("explicit") as explicit:
            explicit.set_status(SpanStatusCode.OK)
        with wayline.start_span("noted") as noted:
            noted.record_exception("a plain message")
        with wayline.start_span("unknown") as unknown:
            unknown.set_status("MAYBE")  # logged and ignored
    spans = by_name(finished(root.trace_id))
    assert spans["bad"].status_code is SpanStatusCode.ERROR
    assert spans["explicit"].status_code is SpanStatusCode.OK
    assert spans["noted"].status_code is SpanStatusCode.ERROR
    assert spans["noted"].status_message == "Exception: a plain message"
    assert spans["unknown"].status_code is SpanStatusCode.OK
    assert spans["root"].status_code is SpanStatusCode.OK
    assert explicit.status is SpanStatusCode.OK


def test_set_span_type_changes_the_type(finished: Finished) -> None:
    with wayline.start_span("s") as span:
        span.set_span_type("CHAT_MODEL")
        assert span.span_type == "CHAT_MODEL"
    stored = finished(span.trace_id).spans[0]
    assert stored.span_type == "CHAT_MODEL"
    assert stored.attributes["mlflow.spanLogLevel"] == 20


def test_spans_without_context_for_streams(finished: Finished) -> None:
    start = time.time_ns() - 5_000_000
    root = tracing.start_span_no_context(
        "chat",
        span_type="CHAIN",
        inputs={"q": "hi"},
        attributes={"a": 1},
        tags={"channel": "api"},
        metadata={"tenant": "t1"},
        start_time_ns=start,
    )
    assert wayline.get_current_active_span() is None  # not made current
    child = tracing.start_span_no_context("llm", "LLM", parent_span=root)
    assert child.parent_id == root.span_id and child.trace_id == root.trace_id
    child.end(outputs="hello", attributes={"tokens": 3}, status="OK")
    child.end(outputs="ignored")  # a second end does nothing
    root.end(outputs={"text": "hello"}, end_time_ns=start + 40_000_000)

    trace = finished(root.trace_id)
    spans = by_name(trace)
    assert spans["llm"].outputs == "hello" and spans["llm"].attributes["tokens"] == 3
    assert spans["llm"].parent_id == spans["chat"].span_id
    assert spans["chat"].start_time_ns == start
    assert spans["chat"].end_time_ns == start + 40_000_000
    assert spans["chat"].span_type == "CHAIN" and spans["chat"].inputs == {"q": "hi"}
    assert trace.info.tags["channel"] == "api"
    assert trace.info.trace_metadata["tenant"] == "t1"
    assert trace.info.execution_duration_ms == 40
    assert trace.info.request_time_ms == start // 1_000_000


def test_a_span_ending_after_its_root_is_dropped(finished: Finished) -> None:
    root = tracing.start_span_no_context("root")
    late = tracing.start_span_no_context("late", parent_span=root)
    root.end()
    late.end()
    assert [s.name for s in finished(root.trace_id).spans] == ["root"]


def test_disabled_tracing_yields_spans_that_record_nothing(finished: Finished) -> None:
    calls = []

    @wayline.trace
    def work(x: int) -> int:
        calls.append(x)
        return x

    before = wayline.get_last_active_trace_id()
    tracing.disable()
    assert not tracing.is_enabled()
    assert work(1) == 1
    with wayline.start_span("nothing") as span:
        assert isinstance(span, NoOpSpan) and span.trace_id is None
        span.set_inputs({"a": 1})
        span.set_attribute("x", 1)
        span.add_event(SpanEvent("e"))
        span.end()
        assert wayline.get_current_active_span() is None
    assert isinstance(tracing.start_span_no_context("x"), NoOpSpan)
    wayline.update_current_trace(tags={"a": "b"})  # outside a trace: a warning only
    assert wayline.get_last_active_trace_id() == before
    tracing.enable()
    assert work(2) == 2
    assert calls == [1, 2]
    assert finished(wayline.get_last_active_trace_id()).spans[0].inputs == {"x": 2}
