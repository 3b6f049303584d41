"""Trace search (spec search-syntax.md §7) on every backend: each identifier, bad filters,
ordering and paging. One small corpus of three traces per test; the cases run in a loop so a
backend builds it once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from wayline.entities.trace import SpanStatusCode, TraceState
from wayline.errors import InvalidParameter
from wayline.store.backend import Store
from wayline.store.traces import TraceStore

from ._support import raises
from ._trace_support import T0_MS, expectation, feedback, make_info, make_span, new_trace_id, traces

RUN_ID = "0123456789abcdef0123456789abcdef"


@dataclass
class Corpus:
    experiment_id: str
    ids: dict[str, str]  # "t1" -> trace id

    def names(self, found: list[str]) -> list[str]:
        by_id = {trace_id: name for name, trace_id in self.ids.items()}
        return [by_id.get(trace_id, trace_id) for trace_id in found]


def _build(store: Store) -> Corpus:
    """t1: OK agent asking about cats (LLM gpt-4), good feedback; t2: ERROR retriever run
    (claude-3), bad feedback, a linked prompt; t3: in progress, no spans, made in a run."""
    ts = traces(store)
    experiment_id = store.create_experiment(f"search-{new_trace_id()[3:13]}")
    t1, t2, t3 = new_trace_id(), new_trace_id(), new_trace_id()
    ts.start_trace(
        make_info(
            t1,
            experiment_id,
            duration_ms=10,
            tags={"mlflow.traceName": "agent", "env": "prod"},
            metadata={"mlflow.trace.user": "alice"},
            client_request_id="req-1",
        )
    )
    ts.log_spans(
        experiment_id,
        [
            make_span(t1, 1, name="agent", duration_ms=10, span_type="AGENT"),
            make_span(
                t1,
                2,
                1,
                name="chat",
                span_type="LLM",
                model="gpt-4",
                mlflow__spanInputs={"question": "what do cats eat?"},
            ),
        ],
    )
    ts.start_trace(
        make_info(
            t2,
            experiment_id,
            request_time_ms=T0_MS + 1000,
            duration_ms=50,
            state=TraceState.ERROR,
            tags={"mlflow.traceName": "retriever-run", "env": "dev"},
        )
    )
    ts.log_spans(
        experiment_id,
        [
            make_span(
                t2,
                1,
                name="retrieve",
                start_ms=1000,
                duration_ms=50,
                span_type="RETRIEVER",
                status=SpanStatusCode.ERROR,
                model="claude-3",
            )
        ],
    )
    ts.start_trace(
        make_info(
            t3,
            experiment_id,
            request_time_ms=T0_MS + 2000,
            duration_ms=None,
            state=TraceState.IN_PROGRESS,
            tags={"mlflow.traceName": "zeta"},
            metadata={"mlflow.sourceRun": RUN_ID},
        )
    )
    ts.create_assessment(feedback(t1, "quality", "good"))
    ts.create_assessment(feedback(t1, "score", 0.9))
    ts.create_assessment(expectation(t1, "answer", "meow"))
    ts.create_assessment(feedback(t2, "quality", "bad"))
    ts.create_assessment(feedback(t2, "score", 0.2))
    ts.create_assessment(feedback(t2, "passed", True))
    ts.link_prompts_to_trace(t2, [("qa", "1")])
    return Corpus(experiment_id, {"t1": t1, "t2": t2, "t3": t3})


@pytest.fixture
def corpus(store: Store) -> Corpus:
    return _build(store)


def _search(
    ts: TraceStore, corpus: Corpus, filter_string: str | None, **kwargs: object
) -> list[str]:
    found = ts.search_traces([corpus.experiment_id], filter_string, **kwargs)  # type: ignore[arg-type]
    return corpus.names([info.trace_id for info in found])


FILTERS: list[tuple[str, set[str]]] = [
    # attributes
    ("trace.status = 'OK'", {"t1"}),
    ("status != 'OK'", {"t2", "t3"}),
    ("trace.status IN ('OK', 'ERROR')", {"t1", "t2"}),
    ("attributes.status NOT IN ('OK')", {"t2", "t3"}),
    ("status LIKE 'IN%'", {"t3"}),
    ("trace.status ILIKE 'ok'", {"t1"}),
    ("trace.status RLIKE '^(OK|ERR)'", {"t1", "t2"}),
    (f"trace.timestamp_ms > {T0_MS}", {"t2", "t3"}),
    (f"timestamp >= {T0_MS + 1000}", {"t2", "t3"}),
    (f"trace.timestamp_ms = {T0_MS}", {"t1"}),
    ("trace.execution_time_ms > 20", {"t2"}),
    ("execution_time < 20", {"t1"}),
    (f"trace.end_time_ms > {T0_MS + 1040}", {"t2", "t3"}),
    (f"end_time <= {T0_MS + 10}", {"t1"}),
    ("trace.request_id = '{t1}'", {"t1"}),
    ("trace.request_id IN ('{t1}', '{t3}')", {"t1", "t3"}),
    ("trace.client_request_id = 'req-1'", {"t1"}),
    ("trace.name = 'agent'", {"t1"}),
    ("name LIKE 'retr%'", {"t2"}),
    ("trace.name IN ('agent', 'zeta')", {"t1", "t3"}),
    ("trace.name != 'agent'", {"t2", "t3"}),
    (f"trace.run_id = '{RUN_ID}'", {"t3"}),
    (f"attribute.run_id IN ('{RUN_ID}', 'other')", {"t3"}),
    ("trace.prompt = 'qa/1'", {"t2"}),
    ("trace.text LIKE '%cats%'", {"t1"}),
    ("trace.text ILIKE '%CATS%'", {"t1"}),
    # tags and metadata
    ("tags.env = 'prod'", {"t1"}),
    ("tags.env != 'prod'", {"t2"}),
    ("tags.env IS NULL", {"t3"}),
    ("tag.env IS NOT NULL", {"t1", "t2"}),
    ("tags.env LIKE 'p%'", {"t1"}),
    ("tags.env ILIKE 'P%'", {"t1"}),
    ("tags.env RLIKE 'd.v'", {"t2"}),
    ("tags.`mlflow.traceName` = 'zeta'", {"t3"}),
    ("metadata.`mlflow.trace.user` = 'alice'", {"t1"}),
    ("request_metadata.\"mlflow.trace.user\" LIKE 'al%'", {"t1"}),
    ("metadata.`mlflow.trace.user` IS NULL", {"t2", "t3"}),
    (f"metadata.`mlflow.sourceRun` = '{RUN_ID}'", {"t3"}),
    # spans
    ("span.type = 'RETRIEVER'", {"t2"}),
    ("span.name = 'chat'", {"t1"}),
    ("span.status = 'ERROR'", {"t2"}),
    ("span.type IN ('LLM', 'RETRIEVER')", {"t1", "t2"}),
    ("span.type NOT IN ('AGENT')", {"t1", "t2"}),
    ("span.name LIKE 'ch%'", {"t1"}),
    ("span.name ILIKE 'CH%'", {"t1"}),
    ("span.name RLIKE '^re'", {"t2"}),
    ("span.type != 'AGENT'", {"t1", "t2"}),
    ("span.content LIKE '%cats%'", {"t1"}),
    ("span.content ILIKE '%CATS%'", {"t1"}),
    ("span.attributes.model = 'gpt-4'", {"t1"}),
    ("span.attributes.model = '\"gpt-4\"'", {"t1"}),
    ("span.attributes.model != 'gpt-4'", {"t2"}),
    ("span.attributes.model IN ('gpt-4', 'claude-3')", {"t1", "t2"}),
    ("span.attributes.model NOT IN ('gpt-4')", {"t2"}),
    ("span.attributes.model LIKE 'claude%'", {"t2"}),
    ("span.attributes.model ILIKE 'GPT%'", {"t1"}),
    ("span.attributes.model RLIKE '^gpt-[0-9]$'", {"t1"}),
    ("span.attributes.`mlflow.spanType` = 'LLM'", {"t1"}),
    ("span.attributes.mlflow.spanType = 'RETRIEVER'", {"t2"}),
    # assessments
    ("feedback.quality = 'good'", {"t1"}),
    ("feedback.quality != 'good'", {"t2"}),
    ("feedback.quality LIKE 'go%'", {"t1"}),
    ("feedback.quality ILIKE 'BA%'", {"t2"}),
    ("feedback.quality RLIKE '^b'", {"t2"}),
    ("feedback.quality IS NULL", {"t3"}),
    ("feedback.quality IS NOT NULL", {"t1", "t2"}),
    ("feedback.score > 0.5", {"t1"}),
    ("feedback.score <= 0.5", {"t2"}),
    ("feedback.score >= 0.2", {"t1", "t2"}),
    ("feedback.score = '0.9'", {"t1"}),
    ("feedback.passed = 'true'", {"t2"}),
    ("feedback.quality > 0", set()),
    ("expectation.answer = 'meow'", {"t1"}),
    ("expectation.answer IS NOT NULL", {"t1"}),
    ("feedback.answer IS NOT NULL", set()),
    ("issue.id = 'issue-1'", set()),
    # combinations (OR and parentheses go beyond MLflow)
    ("trace.status = 'OK' AND span.type = 'LLM'", {"t1"}),
    ("trace.status = 'ERROR' OR tags.env = 'prod'", {"t1", "t2"}),
    ("(tags.env = 'prod' OR tags.env = 'dev') AND feedback.score < 0.5", {"t2"}),
    ("", {"t1", "t2", "t3"}),
]


def test_each_identifier_filters_as_specified(store: Store, corpus: Corpus) -> None:
    ts = traces(store)
    wrong = []
    for template, expected in FILTERS:
        filter_string = template.format(**corpus.ids)
        found = set(_search(ts, corpus, filter_string))
        if found != expected:
            wrong.append(f"{filter_string!r}: {sorted(found)} instead of {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


def test_an_overridden_feedback_no_longer_matches(store: Store, corpus: Corpus) -> None:
    ts = traces(store)
    t1 = corpus.ids["t1"]
    [old] = [a for a in ts.get_trace_info(t1).assessments if a.name == "quality"]
    ts.create_assessment(feedback(t1, "quality", "great", overrides=old.assessment_id))

    assert _search(ts, corpus, "feedback.quality = 'good'") == []
    assert _search(ts, corpus, "feedback.quality = 'great'") == ["t1"]


BAD_FILTERS = [
    "trace.status = OK",  # unquoted string
    "trace.timestamp_ms > '5'",  # quoted number
    "trace.status > 'OK'",  # comparator
    "tags.env IN ('a')",  # IN on tags
    "metadata.x < 'a'",
    "span.foo = 'x'",
    "span.attributes = 'x'",
    "span.content = 'x'",
    "trace.text = 'cats'",
    "trace.prompt = 'qa'",
    "trace.prompt LIKE 'qa/%'",
    "feedback.quality = good",
    "feedback.quality = true",
    "feedback.score > '0.5'",
    "feedback.score IN ('a')",
    "issue.name = 'x'",
    "trace.session_id = 'x'",
    "experiment_id = '1'",
    "unknown.key = 'x'",
    "trace.nope = 'x'",
    "tags.env RLIKE '('",
    "trace.status = 'OK' AND",
    "trace.status = 'OK' AND AND x = 'y'",
    "NOT trace.status = 'OK'",
    "trace.status = 'OK",
]


def test_bad_filters_are_invalid_parameters(store: Store) -> None:
    ts = traces(store)
    experiment_id = store.create_experiment("bad-filters")
    accepted = []
    for filter_string in BAD_FILTERS:
        try:
            ts.search_traces([experiment_id], filter_string)
        except InvalidParameter as exc:
            assert exc.error_code == "INVALID_PARAMETER_VALUE"
        else:
            # A trailing AND is tolerated, as MLflow does.
            if filter_string != "trace.status = 'OK' AND":
                accepted.append(filter_string)
    assert not accepted, f"accepted: {accepted}"


ORDERS: list[tuple[list[str] | None, list[str]]] = [
    (None, ["t3", "t2", "t1"]),
    (["timestamp_ms ASC"], ["t1", "t2", "t3"]),
    (["trace.timestamp DESC"], ["t3", "t2", "t1"]),
    (["execution_time_ms DESC"], ["t2", "t1", "t3"]),
    (["execution_time_ms"], ["t1", "t2", "t3"]),
    (["end_time_ms DESC"], ["t3", "t2", "t1"]),
    (["status"], ["t2", "t3", "t1"]),
    (["name DESC"], ["t3", "t2", "t1"]),
    (["attributes.name"], ["t1", "t2", "t3"]),
    (["tags.env"], ["t2", "t1", "t3"]),
    (["tags.env DESC"], ["t1", "t2", "t3"]),
    (["run_id"], ["t3", "t2", "t1"]),
    (["experiment_id", "timestamp_ms"], ["t1", "t2", "t3"]),
]


def test_order_by_keys(store: Store, corpus: Corpus) -> None:
    ts = traces(store)
    wrong = []
    for order_by, expected in ORDERS:
        found = _search(ts, corpus, None, order_by=order_by)
        if found != expected:
            wrong.append(f"{order_by}: {found} instead of {expected}")
    by_id = _search(ts, corpus, None, order_by=["request_id"])
    assert by_id == corpus.names(sorted(corpus.ids.values()))
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "order_by",
    [["span.name"], ["metadata.x"], ["trace.text"], ["timestamp_ms NULLS LAST"], ["name", "name"]],
)
def test_bad_order_by_is_an_invalid_parameter(store: Store, order_by: list[str]) -> None:
    experiment_id = store.create_experiment("bad-order")
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        traces(store).search_traces([experiment_id], order_by=order_by)


def test_pages_cover_the_results_once(store: Store) -> None:
    ts = traces(store)
    experiment_id = store.create_experiment("paging")
    ids = [new_trace_id() for _ in range(7)]
    for offset, trace_id in enumerate(ids):
        # Pairs of equal timestamps: the trace id breaks ties, so pages never overlap.
        ts.start_trace(make_info(trace_id, experiment_id, request_time_ms=T0_MS + offset // 2))

    seen, token, sizes = [], None, []
    while True:
        page = ts.search_traces([experiment_id], max_results=3, page_token=token)
        seen += [info.trace_id for info in page]
        sizes.append(len(page))
        token = page.token
        if not token:
            break

    assert sizes == [3, 3, 1]
    expected = sorted(ids, key=lambda t: (-(ids.index(t) // 2), t))
    assert seen == expected
    assert len(ts.search_traces([experiment_id])) == 7  # max_results defaults to 100


def test_search_spans_several_experiments_and_refuses_bad_paging(store: Store) -> None:
    ts = traces(store)
    first = store.create_experiment("one")
    second = store.create_experiment("two")
    a, b = new_trace_id(), new_trace_id()
    ts.start_trace(make_info(a, first))
    ts.start_trace(make_info(b, second, request_time_ms=T0_MS + 1))

    assert [t.trace_id for t in ts.search_traces([first, second])] == [b, a]
    assert [t.trace_id for t in ts.search_traces([second])] == [b]
    assert list(ts.search_traces(["987654"])) == []
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.search_traces([first], page_token="garbage")
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.search_traces([first], max_results=0)
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.search_traces([first], max_results=501)
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.search_traces([])


def test_found_infos_carry_tags_metadata_and_assessments(store: Store, corpus: Corpus) -> None:
    ts = traces(store)
    [info] = ts.search_traces([corpus.experiment_id], "trace.name = 'agent'")
    assert info == ts.get_trace_info(corpus.ids["t1"])
    assert {a.name for a in info.assessments} == {"quality", "score", "answer"}
    assert info.tags["env"] == "prod"
