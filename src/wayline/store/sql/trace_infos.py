"""The trace info a batch of spans implies: made from the root span for a trace without one,
completed from it for a trace that has one (the info's own values win), and the token usage and
cost totals of the trace's spans.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from wayline.entities.trace import Span, TraceInfo, TraceMetadataKey, TraceState, TraceTagKey
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
    experiment_key: int,
    location: str,
    batch: Sequence[Span],
    existing: TraceInfo | None,
    totals: dict[str, str],
) -> None:
    """Create or complete one trace's info for a batch of its spans (stored right after)."""
    trace_id = batch[0].trace_id
    root = find_root(batch)
    facts = root_facts(root) if root is not None else None
    first_start_ms = min(span.start_time_ns for span in batch) // 1_000_000
    tags = server_tags(location, has_spans=True)
    present = existing.trace_metadata if existing is not None else {}
    metadata = {k: v for k, v in root_metadata(facts).items() if k not in present}
    metadata.update(totals)
    if facts is not None and (existing is None or TraceTagKey.TRACE_NAME not in existing.tags):
        tags[TraceTagKey.TRACE_NAME] = facts.name
    if existing is None:
        row = {
            "trace_id": trace_id,
            "experiment_id": experiment_key,
            **_values_from_root(facts, first_start_ms),
        }
        # A placeholder (no root yet) never replaces an info another writer stored meanwhile.
        write_info(conn, dialect, trace_id, tags, metadata, row=row, replace=facts is not None)
        return
    if existing.tags.get(TraceTagKey.ARTIFACT_LOCATION):
        del tags[TraceTagKey.ARTIFACT_LOCATION]  # the info's own location stays
    changes = _completion(existing, facts, first_start_ms)
    write_info(conn, dialect, trace_id, tags, metadata, changes=changes)


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


__all__ = ["merge_info", "span_totals"]
