"""Traces to and from MLflow's JSON (spec tracing.md §2): TraceInfo v3 and v2, trace locations,
spans and whole traces.

* **TraceInfo v3** (``mlflow.TraceInfoV3``): ``request_time`` an RFC 3339 string,
  ``execution_duration`` a Duration string (absent while in progress), ``state`` an enum name,
  ``trace_metadata`` and ``tags`` JSON objects, ``assessments`` a list. Keys are written in the
  order MLflow's server writes them; a preview is left out only when it is None.
* **TraceInfo v2** (``mlflow.TraceInfo``, the /api/2.0 routes): ``request_id``, times in
  milliseconds, ``status`` and ``{key, value}`` lists.
* **Spans** have two JSON forms. GetTrace and BatchGetTraces answer OpenTelemetry's protobuf
  ``Span`` in JSON (base64 ids, typed attribute values, nanosecond times as numbers). Spans
  are written in it directly (``encode_span``: the dicts protobuf's ``json_format`` would give,
  key for key, which a test holds it to, but without building messages: a 50,000-span trace
  is answered in about a fifth of the time) and read through protobuf (``decode_span``, which
  imports it). Wayline's spans endpoint and ``trace_to_dict`` use MLflow's own span dict
  (``Span.to_dict``: JSON-encoded attribute values, the form of ``traces.json``).
"""

from __future__ import annotations

import binascii
import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wayline.entities.trace import (
    Span,
    SpanEvent,
    SpanStatusCode,
    Trace,
    TraceInfo,
    TraceState,
    otel_trace_id,
)
from wayline.errors import InvalidParameter
from wayline.protocol.assessments import (
    decode_assessment,
    encode_assessment,
    optional_str,
    string_map,
)
from wayline.protocol.timestamps import (
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
)
from wayline.protocol.tracking import JsonDict, as_list, as_object
from wayline.protocol.values import missing_parameter, parse_enum, parse_int, parse_str

if TYPE_CHECKING:
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

MLFLOW_EXPERIMENT = "MLFLOW_EXPERIMENT"
_LOCATION_TYPES = ("TRACE_LOCATION_TYPE_UNSPECIFIED", MLFLOW_EXPERIMENT, "INFERENCE_TABLE")
_STATE_BY_NUMBER = dict(enumerate(TraceState))
# TraceInfo v2 spells the unset state TRACE_STATUS_UNSPECIFIED; the others share their names.
_V2_UNSPECIFIED = "TRACE_STATUS_UNSPECIFIED"
# int64 fields of OpenTelemetry's Span, which protobuf's JSON writes as strings and MLflow's
# server as numbers.
_INT64_KEYS = frozenset(
    {"start_time_unix_nano", "end_time_unix_nano", "time_unix_nano", "int_value"}
)


# ---------------------------------------------------------------- enums and locations
def parse_trace_state(value: object, name: str = "state") -> TraceState:
    """A TraceState from its name (any case) or its proto number."""
    if isinstance(value, str) and value.strip().upper() == _V2_UNSPECIFIED:
        return TraceState.STATE_UNSPECIFIED
    return parse_enum(value, name, TraceState, _STATE_BY_NUMBER)


def encode_trace_status(state: TraceState) -> str:
    """The v2 ``status`` name of a state."""
    state = parse_trace_state(state)
    return _V2_UNSPECIFIED if state is TraceState.STATE_UNSPECIFIED else state.value


def encode_trace_location(experiment_id: str) -> JsonDict:
    return {"type": MLFLOW_EXPERIMENT, "mlflow_experiment": {"experiment_id": experiment_id}}


