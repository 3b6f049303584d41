"""OTLP trace payloads and Wayline spans, both ways (spec tracing.md §4 item 1).

* ``parse_request`` reads the body of ``POST /v1/traces``: an ``ExportTraceServiceRequest`` in
  protobuf (``application/x-protobuf``) or OTLP/JSON (``application/json``), optionally gzip- or
  deflate-compressed. Every span's ids are checked there, so that turning spans into ``Span``
  objects later (``OtlpRequest.spans``, one at a time, so a 50,000-span trace is never held as
  objects all at once) cannot fail half-way through an ingest.
* ``span_from_proto``/``span_to_proto`` convert one ``opentelemetry.proto.trace.v1.Span``;
  ``encode_request`` builds a protobuf request body from spans (the REST store sends spans so).
* ``anyvalue_to_python``/``python_to_anyvalue`` are the one place AnyValue meets Python values.

Spans from an exporter (``from_exporter=True``) get two corrections, as MLflow's server makes
them: a string attribute holding JSON text of a string, object or array (MLflow's own SDK sends
every value as JSON text, e.g. ``"\\"LLM\\""``) is stored as the value it encodes, and
``mlflow.traceRequestId`` is set from the trace id rather than trusted from the sender.

OTLP/JSON bodies are read by ``otlp_json`` into the same ``Span`` objects.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1 import trace_pb2

from wayline.entities.trace import (
    TRACE_ID_PREFIX,
    Span,
    SpanAttributeKey,
    SpanEvent,
    SpanStatusCode,
    otel_trace_id,
)
from wayline.errors import InvalidParameter

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = (PROTOBUF, JSON)

INVALID_FORMAT = "Invalid OpenTelemetry format"
NO_SPANS = "Invalid OpenTelemetry format - no spans found"
# Nesting allowed inside one attribute value; protobuf's own parser stops at 100 levels too, and
# a deeper OTLP/JSON value would otherwise exhaust Python's recursion limit.
MAX_VALUE_DEPTH = 64

TRACE_ID_BYTES = 16
SPAN_ID_BYTES = 8
KIND_NUMBERS = {name: number for name, number in trace_pb2.Span.SpanKind.items() if number}
_KIND_NAMES: dict[int, str] = {number: name for name, number in KIND_NUMBERS.items()}
# OTLP's SPAN_KIND_UNSPECIFIED (and any unknown number) reads as INTERNAL, the SDK's default.
_DEFAULT_KIND = "SPAN_KIND_INTERNAL"

_STATUS_NUMBERS = {
    SpanStatusCode.UNSET: trace_pb2.Status.STATUS_CODE_UNSET,
    SpanStatusCode.OK: trace_pb2.Status.STATUS_CODE_OK,
    SpanStatusCode.ERROR: trace_pb2.Status.STATUS_CODE_ERROR,
}
_STATUS_CODES: dict[int, SpanStatusCode] = {n: code for code, n in _STATUS_NUMBERS.items()}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# orjson reads integers below -2**63 or above 2**64 - 1 as floats, where json keeps them exact.
# Text that may hold one (a minus and 19 digits, or 20 digits) is left to json: its digits and
# minus signs, kept in place and everything else blanked, are searched for those two runs (a
# regular expression takes longer than orjson's whole parse).
_LONG_INTEGERS = (b"0" * 20, b"-" + b"0" * 19)
_DIGITS_ONLY = bytes(48 if 48 <= c <= 57 else c if c == 45 else 32 for c in range(256))
_JSON_OPENERS = frozenset('"[{')


# ---------------------------------------------------------------- AnyValue <-> Python
def anyvalue_to_python(value: AnyValue, depth: int = 0) -> Any:
    """The Python value of an AnyValue: None when unset; arrays as lists, key-value lists as
    dicts; bytes as base64 text (the spelling OTLP/JSON gives them), since attributes are
    stored as JSON."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if depth > MAX_VALUE_DEPTH:
        raise InvalidParameter(f"{INVALID_FORMAT} - an attribute value is nested too deeply")
    if kind == "array_value":
        return [anyvalue_to_python(item, depth + 1) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: anyvalue_to_python(kv.value, depth + 1) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)


