"""Traces: a tree of spans recorded from one request to an LLM application or agent.

Wire facts are those of spec tracing.md. A trace id is ``tr-`` plus the 32 hex digits of the
OpenTelemetry trace id; a span id is the 16 hex digits of the OpenTelemetry span id. Span
attributes are kept here as decoded Python values; ``Span.to_dict`` gives MLflow's JSON form, in
which ids are base64 of the raw bytes and every attribute value is a JSON-encoded string.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass, field
from typing import Any

from wayline.entities.assessment import Assessment
from wayline.errors import InvalidParameter

TRACE_ID_PREFIX = "tr-"


class TraceState(enum.StrEnum):
    STATE_UNSPECIFIED = "STATE_UNSPECIFIED"
    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"


class SpanStatusCode(enum.StrEnum):
    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"


class SpanType:
    """MLflow's span types; any other string is allowed too."""

    LLM = "LLM"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    CHAT_MODEL = "CHAT_MODEL"
    RETRIEVER = "RETRIEVER"
    PARSER = "PARSER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    MEMORY = "MEMORY"
    UNKNOWN = "UNKNOWN"
    WORKFLOW = "WORKFLOW"
    TASK = "TASK"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"


class SpanAttributeKey:
    """The span attribute keys MLflow's client and UI read (spec tracing.md §2.4)."""

    REQUEST_ID = "mlflow.traceRequestId"
    SPAN_TYPE = "mlflow.spanType"
    INPUTS = "mlflow.spanInputs"
    OUTPUTS = "mlflow.spanOutputs"
    FUNCTION_NAME = "mlflow.spanFunctionName"
    LOG_LEVEL = "mlflow.spanLogLevel"
    DESCRIPTION = "mlflow.spanDescription"
    EXPERIMENT_ID = "mlflow.experimentId"
    CHAT_TOOLS = "mlflow.chat.tools"
    TOKEN_USAGE = "mlflow.chat.tokenUsage"
    MODEL = "mlflow.llm.model"
    PROVIDER = "mlflow.llm.provider"
    COST = "mlflow.llm.cost"
    MESSAGE_FORMAT = "mlflow.message.format"
    LINKED_PROMPTS = "mlflow.linkedPrompts"


class TraceMetadataKey:
    SCHEMA_VERSION = "mlflow.trace_schema.version"
    INPUTS = "mlflow.traceInputs"
    OUTPUTS = "mlflow.traceOutputs"
    USER = "mlflow.user"
    SOURCE_RUN = "mlflow.sourceRun"
    MODEL_ID = "mlflow.modelId"
    SIZE_BYTES = "mlflow.trace.sizeBytes"
    SIZE_STATS = "mlflow.trace.sizeStats"
    TOKEN_USAGE = "mlflow.trace.tokenUsage"
    COST = "mlflow.trace.cost"
    TRACE_USER = "mlflow.trace.user"
    TRACE_SESSION = "mlflow.trace.session"
    INFO_FINALIZED = "mlflow.trace.infoFinalized"


class TraceTagKey:
    TRACE_NAME = "mlflow.traceName"
    ARTIFACT_LOCATION = "mlflow.artifactLocation"
    SPANS_LOCATION = "mlflow.trace.spansLocation"
    LINKED_PROMPTS = "mlflow.linkedPrompts"


SPANS_LOCATION_TRACKING_STORE = "TRACKING_STORE"
SCHEMA_VERSION = "3"
# Previews of the root span's inputs and outputs are cut to this many characters (OSS MLflow).
PREVIEW_MAX_CHARS = 1000


def trace_id_from_otel(otel_trace_id: int | bytes) -> str:
    raw = otel_trace_id if isinstance(otel_trace_id, bytes) else otel_trace_id.to_bytes(16, "big")
    return TRACE_ID_PREFIX + raw.hex()


def otel_trace_id(trace_id: str) -> bytes:
    """The 16 raw bytes of ``tr-<32 hex>``; InvalidParameter for anything else."""
    hex_part = trace_id.removeprefix(TRACE_ID_PREFIX)
    try:
        raw = bytes.fromhex(hex_part)
    except ValueError:
        raw = b""
    if len(raw) != 16:
        raise InvalidParameter(f"Invalid trace id '{trace_id}': expected 'tr-' and 32 hex digits.")
    return raw


