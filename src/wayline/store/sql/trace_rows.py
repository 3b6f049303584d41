"""Trace infos and assessments as table rows: validation, conversion, bulk loading, deletion,
and claiming an info for a write.

Shared by the trace store's parts (``traces.py``, ``trace_spans.py``, ``trace_assessments.py``)
and by ``gc.py``. Loading a page of infos is one query per table for the whole page.

``start_trace`` and ``log_spans`` both write a trace's info, and a client exporting
asynchronously sends both at once. Each first claims the info (``claim_infos``): inserts it if
absent, otherwise locks the stored row and reads it under the lock, then changes only what it
may. Neither ever replaces the row blindly, so whichever commits first, the other merges into
what it wrote.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, delete, select, update

from wayline.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentSource,
    AssessmentSourceType,
    Expectation,
    Feedback,
)
from wayline.entities.trace import TraceInfo, TraceMetadataKey, TraceState, TraceTagKey
from wayline.errors import InvalidParameter, NotFound, TemporarilyUnavailable
from wayline.search.sql_traces import prompt_fragment
from wayline.store.sql.base import chunks, fetch_in, insert_ignore, upsert
from wayline.store.sql.tables import (
    MAX_TRACE_ID_LENGTH,
    MAX_TRACE_TAG_VALUE_LENGTH,
    assessments,
    trace_info,
    trace_request_metadata,
    trace_runs,
    trace_spans,
    trace_tags,
)

MAX_TRACE_KEY_LENGTH = 250
MAX_CLIENT_REQUEST_ID_LENGTH = 250
MAX_ASSESSMENT_NAME_LENGTH = 250
MAX_RUN_ID_LENGTH = 32

ti = trace_info.c
marks = assessments.c

INFO_COLUMNS = (
    ti.trace_id,
    ti.experiment_id,
    ti.request_time,
    ti.execution_time,
    ti.state,
    ti.client_request_id,
    ti.request_preview,
    ti.response_preview,
)
ASSESSMENT_COLUMNS = (
    marks.assessment_id,
    marks.trace_id,
    marks.name,
    marks.kind,
    marks.value,
    marks.error,
    marks.rationale,
    marks.source_type,
    marks.source_id,
    marks.span_id,
    marks["metadata"],
    marks.overrides,
    marks.valid,
    marks.create_time,
    marks.last_update_time,
)
_INFO_SELECT = select(*INFO_COLUMNS)
_TAG_SELECT = select(trace_tags.c.trace_id, trace_tags.c.key, trace_tags.c.value)
_METADATA_SELECT = select(
    trace_request_metadata.c.trace_id,
    trace_request_metadata.c.key,
    trace_request_metadata.c.value,
)
_ASSESSMENT_SELECT = select(*ASSESSMENT_COLUMNS)
# Children first: the purge must be complete where foreign keys are not enforced.
_TRACE_CHILDREN = (assessments, trace_spans, trace_runs, trace_request_metadata, trace_tags)


def trace_not_found(trace_id: object) -> NotFound:
    return NotFound(f"Trace with ID {trace_id} is not found.")


def assessment_not_found(trace_id: str, assessment_id: str) -> NotFound:
    return NotFound(f"Assessment with ID '{assessment_id}' not found for trace '{trace_id}'")


# ---------------------------------------------------------------- validation
def validate_trace_id(trace_id: object) -> str:
    if not isinstance(trace_id, str) or not trace_id:
        raise InvalidParameter(f"Invalid trace id {trace_id!r}: expected a non-empty string.")
    if len(trace_id) > MAX_TRACE_ID_LENGTH:
        raise InvalidParameter(
            f"Invalid trace id '{trace_id[:60]}...': longer than {MAX_TRACE_ID_LENGTH} characters."
        )
    return trace_id


def validate_entry(what: str, key: object, value: object) -> tuple[str, str]:
    """A trace tag or metadata entry (``what`` names which in messages)."""
    if not isinstance(key, str) or not key:
        raise InvalidParameter(f"Invalid trace {what} key {key!r}: expected a non-empty string.")
    if len(key) > MAX_TRACE_KEY_LENGTH:
        raise InvalidParameter(
            f"Trace {what} key '{key[:60]}...' is longer than {MAX_TRACE_KEY_LENGTH} characters."
        )
    if not isinstance(value, str):
        raise InvalidParameter(
            f"Invalid value for trace {what} '{key}': expected a string, got "
            f"{type(value).__name__}."
        )
    if len(value) > MAX_TRACE_TAG_VALUE_LENGTH:
        raise InvalidParameter(
            f"Value of trace {what} '{key}' is {len(value)} characters long; the limit is "
            f"{MAX_TRACE_TAG_VALUE_LENGTH}."
        )
    return key, value


def validate_info(info: TraceInfo) -> TraceState:
    """Check what the tables could not hold; returns the state as the enum."""
    validate_trace_id(info.trace_id)
    request_time = info.request_time_ms
    if isinstance(request_time, bool) or not isinstance(request_time, int):
        raise InvalidParameter(f"Invalid request_time {request_time!r}: expected milliseconds.")
    duration = info.execution_duration_ms
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
        raise InvalidParameter(f"Invalid execution_duration {duration!r}: expected milliseconds.")
    try:
        state = TraceState(info.state)
    except ValueError:
        valid = ", ".join(s.value for s in TraceState)
        raise InvalidParameter(f"Invalid trace state {info.state!r}: one of {valid}.") from None
    client_id = info.client_request_id
    if client_id is not None and len(str(client_id)) > MAX_CLIENT_REQUEST_ID_LENGTH:
        raise InvalidParameter(
            f"client_request_id is longer than {MAX_CLIENT_REQUEST_ID_LENGTH} characters."
        )
    for key, value in info.tags.items():
        validate_entry("tag", key, value)
    for key, value in info.trace_metadata.items():
        validate_entry("metadata", key, value)
    return state


# ---------------------------------------------------------------- linked prompts
def parse_linked_prompts(text: str | None) -> list[tuple[str, str]]:
    """The (name, version) pairs of an ``mlflow.linkedPrompts`` value; [] if it is not one."""
    try:
        items = json.loads(text) if text else []
    except ValueError:
        return []
    pairs: list[tuple[str, str]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("name") is not None:
            pairs.append((str(item["name"]), str(item.get("version", ""))))
    return pairs


def linked_prompts_text(pairs: Iterable[tuple[str, str]]) -> str:
    """The canonical spelling that ``trace.prompt = 'name/version'`` searches for."""
    unique = list(dict.fromkeys(pairs))
    return "[" + ", ".join(prompt_fragment(name, version) for name, version in unique) + "]"


def canonical_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """``tags`` with a parsable linked-prompts value respelled canonically."""
    value = tags.get(TraceTagKey.LINKED_PROMPTS)
    pairs = parse_linked_prompts(value)
    if not pairs:
        return dict(tags)
    return {**tags, TraceTagKey.LINKED_PROMPTS: linked_prompts_text(pairs)}


# ---------------------------------------------------------------- claiming an info
_CLAIM_ATTEMPTS = 5


def lock_infos(conn: Connection, trace_ids: Sequence[str]) -> set[str]:
    """Lock the stored info rows of these ids until the transaction ends; the ids found.

    Rows lock in id order, so writers of overlapping sets of traces cannot deadlock. On SQLite
    the lock is a no-op (``FOR UPDATE`` is not rendered): its write transactions run one at a
    time already.
    """
    found: set[str] = set()
    for chunk in chunks(sorted(trace_ids)):
        query = select(ti.trace_id).where(ti.trace_id.in_(chunk)).order_by(ti.trace_id)
        found.update(conn.execute(query.with_for_update()).scalars())
    return found


def claim_infos(
    conn: Connection, dialect: str, rows: Mapping[str, Mapping[str, Any]]
) -> dict[str, TraceInfo]:
    """Make sure every trace of ``rows`` (trace id -> info row) has an info, locked until the
    transaction ends. Returns the infos of those that had one, read under the lock; the traces
    missing from the answer are those this call inserted from ``rows``.

    Stored rows are locked before anything is inserted: on MySQL a failed insert leaves a shared
    lock, and two writers upgrading shared locks on the same row deadlock.
    """
    ids = sorted(rows)
    present = lock_infos(conn, ids)
    created = {t for t in ids if t not in present and _insert_or_lock(conn, dialect, rows[t])}
    return load_infos(conn, [t for t in ids if t not in created])


def _insert_or_lock(conn: Connection, dialect: str, row: Mapping[str, Any]) -> bool:
    """True when this call inserted the info; False when another writer stored it first (it is
    locked now)."""
    insert = insert_ignore(dialect, trace_info)
    for _ in range(_CLAIM_ATTEMPTS):
        if conn.execute(insert, dict(row)).rowcount == 1:
            return True
        if lock_infos(conn, [row["trace_id"]]):
            return False
        # Deleted again between the two statements: insert once more.
    raise TemporarilyUnavailable(
        f"Trace {row['trace_id']} is being created and deleted concurrently. Retry the request."
    )


# ---------------------------------------------------------------- writes
@functools.cache
def entry_upsert(dialect: str, table_name: str) -> Insert:
    table = trace_tags if table_name == "trace_tags" else trace_request_metadata
    return upsert(dialect, table, keys=("trace_id", "key"), update=("value",))


def write_entries(
    conn: Connection, dialect: str, table: Any, trace_id: str, entries: Mapping[str, str]
) -> None:
    if entries:
        rows = [{"trace_id": trace_id, "key": k, "value": v} for k, v in entries.items()]
        conn.execute(entry_upsert(dialect, table.name), rows)


def write_info(
    conn: Connection,
    dialect: str,
    trace_id: str,
    tags: Mapping[str, str],
    metadata: Mapping[str, str],
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Complete a claimed trace info (``claim_infos``): apply ``changes`` to its columns, then
    merge ``tags`` and ``metadata`` into its entries (the given values win). The run named by
    metadata ``mlflow.sourceRun`` is recorded among the trace's runs."""
    if changes:
        conn.execute(update(trace_info).where(ti.trace_id == trace_id).values(dict(changes)))
    write_entries(conn, dialect, trace_tags, trace_id, tags)
    write_entries(conn, dialect, trace_request_metadata, trace_id, metadata)
    run_id = metadata.get(TraceMetadataKey.SOURCE_RUN)
    if run_id and len(run_id) <= MAX_RUN_ID_LENGTH:
        link_runs(conn, dialect, [(trace_id, run_id)])