def decode_trace_location(value: object, name: str = "trace_location") -> str | None:
    """The experiment id of a TraceLocation; None for a location of another kind, which this
    server does not store traces in (SearchTracesV3 skips those, as MLflow's server does)."""
    obj = as_object(value, name)
    kind = obj.get("type")
    if isinstance(kind, int) and not isinstance(kind, bool) and 0 <= kind < len(_LOCATION_TYPES):
        kind = _LOCATION_TYPES[kind]
    experiment = obj.get("mlflow_experiment")
    if experiment is None:
        if isinstance(kind, str) and kind not in ("", MLFLOW_EXPERIMENT, _LOCATION_TYPES[0]):
            return None  # an inference table, a Unity Catalog schema, ...
        raise InvalidParameter(
            f"Invalid {name} {dict(obj)!r}: expected "
            '{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "..."}}.'
        )
    experiment_id = as_object(experiment, f"{name}.mlflow_experiment").get("experiment_id")
    if experiment_id is None or experiment_id == "":
        raise missing_parameter(f"{name}.mlflow_experiment.experiment_id")
    if isinstance(experiment_id, int) and not isinstance(experiment_id, bool):
        return str(experiment_id)
    return parse_str(experiment_id, f"{name}.mlflow_experiment.experiment_id")


# ---------------------------------------------------------------- TraceInfo v3
def encode_trace_info(info: TraceInfo) -> JsonDict:
    out: JsonDict = {"trace_id": info.trace_id}
    if info.client_request_id is not None:
        out["client_request_id"] = info.client_request_id
    out["trace_location"] = encode_trace_location(info.experiment_id)
    out["request_time"] = format_timestamp(info.request_time_ms)
    if info.execution_duration_ms is not None:
        out["execution_duration"] = format_duration(info.execution_duration_ms)
    out["state"] = parse_trace_state(info.state).value
    if info.trace_metadata:
        out["trace_metadata"] = dict(info.trace_metadata)
    if info.assessments:
        out["assessments"] = [encode_assessment(a) for a in info.assessments]
    if info.tags:
        out["tags"] = dict(info.tags)
    if info.request_preview is not None:
        out["request_preview"] = info.request_preview
    if info.response_preview is not None:
        out["response_preview"] = info.response_preview
    return out


def decode_trace_info(value: object) -> TraceInfo:
    """A TraceInfo v3; ``trace_id``, ``trace_location`` and ``request_time`` are required."""
    obj = as_object(value, "trace_info")
    trace_id = optional_str(obj, "trace_id")
    if not trace_id:
        raise missing_parameter("trace_info.trace_id")
    location = obj.get("trace_location")
    if location is None:
        raise missing_parameter("trace_info.trace_location")
    experiment_id = decode_trace_location(location, "trace_info.trace_location")
    if experiment_id is None:
        raise InvalidParameter(
            "Only traces located in an MLflow experiment (trace_location.type = "
            "MLFLOW_EXPERIMENT) can be stored on this server."
        )
    request_time = obj.get("request_time")
    if request_time is None:
        raise missing_parameter("trace_info.request_time")
    duration = obj.get("execution_duration")
    state = obj.get("state")
    return TraceInfo(
        trace_id=trace_id,
        experiment_id=experiment_id,
        request_time_ms=parse_timestamp(request_time, "trace_info.request_time"),
        state=TraceState.STATE_UNSPECIFIED if state is None else parse_trace_state(state),
        execution_duration_ms=(
            None if duration is None else parse_duration(duration, "trace_info.execution_duration")
        ),
        request_preview=optional_str(obj, "request_preview"),
        response_preview=optional_str(obj, "response_preview"),
        client_request_id=optional_str(obj, "client_request_id"),
        trace_metadata=string_map(obj.get("trace_metadata"), "trace_info.trace_metadata"),
        tags=string_map(obj.get("tags"), "trace_info.tags"),
        assessments=[
            decode_assessment(item, trace_id)
            for item in as_list(obj.get("assessments") or [], "trace_info.assessments")
        ],
    )


# ---------------------------------------------------------------- TraceInfo v2
def encode_key_values(mapping: Mapping[str, str]) -> list[JsonDict]:
    return [{"key": key, "value": value} for key, value in mapping.items()]


