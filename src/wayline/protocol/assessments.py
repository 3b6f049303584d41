"""Assessments to and from MLflow's JSON (proto ``mlflow.assessments.Assessment``, spec tracing.md
§2.5), and the field mask of UpdateAssessment.

Key order and omissions are those MLflow's server writes: ``assessment_id, assessment_name,
trace_id, span_id, source, create_time, last_update_time, feedback | expectation, rationale,
metadata, overrides, valid``, unset fields left out. A feedback always carries ``value`` (null
when the judge failed and ``error`` says why). An expectation whose value is an object or a list
travels serialized, as MLflow's client sends it:
``{"serialized_value": {"serialization_format": "JSON_FORMAT", "value": "<json text>"}}``;
other values travel as ``{"value": ...}``.
"""

from __future__ import annotations

import json
import re
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
from wayline.protocol.timestamps import format_timestamp, parse_timestamp
from wayline.protocol.tracking import JsonDict, as_list, as_object
from wayline.protocol.values import missing_parameter, parse_bool, parse_enum, parse_str
from wayline.store.traces import AssessmentUpdate

JSON_FORMAT = "JSON_FORMAT"
_SOURCE_TYPE_BY_NUMBER = dict(enumerate(AssessmentSourceType))
# The fields UpdateAssessment may change, by their proto names.
UPDATABLE_FIELDS = ("assessment_name", "feedback", "expectation", "rationale", "metadata", "valid")
_CAMEL_HUMP = re.compile(r"(?<!^)([A-Z])")


# ---------------------------------------------------------------- helpers
def optional_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return None if value is None else parse_str(value, key)


def string_map(value: object, name: str) -> dict[str, str]:
    """A proto ``map<string, string>``: a JSON object whose values are strings."""
    if value is None:
        return {}
    return {
        str(key): parse_str(item, f"{name}.{key}") for key, item in as_object(value, name).items()
    }


def _put(out: JsonDict, key: str, value: object) -> None:
    if value is not None and value != {}:
        out[key] = value


# ---------------------------------------------------------------- parts
def parse_source_type(value: object, name: str = "source_type") -> AssessmentSourceType:
    return parse_enum(value, name, AssessmentSourceType, _SOURCE_TYPE_BY_NUMBER)


def encode_assessment_source(source: AssessmentSource) -> JsonDict:
    return {"source_type": source.source_type.value, "source_id": source.source_id}


def decode_assessment_source(value: object) -> AssessmentSource:
    obj = as_object(value, "source")
    source_type = obj.get("source_type")
    if source_type is None:
        raise missing_parameter("source.source_type")
    return AssessmentSource(
        source_type=parse_source_type(source_type, "source.source_type"),
        source_id=optional_str(obj, "source_id") or "default",
    )


def encode_assessment_error(error: AssessmentError) -> JsonDict:
    out: JsonDict = {"error_code": error.error_code}
    _put(out, "error_message", error.error_message)
    _put(out, "stack_trace", error.stack_trace)
    return out


def decode_assessment_error(value: object, name: str = "error") -> AssessmentError:
    obj = as_object(value, name)
    return AssessmentError(
        error_code=optional_str(obj, "error_code") or "",
        error_message=optional_str(obj, "error_message"),
        stack_trace=optional_str(obj, "stack_trace"),
    )


def encode_feedback(feedback: Feedback) -> JsonDict:
    out: JsonDict = {"value": feedback.value}
    if feedback.error is not None:
        out["error"] = encode_assessment_error(feedback.error)
    return out


def decode_feedback(value: object) -> Feedback:
    obj = as_object(value, "feedback")
    error = obj.get("error")
    return Feedback(
        value=obj.get("value"),
        error=None if error is None else decode_assessment_error(error, "feedback.error"),
    )


def encode_expectation(expectation: Expectation) -> JsonDict:
    value = expectation.value
    if isinstance(value, dict | list):
        text = json.dumps(value)  # as MLflow writes it: ASCII, default separators
        return {"serialized_value": {"serialization_format": JSON_FORMAT, "value": text}}
    return {"value": value}