def span_id_from_otel(otel_span_id: int | bytes) -> str:
    raw = otel_span_id if isinstance(otel_span_id, bytes) else otel_span_id.to_bytes(8, "big")
    return raw.hex()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64_hex(value: str) -> str:
    """A span or trace id of MLflow's JSON form (base64, or hex from foreign writers) as hex."""
    if all(c in "0123456789abcdef" for c in value) and len(value) in (16, 32):
        return value
    return base64.b64decode(value).hex()


def encode_attribute(value: Any) -> str:
    """MLflow's stored form of an attribute value: JSON text, non-ASCII kept, objects via str."""
    return _ATTRIBUTE_ENCODER.encode(value)


# What json.dumps(value, ensure_ascii=False, default=str) uses, built once rather than per call
# (a 50,000-span trace encodes a quarter of a million attributes).
_ATTRIBUTE_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def decode_attribute(text: Any) -> Any:
    """The value of a stored attribute; text that is not JSON is taken as the plain string."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass(slots=True)
class SpanEvent:
    """``time_unix_nano`` 0 means "now" when the event is added to a live span (MLflow's
    ``SpanEvent(name=..., attributes=...)`` leaves the time out)."""

    name: str
    time_unix_nano: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_exception(cls, exc: BaseException) -> SpanEvent:
        """MLflow's ``exception`` event: the message, the type's name and the traceback."""
        import time
        import traceback

        try:
            stack = "".join(traceback.format_exception(exc)).strip()
        except Exception:  # an exception whose traceback cannot be rendered
            stack = repr(exc)
        return cls(
            "exception",
            time.time_ns(),
            {
                "exception.message": str(exc),
                "exception.type": type(exc).__name__,
                "exception.stacktrace": stack,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "time_unix_nano": self.time_unix_nano,
            "attributes": self.attributes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpanEvent:
        return cls(
            name=str(data.get("name", "")),
            time_unix_nano=int(data.get("time_unix_nano") or 0),
            attributes=dict(data.get("attributes") or {}),
        )


@dataclass(slots=True)
class Span:
    """One finished (or, while recording, open) span. ``attributes`` holds decoded values;
    inputs, outputs and the span type are attributes under ``SpanAttributeKey``."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_time_ns: int
    end_time_ns: int | None = None
    status_code: SpanStatusCode = SpanStatusCode.UNSET
    status_message: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[SpanEvent] = field(default_factory=list)
    kind: str = "SPAN_KIND_INTERNAL"

    @property
    def span_type(self) -> str:
        return str(self.attributes.get(SpanAttributeKey.SPAN_TYPE) or SpanType.UNKNOWN)

    @property
    def inputs(self) -> Any:
        return self.attributes.get(SpanAttributeKey.INPUTS)

    @property
    def outputs(self) -> Any:
        return self.attributes.get(SpanAttributeKey.OUTPUTS)

    @property
    def is_root(self) -> bool:
        return self.parent_id is None

    @property
    def request_id(self) -> str:
        """MLflow 2's name for ``trace_id``."""
        return self.trace_id

    def get_attribute(self, key: str) -> Any:
        """The (decoded) value of an attribute, or None."""
        return self.attributes.get(key)

    def to_dict(self) -> dict[str, Any]:
        """MLflow's JSON form of a span (``traces.json``, ``Trace.to_dict()``)."""
        return {
            "trace_id": _b64(otel_trace_id(self.trace_id)),
            "span_id": _b64(bytes.fromhex(self.span_id)),
            "parent_span_id": _b64(bytes.fromhex(self.parent_id)) if self.parent_id else None,
            "name": self.name,
            "kind": self.kind,
            "start_time_unix_nano": self.start_time_ns,
            "end_time_unix_nano": self.end_time_ns,
            "events": [event.to_dict() for event in self.events],
            "status": {
                "code": f"STATUS_CODE_{self.status_code.value}",
                "message": self.status_message,
            },
            "attributes": {key: encode_attribute(value) for key, value in self.attributes.items()},
            "links": [],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Span:
        """A span from MLflow's JSON form; attribute values are decoded from their JSON text."""
        status = data.get("status") or {}
        code = str(status.get("code") or "UNSET").removeprefix("STATUS_CODE_")
        parent = data.get("parent_span_id")
        return cls(
            trace_id=TRACE_ID_PREFIX + _unb64_hex(str(data["trace_id"])),
            span_id=_unb64_hex(str(data["span_id"])),
            parent_id=_unb64_hex(str(parent)) if parent else None,
            name=str(data.get("name", "")),
            start_time_ns=int(data.get("start_time_unix_nano") or 0),
            end_time_ns=(
                int(data["end_time_unix_nano"])
                if data.get("end_time_unix_nano") is not None
                else None
            ),
            status_code=SpanStatusCode(code)
            if code in SpanStatusCode.__members__
            else SpanStatusCode.UNSET,
            status_message=str(status.get("message") or ""),
            attributes={k: decode_attribute(v) for k, v in (data.get("attributes") or {}).items()},
            events=[SpanEvent.from_dict(e) for e in data.get("events") or ()],
            kind=str(data.get("kind") or "SPAN_KIND_INTERNAL"),
        )


@dataclass(slots=True)
class TraceInfo:
    """TraceInfo v3. Times are in milliseconds; ``execution_duration_ms`` is None while the trace
    is in progress. ``trace_metadata`` is immutable once written; ``tags`` may change."""

    trace_id: str
    experiment_id: str
    request_time_ms: int
    state: TraceState = TraceState.OK
    execution_duration_ms: int | None = None
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    trace_metadata: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    assessments: list[Assessment] = field(default_factory=list)

    @property
    def end_time_ms(self) -> int | None:
        if self.execution_duration_ms is None:
            return None
        return self.request_time_ms + self.execution_duration_ms

    @property
    def name(self) -> str | None:
        return self.tags.get(TraceTagKey.TRACE_NAME)

    @property
    def run_id(self) -> str | None:
        return self.trace_metadata.get(TraceMetadataKey.SOURCE_RUN)

    @property
    def token_usage(self) -> dict[str, int] | None:
        text = self.trace_metadata.get(TraceMetadataKey.TOKEN_USAGE)
        return json.loads(text) if text else None

    # MLflow 3's names, so code written for ``mlflow.entities.TraceInfo`` reads the same fields.
    @property
    def request_id(self) -> str:
        return self.trace_id

    @property
    def request_time(self) -> int:
        return self.request_time_ms

    @property
    def execution_duration(self) -> int | None:
        return self.execution_duration_ms

    @property
    def timestamp_ms(self) -> int:
        """MLflow 2's name for ``request_time_ms``."""
        return self.request_time_ms

    @property
    def execution_time_ms(self) -> int | None:
        """MLflow 2's name for ``execution_duration_ms``."""
        return self.execution_duration_ms


@dataclass(frozen=True, slots=True)
class TraceData:
    """MLflow's ``trace.data``: the spans, and the root span's inputs and outputs as JSON text."""

    spans: list[Span]

    def _root_value(self, key: str) -> str | None:
        root = next((span for span in self.spans if span.is_root), None)
        if root is None or key not in root.attributes:
            return None
        return encode_attribute(root.attributes[key])

    @property
    def request(self) -> str | None:
        return self._root_value(SpanAttributeKey.INPUTS)

    @property
    def response(self) -> str | None:
        return self._root_value(SpanAttributeKey.OUTPUTS)


@dataclass(slots=True)
class Trace:
    info: TraceInfo
    spans: list[Span] = field(default_factory=list)

    @property
    def root_span(self) -> Span | None:
        return next((span for span in self.spans if span.is_root), None)

    @property
    def data(self) -> TraceData:
        """MLflow's ``trace.data`` (``trace.data.spans``, ``.request``, ``.response``)."""
        return TraceData(self.spans)

    def search_spans(
        self, span_type: str | None = None, name: str | None = None, span_id: str | None = None
    ) -> list[Span]:
        """The spans of a type, a name and/or an id (all of those given), in trace order."""
        return [
            span
            for span in self.spans
            if (span_type is None or span.span_type == span_type)
            and (name is None or span.name == name)
            and (span_id is None or span.span_id == span_id)
        ]


__all__ = [
    "PREVIEW_MAX_CHARS",
    "SCHEMA_VERSION",
    "SPANS_LOCATION_TRACKING_STORE",
    "TRACE_ID_PREFIX",
    "Span",
    "SpanAttributeKey",
    "SpanEvent",
    "SpanStatusCode",
    "SpanType",
    "Trace",
    "TraceData",
    "TraceInfo",
    "TraceMetadataKey",
    "TraceState",
    "TraceTagKey",
    "decode_attribute",
    "encode_attribute",
    "otel_trace_id",
    "span_id_from_otel",
    "trace_id_from_otel",
]
