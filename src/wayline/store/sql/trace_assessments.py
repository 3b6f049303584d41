"""Assessments of traces in the SQL store: feedback and expectations, created, read, updated,
deleted. Overriding one (``overrides``) keeps the old row with ``valid`` false; deleting the
overriding assessment makes the old one valid again, as MLflow does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select
from sqlalchemy import update as sql_update

from wayline.entities.assessment import (
    Assessment,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
    new_assessment_id,
)
from wayline.errors import AlreadyExists, InvalidParameter
from wayline.store.sql.base import SqlBase, fetch_rows, now_ms
from wayline.store.sql.tables import assessments
from wayline.store.sql.trace_rows import (
    ASSESSMENT_COLUMNS,
    MAX_ASSESSMENT_NAME_LENGTH,
    assessment_from_row,
    assessment_not_found,
    assessment_row,
    require_trace,
    validate_entry,
    validate_trace_id,
)
from wayline.store.traces import AssessmentUpdate

marks = assessments.c
_HEX16 = re.compile(r"^[0-9a-f]{16}$")
MAX_SOURCE_ID_LENGTH = 250
MAX_ASSESSMENT_ID_LENGTH = 50


def validate_assessment(assessment: Assessment) -> None:
    if not isinstance(assessment, Assessment):
        raise InvalidParameter(f"Expected an Assessment, got {type(assessment).__name__}.")
    validate_trace_id(assessment.trace_id)
    name = assessment.name
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("Assessment name must be a non-empty string.")
    if len(name) > MAX_ASSESSMENT_NAME_LENGTH:
        raise InvalidParameter(
            f"Assessment name is longer than {MAX_ASSESSMENT_NAME_LENGTH} characters."
        )
    if (assessment.feedback is None) == (assessment.expectation is None):
        raise InvalidParameter(
            "Exactly one of `expectation` or `feedback` should be specified for an assessment."
        )
    source = assessment.source
    if not isinstance(source, AssessmentSource) or not source.source_id:
        raise InvalidParameter("Assessment source must have a source_type and a source_id.")
    try:
        AssessmentSourceType(source.source_type)
    except ValueError:
        valid = ", ".join(t.value for t in AssessmentSourceType)
        raise InvalidParameter(
            f"Invalid assessment source type {source.source_type!r}: one of {valid}."
        ) from None
    if len(source.source_id) > MAX_SOURCE_ID_LENGTH:
        raise InvalidParameter(
            f"Assessment source_id is longer than {MAX_SOURCE_ID_LENGTH} characters."
        )
    if assessment.span_id is not None and not _HEX16.match(str(assessment.span_id)):
        raise InvalidParameter(
            f"Invalid span_id {assessment.span_id!r} for an assessment: expected 16 hex digits."
        )
    for ident in (assessment.assessment_id, assessment.overrides):
        if ident is not None and (not isinstance(ident, str) or not 0 < len(ident) <= 50):
            raise InvalidParameter(f"Invalid assessment id {ident!r}.")
    for key, value in assessment.metadata.items():
        validate_entry("assessment metadata", key, value)


def completed(assessment: Assessment, now: int) -> Assessment:
    """The assessment with its id and times filled in where absent."""
    created = assessment.create_time_ms if assessment.create_time_ms is not None else now
    return dataclasses.replace(
        assessment,
        assessment_id=assessment.assessment_id or new_assessment_id(),
        create_time_ms=created,
        last_update_time_ms=assessment.last_update_time_ms
        if assessment.last_update_time_ms is not None
        else created,
        metadata=dict(assessment.metadata),
    )


def _row(conn: Connection, trace_id: str, assessment_id: str) -> Sequence[Any] | None:
    query = select(*ASSESSMENT_COLUMNS).where(
        marks.trace_id == trace_id, marks.assessment_id == assessment_id
    )
    rows = fetch_rows(conn, query)
    return rows[0] if rows else None


def store_assessment(conn: Connection, assessment: Assessment, *, replace: bool) -> None:
    """Insert a completed assessment (in the caller's transaction), marking the one it overrides
    invalid. With ``replace`` an assessment with the same id is replaced (trace upserts);
    otherwise that is AlreadyExists."""
    assert assessment.assessment_id is not None
    if assessment.overrides:
        result = conn.execute(
            sql_update(assessments)
            .where(
                marks.trace_id == assessment.trace_id,
                marks.assessment_id == assessment.overrides,
            )
            .values(valid=False)
        )
        if result.rowcount == 0:
            raise assessment_not_found(assessment.trace_id, assessment.overrides)
    existing = conn.execute(
        select(marks.trace_id).where(marks.assessment_id == assessment.assessment_id)
    ).first()
    if existing is not None:
        if not replace or existing[0] != assessment.trace_id:
            raise AlreadyExists(f"Assessment with ID '{assessment.assessment_id}' already exists.")
        conn.execute(delete(assessments).where(marks.assessment_id == assessment.assessment_id))
    conn.execute(assessments.insert(), assessment_row(assessment))


class AssessmentsMixin(SqlBase):
    def create_assessment(self, assessment: Assessment) -> Assessment:
        validate_assessment(assessment)
        stored = completed(assessment, now_ms())
        with self._write() as conn:
            require_trace(conn, stored.trace_id)
            store_assessment(conn, stored, replace=False)
        return stored

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        with self._read() as conn:
            return self._assessment(conn, trace_id, assessment_id)

    def update_assessment(
        self, trace_id: str, assessment_id: str, update: AssessmentUpdate
    ) -> Assessment:
        with self._write() as conn:
            old = self._assessment(conn, trace_id, assessment_id)
            new = _updated(old, update, now_ms())
            validate_assessment(new)
            values = assessment_row(new)
            conn.execute(
                sql_update(assessments)
                .where(marks.trace_id == trace_id, marks.assessment_id == assessment_id)
                .values({k: v for k, v in values.items() if k not in ("assessment_id", "trace_id")})
            )
        return new

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        with self._write() as conn:
            require_trace(conn, trace_id)
            row = _row(conn, trace_id, assessment_id)
            if row is None:
                return  # already gone: deleting is idempotent, as in MLflow
            overrides = assessment_from_row(row).overrides
            if overrides:
                conn.execute(
                    sql_update(assessments)
                    .where(marks.trace_id == trace_id, marks.assessment_id == overrides)
                    .values(valid=True)
                )
            conn.execute(
                delete(assessments).where(
                    marks.trace_id == trace_id, marks.assessment_id == assessment_id
                )
            )

    @staticmethod
    def _assessment(conn: Connection, trace_id: str, assessment_id: str) -> Assessment:
        row = _row(conn, trace_id, assessment_id)
        if row is None:
            require_trace(conn, trace_id)
            raise assessment_not_found(trace_id, assessment_id)
        return assessment_from_row(row)


def _updated(old: Assessment, change: AssessmentUpdate, now: int) -> Assessment:
    """``old`` with ``change`` applied: source, span and creation time never change; metadata
    is merged, the new entries winning."""
    if not isinstance(change, AssessmentUpdate):
        raise InvalidParameter(f"Expected an AssessmentUpdate, got {type(change).__name__}.")
    feedback, expectation = old.feedback, old.expectation
    if change.error is not None and feedback is None:
        raise InvalidParameter("Cannot update feedback error on an Expectation assessment.")
    if feedback is not None:
        value = change.value if change.has_value else feedback.value
        error = change.error if change.error is not None else feedback.error
        if change.has_value and change.error is None and change.value is not None:
            error = None  # a new verdict replaces the failure it had
        feedback = Feedback(value, error)
    elif expectation is not None and change.has_value:
        expectation = Expectation(change.value)
    return dataclasses.replace(
        old,
        name=change.name if change.name is not None else old.name,
        feedback=feedback,
        expectation=expectation,
        rationale=change.rationale if change.rationale is not None else old.rationale,
        metadata={**old.metadata, **(change.metadata or {})},
        valid=change.valid if change.valid is not None else old.valid,
        last_update_time_ms=now,
    )


__all__ = [
    "AssessmentsMixin",
    "completed",
    "store_assessment",
    "validate_assessment",
]
