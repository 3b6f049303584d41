"""The fast span encoders give byte for byte what the slow reference paths give.

``encode_span`` (GetTrace, BatchGetTraces) builds protobuf's JSON of a span without protobuf:
it must equal ``span_to_proto_json(span_to_proto(span))`` for every kind of value a span can
hold. The SQL store's ``span_content`` must equal the JSON text of ``Span.to_dict()`` that it
replaced (``trace.text`` searches that text), and OTLP ingest's JSON reading must give what
``json.loads`` gives.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest

from wayline.entities.trace import Span, SpanEvent, SpanStatusCode
from wayline.protocol.traces import encode_span, span_to_proto_json
from wayline.store.sql.trace_spans import span_content, span_from_content
from wayline.tracing.otlp import loads_json, normalize_attribute, span_to_proto

TRACE_ID = "tr-" + "ab" * 16


class Shown:
    def __str__(self) -> str:
        return "shown <as text>"


VALUES: dict[str, Any] = {
    "none": None,
    "empty_list": [],
    "empty_dict": {},
    "bytes": b"\x00\xffxy",
    "big": 2**70,
    "negative_big": -(2**64),
    "int64_max": 2**63 - 1,
    "int64_min": -(2**63),
    "whole_float": 2.0,
    "float": -1.25e-300,
    "nan": math.nan,
    "inf": math.inf,
    "minus_inf": -math.inf,
    "true": True,
    "false": False,
    "zero": 0,
    "empty_text": "",
    "surrogate": "a\ud800b",
    "unicode": "héllo ✓ 𝄞",
    "nested": {"x": [1, None, {"y": 1.5, "z": [True, "s"]}], "": {"deep": [[], {}]}},
    "": "empty key",
    "tuple": (1, "two", 3.0),
    "object": Shown(),
    "int_keys": {1: "one", 2.5: "two and a half"},
}


def finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def spans() -> list[Span]:
    return [
        Span(
            trace_id=TRACE_ID,
            span_id="cd" * 8,
            parent_id=None,
            name="",
            start_time_ns=0,
            end_time_ns=None,
            attributes=dict(VALUES),
            events=[
                SpanEvent("only-name"),
                SpanEvent("", 5, {"k": 1, "nan": math.nan, "none": None}),
                SpanEvent("both", 7, {"nested": {"a": [1, 2]}}),
            ],
            kind="NOT_A_KIND",
        ),
        Span(
            trace_id=TRACE_ID,
            span_id="cd" * 8,
            parent_id="ef" * 8,
            name="child ✓",
            start_time_ns=1_700_000_000_000_000_001,
            end_time_ns=1_700_000_000_000_000_002,
            status_code=SpanStatusCode.ERROR,
            status_message="boom \ud800",
            kind="SPAN_KIND_CLIENT",
        ),
        Span(
            trace_id=TRACE_ID,
            span_id="01" * 8,
            parent_id="00" * 8,
            name="x",
            start_time_ns=1,
            end_time_ns=0,
            status_code=SpanStatusCode.OK,
            attributes={"mlflow.spanInputs": {"q": "what?"}, "mlflow.spanType": "LLM"},
            kind="SPAN_KIND_SERVER",
        ),
        Span(
            trace_id=TRACE_ID,
            span_id="02" * 8,
            parent_id=None,
            name="unset status with a message",
            start_time_ns=3,
            end_time_ns=4,
            status_code=SpanStatusCode.UNSET,
            status_message="why",
            kind="SPAN_KIND_UNSPECIFIED",
        ),
    ]


@pytest.mark.parametrize("span", spans(), ids=["values", "error", "ok", "unset"])
def test_encode_span_is_protobufs_json_exactly(span: Span) -> None:
    expected = span_to_proto_json(span_to_proto(span))

    encoded = encode_span(span)

    assert encoded == expected
    # Same keys in the same order, and the same bytes once serialized as GetTrace does.
    assert orjson.dumps(encoded) == orjson.dumps(expected)


def test_encode_span_of_a_bad_id_fails_like_the_protobuf_path() -> None:
    span = spans()[1]
    span.span_id = "not hex!"
    with pytest.raises(ValueError):
        span_to_proto(span)
    with pytest.raises(ValueError):
        encode_span(span)


@pytest.mark.parametrize("span", spans(), ids=["values", "error", "ok", "unset"])
def test_span_content_is_the_json_of_the_span_dict(span: Span) -> None:
    data = span.to_dict()
    try:
        reference = json.dumps(data, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:  # non-finite event values: written as their names
        reference = json.dumps(finite(data), ensure_ascii=False, default=str, allow_nan=False)

    assert span_content(span) == reference


def test_span_content_writes_non_finite_event_values_as_text() -> None:
    content = json.loads(span_content(spans()[0]))

    assert content["events"][1]["attributes"]["nan"] == "nan"  # strict JSON for the databases


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        "[123456789012345678901234567890, -98765432109876543210]",
        '{"n": 9223372036854775807, "m": -9223372036854775808}',
        "[18446744073709551615, 18446744073709551616, -9223372036854775809, 1700000000000000000]",
        "[1e400, -1e400]",
        '"\\ud800"',
        '{"x": NaN}',
        "[0.1, 1E5, -0.0, 5e-324]",
        ' {"é": "\\u00e9 ✓"} ',
        '"plain"',
        "not json",
        "[1, 2",
    ],
)
def test_loads_json_reads_what_json_reads(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError):
            loads_json(text)
        return
    value = loads_json(text)
    assert repr(value) == repr(expected)  # repr: exact ints, nan and -0.0 compare too


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ('"LLM"', "LLM"),
        (' {"k": [1, 2]}', {"k": [1, 2]}),
        ("\n[12345678901234567890123]", [12345678901234567890123]),
        ("1", "1"),
        ("true", "true"),
        ("null", "null"),
        ("{broken", "{broken"),
        ("", ""),
        ("   ", "   "),
        (7, 7),
    ],
)
def test_normalize_attribute_decodes_json_text_of_strings_objects_and_arrays(
    sent: Any, stored: Any
) -> None:
    assert normalize_attribute(sent) == stored


@pytest.mark.parametrize("span", spans(), ids=["values", "error", "ok", "unset"])
def test_span_from_content_reads_what_the_span_dict_reader_reads(span: Span) -> None:
    content = span_content(span)

    assert span_from_content(content) == Span.from_dict(json.loads(content))


@pytest.mark.parametrize(
    "change",
    [
        {"span_id": "cdcdcdcdcdcdcdcd"},  # hex ids, as a foreign writer might store them
        {"status": {"code": "OK", "message": None}},
        {"events": [{"name": "e", "time_unix_nano": None, "attributes": None}]},
        {"end_time_unix_nano": None, "kind": None},
        {"attributes": {"big": "[123456789012345678901234567890]", "bad": "{oops"}},
        {
            "attributes": {
                "low": "-9223372036854775809",
                "nan": "NaN",
                "u64": "18446744073709551615",
            }
        },
    ],
)
def test_span_from_content_reads_other_shapes_as_the_span_dict_reader(
    change: dict[str, Any],
) -> None:
    data = {**json.loads(span_content(spans()[1])), **change}
    content = json.dumps(data)

    assert span_from_content(content) == Span.from_dict(json.loads(content))
