"""The trace wire protocol: TraceInfo v3/v2, assessments, spans (both JSON forms) and times,
checked against the examples of spec tracing.md and JSON recorded from MLflow 3.18's server; and
the trace route table against the spec's RPC tables (§3.1, §3.2)."""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wayline.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.entities.trace import Span, SpanEvent, SpanStatusCode, Trace, TraceInfo, TraceState
from wayline.errors import InvalidParameter
from wayline.protocol import encode_query, encode_request, parse_request, route, urls
from wayline.protocol.assessments import (
    decode_assessment,
    decode_assessment_update,
    encode_assessment,
    encode_assessment_update,
    parse_field_mask,
)
from wayline.protocol.routes import TRACE_ROUTES
from wayline.protocol.timestamps import (
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
)
from wayline.protocol.traces import (
    decode_span,
    decode_span_dict,
    decode_trace,
    decode_trace_info,
    decode_trace_info_v2,
    decode_trace_location,
    encode_span,
    encode_span_dict,
    encode_trace,
    encode_trace_info,
    encode_trace_info_v2,
    experiment_ids_of,
    parse_trace_state,
    trace_from_dict,
    trace_to_dict,
)
from wayline.store.traces import AssessmentUpdate

SPEC_CANDIDATES = [
    Path(__file__).parents[2].parent / "shared/spec/tracing.md",
    Path("/work/shared/spec/tracing.md"),
]
SPEC = next((path for path in SPEC_CANDIDATES if path.exists()), SPEC_CANDIDATES[0])

TRACE_ID = "tr-987460f98db9f718b8902e014e48eceb"

# spec §3.3: the StartTraceV3 request of MLflow's client (metadata abbreviated).
START_TRACE_INFO: dict[str, Any] = {
    "trace_id": TRACE_ID,
    "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "4"}},
    "request_time": "2026-11-27T05:06:42.512Z",
    "execution_duration": "0.028s",
    "state": "OK",
    "trace_metadata": {
        "mlflow.traceInputs": '{"x": 3}',
        "mlflow.traceOutputs": "6",
        "mlflow.trace_schema.version": "3",
        "mlflow.user": "root",
    },
    "tags": {"mlflow.traceName": "outer"},
    "request_preview": '{"x": 3}',
    "response_preview": "6",
}

# Recorded from MLflow 3.18's server: GetTrace's span of a `child` span with typed attributes.
PROTO_SPAN: dict[str, Any] = {
    "trace_id": "/XHUSNTzBt33bJ7JTkz6Yw==",
    "span_id": "rdAOXtE3LyU=",
    "parent_span_id": "hlXtvM8t52Q=",
    "name": "child",
    "kind": "SPAN_KIND_INTERNAL",
    "start_time_unix_nano": 1795802011240886018,
    "end_time_unix_nano": 1795802011241058855,
    "attributes": [
        {
            "key": "mlflow.traceRequestId",
            "value": {"string_value": "tr-fd71d448d4f306ddf76c9ec94e4cfa63"},
        },
        {"key": "mlflow.spanType", "value": {"string_value": "UNKNOWN"}},
        {"key": "mlflow.spanInputs", "value": {"kvlist_value": {"values": [
            {"key": "x", "value": {"int_value": 3}}
        ]}}},
        {"key": "n", "value": {"int_value": 3}},
        {"key": "f", "value": {"double_value": 1.5}},
        {"key": "b", "value": {"bool_value": True}},
        {"key": "l", "value": {"array_value": {"values": [{"int_value": 1}, {"int_value": 2}]}}},
    ],
    "status": {"code": "STATUS_CODE_OK"},
}  # fmt: skip

