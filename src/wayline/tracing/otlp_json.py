"""OTLP/JSON trace requests (``Content-Type: application/json`` on ``POST /v1/traces``).

The OTLP specification's JSON encoding differs from protobuf's canonical JSON mapping: trace and
span ids are lowercase hex rather than base64. Both spellings are accepted (they differ in
length), as are lowerCamelCase and snake_case field names, enums as numbers or names, and 64-bit
integers as numbers or strings. Spans come out exactly as ``otlp.span_from_proto`` would give
them for the same request in protobuf.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from typing import Any

import orjson
from opentelemetry.proto.trace.v1 import trace_pb2

from wayline.entities.trace import Span, SpanEvent
from wayline.errors import InvalidParameter
from wayline.tracing.otlp import (
    INVALID_FORMAT,
    KIND_NUMBERS,
    MAX_VALUE_DEPTH,
    NO_SPANS,
    SPAN_ID_BYTES,
    TRACE_ID_BYTES,
    OtlpRequest,
    check_ids,
    make_span,
)


def parse_json(body: bytes | bytearray) -> OtlpRequest:
    """The spans of an OTLP/JSON request, each converted once here to check it whole, so that
    converting them again while they are stored cannot fail half-way."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidParameter(INVALID_FORMAT) from None
    spans: list[Mapping[str, Any]] = []
    roots: dict[str, None] = {}
    for resource_spans in _json_list(document, "resourceSpans", "resource_spans"):
        for scope_spans in _json_list(resource_spans, "scopeSpans", "scope_spans"):
            for span in _json_list(scope_spans, "spans", "spans"):
                checked = span_from_json(span)
                if checked.parent_id is None:
                    roots[checked.trace_id] = None
                spans.append(span)
    if not spans:
        raise InvalidParameter(NO_SPANS)
    return OtlpRequest(spans, span_from_json, list(roots))


def span_from_json(span: Any) -> Span:
    """A span of OTLP/JSON as a ``Span``, with the corrections for exporters applied."""
    if not isinstance(span, Mapping):
        raise InvalidParameter(INVALID_FORMAT)
    name = _json_str(span, "name", "name")
    trace_raw = _json_id(span, "traceId", "trace_id", TRACE_ID_BYTES, name)
    span_raw = _json_id(span, "spanId", "span_id", SPAN_ID_BYTES, name)
    parent_raw = _json_id(span, "parentSpanId", "parent_span_id", SPAN_ID_BYTES, name)
    check_ids(name, trace_raw, span_raw, parent_raw)
    status = _json_field(span, "status", "status") or {}
    if not isinstance(status, Mapping):
        raise InvalidParameter(f"{INVALID_FORMAT} - span '{name}' has an invalid status")
    return make_span(
        trace_raw=trace_raw,
        span_raw=span_raw,
        parent_raw=parent_raw,
        name=name,
        kind=_json_enum(span, "kind", "kind", KIND_NUMBERS, name),
        start_ns=_json_int(span, "startTimeUnixNano", "start_time_unix_nano", name),
        end_ns=_json_int(span, "endTimeUnixNano", "end_time_unix_nano", name),
        status_code=_json_enum(status, "code", "code", _STATUS_NAME_NUMBERS, name),
        status_message=_json_str(status, "message", "message"),
        attributes=_json_attributes(span, name),
        events=[
            SpanEvent(
                name=_json_str(event, "name", "name"),
                time_unix_nano=_json_int(event, "timeUnixNano", "time_unix_nano", name),
                attributes=_json_attributes(event, name),
            )
            for event in _json_list(span, "events", "events")
            if isinstance(event, Mapping)
        ],
        from_exporter=True,
    )


def _json_field(obj: Any, camel: str, snake: str) -> Any:
    if not isinstance(obj, Mapping):
        raise InvalidParameter(INVALID_FORMAT)
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _json_list(obj: Any, camel: str, snake: str) -> list[Any]:
    value = _json_field(obj, camel, snake)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameter(f"{INVALID_FORMAT} - '{camel}' must be a list")
    return value