def decode_expectation(value: object) -> Expectation:
    obj = as_object(value, "expectation")
    serialized = obj.get("serialized_value")
    if serialized is None:
        return Expectation(obj.get("value"))
    holder = as_object(serialized, "expectation.serialized_value")
    fmt = holder.get("serialization_format") or JSON_FORMAT
    if fmt != JSON_FORMAT:
        raise InvalidParameter(
            f"Unsupported expectation serialization_format {fmt!r}: expected '{JSON_FORMAT}'."
        )
    text = parse_str(holder.get("value") or "null", "expectation.serialized_value.value")
    try:
        return Expectation(json.loads(text))
    except ValueError:
        raise InvalidParameter(
            "Invalid expectation.serialized_value.value: the text is not JSON."
        ) from None


# ---------------------------------------------------------------- assessments
def encode_assessment(assessment: Assessment) -> JsonDict:
    out: JsonDict = {}
    _put(out, "assessment_id", assessment.assessment_id)
    out["assessment_name"] = assessment.name
    out["trace_id"] = assessment.trace_id
    _put(out, "span_id", assessment.span_id)
    out["source"] = encode_assessment_source(assessment.source)
    if assessment.create_time_ms is not None:
        out["create_time"] = format_timestamp(assessment.create_time_ms)
    if assessment.last_update_time_ms is not None:
        out["last_update_time"] = format_timestamp(assessment.last_update_time_ms)
    # Both (or neither) are sent as they are, so that the receiver refuses such an assessment.
    if assessment.feedback is not None:
        out["feedback"] = encode_feedback(assessment.feedback)
    if assessment.expectation is not None:
        out["expectation"] = encode_expectation(assessment.expectation)
    _put(out, "rationale", assessment.rationale)
    _put(out, "metadata", dict(assessment.metadata))
    _put(out, "overrides", assessment.overrides)
    out["valid"] = assessment.valid
    return out


def _optional_time(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return None if value is None else parse_timestamp(value, f"assessment.{key}")


def decode_assessment(value: object, trace_id: str | None = None) -> Assessment:
    """A whole assessment (CreateAssessment, a trace info's list, a response).

    ``trace_id``, when given, is the trace it belongs to whatever the body says (the path of
    CreateAssessment, the trace info holding it). Exactly one of ``feedback`` and
    ``expectation`` is required, as are ``assessment_name`` and ``source``.
    """
    obj = as_object(value, "assessment")
    name = optional_str(obj, "assessment_name")
    if not name:
        raise missing_parameter("assessment.assessment_name")
    trace = trace_id or optional_str(obj, "trace_id")
    if not trace:
        raise missing_parameter("assessment.trace_id")
    if obj.get("source") is None:
        raise missing_parameter("assessment.source")
    feedback, expectation = obj.get("feedback"), obj.get("expectation")
    if obj.get("issue") is not None:
        raise InvalidParameter("Issue assessments are not supported by this server.")
    if (feedback is None) == (expectation is None):
        raise InvalidParameter(
            "An assessment needs exactly one of 'feedback' and 'expectation', "
            f"got {'both' if feedback is not None else 'neither'}."
        )
    decoded_feedback = None if feedback is None else decode_feedback(feedback)
    # The deprecated top-level error is a feedback's error in older clients.
    legacy_error = obj.get("error")
    if decoded_feedback is not None and decoded_feedback.error is None and legacy_error:
        error = decode_assessment_error(legacy_error, "assessment.error")
        decoded_feedback = Feedback(decoded_feedback.value, error)
    valid = obj.get("valid")
    return Assessment(
        name=name,
        trace_id=trace,
        source=decode_assessment_source(obj["source"]),
        feedback=decoded_feedback,
        expectation=None if expectation is None else decode_expectation(expectation),
        assessment_id=optional_str(obj, "assessment_id") or None,
        span_id=optional_str(obj, "span_id") or None,
        rationale=optional_str(obj, "rationale"),
        metadata=string_map(obj.get("metadata"), "assessment.metadata"),
        create_time_ms=_optional_time(obj, "create_time"),
        last_update_time_ms=_optional_time(obj, "last_update_time"),
        overrides=optional_str(obj, "overrides") or None,
        valid=True if valid is None else parse_bool(valid, "assessment.valid"),
    )


# ---------------------------------------------------------------- UpdateAssessment
def _snake(path: str) -> str:
    return _CAMEL_HUMP.sub(r"_\1", path.strip()).lower()


def parse_field_mask(value: object, name: str = "update_mask") -> list[str]:
    """A FieldMask's paths in proto (snake_case) spelling.

    The JSON form is one string of lowerCamel paths, ``"assessmentName,feedback"``; the object
    form ``{"paths": [...]}`` is read too.
    """
    if isinstance(value, str):
        paths = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, Mapping):
        paths = [parse_str(path, f"{name}.paths") for path in as_list(value.get("paths") or [])]
    else:
        raise InvalidParameter(
            f"Invalid value {value!r} for parameter '{name}': expected a field mask such as "
            "'assessmentName,feedback'."
        )
    return [_snake(path) for path in paths]


