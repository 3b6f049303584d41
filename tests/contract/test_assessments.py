"""Assessments (feedback and expectations) of traces, on every backend: create, read, update,
override, delete, and the errors of each."""

from __future__ import annotations

import re

from wayline.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.errors import InvalidParameter, NotFound
from wayline.store.backend import Store
from wayline.store.traces import AssessmentUpdate, TraceStore

from ._support import raises
from ._trace_support import expectation, feedback, make_info, new_trace_id, traces


def _trace(store: Store) -> tuple[TraceStore, str]:
    ts = traces(store)
    experiment_id = store.create_experiment(f"assess-{new_trace_id()[3:13]}")
    trace_id = new_trace_id()
    ts.start_trace(make_info(trace_id, experiment_id))
    return ts, trace_id


def test_create_fills_id_and_times_and_reads_back(store: Store) -> None:
    ts, trace_id = _trace(store)

    created = ts.create_assessment(
        feedback(
            trace_id,
            "relevance",
            0.75,
            rationale="on topic",
            metadata={"mlflow.assessment.sourceRunId": "r1"},
            span_id="00000000000000ab",
        )
    )

    assert created.assessment_id is not None
    assert re.fullmatch(r"a-[0-9a-f]{32}", created.assessment_id)
    assert created.create_time_ms is not None
    assert created.last_update_time_ms == created.create_time_ms
    assert created.valid and created.overrides is None
    assert ts.get_assessment(trace_id, created.assessment_id) == created
    assert ts.get_trace_info(trace_id).assessments == [created]


def test_values_of_every_json_kind_round_trip(store: Store) -> None:
    ts, trace_id = _trace(store)
    values: list[object] = [True, 3, 0.5, "yes", ["a", 1], {"k": {"n": [1, 2]}}]
    for index, value in enumerate(values):
        made = ts.create_assessment(expectation(trace_id, f"e{index}", value))
        assert made.assessment_id is not None
        assert ts.get_assessment(trace_id, made.assessment_id).value == value
    failed = ts.create_assessment(
        Assessment(
            name="judge",
            trace_id=trace_id,
            source=AssessmentSource(AssessmentSourceType.LLM_JUDGE, "gpt"),
            feedback=Feedback(None, AssessmentError("TIMEOUT", "took too long", "trace...")),
        )
    )
    assert failed.assessment_id is not None
    read = ts.get_assessment(trace_id, failed.assessment_id)
    assert read.feedback == Feedback(None, AssessmentError("TIMEOUT", "took too long", "trace..."))
    assert [a.kind for a in ts.get_trace_info(trace_id).assessments] == ["expectation"] * 6 + [
        "feedback"
    ]


def test_a_client_chosen_id_is_kept(store: Store) -> None:
    ts, trace_id = _trace(store)
    chosen = "a-" + "1" * 32
    made = ts.create_assessment(feedback(trace_id, "q", "ok", assessment_id=chosen))
    assert made.assessment_id == chosen
    assert ts.get_assessment(trace_id, chosen).value == "ok"


def test_update_changes_what_is_given_and_merges_metadata(store: Store) -> None:
    ts, trace_id = _trace(store)
    made = ts.create_assessment(
        feedback(trace_id, "quality", "good", rationale="fine", metadata={"a": "1"})
    )
    assert made.assessment_id is not None

    updated = ts.update_assessment(
        trace_id,
        made.assessment_id,
        AssessmentUpdate(name="quality-v2", value="great", has_value=True, metadata={"b": "2"}),
    )

    assert updated.name == "quality-v2" and updated.value == "great"
    assert updated.rationale == "fine"
    assert updated.metadata == {"a": "1", "b": "2"}
    assert updated.source == made.source and updated.create_time_ms == made.create_time_ms
    assert updated.last_update_time_ms is not None and made.create_time_ms is not None
    assert updated.last_update_time_ms >= made.create_time_ms
    assert ts.get_assessment(trace_id, made.assessment_id) == updated

    note = ts.update_assessment(trace_id, made.assessment_id, AssessmentUpdate(rationale="why"))
    assert (note.value, note.rationale) == ("great", "why")


