"""Trace infos and spans, on every backend: start (upsert), read, spans in batches and pages,
infos made from root spans, token usage totals, tags, links, deletion."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from wayline.entities import Run
from wayline.entities.trace import Span, SpanEvent, SpanStatusCode, TraceState
from wayline.errors import InvalidParameter, NotFound
from wayline.store.backend import Store

from ._support import StoreFactory, raises
from ._trace_support import (
    T0_MS,
    comparable,
    make_info,
    make_span,
    new_trace_id,
    span_id,
    traces,
)

USAGE = "mlflow.chat.tokenUsage"


def _experiment(store: Store) -> tuple[str, str]:
    experiment_id = store.create_experiment(f"traces-{new_trace_id()[3:13]}")
    return experiment_id, store.get_experiment(experiment_id).artifact_location


# ---------------------------------------------------------------- start_trace and reads
def test_start_trace_adds_server_tags_and_reads_back(store: Store) -> None:
    ts = traces(store)
    experiment_id, location = _experiment(store)
    trace_id = new_trace_id()
    info = make_info(trace_id, experiment_id, client_request_id="req-1", metadata={"k": "v"})

    stored = ts.start_trace(info)

    assert stored.tags == {
        "mlflow.traceName": "outer",
        "mlflow.artifactLocation": f"{location}/traces/{trace_id}/artifacts",
    }
    assert stored.trace_metadata == {
        "mlflow.trace_schema.version": "3",
        "k": "v",
        "mlflow.trace.infoFinalized": "true",
    }
    assert (stored.request_time_ms, stored.execution_duration_ms) == (T0_MS, 25)
    assert (stored.state, stored.client_request_id) == (TraceState.OK, "req-1")
    assert (stored.request_preview, stored.response_preview) == ('{"x": 3}', "6")
    assert ts.get_trace_info(trace_id) == stored


def test_start_trace_is_an_upsert(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    ts.start_trace(
        make_info(trace_id, experiment_id, state=TraceState.IN_PROGRESS, duration_ms=None)
    )
    ts.set_trace_tag(trace_id, "kept", "yes")

    again = ts.start_trace(make_info(trace_id, experiment_id, tags={"new": "1"}))

    assert again.state == TraceState.OK and again.execution_duration_ms == 25
    assert again.tags["kept"] == "yes" and again.tags["new"] == "1"
    found = ts.search_traces([experiment_id])
    assert [t.trace_id for t in found] == [trace_id]


def test_start_trace_and_reads_refuse_what_does_not_exist(store: Store) -> None:
    ts = traces(store)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.start_trace(make_info(new_trace_id(), "987654"))
    missing = new_trace_id()
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.get_trace_info(missing)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.get_spans(missing)
    experiment_id, _ = _experiment(store)
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.start_trace(make_info("", experiment_id))


def test_batch_get_trace_infos_keeps_the_order_asked(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    ids = [new_trace_id() for _ in range(3)]
    for trace_id in ids:
        ts.start_trace(make_info(trace_id, experiment_id))

    found = ts.batch_get_trace_infos([ids[2], new_trace_id(), ids[0]])

    assert [info.trace_id for info in found] == [ids[2], ids[0]]


# ---------------------------------------------------------------- spans
def _agent_trace(trace_id: str) -> list[Span]:
    return [
        make_span(
            trace_id,
            1,
            name="agent",
            duration_ms=40,
            span_type="AGENT",
            mlflow__spanInputs={"question": "cats?"},
            mlflow__spanOutputs="meow",
        ),
        make_span(
            trace_id,
            2,
            1,
            name="llm-a",
            start_ms=5,
            span_type="LLM",
            attributes={USAGE: {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}},
        ),
        make_span(
            trace_id,
            3,
            1,
            name="llm-b",
            start_ms=20,
            span_type="LLM",
            attributes={
                USAGE: {"input_tokens": 10, "output_tokens": 1, "total_tokens": 11},
                "mlflow.llm.cost": {"input_cost": 0.5, "output_cost": 0.25, "total_cost": 0.75},
            },
        ),
    ]


def test_log_spans_makes_the_info_from_the_root_span(store: Store) -> None:
    ts = traces(store)
    experiment_id, location = _experiment(store)
    trace_id = new_trace_id()

    [info] = ts.log_spans(experiment_id, _agent_trace(trace_id))

    assert info.trace_id == trace_id and info.experiment_id == experiment_id
    assert (info.request_time_ms, info.execution_duration_ms) == (T0_MS, 40)
    assert info.state == TraceState.OK
    assert info.request_preview == '{"question": "cats?"}'
    assert info.response_preview == '"meow"'
    assert info.tags == {
        "mlflow.traceName": "agent",
        "mlflow.artifactLocation": f"{location}/traces/{trace_id}/artifacts",
        "mlflow.trace.spansLocation": "TRACKING_STORE",
    }
    metadata = info.trace_metadata
    assert metadata["mlflow.traceInputs"] == '{"question": "cats?"}'
    assert metadata["mlflow.traceOutputs"] == '"meow"'
    assert json.loads(metadata["mlflow.trace.tokenUsage"]) == {
        "input_tokens": 13,
        "output_tokens": 5,
        "total_tokens": 18,
    }
    assert json.loads(metadata["mlflow.trace.cost"]) == {
        "input_cost": 0.5,
        "output_cost": 0.25,
        "total_cost": 0.75,
    }
    assert ts.get_trace_info(trace_id) == info


def test_token_usage_rolled_up_on_a_parent_counts_once(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    usage = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    rollup = {"input_tokens": 2, "output_tokens": 2, "total_tokens": 4}
    spans = [
        make_span(trace_id, 1, name="root"),
        make_span(trace_id, 2, 1, attributes={USAGE: rollup}),
        make_span(trace_id, 3, 2, attributes={USAGE: usage}),
        make_span(trace_id, 4, 2, attributes={USAGE: usage}),
    ]

    [info] = ts.log_spans(experiment_id, spans)

    assert info.token_usage == rollup


def test_spans_before_their_root_give_an_in_progress_info_then_a_complete_one(
    store: Store,
) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    root, *children = _agent_trace(trace_id)

    [partial] = ts.log_spans(experiment_id, children)
    assert partial.state == TraceState.IN_PROGRESS
    assert partial.execution_duration_ms is None
    assert partial.request_time_ms == T0_MS + 5
    assert partial.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"

    [complete] = ts.log_spans(experiment_id, [root])
    assert complete.state == TraceState.OK
    assert (complete.request_time_ms, complete.execution_duration_ms) == (T0_MS, 40)
    assert complete.tags["mlflow.traceName"] == "agent"
    assert complete.token_usage == {"input_tokens": 13, "output_tokens": 5, "total_tokens": 18}
    assert [s.name for s in ts.iter_spans(trace_id)] == ["agent", "llm-a", "llm-b"]


def test_spans_after_their_root_add_to_the_totals(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    root, first, second = _agent_trace(trace_id)
    # A rollup child below `first` is covered by it and must not count.
    below = make_span(
        trace_id,
        4,
        2,
        attributes={USAGE: {"input_tokens": 50, "output_tokens": 50, "total_tokens": 100}},
    )

    ts.log_spans(experiment_id, [root])
    ts.log_spans(experiment_id, [first])
    [info] = ts.log_spans(experiment_id, [second, below])

    assert info.token_usage == {"input_tokens": 13, "output_tokens": 5, "total_tokens": 18}
    assert json.loads(info.trace_metadata["mlflow.trace.cost"])["total_cost"] == 0.75


def test_totals_a_client_gave_are_kept(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    given = {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}
    ts.start_trace(
        make_info(trace_id, experiment_id, metadata={"mlflow.trace.tokenUsage": json.dumps(given)})
    )

    [info] = ts.log_spans(experiment_id, _agent_trace(trace_id))

    assert info.token_usage == given
    assert json.loads(info.trace_metadata["mlflow.trace.cost"])["total_cost"] == 0.75


def test_the_client_info_wins_over_the_one_made_from_spans(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    spans_first, info_first = new_trace_id(), new_trace_id()

    ts.log_spans(experiment_id, _agent_trace(spans_first))
    after = ts.start_trace(make_info(spans_first, experiment_id, duration_ms=99))
    assert after.execution_duration_ms == 99 and after.tags["mlflow.traceName"] == "outer"
    assert after.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert after.trace_metadata["mlflow.trace.infoFinalized"] == "true"
    assert after.token_usage == {"input_tokens": 13, "output_tokens": 5, "total_tokens": 18}

    ts.start_trace(make_info(info_first, experiment_id, duration_ms=99))
    [merged] = ts.log_spans(experiment_id, _agent_trace(info_first))
    assert merged.execution_duration_ms == 99 and merged.tags["mlflow.traceName"] == "outer"
    assert merged.request_preview == '{"x": 3}'
    assert merged.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"


def test_an_error_root_makes_an_error_trace(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    root = make_span(trace_id, 1, status=SpanStatusCode.ERROR)
    root.status_message = "ValueError: boom"
    root.events.append(SpanEvent("exception", root.start_time_ns, {"exception.message": "boom"}))

    [info] = ts.log_spans(experiment_id, [root])

    assert info.state == TraceState.ERROR
    [span] = ts.get_spans(trace_id)
    assert span.status_code == SpanStatusCode.ERROR
    assert span.status_message == "ValueError: boom"
    assert comparable([span])[0].events == root.events


def test_spans_read_back_as_written_and_a_resent_span_replaces_the_old(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    written = _agent_trace(trace_id)
    ts.log_spans(experiment_id, written)

    assert comparable(list(ts.iter_spans(trace_id))) == written
    assert comparable(ts.get_trace(trace_id).spans) == written

    renamed = make_span(trace_id, 2, 1, name="renamed", start_ms=5, span_type="LLM")
    ts.log_spans(experiment_id, [renamed])
    assert [s.name for s in ts.iter_spans(trace_id)] == ["agent", "renamed", "llm-b"]


def test_spans_page_in_start_time_order(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    # Equal start times are ordered by span id; the root starts first.
    spans = [make_span(trace_id, 1, duration_ms=100)]
    spans += [make_span(trace_id, n, 1, start_ms=(n % 3)) for n in range(2, 12)]
    ts.log_spans(experiment_id, list(reversed(spans)))

    pages, token = [], None
    while True:
        page = ts.get_spans(trace_id, max_results=4, page_token=token)
        pages.append([s.span_id for s in page])
        token = page.token
        if not token:
            break

    expected = sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))
    assert [len(p) for p in pages] == [4, 4, 3]
    assert [i for p in pages for i in p] == [s.span_id for s in expected]


def test_get_spans_refuses_bad_paging(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    ts.log_spans(experiment_id, [make_span(trace_id, 1)])
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.get_spans(trace_id, page_token="not-a-token")
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.get_spans(trace_id, max_results=0)
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.get_spans(trace_id, max_results=10_001)


def test_log_spans_refuses_bad_input(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.log_spans("987654", [make_span(new_trace_id(), 1)])
    bad = make_span(new_trace_id(), 1)
    bad.span_id = "xyz"
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.log_spans(experiment_id, [bad])
    assert ts.log_spans(experiment_id, []) == []


def _big_trace(trace_id: str, count: int) -> list[Span]:
    root = make_span(trace_id, 1, name="root", duration_ms=count)
    children = [
        make_span(
            trace_id,
            n,
            1,
            name=f"step-{n}",
            start_ms=n // 10,
            span_type="TOOL",
            mlflow__spanInputs={"n": n},
            attributes={USAGE: {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}},
        )
        for n in range(2, count + 1)
    ]
    return [root, *children]


def _read_all(store: Store, trace_id: str, page_size: int) -> list[str]:
    return [span.span_id for span in traces(store).iter_spans(trace_id, page_size=page_size)]


def test_fifty_thousand_spans_in_one_call_read_back_page_by_page(
    sqlite_opener: StoreFactory,
) -> None:
    # On SQLite here (a few seconds); every backend in the slow test below.
    store = sqlite_opener()
    try:
        _check_big_trace(store, 50_000)
    finally:
        store.close()


@pytest.mark.slow
def test_fifty_thousand_spans_on_every_backend(store: Store) -> None:
    _check_big_trace(store, 50_000)


def _check_big_trace(store: Store, count: int) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    spans = _big_trace(trace_id, count)

    [info] = ts.log_spans(experiment_id, spans)

    assert info.token_usage == {
        "input_tokens": count - 1,
        "output_tokens": count - 1,
        "total_tokens": 2 * (count - 1),
    }
    expected = [s.span_id for s in sorted(spans, key=lambda s: (s.start_time_ns, s.span_id))]
    assert _read_all(store, trace_id, page_size=5000) == expected
    last = ts.get_spans(trace_id, max_results=3, page_token=None)
    assert [s.span_id for s in last] == [span_id(1), span_id(2), span_id(3)]
    assert ts.search_traces([experiment_id], "span.name = 'step-49999'")[0].trace_id == trace_id


# ---------------------------------------------------------------- tags and links
def test_trace_tags_set_and_delete(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    ts.start_trace(make_info(trace_id, experiment_id))

    ts.set_trace_tag(trace_id, "env", "prod")
    ts.set_trace_tag(trace_id, "env", "staging")
    assert ts.get_trace_info(trace_id).tags["env"] == "staging"
    ts.delete_trace_tag(trace_id, "env")
    assert "env" not in ts.get_trace_info(trace_id).tags

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.delete_trace_tag(trace_id, "env")
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.set_trace_tag(new_trace_id(), "env", "x")
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.set_trace_tag(trace_id, "", "x")
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.set_trace_tag(trace_id, "long", "x" * 8001)


def test_linked_traces_are_found_by_run_id(store: Store, make_run: Callable[..., Run]) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    run = make_run(experiment_id)
    created_in_run, linked, unrelated = new_trace_id(), new_trace_id(), new_trace_id()
    ts.start_trace(
        make_info(created_in_run, experiment_id, metadata={"mlflow.sourceRun": run.info.run_id})
    )
    ts.start_trace(make_info(linked, experiment_id, request_time_ms=T0_MS + 1))
    ts.start_trace(make_info(unrelated, experiment_id, request_time_ms=T0_MS + 2))

    ts.link_traces_to_run([linked], run.info.run_id)
    ts.link_traces_to_run([linked], run.info.run_id)  # linking twice is harmless

    found = ts.search_traces([experiment_id], f"trace.run_id = '{run.info.run_id}'")
    assert [t.trace_id for t in found] == [linked, created_in_run]
    other = ts.search_traces([experiment_id], f"attribute.run_id != '{run.info.run_id}'")
    assert list(other) == []
    by_metadata = f"metadata.`mlflow.sourceRun` = '{run.info.run_id}'"
    assert [t.trace_id for t in ts.search_traces([experiment_id], by_metadata)] == [
        linked,
        created_in_run,
    ]
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.link_traces_to_run([linked], "0" * 32)
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.link_traces_to_run([new_trace_id() for _ in range(101)], run.info.run_id)


def test_a_trace_linked_before_it_is_stored_is_found_once_it_arrives(
    store: Store, make_run: Callable[..., Run]
) -> None:
    # Asynchronous export can send the link before the trace (MLflow records it all the same).
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    run_id = make_run(experiment_id).info.run_id
    by_info, by_spans, never_stored = new_trace_id(), new_trace_id(), new_trace_id()

    ts.link_traces_to_run([by_info, by_spans, never_stored], run_id)
    ts.start_trace(make_info(by_info, experiment_id))
    ts.log_spans(experiment_id, _agent_trace(by_spans))

    for filter_string in (
        f"trace.run_id = '{run_id}'",
        f"metadata.`mlflow.sourceRun` = '{run_id}'",
    ):
        found = ts.search_traces([experiment_id], filter_string)
        assert sorted(t.trace_id for t in found) == sorted([by_info, by_spans]), filter_string
    # Other comparators on the metadata key see the entry only, as in MLflow.
    assert list(ts.search_traces([experiment_id], "metadata.`mlflow.sourceRun` != 'x'")) == []
    assert ts.delete_traces(experiment_id, trace_ids=[by_info]) == 1
    found = ts.search_traces([experiment_id], f"trace.run_id = '{run_id}'")
    assert [t.trace_id for t in found] == [by_spans]


def test_link_prompts_merges_into_the_linked_prompts_tag(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    ts.start_trace(make_info(trace_id, experiment_id))

    ts.link_prompts_to_trace(trace_id, [("qa", "1")])
    ts.link_prompts_to_trace(trace_id, [("qa", "1"), ("summarize", "3")])

    tag = ts.get_trace_info(trace_id).tags["mlflow.linkedPrompts"]
    assert json.loads(tag) == [
        {"name": "qa", "version": "1"},
        {"name": "summarize", "version": "3"},
    ]
    assert [t.trace_id for t in ts.search_traces([experiment_id], "trace.prompt = 'qa/1'")] == [
        trace_id
    ]
    assert list(ts.search_traces([experiment_id], "trace.prompt = 'qa/3'")) == []
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.link_prompts_to_trace(new_trace_id(), [("qa", "1")])


# ---------------------------------------------------------------- deletion
def _traces_at(store: Store, experiment_id: str, offsets: list[int]) -> list[str]:
    ids = []
    for offset in offsets:
        trace_id = new_trace_id()
        traces(store).start_trace(
            make_info(trace_id, experiment_id, request_time_ms=T0_MS + offset)
        )
        ids.append(trace_id)
    return ids


def _remaining(store: Store, experiment_id: str) -> set[str]:
    return {t.trace_id for t in traces(store).search_traces([experiment_id], max_results=500)}


def test_delete_traces_by_id_with_their_spans_and_assessments(store: Store) -> None:
    from ._trace_support import feedback

    ts = traces(store)
    experiment_id, _ = _experiment(store)
    other_experiment, _ = _experiment(store)
    doomed, kept = _traces_at(store, experiment_id, [0, 1])
    [elsewhere] = _traces_at(store, other_experiment, [0])
    ts.log_spans(experiment_id, _agent_trace(doomed))
    ts.create_assessment(feedback(doomed, "quality", "good"))

    deleted = ts.delete_traces(experiment_id, trace_ids=[doomed, elsewhere, new_trace_id()])

    assert deleted == 1
    assert _remaining(store, experiment_id) == {kept}
    assert _remaining(store, other_experiment) == {elsewhere}
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.get_trace_info(doomed)
    # The id can be used again: nothing of the old trace is left behind.
    [reborn] = ts.log_spans(experiment_id, [make_span(doomed, 1, name="again")])
    assert reborn.assessments == [] and [s.name for s in ts.iter_spans(doomed)] == ["again"]


def test_delete_traces_by_age_oldest_first(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    ids = _traces_at(store, experiment_id, [0, 10, 20, 30])

    assert ts.delete_traces(experiment_id, max_timestamp_millis=T0_MS + 20, max_traces=2) == 2
    assert _remaining(store, experiment_id) == {ids[2], ids[3]}
    # The bound is inclusive, as in MLflow.
    assert ts.delete_traces(experiment_id, max_timestamp_millis=T0_MS + 20) == 1
    assert _remaining(store, experiment_id) == {ids[3]}


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_timestamp_millis": 1, "trace_ids": ["tr-1"]},
        {"trace_ids": ["tr-1"], "max_traces": 1},
        {"max_timestamp_millis": 1, "max_traces": 0},
    ],
    ids=["neither", "both", "ids-and-count", "zero-count"],
)
def test_delete_traces_refuses_bad_arguments(store: Store, kwargs: dict[str, object]) -> None:
    experiment_id, _ = _experiment(store)
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        traces(store).delete_traces(experiment_id, **kwargs)  # type: ignore[arg-type]


def test_delete_traces_of_an_unknown_experiment(store: Store) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        traces(store).delete_traces("987654", max_timestamp_millis=T0_MS)


def test_non_finite_event_values_do_not_break_storage_or_search(store: Store) -> None:
    ts = traces(store)
    experiment_id, _ = _experiment(store)
    trace_id = new_trace_id()
    span = make_span(trace_id, 1, model="m")
    span.events.append(SpanEvent("metric", span.start_time_ns, {"loss": float("nan")}))

    ts.log_spans(experiment_id, [span])

    [found] = ts.search_traces([experiment_id], "span.attributes.model = 'm'")
    assert found.trace_id == trace_id
    [read] = ts.get_spans(trace_id)
    loss = read.events[0].attributes["loss"]
    assert str(loss).lower() == "nan"  # NaN itself, or its name
