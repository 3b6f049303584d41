"""How the two writers of a trace's info merge, whichever comes first (see ``trace_rows``):

- a batch of spans implies an info: made from the root span for a trace without one (an
  IN_PROGRESS placeholder until the root arrives), completed from it for a trace that has one
  (the info's own values win), plus the token usage and cost totals of the trace's spans;
- ``start_trace``'s explicit values win over those derived from spans, but what it leaves empty
  (no duration, no previews, an unfinished state) keeps what the spans gave.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from wayline.entities.trace import Span, TraceInfo, TraceMetadataKey, TraceState, TraceTagKey
from wayline.errors import InvalidParameter
from wayline.store.sql.trace_rows import write_info
from wayline.store.sql.trace_spans import (
    RootFacts,
    find_root,
    late_totals,
    root_facts,
    root_metadata,
    server_tags,
    stored_usage_nodes,
    totals_metadata,
    usage_node,
)

_IN_PROGRESS = (TraceState.IN_PROGRESS, TraceState.STATE_UNSPECIFIED)


@dataclass(frozen=True, slots=True)
class SpanBatch:
    """The spans of one trace in a ``log_spans`` call, with what its root says."""

    trace_id: str
    spans: Sequence[Span]
    facts: RootFacts | None  # None: the root span is not in this batch
    first_start_ms: int


def span_batch(spans: Sequence[Span]) -> SpanBatch:
    root = find_root(spans)
    return SpanBatch(
        trace_id=spans[0].trace_id,
        spans=spans,
        facts=root_facts(root) if root is not None else None,
        first_start_ms=min(span.start_time_ns for span in spans) // 1_000_000,
    )


def new_info_row(experiment_key: int, batch: SpanBatch) -> dict[str, Any]:
    """The info row of a trace first seen in this batch (to insert if none is stored)."""
    return {
        "trace_id": batch.trace_id,
        "experiment_id": experiment_key,
        **_values_from_root(batch.facts, batch.first_start_ms),
    }


def span_totals(
    conn: Connection, dialect: str, trace_id: str, batch: Sequence[Span], existing: TraceInfo | None
) -> dict[str, str]:
    """Token usage and cost metadata from the trace's spans, or {} when they stay as they are.

    The root span ends last, so exporters send it last: when it arrives the trace's spans are
    stored and one pass over them gives exact totals (rolled-up usage counted once). Spans
    arriving after it add to those totals (``late_totals``). A client that finalized the info
    (``start_trace``) keeps the totals it gave; only absent ones are filled in, from the root.
    """
    finalized = existing is not None and bool(
        existing.trace_metadata.get(TraceMetadataKey.INFO_FINALIZED)
    )
    if find_root(batch) is None:
        if existing is None or finalized:
            return {}
        return late_totals(conn, dialect, trace_id, batch, existing.trace_metadata)
    present: dict[str, str] = {}
    if existing is not None and finalized:
        present = existing.trace_metadata
        if TraceMetadataKey.TOKEN_USAGE in present and TraceMetadataKey.COST in present:
            return {}
    nodes = [usage_node(span) for span in batch]
    if existing is not None:
        nodes += stored_usage_nodes(conn, dialect, trace_id, {span.span_id for span in batch})
    return totals_metadata(nodes, present)


def merge_info(
    conn: Connection,
    dialect: str,
    location: str,
    batch: SpanBatch,
    existing: TraceInfo | None,
    totals: dict[str, str],
) -> None:
    """Complete one claimed trace info for a batch of its spans (stored right after).

    ``existing`` is the stored info, read under its lock, or None when this call has just
    inserted the info from ``new_info_row`` (which then needs its tags and metadata only).
    """
    facts = batch.facts
    tags = server_tags(location, has_spans=True)
    present = existing.trace_metadata if existing is not None else {}
    metadata = {k: v for k, v in root_metadata(facts).items() if k not in present}
    metadata.update(totals)
    if facts is not None and (existing is None or TraceTagKey.TRACE_NAME not in existing.tags):
        tags[TraceTagKey.TRACE_NAME] = facts.name
    if existing is None:
        write_info(conn, dialect, batch.trace_id, tags, metadata)
        return
    if existing.tags.get(TraceTagKey.ARTIFACT_LOCATION):
        del tags[TraceTagKey.ARTIFACT_LOCATION]  # the info's own location stays
    changes = _completion(existing, facts, batch.first_start_ms)
    write_info(conn, dialect, batch.trace_id, tags, metadata, changes)


def start_changes(values: Mapping[str, Any], existing: TraceInfo) -> dict[str, Any]:
    """The columns ``start_trace`` sets on an info stored before it (by spans, or by an earlier
    call): its values win, except those it leaves empty, and an unfinished info does not reopen
    a trace whose root span has ended (that span's times and state stand)."""
    if str(values["experiment_id"]) != existing.experiment_id:
        # As MLflow: never move another experiment's trace into the caller's.
        raise InvalidParameter(
            f"Trace with ID '{existing.trace_id}' already exists in another experiment."
        )
    changes = {k: v for k, v in values.items() if v is not None and k != "trace_id"}
    if TraceState(values["state"]) in _IN_PROGRESS and existing.state not in _IN_PROGRESS:
        for column in ("state", "request_time", "execution_time"):
            changes.pop(column, None)
    return changes


def _values_from_root(facts: RootFacts | None, first_start_ms: int) -> dict[str, object]:
    if facts is None:
        return {
            "request_time": first_start_ms,
            "execution_time": None,
            "state": TraceState.IN_PROGRESS.value,
            "client_request_id": None,
            "request_preview": None,
            "response_preview": None,
        }
    return {
        "request_time": facts.request_time_ms,
        "execution_time": facts.execution_duration_ms,
        "state": facts.state.value,
        "client_request_id": None,
        "request_preview": facts.request_preview,
        "response_preview": facts.response_preview,
    }


def _completion(
    existing: TraceInfo, facts: RootFacts | None, first_start_ms: int
) -> dict[str, object]:
    """The columns of an existing info the batch fills in; the info's own values win."""
    values: dict[str, object] = {}
    unfinished = existing.state in _IN_PROGRESS
    if facts is None:
        if unfinished and first_start_ms < existing.request_time_ms:
            values["request_time"] = first_start_ms  # an earlier span of a trace without root
        return values
    if unfinished:
        values["request_time"] = facts.request_time_ms
        values["state"] = facts.state.value
        values["execution_time"] = facts.execution_duration_ms
    elif existing.execution_duration_ms is None:
        values["execution_time"] = facts.execution_duration_ms
    if existing.request_preview is None and facts.request_preview is not None:
        values["request_preview"] = facts.request_preview
    if existing.response_preview is None and facts.response_preview is not None:
        values["response_preview"] = facts.response_preview
    return values


__all__ = ["SpanBatch", "merge_info", "new_info_row", "span_batch", "span_totals", "start_changes"]