def test_update_refuses_a_feedback_error_on_an_expectation(store: Store) -> None:
    ts, trace_id = _trace(store)
    made = ts.create_assessment(expectation(trace_id, "answer", "42"))
    assert made.assessment_id is not None
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        ts.update_assessment(
            trace_id, made.assessment_id, AssessmentUpdate(error=AssessmentError("E"))
        )
    changed = ts.update_assessment(
        trace_id, made.assessment_id, AssessmentUpdate(value="43", has_value=True)
    )
    assert changed.expectation == Expectation("43")


def test_override_marks_the_old_one_invalid_and_delete_restores_it(store: Store) -> None:
    ts, trace_id = _trace(store)
    old = ts.create_assessment(feedback(trace_id, "quality", "bad"))
    assert old.assessment_id is not None

    new = ts.create_assessment(
        feedback(
            trace_id,
            "quality",
            "good",
            source=AssessmentSource(AssessmentSourceType.HUMAN, "bob"),
            overrides=old.assessment_id,
        )
    )
    assert new.assessment_id is not None

    assert ts.get_assessment(trace_id, old.assessment_id).valid is False
    assert ts.get_assessment(trace_id, new.assessment_id).overrides == old.assessment_id
    assert [a.valid for a in ts.get_trace_info(trace_id).assessments] == [False, True]

    ts.delete_assessment(trace_id, new.assessment_id)
    assert ts.get_assessment(trace_id, old.assessment_id).valid is True
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.get_assessment(trace_id, new.assessment_id)
    ts.delete_assessment(trace_id, new.assessment_id)  # deleting again is harmless

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.create_assessment(feedback(trace_id, "quality", "x", overrides="a-" + "0" * 32))


def test_assessments_travel_inside_a_started_trace(store: Store) -> None:
    ts = traces(store)
    experiment_id = store.create_experiment("assessed")
    trace_id = new_trace_id()
    chosen = "a-" + "2" * 32
    inside = feedback(trace_id, "thumbs", True, assessment_id=chosen)

    first = ts.start_trace(make_info(trace_id, experiment_id, assessments=[inside]))
    again = ts.start_trace(make_info(trace_id, experiment_id, assessments=[inside]))

    assert [a.assessment_id for a in first.assessments] == [chosen]
    assert [a.assessment_id for a in again.assessments] == [chosen]  # an upsert, not a copy
    assert ts.get_assessment(trace_id, chosen).value is True


def test_unknown_traces_and_assessments_are_not_found(store: Store) -> None:
    ts, trace_id = _trace(store)
    missing_trace = new_trace_id()
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.create_assessment(feedback(missing_trace, "q", "x"))
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.get_assessment(trace_id, "a-" + "9" * 32)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.get_assessment(missing_trace, "a-" + "9" * 32)
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.update_assessment(trace_id, "a-" + "9" * 32, AssessmentUpdate(name="n"))
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        ts.delete_assessment(missing_trace, "a-" + "9" * 32)


def test_malformed_assessments_are_refused(store: Store) -> None:
    ts, trace_id = _trace(store)
    source = AssessmentSource(AssessmentSourceType.CODE, "default")
    both = Assessment("q", trace_id, source, feedback=Feedback("x"), expectation=Expectation("y"))
    neither = Assessment("q", trace_id, source)
    cases = {
        "both": both,
        "neither": neither,
        "empty name": feedback(trace_id, "", "x"),
        "bad span id": feedback(trace_id, "q", "x", span_id="not-a-span"),
        "long name": feedback(trace_id, "q" * 300, "x"),
    }
    accepted = []
    for case, bad in cases.items():
        try:
            ts.create_assessment(bad)
        except InvalidParameter as exc:
            assert exc.error_code == "INVALID_PARAMETER_VALUE"
        else:
            accepted.append(case)
    assert not accepted, f"accepted: {accepted}"
    assert ts.get_trace_info(trace_id).assessments == []
