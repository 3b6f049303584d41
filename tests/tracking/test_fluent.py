"""The fluent API in this process: run stack, experiments, search, datasets."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

import wayline
from wayline.entities import Dataset, RunStatus
from wayline.errors import InvalidParameter, InvalidState, NotFound


def test_nested_runs_and_parent_tag(fluent_db: str) -> None:
    with wayline.start_run(run_name="outer") as outer:
        with wayline.start_run(run_name="inner", nested=True) as inner:
            assert wayline.active_run() is inner
        assert wayline.active_run() is outer
    assert wayline.active_run() is None
    got = wayline.get_run(inner.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == outer.info.run_id
    assert got.info.status == RunStatus.FINISHED


def test_second_top_level_run_is_refused(fluent_db: str) -> None:
    with wayline.start_run(), pytest.raises(InvalidState, match="nested=True"):
        wayline.start_run()


def test_explicit_parent_must_be_the_active_run(fluent_db: str) -> None:
    with wayline.start_run() as outer:
        with wayline.start_run(nested=True, parent_run_id=outer.info.run_id) as child:
            tags = wayline.get_run(child.info.run_id).data.tags
            assert tags["mlflow.parentRunId"] == outer.info.run_id
        with pytest.raises(InvalidParameter, match="parent"):
            wayline.start_run(nested=True, parent_run_id="0" * 32)


def test_exception_marks_failed_and_end_run_status(fluent_db: str) -> None:
    with pytest.raises(ZeroDivisionError), wayline.start_run() as run:
        _ = 1 / 0
    assert wayline.get_run(run.info.run_id).info.status == "FAILED"
    started = wayline.start_run()
    wayline.end_run("KILLED")
    assert wayline.get_run(started.info.run_id).info.status == "KILLED"
    last = wayline.last_active_run()
    assert last is not None and last.info.run_id == started.info.run_id
    wayline.end_run()  # no active run: nothing happens


def test_logging_without_a_run_starts_one(fluent_db: str) -> None:
    wayline.log_metric("m", 1.5)
    run = wayline.active_run()
    assert run is not None
    wayline.log_params({"a": 1})
    wayline.set_tags({"t": "x"})
    wayline.delete_tag("t")
    wayline.end_run()
    data = wayline.get_run(run.info.run_id).data
    assert data.metrics == {"m": 1.5} and data.params == {"a": "1"} and "t" not in data.tags


def test_metric_values_are_coerced_and_invalid_ones_refused(fluent_db: str) -> None:
    import numpy as np

    with wayline.start_run() as run:
        wayline.log_metric("np", np.float32(0.5))
        wayline.log_metric("int", 3)
        with pytest.raises(InvalidParameter):
            wayline.log_metric("bad", "text")
        with pytest.raises(InvalidParameter):
            wayline.log_metric("flag", True)
    assert wayline.get_run(run.info.run_id).data.metrics == {"np": 0.5, "int": 3.0}


def test_each_thread_has_its_own_run(fluent_db: str) -> None:
    seen: dict[str, str] = {}

    def work(name: str) -> None:
        with wayline.start_run(run_name=name) as run:
            wayline.log_metric("x", 1.0)
            seen[name] = run.info.run_id

    with wayline.start_run() as main_run:
        threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert wayline.active_run() is main_run
    assert len(set(seen.values())) == 3


def test_set_experiment_by_name_and_id(fluent_db: str) -> None:
    experiment = wayline.set_experiment("first")
    assert wayline.set_experiment(experiment_id=experiment.experiment_id).name == "first"
    with wayline.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    with pytest.raises(InvalidParameter):
        wayline.set_experiment()
    with pytest.raises(NotFound):
        wayline.set_experiment(experiment_id="424242")
    wayline.delete_experiment(experiment.experiment_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        wayline.set_experiment("first")


def test_search_experiments_pages_through_everything(fluent_db: str) -> None:
    for i in range(7):
        wayline.create_experiment(f"exp-{i}", tags={"n": i})
    names = {e.name for e in wayline.search_experiments()}
    assert {f"exp-{i}" for i in range(7)} <= names and "Default" in names
    assert len(wayline.search_experiments(max_results=3)) == 3
    found = wayline.search_experiments(filter_string="tags.n = '3'")
    assert [e.name for e in found] == ["exp-3"]
    exp = wayline.get_experiment_by_name("exp-3")
    assert exp is not None and wayline.get_experiment(exp.experiment_id).tags == {"n": "3"}


def test_search_runs_by_names_all_experiments_and_list(fluent_db: str) -> None:
    a = wayline.create_experiment("a")
    b = wayline.create_experiment("b")
    for exp_id in (a, a, b):
        with wayline.start_run(experiment_id=exp_id):
            wayline.log_metric("acc", 0.5)
    assert len(wayline.search_runs(experiment_names=["a", "missing"])) == 2
    assert len(wayline.search_runs(search_all_experiments=True)) == 3
    assert len(wayline.search_runs([a, b], max_results=2, output_format="list")) == 2
    df = wayline.search_runs([b])
    assert isinstance(df, pd.DataFrame) and df.shape[0] == 1
    assert len(wayline.search_runs()) == 0  # the active experiment is Default, empty here
    with pytest.raises(InvalidParameter):
        wayline.search_runs([a], output_format="csv")  # type: ignore[arg-type]


def test_log_input_with_a_pandas_dataset(fluent_db: str) -> None:
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3], "label": ["a", "b", "c"]})
    dataset = wayline.data.from_pandas(df, source="s3://bucket/train.csv", name="train")
    assert isinstance(dataset, Dataset) and len(dataset.digest) == 8
    assert dataset.source_type == "s3"
    assert wayline.data.from_pandas(df).digest == dataset.digest  # content, not name
    with wayline.start_run() as run:
        wayline.log_input(dataset, context="training", tags={"split": "a"})
        wayline.log_input(dataset, context="training")
        with pytest.raises(InvalidParameter):
            wayline.log_input(object())
    inputs = wayline.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) >= 1
    assert inputs[0].dataset.name == "train"
    assert '"num_rows": 3' in (inputs[0].dataset.profile or "")
    assert any(t.key == "mlflow.data.context" and t.value == "training" for t in inputs[0].tags)


def test_async_through_fluent_is_flushed_by_end_run(fluent_db: str) -> None:
    with wayline.start_run() as run:
        ops = wayline.log_metrics({"a": 1.0, "b": 2.0}, step=1, synchronous=False)
        assert ops is not None
        wayline.log_params({"p": "v"}, synchronous=False)
        wayline.set_tags({"t": "v"}, synchronous=False)
    data = wayline.get_run(run.info.run_id).data
    assert data.metrics == {"a": 1.0, "b": 2.0}
    assert data.params == {"p": "v"} and data.tags["t"] == "v"


def test_async_failure_raised_at_end_run_still_ends_the_run(fluent_db: str) -> None:
    run = wayline.start_run()
    wayline.log_metric("bad//key", 1.0, synchronous=False)
    with pytest.raises(InvalidParameter):
        wayline.end_run()
    assert wayline.active_run() is None
    assert wayline.get_run(run.info.run_id).info.status == "FINISHED"