# Recorded from MLflow 3.18's server: an error span, with its exception event.
PROTO_ERROR_SPAN: dict[str, Any] = {
    "trace_id": "jJntluBjVoPTW6We6yLW9g==",
    "span_id": "XSfHQF0rinA=",
    "name": "boom",
    "kind": "SPAN_KIND_INTERNAL",
    "start_time_unix_nano": 1795802011242369930,
    "end_time_unix_nano": 1795802011244409447,
    "attributes": [
        {"key": "mlflow.spanInputs", "value": {"kvlist_value": {}}},
        {"key": "mlflow.spanLogLevel", "value": {"int_value": 40}},
    ],
    "events": [
        {
            "time_unix_nano": 1795802011244307200,
            "name": "exception",
            "attributes": [
                {"key": "exception.message", "value": {"string_value": "boom"}},
                {"key": "exception.type", "value": {"string_value": "ValueError"}},
            ],
        }
    ],
    "status": {"message": "ValueError: boom", "code": "STATUS_CODE_ERROR"},
}

# spec §2.4: MLflow's span dict (traces.json, Trace.to_dict()).
SPAN_DICT: dict[str, Any] = {
    "trace_id": "mHRg+Y259xi4kC4BTkjs6w==",
    "span_id": "iSjWA+PWKdA=",
    "parent_span_id": None,
    "name": "inner",
    "kind": "SPAN_KIND_INTERNAL",
    "start_time_unix_nano": 1795756002541082695,
    "end_time_unix_nano": 1795756002541295943,
    "events": [
        {
            "name": "exception",
            "time_unix_nano": 1795756002541200000,
            "attributes": {"exception.message": "boom", "exception.type": "ValueError"},
        }
    ],
    "status": {"code": "STATUS_CODE_ERROR", "message": "ValueError: boom"},
    "attributes": {
        "mlflow.traceRequestId": f'"{TRACE_ID}"',
        "mlflow.spanType": '"LLM"',
        "mlflow.spanInputs": '{"q": 3}',
        "mlflow.spanOutputs": '{"a": 6}',
        "mlflow.spanFunctionName": '"outer"',
        "mlflow.spanLogLevel": "20",
        "model": '"gpt"',
    },
    "links": [],
}

# Recorded from MLflow 3.18's server (CreateAssessment and GetTraceInfoV3 answers).
FEEDBACK = {
    "assessment_id": "a-ad6156cbed8f43009889a0880a5b5d31",
    "assessment_name": "quality",
    "trace_id": TRACE_ID,
    "source": {"source_type": "CODE", "source_id": "default"},
    "create_time": "2026-11-27T17:53:32.575Z",
    "last_update_time": "2026-11-27T17:53:32.870Z",
    "feedback": {"value": 0.5},
    "rationale": "meh",
    "valid": False,
}
SERIALIZED_EXPECTATION = {
    "assessment_id": "a-28d645c9459f418da8968d391d4b73c1",
    "assessment_name": "answer",
    "trace_id": TRACE_ID,
    "source": {"source_type": "HUMAN", "source_id": "default"},
    "create_time": "2026-11-27T17:53:32.635Z",
    "last_update_time": "2026-11-27T17:53:32.635Z",
    "expectation": {
        "serialized_value": {"serialization_format": "JSON_FORMAT", "value": '{"a": [1, 2]}'}
    },
    "valid": True,
}
FAILED_FEEDBACK = {
    "assessment_id": "a-bd969550b1cd41229f7e7ed3a0718999",
    "assessment_name": "judge",
    "trace_id": TRACE_ID,
    "span_id": "8928d603e3d629d0",
    "source": {"source_type": "LLM_JUDGE", "source_id": "gpt-4"},
    "create_time": "2026-11-27T17:53:32.751Z",
    "last_update_time": "2026-11-27T17:53:32.751Z",
    "feedback": {"value": None, "error": {"error_code": "E", "error_message": "failed"}},
    "metadata": {"mlflow.assessment.sourceRunId": "r1"},
    "overrides": "a-00000000000000000000000000000001",
    "valid": True,
}


# ---------------------------------------------------------------- times
@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (1795756002512, "2026-11-27T05:06:42.512Z"),
        (1700000000000, "2023-11-14T22:13:20Z"),  # no fraction on a whole second, as protobuf
        (0, "1970-01-01T00:00:00Z"),
        (5, "1970-01-01T00:00:00.005Z"),
    ],
)
def test_timestamps_round_trip(ms: int, text: str) -> None:
    assert format_timestamp(ms) == text
    assert parse_timestamp(text) == ms


