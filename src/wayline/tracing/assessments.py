"""Assessments of traces: ``log_feedback``, ``log_expectation``, ``log_assessment``,
``get_assessment``, ``update_assessment``, ``delete_assessment`` and ``override_feedback`` of
``import wayline as mlflow`` (spec tracing.md §2.5).

Feedback defaults to source ``CODE``/``default``, expectations to ``HUMAN``/``default``, as in
MLflow. Metadata values are stored as strings. An exception given as a feedback's ``error``
becomes an ``AssessmentError`` with its type, message and traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from wayline.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.errors import InvalidParameter
from wayline.tracking import fluent

_FEEDBACK_SOURCE = AssessmentSource(AssessmentSourceType.CODE, "default")
_EXPECTATION_SOURCE = AssessmentSource(AssessmentSourceType.HUMAN, "default")


def _source(source: AssessmentSource | None, default: AssessmentSource) -> AssessmentSource:
    if source is None:
        return default
    if not isinstance(source, AssessmentSource):
        raise InvalidParameter(f"source must be an AssessmentSource, got {source!r}.")
    kind = source.source_type
    if not isinstance(kind, AssessmentSourceType):
        name = str(kind).upper()
        if name not in AssessmentSourceType.__members__:
            raise InvalidParameter(
                f"Invalid source_type {kind!r}: expected one of "
                f"{', '.join(AssessmentSourceType.__members__)}."
            )
        return AssessmentSource(AssessmentSourceType[name], source.source_id)
    return source


def _metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else str(v) for k, v in (metadata or {}).items()}


def _error(error: BaseException | AssessmentError | None) -> AssessmentError | None:
    if error is None or isinstance(error, AssessmentError):
        return error
    if isinstance(error, BaseException):
        stack = "".join(traceback.format_exception(error)).strip()
        return AssessmentError(type(error).__name__, str(error), stack or None)
    raise InvalidParameter(f"error must be an exception or an AssessmentError, got {error!r}.")


def log_feedback(
    *,
    trace_id: str,
    name: str = "feedback",
    value: Any = None,
    source: AssessmentSource | None = None,
    error: BaseException | AssessmentError | None = None,
    rationale: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    span_id: str | None = None,
) -> Assessment:
    """Record a verdict on a trace (or one of its spans): a value, or the error of a judge
    that failed.

    Example::

        from wayline.entities import AssessmentSource, AssessmentSourceType

        wayline.log_feedback(
            trace_id=trace_id,
            name="relevance",
            value=0.9,
            source=AssessmentSource(AssessmentSourceType.LLM_JUDGE, "gpt-4o"),
            rationale="answers the question",
        )
    """
    if value is None and error is None:
        raise InvalidParameter("Either `value` or `error` must be provided.")
    assessment = Assessment(
        name=name,
        trace_id=trace_id,
        source=_source(source, _FEEDBACK_SOURCE),
        feedback=Feedback(value, _error(error)),
        span_id=span_id,
        rationale=rationale,
        metadata=_metadata(metadata),
    )
    return fluent.client().log_assessment(trace_id, assessment)


def log_expectation(
    *,
    trace_id: str,
    name: str,
    value: Any,
    source: AssessmentSource | None = None,
    metadata: Mapping[str, Any] | None = None,
    span_id: str | None = None,
) -> Assessment:
    """Record the expected outcome (ground truth) of a trace or span.

    Example::

        wayline.log_expectation(
            trace_id=trace_id, name="expected_answer", value="Paris", metadata={"set": "geo"}
        )
    """
    assessment = Assessment(
        name=name,
        trace_id=trace_id,
        source=_source(source, _EXPECTATION_SOURCE),
        expectation=Expectation(value),
        span_id=span_id,
        metadata=_metadata(metadata),
    )
    return fluent.client().log_assessment(trace_id, assessment)


def log_assessment(trace_id: str, assessment: Assessment) -> Assessment:
    """Record an ``Assessment`` built by hand.

    Example::

        from wayline.entities import Assessment, AssessmentSource, Feedback

        wayline.log_assessment(
            trace_id, Assessment("helpful", trace_id, AssessmentSource(), feedback=Feedback(True))
        )
    """
    return fluent.client().log_assessment(trace_id, assessment)


def get_assessment(trace_id: str, assessment_id: str) -> Assessment:
    """One assessment of a trace (NotFound if absent).

    Example::

        feedback = wayline.get_assessment(trace_id, assessment_id)
        print(feedback.name, feedback.value, feedback.valid)
    """
    return fluent.client().get_assessment(trace_id, assessment_id)


def update_assessment(
    trace_id: str,
    assessment_id: str,
    assessment: Assessment | Feedback | Expectation,
) -> Assessment:
    """Change an assessment: its name, rationale and metadata from an ``Assessment``, and its
    value from it or from a ``Feedback``/``Expectation``.

    Example::

        from wayline.entities import Expectation

        wayline.update_assessment(trace_id, assessment_id, Expectation("Paris, France"))
    """
    return fluent.client().update_assessment(trace_id, assessment_id, assessment)


def delete_assessment(trace_id: str, assessment_id: str) -> None:
    """Delete an assessment of a trace.

    Example::

        wayline.delete_assessment(trace_id, assessment_id)
    """
    fluent.client().delete_assessment(trace_id, assessment_id)


def override_feedback(
    *,
    trace_id: str,
    assessment_id: str,
    value: Any,
    rationale: str | None = None,
    source: AssessmentSource | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Assessment:
    """Replace a feedback with a corrected one: a new feedback of the same name (and span)
    that ``overrides`` the old one, which is kept but marked invalid.

    Example::

        corrected = wayline.override_feedback(
            trace_id=trace_id, assessment_id=llm_feedback.assessment_id, value=0.9,
            rationale="the judge missed the second paragraph",
        )
    """
    client = fluent.client()
    old = client.get_assessment(trace_id, assessment_id)
    if old.feedback is None:
        raise InvalidParameter(f"The assessment with ID {assessment_id} is not a feedback.")
    new = Assessment(
        name=old.name,
        trace_id=trace_id,
        source=_source(source, _FEEDBACK_SOURCE),
        feedback=Feedback(value),
        span_id=old.span_id,
        rationale=rationale,
        metadata=_metadata(metadata),
        overrides=old.assessment_id,
    )
    return client.log_assessment(trace_id, new)


__all__ = [
    "delete_assessment",
    "get_assessment",
    "log_assessment",
    "log_expectation",
    "log_feedback",
    "override_feedback",
    "update_assessment",
]