def python_to_anyvalue(target: AnyValue, value: Any) -> None:
    """Fill ``target`` with ``value``. None leaves it unset; integers beyond 64 bits, and objects
    that are neither JSON-like nor bytes, travel as their text."""
    if value is None:
        return
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            target.int_value = value
        else:
            target.string_value = str(value)
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = _utf8(value)
    elif isinstance(value, bytes | bytearray):
        target.bytes_value = bytes(value)
    elif isinstance(value, list | tuple):
        # Set the oneof even for an empty list, so it reads back as [] rather than None.
        target.array_value.SetInParent()
        for item in value:
            python_to_anyvalue(target.array_value.values.add(), item)
    elif isinstance(value, Mapping):
        target.kvlist_value.SetInParent()
        for key, item in value.items():
            python_to_anyvalue(target.kvlist_value.values.add(key=_utf8(str(key))).value, item)
    else:
        target.string_value = _utf8(str(value))


def _utf8(text: str) -> str:
    # Protobuf strings must be valid UTF-8; a lone surrogate would make the assignment raise.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8")
    return text


def normalize_attribute(value: Any, *, exact_numbers: bool = False) -> Any:
    """A string attribute that is JSON text of a string, object or array becomes the value it
    encodes (MLflow's SDK sends every value as JSON text); anything else is kept. JSON numbers,
    booleans and null stay text: ``"1"`` from a foreign exporter is the string "1".
    ``exact_numbers``: as for ``loads_json``."""
    if not isinstance(value, str):
        return value
    head = value[:1]
    if head not in _JSON_OPENERS and (
        not head.isspace() or value.lstrip()[:1] not in _JSON_OPENERS
    ):
        return value
    try:
        decoded = loads_json(value, exact_numbers=exact_numbers)
    except ValueError:
        return value
    return decoded if isinstance(decoded, str | dict | list) else value