def link_runs(conn: Connection, dialect: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Record (trace id, run id) links; those already recorded are skipped."""
    if pairs:
        rows = [{"trace_id": trace_id, "run_id": run_id} for trace_id, run_id in pairs]
        conn.execute(insert_ignore(dialect, trace_runs), rows)


def delete_trace_rows(conn: Connection, trace_ids: Sequence[str]) -> None:
    for chunk in chunks(trace_ids):
        for table in _TRACE_CHILDREN:
            conn.execute(delete(table).where(table.c.trace_id.in_(chunk)))
        conn.execute(delete(trace_info).where(ti.trace_id.in_(chunk)))


# ---------------------------------------------------------------- assessments
def assessment_row(assessment: Assessment) -> dict[str, Any]:
    """The table row of a complete assessment (id and times filled in)."""
    value = assessment.value
    error = assessment.feedback.error if assessment.feedback is not None else None
    numeric = None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        numeric = float(value)
    return {
        "assessment_id": assessment.assessment_id,
        "trace_id": assessment.trace_id,
        "name": assessment.name,
        "kind": assessment.kind,
        "value": None if value is None else json.dumps(value, ensure_ascii=False, default=str),
        "numeric_value": numeric,
        "error": None if error is None else json.dumps(_error_dict(error), ensure_ascii=False),
        "rationale": assessment.rationale,
        "source_type": AssessmentSourceType(assessment.source.source_type).value,
        "source_id": assessment.source.source_id,
        "span_id": assessment.span_id,
        "metadata": json.dumps(assessment.metadata, ensure_ascii=False)
        if assessment.metadata
        else None,
        "overrides": assessment.overrides,
        "valid": bool(assessment.valid),
        "create_time": assessment.create_time_ms,
        "last_update_time": assessment.last_update_time_ms,
    }


def _error_dict(error: AssessmentError) -> dict[str, Any]:
    return {
        "error_code": error.error_code,
        "error_message": error.error_message,
        "stack_trace": error.stack_trace,
    }


def assessment_from_row(row: Sequence[Any]) -> Assessment:
    (aid, trace_id, name, kind, value, error, rationale, source_type, source_id, span_id) = row[:10]
    metadata, overrides, valid, created, updated = row[10:]
    decoded = None if value is None else json.loads(value)
    feedback = expectation = None
    if kind == "feedback":
        err = json.loads(error) if error else None
        feedback = Feedback(
            decoded,
            AssessmentError(err["error_code"], err.get("error_message"), err.get("stack_trace"))
            if err
            else None,
        )
    else:
        expectation = Expectation(decoded)
    return Assessment(
        name=name,
        trace_id=trace_id,
        source=AssessmentSource(AssessmentSourceType(source_type), source_id),
        feedback=feedback,
        expectation=expectation,
        assessment_id=aid,
        span_id=span_id,
        rationale=rationale,
        metadata=json.loads(metadata) if metadata else {},
        create_time_ms=created,
        last_update_time_ms=updated,
        overrides=overrides,
        valid=bool(valid),
    )


# ---------------------------------------------------------------- loading
def load_infos(conn: Connection, trace_ids: Sequence[str]) -> dict[str, TraceInfo]:
    """The infos (with tags, metadata and assessments) of those ids that exist."""
    if not trace_ids:
        return {}
    infos: dict[str, TraceInfo] = {}
    for row in fetch_in(conn, _INFO_SELECT, "trace_id", trace_ids):
        trace_id, experiment_id, request_time, duration, state, client_id, req, resp = row
        infos[trace_id] = TraceInfo(
            trace_id=trace_id,
            experiment_id=str(experiment_id),
            request_time_ms=request_time,
            state=TraceState(state),
            execution_duration_ms=duration,
            request_preview=req,
            response_preview=resp,
            client_request_id=client_id,
        )
    found = list(infos)
    for trace_id, key, value in sorted(fetch_in(conn, _TAG_SELECT, "trace_id", found)):
        infos[trace_id].tags[key] = value
    for trace_id, key, value in sorted(fetch_in(conn, _METADATA_SELECT, "trace_id", found)):
        infos[trace_id].trace_metadata[key] = value
    rows = fetch_in(conn, _ASSESSMENT_SELECT, "trace_id", found)
    for row in sorted(rows, key=lambda r: (r[13], r[0])):  # creation order
        infos[row[1]].assessments.append(assessment_from_row(row))
    return infos


def load_info(conn: Connection, trace_id: str) -> TraceInfo:
    info = load_infos(conn, [trace_id]).get(trace_id)
    if info is None:
        raise trace_not_found(trace_id)
    return info


def require_trace(conn: Connection, trace_id: str) -> int:
    """The trace's experiment id; NotFound when the trace does not exist."""
    row = conn.execute(select(ti.experiment_id).where(ti.trace_id == trace_id)).first()
    if row is None:
        raise trace_not_found(trace_id)
    return int(row[0])


__all__ = [
    "ASSESSMENT_COLUMNS",
    "INFO_COLUMNS",
    "assessment_from_row",
    "assessment_not_found",
    "assessment_row",
    "canonical_tags",
    "claim_infos",
    "delete_trace_rows",
    "link_runs",
    "linked_prompts_text",
    "load_info",
    "load_infos",
    "lock_infos",
    "parse_linked_prompts",
    "require_trace",
    "trace_not_found",
    "validate_entry",
    "validate_info",
    "validate_trace_id",
    "write_entries",
    "write_info",
]
