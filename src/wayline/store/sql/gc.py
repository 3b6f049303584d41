"""Permanent removal of soft-deleted runs, experiments and logged models, and trace retention
(``wayline gc``, ``wayline gc --traces``).

Only what is already deleted can be purged; purging an experiment removes its traces too.
Children are deleted explicitly rather than through ``ON DELETE CASCADE`` so that the purge is
complete even where foreign keys are not enforced. Artifacts are not touched here: the caller
removes them, using the locations returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, select

from wayline.entities import LifecycleStage
from wayline.entities.trace import TraceTagKey
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql.base import chunks, now_ms
from wayline.store.sql.experiments import experiment_row
from wayline.store.sql.store import SqlStore
from wayline.store.sql.tables import (
    datasets,
    experiment_tags,
    experiments,
    input_tags,
    latest_metrics,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    metric_history,
    params,
    run_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
    tags,
    trace_info,
    trace_tags,
)
from wayline.store.sql.trace_rows import delete_trace_rows

DELETED = LifecycleStage.DELETED.value
_RUN_CHILDREN = (
    metric_history,
    latest_metrics,
    params,
    tags,
    input_tags,
    run_inputs,
    run_model_inputs,
    run_model_outputs,
)
_MODEL_CHILDREN = (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    run_model_inputs,
    run_model_outputs,
)


class Purged(NamedTuple):
    """What a purge removed, and the artifact locations that belonged to it."""

    run_ids: list[str]
    experiment_ids: list[str]
    artifact_uris: list[str]


def purge_deleted(
    store: SqlStore,
    older_than_ms: int | None = None,
    run_ids: Sequence[str] = (),
    experiment_ids: Sequence[str] = (),
) -> Purged:
    """Permanently remove deleted runs and experiments; return what was removed.

    With neither ``run_ids`` nor ``experiment_ids``, every deleted run and experiment is purged;
    ``older_than_ms`` keeps those deleted less than that many milliseconds ago (and makes naming
    a younger one an error). Purging an experiment removes all its runs. Naming a run or
    experiment that is not deleted raises InvalidParameter; nothing is removed then.

    Example::

        purged = purge_deleted(store, older_than_ms=30 * 24 * 3600 * 1000)
    """
    if older_than_ms is not None and older_than_ms < 0:
        raise InvalidParameter(f"older_than_ms must be non-negative, got {older_than_ms}.")
    threshold = None if older_than_ms is None else now_ms() - older_than_ms
    sweep = not run_ids and not experiment_ids
    with store._write() as conn:
        exp_keys = _experiments_to_purge(conn, experiment_ids, threshold, sweep)
        run_keys = _runs_to_purge(conn, run_ids, threshold, sweep)
        for chunk in chunks(exp_keys):
            query = select(runs.c.run_id).where(runs.c.experiment_id.in_(chunk))
            run_keys.extend(conn.execute(query).scalars())
        run_keys = sorted(set(run_keys))
        locations = _artifact_locations(conn, run_keys, exp_keys)
        _delete_runs(conn, run_keys)
        locations += _delete_logged_models(conn, exp_keys, threshold, sweep)
        _delete_experiments(conn, exp_keys)
    return Purged(run_keys, [str(key) for key in exp_keys], locations)


def _artifact_locations(
    conn: Connection, run_ids: Sequence[str], experiment_ids: Sequence[int]
) -> list[str]:
    found: list[str] = []
    for chunk in chunks(run_ids):
        query = select(runs.c.artifact_uri).where(runs.c.run_id.in_(chunk))
        found.extend(conn.execute(query).scalars())
    for key_chunk in chunks(experiment_ids):
        query = select(experiments.c.artifact_location).where(
            experiments.c.experiment_id.in_(key_chunk)
        )
        found.extend(conn.execute(query).scalars())
    return found


def _too_young(deleted_time: int | None, threshold: int | None) -> bool:
    return threshold is not None and (deleted_time or 0) > threshold


def _experiments_to_purge(
    conn: Connection, requested: Sequence[str], threshold: int | None, sweep: bool
) -> list[int]:
    if sweep:
        query = select(experiments.c.experiment_id).where(experiments.c.lifecycle_stage == DELETED)
        if threshold is not None:
            query = query.where(experiments.c.deleted_time <= threshold)
        return sorted(conn.execute(query).scalars())
    keys: list[int] = []
    for experiment_id in dict.fromkeys(requested):
        row = experiment_row(conn, experiment_id)
        if row.lifecycle_stage != DELETED:
            raise InvalidParameter(
                f"Experiment {experiment_id} is not deleted: only deleted experiments can be"
                " purged. Delete it first."
            )
        if _too_young(row.deleted_time, threshold):
            raise InvalidParameter(
                f"Experiment {experiment_id} was deleted less than the requested age ago."
            )
        keys.append(row.experiment_id)
    return sorted(keys)


def _runs_to_purge(
    conn: Connection, requested: Sequence[str], threshold: int | None, sweep: bool
) -> list[str]:
    if sweep:
        query = select(runs.c.run_id).where(runs.c.lifecycle_stage == DELETED)
        if threshold is not None:
            query = query.where(runs.c.deleted_time <= threshold)
        return list(conn.execute(query).scalars())
    wanted = list(dict.fromkeys(requested))
    found: dict[str, Any] = {}
    for chunk in chunks(wanted):
        query = select(runs.c.run_id, runs.c.lifecycle_stage, runs.c.deleted_time).where(
            runs.c.run_id.in_(chunk)
        )
        found.update((row.run_id, row) for row in conn.execute(query))
    for run_id in wanted:
        row = found.get(run_id)
        if row is None:
            raise NotFound(f"Run with id={run_id} not found")
        if row.lifecycle_stage != DELETED:
            raise InvalidParameter(
                f"Run {run_id} is not deleted: only deleted runs can be purged. Delete it first."
            )
        if _too_young(row.deleted_time, threshold):
            raise InvalidParameter(f"Run {run_id} was deleted less than the requested age ago.")
    return wanted


def _delete_runs(conn: Connection, run_ids: Sequence[str]) -> None:
    for chunk in chunks(run_ids):
        for table in _RUN_CHILDREN:
            conn.execute(delete(table).where(table.c.run_id.in_(chunk)))
        conn.execute(delete(runs).where(runs.c.run_id.in_(chunk)))


def _delete_logged_models(
    conn: Connection, experiment_ids: Sequence[int], threshold: int | None, sweep: bool
) -> list[str]:
    """Purge every logged model of purged experiments and, in a sweep, the deleted ones.

    Returns the artifact locations of the latter (the others lie inside their experiment's).
    """
    model_ids: list[str] = []
    for chunk in chunks(experiment_ids):
        query = select(logged_models.c.model_id).where(logged_models.c.experiment_id.in_(chunk))
        model_ids.extend(conn.execute(query).scalars())
    locations: list[str] = []
    if sweep:
        lm = logged_models.c
        query = select(lm.model_id, lm.artifact_location).where(lm.lifecycle_stage == DELETED)
        if threshold is not None:
            query = query.where(lm.deleted_time <= threshold)
        of_purged_experiments = set(model_ids)
        for model_id, location in conn.execute(query):
            if model_id not in of_purged_experiments:
                model_ids.append(model_id)
                locations.append(location)
    for model_chunk in chunks(sorted(model_ids)):
        for table in _MODEL_CHILDREN:
            conn.execute(delete(table).where(table.c.model_id.in_(model_chunk)))
        conn.execute(delete(logged_models).where(logged_models.c.model_id.in_(model_chunk)))
    return locations


def _delete_experiments(conn: Connection, experiment_ids: Sequence[int]) -> None:
    for chunk in chunks(experiment_ids):
        owned_traces = select(trace_info.c.trace_id).where(trace_info.c.experiment_id.in_(chunk))
        delete_trace_rows(conn, list(conn.execute(owned_traces).scalars()))
        owned = select(datasets.c.dataset_id).where(datasets.c.experiment_id.in_(chunk))
        conn.execute(delete(run_inputs).where(run_inputs.c.dataset_id.in_(owned)))
        conn.execute(delete(datasets).where(datasets.c.experiment_id.in_(chunk)))
        conn.execute(delete(experiment_tags).where(experiment_tags.c.experiment_id.in_(chunk)))
        conn.execute(delete(experiments).where(experiments.c.experiment_id.in_(chunk)))


# ---------------------------------------------------------------- trace retention
# Traces deleted per transaction: a retention sweep over millions of spans must not hold the
# database (SQLite's single writer above all) for minutes.
TRACE_PURGE_CHUNK = 500


class PurgedTraces(NamedTuple):
    """How many traces went, per experiment id, and their artifact locations."""

    deleted: dict[str, int]
    artifact_uris: list[str]

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def purge_traces(
    store: SqlStore,
    older_than_ms: int | None = None,
    keep_last: int | None = None,
    experiment_ids: Sequence[str] = (),
) -> PurgedTraces:
    """Delete traces (with spans, tags, metadata and assessments) by age or count.

    ``older_than_ms`` deletes the traces requested longer ago than that; ``keep_last`` keeps
    only the newest N traces of each experiment. With both, a trace goes when either says so.
    ``experiment_ids`` limits the sweep to those experiments (default: all, deleted ones too).
    Deletion runs in chunks of ``TRACE_PURGE_CHUNK`` traces, each its own transaction.

    Example::

        purged = purge_traces(store, older_than_ms=30 * 24 * 3600 * 1000)
        print(purged.total)
    """
    if older_than_ms is None and keep_last is None:
        raise InvalidParameter("Give older_than_ms, keep_last or both to purge traces.")
    if older_than_ms is not None and older_than_ms < 0:
        raise InvalidParameter(f"older_than_ms must be non-negative, got {older_than_ms}.")
    if keep_last is not None and (isinstance(keep_last, bool) or keep_last < 0):
        raise InvalidParameter(f"keep_last must be a non-negative integer, got {keep_last}.")
    threshold = None if older_than_ms is None else now_ms() - older_than_ms
    with store._read() as conn:
        if experiment_ids:
            keys = [experiment_row(conn, e).experiment_id for e in dict.fromkeys(experiment_ids)]
        else:
            keys = sorted(conn.execute(select(trace_info.c.experiment_id).distinct()).scalars())
        doomed = {key: _traces_to_purge(conn, key, threshold, keep_last) for key in keys}
    locations: list[str] = []
    for ids in doomed.values():
        for chunk in chunks(ids, TRACE_PURGE_CHUNK):
            with store._write() as conn:
                locations += _trace_locations(conn, chunk)
                delete_trace_rows(conn, chunk)
    return PurgedTraces({str(k): len(v) for k, v in doomed.items() if v}, locations)


def _traces_to_purge(
    conn: Connection, experiment_key: int, threshold: int | None, keep_last: int | None
) -> list[str]:
    ti = trace_info.c
    doomed: dict[str, None] = {}
    if threshold is not None:
        old = select(ti.trace_id).where(
            ti.experiment_id == experiment_key, ti.request_time < threshold
        )
        doomed.update(dict.fromkeys(conn.execute(old.order_by(ti.request_time)).scalars()))
    if keep_last is not None:
        beyond = (
            select(ti.trace_id)
            .where(ti.experiment_id == experiment_key)
            .order_by(ti.request_time.desc(), ti.trace_id.desc())
            .offset(keep_last)
        )
        doomed.update(dict.fromkeys(conn.execute(beyond).scalars()))
    return list(doomed)


def _trace_locations(conn: Connection, trace_ids: Sequence[str]) -> list[str]:
    tt = trace_tags.c
    query = select(tt.value).where(
        tt.trace_id.in_(trace_ids), tt.key == TraceTagKey.ARTIFACT_LOCATION
    )
    return list(conn.execute(query).scalars())


__all__ = ["PurgedTraces", "purge_deleted", "purge_traces"]
