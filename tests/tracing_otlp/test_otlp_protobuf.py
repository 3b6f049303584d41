"""Protobuf OTLP requests and spans, both ways: ``wayline.tracing.otlp``."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1 import trace_pb2

from wayline.entities.trace import Span, SpanAttributeKey, SpanEvent, SpanStatusCode
from wayline.errors import InvalidParameter
from wayline.tracing.otlp import (
    INVALID_FORMAT,
    NO_SPANS,
    PROTOBUF,
    anyvalue_to_python,
    decode_request,
    decompress,
    encode_request,
    normalize_attribute,
    parse_request,
    python_to_anyvalue,
    span_from_proto,
    span_to_proto,
)

from ._support import protobuf_body, record, small_tree

TRACE_HEX = "0af7651916cd43dd8448eb211c80319c"
TRACE_ID = f"tr-{TRACE_HEX}"


def make_span(**overrides: Any) -> Span:
    fields: dict[str, Any] = {
        "trace_id": TRACE_ID,
        "span_id": "b7ad6b7169203331",
        "parent_id": None,
        "name": "span",
        "start_time_ns": 1_700_000_000_000_000_000,
        "end_time_ns": 1_700_000_000_500_000_000,
    }
    return Span(**{**fields, **overrides})


def request_of(*spans: trace_pb2.Span) -> bytes:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(spans)
    body: bytes = request.SerializeToString()
    return body


# ---------------------------------------------------------------- from the OpenTelemetry SDK
def test_sdk_spans_decode_with_tree_kinds_times_status_events_and_attributes() -> None:
    recorded = record(small_tree)
    spans = {span.name: span for span in decode_request(protobuf_body(recorded), PROTOBUF)}
    by_name = {span.name: span for span in recorded}

    root, child, leaf = spans["root"], spans["child"], spans["leaf"]
    otel_root = by_name["root"]
    assert otel_root.context is not None
    assert root.trace_id == f"tr-{otel_root.context.trace_id:032x}"
    assert root.span_id == f"{otel_root.context.span_id:016x}"
    assert root.parent_id is None
    assert child.parent_id == root.span_id
    assert leaf.parent_id == child.span_id
    assert {span.trace_id for span in spans.values()} == {root.trace_id}
    assert (root.kind, child.kind, leaf.kind) == (
        "SPAN_KIND_SERVER",
        "SPAN_KIND_CLIENT",
        "SPAN_KIND_INTERNAL",
    )
    assert root.start_time_ns == otel_root.start_time
    assert root.end_time_ns == otel_root.end_time
    assert (root.status_code, root.status_message) == (SpanStatusCode.OK, "")
    assert (child.status_code, child.status_message) == (SpanStatusCode.ERROR, "boom")
    assert leaf.status_code == SpanStatusCode.UNSET
    assert child.events == [
        SpanEvent("retry", child.events[0].time_unix_nano, {"attempt": 2, "reason": "timeout"})
    ]
    assert root.attributes == {
        "int": 3,
        "float": 0.5,
        "bool": True,
        "str": "x",
        "ints": [1, 2],
        SpanAttributeKey.REQUEST_ID: root.trace_id,
    }
    assert leaf.attributes["strs"] == ["a", "b"]


def test_parse_request_lists_the_traces_whose_root_is_in_it() -> None:
    parsed = parse_request(protobuf_body(record(small_tree)), PROTOBUF)

    assert parsed.span_count == 3
    assert len(parsed.root_trace_ids) == 1
    assert parsed.root_trace_ids[0].startswith("tr-")


# ---------------------------------------------------------------- one span, both ways
def test_span_round_trips_through_protobuf_exactly() -> None:
    span = make_span(
        parent_id="00f067aa0ba902b7",
        kind="SPAN_KIND_CLIENT",
        status_code=SpanStatusCode.ERROR,
        status_message="ValueError: boom",
        attributes={
            SpanAttributeKey.SPAN_TYPE: "LLM",
            SpanAttributeKey.INPUTS: {"q": 3, "nested": {"list": [1, "two", None, 3.5]}},
            SpanAttributeKey.OUTPUTS: "plain text",
            SpanAttributeKey.LOG_LEVEL: 20,
            "empty_list": [],
            "empty_dict": {},
            "none": None,
            "unicode": "naïve ☃",
            "flag": False,
        },
        events=[SpanEvent("exception", 1_700_000_000_100_000_000, {"exception.type": "X"})],
    )

    assert span_from_proto(span_to_proto(span)) == span


def test_unfinished_span_and_unspecified_kind() -> None:
    proto = span_to_proto(make_span(end_time_ns=None))
    proto.kind = trace_pb2.Span.SPAN_KIND_UNSPECIFIED

    span = span_from_proto(proto)

    assert span.end_time_ns is None
    assert span.kind == "SPAN_KIND_INTERNAL"


def test_an_all_zero_parent_id_means_no_parent() -> None:
    proto = span_to_proto(make_span())
    proto.parent_span_id = bytes(8)

    assert span_from_proto(proto).parent_id is None


class Point:
    def __str__(self) -> str:
        return "Point(1, 2)"


def test_values_outside_protobuf_travel_as_text() -> None:
    span = make_span(attributes={"huge": 2**70, "object": Point()})

    attributes = span_from_proto(span_to_proto(span)).attributes

    assert attributes == {"huge": str(2**70), "object": "Point(1, 2)"}


def test_lone_surrogates_are_replaced_not_refused() -> None:
    span = make_span(name="bad\ud800name", attributes={"k\udfff": "v\ud800"})

    decoded = span_from_proto(span_to_proto(span))

    assert decoded.name == "bad?name"
    assert decoded.attributes == {"k?": "v?"}


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        0,
        -(2**63),
        2**63 - 1,
        1.25,
        "",
        "s",
        [],
        {},
        [1, [2, [3]]],
        {"a": {"b": [None]}},
    ],
)
def test_anyvalue_round_trip(value: Any) -> None:
    holder = AnyValue()
    python_to_anyvalue(holder, value)

    assert anyvalue_to_python(holder) == value


def test_bytes_values_read_as_base64_text() -> None:
    holder = AnyValue(bytes_value=b"\x00\xff")

    assert anyvalue_to_python(holder) == "AP8="


# ---------------------------------------------------------------- exporters' JSON-text values
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ('"LLM"', "LLM"),  # MLflow's SDK: every value is JSON text
        ('{"q": 3}', {"q": 3}),
        ("[1, 2]", [1, 2]),
        ('"\\"x\\""', '"x"'),  # one layer only
        ("20", "20"),  # JSON numbers, booleans and null stay text
        ("true", "true"),
        ("null", "null"),
        ("hello", "hello"),
        ("{not json", "{not json"),
        ("  [1]", [1]),
        # Integers beyond 64 bits, which orjson would read as floats, stay exact.
        ('{"n": 123456789012345678901234567890}', {"n": 123456789012345678901234567890}),
        ("[-9223372036854775809, 18446744073709551615]", [-(2**63) - 1, 2**64 - 1]),
        (
            '{"x": NaN, "big": 1e400}',
            {"x": pytest.approx(float("nan"), nan_ok=True), "big": float("inf")},
        ),
        ('["\\ud800"]', ["\ud800"]),  # a lone surrogate, which orjson refuses
    ],
)
def test_json_text_attributes_from_exporters_are_decoded(sent: str, stored: Any) -> None:
    assert normalize_attribute(sent) == stored
    proto = span_to_proto(make_span(attributes={"key": sent}))

    assert decode_request(request_of(proto), PROTOBUF)[0].attributes["key"] == stored


def test_request_id_comes_from_the_trace_id_not_the_sender() -> None:
    proto = span_to_proto(make_span(attributes={SpanAttributeKey.REQUEST_ID: '"tr-forged"'}))

    span = decode_request(request_of(proto), PROTOBUF)[0]

    assert span.attributes[SpanAttributeKey.REQUEST_ID] == TRACE_ID


def test_mlflow_spans_round_trip_through_encode_and_decode() -> None:
    # What MLflow's client sends (decoded values as typed AnyValues) reads back unchanged.
    spans = [
        make_span(
            attributes={
                SpanAttributeKey.REQUEST_ID: TRACE_ID,
                SpanAttributeKey.SPAN_TYPE: "CHAIN",
                SpanAttributeKey.INPUTS: {"x": 3},
                SpanAttributeKey.OUTPUTS: 6,
                SpanAttributeKey.FUNCTION_NAME: "outer",
                SpanAttributeKey.LOG_LEVEL: 20,
            }
        ),
        make_span(span_id="00f067aa0ba902b7", parent_id="b7ad6b7169203331", name="inner"),
    ]
    spans[1].attributes[SpanAttributeKey.REQUEST_ID] = TRACE_ID

    assert decode_request(encode_request(spans), PROTOBUF) == spans
    assert [span.to_dict() for span in decode_request(encode_request(spans), PROTOBUF)] == [
        span.to_dict() for span in spans
    ]


# ---------------------------------------------------------------- refusals
@pytest.mark.parametrize(
    ("trace_id", "span_id", "parent"),
    [
        (b"", bytes(8), b""),
        (bytes(16), b"", b""),
        (bytes(15), bytes(8), b""),
        (bytes(16), bytes(8), bytes(4)),
    ],
)
def test_spans_with_bad_ids_are_refused(trace_id: bytes, span_id: bytes, parent: bytes) -> None:
    proto = trace_pb2.Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name="s")

    with pytest.raises(InvalidParameter, match=INVALID_FORMAT):
        decode_request(request_of(proto), PROTOBUF)


@pytest.mark.parametrize("body", [b"garbage", b"\xff" * 40, b"\x0a\x05\x0a"])
def test_undecodable_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidParameter) as caught:
        decode_request(body, PROTOBUF)

    assert caught.value.message in (INVALID_FORMAT, NO_SPANS)


def test_requests_without_spans_are_refused() -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add()

    for body in (b"", request.SerializeToString()):
        with pytest.raises(InvalidParameter, match=NO_SPANS):
            decode_request(body, PROTOBUF)


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/xml", "json"])
def test_other_content_types_are_refused(content_type: str | None) -> None:
    with pytest.raises(InvalidParameter, match="Invalid Content-Type") as caught:
        decode_request(b"", content_type)

    assert "Expected: application/x-protobuf or application/json" in caught.value.message


def test_content_type_parameters_and_case_are_ignored() -> None:
    body = encode_request([make_span()])

    assert decode_request(body, "Application/X-Protobuf; charset=binary")[0].name == "span"


# ---------------------------------------------------------------- compression
def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("identity", lambda data: data),
    ],
)
def test_compressed_bodies_decode(encoding: str, compress: Any) -> None:
    body = encode_request([make_span()])

    assert decode_request(compress(body), PROTOBUF, encoding)[0].name == "span"


def test_concatenated_gzip_members_are_one_body() -> None:
    data = b"a" * 1000 + b"b" * 1000

    assert decompress(gzip.compress(data[:1000]) + gzip.compress(data[1000:]), "gzip") == data


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_corrupt_or_truncated_streams_are_refused(encoding: str) -> None:
    whole = gzip.compress(b"x" * 10_000) if encoding == "gzip" else zlib.compress(b"x" * 10_000)

    for body in (b"not compressed", whole[: len(whole) // 2]):
        with pytest.raises(InvalidParameter, match=f"Failed to decompress {encoding} payload"):
            decompress(body, encoding)


def test_unknown_encodings_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="Unsupported Content-Encoding: br"):
        decompress(b"", "br")


def test_a_decompression_bomb_stops_at_the_limit() -> None:
    compressor = zlib.compressobj(wbits=zlib.MAX_WBITS | 16)
    chunk = bytes(1 << 20)
    bomb = b"".join(compressor.compress(chunk) for _ in range(64)) + compressor.flush()
    assert len(bomb) < 100_000  # 64 MiB of zeros

    with pytest.raises(InvalidParameter, match="larger than the server's limit of 4194304"):
        decompress(bomb, "gzip", max_bytes=4 << 20)
    assert len(decompress(gzip.compress(bytes(4 << 20)), "gzip", max_bytes=4 << 20)) == 4 << 20
