"""OTLP/JSON requests: ``wayline.tracing.otlp_json`` through ``otlp.decode_request``."""

from __future__ import annotations

import base64
import gzip
import json
import math
from typing import Any

import pytest

from wayline.entities.trace import SpanAttributeKey, SpanStatusCode
from wayline.errors import InvalidParameter
from wayline.tracing.otlp import INVALID_FORMAT, JSON, NO_SPANS, PROTOBUF, decode_request

from ._support import otlp_json, protobuf_body, record, small_tree

TRACE_HEX = "5b8efff798038103d269b633813fc60c"
SPAN_HEX = "eee19b7ec3c1b174"
PARENT_HEX = "eee19b7ec3c1b173"


def body_of(*spans: dict[str, Any], resource: dict[str, Any] | None = None) -> bytes:
    document = {
        "resourceSpans": [
            {
                "resource": resource or {"attributes": []},
                "scopeSpans": [{"scope": {"name": "manual"}, "spans": list(spans)}],
            }
        ]
    }
    return json.dumps(document).encode()


def span_json(**fields: Any) -> dict[str, Any]:
    return {
        "traceId": TRACE_HEX,
        "spanId": SPAN_HEX,
        "name": "span",
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000",
        **fields,
    }


def decode_one(span: dict[str, Any]) -> Any:
    (decoded,) = decode_request(body_of(span), JSON)
    return decoded


# ---------------------------------------------------------------- as the specification spells it
def test_json_and_protobuf_of_the_same_request_give_the_same_spans() -> None:
    body = protobuf_body(record(small_tree))
    from_protobuf = decode_request(body, PROTOBUF)

    for numbers in (True, False):
        document = otlp_json(body, enums_as_numbers=numbers)
        assert decode_request(json.dumps(document).encode(), JSON) == from_protobuf


def test_a_hand_written_request_per_the_otlp_example() -> None:
    span = span_json(
        parentSpanId=PARENT_HEX,
        kind=2,
        attributes=[
            {"key": "my.span.attr", "value": {"stringValue": "some value"}},
            {"key": "count", "value": {"intValue": "42"}},
            {"key": "plain_int", "value": {"intValue": 7}},
            {"key": "ratio", "value": {"doubleValue": 0.25}},
            {"key": "nan", "value": {"doubleValue": "NaN"}},
            {"key": "ok", "value": {"boolValue": True}},
            {"key": "raw", "value": {"bytesValue": "AP8="}},
            {"key": "unset", "value": {}},
            {
                "key": "list",
                "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}},
            },
            {
                "key": "map",
                "value": {"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": False}}]}},
            },
        ],
        events=[
            {
                "timeUnixNano": "1544712660500000000",
                "name": "my.event",
                "attributes": [{"key": "n", "value": {"intValue": "1"}}],
            }
        ],
        status={"code": 2, "message": "failed"},
    )

    decoded = decode_one(span)

    assert decoded.trace_id == f"tr-{TRACE_HEX}"
    assert (decoded.span_id, decoded.parent_id) == (SPAN_HEX, PARENT_HEX)
    assert decoded.kind == "SPAN_KIND_SERVER"
    assert (decoded.start_time_ns, decoded.end_time_ns) == (
        1544712660000000000,
        1544712661000000000,
    )
    assert (decoded.status_code, decoded.status_message) == (SpanStatusCode.ERROR, "failed")
    assert decoded.events[0].name == "my.event"
    assert decoded.events[0].time_unix_nano == 1544712660500000000
    assert decoded.events[0].attributes == {"n": 1}
    attributes = dict(decoded.attributes)
    assert math.isnan(attributes.pop("nan"))
    assert attributes == {
        "my.span.attr": "some value",
        "count": 42,
        "plain_int": 7,
        "ratio": 0.25,
        "ok": True,
        "raw": "AP8=",
        "unset": None,
        "list": ["a", 1],
        "map": {"k": False},
        SpanAttributeKey.REQUEST_ID: f"tr-{TRACE_HEX}",
    }