def test_timestamps_read_every_rfc3339_spelling() -> None:
    assert parse_timestamp("2026-11-27T05:06:42.512345678Z") == 1795756002512
    assert parse_timestamp("2026-11-27T06:06:42.5+01:00") == 1795756002500
    assert parse_timestamp("2026-11-27t05:06:42z") == 1795756002000
    for bad in ("2026-11-27", "yesterday", 1795756002512, "2026-13-40T00:00:00Z", None):
        with pytest.raises(InvalidParameter, match=r"RFC 3339|Invalid value"):
            parse_timestamp(bad, "request_time")


@pytest.mark.parametrize(
    ("ms", "text"), [(28, "0.028s"), (0, "0s"), (1500, "1.500s"), (12000, "12s"), (-5, "-0.005s")]
)
def test_durations_round_trip(ms: int, text: str) -> None:
    assert format_duration(ms) == text
    assert parse_duration(text) == ms


def test_durations_read_nanosecond_fractions_and_refuse_the_rest() -> None:
    assert parse_duration("0.028999999s") == 28
    assert parse_duration("3.1s") == 3100
    for bad in ("28ms", "0.028", "s", 28, "1.2.3s"):
        with pytest.raises(InvalidParameter, match="duration"):
            parse_duration(bad)


# ---------------------------------------------------------------- trace infos
def test_start_trace_example_round_trips_exactly() -> None:
    info = decode_trace_info(START_TRACE_INFO)

    assert info == TraceInfo(
        trace_id=TRACE_ID,
        experiment_id="4",
        request_time_ms=1795756002512,
        state=TraceState.OK,
        execution_duration_ms=28,
        request_preview='{"x": 3}',
        response_preview="6",
        trace_metadata=START_TRACE_INFO["trace_metadata"],
        tags={"mlflow.traceName": "outer"},
    )
    assert encode_trace_info(info) == START_TRACE_INFO
    assert list(encode_trace_info(info)) == list(START_TRACE_INFO)  # MLflow's key order


def test_trace_info_omits_what_is_unset_and_keeps_empty_previews() -> None:
    info = TraceInfo(TRACE_ID, "4", 1795756002512, state=TraceState.IN_PROGRESS)
    assert encode_trace_info(info) == {
        "trace_id": TRACE_ID,
        "trace_location": START_TRACE_INFO["trace_location"],
        "request_time": "2026-11-27T05:06:42.512Z",
        "state": "IN_PROGRESS",
    }
    info.request_preview, info.client_request_id = "", "req-1"
    encoded = encode_trace_info(info)
    assert encoded["request_preview"] == ""
    assert encoded["client_request_id"] == "req-1"
    assert decode_trace_info(encoded) == info


def test_trace_info_carries_its_assessments() -> None:
    body = {**START_TRACE_INFO, "assessments": [FEEDBACK, SERIALIZED_EXPECTATION]}
    info = decode_trace_info(body)

    assert [a.name for a in info.assessments] == ["quality", "answer"]
    assert info.assessments[1].value == {"a": [1, 2]}
    assert encode_trace_info(info)["assessments"] == [FEEDBACK, SERIALIZED_EXPECTATION]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"trace_id": None}, "trace_info.trace_id"),
        ({"trace_location": None}, "trace_info.trace_location"),
        ({"request_time": None}, "trace_info.request_time"),
        ({"request_time": 1795756002512}, "RFC 3339"),
        ({"execution_duration": 28}, "duration"),
        ({"state": "DONE"}, "expected one of"),
        ({"tags": {"k": 1}}, "expected a string"),
        ({"trace_metadata": ["k"]}, "JSON object"),
        (
            {"trace_location": {"type": "INFERENCE_TABLE", "inference_table": {}}},
            "MLFLOW_EXPERIMENT",
        ),
        ({"trace_location": {"type": "MLFLOW_EXPERIMENT"}}, "expected"),
        ({"trace_location": {"mlflow_experiment": {}}}, "experiment_id"),
    ],
)
def test_bad_trace_infos_are_invalid_parameters(change: dict[str, Any], message: str) -> None:
    body = {**START_TRACE_INFO, **change}
    with pytest.raises(InvalidParameter, match=message):
        decode_trace_info({k: v for k, v in body.items() if v is not None})