def decode_key_value(value: object, name: str = "tags") -> tuple[str, str]:
    """One ``{key, value}`` pair of a v2 list (``request_metadata``, ``tags``)."""
    obj = as_object(value, name)
    key = optional_str(obj, "key")
    if not key:
        raise missing_parameter(f"{name}.key")
    return key, optional_str(obj, "value") or ""


def encode_trace_info_v2(info: TraceInfo) -> JsonDict:
    out: JsonDict = {
        "request_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "timestamp_ms": info.request_time_ms,
    }
    if info.execution_duration_ms is not None:
        out["execution_time_ms"] = info.execution_duration_ms
    out["status"] = encode_trace_status(info.state)
    if info.trace_metadata:
        out["request_metadata"] = encode_key_values(info.trace_metadata)
    if info.tags:
        out["tags"] = encode_key_values(info.tags)
    return out


def decode_trace_info_v2(value: object) -> TraceInfo:
    obj = as_object(value, "trace_info")
    request_id = optional_str(obj, "request_id")
    if not request_id:
        raise missing_parameter("trace_info.request_id")
    duration = obj.get("execution_time_ms")
    status = obj.get("status")
    metadata = as_list(obj.get("request_metadata") or [], "request_metadata")
    return TraceInfo(
        trace_id=request_id,
        experiment_id=optional_str(obj, "experiment_id") or "",
        request_time_ms=parse_int(obj.get("timestamp_ms") or 0, "timestamp_ms"),
        state=TraceState.STATE_UNSPECIFIED if status is None else parse_trace_state(status),
        execution_duration_ms=None
        if duration is None
        else parse_int(duration, "execution_time_ms"),
        trace_metadata=dict(decode_key_value(item, "request_metadata") for item in metadata),
        tags=dict(decode_key_value(item) for item in as_list(obj.get("tags") or [], "tags")),
    )


# ---------------------------------------------------------------- spans (OpenTelemetry JSON)
def _int64_as_numbers(node: Any) -> Any:
    """protobuf's JSON with int64 values as JSON numbers, the way MLflow's server writes them."""
    if isinstance(node, dict):
        return {
            key: int(item)
            if key in _INT64_KEYS and isinstance(item, str)
            else _int64_as_numbers(item)
            for key, item in node.items()
        }
    if isinstance(node, list):
        return [_int64_as_numbers(item) for item in node]
    return node


def _json_format() -> Any:
    from google.protobuf import json_format  # type: ignore[import-untyped]

    return json_format


def span_to_proto_json(proto: ProtoSpan) -> JsonDict:
    """protobuf's JSON of a protobuf span, int64 values as numbers (the reference form that
    ``encode_span`` writes without protobuf)."""
    encoded: JsonDict = _json_format().MessageToDict(proto, preserving_proto_field_name=True)
    result: JsonDict = _int64_as_numbers(encoded)
    return result


def encode_span(span: Span) -> JsonDict:
    """A span as OpenTelemetry's protobuf ``Span`` in JSON (GetTrace, BatchGetTraces).

    Exactly what ``span_to_proto_json(otlp.span_to_proto(span))`` gives (fields in protobuf's
    order, those at their default left out, attribute values typed), built directly: a 50,000-
    span trace is answered several times faster than through protobuf messages.
    """
    out: JsonDict = {"trace_id": _trace_id_b64(span.trace_id)}
    if span.span_id:
        out["span_id"] = _b64(bytes.fromhex(span.span_id))
    if span.parent_id:
        out["parent_span_id"] = _b64(bytes.fromhex(span.parent_id))
    if span.name:
        out["name"] = _utf8(span.name)
    out["kind"] = span.kind if span.kind in _SPAN_KINDS else _DEFAULT_SPAN_KIND
    if span.start_time_ns:
        out["start_time_unix_nano"] = int(span.start_time_ns)
    if span.end_time_ns:
        out["end_time_unix_nano"] = int(span.end_time_ns)
    if span.attributes:
        out["attributes"] = _key_values(span.attributes)
    if span.events:
        out["events"] = [_event_json(event) for event in span.events]
    status: JsonDict = {}
    if span.status_message:
        status["message"] = _utf8(span.status_message)
    if span.status_code != SpanStatusCode.UNSET:
        status["code"] = f"STATUS_CODE_{SpanStatusCode(span.status_code).value}"
    out["status"] = status
    return out