def test_snake_case_names_base64_ids_and_enum_names() -> None:
    span = {
        "trace_id": base64.b64encode(bytes.fromhex(TRACE_HEX)).decode(),
        "span_id": base64.b64encode(bytes.fromhex(SPAN_HEX)).decode(),
        "parent_span_id": "",
        "name": "snake",
        "kind": "SPAN_KIND_CONSUMER",
        "start_time_unix_nano": 5,
        "end_time_unix_nano": 9,
        "status": {"code": "STATUS_CODE_OK"},
        "attributes": [{"key": "k", "value": {"string_value": '"quoted"'}}],
    }
    document = {"resource_spans": [{"scope_spans": [{"spans": [span]}]}]}

    (decoded,) = decode_request(json.dumps(document).encode(), "application/json; charset=utf-8")

    assert decoded.trace_id == f"tr-{TRACE_HEX}"
    assert (decoded.span_id, decoded.parent_id) == (SPAN_HEX, None)
    assert decoded.kind == "SPAN_KIND_CONSUMER"
    assert (decoded.start_time_ns, decoded.end_time_ns) == (5, 9)
    assert decoded.status_code == SpanStatusCode.OK
    assert decoded.attributes["k"] == "quoted"  # JSON text from an exporter is decoded


def test_gzip_json_bodies_decode() -> None:
    (decoded,) = decode_request(gzip.compress(body_of(span_json())), JSON, "gzip")

    assert decoded.name == "span"


def test_roots_are_listed_per_trace() -> None:
    from wayline.tracing.otlp import parse_request

    other_trace = "0" * 31 + "1"
    parsed = parse_request(
        body_of(
            span_json(),
            span_json(spanId=PARENT_HEX, parentSpanId=SPAN_HEX),
            span_json(traceId=other_trace, parentSpanId=SPAN_HEX),
        ),
        JSON,
    )

    assert parsed.span_count == 3
    assert parsed.root_trace_ids == [f"tr-{TRACE_HEX}"]


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"resourceSpans": "x"}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [3]}]}]}',
    ],
)
def test_malformed_documents_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidParameter, match=INVALID_FORMAT):
        decode_request(body, JSON)


@pytest.mark.parametrize(
    "body", [b"{}", b'{"resourceSpans": []}', b'{"resourceSpans": [{"scopeSpans": [{}]}]}']
)
def test_documents_without_spans_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidParameter, match=NO_SPANS):
        decode_request(body, JSON)


@pytest.mark.parametrize(
    "fields",
    [
        {"traceId": "zz" * 16},
        {"traceId": TRACE_HEX[:-2]},
        {"spanId": ""},
        {"spanId": 12},
        {"parentSpanId": "abc"},
        {"kind": "SPAN_KIND_SIDEWAYS"},
        {"startTimeUnixNano": "yesterday"},
        {"startTimeUnixNano": True},
        {"status": "ok"},
        {"attributes": [{"value": {"intValue": "1"}}]},
        {"attributes": [{"key": "n", "value": {"intValue": "one"}}]},
        {"attributes": [{"key": "d", "value": {"doubleValue": "much"}}]},
    ],
)
def test_malformed_spans_are_refused_whole(fields: dict[str, Any]) -> None:
    good = span_json(spanId=PARENT_HEX)

    with pytest.raises(InvalidParameter, match=INVALID_FORMAT):
        decode_request(body_of(good, span_json(**fields)), JSON)


@pytest.mark.parametrize("levels", [300, 5000])
def test_deeply_nested_values_are_refused_not_a_crash(levels: int) -> None:
    # Built as text: json.dumps itself cannot nest this deep. 300 levels pass the JSON parser's
    # own limit and stop at the decoder's; 5000 stop at the parser's.
    value = '{"arrayValue": {"values": [' * levels + '{"stringValue": "x"}' + "]}}" * levels
    span = json.dumps(span_json(attributes=[{"key": "deep", "value": {}}]))
    body = body_of().replace(b'"spans": []', b'"spans": [' + span.encode() + b"]")
    body = body.replace(b'"value": {}', b'"value": ' + value.encode())

    with pytest.raises(InvalidParameter, match=INVALID_FORMAT):
        decode_request(body, JSON)