def test_states_read_names_numbers_and_the_v2_spelling() -> None:
    assert parse_trace_state("ok") is TraceState.OK
    assert parse_trace_state(2) is TraceState.ERROR
    assert parse_trace_state("3") is TraceState.IN_PROGRESS
    assert parse_trace_state("TRACE_STATUS_UNSPECIFIED") is TraceState.STATE_UNSPECIFIED


def test_locations_name_experiments_and_skip_other_kinds() -> None:
    assert decode_trace_location({"type": 1, "mlflow_experiment": {"experiment_id": 7}}) == "7"
    assert decode_trace_location({"type": "INFERENCE_TABLE", "inference_table": {}}) is None
    locations = [
        START_TRACE_INFO["trace_location"],
        {"type": "INFERENCE_TABLE", "inference_table": {"full_table_name": "a.b.c"}},
    ]
    assert experiment_ids_of(locations) == ["4"]


def test_trace_info_v2_matches_mlflows_shape() -> None:
    info = decode_trace_info(START_TRACE_INFO)
    encoded = encode_trace_info_v2(info)

    assert encoded == {
        "request_id": TRACE_ID,
        "experiment_id": "4",
        "timestamp_ms": 1795756002512,
        "execution_time_ms": 28,
        "status": "OK",
        "request_metadata": [
            {"key": key, "value": value} for key, value in info.trace_metadata.items()
        ],
        "tags": [{"key": "mlflow.traceName", "value": "outer"}],
    }
    # v2 has no previews; everything else comes back.
    assert decode_trace_info_v2(encoded) == replace(
        info, request_preview=None, response_preview=None
    )
    info.state = TraceState.STATE_UNSPECIFIED
    assert encode_trace_info_v2(info)["status"] == "TRACE_STATUS_UNSPECIFIED"


# ---------------------------------------------------------------- spans
def test_span_dict_of_the_spec_decodes_to_its_values() -> None:
    span = decode_span_dict(SPAN_DICT)

    assert span.span_id == "8928d603e3d629d0"  # spec §1: iSjWA+PWKdA= is this hex
    assert span.trace_id == TRACE_ID
    assert span.parent_id is None
    assert span.span_type == "LLM"
    assert span.inputs == {"q": 3}
    assert span.attributes["mlflow.spanLogLevel"] == 20
    assert span.status_code is SpanStatusCode.ERROR
    assert span.events == [
        SpanEvent("exception", 1795756002541200000, SPAN_DICT["events"][0]["attributes"])
    ]
    assert encode_span_dict(span) == SPAN_DICT


@pytest.mark.parametrize("body", [PROTO_SPAN, PROTO_ERROR_SPAN], ids=["child", "error"])
def test_proto_spans_round_trip_exactly(body: dict[str, Any]) -> None:
    span = decode_span(copy.deepcopy(body))

    assert encode_span(span) == body  # ids base64, times and int values as JSON numbers


def test_proto_span_values_are_typed() -> None:
    span = decode_span(PROTO_SPAN)

    assert span.span_id == "add00e5ed1372f25"
    assert span.parent_id == "8655edbccf2de764"
    assert span.attributes["mlflow.spanInputs"] == {"x": 3}
    assert (span.attributes["n"], span.attributes["f"], span.attributes["b"]) == (3, 1.5, True)
    assert span.attributes["l"] == [1, 2]
    error = decode_span(PROTO_ERROR_SPAN)
    assert (error.status_code, error.status_message) == (SpanStatusCode.ERROR, "ValueError: boom")
    assert error.events[0].attributes["exception.type"] == "ValueError"


