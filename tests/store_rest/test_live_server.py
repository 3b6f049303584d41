"""Round trips through a real Wayline server: uvicorn on a free loopback port, SQLite behind it.

One server per module (starting one costs a second); each test makes its own experiment, so the
tests do not depend on each other's data.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import live_server
from wayline.entities import (
    Dataset,
    DatasetInput,
    ExperimentTag,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.server.app import create_app
from wayline.server.settings import ServerSettings
from wayline.store.rest import RestSettings, RestStore

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("rest-server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{root / 'wayline.db'}",
        default_artifact_root=str(root / "artifacts"),
    )
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture
def store(server_url: str) -> Iterator[RestStore]:
    rest = RestStore(server_url, RestSettings(max_retries=0, timeout=30.0))
    yield rest
    rest.close()


def _name() -> str:
    return f"exp-{uuid.uuid4().hex[:12]}"


def test_experiment_round_trip(store: RestStore) -> None:
    name = _name()
    experiment_id = store.create_experiment(name, tags=[ExperimentTag("team", "a")])
    experiment = store.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == (name, {"team": "a"})
    assert store.get_experiment_by_name(name) == experiment
    assert store.get_experiment_by_name(_name()) is None
    with pytest.raises(AlreadyExists):
        store.create_experiment(name)

    store.set_experiment_tag(experiment_id, ExperimentTag("stage", "dev"))
    store.delete_experiment_tag(experiment_id, "team")
    renamed = _name()
    store.rename_experiment(experiment_id, renamed)
    experiment = store.get_experiment(experiment_id)
    assert (experiment.name, experiment.tags) == (renamed, {"stage": "dev"})

    store.delete_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.DELETED
    deleted = store.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=None)
    assert experiment_id in [e.experiment_id for e in deleted]
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage == LifecycleStage.ACTIVE


def test_missing_entities_are_not_found(store: RestStore) -> None:
    with pytest.raises(NotFound):
        store.get_run(uuid.uuid4().hex)
    with pytest.raises(NotFound):
        store.get_experiment("987654321")


def test_run_round_trip(store: RestStore) -> None:
    experiment_id = store.create_experiment(_name())
    run = store.create_run(experiment_id, user_id="me", tags=[RunTag("k", "v")], run_name="r")
    run_id = run.info.run_id
    assert run.info.status == RunStatus.RUNNING and run.info.run_name == "r"

    store.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, timestamp=10, step=1), Metric("nan", math.nan, 11, 0)],
        params=[Param("lr", "0.1")],
        tags=[RunTag("t", "1")],
    )
    store.log_metric(run_id, Metric("loss", 0.25, timestamp=20, step=2))
    store.log_param(run_id, Param("epochs", "3"))
    store.set_tag(run_id, RunTag("gone", "x"))
    store.delete_tag(run_id, "gone")
    with pytest.raises(InvalidParameter):
        store.log_param(run_id, Param("lr", "0.2"))
    dataset = Dataset(name="d", digest="abc", source_type="local", source='{"uri": "x"}')
    store.log_inputs(run_id, [DatasetInput(dataset, [InputTag("mlflow.data.context", "train")])])

    fetched = store.get_run(run_id)
    assert fetched.data.params == {"lr": "0.1", "epochs": "3"}
    assert fetched.data.metrics["loss"] == 0.25
    assert math.isnan(fetched.data.metrics["nan"])
    assert fetched.data.tags["k"] == "v" and "gone" not in fetched.data.tags
    assert [d.dataset.name for d in fetched.inputs.dataset_inputs] == ["d"]

    info = store.update_run_info(run_id, RunStatus.FINISHED, end_time=99, run_name="renamed")
    assert (info.status, info.end_time, info.run_name) == (RunStatus.FINISHED, 99, "renamed")
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.ACTIVE


def test_search_runs_pages(store: RestStore) -> None:
    experiment_id = store.create_experiment(_name())
    run_ids = {
        store.create_run(experiment_id, start_time=1000 + i, run_name=f"r{i}").info.run_id
        for i in range(5)
    }
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = store.search_runs([experiment_id], max_results=2, page_token=token)
        seen.extend(run.info.run_id for run in page)
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3 and len(seen) == 5 and set(seen) == run_ids
    newest = store.search_runs([experiment_id], "attributes.run_name = 'r4'", max_results=10)
    assert [run.info.run_name for run in newest] == ["r4"]


def test_metric_history(store: RestStore) -> None:
    run_id = store.create_run(store.create_experiment(_name())).info.run_id
    points = [Metric("m", float(i), timestamp=i, step=i) for i in range(7)]
    store.log_batch(run_id, metrics=points)

    first = store.get_metric_history(run_id, "m", max_results=3)
    assert [m.step for m in first] == [0, 1, 2] and first.token
    second = store.get_metric_history(run_id, "m", max_results=3, page_token=first.token)
    assert [m.step for m in second] == [3, 4, 5]

    everything = store.get_metric_history(run_id, "m")
    assert [m.value for m in everything] == [float(i) for i in range(7)]
    assert everything.token is None