def encode_field_mask(paths: list[str]) -> str:
    """``["assessment_name", "feedback"]`` -> ``"assessmentName,feedback"``."""
    from wayline.protocol.request import lower_camel

    return ",".join(lower_camel(path) for path in paths)


def decode_assessment_update(value: object, paths: list[str]) -> AssessmentUpdate:
    """The update UpdateAssessment asks for: the masked fields of a partial assessment."""
    obj = as_object(value, "assessment")
    unknown = sorted(set(paths) - set(UPDATABLE_FIELDS))
    if unknown:
        raise InvalidParameter(
            f"Invalid update_mask: cannot update {', '.join(unknown)}; updatable fields are "
            f"{', '.join(UPDATABLE_FIELDS)}."
        )
    if not paths:
        raise InvalidParameter("Invalid update_mask: it names no field to update.")
    fields: dict[str, Any] = {}
    if "assessment_name" in paths:
        fields["name"] = optional_str(obj, "assessment_name")
        if not fields["name"]:
            raise missing_parameter("assessment.assessment_name")
    if "feedback" in paths and "expectation" in paths:
        raise InvalidParameter("Exactly one of `expectation` or `feedback` should be specified.")
    if "feedback" in paths:
        feedback = decode_feedback(obj.get("feedback") or {})
        fields.update(value=feedback.value, has_value=True, error=feedback.error)
    if "expectation" in paths:
        fields.update(value=decode_expectation(obj.get("expectation") or {}).value, has_value=True)
    if "rationale" in paths:
        fields["rationale"] = optional_str(obj, "rationale") or ""
    if "metadata" in paths:
        fields["metadata"] = string_map(obj.get("metadata"), "assessment.metadata")
    if "valid" in paths:
        valid = obj.get("valid")
        fields["valid"] = True if valid is None else parse_bool(valid, "assessment.valid")
    return AssessmentUpdate(**fields)


def encode_assessment_update(
    trace_id: str, assessment_id: str, update: AssessmentUpdate, kind: str = "feedback"
) -> tuple[JsonDict, str]:
    """The ``assessment`` and ``update_mask`` of an UpdateAssessment request; ``kind`` says
    whether a new value is a ``"feedback"`` or an ``"expectation"``."""
    out: JsonDict = {"assessment_id": assessment_id, "trace_id": trace_id}
    paths: list[str] = []
    if update.name is not None:
        out["assessment_name"] = update.name
        paths.append("assessment_name")
    if update.has_value or update.error is not None:
        if kind == "expectation":
            out["expectation"] = encode_expectation(Expectation(update.value))
        else:
            out["feedback"] = encode_feedback(Feedback(update.value, update.error))
        paths.append(kind)
    if update.rationale is not None:
        out["rationale"] = update.rationale
        paths.append("rationale")
    if update.metadata is not None:
        out["metadata"] = dict(update.metadata)
        paths.append("metadata")
    if update.valid is not None:
        out["valid"] = update.valid
        paths.append("valid")
    return out, encode_field_mask(paths)


__all__ = [
    "JSON_FORMAT",
    "UPDATABLE_FIELDS",
    "decode_assessment",
    "decode_assessment_error",
    "decode_assessment_source",
    "decode_assessment_update",
    "decode_expectation",
    "decode_feedback",
    "encode_assessment",
    "encode_assessment_error",
    "encode_assessment_source",
    "encode_assessment_update",
    "encode_expectation",
    "encode_feedback",
    "encode_field_mask",
    "parse_field_mask",
    "parse_source_type",
    "string_map",
]
