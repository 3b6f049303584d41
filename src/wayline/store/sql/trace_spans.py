"""Spans in the SQL store: rows for a batch, the trace info a root span implies, token usage
and cost totals, and keyset paging of a trace's spans.

A span row keeps the span's MLflow JSON form in ``content`` plus the columns searches and paging
read (name, type, status, start and end). A batch is written with executemany in chunks, inside
the caller's transaction: 50,000 spans are one call to ``log_spans``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Insert, bindparam, or_, select

from wayline.entities.trace import (
    PREVIEW_MAX_CHARS,
    SCHEMA_VERSION,
    SPANS_LOCATION_TRACKING_STORE,
    TRACE_ID_PREFIX,
    Span,
    SpanAttributeKey,
    SpanEvent,
    SpanStatusCode,
    TraceMetadataKey,
    TraceState,
    TraceTagKey,
    decode_attribute,
    encode_attribute,
)
from wayline.errors import InvalidParameter
from wayline.search.sql_traces import span_attribute
from wayline.store.sql.base import driver_execute, fetch_rows, upsert
from wayline.store.sql.tables import MAX_TRACE_TAG_VALUE_LENGTH, trace_spans, trace_tags
from wayline.store.sql.trace_rows import validate_trace_id

# Rows per executemany call: bounds the driver's buffers, not a parameter limit (executemany
# binds each row on its own; PyMySQL folds them into multi-row INSERTs under its packet size).
SPAN_WRITE_CHUNK = 5000
# MLflow's clients cut metadata values they set (trace inputs and outputs) to this length.
METADATA_PREVIEW_CHARS = 250
MAX_SPAN_TYPE_LENGTH = 500

TOKEN_KEYS = ("input_tokens", "output_tokens", "total_tokens")
OPTIONAL_TOKEN_KEYS = (
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "cache_creation_input_tokens_above_1hr",
)
COST_KEYS = ("input_cost", "output_cost", "total_cost")

sp = trace_spans.c
_SPAN_COLUMNS = (
    "parent_span_id",
    "name",
    "type",
    "status",
    "start_time_ns",
    "end_time_ns",
    "carries",
)
CARRIES_USAGE = 1
CARRIES_COST = 2


@functools.cache
def _span_upsert(dialect: str) -> Insert:
    # A span sent again (an exporter's retry) replaces the stored one.
    return upsert(dialect, trace_spans, ("trace_id", "span_id"), (*_SPAN_COLUMNS, "content"))


def span_row(span: Span) -> dict[str, Any]:
    """The table row of ``span``; InvalidParameter for ids the tables cannot hold."""
    validate_trace_id(span.trace_id)
    try:
        content = span_content(span)
    except ValueError:  # ids that are not hex
        raise InvalidParameter(
            f"Invalid span ids in trace {span.trace_id}: span_id {span.span_id!r}, parent"
            f" {span.parent_id!r}. Expected 16 hex digits, and a trace id 'tr-' + 32 hex."
        ) from None
    if len(span.span_id) != 16 or (span.parent_id is not None and len(span.parent_id) != 16):
        raise InvalidParameter(
            f"Invalid span id {span.span_id!r} (parent {span.parent_id!r}): expected 16 hex digits."
        )
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_id,
        "name": str(span.name),
        "type": span.span_type[:MAX_SPAN_TYPE_LENGTH],
        "status": SpanStatusCode(span.status_code).value,
        "start_time_ns": int(span.start_time_ns),
        "end_time_ns": None if span.end_time_ns is None else int(span.end_time_ns),
        "carries": _carries(span),
        "content": content,
    }


# What json.dumps(..., ensure_ascii=False, default=str, allow_nan=False) uses, built once.
_CONTENT_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False)


def span_content(span: Span) -> str:
    """The ``content`` column: MLflow's span JSON (``Span.to_dict``), which ``trace.text``
    searches as text; ValueError for ids that are not hex."""
    return _json(span.to_dict())


def _json(data: dict[str, Any]) -> str:
    """Strict JSON, which the databases' JSON functions read: a non-finite number (an event
    attribute, say) is written as its name, a string."""
    try:
        return _CONTENT_ENCODER.encode(data)
    except ValueError:
        return _CONTENT_ENCODER.encode(_finite(data))


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _carries(span: Span) -> int:
    attributes = span.attributes
    usage = isinstance(attributes.get(SpanAttributeKey.TOKEN_USAGE), dict)
    cost = isinstance(attributes.get(SpanAttributeKey.COST), dict)
    return (CARRIES_USAGE if usage else 0) | (CARRIES_COST if cost else 0)


def write_span_rows(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    statement = _span_upsert(conn.dialect.name)
    for start in range(0, len(rows), SPAN_WRITE_CHUNK):
        cursor = driver_execute(conn, statement, rows[start : start + SPAN_WRITE_CHUNK])
        cursor.close()


def span_from_content(content: str) -> Span:
    """The span a ``content`` column holds: ``Span.from_dict(json.loads(content))``, read
    directly by orjson for the shape ``span_content`` writes (GetTrace reads 50,000 of these)."""
    if not _may_exceed_orjson(content):
        try:
            return _stored_span(orjson.loads(content))
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # not JSON to orjson (a lone surrogate), or a row of another shape
    return Span.from_dict(json.loads(content))


def _stored_span(data: dict[str, Any]) -> Span:
    status = data["status"]
    parent = data["parent_span_id"]
    end = data["end_time_unix_nano"]
    return Span(
        trace_id=_trace_id_of(data["trace_id"]),
        span_id=_hex_of(data["span_id"]),
        parent_id=_parent_hex_of(parent) if parent else None,
        name=str(data["name"]),
        start_time_ns=int(data["start_time_unix_nano"] or 0),
        end_time_ns=None if end is None else int(end),
        status_code=_STATUS_BY_CODE.get(status["code"], SpanStatusCode.UNSET),
        status_message=str(status["message"] or ""),
        attributes={key: _decode_attribute(text) for key, text in data["attributes"].items()},
        events=[
            SpanEvent(
                str(event["name"]), int(event["time_unix_nano"] or 0), event["attributes"] or {}
            )
            for event in data["events"]
        ],
        kind=str(data["kind"] or "SPAN_KIND_INTERNAL"),
    )


_STATUS_BY_CODE = {
    **{code.value: code for code in SpanStatusCode},
    **{f"STATUS_CODE_{code.value}": code for code in SpanStatusCode},
}


def _hex_of(b64: str) -> str:
    raw = binascii.a2b_base64(b64, strict_mode=True)  # base64.b64decode(validate=True)
    if len(raw) != 8:
        raise ValueError("not a stored span id")  # the general reader decides
    return raw.hex()


_parent_hex_of = functools.lru_cache(maxsize=1024)(_hex_of)


@functools.lru_cache(maxsize=256)
def _trace_id_of(b64: str) -> str:
    raw = binascii.a2b_base64(b64, strict_mode=True)
    if len(raw) != 16:
        raise ValueError("not a stored trace id")
    return TRACE_ID_PREFIX + raw.hex()


def _decode_attribute(text: Any) -> Any:
    # decode_attribute, by orjson (span_from_content made sure it reads numbers exactly).
    if not isinstance(text, str):
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass  # NaN, 1e400 or a lone surrogate, which json reads
    try:
        return json.loads(text)
    except ValueError:
        return text


# orjson reads integers below -2**63 or above 2**64 - 1 as floats, where json keeps them exact:
# content that may hold one (a minus and 19 digits, or 20 digits) is read by json. The check of
# ``otlp._may_exceed_orjson``, repeated here (the store does not import the OTLP layer).
_LONG_INTEGERS = (b"0" * 20, b"-" + b"0" * 19)
_DIGITS_ONLY = bytes(48 if 48 <= c <= 57 else c if c == 45 else 32 for c in range(256))


def _may_exceed_orjson(text: str) -> bool:
    digits = text.encode("utf-8", "surrogatepass").translate(_DIGITS_ONLY)
    return _LONG_INTEGERS[0] in digits or _LONG_INTEGERS[1] in digits


# ---------------------------------------------------------------- what a root span implies
def _json_preview(value: Any, limit: int) -> str | None:
    return None if value is None else encode_attribute(value)[:limit]


@dataclass(slots=True)
class RootFacts:
    """The info fields a root span determines."""

    request_time_ms: int
    execution_duration_ms: int | None
    state: TraceState
    request_preview: str | None
    response_preview: str | None
    name: str
    inputs: str | None  # metadata mlflow.traceInputs
    outputs: str | None


def root_facts(root: Span) -> RootFacts:
    start_ms = root.start_time_ns // 1_000_000
    duration = None
    if root.end_time_ns is not None:
        duration = max(0, root.end_time_ns // 1_000_000 - start_ms)
    if root.status_code == SpanStatusCode.ERROR:
        state = TraceState.ERROR
    elif root.end_time_ns is None:
        state = TraceState.IN_PROGRESS
    else:
        state = TraceState.OK
    return RootFacts(
        request_time_ms=start_ms,
        execution_duration_ms=duration,
        state=state,
        request_preview=_json_preview(root.inputs, PREVIEW_MAX_CHARS),
        response_preview=_json_preview(root.outputs, PREVIEW_MAX_CHARS),
        name=str(root.name)[:MAX_TRACE_TAG_VALUE_LENGTH],
        inputs=_json_preview(root.inputs, METADATA_PREVIEW_CHARS),
        outputs=_json_preview(root.outputs, METADATA_PREVIEW_CHARS),
    )


def server_tags(artifact_location: str, has_spans: bool) -> dict[str, str]:
    tags = {TraceTagKey.ARTIFACT_LOCATION: artifact_location}
    if has_spans:
        tags[TraceTagKey.SPANS_LOCATION] = SPANS_LOCATION_TRACKING_STORE
    return tags


def root_metadata(facts: RootFacts | None) -> dict[str, str]:
    metadata = {TraceMetadataKey.SCHEMA_VERSION: SCHEMA_VERSION}
    if facts is not None and facts.inputs is not None:
        metadata[TraceMetadataKey.INPUTS] = facts.inputs
    if facts is not None and facts.outputs is not None:
        metadata[TraceMetadataKey.OUTPUTS] = facts.outputs
    return metadata


# ---------------------------------------------------------------- token usage and cost
@dataclass(frozen=True, slots=True)
class UsageNode:
    span_id: str
    parent_id: str | None
    usage: Any  # the decoded mlflow.chat.tokenUsage attribute, if any
    cost: Any  # the decoded mlflow.llm.cost attribute, if any


def usage_node(span: Span) -> UsageNode:
    attributes = span.attributes
    return UsageNode(
        span.span_id,
        span.parent_id,
        attributes.get(SpanAttributeKey.TOKEN_USAGE),
        attributes.get(SpanAttributeKey.COST),
    )


def _shape(conn: Connection, trace_id: str, skip: set[str]) -> list[tuple[str, str | None, int]]:
    """(span id, parent id, carries) of the trace's stored spans, but those in ``skip``."""
    query = select(sp.span_id, sp.parent_span_id, sp.carries).where(sp.trace_id == trace_id)
    return [row for row in fetch_rows(conn, query) if row[0] not in skip]


