"""``@wayline.trace`` on the four kinds of function, nesting, exceptions and argument capture,
checked through what the SQLite store holds."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import pytest

import wayline
import wayline as mlflow
from wayline.entities.trace import SpanStatusCode, Trace, TraceState
from wayline.errors import InvalidParameter

from ._support import by_name

Finished = Callable[[str | None], Trace]


def test_a_function_becomes_a_root_span_with_inputs_outputs_and_type(finished: Finished) -> None:
    @mlflow.trace(span_type="LLM", attributes={"model": "gpt", "n": 2})
    def ask(question: str, temperature: float = 0.5) -> dict[str, Any]:
        return {"answer": question.upper()}

    assert ask("why", temperature=0.1) == {"answer": "WHY"}
    trace = finished(mlflow.get_last_active_trace_id())

    [span] = trace.spans
    assert span.name == "ask" and span.is_root and span.span_type == "LLM"
    assert span.inputs == {"question": "why", "temperature": 0.1}
    assert span.outputs == {"answer": "WHY"}
    assert span.status_code is SpanStatusCode.OK
    assert span.attributes["model"] == "gpt" and span.attributes["n"] == 2
    assert span.attributes["mlflow.spanFunctionName"] == "ask"
    assert span.attributes["mlflow.traceRequestId"] == trace.info.trace_id
    assert span.attributes["mlflow.spanLogLevel"] == 20  # LLM spans log at INFO
    assert span.end_time_ns is not None and span.end_time_ns >= span.start_time_ns
    assert trace.info.state is TraceState.OK
    assert trace.info.tags["mlflow.traceName"] == "ask"


def test_defaults_are_captured_and_self_is_left_out(finished: Finished) -> None:
    class Agent:
        @wayline.trace
        def run(self, task: str, retries: int = 3, *extra: Any, **options: Any) -> str:
            return task

        @classmethod
        @wayline.trace
        def build(cls, name: str) -> str:
            return name

        @wayline.trace(name="helper")
        @staticmethod
        def util(x: int) -> int:
            return x + 1

    Agent().run("plan", 1, "more", verbose=True)
    run = finished(wayline.get_last_active_trace_id()).spans[0]
    assert run.inputs == {
        "task": "plan",
        "retries": 1,
        "extra": ["more"],
        "options": {"verbose": True},
    }

    Agent.build("x")
    assert finished(wayline.get_last_active_trace_id()).spans[0].inputs == {"name": "x"}

    assert Agent.util(1) == 2
    span = finished(wayline.get_last_active_trace_id()).spans[0]
    assert (span.name, span.inputs, span.outputs) == ("helper", {"x": 1}, 2)

    @wayline.trace
    def plain(a: int, b: int = 2, c: str = "z") -> int:
        return a + b

    plain(1, c="y")
    assert finished(wayline.get_last_active_trace_id()).spans[0].inputs == {
        "a": 1,
        "b": 2,
        "c": "y",
    }


def test_the_wrapper_keeps_name_doc_and_signature() -> None:
    def original(a: int, *, b: str = "x") -> str:
        """Docs."""
        return b * a

    traced = wayline.trace(original)
    assert traced.__name__ == "original" and traced.__doc__ == "Docs."
    assert inspect.signature(traced) == inspect.signature(original)
    assert traced(2, b="y") == "yy"


def test_nested_calls_form_one_tree(finished: Finished) -> None:
    @wayline.trace
    def leaf(i: int) -> int:
        return i * 10

    @wayline.trace
    def branch(i: int) -> int:
        with wayline.start_span("work") as span:
            span.set_inputs(i)
            return leaf(i) + 1

    @wayline.trace
    def root() -> list[int]:
        return [branch(1), branch(2)]

    assert root() == [11, 21]
    trace = finished(wayline.get_last_active_trace_id())
    assert len(trace.spans) == 7
    ids = {s.span_id: s for s in trace.spans}
    root_span = trace.root_span
    assert root_span is not None and root_span.name == "root"
    for span in trace.spans:
        if span is root_span:
            continue
        parent = ids[span.parent_id or ""]
        expected = {"branch": "root", "work": "branch", "leaf": "work"}[span.name]
        assert parent.name == expected
    assert {s.trace_id for s in trace.spans} == {trace.info.trace_id}


def test_an_exception_marks_the_span_error_and_goes_on_unchanged(finished: Finished) -> None:
    boom = ValueError("boom")

    @wayline.trace
    def fails() -> None:
        raise boom

    @wayline.trace
    def caller() -> str:
        try:
            fails()
        except ValueError:
            return "recovered"
        return "no"

    with pytest.raises(ValueError) as raised:
        fails()
    assert raised.value is boom
    trace = finished(wayline.get_last_active_trace_id())
    [span] = trace.spans
    assert span.status_code is SpanStatusCode.ERROR
    assert span.status_message == "ValueError: boom"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "boom"
    assert "raise boom" in event.attributes["exception.stacktrace"]
    assert span.attributes["mlflow.spanLogLevel"] == 40
    assert trace.info.state is TraceState.ERROR

    assert caller() == "recovered"
    spans = by_name(finished(wayline.get_last_active_trace_id()))
    assert spans["caller"].status_code is SpanStatusCode.OK
    assert spans["fails"].status_code is SpanStatusCode.ERROR


def test_outputs_set_in_the_body_are_kept(finished: Finished) -> None:
    @wayline.trace
    def shaped() -> str:
        span = wayline.get_current_active_span()
        assert span is not None
        span.set_outputs({"shown": True})
        return "raw"

    assert shaped() == "raw"
    assert finished(wayline.get_last_active_trace_id()).spans[0].outputs == {"shown": True}


def test_coroutines_are_traced_with_their_children(finished: Finished) -> None:
    @wayline.trace(span_type="TOOL")
    async def fetch(i: int) -> int:
        await asyncio.sleep(0.001)
        return i * 2

    @wayline.trace(span_type="AGENT")
    async def plan(n: int) -> list[int]:
        return list(await asyncio.gather(*(fetch(i) for i in range(n))))

    assert asyncio.run(plan(3)) == [0, 2, 4]
    trace = finished(wayline.get_last_active_trace_id())
    root = trace.root_span
    assert root is not None and root.name == "plan" and root.outputs == [0, 2, 4]
    children = [s for s in trace.spans if s is not root]
    assert sorted(s.inputs["i"] for s in children) == [0, 1, 2]
    assert all(s.parent_id == root.span_id and s.span_type == "TOOL" for s in children)

    @wayline.trace
    async def broken() -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        asyncio.run(broken())
    assert finished(wayline.get_last_active_trace_id()).info.state is TraceState.ERROR


def test_a_generator_span_covers_the_iteration_and_records_chunks(finished: Finished) -> None:
    @wayline.trace
    def step(i: int) -> int:
        return i

    @wayline.trace
    def stream(n: int) -> Iterator[int]:
        for i in range(n):
            yield step(i)

    @wayline.trace
    def outside() -> None:
        pass

    seen = []
    for item in stream(3):
        seen.append(item)
        # The consumer's code is not inside the generator's span: this is a trace of its own.
        assert wayline.get_current_active_span() is None
    stream_id = wayline.get_last_active_trace_id()
    outside()
    assert seen == [0, 1, 2]
    assert wayline.get_last_active_trace_id() != stream_id
    trace = finished(stream_id)
    root = trace.root_span
    assert root is not None and root.outputs == [0, 1, 2] and root.inputs == {"n": 3}
    assert [e.name for e in root.events] == [f"mlflow.chunk.item.{i}" for i in range(3)]
    assert [e.attributes["mlflow.chunk.value"] for e in root.events] == ["0", "1", "2"]
    steps = [s for s in trace.spans if s.name == "step"]
    assert len(steps) == 3 and all(s.parent_id == root.span_id for s in steps)
    assert root.end_time_ns is not None
    assert max(s.end_time_ns or 0 for s in steps) <= root.end_time_ns


def test_output_reducer_and_early_close(finished: Finished) -> None:
    @wayline.trace(output_reducer="".join)
    def words() -> Iterator[str]:
        yield "a"
        yield "b"

    assert list(words()) == ["a", "b"]
    assert finished(wayline.get_last_active_trace_id()).spans[0].outputs == "ab"

    @wayline.trace
    def endless() -> Iterator[int]:
        i = 0
        while True:
            yield i
            i += 1

    for i in endless():
        if i == 2:
            break
    trace = finished(wayline.get_last_active_trace_id())
    assert trace.spans[0].outputs == [0, 1, 2]
    assert trace.spans[0].status_code is SpanStatusCode.OK

    with pytest.raises(InvalidParameter, match="only supported for generator"):
        wayline.trace(output_reducer=list)(lambda: 1)


def test_a_generator_that_raises_and_one_fed_with_send(finished: Finished) -> None:
    @wayline.trace
    def fails() -> Iterator[int]:
        yield 1
        raise RuntimeError("mid-stream")

    with pytest.raises(RuntimeError, match="mid-stream"):
        list(fails())
    span = finished(wayline.get_last_active_trace_id()).spans[0]
    assert span.status_code is SpanStatusCode.ERROR
    assert [e.name for e in span.events] == ["mlflow.chunk.item.0", "exception"]

    @wayline.trace
    def echo() -> Generator[str, str, None]:
        received = yield "ready"
        yield f"got {received}"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("x") == "got x"
    gen.close()
    assert finished(wayline.get_last_active_trace_id()).spans[0].outputs == ["ready", "got x"]


def test_async_generators_are_traced(finished: Finished) -> None:
    @wayline.trace(span_type="LLM", output_reducer=" ".join)
    async def tokens(prompt: str) -> AsyncIterator[str]:
        for word in prompt.split():
            await asyncio.sleep(0)
            yield word

    async def consume() -> list[str]:
        return [t async for t in tokens("hello async world")]

    assert asyncio.run(consume()) == ["hello", "async", "world"]
    span = finished(wayline.get_last_active_trace_id()).spans[0]
    assert span.outputs == "hello async world" and span.span_type == "LLM"
    assert len(span.events) == 3

    @wayline.trace
    async def fails() -> AsyncIterator[int]:
        yield 1
        raise ValueError("async stream")

    async def drain() -> None:
        async for _ in fails():
            pass

    with pytest.raises(ValueError, match="async stream"):
        asyncio.run(drain())
    assert finished(wayline.get_last_active_trace_id()).info.state is TraceState.ERROR


def test_trace_destination_sends_new_traces_to_that_experiment(
    finished: Finished, client: Any
) -> None:
    other = client.create_experiment("destination")

    class Location:  # MLflow's experiment location objects carry an experiment_id
        experiment_id = other

    @mlflow.trace(trace_destination=Location(), log_level="WARNING", description="adds")
    def add(a: int, b: int) -> int:
        return inner(a) + b

    @mlflow.trace(trace_destination="0")  # a child: the trace's experiment is its root's
    def inner(a: int) -> int:
        return a

    add(1, 2)
    trace = finished(mlflow.get_last_active_trace_id())
    assert trace.info.experiment_id == other
    root = by_name(trace)["add"]
    assert root.attributes["mlflow.spanLogLevel"] == 30
    assert root.attributes["mlflow.spanDescription"] == "adds"
    assert {span.name for span in trace.spans} == {"add", "inner"}


def test_sampling_ratio_override_skips_whole_traces(finished: Finished, client: Any) -> None:
    @mlflow.trace(sampling_ratio_override=0.0)
    def never() -> int:
        return child()

    @mlflow.trace
    def child() -> int:
        return 1

    @mlflow.trace(sampling_ratio_override=1.0)
    def always() -> int:
        return 2

    before = mlflow.get_last_active_trace_id()
    assert never() == 1
    assert mlflow.get_last_active_trace_id() == before  # neither never nor child was traced
    always()
    assert finished(mlflow.get_last_active_trace_id()).spans[0].name == "always"


def test_bad_decorator_options_are_refused_at_decoration() -> None:
    with pytest.raises(InvalidParameter, match="sampling_ratio_override"):
        mlflow.trace(sampling_ratio_override=1.5)
    with pytest.raises(InvalidParameter, match="trace_destination"):
        mlflow.trace(trace_destination=object())
    with pytest.raises(InvalidParameter, match="log_level"):
        mlflow.trace(log_level="LOUD")