# OpenTelemetry's SpanKind names; any other kind (and UNSPECIFIED) is written as INTERNAL.
_SPAN_KINDS = frozenset(
    {
        "SPAN_KIND_INTERNAL",
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    }
)
_DEFAULT_SPAN_KIND = "SPAN_KIND_INTERNAL"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")  # base64.b64encode, faster


@functools.lru_cache(maxsize=256)
def _trace_id_b64(trace_id: str) -> str:
    # Every span of a trace repeats its id.
    return _b64(otel_trace_id(trace_id))


def _utf8(text: str) -> str:
    # As protobuf would store it: a lone surrogate (not UTF-8) becomes "?".
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def _event_json(event: SpanEvent) -> JsonDict:
    out: JsonDict = {}
    if event.time_unix_nano:
        out["time_unix_nano"] = int(event.time_unix_nano)
    if event.name:
        out["name"] = _utf8(event.name)
    if event.attributes:
        out["attributes"] = _key_values(event.attributes)
    return out


def _key_values(mapping: Mapping[Any, Any]) -> list[JsonDict]:
    """``KeyValue``s; protobuf leaves out an empty key and a None value (an unset AnyValue)."""
    pairs: list[JsonDict] = []
    for key, value in mapping.items():
        # Plain ASCII keys and string values, by far the most common, skip the general path.
        if type(key) is str and key and key.isascii():
            pair: JsonDict = {"key": key}
        else:
            pair = {"key": _utf8(str(key))} if key != "" else {}
        if type(value) is str:
            pair["value"] = {"string_value": value if value.isascii() else _utf8(value)}
        elif value is not None:
            pair["value"] = _any_value(value)
        pairs.append(pair)
    return pairs


def _any_value(value: Any) -> JsonDict:
    """An ``AnyValue`` in protobuf's JSON (``otlp.python_to_anyvalue``'s mapping)."""
    if isinstance(value, str):
        return {"string_value": _utf8(value)}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            return {"int_value": int(value)}
        return {"string_value": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"double_value": float(value)}
        return {"double_value": _NON_FINITE.get(value, "NaN")}
    if isinstance(value, Mapping):
        pairs = _key_values(value)
        return {"kvlist_value": {"values": pairs} if pairs else {}}
    if isinstance(value, list | tuple):
        items = [_any_value(item) for item in value]
        return {"array_value": {"values": items} if items else {}}
    if value is None:
        return {}
    if isinstance(value, bytes | bytearray):
        return {"bytes_value": _b64(bytes(value))}
    return {"string_value": _utf8(str(value))}


