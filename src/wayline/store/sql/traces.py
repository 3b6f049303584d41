"""Traces in the SQL store (``TraceStore``): infos, spans, search, deletion, tags and links.

Rows and their conversions live in ``trace_rows.py``, span batches and paging in
``trace_spans.py``, how infos merge in ``trace_infos.py``, assessments in
``trace_assessments.py``. Design points:
- ``start_trace`` is an upsert: the info's columns take the given values (those left empty
  keep what spans gave), its tags and metadata are merged (the given entries win), so a client
  may retry it and spans may arrive before, after or at the same time as it;
- ``log_spans`` writes a whole batch in one transaction and creates or completes the infos of
  the traces it touches from their root spans (foreign OpenTelemetry exporters never call
  ``start_trace``); a trace whose root span has not arrived yet gets an IN_PROGRESS info;
- both claim a trace's info first (insert it if absent, else lock it and read it under the
  lock: ``trace_rows.claim_infos``), so concurrent writers merge and never overwrite;
- the runs of a trace (``mlflow.sourceRun`` and ``link_traces_to_run``) are kept in
  ``trace_runs``, which ``trace.run_id`` and ``metadata.`mlflow.sourceRun` = X`` search. A
  trace may be linked before it is stored (asynchronous export): the link waits in that table.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, exists, select

from wayline.entities import PagedList
from wayline.entities.trace import (
    Span,
    TraceInfo,
    TraceMetadataKey,
    TraceTagKey,
)
from wayline.errors import InvalidParameter, NotFound
from wayline.search.sql_traces import trace_search_query
from wayline.store.sql.base import (
    chunks,
    decode_page_token,
    encode_page_token,
    fetch_rows,
    join_uri,
    now_ms,
    parse_experiment_id,
)
from wayline.store.sql.experiments import experiment_row
from wayline.store.sql.tables import trace_info, trace_spans, trace_tags
from wayline.store.sql.trace_assessments import (
    AssessmentsMixin,
    completed,
    store_assessment,
    validate_assessment,
)
from wayline.store.sql.trace_infos import (
    merge_info,
    new_info_row,
    span_batch,
    span_totals,
    start_changes,
)
from wayline.store.sql.trace_rows import (
    canonical_tags,
    claim_infos,
    delete_trace_rows,
    link_runs,
    linked_prompts_text,
    load_info,
    load_infos,
    parse_linked_prompts,
    require_trace,
    validate_entry,
    validate_info,
    validate_trace_id,
    write_entries,
    write_info,
)
from wayline.store.sql.trace_spans import (
    encode_span_token,
    group_by_trace,
    page_rows,
    server_tags,
    span_from_content,
    span_row,
    write_span_rows,
)
from wayline.store.traces import (
    LINK_TRACES_TO_RUN_LIMIT,
    SEARCH_TRACES_MAX_RESULTS_DEFAULT,
    SEARCH_TRACES_MAX_RESULTS_LIMIT,
    SPANS_PAGE_DEFAULT,
    SPANS_PAGE_LIMIT,
)
from wayline.validation import validate_max_results

ti = trace_info.c


def _has_spans(conn: Connection, trace_id: str) -> bool:
    query = select(exists().where(trace_spans.c.trace_id == trace_id))
    return bool(conn.execute(query).scalar())


def trace_artifact_location(experiment_location: str, trace_id: str) -> str:
    return join_uri(experiment_location, "traces", trace_id, "artifacts")


class SqlTraceStore(AssessmentsMixin):
    # ---------------------------------------------------------------- trace infos
    def start_trace(self, info: TraceInfo) -> TraceInfo:
        state = validate_info(info)
        marks = [completed(a, now_ms()) for a in info.assessments]
        for assessment in marks:
            if assessment.trace_id != info.trace_id:
                raise InvalidParameter(
                    f"Assessment of trace {assessment.trace_id} given in the info of trace"
                    f" {info.trace_id}."
                )
            validate_assessment(assessment)
        with self._write() as conn:
            experiment = experiment_row(conn, info.experiment_id)
            values = {
                "trace_id": info.trace_id,
                "experiment_id": experiment.experiment_id,
                "request_time": info.request_time_ms,
                "execution_time": info.execution_duration_ms,
                "state": state.value,
                "client_request_id": info.client_request_id,
                "request_preview": info.request_preview,
                "response_preview": info.response_preview,
            }
            known = claim_infos(conn, self.dialect, {info.trace_id: values})
            existing = known.get(info.trace_id)  # None: inserted from ``values`` just now
            changes = start_changes(values, existing) if existing is not None else None
            location = trace_artifact_location(experiment.artifact_location, info.trace_id)
            tags = {
                **canonical_tags(info.tags),
                **server_tags(location, existing is not None and _has_spans(conn, info.trace_id)),
            }
            metadata = {**info.trace_metadata, TraceMetadataKey.INFO_FINALIZED: "true"}
            write_info(conn, self.dialect, info.trace_id, tags, metadata, changes)
            for assessment in marks:
                store_assessment(conn, assessment, replace=True)
            return load_info(conn, info.trace_id)

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        with self._read() as conn:
            return load_info(conn, trace_id)

    def batch_get_trace_infos(self, trace_ids: Sequence[str]) -> list[TraceInfo]:
        wanted = list(dict.fromkeys(str(t) for t in trace_ids))
        with self._read() as conn:
            found = load_infos(conn, wanted)
        return [found[trace_id] for trace_id in wanted if trace_id in found]

    def search_traces(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        max_results: int = SEARCH_TRACES_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[TraceInfo]:
        if isinstance(experiment_ids, str) or not experiment_ids:
            raise InvalidParameter(
                "Searching traces needs at least one experiment id (a list of ids)."
            )
        max_results = validate_max_results(max_results, SEARCH_TRACES_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        keys = [k for k in map(parse_experiment_id, experiment_ids) if k is not None]
        query = trace_search_query(keys, filter_string, order_by, self.dialect)
        query = query.limit(max_results + 1).offset(offset)
        with self._read() as conn:
            ids = [row[0] for row in fetch_rows(conn, query)]
            found = load_infos(conn, ids[:max_results])
        token = encode_page_token(offset + max_results) if len(ids) > max_results else None
        return PagedList([found[i] for i in ids[:max_results] if i in found], token)

    def delete_traces(
        self,
        experiment_id: str,
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> int:
        _check_delete_arguments(max_timestamp_millis, max_traces, trace_ids)
        with self._write() as conn:
            key = experiment_row(conn, experiment_id).experiment_id
            query = select(ti.trace_id).where(ti.experiment_id == key)
            doomed: list[str] = []
            if trace_ids:
                for chunk in chunks(list(dict.fromkeys(trace_ids))):
                    in_chunk = query.where(ti.trace_id.in_(chunk))
                    doomed += [row[0] for row in fetch_rows(conn, in_chunk)]
            else:
                query = query.where(ti.request_time <= max_timestamp_millis)
                query = query.order_by(ti.request_time, ti.trace_id)
                if max_traces is not None:
                    query = query.limit(max_traces)
                doomed = [row[0] for row in fetch_rows(conn, query)]
            delete_trace_rows(conn, doomed)
        return len(doomed)

    # ---------------------------------------------------------------- spans
    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> list[TraceInfo]:
        rows = [span_row(span) for span in spans]  # validation and JSON outside the lock
        grouped = group_by_trace(spans)
        if not grouped:
            return []
        batches = [span_batch(batch) for batch in grouped.values()]
        with self._write() as conn:
            experiment = experiment_row(conn, experiment_id)
            new_rows = {b.trace_id: new_info_row(experiment.experiment_id, b) for b in batches}
            known = claim_infos(conn, self.dialect, new_rows)
            for batch in batches:
                existing = known.get(batch.trace_id)  # None: inserted from ``new_rows`` just now
                totals = span_totals(conn, self.dialect, batch.trace_id, batch.spans, existing)
                location = trace_artifact_location(experiment.artifact_location, batch.trace_id)
                merge_info(conn, self.dialect, location, batch, existing, totals)
            write_span_rows(conn, rows)  # after the infos: spans reference them
            touched = load_infos(conn, list(grouped))
        return [touched[trace_id] for trace_id in grouped if trace_id in touched]

    def get_spans(
        self, trace_id: str, max_results: int = SPANS_PAGE_DEFAULT, page_token: str | None = None
    ) -> PagedList[Span]:
        max_results = validate_max_results(max_results, SPANS_PAGE_LIMIT)
        with self._read() as conn:
            require_trace(conn, trace_id)
            rows = page_rows(conn, trace_id, max_results + 1, page_token)
        page = [span_from_content(content) for _, _, content in rows[:max_results]]
        token = None
        if len(rows) > max_results:
            start, span_id, _ = rows[max_results - 1]
            token = encode_span_token(start, span_id)
        return PagedList(page, token)

    # ---------------------------------------------------------------- tags and links
    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        validate_trace_id(trace_id)
        key, value = validate_entry("tag", key, value)
        tags = canonical_tags({key: value})
        with self._write() as conn:
            require_trace(conn, trace_id)
            _write_tags(conn, self.dialect, trace_id, tags)

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        validate_trace_id(trace_id)
        with self._write() as conn:
            require_trace(conn, trace_id)
            tt = trace_tags.c
            result = conn.execute(trace_tags.delete().where(tt.trace_id == trace_id, tt.key == key))
            if result.rowcount == 0:
                raise NotFound(f"No trace tag with key '{key}' for trace with ID '{trace_id}'")

    def link_traces_to_run(self, trace_ids: Sequence[str], run_id: str) -> None:
        wanted = list(dict.fromkeys(validate_trace_id(t) for t in trace_ids))
        if len(wanted) > LINK_TRACES_TO_RUN_LIMIT:
            raise InvalidParameter(
                f"Cannot link more than {LINK_TRACES_TO_RUN_LIMIT} traces to a run in a single"
                f" request. Provided {len(wanted)} traces."
            )
        if not wanted:
            return
        with self._write() as conn:
            self._run_state(conn, run_id)
            # As MLflow, traces not stored yet are linked too: under asynchronous export the
            # link can arrive before the spans. The link waits in ``trace_runs``.
            link_runs(conn, self.dialect, [(trace_id, run_id) for trace_id in wanted])

    def link_prompts_to_trace(
        self, trace_id: str, prompt_versions: Sequence[tuple[str, str]]
    ) -> None:
        validate_trace_id(trace_id)
        pairs = [_prompt_pair(item) for item in prompt_versions]
        if not pairs:
            return
        tt = trace_tags.c
        with self._write() as conn:
            require_trace(conn, trace_id)
            row = conn.execute(
                select(tt.value).where(
                    tt.trace_id == trace_id, tt.key == TraceTagKey.LINKED_PROMPTS
                )
            ).first()
            merged = parse_linked_prompts(row[0] if row else None) + pairs
            tags = {TraceTagKey.LINKED_PROMPTS: linked_prompts_text(merged)}
            _write_tags(conn, self.dialect, trace_id, tags)


def _write_tags(conn: Connection, dialect: str, trace_id: str, tags: dict[str, str]) -> None:
    write_entries(conn, dialect, trace_tags, trace_id, tags)


def _prompt_pair(item: object) -> tuple[str, str]:
    if isinstance(item, tuple | list) and len(item) == 2:
        name, version = item
        if isinstance(name, str) and name and str(version):
            return name, str(version)
    raise InvalidParameter(
        f"Invalid prompt version {item!r}: expected a (name, version) pair of non-empty strings."
    )


def _check_delete_arguments(
    max_timestamp_millis: int | None, max_traces: int | None, trace_ids: Sequence[str] | None
) -> None:
    # MLflow's rules and wording (its abstract store's delete_traces).
    if max_timestamp_millis is None and not trace_ids:
        raise InvalidParameter("Either `max_timestamp_millis` or `trace_ids` must be specified.")
    if max_timestamp_millis is not None and trace_ids:
        raise InvalidParameter(
            "Only one of `max_timestamp_millis` and `trace_ids` can be specified."
        )
    if trace_ids and max_traces is not None:
        raise InvalidParameter("`max_traces` can't be specified if `trace_ids` is specified.")
    if max_traces is not None and (
        isinstance(max_traces, bool) or not isinstance(max_traces, int) or max_traces <= 0
    ):
        raise InvalidParameter(f"`max_traces` must be a positive integer, received {max_traces}.")
    if max_timestamp_millis is not None and (
        isinstance(max_timestamp_millis, bool) or not isinstance(max_timestamp_millis, int)
    ):
        raise InvalidParameter(
            f"`max_timestamp_millis` must be an integer, received {max_timestamp_millis!r}."
        )


__all__ = ["SqlTraceStore", "trace_artifact_location"]