def stored_usage_nodes(
    conn: Connection, dialect: str, trace_id: str, skip: set[str]
) -> list[UsageNode]:
    """Nodes of the trace's spans stored earlier (other batches), but those in ``skip``. Only
    the spans carrying usage or cost are read beyond their ids, the database extracting the
    two attributes from their JSON."""
    nodes = {
        span_id: UsageNode(span_id, parent, None, None)
        for span_id, parent, _ in _shape(conn, trace_id, skip)
    }
    usage = span_attribute(sp.content, SpanAttributeKey.TOKEN_USAGE, dialect)
    cost = span_attribute(sp.content, SpanAttributeKey.COST, dialect)
    query = select(sp.span_id, usage, cost).where(sp.trace_id == trace_id, sp.carries != 0)
    for span_id, used, spent in fetch_rows(conn, query):
        if span_id in nodes:
            parent = nodes[span_id].parent_id
            nodes[span_id] = UsageNode(
                span_id, parent, decode_attribute(used), decode_attribute(spent)
            )
    return list(nodes.values())


def aggregate(
    nodes: Iterable[UsageNode],
    field: str,
    keys: Sequence[str],
    optional: Sequence[str] = (),
) -> dict[str, int | float] | None:
    """Sum ``field`` (``usage`` or ``cost``) over the spans, as MLflow does: a span whose
    ancestor carries the data is skipped (frameworks roll their children's usage up into the
    parent, which would otherwise count twice). None when no span carries it."""
    listed = list(nodes)
    parent_of = {node.span_id: node.parent_id for node in listed}
    carriers = {node.span_id for node in listed if isinstance(getattr(node, field), dict)}
    return sum_uncovered(listed, field, parent_of, carriers, keys, optional)