def decode_span(value: object) -> Span:
    """A span from OpenTelemetry's protobuf JSON; ids may be base64 (protobuf's JSON) only."""
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

    from wayline.tracing.otlp import span_from_proto

    json_format = _json_format()
    proto = ProtoSpan()
    try:
        json_format.ParseDict(as_object(value, "span"), proto, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise InvalidParameter(f"Invalid span: {exc}") from None
    return span_from_proto(proto)


# ---------------------------------------------------------------- spans (MLflow's span dict)
def encode_span_dict(span: Span) -> JsonDict:
    """MLflow's span dict (``traces.json``, ``Trace.to_dict()``); see ``Span.to_dict``."""
    return span.to_dict()


def decode_span_dict(value: object) -> Span:
    obj = as_object(value, "span")
    for key in ("trace_id", "span_id"):
        if not obj.get(key):
            raise missing_parameter(f"span.{key}")
    try:
        span = Span.from_dict(dict(obj))
    except (TypeError, ValueError) as exc:  # bad base64, a non-numeric time, ...
        raise InvalidParameter(f"Invalid span {obj.get('span_id')!r}: {exc}") from None
    otel_trace_id(span.trace_id)  # 16 bytes, or InvalidParameter
    for span_id in (span.span_id, span.parent_id or "0" * 16):
        if len(span_id) != 16:
            raise InvalidParameter(f"Invalid span {obj.get('span_id')!r}: ids must be 8 bytes.")
    return span


# ---------------------------------------------------------------- traces
def encode_trace(trace: Trace) -> JsonDict:
    """Proto ``mlflow.Trace``: ``{"trace_info": ..., "spans": [...]}``, no spans key if none."""
    out: JsonDict = {"trace_info": encode_trace_info(trace.info)}
    if trace.spans:
        out["spans"] = [encode_span(span) for span in trace.spans]
    return out


def decode_trace(value: object) -> Trace:
    obj = as_object(value, "trace")
    info = obj.get("trace_info")
    if info is None:
        raise missing_parameter("trace.trace_info")
    spans = as_list(obj.get("spans") or [], "trace.spans")
    return Trace(decode_trace_info(info), [decode_span(span) for span in spans])


def trace_info_to_dict(info: TraceInfo) -> JsonDict:
    """``Trace.to_dict()["info"]`` of MLflow: the v3 JSON with ``execution_duration_ms``."""
    out = encode_trace_info(info)
    duration = out.pop("execution_duration", None)
    if duration is not None:
        out["execution_duration_ms"] = info.execution_duration_ms
    return out


def trace_to_dict(trace: Trace) -> JsonDict:
    """MLflow's ``Trace.to_dict()``: ``{"info": {...}, "data": {"spans": [span dict, ...]}}``."""
    return {
        "info": trace_info_to_dict(trace.info),
        "data": {"spans": [encode_span_dict(span) for span in trace.spans]},
    }


def trace_from_dict(value: object) -> Trace:
    """The inverse of ``trace_to_dict``; also reads MLflow's own ``Trace.to_dict()`` output."""
    obj = as_object(value, "trace")
    info = dict(as_object(obj.get("info"), "info"))
    duration_ms = info.pop("execution_duration_ms", None)
    if duration_ms is not None and "execution_duration" not in info:
        info["execution_duration"] = format_duration(
            parse_int(duration_ms, "execution_duration_ms")
        )
    data = as_object(obj.get("data") or {}, "data")
    spans = as_list(data.get("spans") or [], "data.spans")
    return Trace(decode_trace_info(info), [decode_span_dict(span) for span in spans])


def encode_prompt_version(pair: tuple[str, str | int]) -> JsonDict:
    """A LinkPromptsToTrace ``PromptVersionRef``; the version travels as a string."""
    return {"name": pair[0], "version": str(pair[1])}


def decode_prompt_version(value: object, name: str = "prompt_versions") -> tuple[str, str]:
    obj = as_object(value, name)
    prompt = optional_str(obj, "name")
    version = obj.get("version")
    if not prompt:
        raise missing_parameter(f"{name}.name")
    if version is None or version == "":
        raise missing_parameter(f"{name}.version")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    return prompt, parse_str(version, f"{name}.version")


def experiment_ids_of(locations: Sequence[object]) -> list[str]:
    """The experiments a SearchTracesV3 request names (other location kinds are skipped)."""
    found = (decode_trace_location(item, "locations") for item in locations)
    return [experiment_id for experiment_id in found if experiment_id is not None]


__all__ = [
    "MLFLOW_EXPERIMENT",
    "decode_key_value",
    "decode_prompt_version",
    "decode_span",
    "decode_span_dict",
    "decode_trace",
    "decode_trace_info",
    "decode_trace_info_v2",
    "decode_trace_location",
    "encode_key_values",
    "encode_prompt_version",
    "encode_span",
    "encode_span_dict",
    "encode_trace",
    "encode_trace_info",
    "encode_trace_info_v2",
    "encode_trace_location",
    "encode_trace_status",
    "experiment_ids_of",
    "parse_trace_state",
    "span_to_proto_json",
    "trace_from_dict",
    "trace_info_to_dict",
    "trace_to_dict",
]
