"""Feedback and expectations on traces: defaults, updates, overrides, deletion, and assessments
logged while the trace is still running."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import wayline
from wayline.entities import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
    Trace,
)
from wayline.errors import InvalidParameter, NotFound

Finished = Callable[[str | None], Trace]


@pytest.fixture
def trace_id() -> str:
    @wayline.trace
    def answer(question: str) -> str:
        with wayline.start_span("lookup"):
            pass
        return "Paris"

    answer("capital of France?")
    found = wayline.get_last_active_trace_id()
    assert found is not None
    return found


def test_feedback_and_expectations_with_mlflows_defaults(trace_id: str, finished: Finished) -> None:
    feedback = wayline.log_feedback(trace_id=trace_id, value=0.75, rationale="close")
    assert feedback.name == "feedback"
    assert feedback.source == AssessmentSource(AssessmentSourceType.CODE, "default")
    assert feedback.assessment_id is not None and feedback.assessment_id.startswith("a-")
    assert feedback.value == 0.75 and feedback.rationale == "close" and feedback.valid

    expectation = wayline.log_expectation(
        trace_id=trace_id, name="expected", value={"city": "Paris"}, metadata={"n": 1}
    )
    assert expectation.source == AssessmentSource(AssessmentSourceType.HUMAN, "default")
    assert expectation.value == {"city": "Paris"} and expectation.metadata == {"n": "1"}

    span_id = finished(trace_id).spans[1].span_id
    judged = wayline.log_feedback(
        trace_id=trace_id,
        name="relevance",
        value="yes",
        source=AssessmentSource(AssessmentSourceType.LLM_JUDGE, "gpt-4o"),
        span_id=span_id,
    )
    assert judged.span_id == span_id

    stored = finished(trace_id).info.assessments
    by_name = {a.name: a for a in stored}
    assert set(by_name) == {"feedback", "expected", "relevance"}
    assert by_name["relevance"].source.source_type is AssessmentSourceType.LLM_JUDGE
    fetched = wayline.get_assessment(trace_id, feedback.assessment_id)
    assert (fetched.name, fetched.value, fetched.kind) == ("feedback", 0.75, "feedback")


def test_a_failed_judge_is_feedback_with_an_error(trace_id: str) -> None:
    try:
        raise TimeoutError("judge timed out")
    except TimeoutError as exc:
        failed = wayline.log_feedback(trace_id=trace_id, name="judge", error=exc)
    assert failed.feedback is not None and failed.feedback.error is not None
    assert failed.feedback.error.error_code == "TimeoutError"
    assert failed.feedback.error.error_message == "judge timed out"
    assert "judge timed out" in (failed.feedback.error.stack_trace or "")

    given = wayline.log_feedback(
        trace_id=trace_id, name="judge2", error=AssessmentError("RATE_LIMIT", "slow down")
    )
    assert given.feedback is not None and given.feedback.error == AssessmentError(
        "RATE_LIMIT", "slow down"
    )
    with pytest.raises(InvalidParameter, match="`value` or `error`"):
        wayline.log_feedback(trace_id=trace_id, name="empty")


def test_update_override_and_delete(trace_id: str, finished: Finished) -> None:
    llm = wayline.log_feedback(
        trace_id=trace_id,
        name="relevance",
        value=0.4,
        source=AssessmentSource(AssessmentSourceType.LLM_JUDGE, "judge"),
    )
    assert llm.assessment_id is not None
    updated = wayline.update_assessment(trace_id, llm.assessment_id, Feedback(0.5))
    assert updated.value == 0.5

    expected = wayline.log_expectation(trace_id=trace_id, name="answer", value="Paris")
    assert expected.assessment_id is not None
    renamed = wayline.update_assessment(
        trace_id,
        expected.assessment_id,
        Assessment(
            "final_answer",
            trace_id,
            expected.source,
            expectation=Expectation("Paris, France"),
            rationale="more precise",
        ),
    )
    assert (renamed.name, renamed.value, renamed.rationale) == (
        "final_answer",
        "Paris, France",
        "more precise",
    )
    assert (
        wayline.update_assessment(trace_id, expected.assessment_id, Expectation("x")).value == "x"
    )

    corrected = wayline.override_feedback(
        trace_id=trace_id,
        assessment_id=llm.assessment_id,
        value=0.9,
        rationale="a human read it",
        source=AssessmentSource(AssessmentSourceType.HUMAN, "ana"),
    )
    assert corrected.overrides == llm.assessment_id and corrected.name == "relevance"
    assert corrected.value == 0.9 and corrected.valid
    assert not wayline.get_assessment(trace_id, llm.assessment_id).valid
    with pytest.raises(InvalidParameter, match="not a feedback"):
        wayline.override_feedback(trace_id=trace_id, assessment_id=expected.assessment_id, value=1)

    wayline.delete_assessment(trace_id, expected.assessment_id)
    with pytest.raises(NotFound):
        wayline.get_assessment(trace_id, expected.assessment_id)
    names = sorted(a.name for a in finished(trace_id).info.assessments)
    assert names == ["relevance", "relevance"]


def test_feedback_logged_while_the_trace_runs_is_stored_with_it(finished: Finished) -> None:
    with wayline.start_span("live") as span:
        assert span.trace_id is not None
        early = wayline.log_feedback(trace_id=span.trace_id, name="early", value=True)
        assert early.assessment_id is not None and early.create_time_ms is not None
    [stored] = finished(span.trace_id).info.assessments
    assert (stored.assessment_id, stored.name, stored.value) == (
        early.assessment_id,
        "early",
        True,
    )


def test_assessments_on_an_unknown_trace_fail() -> None:
    with pytest.raises(NotFound):
        wayline.log_feedback(trace_id="tr-" + "0" * 32, value=1)
