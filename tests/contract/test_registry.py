"""The model registry: registered models, versions, stages, aliases, tags and version sources."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from wayline.artifacts.fsspec_repo import local_root
from wayline.entities import LoggedModelTag, Run
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModelTag,
)
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.backend import Store

from ._support import StoreFactory, raises

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
INVALID = "INVALID_PARAMETER_VALUE"
EXISTS = "RESOURCE_ALREADY_EXISTS"
S3 = "s3://bucket/models/m"


def _versions(store: Store, name: str) -> list[str]:
    found = store.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    return [v.version for v in found]


# ---------------------------------------------------------------- registered models
def test_create_and_get_registered_model(store: Store) -> None:
    created = store.create_registered_model(
        "fraud", [RegisteredModelTag("team", "risk"), RegisteredModelTag("a", "1")], "detects"
    )

    assert (created.name, created.description) == ("fraud", "detects")
    assert created.tags == {"a": "1", "team": "risk"}
    assert created.creation_timestamp == created.last_updated_timestamp > 0
    assert (created.latest_versions, created.aliases) == ([], {})
    assert store.get_registered_model("fraud") == created


def test_registered_model_names_and_missing_models(store: Store) -> None:
    store.create_registered_model("m")

    with raises(AlreadyExists, EXISTS):
        store.create_registered_model("m")
    with pytest.raises(AlreadyExists, match=r"^Registered Model \(name=m\) already exists\.$"):
        store.create_registered_model("m")
    with pytest.raises(NotFound, match=r"^Registered Model with name=nope not found$"):
        store.get_registered_model("nope")
    for bad in ("", "  ", "a/b", "a:b", "x..y"):
        with raises(InvalidParameter, INVALID):
            store.create_registered_model(bad)
    # Names are case-sensitive on every backend.
    store.create_registered_model("M")
    assert store.get_registered_model("M").name == "M"


def test_a_prompt_and_a_model_cannot_share_a_name(store: Store) -> None:
    store.create_registered_model("qa", [RegisteredModelTag(PROMPT_TAG, "true")])

    with pytest.raises(AlreadyExists, match="already taken by a prompt"):
        store.create_registered_model("qa")
    with pytest.raises(AlreadyExists, match=r"^Prompt \(name=qa\) already exists\.$"):
        store.create_registered_model("qa", [RegisteredModelTag(PROMPT_TAG, "true")])


def test_update_registered_model(store: Store) -> None:
    created = store.create_registered_model("m", description="old")

    updated = store.update_registered_model("m", "new")

    assert updated.description == "new"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    assert store.update_registered_model("m", None).description == ""
    with raises(NotFound, NOT_FOUND):
        store.update_registered_model("nope", "x")


def test_rename_moves_versions_tags_and_aliases(store: Store) -> None:
    store.create_registered_model("old", [RegisteredModelTag("k", "v")])
    store.create_model_version("old", S3, tags=[ModelVersionTag("vt", "1")])
    store.create_model_version("old", S3)
    store.set_registered_model_alias("old", "champion", "2")

    renamed = store.rename_registered_model("old", "new")

    assert (renamed.name, renamed.tags, renamed.aliases) == ("new", {"k": "v"}, {"champion": "2"})
    assert _versions(store, "new") == ["1", "2"]
    assert store.get_model_version("new", "1").tags == {"vt": "1"}
    assert store.get_model_version_by_alias("new", "champion").version == "2"
    with raises(NotFound, NOT_FOUND):
        store.get_registered_model("old")
    # Numbering continues after the rename.
    assert store.create_model_version("new", S3).version == "3"
    store.create_registered_model("taken")
    with pytest.raises(AlreadyExists, match=r"Registered Model \(name=taken\) already exists"):
        store.rename_registered_model("new", "taken")
    with raises(InvalidParameter, INVALID):
        store.rename_registered_model("new", "")
    with raises(NotFound, NOT_FOUND):
        store.rename_registered_model("nope", "other")


def test_delete_registered_model_cascades(store: Store) -> None:
    store.create_registered_model("m", [RegisteredModelTag("k", "v")])
    store.create_model_version("m", S3, tags=[ModelVersionTag("vt", "1")])
    store.set_registered_model_alias("m", "a", 1)

    store.delete_registered_model("m")

    with raises(NotFound, NOT_FOUND):
        store.get_registered_model("m")
    with raises(NotFound, NOT_FOUND):
        store.get_model_version("m", 1)
    assert store.search_model_versions("name = 'm'") == []
    with raises(NotFound, NOT_FOUND):
        store.delete_registered_model("m")
    # A new model of that name starts afresh.
    store.create_registered_model("m")
    assert store.get_registered_model("m").tags == {}
    assert store.create_model_version("m", S3).version == "1"


def test_registered_model_tags(store: Store) -> None:
    store.create_registered_model("m")

    store.set_registered_model_tag("m", RegisteredModelTag("k", "v1"))
    store.set_registered_model_tag("m", RegisteredModelTag("k", "v2"))
    store.set_registered_model_tag("m", RegisteredModelTag("long", "x" * 100_000))
    assert store.get_registered_model("m").tags == {"k": "v2", "long": "x" * 100_000}

    store.delete_registered_model_tag("m", "k")
    store.delete_registered_model_tag("m", "never-set")  # no error, as MLflow
    assert list(store.get_registered_model("m").tags) == ["long"]
    with raises(InvalidParameter, INVALID):
        store.set_registered_model_tag("m", RegisteredModelTag("k", "x" * 100_001))
    with raises(InvalidParameter, INVALID):
        store.set_registered_model_tag("m", RegisteredModelTag("../k", "v"))
    with raises(NotFound, NOT_FOUND):
        store.set_registered_model_tag("nope", RegisteredModelTag("k", "v"))


# ---------------------------------------------------------------- versions
def test_create_and_get_model_version(store: Store) -> None:
    store.create_registered_model("m")

    created = store.create_model_version(
        "m",
        S3,
        tags=[ModelVersionTag("b", "2"), ModelVersionTag("a", "1")],
        run_link="http://example.com/run",
        description="first",
    )

    assert (created.name, created.version, created.source) == ("m", "1", S3)
    assert (created.current_stage, created.status) == ("None", ModelVersionStatus.READY)
    assert (created.description, created.run_link, created.run_id) == (
        "first",
        "http://example.com/run",
        "",
    )
    assert created.tags == {"a": "1", "b": "2"}
    assert created.creation_timestamp == created.last_updated_timestamp > 0
    assert store.get_model_version("m", "1") == created
    assert store.get_model_version("m", 1) == created
    model = store.get_registered_model("m")
    assert model.last_updated_timestamp >= created.creation_timestamp
    assert [v.version for v in model.latest_versions] == ["1"]


def test_missing_versions_and_bad_version_numbers(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)

    with pytest.raises(NotFound, match=r"^Model Version \(name=m, version=9\) not found$"):
        store.get_model_version("m", "9")
    with pytest.raises(
        InvalidParameter, match=r"^Parameter 'version' must be an integer, got 'abc'\.$"
    ):
        store.get_model_version("m", "abc")
    with raises(NotFound, NOT_FOUND):
        store.get_model_version("m", "0")
    with raises(NotFound, NOT_FOUND):
        store.create_model_version("nope", S3)
    with raises(InvalidParameter, INVALID):
        store.create_model_version("m", "")


def test_version_numbers_are_never_reused(store: Store) -> None:
    store.create_registered_model("m")
    for _ in range(3):
        store.create_model_version("m", S3)

    store.delete_model_version("m", "3")
    assert store.create_model_version("m", S3).version == "4"
    store.delete_model_version("m", "2")
    assert store.create_model_version("m", S3).version == "5"
    assert _versions(store, "m") == ["1", "4", "5"]
    with raises(NotFound, NOT_FOUND):
        store.delete_model_version("m", "2")


def test_update_model_version(store: Store) -> None:
    store.create_registered_model("m")
    created = store.create_model_version("m", S3)

    updated = store.update_model_version("m", "1", "better")

    assert updated.description == "better"
    assert updated.last_updated_timestamp >= created.last_updated_timestamp
    assert store.get_model_version("m", "1").description == "better"
    with raises(NotFound, NOT_FOUND):
        store.update_model_version("m", "2", "x")


def test_stage_transitions(store: Store) -> None:
    store.create_registered_model("m")
    for _ in range(3):
        store.create_model_version("m", S3)
    before = store.get_registered_model("m").last_updated_timestamp

    moved = store.transition_model_version_stage("m", "1", "staging")
    assert moved.current_stage == "Staging"
    store.transition_model_version_stage("m", "2", "Production")
    store.transition_model_version_stage("m", "3", "PRODUCTION", archive_existing_versions=True)

    stages = {v.version: v.current_stage for v in store.search_model_versions("name = 'm'")}
    assert stages == {"1": "Staging", "2": "Archived", "3": "Production"}
    assert store.get_registered_model("m").last_updated_timestamp >= before
    with pytest.raises(InvalidParameter, match="Invalid Model Version stage: Live"):
        store.transition_model_version_stage("m", "1", "Live")
    with raises(InvalidParameter, INVALID):
        store.transition_model_version_stage("m", "1", "Archived", archive_existing_versions=True)
    with raises(NotFound, NOT_FOUND):
        store.transition_model_version_stage("m", "9", "Staging")


def test_latest_versions_are_per_stage(store: Store) -> None:
    store.create_registered_model("m")
    for _ in range(5):
        store.create_model_version("m", S3)
    store.transition_model_version_stage("m", "1", "Production")
    store.transition_model_version_stage("m", "2", "Production")
    store.transition_model_version_stage("m", "3", "Staging")

    latest = {v.current_stage: v.version for v in store.get_registered_model("m").latest_versions}
    assert latest == {"None": "5", "Staging": "3", "Production": "2"}
    assert {v.version for v in store.get_latest_versions("m")} == {"5", "3", "2"}
    assert [v.version for v in store.get_latest_versions("m", ["production"])] == ["2"]
    assert store.get_latest_versions("m", ["Archived"]) == []
    with raises(InvalidParameter, INVALID):
        store.get_latest_versions("m", ["Live"])
    with raises(NotFound, NOT_FOUND):
        store.get_latest_versions("nope")


def test_model_version_tags(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)

    store.set_model_version_tag("m", "1", ModelVersionTag("k", "v1"))
    store.set_model_version_tag("m", 1, ModelVersionTag("k", "v2"))
    store.set_model_version_tag("m", "1", ModelVersionTag("other", "x"))
    store.delete_model_version_tag("m", "1", "other")
    store.delete_model_version_tag("m", "1", "never-set")

    assert store.get_model_version("m", "1").tags == {"k": "v2"}
    with raises(NotFound, NOT_FOUND):
        store.set_model_version_tag("m", "2", ModelVersionTag("k", "v"))
    with raises(InvalidParameter, INVALID):
        store.set_model_version_tag("m", "1", ModelVersionTag("k", "x" * 100_001))


# ---------------------------------------------------------------- aliases
def test_aliases(store: Store) -> None:
    store.create_registered_model("m")
    for _ in range(3):
        store.create_model_version("m", S3)

    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "challenger", 2)
    store.set_registered_model_alias("m", "champion", "2")  # moves

    assert store.get_registered_model("m").aliases == {"challenger": "2", "champion": "2"}
    by_alias = store.get_model_version_by_alias("m", "champion")
    assert (by_alias.version, by_alias.aliases) == ("2", ["challenger", "champion"])
    assert store.get_model_version("m", "2").aliases == ["challenger", "champion"]
    assert store.get_model_version("m", "1").aliases == []
    assert store.get_model_version_by_alias("m", "latest").version == "3"
    assert store.get_model_version_by_alias("m", "LATEST").version == "3"

    store.delete_registered_model_alias("m", "challenger")
    store.delete_registered_model_alias("m", "never-set")
    assert store.get_registered_model("m").aliases == {"champion": "2"}
    with pytest.raises(InvalidParameter, match=r"^Registered model alias challenger not found\.$"):
        store.get_model_version_by_alias("m", "challenger")


def test_alias_rules(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)

    for reserved in ("latest", "Latest", "v2", "V10"):
        with raises(InvalidParameter, INVALID):
            store.set_registered_model_alias("m", reserved, "1")
    with pytest.raises(InvalidParameter, match=r"Version alias name 'v2' is reserved\."):
        store.set_registered_model_alias("m", "v2", "1")
    for bad in ("", "has space", "dot.ted", "a" * 256):
        with raises(InvalidParameter, INVALID):
            store.set_registered_model_alias("m", bad, "1")
    store.set_registered_model_alias("m", "a" * 255, "1")
    store.set_registered_model_alias("m", "v2-candidate_x", "1")
    with raises(NotFound, NOT_FOUND):
        store.set_registered_model_alias("m", "x", "7")
    with raises(NotFound, NOT_FOUND):
        store.set_registered_model_alias("nope", "x", "1")
    with raises(NotFound, NOT_FOUND):
        store.get_model_version_by_alias("nope", "x")


def test_deleting_a_version_removes_its_aliases(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)
    store.create_model_version("m", S3)
    store.set_registered_model_alias("m", "a", "1")
    store.set_registered_model_alias("m", "b", "2")

    store.delete_model_version("m", "1")

    assert store.get_registered_model("m").aliases == {"b": "2"}
    with raises(InvalidParameter, INVALID):
        store.get_model_version_by_alias("m", "a")


# ---------------------------------------------------------------- sources
def test_runs_sources_need_the_same_run(store: Store, make_run: Callable[..., Run]) -> None:
    run_id = make_run().info.run_id
    store.create_registered_model("m")

    given = store.create_model_version("m", f"runs:/{run_id}/model", run_id=run_id)
    filled = store.create_model_version("m", f"runs:/{run_id}/model")

    assert given.run_id == filled.run_id == run_id
    assert store.get_model_version_download_uri("m", "2") == f"runs:/{run_id}/model"
    other = make_run().info.run_id
    with pytest.raises(InvalidParameter, match="The run_id request parameter must identify"):
        store.create_model_version("m", f"runs:/{run_id}/model", run_id=other)


@pytest.mark.parametrize(
    "source",
    [
        "s3://bucket/a/../b",
        "s3://bucket/a/%2e%2e/b",
        "s3://bucket/a/%252e%252e/b",
        "mlflow-artifacts:/x/..%2f..%2fetc",
        "/tmp/x/../../etc",
        "file:///tmp/%2E%2E/etc",
    ],
)
def test_sources_with_parent_segments_are_refused(store: Store, source: str) -> None:
    store.create_registered_model("m")

    with pytest.raises(InvalidParameter, match="without relative path references"):
        store.create_model_version("m", source)


def test_local_sources_must_lie_in_the_runs_artifacts(
    store: Store, make_run: Callable[..., Run], tmp_path: Path
) -> None:
    run = make_run()
    inside = Path(local_root(run.info.artifact_uri)) / "model"
    store.create_registered_model("m")

    version = store.create_model_version("m", str(inside), run_id=run.info.run_id)
    assert version.run_id == run.info.run_id
    assert store.create_model_version("m", inside.as_uri(), run_id=run.info.run_id).version == "2"
    for outside in (str(tmp_path / "elsewhere"), (tmp_path / "x").as_uri()):
        with pytest.raises(InvalidParameter, match="To use a local path as a model version"):
            store.create_model_version("m", outside, run_id=run.info.run_id)
    with pytest.raises(InvalidParameter, match="To use a local path as a model version"):
        store.create_model_version("m", str(inside))  # no run to contain it


def test_logged_model_sources(
    store: Store, make_experiment: Callable[..., str], make_run: Callable[..., Run]
) -> None:
    experiment_id = make_experiment()
    run_id = make_run(experiment_id).info.run_id
    logged = store.create_logged_model(experiment_id, source_run_id=run_id)
    source = f"models:/{logged.model_id}"
    store.create_registered_model("m")
    store.create_registered_model("n")

    first = store.create_model_version("m", source, model_id=logged.model_id)
    second = store.create_model_version("n", source)  # model_id taken from the URI

    assert (first.run_id, first.model_id, first.source) == (run_id, logged.model_id, source)
    assert second.model_id == logged.model_id
    assert store.get_model_version_download_uri("m", "1") == logged.artifact_uri
    links = json.loads(store.get_logged_model(logged.model_id).tags["mlflow.modelVersions"])
    assert links == [{"name": "m", "version": 1}, {"name": "n", "version": 1}]
    other = store.create_logged_model(experiment_id)
    with pytest.raises(InvalidParameter, match="The model_id request parameter"):
        store.create_model_version("m", source, model_id=other.model_id)
    with pytest.raises(InvalidParameter, match="The model_id request parameter"):
        store.create_model_version("m", "models:/m-" + "0" * 32)


def test_existing_lineage_tag_is_extended(
    store: Store, make_experiment: Callable[..., str]
) -> None:
    logged = store.create_logged_model(make_experiment())
    earlier = json.dumps([{"name": "elsewhere", "version": 3}])
    store.set_logged_model_tags(logged.model_id, [LoggedModelTag("mlflow.modelVersions", earlier)])
    store.create_registered_model("m")

    store.create_model_version("m", f"models:/{logged.model_id}", model_id=logged.model_id)

    links = json.loads(store.get_logged_model(logged.model_id).tags["mlflow.modelVersions"])
    assert links == [{"name": "elsewhere", "version": 3}, {"name": "m", "version": 1}]


def test_registered_model_sources_copy_a_version(
    store: Store, make_experiment: Callable[..., str]
) -> None:
    logged = store.create_logged_model(make_experiment())
    store.create_registered_model("src")
    store.create_model_version("src", f"models:/{logged.model_id}", model_id=logged.model_id)
    store.create_model_version("src", S3)
    store.set_registered_model_alias("src", "champion", "1")
    store.create_registered_model("copy")

    by_alias = store.create_model_version("copy", "models:/src@champion")
    by_version = store.create_model_version("copy", "models:/src/2")

    assert (by_alias.source, by_alias.model_id) == ("models:/src/1", logged.model_id)
    assert store.get_model_version_download_uri("copy", "1") == logged.artifact_uri
    assert store.get_model_version_download_uri("copy", "2") == S3
    assert by_version.source == "models:/src/2"
    store.create_registered_model("qa", [RegisteredModelTag(PROMPT_TAG, "true")])
    store.create_model_version("qa", "dummy-source")
    with pytest.raises(InvalidParameter, match="Prompt versions cannot be used"):
        store.create_model_version("copy", "models:/qa/1")


def test_prompt_sources(store: Store) -> None:
    store.create_registered_model("qa", [RegisteredModelTag(PROMPT_TAG, "true")])

    assert store.create_model_version("qa", "dummy-source").source == "dummy-source"
    assert store.create_model_version("qa", "prompt-template").version == "2"
    with pytest.raises(InvalidParameter, match="Invalid prompt source"):
        store.create_model_version("qa", S3)
    store.create_registered_model("m")
    with raises(InvalidParameter, INVALID):  # a version tagged as a prompt is one too
        store.create_model_version("m", S3, tags=[ModelVersionTag(PROMPT_TAG, "true")])


def test_download_uri_of_a_plain_source_is_the_source(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", "gs://bucket/path/model")

    assert store.get_model_version_download_uri("m", "1") == "gs://bucket/path/model"
    with raises(NotFound, NOT_FOUND):
        store.get_model_version_download_uri("m", "2")


# ---------------------------------------------------------------- concurrency
def test_concurrent_registrations_get_distinct_numbers(make_store: StoreFactory) -> None:
    workers, each = 4, 8
    stores = [make_store() for _ in range(workers)]
    stores[0].create_registered_model("busy")
    made: list[ModelVersion] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(workers)

    def register(store: Store) -> None:
        try:
            start.wait()
            for _ in range(each):
                version = store.create_model_version("busy", S3)
                with lock:
                    made.append(version)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=register, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    numbers = sorted(int(v.version) for v in made)
    assert numbers == list(range(1, workers * each + 1))
    assert len(_versions(stores[0], "busy")) == workers * each