def sum_uncovered(
    counted: Iterable[UsageNode],
    field: str,
    parent_of: Mapping[str, str | None],
    carriers: set[str],
    keys: Sequence[str],
    optional: Sequence[str] = (),
) -> dict[str, int | float] | None:
    """The sum of ``field`` over the ``counted`` spans that no carrier is an ancestor of, in the
    tree ``parent_of``; None when none of them carries the field."""
    covered: dict[str, bool] = {}  # span id -> whether it or an ancestor is a carrier
    totals: dict[str, int | float] = dict.fromkeys(keys, 0)
    found = False
    for node in counted:
        data = getattr(node, field)
        if not isinstance(data, dict) or _covered(node.parent_id, parent_of, carriers, covered):
            continue
        found = True
        for key in (*keys, *optional):
            value = data.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                totals[key] = totals.get(key, 0) + value
    return totals if found else None


def _covered(
    span_id: str | None,
    parent_of: Mapping[str, str | None],
    carriers: set[str],
    memo: dict[str, bool],
) -> bool:
    """Whether the span or one of its ancestors is a carrier (iterative and memoised: deep
    chains of spans neither recurse nor get walked twice)."""
    path: dict[str, None] = {}
    answer = False
    while span_id is not None and span_id in parent_of:
        if span_id in memo:
            answer = memo[span_id]
            break
        if span_id in path:  # a cycle in foreign data
            break
        path[span_id] = None
        if span_id in carriers:
            answer = True
            break
        span_id = parent_of[span_id]
    for visited in path:
        memo[visited] = answer
    return answer