@pytest.mark.parametrize(
    "body",
    [
        {**PROTO_SPAN, "span_id": "not base64!"},
        {**PROTO_SPAN, "start_time_unix_nano": "soon"},
        {**PROTO_SPAN, "span_id": "AQI="},  # two bytes, not eight
        "a span",
    ],
)
def test_bad_proto_spans_are_invalid_parameters(body: Any) -> None:
    with pytest.raises(InvalidParameter):
        decode_span(body)


def test_bad_span_dicts_are_invalid_parameters() -> None:
    bodies: list[Any] = [{**SPAN_DICT, "span_id": None}, {**SPAN_DICT, "span_id": "!!"}, []]
    for body in bodies:
        with pytest.raises(InvalidParameter):
            decode_span_dict(body)


def _trace() -> Trace:
    root = Span(TRACE_ID, "8928d603e3d629d0", None, "root", 10, 20, SpanStatusCode.OK)
    child = Span(TRACE_ID, "0000000000000002", root.span_id, "child", 11, 19)
    child.attributes = {"mlflow.spanType": "TOOL", "payload": {"deep": [1, "x", None]}}
    return Trace(decode_trace_info(START_TRACE_INFO), [root, child])


def test_traces_round_trip_in_both_forms() -> None:
    trace = _trace()

    proto_form = encode_trace(trace)
    assert list(proto_form) == ["trace_info", "spans"]
    assert decode_trace(proto_form) == trace
    assert "spans" not in encode_trace(Trace(trace.info))

    mlflow_form = trace_to_dict(trace)
    assert mlflow_form["info"]["execution_duration_ms"] == 28  # Trace.to_dict()'s spelling
    assert "execution_duration" not in mlflow_form["info"]
    assert mlflow_form["data"]["spans"][1]["attributes"]["mlflow.spanType"] == '"TOOL"'
    assert trace_from_dict(mlflow_form) == trace


# ---------------------------------------------------------------- assessments
@pytest.mark.parametrize(
    "body", [FEEDBACK, SERIALIZED_EXPECTATION, FAILED_FEEDBACK], ids=lambda b: b["assessment_name"]
)
def test_assessments_round_trip_exactly(body: dict[str, Any]) -> None:
    encoded = encode_assessment(decode_assessment(body))
    assert encoded == body
    assert list(encoded) == list(body)  # MLflow's key order


def test_assessment_values() -> None:
    feedback = decode_assessment(FAILED_FEEDBACK)
    assert feedback == Assessment(
        name="judge",
        trace_id=TRACE_ID,
        source=AssessmentSource(AssessmentSourceType.LLM_JUDGE, "gpt-4"),
        feedback=Feedback(None, AssessmentError("E", "failed")),
        assessment_id="a-bd969550b1cd41229f7e7ed3a0718999",
        span_id="8928d603e3d629d0",
        metadata={"mlflow.assessment.sourceRunId": "r1"},
        create_time_ms=parse_timestamp("2026-11-27T17:53:32.751Z"),
        last_update_time_ms=parse_timestamp("2026-11-27T17:53:32.751Z"),
        overrides="a-00000000000000000000000000000001",
    )
    plain = {"value": "plain"}
    expectation = {**SERIALIZED_EXPECTATION, "expectation": plain}
    assert decode_assessment(expectation).expectation == Expectation("plain")
    assert encode_assessment(decode_assessment(expectation))["expectation"] == plain


