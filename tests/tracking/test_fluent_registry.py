"""The fluent registry API: ``register_model`` from every kind of model URI,
``log_model(..., registered_model_name=...)``, and the paged searches."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import wayline
import wayline.pyfunc
from wayline.artifacts import artifact_repository
from wayline.errors import NotFound
from wayline.tracking import fluent_registry


@pytest.fixture
def registry_db(fluent_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.chdir(tmp_path)  # the default artifact root, ./wayline-artifacts, lands here
    yield fluent_db


def unique(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def logged_model_of_run(name: str = "model") -> tuple[str, str]:
    """``(run_id, model_id)``: a finished run with a READY logged model ``name`` holding files."""
    with wayline.start_run() as run:
        model = wayline.initialize_logged_model(name)
        repo = artifact_repository(model.artifact_location, wayline.get_tracking_uri())
        with repo.open_write("MLmodel") as sink:
            sink.write(b"flavors: {}\n")
        wayline.finalize_logged_model(model.model_id, "READY")
    return run.info.run_id, model.model_id


def versions_tag(model_id: str) -> list[dict[str, Any]]:
    tags = wayline.get_logged_model(model_id).tags
    entries: list[dict[str, Any]] = json.loads(tags["mlflow.modelVersions"])
    return entries


def test_a_runs_uri_naming_a_logged_model(registry_db: str) -> None:
    run_id, model_id = logged_model_of_run()
    name = unique()
    version = wayline.register_model(f"runs:/{run_id}/model", name, tags={"data": "may"})
    assert (version.name, version.version) == (name, "1")
    assert (version.source, version.model_id, version.run_id) == (
        f"models:/{model_id}",
        model_id,
        run_id,
    )
    assert version.tags == {"data": "may"}
    # The model exists now: a second registration adds a version, recorded once each.
    again = wayline.register_model(f"models:/{model_id}", name)
    assert (again.version, again.model_id) == ("2", model_id)
    assert versions_tag(model_id) == [{"name": name, "version": 1}, {"name": name, "version": 2}]


def test_a_runs_uri_with_the_model_in_the_runs_artifacts(registry_db: str) -> None:
    with wayline.start_run() as run:
        wayline.log_text("flavors: {}\n", "model/MLmodel")
    version = wayline.register_model(f"runs:/{run.info.run_id}/model", unique())
    assert version.source == f"{run.info.artifact_uri}/model"
    assert (version.run_id, version.model_id) == (run.info.run_id, "")


def test_a_runs_uri_with_nothing_there(registry_db: str) -> None:
    with wayline.start_run() as run:
        pass
    with pytest.raises(NotFound, match="Unable to find a logged_model with artifact_path nope"):
        wayline.register_model(f"runs:/{run.info.run_id}/nope", unique())


def test_storage_and_registry_uris(registry_db: str) -> None:
    name = unique()
    plain = wayline.register_model("s3://bucket/models/churn", name)
    assert (plain.source, plain.model_id, plain.run_id) == ("s3://bucket/models/churn", "", "")
    _, model_id = logged_model_of_run()
    wayline.register_model(f"models:/{model_id}", name)
    # A registered version's URI registers the same logged model again.
    copied = wayline.register_model(f"models:/{name}/2", unique())
    assert (copied.source, copied.model_id) == (f"models:/{name}/2", model_id)


def test_log_model_registers(registry_db: str) -> None:
    name = unique()
    with wayline.start_run():
        info = wayline.pyfunc.log_model(
            name="model", python_model=Identity(), registered_model_name=name, tags={"t": "1"}
        )
        unregistered = wayline.pyfunc.log_model(name="plain", python_model=Identity())
    assert info.registered_model_version == 1
    assert unregistered.registered_model_version is None
    version = wayline.MlflowClient().get_model_version(name, 1)
    assert (version.model_id, version.tags) == (info.model_id, {"t": "1"})
    with wayline.start_run():
        second = wayline.pyfunc.log_model(
            name="model", python_model=Identity(), registered_model_name=name
        )
    assert second.registered_model_version == 2


class Identity(wayline.pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input


def test_searches_walk_every_page(registry_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = unique("s")
    for index in range(5):
        wayline.register_model(f"s3://bucket/{index}", f"{prefix}-{index}")
    # Small pages, so that five results take three requests.
    monkeypatch.setattr(fluent_registry, "SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT", 2)
    monkeypatch.setattr(fluent_registry, "SEARCH_MODEL_VERSIONS_CLIENT_MAX_RESULTS", 2)
    found = wayline.search_registered_models(filter_string=f"name LIKE '{prefix}%'")
    assert [m.name for m in found] == [f"{prefix}-{i}" for i in range(5)]
    top = wayline.search_registered_models(
        max_results=3, filter_string=f"name LIKE '{prefix}%'", order_by=["name DESC"]
    )
    assert [m.name for m in top] == [f"{prefix}-4", f"{prefix}-3", f"{prefix}-2"]
    versions = wayline.search_model_versions(
        filter_string=f"name LIKE '{prefix}%'", order_by=["name ASC"]
    )
    assert [(v.name, v.version) for v in versions] == [(f"{prefix}-{i}", "1") for i in range(5)]
    assert len(wayline.search_model_versions(max_results=1)) == 1