def loads_json(text: str, *, exact_numbers: bool = False) -> Any:
    """``json.loads(text)``, by orjson where it gives the same value (several times faster on
    the attributes of every span of an ingest); ValueError for text that is not JSON.
    ``exact_numbers``: the caller made sure the text holds no integer orjson reads inexactly
    (see ``_may_exceed_orjson``), so it is not searched for one."""
    if exact_numbers or not _may_exceed_orjson(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # NaN, 1e400 or a lone surrogate, which json reads: let it decide
    return json.loads(text)


def _may_exceed_orjson(data: str | bytes | bytearray) -> bool:
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    digits = data.translate(_DIGITS_ONLY)
    return _LONG_INTEGERS[0] in digits or _LONG_INTEGERS[1] in digits


# ---------------------------------------------------------------- one span
def span_from_proto(
    proto_span: trace_pb2.Span, *, from_exporter: bool = False, exact_numbers: bool = False
) -> Span:
    """A ``Span`` from an OpenTelemetry protobuf span; InvalidParameter if its ids are not 16
    and 8 bytes. With ``from_exporter`` the corrections of the module docstring apply
    (``exact_numbers``: see ``loads_json``)."""
    trace_raw = bytes(proto_span.trace_id)
    span_raw = bytes(proto_span.span_id)
    parent_raw = bytes(proto_span.parent_span_id)
    check_ids(proto_span.name, trace_raw, span_raw, parent_raw)
    attributes: dict[str, Any] = {}
    for kv in proto_span.attributes:
        value = kv.value
        # Most attributes are strings (all of them, from MLflow's SDK): skip the generic path.
        if value.WhichOneof("value") == "string_value":
            attributes[kv.key] = value.string_value
        else:
            attributes[kv.key] = anyvalue_to_python(value)
    return make_span(
        trace_raw=trace_raw,
        span_raw=span_raw,
        parent_raw=parent_raw,
        name=proto_span.name,
        kind=int(proto_span.kind),
        start_ns=int(proto_span.start_time_unix_nano),
        end_ns=int(proto_span.end_time_unix_nano),
        status_code=int(proto_span.status.code),
        status_message=proto_span.status.message,
        attributes=attributes,
        events=[
            SpanEvent(
                name=event.name,
                time_unix_nano=int(event.time_unix_nano),
                attributes={kv.key: anyvalue_to_python(kv.value) for kv in event.attributes},
            )
            for event in proto_span.events
        ],
        from_exporter=from_exporter,
        exact_numbers=exact_numbers,
    )


def span_to_proto(span: Span) -> trace_pb2.Span:
    """The OpenTelemetry protobuf form of ``span`` (the spans of GetTrace, and what
    ``encode_request`` sends): attribute values as typed AnyValues, not JSON text."""
    proto = trace_pb2.Span(
        trace_id=otel_trace_id(span.trace_id),
        span_id=bytes.fromhex(span.span_id),
        name=_utf8(span.name),
        kind=KIND_NUMBERS.get(span.kind, trace_pb2.Span.SPAN_KIND_INTERNAL),
        start_time_unix_nano=span.start_time_ns,
    )
    if span.parent_id:
        proto.parent_span_id = bytes.fromhex(span.parent_id)
    if span.end_time_ns is not None:
        proto.end_time_unix_nano = span.end_time_ns
    proto.status.code = _STATUS_NUMBERS[span.status_code]
    if span.status_message:
        proto.status.message = _utf8(span.status_message)
    _fill_attributes(proto.attributes, span.attributes)
    for event in span.events:
        proto_event = proto.events.add(name=_utf8(event.name), time_unix_nano=event.time_unix_nano)
        _fill_attributes(proto_event.attributes, event.attributes)
    return proto


def _fill_attributes(target: Any, attributes: Mapping[str, Any]) -> None:
    for key, value in attributes.items():
        python_to_anyvalue(target.add(key=_utf8(key)).value, value)


def encode_request(spans: Iterable[Span]) -> bytes:
    """A protobuf ``ExportTraceServiceRequest`` body holding ``spans`` (one resource, one
    scope), ready for ``POST /v1/traces``."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    scope.spans.extend(span_to_proto(span) for span in spans)
    body: bytes = request.SerializeToString()
    return body


def check_ids(name: str, trace_raw: bytes, span_raw: bytes, parent_raw: bytes) -> None:
    if len(trace_raw) != TRACE_ID_BYTES or len(span_raw) != SPAN_ID_BYTES:
        raise InvalidParameter(
            f"{INVALID_FORMAT} - span '{name}' needs a 16-byte trace id and an 8-byte span id, "
            f"got {len(trace_raw)} and {len(span_raw)} bytes"
        )
    if parent_raw and len(parent_raw) != SPAN_ID_BYTES:
        raise InvalidParameter(
            f"{INVALID_FORMAT} - span '{name}' has a parent span id of {len(parent_raw)} bytes"
        )


def make_span(
    *,
    trace_raw: bytes,
    span_raw: bytes,
    parent_raw: bytes,
    name: str,
    kind: int,
    start_ns: int,
    end_ns: int,
    status_code: int,
    status_message: str,
    attributes: dict[str, Any],
    events: list[SpanEvent],
    from_exporter: bool,
    exact_numbers: bool = False,
) -> Span:
    trace_id = TRACE_ID_PREFIX + trace_raw.hex()
    if from_exporter:
        attributes = {
            key: normalize_attribute(value, exact_numbers=exact_numbers)
            for key, value in attributes.items()
        }
        attributes[SpanAttributeKey.REQUEST_ID] = trace_id
    return Span(
        trace_id=trace_id,
        span_id=span_raw.hex(),
        # An all-zero parent id is how some exporters spell "no parent".
        parent_id=parent_raw.hex() if parent_raw.strip(b"\0") else None,
        name=name,
        start_time_ns=start_ns,
        end_time_ns=end_ns or None,
        status_code=_STATUS_CODES.get(status_code, SpanStatusCode.UNSET),
        status_message=status_message,
        attributes=attributes,
        events=events,
        kind=_KIND_NAMES.get(kind, _DEFAULT_KIND),
    )


# ---------------------------------------------------------------- request bodies
class OtlpRequest:
    """A parsed ``ExportTraceServiceRequest`` whose spans all have valid ids.

    ``spans()`` yields them as ``Span`` objects one at a time (the corrections for exporters
    applied); ``root_trace_ids`` are the traces whose root span is in the request.
    """

    def __init__(
        self,
        raw_spans: Sequence[Any],
        convert: Callable[[Any], Span],
        root_trace_ids: list[str],
    ) -> None:
        self._raw_spans = raw_spans
        self._convert = convert
        self.span_count = len(raw_spans)
        self.root_trace_ids = root_trace_ids

    def spans(self) -> Iterator[Span]:
        for raw in self._raw_spans:
            yield self._convert(raw)


def media_type(content_type: str | None) -> str | None:
    """``application/json`` or ``application/x-protobuf`` from a Content-Type header (its
    parameters dropped), or None for anything else."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    return media if media in CONTENT_TYPES else None


def check_content_type(content_type: str | None) -> str:
    """The request's media type; InvalidParameter with MLflow's message for any other."""
    media = media_type(content_type)
    if media is None:
        raise InvalidParameter(
            f"Invalid Content-Type: {content_type}. Expected: {PROTOBUF} or {JSON}"
        )
    return media


def parse_request(
    body: bytes | bytearray,
    content_type: str | None,
    content_encoding: str | None = None,
    *,
    max_bytes: int | None = None,
) -> OtlpRequest:
    """Decompress and parse a ``POST /v1/traces`` body and check every span's ids.

    ``max_bytes`` bounds the decompressed size (a small gzip body may inflate to gigabytes).
    InvalidParameter, with MLflow's messages, for a content type or encoding other than those of
    the module docstring, a body that does not decode, or one without spans.
    """
    media = check_content_type(content_type)
    body = decompress(body, content_encoding, max_bytes=max_bytes)
    if media == JSON:
        from wayline.tracing.otlp_json import parse_json

        return parse_json(body)
    return _parse_protobuf(body)


def decode_request(
    body: bytes | bytearray, content_type: str | None, content_encoding: str | None = None
) -> list[Span]:
    """Every span of a ``POST /v1/traces`` body (see ``parse_request``)."""
    return list(parse_request(body, content_type, content_encoding).spans())


def _parse_protobuf(body: bytes | bytearray) -> OtlpRequest:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception:
        raise InvalidParameter(INVALID_FORMAT) from None
    spans: list[trace_pb2.Span] = []
    roots: dict[str, None] = {}
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                parent = bytes(span.parent_span_id)
                trace_raw = bytes(span.trace_id)
                check_ids(span.name, trace_raw, bytes(span.span_id), parent)
                if not parent.strip(b"\0"):
                    roots[TRACE_ID_PREFIX + trace_raw.hex()] = None
                spans.append(span)
    if not spans:
        raise InvalidParameter(NO_SPANS)
    # Protobuf holds strings as their plain UTF-8 bytes: a body without a long run of digits
    # has no attribute text that needs searching for one (the search costs more than the parse).
    exact = not _may_exceed_orjson(body)

    def convert(proto_span: trace_pb2.Span) -> Span:
        return span_from_proto(proto_span, from_exporter=True, exact_numbers=exact)

    return OtlpRequest(spans, convert, list(roots))


# ---------------------------------------------------------------- decompression
def decompress(
    body: bytes | bytearray, content_encoding: str | None, *, max_bytes: int | None = None
) -> bytes | bytearray:
    """``body`` decoded per its Content-Encoding: gzip, deflate (zlib-wrapped or raw), identity.
    InvalidParameter for another encoding, a corrupt stream, or output over ``max_bytes``."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise InvalidParameter(f"Unsupported Content-Encoding: {content_encoding}")
    try:
        if encoding == "gzip":
            return _inflate(body, zlib.MAX_WBITS | 16, max_bytes)
        try:
            return _inflate(body, zlib.MAX_WBITS, max_bytes)
        except _CorruptStream:
            # Some clients send a raw DEFLATE stream, without the zlib header.
            return _inflate(body, -zlib.MAX_WBITS, max_bytes)
    except _CorruptStream:
        raise InvalidParameter(f"Failed to decompress {encoding} payload") from None


class _CorruptStream(Exception):
    pass


def _inflate(body: bytes | bytearray, wbits: int, max_bytes: int | None) -> bytearray:
    out = bytearray()
    pending: bytes | bytearray = body
    # Concatenated gzip members are one stream (RFC 1952 §2.2): start over on what is left.
    while pending:
        inflater = zlib.decompressobj(wbits)
        try:
            # Inflate in steps of at most what the limit leaves room for, so that a bomb is
            # stopped after max_bytes, never expanded whole.
            while pending and not inflater.eof:
                room = 0 if max_bytes is None else max_bytes + 1 - len(out)
                out += inflater.decompress(pending, room)
                if max_bytes is not None and len(out) > max_bytes:
                    raise InvalidParameter(
                        "Decompressed request body is larger than the server's limit of "
                        f"{max_bytes} bytes."
                    )
                pending = inflater.unconsumed_tail
        except zlib.error:
            raise _CorruptStream from None
        if not inflater.eof:
            raise _CorruptStream
        pending = inflater.unused_data if wbits > zlib.MAX_WBITS else b""
        if not pending.strip(b"\0"):
            break
    return out


__all__ = [
    "CONTENT_TYPES",
    "INVALID_FORMAT",
    "JSON",
    "NO_SPANS",
    "PROTOBUF",
    "OtlpRequest",
    "anyvalue_to_python",
    "check_content_type",
    "decode_request",
    "decompress",
    "encode_request",
    "loads_json",
    "media_type",
    "normalize_attribute",
    "parse_request",
    "python_to_anyvalue",
    "span_from_proto",
    "span_to_proto",
]