def totals_metadata(nodes: Sequence[UsageNode], present: Mapping[str, str]) -> dict[str, str]:
    """Token usage and cost metadata computed from the spans, for keys not already set."""
    found: dict[str, str] = {}
    if TraceMetadataKey.TOKEN_USAGE not in present:
        usage = aggregate(nodes, "usage", TOKEN_KEYS, OPTIONAL_TOKEN_KEYS)
        if usage is not None:
            found[TraceMetadataKey.TOKEN_USAGE] = json.dumps(usage)
    if TraceMetadataKey.COST not in present:
        cost = aggregate(nodes, "cost", COST_KEYS)
        if cost is not None:
            found[TraceMetadataKey.COST] = json.dumps({k: float(v) for k, v in cost.items()})
    return found


def late_totals(
    conn: Connection,
    dialect: str,
    trace_id: str,
    batch: Sequence[Span],
    metadata: Mapping[str, str],
) -> dict[str, str]:
    """The totals in ``metadata`` plus what a batch arriving after the root span adds.

    A client that splits a big trace in its own order may send the root first; re-reading
    every stored span for each later batch would make that quadratic. Instead, the stored
    spans' shape (ids, parents, whether they carry usage or cost) says which of the batch's
    spans are not below a carrier: their usage is added. {} while the root is not stored
    (its arrival computes the totals)."""
    if not _root_stored(conn, trace_id):
        return {}  # the usual case of a big trace sent in parts, root last
    skip = {span.span_id for span in batch}
    batch_nodes = [usage_node(span) for span in batch]
    parent_of = {node.span_id: node.parent_id for node in batch_nodes}
    carriers: dict[str, set[str]] = {"usage": set(), "cost": set()}
    has_root = False
    for span_id, parent, carries in _shape(conn, trace_id, skip):
        parent_of[span_id] = parent
        has_root = has_root or parent is None
        if carries & CARRIES_USAGE:
            carriers["usage"].add(span_id)
        if carries & CARRIES_COST:
            carriers["cost"].add(span_id)
    for node in batch_nodes:
        for field in ("usage", "cost"):
            if isinstance(getattr(node, field), dict):
                carriers[field].add(node.span_id)
    if not has_root:
        return {}
    found: dict[str, str] = {}
    fields = (
        ("usage", TraceMetadataKey.TOKEN_USAGE, TOKEN_KEYS, OPTIONAL_TOKEN_KEYS),
        ("cost", TraceMetadataKey.COST, COST_KEYS, ()),
    )
    for field, key, keys, optional in fields:
        added = sum_uncovered(batch_nodes, field, parent_of, carriers[field], keys, optional)
        if added is not None and any(added.values()):
            found[key] = _added_to(metadata.get(key), added, as_float=field == "cost")
    return found