def test_a_new_assessment_needs_little_and_takes_the_trace_it_is_given() -> None:
    body = {
        "assessment_name": "quality",
        "trace_id": "tr-other",
        "source": {"source_type": 1, "source_id": "me"},
        "feedback": {"value": {"a": [1, True, None]}},
    }
    assessment = decode_assessment(body, TRACE_ID)

    assert assessment.trace_id == TRACE_ID
    assert assessment.source.source_type is AssessmentSourceType.HUMAN
    assert assessment.value == {"a": [1, True, None]}
    assert (assessment.assessment_id, assessment.create_time_ms, assessment.valid) == (
        None,
        None,
        True,
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"assessment_name": ""}, "assessment_name"),
        ({"source": None}, "assessment.source"),
        ({"source": {"source_id": "x"}}, "source_type"),
        ({"source": {"source_type": "ROBOT", "source_id": "x"}}, "expected one of"),
        ({"feedback": None}, "exactly one"),
        ({"expectation": {"value": 1}}, "exactly one"),
        ({"create_time": "now"}, "RFC 3339"),
        ({"valid": "maybe"}, "true or false"),
        ({"metadata": {"k": 2}}, "expected a string"),
        ({"issue": {"issue_name": "x"}}, "not supported"),
    ],
)
def test_bad_assessments_are_invalid_parameters(change: dict[str, Any], message: str) -> None:
    body = {**FEEDBACK, **change}
    with pytest.raises(InvalidParameter, match=message):
        decode_assessment({k: v for k, v in body.items() if v is not None})


def test_serialized_expectations_must_be_json() -> None:
    bad = {"serialized_value": {"serialization_format": "JSON_FORMAT", "value": "{nope"}}
    with pytest.raises(InvalidParameter, match="not JSON"):
        decode_assessment({**SERIALIZED_EXPECTATION, "expectation": bad})
    other = {"serialized_value": {"serialization_format": "PICKLE", "value": "x"}}
    with pytest.raises(InvalidParameter, match="serialization_format"):
        decode_assessment({**SERIALIZED_EXPECTATION, "expectation": other})


def test_update_requests_read_as_mlflows_client_writes_them() -> None:
    # Recorded: mlflow.update_assessment(trace_id, id, Feedback(value=0.5, rationale="meh"))
    body = {
        "assessment": {
            "assessment_id": FEEDBACK["assessment_id"],
            "assessment_name": "feedback",
            "trace_id": TRACE_ID,
            "feedback": {"value": 0.5},
            "rationale": "meh",
        },
        "update_mask": "assessmentName,feedback,rationale",
    }
    paths = parse_field_mask(body["update_mask"])
    assert paths == ["assessment_name", "feedback", "rationale"]
    update = decode_assessment_update(body["assessment"], paths)
    assert update == AssessmentUpdate(name="feedback", value=0.5, has_value=True, rationale="meh")

    fields, mask = encode_assessment_update(TRACE_ID, str(FEEDBACK["assessment_id"]), update)
    assert (fields, mask) == (body["assessment"], body["update_mask"])


