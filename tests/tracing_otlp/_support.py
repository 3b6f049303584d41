"""Spans recorded by the real OpenTelemetry SDK, and their OTLP request bodies."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf.json_format import MessageToDict  # type: ignore[import-untyped]
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer


def record(scenario: Callable[[Tracer], None]) -> Sequence[ReadableSpan]:
    """The finished spans ``scenario`` records with a tracer of its own provider."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        scenario(provider.get_tracer("wayline-tests"))
    finally:
        provider.shutdown()
    return exporter.get_finished_spans()


def small_tree(tracer: Tracer) -> None:
    """A server root, a client child with an event and an error, a grandchild."""
    with tracer.start_as_current_span(
        "root",
        kind=SpanKind.SERVER,
        attributes={"int": 3, "float": 0.5, "bool": True, "str": "x", "ints": [1, 2]},
    ) as root:
        root.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span("child", kind=SpanKind.CLIENT) as child:
            child.add_event("retry", {"attempt": 2, "reason": "timeout"})
            with tracer.start_as_current_span("leaf", attributes={"strs": ["a", "b"]}):
                pass
            child.set_status(Status(StatusCode.ERROR, "boom"))


def protobuf_body(spans: Sequence[ReadableSpan]) -> bytes:
    body: bytes = encode_spans(spans).SerializeToString()
    return body


def otlp_json(body: bytes, *, enums_as_numbers: bool = True) -> dict[str, Any]:
    """The OTLP/JSON form of a protobuf request body, as the OTLP specification spells it:
    protobuf's JSON mapping (lowerCamelCase, 64-bit integers as strings) with hex ids and
    enums as numbers."""
    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    document: dict[str, Any] = MessageToDict(request, use_integers_for_enums=enums_as_numbers)
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return document
