"""Assessments of a trace or span: feedback (a human's or a judge's verdict) and expectations
(ground truth), as spec tracing.md §2.5 describes them. Times are in milliseconds."""

from __future__ import annotations

import enum
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

ASSESSMENT_ID_PREFIX = "a-"


def new_assessment_id() -> str:
    """An id whose first half is the creation time in ns, so assessments created in the same
    millisecond still list in the order they were made."""
    return f"{ASSESSMENT_ID_PREFIX}{time.time_ns():016x}{secrets.token_hex(8)}"


class AssessmentSourceType(enum.StrEnum):
    SOURCE_TYPE_UNSPECIFIED = "SOURCE_TYPE_UNSPECIFIED"
    HUMAN = "HUMAN"
    LLM_JUDGE = "LLM_JUDGE"
    CODE = "CODE"


@dataclass(frozen=True, slots=True)
class AssessmentSource:
    source_type: AssessmentSourceType = AssessmentSourceType.CODE
    source_id: str = "default"


@dataclass(frozen=True, slots=True)
class AssessmentError:
    error_code: str
    error_message: str | None = None
    stack_trace: str | None = None


@dataclass(frozen=True, slots=True)
class Feedback:
    """A verdict: ``value`` is any JSON value (bool, number, string, list, object), or None when
    the judge failed with ``error``."""

    value: Any = None
    error: AssessmentError | None = None


@dataclass(frozen=True, slots=True)
class Expectation:
    """Ground truth: any JSON value."""

    value: Any


@dataclass(slots=True)
class Assessment:
    """Exactly one of ``feedback`` and ``expectation`` is set. ``assessment_id`` and the times are
    filled in by the store when absent. ``overrides`` names the assessment this one supersedes,
    which the store then marks ``valid = False``."""

    name: str
    trace_id: str
    source: AssessmentSource
    feedback: Feedback | None = None
    expectation: Expectation | None = None
    assessment_id: str | None = None
    span_id: str | None = None
    rationale: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    create_time_ms: int | None = None
    last_update_time_ms: int | None = None
    overrides: str | None = None
    valid: bool = True

    @property
    def value(self) -> Any:
        if self.feedback is not None:
            return self.feedback.value
        return self.expectation.value if self.expectation is not None else None

    @property
    def kind(self) -> str:
        """``"feedback"`` or ``"expectation"``, the prefix its searches use."""
        return "feedback" if self.feedback is not None else "expectation"


__all__ = [
    "ASSESSMENT_ID_PREFIX",
    "Assessment",
    "AssessmentError",
    "AssessmentSource",
    "AssessmentSourceType",
    "Expectation",
    "Feedback",
    "new_assessment_id",
]
