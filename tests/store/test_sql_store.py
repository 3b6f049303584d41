"""SqlStore behaviour that depends on SQL dialect code, checked on every backend.

The cross-backend contract of the TrackingStore interface lives in tests/contract; these tests
cover what is specific to the SQL implementation: the latest-metric upsert per dialect, insert-or-
ignore, paging tokens, statement counts on hot paths, column sizes.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from wayline.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    Metric,
    Param,
    RunTag,
    ViewType,
)
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.sql.store import SqlStore

DOUBLE_MAX = 1.7976931348623157e308


def _run(store: SqlStore) -> str:
    return store.create_run(store.create_experiment("e"), start_time=0).info.run_id


def _latest(store: SqlStore, run_id: str, key: str) -> tuple[int, int, float]:
    (metric,) = [m for m in store.get_run(run_id).data.latest_metrics if m.key == key]
    return (metric.step, metric.timestamp, metric.value)


@contextmanager
def statements(store: SqlStore) -> Iterator[list[str]]:
    """Every SQL statement SQLite runs meanwhile, including those sent to the driver directly.

    The hot paths bypass SQLAlchemy's execution events, so this listens at the driver
    (sqlite3's trace callback): the statement-count tests run on SQLite, the embedded default.
    """
    seen: list[str] = []

    def record(sql: str) -> None:
        if sql.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1"):
            seen.append(sql)

    def checkout(dbapi_connection: Any, *_: object) -> None:
        dbapi_connection.set_trace_callback(record)

    def checkin(dbapi_connection: Any, *_: object) -> None:
        dbapi_connection.set_trace_callback(None)

    event.listen(store.engine, "checkout", checkout)
    event.listen(store.engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(store.engine, "checkout", checkout)
        event.remove(store.engine, "checkin", checkin)


@pytest.fixture
def sqlite_store(make_database: Callable[[str], str], tmp_path: Path) -> Iterator[SqlStore]:
    store = SqlStore(make_database("sqlite"), str(tmp_path / "artifacts"))
    yield store
    store.close()


def test_latest_metric_follows_step_then_timestamp_then_value(sql_store: SqlStore) -> None:
    run_id = _run(sql_store)

    def log(step: int, timestamp: int, value: float) -> tuple[int, int, float]:
        sql_store.log_metric(run_id, Metric("m", value, timestamp, step))
        return _latest(sql_store, run_id, "m")

    assert log(1, 10, 5.0) == (1, 10, 5.0)
    assert log(1, 10, 3.0) == (1, 10, 5.0)  # lower value, same step and time
    assert log(1, 10, math.nan) == (1, 10, 5.0)  # NaN ranks below every number
    assert log(0, 99, 9.0) == (1, 10, 5.0)  # lower step loses whatever its time
    step, timestamp, value = log(1, 11, math.nan)  # later time wins even with NaN
    assert (step, timestamp, math.isnan(value)) == (1, 11, True)
    assert log(1, 11, -1.0) == (1, 11, -1.0)  # a number beats NaN at the same point
    assert log(2, 0, math.inf) == (2, 0, DOUBLE_MAX)
    assert log(2, 0, -math.inf) == (2, 0, DOUBLE_MAX)


def test_latest_metrics_match_history_for_random_batches(sql_store: SqlStore) -> None:
    run_id = _run(sql_store)
    rng = random.Random(7)
    values = [0.0, 1.0, -1.0, 2.5, math.nan, math.inf]
    for _ in range(12):
        batch = [
            Metric(f"k{rng.randrange(3)}", rng.choice(values), rng.randrange(4), rng.randrange(4))
            for _ in range(rng.randrange(1, 15))
        ]
        sql_store.log_batch(run_id, metrics=batch)
    for key in ("k0", "k1", "k2"):
        history = sql_store.get_metric_history(run_id, key)
        if not history:
            continue
        best = max(history, key=Metric.sort_key)
        got = _latest(sql_store, run_id, key)
        assert (got[0], got[1]) == (best.step, best.timestamp)
        assert repr(got[2]) == repr(best.value)


def test_replayed_points_are_stored_once(sql_store: SqlStore) -> None:
    run_id = _run(sql_store)
    points = [Metric("m", 1.0, 5, 1), Metric("m", math.nan, 5, 1), Metric("m", 1.0, 5, 1)]
    sql_store.log_batch(run_id, metrics=points)
    sql_store.log_batch(run_id, metrics=points)
    sql_store.log_metric(run_id, Metric("m", 1.0, 5, 1))
    history = sql_store.get_metric_history(run_id, "m")
    assert len(history) == 2
    assert sum(math.isnan(m.value) for m in history) == 1


def test_history_pages(sql_store: SqlStore) -> None:
    run_id = _run(sql_store)
    points = [Metric("m", float(i % 7), 1000 - i, i // 3) for i in range(250)]
    sql_store.log_batch(run_id, metrics=points)
    everything = sql_store.get_metric_history(run_id, "m")
    assert everything.token is None
    assert [(m.step, m.timestamp) for m in everything] == sorted(
        (m.step, m.timestamp) for m in points
    )
    paged: list[Metric] = []
    token = None
    while True:
        page = sql_store.get_metric_history(run_id, "m", max_results=100, page_token=token)
        paged.extend(page)
        token = page.token
        if token is None:
            break
    assert paged == list(everything)
    last = sql_store.get_metric_history(run_id, "m", max_results=250)
    assert last.token is None
    for bad in (0, -1):
        with pytest.raises(InvalidParameter):
            sql_store.get_metric_history(run_id, "m", max_results=bad)
    with pytest.raises(InvalidParameter, match="page token"):
        sql_store.get_metric_history(run_id, "m", max_results=10, page_token="not-a-token")
    with pytest.raises(NotFound):
        sql_store.get_metric_history("f" * 32, "m")


def test_log_metric_is_three_statements(sqlite_store: SqlStore) -> None:
    run_id = _run(sqlite_store)
    with statements(sqlite_store) as seen:
        sqlite_store.log_metric(run_id, Metric("m", 1.0, 1, 1))
    assert len(seen) == 3, seen


def test_log_batch_statement_count_does_not_grow_with_size(sqlite_store: SqlStore) -> None:
    run_id = _run(sqlite_store)
    small = [Metric("m", 1.0, 0, 0)]
    large = [Metric(f"m{i % 50}", float(i), i, i) for i in range(996)]
    with statements(sqlite_store) as seen_small:
        sqlite_store.log_batch(
            run_id, metrics=small, params=[Param("p", "1")], tags=[RunTag("t", "")]
        )
    with statements(sqlite_store) as seen_large:
        sqlite_store.log_batch(
            run_id,
            metrics=large,
            params=[Param("q", "1"), Param("r", "2")],
            tags=[RunTag("t", "a"), RunTag("u", "b")],
        )
    # sqlite3 traces each row of an executemany, so compare the kinds of statement run: a
    # bigger batch runs the same prepared statements more often, never new ones per row.
    assert shapes(seen_large) == shapes(seen_small)


def shapes(seen: list[str]) -> set[str]:
    """Statements with their literal values blanked out."""
    return {re.sub(r"'[^']*'|\b\d+(\.\d+)?\b", "?", sql) for sql in seen}


def test_search_loads_a_page_with_a_fixed_number_of_queries(sqlite_store: SqlStore) -> None:
    experiment_id = sqlite_store.create_experiment("many")
    for i in range(30):
        run_id = sqlite_store.create_run(experiment_id, start_time=i).info.run_id
        sqlite_store.log_batch(
            run_id, metrics=[Metric("m", 1.0, 0, 0)], params=[Param("p", str(i))]
        )
        if i % 2:
            dataset = Dataset(f"d{i}", "dg", "local", "{}")
            sqlite_store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("k", "v")])])
    with statements(sqlite_store) as few:
        assert len(sqlite_store.search_runs([experiment_id], max_results=3)) == 3
    with statements(sqlite_store) as many:
        page = sqlite_store.search_runs([experiment_id], max_results=30)
    assert len(page) == 30 and page.token is None
    assert len(many) == len(few) <= 8, many
    assert sum(len(r.inputs.dataset_inputs) for r in page) == 15


def test_search_pages_and_rejects_bad_arguments(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("paged")
    created = {sql_store.create_run(experiment_id, start_time=i).info.run_id for i in range(7)}
    seen: list[str] = []
    token = None
    while True:
        page = sql_store.search_runs([experiment_id], max_results=3, page_token=token)
        seen += [r.info.run_id for r in page]
        token = page.token
        if token is None:
            break
    assert len(seen) == 7 and set(seen) == created
    assert sql_store.search_runs([experiment_id, "nope", "99999999999"]).token is None
    for bad in (0, 50001):
        with pytest.raises(InvalidParameter):
            sql_store.search_runs([experiment_id], max_results=bad)
    with pytest.raises(InvalidParameter):
        sql_store.search_runs([experiment_id], page_token="!!")


def test_param_conflict_rolls_back_the_whole_batch(sql_store: SqlStore) -> None:
    run_id = _run(sql_store)
    sql_store.log_param(run_id, Param("a", "1"))
    sql_store.log_batch(run_id, params=[Param("a", "1"), Param("b", "2")])  # same value: fine
    with pytest.raises(InvalidParameter, match="key='a' was already logged with value='1'"):
        sql_store.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 0, 0)],
            params=[Param("c", "3"), Param("a", "9")],
            tags=[RunTag("t", "x")],
        )
    run = sql_store.get_run(run_id)
    assert run.data.params == {"a": "1", "b": "2"}
    assert run.data.metrics == {}
    assert "t" not in run.data.tags


def test_run_name_tag_and_column_stay_in_step(sql_store: SqlStore) -> None:
    run_id = _run(sql_store)
    sql_store.set_tag(run_id, RunTag("mlflow.runName", "renamed"))
    assert sql_store.get_run(run_id).info.run_name == "renamed"
    sql_store.update_run_info(run_id, run_name="again")
    assert sql_store.get_run(run_id).data.tags["mlflow.runName"] == "again"
    with pytest.raises(InvalidParameter, match="Run name"):
        sql_store.set_tag(run_id, RunTag("mlflow.runName", "x" * 251))
    assert sql_store.get_run(run_id).info.run_name == "again"


def test_long_and_unicode_values_fit(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("ünïcode ✓")
    sql_store.set_experiment_tag(experiment_id, ExperimentTag("big", "é" * 20000))
    assert sql_store.get_experiment(experiment_id).tags["big"] == "é" * 20000
    run_id = sql_store.create_run(experiment_id).info.run_id
    sql_store.log_param(run_id, Param("p", "😀" * 6000))
    sql_store.set_tag(run_id, RunTag("t", "ß" * 8000))
    profile = "{" + "x" * 200_000 + "}"
    dataset = Dataset("d", "d" * 36, "local", "s" * 65535, schema="{}", profile=profile)
    sql_store.log_inputs(run_id, [DatasetInput(dataset)])
    run = sql_store.get_run(run_id)
    assert run.data.params["p"] == "😀" * 6000
    assert run.data.tags["t"] == "ß" * 8000
    assert run.inputs.dataset_inputs[0].dataset == dataset


def test_names_are_case_sensitive(sql_store: SqlStore) -> None:
    sql_store.create_experiment("Exp")
    sql_store.create_experiment("exp")
    assert sql_store.get_experiment_by_name("EXP") is None
    with pytest.raises(AlreadyExists):
        sql_store.create_experiment("exp")


@pytest.mark.parametrize("bad_id", ["abc", "-1", "1.5", "99999999999999999999", "", "٣"])
def test_unusable_experiment_ids_are_not_found(sql_store: SqlStore, bad_id: str) -> None:
    with pytest.raises(NotFound, match=f"No Experiment with id={bad_id} exists"):
        sql_store.get_experiment(bad_id)
    with pytest.raises(NotFound):
        sql_store.create_run(bad_id)


def test_restore_brings_back_only_runs_deleted_with_the_experiment(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("e")
    alone = sql_store.create_run(experiment_id).info.run_id
    together = sql_store.create_run(experiment_id).info.run_id
    sql_store.delete_run(alone)
    sql_store.delete_experiment(experiment_id)
    assert sql_store.get_run(together).info.lifecycle_stage == "deleted"
    with pytest.raises(NotFound):
        sql_store.delete_experiment(experiment_id)
    sql_store.restore_experiment(experiment_id)
    assert sql_store.get_run(together).info.lifecycle_stage == "active"
    assert sql_store.get_run(alone).info.lifecycle_stage == "deleted"
    with pytest.raises(NotFound):
        sql_store.restore_experiment(experiment_id)


def test_inputs_are_deduplicated_per_experiment(sql_store: SqlStore) -> None:
    experiment_id = sql_store.create_experiment("e")
    first = sql_store.create_run(experiment_id).info.run_id
    second = sql_store.create_run(experiment_id).info.run_id
    dataset = Dataset("train", "abc", "local", '{"uri": "x"}')
    item = DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])
    sql_store.log_inputs(first, [item, item])
    sql_store.log_inputs(first, [item])
    sql_store.log_inputs(second, [DatasetInput(dataset)])
    assert sql_store.get_run(first).inputs.dataset_inputs == [item]
    assert sql_store.get_run(second).inputs.dataset_inputs == [DatasetInput(dataset)]
    with sql_store._read() as conn:
        count = conn.exec_driver_sql("SELECT COUNT(*) FROM datasets").scalar()
    assert count == 1


def test_search_experiments_pages(sql_store: SqlStore) -> None:
    for i in range(5):
        sql_store.create_experiment(f"e{i}")
    first = sql_store.search_experiments(max_results=4)
    assert len(first) == 4 and first.token
    rest = sql_store.search_experiments(max_results=4, page_token=first.token)
    assert len(rest) == 2 and rest.token is None
    deleted = sql_store.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert list(deleted) == []
