"""Trace retention (``purge_traces``) and purging experiments with traces (SQL stores only)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from wayline.errors import InvalidParameter, NotFound
from wayline.store.backend import Store
from wayline.store.sql import tables

from ._support import raises
from ._trace_support import feedback, make_info, make_span, new_trace_id, traces

DAY_MS = 24 * 3600 * 1000
TRACE_TABLES = (
    tables.trace_info,
    tables.trace_tags,
    tables.trace_request_metadata,
    tables.trace_runs,
    tables.trace_spans,
    tables.assessments,
)


def _purge(store: Store, **kwargs: object) -> dict[str, int]:
    from wayline.store.sql.gc import purge_traces

    return purge_traces(store, **kwargs).deleted  # type: ignore[arg-type]


def _traces_aged(store: Store, experiment_id: str, ages_days: list[float]) -> list[str]:
    now = time.time_ns() // 1_000_000
    ids = []
    for age in ages_days:
        trace_id = new_trace_id()
        traces(store).start_trace(
            make_info(trace_id, experiment_id, request_time_ms=now - int(age * DAY_MS))
        )
        ids.append(trace_id)
    return ids


def _left(store: Store, experiment_id: str) -> set[str]:
    return {t.trace_id for t in traces(store).search_traces([experiment_id], max_results=500)}


@pytest.fixture
def db_uri(request: pytest.FixtureRequest, sql_backend: str) -> str:
    uri: str = request.getfixturevalue(f"{sql_backend}_database")
    return uri


def _rows(uri: str, trace_ids: list[str]) -> dict[str, int]:
    engine = create_engine(uri, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                table.name: conn.execute(
                    select(func.count()).select_from(table).where(table.c.trace_id.in_(trace_ids))
                ).scalar_one()
                for table in TRACE_TABLES
            }
    finally:
        engine.dispose()


def test_purge_by_age_in_every_experiment(sql_store: Store) -> None:
    first = sql_store.create_experiment("first")
    second = sql_store.create_experiment("second")
    _, new_a = _traces_aged(sql_store, first, [40, 1])
    _, new_b = _traces_aged(sql_store, second, [31, 29])

    deleted = _purge(sql_store, older_than_ms=30 * DAY_MS)

    assert deleted == {first: 1, second: 1}
    assert _left(sql_store, first) == {new_a}
    assert _left(sql_store, second) == {new_b}


def test_keep_last_per_experiment_and_both_rules_together(sql_store: Store) -> None:
    first = sql_store.create_experiment("first")
    second = sql_store.create_experiment("second")
    a = _traces_aged(sql_store, first, [5, 4, 3, 2, 1])
    b = _traces_aged(sql_store, second, [50, 1])

    assert _purge(sql_store, keep_last=3) == {first: 2}
    assert _left(sql_store, first) == set(a[2:])
    assert _left(sql_store, second) == set(b)

    # A trace goes when either rule says so: too old, or beyond the newest N.
    assert _purge(sql_store, keep_last=2, older_than_ms=30 * DAY_MS) == {first: 1, second: 1}
    assert _left(sql_store, first) == set(a[3:])
    assert _left(sql_store, second) == {b[1]}


def test_purge_only_the_experiments_named(sql_store: Store) -> None:
    first = sql_store.create_experiment("first")
    second = sql_store.create_experiment("second")
    _traces_aged(sql_store, first, [40])
    [kept] = _traces_aged(sql_store, second, [40])

    assert _purge(sql_store, older_than_ms=DAY_MS, experiment_ids=[first]) == {first: 1}
    assert _left(sql_store, second) == {kept}
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        _purge(sql_store, older_than_ms=DAY_MS, experiment_ids=["987654"])


def test_purge_removes_spans_and_assessments_and_reports_locations(
    sql_store: Store, db_uri: str
) -> None:
    from wayline.store.sql.gc import purge_traces

    experiment_id = sql_store.create_experiment("deep")
    [trace_id] = _traces_aged(sql_store, experiment_id, [10])
    ts = traces(sql_store)
    ts.log_spans(experiment_id, [make_span(trace_id, 1), make_span(trace_id, 2, 1)])
    ts.create_assessment(feedback(trace_id, "q", "ok"))
    ts.link_traces_to_run([trace_id], sql_store.create_run(experiment_id).info.run_id)
    location = ts.get_trace_info(trace_id).tags["mlflow.artifactLocation"]

    purged = purge_traces(sql_store, keep_last=0)  # type: ignore[arg-type]

    assert (purged.total, purged.artifact_uris) == (1, [location])
    assert set(_rows(db_uri, [trace_id]).values()) == {0}


def test_purging_a_deleted_experiment_removes_its_traces(sql_store: Store, db_uri: str) -> None:
    from wayline.store.sql.gc import purge_deleted

    experiment_id = sql_store.create_experiment("doomed")
    [trace_id] = _traces_aged(sql_store, experiment_id, [0])
    traces(sql_store).log_spans(experiment_id, [make_span(trace_id, 1)])
    traces(sql_store).create_assessment(feedback(trace_id, "q", "ok"))
    sql_store.delete_experiment(experiment_id)

    purge_deleted(sql_store, experiment_ids=[experiment_id])  # type: ignore[arg-type]

    assert set(_rows(db_uri, [trace_id]).values()) == {0}


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"older_than_ms": -1}, {"keep_last": -1}],
    ids=["nothing", "negative-age", "negative-count"],
)
def test_purge_traces_refuses_bad_arguments(sql_store: Store, kwargs: dict[str, int]) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        _purge(sql_store, **kwargs)
