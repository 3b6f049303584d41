"""Runs: create (name rules, artifact URI), get, update, delete/restore."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from wayline.entities import Metric, Param, Run, RunTag, ViewType
from wayline.errors import InvalidParameter, NotFound
from wayline.store.tracking import TrackingStore

from ._support import normalized, raises

RUN_NAME_TAG = "mlflow.runName"


def test_create_run(store: TrackingStore, make_experiment: Callable[..., str]) -> None:
    experiment_id = make_experiment(artifact_location="s3://bucket/exp")

    run = store.create_run(
        experiment_id,
        user_id="alice",
        start_time=1_700_000_000_123,
        tags=[RunTag("mlflow.source.type", "LOCAL"), RunTag("team", "core")],
        run_name="first",
    )

    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.run_uuid == info.run_id
    assert info.experiment_id == experiment_id
    assert info.run_name == "first"
    assert info.user_id == "alice"
    assert info.status == "RUNNING"
    assert info.start_time == 1_700_000_000_123
    assert info.end_time is None
    assert info.lifecycle_stage == "active"
    assert info.artifact_uri == f"s3://bucket/exp/{info.run_id}/artifacts"
    assert run.data.tags == {"mlflow.source.type": "LOCAL", "team": "core", RUN_NAME_TAG: "first"}
    assert run.data.params == {}
    assert run.data.metrics == {}
    assert run.inputs.dataset_inputs == []
    assert normalized(store.get_run(info.run_id)) == normalized(run)


def test_artifact_uri_under_default_location(
    store: TrackingStore, make_experiment: Callable[..., str], artifact_root: str
) -> None:
    experiment_id = make_experiment()

    run = store.create_run(experiment_id, start_time=1)

    expected = f"{artifact_root}/{experiment_id}/{run.info.run_id}/artifacts"
    assert run.info.artifact_uri == expected


def test_run_in_default_experiment(store: TrackingStore) -> None:
    run = store.create_run("0", user_id="u", start_time=5, run_name="in-default")

    assert store.get_run(run.info.run_id).info.experiment_id == "0"


def test_run_ids_are_unique(
    make_run: Callable[..., Run], make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()

    ids = {make_run(experiment_id).info.run_id for _ in range(5)}

    assert len(ids) == 5


def test_name_from_run_name_tag(store: TrackingStore, make_experiment: Callable[..., str]) -> None:
    run = store.create_run(make_experiment(), start_time=1, tags=[RunTag(RUN_NAME_TAG, "tagged")])

    assert run.info.run_name == "tagged"
    assert run.data.tags[RUN_NAME_TAG] == "tagged"


def test_run_name_and_equal_tag(store: TrackingStore, make_experiment: Callable[..., str]) -> None:
    run = store.create_run(
        make_experiment(), start_time=1, run_name="same", tags=[RunTag(RUN_NAME_TAG, "same")]
    )

    assert run.info.run_name == "same"
    assert run.data.tags == {RUN_NAME_TAG: "same"}


def test_run_name_and_different_tag(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.create_run(
            experiment_id, start_time=1, run_name="one", tags=[RunTag(RUN_NAME_TAG, "two")]
        )

    assert store.search_runs([experiment_id], run_view_type=ViewType.ALL) == []


def test_generated_name(store: TrackingStore, make_experiment: Callable[..., str]) -> None:
    experiment_id = make_experiment()

    first = store.create_run(experiment_id, start_time=1)
    second = store.create_run(experiment_id, start_time=1, run_name="")

    for run in (first, second):
        assert run.info.run_name
        assert run.data.tags[RUN_NAME_TAG] == run.info.run_name
        assert store.get_run(run.info.run_id).info.run_name == run.info.run_name


def test_create_run_in_deleted_experiment(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    store.delete_experiment(experiment_id)

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.create_run(experiment_id, start_time=1)


def test_create_run_in_unknown_experiment(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.create_run("999999", start_time=1)


@pytest.mark.parametrize("run_id", ["0" * 32, "not-a-run"])
def test_get_unknown_run(store: TrackingStore, run_id: str) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.get_run(run_id)


def test_update_status_and_end_time(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run = make_run(run_name="r")

    info = store.update_run_info(run.info.run_id, run_status="FINISHED", end_time=1_700_000_009_000)

    assert info.status == "FINISHED"
    assert info.end_time == 1_700_000_009_000
    assert info.run_name == "r"
    assert store.get_run(run.info.run_id).info == info


def test_update_only_status_keeps_end_time(
    store: TrackingStore, make_run: Callable[..., Run]
) -> None:
    run_id = make_run().info.run_id
    store.update_run_info(run_id, run_status="FAILED", end_time=42)

    info = store.update_run_info(run_id, run_status="KILLED")

    assert (info.status, info.end_time) == ("KILLED", 42)


def test_update_invalid_status(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run_id = make_run().info.run_id

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.update_run_info(run_id, run_status="DONE")

    assert store.get_run(run_id).info.status == "RUNNING"


def test_rename_run_updates_tag(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run_id = make_run(run_name="old").info.run_id

    info = store.update_run_info(run_id, run_name="new")

    assert info.run_name == "new"
    run = store.get_run(run_id)
    assert run.info.run_name == "new"
    assert run.data.tags[RUN_NAME_TAG] == "new"
    assert run.info.status == "RUNNING"


def test_run_name_tag_renames_run(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run_id = make_run(run_name="old").info.run_id

    store.set_tag(run_id, RunTag(RUN_NAME_TAG, "via-tag"))

    assert store.get_run(run_id).info.run_name == "via-tag"


def test_update_unknown_run(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.update_run_info("0" * 32, run_status="FINISHED", end_time=1)


def test_delete_and_restore_run(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run = make_run()
    run_id = run.info.run_id

    store.delete_run(run_id)
    deleted = store.get_run(run_id)
    store.restore_run(run_id)
    restored = store.get_run(run_id)

    assert deleted.info.lifecycle_stage == "deleted"
    assert restored.info.lifecycle_stage == "active"
    assert normalized(restored) == normalized(run)


def test_delete_unknown_run(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.delete_run("0" * 32)


def test_restore_unknown_run(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.restore_run("0" * 32)


def test_writes_to_deleted_run_refused(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run_id = make_run(run_name="r").info.run_id
    store.delete_run(run_id)
    before = normalized(store.get_run(run_id))
    writes: list[Callable[[], object]] = [
        lambda: store.log_metric(run_id, Metric("m", 1.0, 1, 0)),
        lambda: store.log_param(run_id, Param("p", "1")),
        lambda: store.set_tag(run_id, RunTag("t", "1")),
        lambda: store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)]),
        lambda: store.update_run_info(run_id, run_status="FINISHED", end_time=5),
    ]
    for write in writes:
        with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
            write()

    assert normalized(store.get_run(run_id)) == before


def test_writes_to_finished_run_allowed(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run_id = make_run().info.run_id
    store.update_run_info(run_id, run_status="FINISHED", end_time=10)

    store.log_metric(run_id, Metric("m", 2.5, 11, 3))
    store.log_param(run_id, Param("p", "v"))
    store.set_tag(run_id, RunTag("t", "x"))

    run = store.get_run(run_id)
    assert run.data.metrics == {"m": 2.5}
    assert run.data.params == {"p": "v"}
    assert run.data.tags["t"] == "x"
    assert run.info.status == "FINISHED"


def test_second_store_sees_run(
    store: TrackingStore, make_store: Callable[[], TrackingStore], make_run: Callable[..., Run]
) -> None:
    run_id = make_run(run_name="shared").info.run_id
    store.log_param(run_id, Param("p", "1"))

    assert normalized(make_store().get_run(run_id)) == normalized(store.get_run(run_id))


def _mlmodel(run_id: str, path: str) -> dict[str, object]:
    return {
        "run_id": run_id,
        "artifact_path": path,
        "utc_time_created": "2026-11-27 10:00:00.000000",
        "model_uuid": f"uuid-{path}",
        "signature": {"inputs": "[]"},
        "flavors": {"python_function": {"loader_module": "m", "config": {"big": 1}}},
    }


def test_record_logged_model_appends_to_the_history_tag(
    store: TrackingStore, make_run: Callable[..., Run]
) -> None:
    run_id = make_run().info.run_id

    store.record_logged_model(run_id, _mlmodel(run_id, "model"))
    store.record_logged_model(run_id, _mlmodel(run_id, "other"))

    history = json.loads(store.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [entry["artifact_path"] for entry in history] == ["model", "other"]
    # Only the summary is kept: no signature, no flavor config.
    assert history[0] == {
        "run_id": run_id,
        "artifact_path": "model",
        "utc_time_created": "2026-11-27 10:00:00.000000",
        "model_uuid": "uuid-model",
        "flavors": {"python_function": {"loader_module": "m"}},
    }


def test_record_logged_model_needs_an_active_run(
    store: TrackingStore, make_run: Callable[..., Run]
) -> None:
    run_id = make_run().info.run_id
    store.delete_run(run_id)

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.record_logged_model(run_id, _mlmodel(run_id, "model"))
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.record_logged_model("0" * 32, _mlmodel(run_id, "model"))