def test_update_masks_of_expectations_metadata_and_validity() -> None:
    update = AssessmentUpdate(value={"k": [1]}, has_value=True, metadata={"a": "b"}, valid=False)
    fields, mask = encode_assessment_update(TRACE_ID, "a-1", update, "expectation")

    assert mask == "expectation,metadata,valid"
    assert fields["expectation"]["serialized_value"]["value"] == '{"k": [1]}'
    assert decode_assessment_update(fields, parse_field_mask(mask)) == update
    assert parse_field_mask({"paths": ["assessment_name", "valid"]}) == ["assessment_name", "valid"]
    assert encode_assessment_update(TRACE_ID, "a-1", AssessmentUpdate())[1] == ""


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["source"], "cannot update source"),
        ([], "names no field"),
        (["feedback", "expectation"], "Exactly one"),
        (["assessment_name"], "assessment_name"),
    ],
)
def test_bad_updates_are_invalid_parameters(paths: list[str], message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        decode_assessment_update({"feedback": {"value": 1}}, paths)


def test_field_masks_must_be_strings_or_path_lists() -> None:
    with pytest.raises(InvalidParameter, match="field mask"):
        parse_field_mask(3)


# ---------------------------------------------------------------- request kinds
def test_trace_request_kinds_round_trip_through_the_route_table() -> None:
    start = route("StartTraceV3")
    info = decode_trace_info(START_TRACE_INFO)
    body = encode_request(start, {"trace": Trace(info)})
    assert body == {"trace": {"trace_info": START_TRACE_INFO}}  # the §3.3 request, no spans key
    assert parse_request(start, body)["trace"] == Trace(info)

    search = route("SearchTracesV3")
    body = encode_request(search, {"locations": ["4"], "filter": "trace.status = 'OK'"})
    assert body["locations"] == [START_TRACE_INFO["trace_location"]]  # as spec §5 shows
    assert parse_request(search, body)["locations"] == ["4"]

    link = route("LinkPromptsToTrace")
    body = encode_request(link, {"trace_id": TRACE_ID, "prompt_versions": [("p", 2)]})
    assert body["prompt_versions"] == [{"name": "p", "version": "2"}]
    assert parse_request(link, body)["prompt_versions"] == [("p", "2")]

    end = route("EndTrace")
    body = encode_request(
        end, {"request_id": TRACE_ID, "status": TraceState.OK, "tags": [("k", "v")]}
    )
    assert body["status"] == "OK" and body["tags"] == [{"key": "k", "value": "v"}]
    assert parse_request(end, body)["tags"] == [("k", "v")]

    batch = route("BatchGetTraces")
    assert encode_query(batch, {"trace_ids": ["a", "b"]}) == [
        ("trace_ids", "a"),
        ("trace_ids", "b"),
    ]


# ---------------------------------------------------------------- the route table
_ROW = re.compile(r"^\| (?P<name>[^|]+?) \| (?P<method>GET|POST|PATCH|DELETE) `(?P<path>[^`]+)`")
# Wayline's extension (the brief), not in the spec's tables.
EXTENSIONS = {"GetTraceSpans"}


@pytest.fixture(scope="module")
def spec_rows() -> dict[str, tuple[int, str, str]]:
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}")
    text = SPEC.read_text(encoding="utf-8")
    rows: dict[str, tuple[int, str, str]] = {}
    for since, start, end in ((3, "### 3.1", "### 3.2"), (2, "### 3.2", "### 3.3")):
        section = text[text.index(start) : text.index(end)]
        for line in section.splitlines():
            match = _ROW.match(line)
            if match:
                name = match["name"].strip("* ").split(" ")[0]
                rows[name] = (since, match["method"], "/mlflow" + match["path"])
    assert len(rows) == 24, sorted(rows)  # a guard against the parser matching nothing
    return rows


def test_every_spec_rpc_is_in_the_trace_table(spec_rows: dict[str, tuple[int, str, str]]) -> None:
    table = {r.name for r in TRACE_ROUTES}
    assert sorted(set(spec_rows) - table) == []
    assert sorted(table - set(spec_rows)) == sorted(EXTENSIONS)


@pytest.mark.parametrize(
    "entry", [r for r in TRACE_ROUTES if r.name not in EXTENSIONS], ids=lambda r: r.name
)
def test_trace_route_matches_spec_row(
    entry: Any, spec_rows: dict[str, tuple[int, str, str]]
) -> None:
    assert (entry.since, entry.method, entry.path) == spec_rows[entry.name]
    for name in entry.path_fields:
        assert entry.field(name).required


def test_literal_paths_come_before_the_parameterised_ones() -> None:
    # Starlette tries routes in order: /traces/get must not be read as trace id "get".
    order = [r.name for r in TRACE_ROUTES]
    for literal in ("GetTrace", "BatchGetTraces", "SearchTracesV3", "BatchGetTraceInfos"):
        assert order.index(literal) < order.index("GetTraceInfoV3")
    for literal in ("DeleteTraces", "LinkTracesToRun", "LinkPromptsToTrace"):
        assert order.index(literal) < order.index("EndTrace")


def test_trace_urls_carry_their_api_version() -> None:
    assert urls(route("GetTrace")) == [
        "/api/3.0/mlflow/traces/get",
        "/ajax-api/3.0/mlflow/traces/get",
    ]
    assert urls(route("SetTraceTag"))[0] == "/api/2.0/mlflow/traces/{request_id}/tags"
    spans = route("GetTraceSpans")
    assert (spans.method, urls(spans)[0]) == ("GET", "/api/3.0/mlflow/traces/{trace_id}/spans")
    assert spans.response == ("spans", "next_page_token")