def _json_str(obj: Any, camel: str, snake: str) -> str:
    value = _json_field(obj, camel, snake)
    return value if isinstance(value, str) else "" if value is None else str(value)


def _json_int(obj: Any, camel: str, snake: str, name: str) -> int:
    value = _json_field(obj, camel, snake)
    if value is None or value == "":
        return 0
    try:
        if isinstance(value, bool):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise InvalidParameter(
            f"{INVALID_FORMAT} - span '{name}' has an invalid '{camel}': {value!r}"
        ) from None


def _json_enum(obj: Any, camel: str, snake: str, names: Mapping[str, int], name: str) -> int:
    value = _json_field(obj, camel, snake)
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        if value in names:
            return names[value]
        raise InvalidParameter(f"{INVALID_FORMAT} - span '{name}' has an unknown {camel} {value}")
    return _json_int(obj, camel, snake, name)


def _json_id(obj: Any, camel: str, snake: str, size: int, name: str) -> bytes:
    """An id as OTLP/JSON spells it (hex), or as protobuf's JSON mapping does (base64)."""
    value = _json_field(obj, camel, snake)
    if not value:
        return b""
    if not isinstance(value, str):
        raise InvalidParameter(f"{INVALID_FORMAT} - span '{name}' has an invalid '{camel}'")
    try:
        if len(value) == 2 * size:
            return bytes.fromhex(value)
        return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidParameter(
            f"{INVALID_FORMAT} - span '{name}' has an invalid '{camel}': {value!r}"
        ) from None


def _json_attributes(obj: Any, name: str) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for item in _json_list(obj, "attributes", "attributes"):
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise InvalidParameter(f"{INVALID_FORMAT} - span '{name}' has an invalid attribute")
        attributes[item["key"]] = json_anyvalue_to_python(item.get("value"))
    return attributes


_STATUS_NAME_NUMBERS: dict[str, int] = dict(trace_pb2.Status.StatusCode.items())
_JSON_SCALARS: tuple[tuple[str, str], ...] = (
    ("stringValue", "string_value"),
    ("boolValue", "bool_value"),
    ("intValue", "int_value"),
    ("doubleValue", "double_value"),
    ("bytesValue", "bytes_value"),
    ("arrayValue", "array_value"),
    ("kvlistValue", "kvlist_value"),
)
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def json_anyvalue_to_python(value: Any, depth: int = 0) -> Any:
    """The Python value of an OTLP/JSON AnyValue (``{"stringValue": "x"}``, ``{"intValue":
    "3"}``, ...), as ``anyvalue_to_python`` gives for the protobuf form."""
    if not isinstance(value, Mapping):
        return None
    if depth > MAX_VALUE_DEPTH:
        raise InvalidParameter(f"{INVALID_FORMAT} - an attribute value is nested too deeply")
    for camel, snake in _JSON_SCALARS:
        if camel in value:
            return _json_scalar(camel, value[camel], depth)
        if snake in value:
            return _json_scalar(camel, value[snake], depth)
    return None


def _json_scalar(kind: str, raw: Any, depth: int) -> Any:
    try:
        if kind == "stringValue":
            return raw if isinstance(raw, str) else str(raw)
        if kind == "boolValue":
            return raw if isinstance(raw, bool) else str(raw).lower() == "true"
        if kind == "intValue":
            return int(raw)
        if kind == "doubleValue":
            return _SPECIAL_DOUBLES[raw] if raw in _SPECIAL_DOUBLES else float(raw)
        if kind == "bytesValue":
            return raw if isinstance(raw, str) else None
        values = raw.get("values") if isinstance(raw, Mapping) else None
        if kind == "arrayValue":
            return [json_anyvalue_to_python(item, depth + 1) for item in values or ()]
        return {
            str(kv.get("key", "")): json_anyvalue_to_python(kv.get("value"), depth + 1)
            for kv in values or ()
            if isinstance(kv, Mapping)
        }
    except (TypeError, ValueError):
        raise InvalidParameter(f"{INVALID_FORMAT} - invalid {kind}: {raw!r}") from None


__all__ = ["json_anyvalue_to_python", "parse_json", "span_from_json"]
