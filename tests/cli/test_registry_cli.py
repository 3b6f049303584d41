"""`wayline models list|describe|versions|alias|transition|history` on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from wayline.cli.main import cli
from wayline.entities.registry import ModelVersionTag, RegisteredModelTag
from wayline.genai.registry import PromptRegistry
from wayline.store.backend import Store
from wayline.tracking.client import Client


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


@pytest.fixture
def registry(store_uri: str) -> Store:
    """A store holding model 'churn' (versions 1-3 from one run) and model 'fraud'."""
    client = Client(store_uri)
    store = client.store
    assert isinstance(store, Store)
    run_id = client.create_run("0").info.run_id
    store.create_registered_model(
        "churn", tags=[RegisteredModelTag("team", "growth")], description="Churn model"
    )
    for number in (1, 2, 3):
        store.create_model_version(
            "churn",
            f"runs:/{run_id}/model",
            run_id=run_id,
            tags=[ModelVersionTag("validated", "yes" if number > 1 else "no")],
            description=f"version {number}",
        )
    store.create_registered_model("fraud")
    return store


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(run(*args, "--json").output)


def test_list_models(registry: Store, store_uri: str) -> None:
    PromptRegistry(registry).register("a-prompt", "x")
    listing = run("models", "list", "--tracking-uri", store_uri).output
    assert "churn" in listing and "fraud" in listing
    assert "a-prompt" not in listing  # prompts have their own command

    found = as_json("models", "list", "--tracking-uri", store_uri)["registered_models"]
    assert [m["name"] for m in found] == ["churn", "fraud"]
    assert [v["version"] for v in found[0]["latest_versions"]] == ["3"]

    filtered = as_json(
        "models", "list", "--filter", "tags.team = 'growth'", "--tracking-uri", store_uri
    )
    assert [m["name"] for m in filtered["registered_models"]] == ["churn"]
    limited = as_json("models", "list", "--max-results", "1", "--tracking-uri", store_uri)
    assert len(limited["registered_models"]) == 1
    none = run("models", "list", "--filter", "name = 'zzz'", "--tracking-uri", store_uri)
    assert "No model matches" in none.output


def test_describe_and_versions(registry: Store, store_uri: str) -> None:
    described = run("models", "describe", "churn", "--tracking-uri", store_uri).output
    assert "Churn model" in described and "team=growth" in described
    data = as_json("models", "describe", "churn", "--tracking-uri", store_uri)
    assert data["registered_model"]["description"] == "Churn model"
    assert [v["version"] for v in data["model_versions"]] == ["3", "2", "1"]
    assert data["model_versions"][0]["status"] == "READY"

    empty = run("models", "describe", "fraud", "--tracking-uri", store_uri).output
    assert "No versions yet" in empty

    versions = as_json(
        "models",
        "versions",
        "churn",
        "--filter",
        "tags.validated = 'yes' AND version_number >= 3",
        "--tracking-uri",
        store_uri,
    )
    assert [v["version"] for v in versions["model_versions"]] == ["3"]
    table = run("models", "versions", "churn", "--tracking-uri", store_uri).output
    assert "version 1" in table


def test_describe_refuses_missing_models_and_prompts(registry: Store, store_uri: str) -> None:
    missing = run("models", "describe", "nope", "--tracking-uri", store_uri, code=1).output
    assert "RESOURCE_DOES_NOT_EXIST" in missing and "wayline models list" in missing
    PromptRegistry(registry).register("qa", "x")
    prompt = run("models", "describe", "qa", "--tracking-uri", store_uri, code=1).output
    assert "wayline prompts show qa" in prompt


def test_alias_set_move_and_delete(registry: Store, store_uri: str) -> None:
    out = run("models", "alias", "churn", "champion", "2", "--tracking-uri", store_uri).output
    assert "now points to version 2" in out
    moved = as_json("models", "alias", "churn", "champion", "3", "--tracking-uri", store_uri)
    assert moved == {"name": "churn", "alias": "champion", "before": "2", "after": "3"}
    assert registry.get_model_version_by_alias("churn", "champion").version == "3"

    deleted = run("models", "alias", "churn", "champion", "--delete", "--tracking-uri", store_uri)
    assert "it pointed to version 3" in deleted.output
    assert registry.get_registered_model("churn").aliases == {}

    again = run(
        "models", "alias", "churn", "champion", "--delete", "--tracking-uri", store_uri, code=1
    )
    assert "has no alias 'champion'" in again.output
    both = run(
        "models", "alias", "churn", "x", "1", "--delete", "--tracking-uri", store_uri, code=2
    )
    assert "not both" in both.output
    reserved = run("models", "alias", "churn", "latest", "1", "--tracking-uri", store_uri, code=1)
    assert "INVALID_PARAMETER_VALUE" in reserved.output


def test_transition_with_archive_existing(registry: Store, store_uri: str) -> None:
    run("models", "transition", "churn", "1", "production", "--tracking-uri", store_uri)
    run("models", "transition", "churn", "2", "Production", "--tracking-uri", store_uri)
    out = run(
        "models",
        "transition",
        "churn",
        "3",
        "Production",
        "--archive-existing",
        "--tracking-uri",
        store_uri,
    ).output
    assert "None → Production" in out
    assert "Archived versions 1, 2" in out
    stages = {v.version: v.current_stage for v in registry.search_model_versions("name = 'churn'")}
    assert stages == {"1": "Archived", "2": "Archived", "3": "Production"}

    data = as_json("models", "transition", "churn", "3", "staging", "--tracking-uri", store_uri)
    assert data["before"] == "Production"
    assert data["model_version"]["current_stage"] == "Staging"

    bad = run("models", "transition", "churn", "3", "Live", "--tracking-uri", store_uri, code=1)
    assert "Value must be one of None, Staging, Production, Archived" in bad.output


def test_history_shows_who_did_what(registry: Store, store_uri: str) -> None:
    run("models", "transition", "churn", "2", "Staging", "--tracking-uri", store_uri)
    run("models", "alias", "churn", "champion", "2", "--tracking-uri", store_uri)
    changes = as_json("models", "history", "churn", "--tracking-uri", store_uri)["changes"]
    actions = [c["action"] for c in changes]
    assert actions[:2] == ["alias.set", "model_version.stage_transitioned"]
    assert actions[-1] == "registered_model.created"
    assert actions.count("model_version.created") == 3
    transition = changes[1]
    assert transition["version"] == "2"
    assert transition["before"] == {"stage": "None"}
    assert transition["after"] == {"stage": "Staging"}
    assert all(c["user"] for c in changes)

    limited = as_json(
        "models", "history", "churn", "--max-results", "1", "--tracking-uri", store_uri
    )
    assert len(limited["changes"]) == 1
    table = run("models", "history", "churn", "--tracking-uri", store_uri).output
    assert "alias.set" in table
    assert "None → Staging" in table or "Staging" in table

    registry.delete_registered_model("churn")
    after_delete = as_json("models", "history", "churn", "--tracking-uri", store_uri)["changes"]
    assert after_delete[0]["action"] == "registered_model.deleted"
    nothing = run("models", "history", "never", "--tracking-uri", store_uri).output
    assert "No recorded changes" in nothing