def _added_to(stored: str | None, added: Mapping[str, int | float], *, as_float: bool) -> str:
    """The JSON of a stored total (usage or cost metadata) plus ``added``."""
    try:
        old = json.loads(stored or "{}")
    except ValueError:
        old = {}
    merged = {k: (old.get(k) or 0) + added.get(k, 0) for k in dict.fromkeys([*old, *added])}
    if as_float:
        merged = {k: float(v) for k, v in merged.items()}
    return json.dumps(merged)


_NAME_TAG = select(trace_tags.c.key).where(
    trace_tags.c.trace_id == bindparam("trace_id"),
    trace_tags.c.key == TraceTagKey.TRACE_NAME,
)


def _root_stored(conn: Connection, trace_id: str) -> bool:
    """False when the trace's root span is surely not stored: storing a root names the trace
    (``merge_info``), so a trace without a name tag has none. One index probe, where finding
    the root among the spans would read every one of them (for each part of a trace sent in
    parts). True means "maybe" (a name from ``set_trace_tag``): the spans then say. A trace
    whose name tag was deleted after its root arrived gets no late totals."""
    return bool(fetch_rows(conn, _NAME_TAG, {"trace_id": trace_id}))


def group_by_trace(spans: Sequence[Span]) -> dict[str, list[Span]]:
    grouped: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        grouped[span.trace_id].append(span)
    return dict(grouped)


def find_root(spans: Sequence[Span]) -> Span | None:
    roots = [span for span in spans if span.parent_id is None]
    return min(roots, key=lambda s: s.start_time_ns) if roots else None


# ---------------------------------------------------------------- paging
_PAGE = (
    select(sp.start_time_ns, sp.span_id, sp.content)
    .where(sp.trace_id == bindparam("trace_id"))
    .order_by(sp.start_time_ns, sp.span_id)
    .limit(bindparam("limit"))
)
_PAGE_AFTER = (
    select(sp.start_time_ns, sp.span_id, sp.content)
    .where(
        sp.trace_id == bindparam("trace_id"),
        or_(
            sp.start_time_ns > bindparam("after_start"),
            (sp.start_time_ns == bindparam("after_start")) & (sp.span_id > bindparam("after_id")),
        ),
    )
    .order_by(sp.start_time_ns, sp.span_id)
    .limit(bindparam("limit"))
)


def encode_span_token(start_time_ns: int, span_id: str) -> str:
    raw = json.dumps({"start": start_time_ns, "span": span_id})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_span_token(token: str) -> tuple[int, str]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        start, span_id = decoded["start"], decoded["span"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeError):
        start = span_id = None
    if isinstance(start, bool) or not isinstance(start, int) or not isinstance(span_id, str):
        raise InvalidParameter(
            f"Invalid page token {token!r}: pass the next_page_token of a previous response."
        )
    return start, span_id


def page_rows(
    conn: Connection, trace_id: str, limit: int, token: str | None
) -> list[tuple[Any, ...]]:
    """Up to ``limit`` rows (start, span id, content) after the token's position."""
    params: dict[str, Any] = {"trace_id": trace_id, "limit": limit}
    if token:
        params["after_start"], params["after_id"] = decode_span_token(token)
        return fetch_rows(conn, _PAGE_AFTER, params)
    return fetch_rows(conn, _PAGE, params)


__all__ = [
    "RootFacts",
    "UsageNode",
    "aggregate",
    "decode_span_token",
    "encode_span_token",
    "find_root",
    "group_by_trace",
    "late_totals",
    "page_rows",
    "root_facts",
    "root_metadata",
    "server_tags",
    "span_from_content",
    "span_row",
    "stored_usage_nodes",
    "sum_uncovered",
    "totals_metadata",
    "usage_node",
    "write_span_rows",
]
