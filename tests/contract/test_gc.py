"""Garbage collection of soft-deleted runs and experiments (SQL stores only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from wayline.entities import Dataset, DatasetInput, ExperimentTag, InputTag, Metric, Param, RunTag
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql import tables
from wayline.store.tracking import TrackingStore

from ._support import raises


def purge(store: TrackingStore, **kwargs: object) -> tuple[list[str], list[str]]:
    from wayline.store.sql.gc import purge_deleted

    run_ids, experiment_ids, _ = purge_deleted(store, **kwargs)  # type: ignore[arg-type]
    return sorted(run_ids), sorted(experiment_ids)


def _full_run(store: TrackingStore, experiment_id: str, name: str) -> str:
    run_id = store.create_run(experiment_id, start_time=1, run_name=name).info.run_id
    store.log_batch(
        run_id,
        metrics=[Metric("m", float(i), 1, i) for i in range(3)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "1")],
    )
    dataset = Dataset(name=f"ds-{name}", digest="d", source_type="local", source="{}")
    store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])])
    return run_id


def _rows_of_runs(uri: str, run_ids: Sequence[str]) -> dict[str, int]:
    """How many rows each run-keyed table still holds for these runs."""
    engine = create_engine(uri, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {
                table.name: conn.execute(
                    select(func.count()).select_from(table).where(table.c.run_id.in_(run_ids))
                ).scalar_one()
                for table in (
                    tables.runs,
                    tables.metric_history,
                    tables.latest_metrics,
                    tables.params,
                    tables.tags,
                    tables.run_inputs,
                    tables.input_tags,
                )
            }
    finally:
        engine.dispose()


@pytest.fixture
def db_uri(request: pytest.FixtureRequest, sql_backend: str) -> str:
    """The URI of the database ``sql_store`` works on (the same per-test database)."""
    uri: str = request.getfixturevalue(f"{sql_backend}_database")
    return uri


NOTHING_LEFT = dict.fromkeys(
    ["runs", "metric_history", "latest_metrics", "params", "tags", "run_inputs", "input_tags"], 0
)


def test_purges_deleted_runs_with_their_data(sql_store: TrackingStore, db_uri: str) -> None:
    experiment_id = sql_store.create_experiment("exp")
    doomed = _full_run(sql_store, experiment_id, "doomed")
    kept = _full_run(sql_store, experiment_id, "kept")
    sql_store.delete_run(doomed)

    assert purge(sql_store) == ([doomed], [])

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        sql_store.get_run(doomed)
    assert _rows_of_runs(db_uri, [doomed]) == NOTHING_LEFT
    assert sql_store.get_run(kept).data.params == {"p": "1"}
    assert len(sql_store.get_metric_history(kept, "m")) == 3
    assert len(sql_store.get_run(kept).inputs.dataset_inputs) == 1
    assert sql_store.get_experiment(experiment_id).lifecycle_stage == "active"


def test_purges_deleted_experiments_with_their_runs(sql_store: TrackingStore, db_uri: str) -> None:
    doomed_experiment = sql_store.create_experiment("doomed", tags=[ExperimentTag("a", "1")])
    runs = [_full_run(sql_store, doomed_experiment, f"r{i}") for i in range(2)]
    kept_experiment = sql_store.create_experiment("kept")
    kept_run = _full_run(sql_store, kept_experiment, "kept")
    sql_store.delete_experiment(doomed_experiment)

    assert purge(sql_store) == (sorted(runs), [doomed_experiment])

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        sql_store.get_experiment(doomed_experiment)
    assert sql_store.get_experiment_by_name("doomed") is None
    assert _rows_of_runs(db_uri, runs) == NOTHING_LEFT
    assert sql_store.get_run(kept_run).info.lifecycle_stage == "active"
    # The name is free again.
    assert sql_store.create_experiment("doomed") != doomed_experiment


def test_nothing_to_purge(sql_store: TrackingStore) -> None:
    experiment_id = sql_store.create_experiment("exp")
    run_id = _full_run(sql_store, experiment_id, "r")

    assert purge(sql_store) == ([], [])
    assert sql_store.get_run(run_id).data.metrics == {"m": 2.0}


def test_only_the_given_runs(sql_store: TrackingStore) -> None:
    experiment_id = sql_store.create_experiment("exp")
    first, second = (_full_run(sql_store, experiment_id, n) for n in ("a", "b"))
    sql_store.delete_run(first)
    sql_store.delete_run(second)

    assert purge(sql_store, run_ids=[first]) == ([first], [])
    assert sql_store.get_run(second).info.lifecycle_stage == "deleted"


def test_only_the_given_experiments(sql_store: TrackingStore) -> None:
    first, second = (sql_store.create_experiment(n) for n in ("a", "b"))
    run_id = _full_run(sql_store, first, "r")
    sql_store.delete_experiment(first)
    sql_store.delete_experiment(second)

    assert purge(sql_store, experiment_ids=[first]) == ([run_id], [first])
    assert sql_store.get_experiment(second).lifecycle_stage == "deleted"


def test_active_run_refused(sql_store: TrackingStore) -> None:
    experiment_id = sql_store.create_experiment("exp")
    active = _full_run(sql_store, experiment_id, "active")
    deleted = _full_run(sql_store, experiment_id, "deleted")
    sql_store.delete_run(deleted)

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        purge(sql_store, run_ids=[deleted, active])

    assert sql_store.get_run(active).info.lifecycle_stage == "active"
    assert sql_store.get_run(deleted).info.lifecycle_stage == "deleted"


def test_active_experiment_refused(sql_store: TrackingStore) -> None:
    experiment_id = sql_store.create_experiment("exp")
    run_id = _full_run(sql_store, experiment_id, "r")

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        purge(sql_store, experiment_ids=[experiment_id])

    assert sql_store.get_run(run_id).info.lifecycle_stage == "active"


def test_unknown_run_refused(sql_store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        purge(sql_store, run_ids=["0" * 32])


def test_older_than(sql_store: TrackingStore) -> None:
    experiment_id = sql_store.create_experiment("exp")
    run_id = _full_run(sql_store, experiment_id, "r")
    sql_store.delete_run(run_id)

    assert purge(sql_store, older_than_ms=3_600_000) == ([], [])
    assert sql_store.get_run(run_id).info.lifecycle_stage == "deleted"
    assert purge(sql_store, older_than_ms=0) == ([run_id], [])


def test_restored_run_is_not_purged(sql_store: TrackingStore) -> None:
    experiment_id = sql_store.create_experiment("exp")
    run_id = _full_run(sql_store, experiment_id, "r")
    sql_store.delete_run(run_id)
    sql_store.restore_run(run_id)

    assert purge(sql_store) == ([], [])
    assert sql_store.get_run(run_id).info.lifecycle_stage == "active"


def test_second_store_sees_the_purge(
    sql_store: TrackingStore, make_sql_store: Callable[[], TrackingStore]
) -> None:
    experiment_id = sql_store.create_experiment("exp")
    run_id = _full_run(sql_store, experiment_id, "r")
    sql_store.delete_run(run_id)
    purge(sql_store)

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        make_sql_store().get_run(run_id)
