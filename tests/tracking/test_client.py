"""Client: the low-level API against a real SQLite store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wayline import Client
from wayline.entities import Metric, Param, RunTag, ViewType
from wayline.errors import AlreadyExists, InvalidParameter, NotFound


@pytest.fixture
def client(tmp_path: Path) -> Client:
    return Client(f"sqlite:///{tmp_path / 'client.db'}")


def test_experiment_lifecycle(client: Client) -> None:
    exp_id = client.create_experiment("e", tags={"k": 1})
    assert client.get_experiment(exp_id).tags == {"k": "1"}
    with pytest.raises(AlreadyExists):
        client.create_experiment("e")
    client.rename_experiment(exp_id, "e2")
    client.set_experiment_tag(exp_id, "k2", "v")
    client.delete_experiment_tag(exp_id, "k")
    assert client.get_experiment(exp_id).tags == {"k2": "v"}
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [e.experiment_id for e in deleted] == [exp_id]
    client.restore_experiment(exp_id)
    experiment = client.get_experiment_by_name("e2")
    assert experiment is not None and experiment.lifecycle_stage == "active"
    assert client.get_experiment_by_name("nope") is None


def test_create_run_adds_user_and_accepts_dict_tags(client: Client) -> None:
    run = client.create_run("0", tags={"team": "x"}, run_name="r")
    assert run.data.tags["team"] == "x" and run.data.tags["mlflow.runName"] == "r"
    assert run.data.tags["mlflow.user"] == run.info.user_id
    other = client.create_run("0", tags=[RunTag("mlflow.user", "ana")])
    assert other.info.user_id == "ana"


def test_run_updates_and_termination(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    client.set_terminated(run_id, status="FAILED")
    info = client.get_run(run_id).info
    assert info.status == "FAILED" and info.end_time is not None
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    with pytest.raises(NotFound):
        client.get_run("f" * 32)


def test_log_batch_splits_large_payloads(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    ts = int(time.time() * 1000)
    metrics = [Metric("loss", float(s), ts, s) for s in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(120)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    run = client.get_run(run_id)
    assert len(run.data.params) == 150 and len(run.data.tags) >= 120
    assert run.data.metrics["loss"] == 2499.0
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(2500))
    assert client.log_batch(run_id) is None


def test_single_value_calls(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    assert client.log_param(run_id, "lr", 0.1) == 0.1
    with pytest.raises(InvalidParameter):
        client.log_param(run_id, "lr", 0.2)
    client.log_metric(run_id, "m", 1, step=2, timestamp=5)
    client.set_tag(run_id, "t", 1)
    client.delete_tag(run_id, "t")
    data = client.get_run(run_id).data
    assert data.params == {"lr": "0.1"} and data.metrics == {"m": 1.0} and "t" not in data.tags


def test_async_calls_then_flush(client: Client) -> None:
    run_id = client.create_run("0").info.run_id
    ops = client.log_metric(run_id, "m", 1.0, synchronous=False)
    client.log_param(run_id, "p", "v", synchronous=False)
    client.set_tag(run_id, "t", "v", synchronous=False)
    client.log_batch(run_id, metrics=[Metric("b", 2.0, 1, 0)], synchronous=False)
    assert ops is not None
    ops.wait()
    data = client.get_run(run_id).data
    assert data.metrics == {"m": 1.0, "b": 2.0} and data.params == {"p": "v"}


def test_search_runs_pages_with_tokens(client: Client) -> None:
    exp_id = client.create_experiment("paged")
    for i in range(5):
        run_id = client.create_run(exp_id, run_name=f"r{i}").info.run_id
        client.log_metric(run_id, "acc", i / 10)
    seen: list[str] = []
    token = None
    while True:
        page = client.search_runs([exp_id], max_results=2, page_token=token)
        seen.extend(r.info.run_id for r in page)
        token = page.token
        if not token:
            break
    assert len(set(seen)) == 5
    best = client.search_runs(exp_id, "metrics.acc > 0.15", order_by=["metrics.acc DESC"])
    assert [r.data.metrics["acc"] for r in best] == [0.4, 0.3, 0.2]
