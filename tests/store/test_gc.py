from __future__ import annotations

import pytest

from wayline.entities import Dataset, DatasetInput, ExperimentTag, InputTag, Metric, Param, RunTag
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql.gc import purge_deleted
from wayline.store.sql.store import SqlStore

RUN_TABLES = ("metric_history", "latest_metrics", "params", "tags", "run_inputs", "input_tags")


def _full_run(store: SqlStore, experiment_id: str) -> str:
    run_id = store.create_run(experiment_id).info.run_id
    store.log_batch(
        run_id, metrics=[Metric("m", 1.0, 0, 0)], params=[Param("p", "v")], tags=[RunTag("t", "v")]
    )
    dataset = Dataset("d", "digest", "local", "{}")
    store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])
    return run_id


def _rows(store: SqlStore, table: str, column: str, value: object) -> int:
    with store._read() as conn:
        sql = f"SELECT COUNT(*) FROM {table} WHERE {column} = {value!r}"
        return int(conn.exec_driver_sql(sql).scalar() or 0)


def test_purges_deleted_runs_and_every_row_of_them(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("e")
    doomed, kept = _full_run(sql_store, experiment_id), _full_run(sql_store, experiment_id)
    sql_store.delete_run(doomed)
    assert purge_deleted(sql_store)[:2] == ([doomed], [])
    with pytest.raises(NotFound):
        sql_store.get_run(doomed)
    for table in RUN_TABLES:
        assert _rows(sql_store, table, "run_id", doomed) == 0, table
        assert _rows(sql_store, table, "run_id", kept) >= 1, table
    assert sql_store.get_run(kept).inputs.dataset_inputs


def test_purging_an_experiment_removes_its_runs_datasets_and_tags(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("e", tags=[ExperimentTag("k", "v")])
    run_ids = sorted(_full_run(sql_store, experiment_id) for _ in range(2))
    sql_store.delete_experiment(experiment_id)
    assert purge_deleted(sql_store, experiment_ids=[experiment_id])[:2] == (
        run_ids,
        [experiment_id],
    )
    with pytest.raises(NotFound):
        sql_store.get_experiment(experiment_id)
    key = int(experiment_id)
    for table in ("datasets", "experiment_tags", "runs"):
        assert _rows(sql_store, table, "experiment_id", key) == 0, table
    # The name is free again, and the id is not reused.
    assert int(sql_store.create_experiment("e")) > key


def test_refuses_what_is_not_deleted(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("e")
    run_id = sql_store.create_run(experiment_id).info.run_id
    other = sql_store.create_run(experiment_id).info.run_id
    sql_store.delete_run(other)
    with pytest.raises(InvalidParameter, match="not deleted"):
        purge_deleted(sql_store, run_ids=[other, run_id])
    with pytest.raises(InvalidParameter, match="not deleted"):
        purge_deleted(sql_store, experiment_ids=[experiment_id])
    assert sql_store.get_run(other).info.lifecycle_stage == "deleted"  # nothing was removed
    with pytest.raises(NotFound):
        purge_deleted(sql_store, run_ids=["0" * 32])


def test_older_than_keeps_recent_deletions(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("e")
    run_id = sql_store.create_run(experiment_id).info.run_id
    sql_store.delete_run(run_id)
    hour = 3600 * 1000
    assert purge_deleted(sql_store, older_than_ms=hour)[:2] == ([], [])
    with pytest.raises(InvalidParameter, match="less than the requested age"):
        purge_deleted(sql_store, older_than_ms=hour, run_ids=[run_id])
    assert purge_deleted(sql_store, older_than_ms=0)[:2] == ([run_id], [])
