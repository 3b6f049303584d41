"""Registered-model URIs (``models:/<name>/<version>``, ``/<stage>``, ``/latest``, ``@<alias>``,
each with an optional artifact path) resolved by ``wayline.artifacts.uris``, on a SQLite store and
through a live server; the errors for names, versions, stages and aliases that do not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import wayline
from wayline.artifacts import artifact_repository, download_artifacts, list_artifacts, load_text
from wayline.artifacts.uris import ModelUri, parse_model_uri
from wayline.entities.registry import PROMPT_TAG, ModelVersionTag, RegisteredModelTag
from wayline.errors import InvalidParameter, NotFound
from wayline.store.backend import Store
from wayline.store.resolve import tracking_store


@dataclass(frozen=True)
class Registered:
    """A registered model whose versions each hold an ``MLmodel`` saying which one it is:
    1 from a logged model (Production), 2 from a run's artifacts as ``runs:/`` (Staging, alias
    ``champion``), 3 from a storage URI, 4 from ``runs:/<run>/<name>`` naming the run's logged
    model."""

    name: str
    run_id: str
    model_id: str


def write(root: str, files: dict[str, str]) -> None:
    repo = artifact_repository(root, wayline.get_tracking_uri())
    for path, text in files.items():
        with repo.open_write(path) as sink:
            sink.write(text.encode())


@pytest.fixture
def registered(tracking: str) -> Registered:
    client = wayline.MlflowClient()
    with wayline.start_run() as run:
        wayline.log_text("v2", "model/MLmodel")
        wayline.log_text("weights-2", "model/data/w.bin")
        wayline.log_text("v3", "elsewhere/MLmodel")
    run_id = run.info.run_id
    logged = client.create_logged_model(run.info.experiment_id, "clf", source_run_id=run_id)
    write(logged.artifact_location, {"MLmodel": "v1", "data/w.bin": "weights-1"})
    name = f"clf-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    client.create_model_version(name, f"models:/{logged.model_id}", model_id=logged.model_id)
    client.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id)
    client.create_model_version(name, f"{run.info.artifact_uri}/elsewhere", run_id=run_id)
    client.create_model_version(name, f"runs:/{run_id}/clf", run_id=run_id)
    client.transition_model_version_stage(name, 1, "Production")
    client.transition_model_version_stage(name, 2, "Staging")
    client.set_registered_model_alias(name, "champion", 2)
    return Registered(name, run_id, logged.model_id)


def test_every_form_names_its_version(registered: Registered) -> None:
    name = registered.name
    expected = {
        f"models:/{name}/1": "v1",
        f"models:/{name}/2": "v2",
        f"models:/{name}/3": "v3",
        f"models:/{name}/4": "v1",  # runs:/<run>/clf is the run's logged model "clf"
        f"models:/{name}/Production": "v1",
        f"models:/{name}/production": "v1",  # stages in any case
        f"models:/{name}/Staging": "v2",
        f"models:/{name}/latest": "v1",  # version 4
        f"models:/{name}/LATEST": "v1",
        f"models:/{name}@champion": "v2",
    }
    for uri, text in expected.items():
        assert load_text(f"{uri}/MLmodel") == text, uri
    assert load_text(f"models:/{name}@champion/data/w.bin") == "weights-2"
    assert load_text(f"models:/{name}/1/data/w.bin") == "weights-1"


def test_download_and_list(registered: Registered, tmp_path: Path) -> None:
    name = registered.name
    local = download_artifacts(f"models:/{name}@champion", dst_path=tmp_path / "champion")
    files = {p.relative_to(local).as_posix() for p in Path(local).rglob("*") if p.is_file()}
    assert files == {"MLmodel", "data/w.bin"}
    assert [f.path for f in list_artifacts(f"models:/{name}/1")] == ["MLmodel", "data"]
    one = download_artifacts(f"models:/{name}/Production/MLmodel", dst_path=tmp_path / "one")
    assert Path(one).name == "MLmodel"
    assert Path(one).read_text() == "v1"


def test_a_moved_alias_and_a_new_version_are_followed(registered: Registered) -> None:
    client = wayline.MlflowClient()
    name = registered.name
    client.set_registered_model_alias(name, "champion", 3)
    assert load_text(f"models:/{name}@champion/MLmodel") == "v3"
    client.transition_model_version_stage(name, 3, "Production")
    assert load_text(f"models:/{name}/Production/MLmodel") == "v3"  # the highest of 1 and 3
    client.create_model_version(
        name, f"models:/{registered.model_id}", model_id=registered.model_id
    )
    client.transition_model_version_stage(name, 5, "Production")
    assert load_text(f"models:/{name}/Production/MLmodel") == "v1"
    assert load_text(f"models:/{name}/latest/MLmodel") == "v1"


def test_a_copied_version_resolves_through_its_source(registered: Registered) -> None:
    copy = f"{registered.name}-copy"
    version = wayline.MlflowClient().copy_model_version(f"models:/{registered.name}@champion", copy)
    assert version.source == f"models:/{registered.name}/2"
    assert load_text(f"models:/{copy}/1/MLmodel") == "v2"


def test_unknown_names_versions_stages_and_aliases(registered: Registered) -> None:
    name = registered.name
    with pytest.raises(NotFound, match="not found"):
        load_text(f"models:/nope-{uuid.uuid4().hex[:6]}/1/MLmodel")
    with pytest.raises(NotFound, match=r"version=9\) not found"):
        load_text(f"models:/{name}/9/MLmodel")
    with pytest.raises(InvalidParameter, match="alias ghost not found"):
        load_text(f"models:/{name}@ghost/MLmodel")
    with pytest.raises(NotFound, match=f"No versions of model with name '{name}' and stage"):
        load_text(f"models:/{name}/Archived/MLmodel")
    with pytest.raises(InvalidParameter, match="Invalid Model Version stage: Live"):
        load_text(f"models:/{name}/Live/MLmodel")
    with pytest.raises(InvalidParameter, match="Invalid path"):
        load_text(f"models:/{name}/1/../../secret")
    with pytest.raises(NotFound):
        load_text(f"models:/{name}/1/missing.txt")


def test_a_model_with_no_versions(tracking: str) -> None:
    name = f"empty-{uuid.uuid4().hex[:8]}"
    wayline.MlflowClient().create_registered_model(name)
    with pytest.raises(NotFound, match=f"No versions of model with name '{name}' found"):
        download_artifacts(f"models:/{name}/latest")


def test_a_prompt_is_not_a_model(tracking: str) -> None:
    store = tracking_store(tracking)
    assert isinstance(store, Store)
    name = f"prompt-{uuid.uuid4().hex[:8]}"
    store.create_registered_model(name, [RegisteredModelTag(PROMPT_TAG, "true")])
    store.create_model_version(name, "dummy-source", tags=[ModelVersionTag(PROMPT_TAG, "true")])
    for uri in (f"models:/{name}/1", f"models:/{name}/latest"):
        with pytest.raises(InvalidParameter, match="is a prompt"):
            download_artifacts(uri)


@pytest.mark.parametrize(
    "uri",
    [
        "models:/",
        "models:/classifier",  # neither a logged model id nor name/suffix or name@alias
        "models:/classifier/",
        "models:/@champion",
        "models:/classifier@",
        "models:/ /1",
        "models://profile/classifier/1",
    ],
)
def test_malformed_models_uris(uri: str) -> None:
    with pytest.raises(InvalidParameter, match=r"(Not a proper|Models URIs must be)"):
        parse_model_uri(uri)


def test_parse_model_uri() -> None:
    model_id = "m-" + "a" * 32
    assert parse_model_uri(f"models:/{model_id}/MLmodel") == ModelUri(
        model_id=model_id, path="MLmodel"
    )
    assert parse_model_uri("models:/churn/3") == ModelUri(name="churn", version="3")
    assert parse_model_uri("models:/churn/3/") == ModelUri(name="churn", version="3")
    assert parse_model_uri("models:/churn/staging/a/b") == ModelUri(
        name="churn", stage="Staging", path="a/b"
    )
    assert parse_model_uri("models:/churn/Latest") == ModelUri(name="churn")
    assert parse_model_uri("models:/churn@prod/MLmodel") == ModelUri(
        name="churn", alias="prod", path="MLmodel"
    )
    # An alias is the part after the last "@".
    assert parse_model_uri("models:/a@b@c") == ModelUri(name="a@b", alias="c")
