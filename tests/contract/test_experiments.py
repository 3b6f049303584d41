"""Experiments: the default one, create/get, names, rename, delete/restore, tags."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wayline.entities import ExperimentTag, Run
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.tracking import TrackingStore

from ._support import raises


def test_default_experiment_exists(store: TrackingStore, artifact_root: str) -> None:
    default = store.get_experiment("0")

    assert default.experiment_id == "0"
    assert default.name == "Default"
    assert default.lifecycle_stage == "active"
    assert default.artifact_location == f"{artifact_root}/0"
    assert store.get_experiment_by_name("Default") == default


def test_create_and_get(store: TrackingStore, artifact_root: str) -> None:
    experiment_id = store.create_experiment(
        "exp-a", tags=[ExperimentTag("team", "core"), ExperimentTag("k", "v")]
    )

    experiment = store.get_experiment(experiment_id)
    assert isinstance(experiment_id, str)
    assert experiment_id != "0"
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "exp-a"
    assert experiment.lifecycle_stage == "active"
    assert experiment.artifact_location == f"{artifact_root}/{experiment_id}"
    assert experiment.tags == {"team": "core", "k": "v"}
    assert isinstance(experiment.creation_time, int)
    assert experiment.creation_time > 1_600_000_000_000
    assert experiment.last_update_time is not None
    assert experiment.last_update_time >= experiment.creation_time
    assert store.get_experiment_by_name("exp-a") == experiment


def test_create_with_artifact_location(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a", artifact_location="s3://bucket/place")

    assert store.get_experiment(experiment_id).artifact_location == "s3://bucket/place"


def test_ids_are_distinct(store: TrackingStore) -> None:
    ids = [store.create_experiment(f"exp-{i}") for i in range(3)]

    assert len({*ids, "0"}) == 4


def test_get_unknown_experiment(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.get_experiment("999999")


def test_get_by_unknown_name_is_none(store: TrackingStore) -> None:
    store.create_experiment("exp-a")

    assert store.get_experiment_by_name("exp-b") is None
    assert store.get_experiment_by_name("EXP-A") is None  # names are case-sensitive


def test_get_deleted_experiment_by_id_and_name(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")
    store.delete_experiment(experiment_id)

    assert store.get_experiment(experiment_id).lifecycle_stage == "deleted"
    by_name = store.get_experiment_by_name("exp-a")
    assert by_name is not None
    assert by_name.experiment_id == experiment_id
    assert by_name.lifecycle_stage == "deleted"


def test_duplicate_name(store: TrackingStore) -> None:
    store.create_experiment("exp-a")

    with raises(AlreadyExists, "RESOURCE_ALREADY_EXISTS"):
        store.create_experiment("exp-a")


def test_duplicate_name_of_deleted_experiment(store: TrackingStore) -> None:
    store.delete_experiment(store.create_experiment("exp-a"))

    with raises(AlreadyExists, "RESOURCE_ALREADY_EXISTS"):
        store.create_experiment("exp-a")


def test_names_differing_in_case_are_distinct(store: TrackingStore) -> None:
    lower = store.create_experiment("exp-a")
    upper = store.create_experiment("EXP-A")

    assert lower != upper
    assert store.get_experiment(upper).name == "EXP-A"


@pytest.mark.parametrize("name", ["", "x" * 501])
def test_invalid_name(store: TrackingStore, name: str) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.create_experiment(name)

    assert store.get_experiment_by_name(name) is None


def test_name_of_500_chars_is_allowed(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("x" * 500)

    assert store.get_experiment(experiment_id).name == "x" * 500


def test_unicode_name_round_trips(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("expérience ✓ 実験")

    assert store.get_experiment(experiment_id).name == "expérience ✓ 実験"


def test_rename(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")

    store.rename_experiment(experiment_id, "exp-b")

    assert store.get_experiment(experiment_id).name == "exp-b"
    assert store.get_experiment_by_name("exp-a") is None
    renamed = store.get_experiment_by_name("exp-b")
    assert renamed is not None
    assert renamed.experiment_id == experiment_id


def test_rename_to_taken_name(store: TrackingStore) -> None:
    first = store.create_experiment("exp-a")
    store.create_experiment("exp-b")

    with raises(AlreadyExists, "RESOURCE_ALREADY_EXISTS"):
        store.rename_experiment(first, "exp-b")

    assert store.get_experiment(first).name == "exp-a"


def test_rename_unknown_experiment(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.rename_experiment("999999", "exp-b")


def test_rename_to_empty_name(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.rename_experiment(experiment_id, "")


def test_delete_soft_deletes_its_runs(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    experiment_id = store.create_experiment("exp-a")
    other_id = store.create_experiment("exp-b")
    runs = [make_run(experiment_id) for _ in range(2)]
    bystander = make_run(other_id)

    store.delete_experiment(experiment_id)

    assert store.get_experiment(experiment_id).lifecycle_stage == "deleted"
    for run in runs:
        assert store.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert store.get_run(bystander.info.run_id).info.lifecycle_stage == "active"
    assert store.get_experiment(other_id).lifecycle_stage == "active"


def test_restore_restores_its_runs(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    experiment_id = store.create_experiment("exp-a")
    run = make_run(experiment_id)
    store.delete_experiment(experiment_id)

    store.restore_experiment(experiment_id)

    assert store.get_experiment(experiment_id).lifecycle_stage == "active"
    assert store.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_delete_unknown_experiment(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.delete_experiment("999999")


def test_restore_unknown_experiment(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.restore_experiment("999999")


def test_delete_updates_last_update_time(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")
    before = store.get_experiment(experiment_id).last_update_time
    assert before is not None

    store.delete_experiment(experiment_id)

    after = store.get_experiment(experiment_id).last_update_time
    assert after is not None
    assert after >= before


def test_set_experiment_tag_inserts_and_overwrites(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a", tags=[ExperimentTag("a", "1")])

    store.set_experiment_tag(experiment_id, ExperimentTag("b", "2"))
    store.set_experiment_tag(experiment_id, ExperimentTag("a", "one"))

    assert store.get_experiment(experiment_id).tags == {"a": "one", "b": "2"}


def test_experiment_tag_value_of_20000_chars(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")

    store.set_experiment_tag(experiment_id, ExperimentTag("long", "v" * 20000))

    assert store.get_experiment(experiment_id).tags == {"long": "v" * 20000}


def test_delete_experiment_tag(store: TrackingStore) -> None:
    experiment_id = store.create_experiment(
        "exp-a", tags=[ExperimentTag("a", "1"), ExperimentTag("b", "2")]
    )

    store.delete_experiment_tag(experiment_id, "a")

    assert store.get_experiment(experiment_id).tags == {"b": "2"}


def test_delete_missing_experiment_tag(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")

    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.delete_experiment_tag(experiment_id, "nope")


def test_set_tag_on_unknown_experiment(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.set_experiment_tag("999999", ExperimentTag("a", "1"))


def test_set_tag_on_deleted_experiment(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("exp-a")
    store.delete_experiment(experiment_id)

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.set_experiment_tag(experiment_id, ExperimentTag("a", "1"))

    assert store.get_experiment(experiment_id).tags == {}


def test_experiment_tags_are_per_experiment(store: TrackingStore) -> None:
    first = store.create_experiment("exp-a", tags=[ExperimentTag("a", "1")])
    second = store.create_experiment("exp-b", tags=[ExperimentTag("a", "2")])

    store.delete_experiment_tag(first, "a")

    assert store.get_experiment(first).tags == {}
    assert store.get_experiment(second).tags == {"a": "2"}


def test_second_store_sees_writes(
    store: TrackingStore, make_store: Callable[[], TrackingStore]
) -> None:
    experiment_id = store.create_experiment("exp-a", tags=[ExperimentTag("a", "1")])

    other = make_store()

    assert other.get_experiment(experiment_id) == store.get_experiment(experiment_id)
    assert other.get_experiment("0").name == "Default"


def test_store_on_an_empty_database(
    sql_backend: str, make_database: Callable[[str], str], artifact_root: str
) -> None:
    from wayline.store.sql.store import SqlStore

    uri = make_database(sql_backend)
    first = SqlStore(uri, artifact_root)
    second = SqlStore(uri, artifact_root)  # the schema exists now: opened, not created again
    try:
        experiment_id = first.create_experiment("exp-a")
        assert second.get_experiment(experiment_id).name == "exp-a"
        assert {e.name for e in second.search_experiments()} == {"exp-a", "Default"}
        assert second.get_experiment("0").artifact_location == f"{artifact_root}/0"
    finally:
        first.close()
        second.close()
