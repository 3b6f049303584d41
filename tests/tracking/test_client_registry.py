"""``Client``'s model-registry methods (MlflowClient's names) on a real SQLite store: registered
models, versions, stages, aliases, tags, copies, the audit trail, webhooks, and the guard that
keeps model methods off prompts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from servers import live_server
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModelTag,
    WebhookEvent,
    WebhookStatus,
)
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.backend import Store
from wayline.tracking.client import Client
from wayline.tracking.client_registry import raise_if_not_prompt, raise_if_prompt

PROMPT_VERSION_TAGS = [
    ModelVersionTag(PROMPT_TAG, "true"),
    ModelVersionTag("mlflow.prompt.text", "Hi {{name}}"),
]


@pytest.fixture
def client(sqlite_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.chdir(tmp_path)  # the store's default artifact root lands here
    return Client(sqlite_uri)


def store_of(client: Client) -> Store:
    store = client.store
    assert isinstance(store, Store)
    return store


def unique(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_model(client: Client, versions: int = 0) -> str:
    name = unique()
    client.create_registered_model(name)
    for number in range(versions):
        client.create_model_version(name, f"s3://bucket/{name}/{number + 1}")
    return name


# ------------------------------------------------------------------ registered models
def test_registered_model_life_cycle(client: Client) -> None:
    name = unique("churn")
    created = client.create_registered_model(name, tags={"team": "growth", "n": 3}, description="d")
    assert (created.name, created.description) == (name, "d")
    assert created.tags == {"team": "growth", "n": "3"}  # values become strings, as in MLflow
    with pytest.raises(AlreadyExists, match=r"already exists"):
        client.create_registered_model(name)

    assert client.update_registered_model(name, description="new").description == "new"
    client.set_registered_model_tag(name, "owner", 42)
    client.delete_registered_model_tag(name, "team")
    assert client.get_registered_model(name).tags == {"n": "3", "owner": "42"}

    renamed = client.rename_registered_model(name, name + "-v2")
    assert renamed.name == name + "-v2"
    with pytest.raises(NotFound, match=r"not found"):
        client.get_registered_model(name)
    client.delete_registered_model(name + "-v2")
    with pytest.raises(NotFound):
        client.get_registered_model(name + "-v2")


def test_search_registered_models_pages_and_filters(client: Client) -> None:
    prefix = unique("s")
    for suffix in ("a", "b", "c"):
        client.create_registered_model(f"{prefix}-{suffix}", tags={"kind": suffix})
    first = client.search_registered_models(f"name LIKE '{prefix}%'", max_results=2)
    assert [m.name for m in first] == [f"{prefix}-a", f"{prefix}-b"]
    assert first.token
    rest = client.search_registered_models(
        f"name LIKE '{prefix}%'", max_results=2, page_token=first.token
    )
    assert [m.name for m in rest] == [f"{prefix}-c"]
    assert rest.token is None
    newest_first = client.search_registered_models(f"name LIKE '{prefix}%'", order_by=["name DESC"])
    assert [m.name for m in newest_first] == [f"{prefix}-c", f"{prefix}-b", f"{prefix}-a"]
    tagged = client.search_registered_models("tags.kind = 'b'")
    assert [m.name for m in tagged] == [f"{prefix}-b"]


# ------------------------------------------------------------------ versions and stages
def test_model_versions(client: Client) -> None:
    name = new_model(client)
    first = client.create_model_version(
        name, "s3://bucket/one", tags={"data": 2024}, description="first", run_link="http://x"
    )
    assert (first.version, first.status, first.current_stage) == (
        "1",
        ModelVersionStatus.READY,
        "None",
    )
    assert first.tags == {"data": "2024"}
    assert first.description == "first"
    second = client.create_model_version(name, "s3://bucket/two", await_creation_for=0)
    assert second.version == "2"

    # Versions are accepted as ints or strings, as MLflow's client takes them.
    assert client.get_model_version(name, 1).source == "s3://bucket/one"
    assert client.get_model_version_download_uri(name, 2) == "s3://bucket/two"
    assert client.update_model_version(name, 2, "better").description == "better"

    client.set_model_version_tag(name, 1, "validated", True)
    assert client.get_model_version(name, "1").tags == {"data": "2024", "validated": "True"}
    client.delete_model_version_tag(name, "1", "validated")
    assert client.get_model_version(name, 1).tags == {"data": "2024"}

    client.delete_model_version(name, 1)
    with pytest.raises(NotFound, match=r"Model Version \(name=.*, version=1\) not found"):
        client.get_model_version(name, 1)
    assert client.create_model_version(name, "s3://bucket/three").version == "3"  # never reused


def test_stages_and_latest_versions(client: Client) -> None:
    name = new_model(client, versions=3)
    client.transition_model_version_stage(name, 1, "production")
    moved = client.transition_model_version_stage(name, "2", "Production", True)
    assert moved.current_stage == "Production"
    assert client.get_model_version(name, 1).current_stage == "Archived"
    client.transition_model_version_stage(name, 3, "Staging")

    latest = {v.current_stage: v.version for v in client.get_latest_versions(name)}
    assert latest == {"Archived": "1", "Production": "2", "Staging": "3"}
    [prod] = client.get_latest_versions(name, stages=["PRODUCTION"])
    assert prod.version == "2"
    with pytest.raises(InvalidParameter, match=r"Invalid Model Version stage: Live"):
        client.transition_model_version_stage(name, 1, "Live")

    # Tags by stage (deprecated in MLflow, still accepted): the stage's latest version.
    client.set_model_version_tag(name, key="approved", value="yes", stage="Staging")
    assert client.get_model_version(name, 3).tags == {"approved": "yes"}
    client.delete_model_version_tag(name, key="approved", stage="Staging")
    assert client.get_model_version(name, 3).tags == {}
    with pytest.raises(InvalidParameter, match="cannot be set together"):
        client.set_model_version_tag(name, 3, "k", "v", stage="Staging")
    with pytest.raises(InvalidParameter, match="version or stage must be set"):
        client.set_model_version_tag(name, key="k", value="v")
    with pytest.raises(InvalidParameter, match="Could not find any model version"):
        client.set_model_version_tag(name, key="k", value="v", stage="None")


def test_search_model_versions(client: Client) -> None:
    name = new_model(client, versions=3)
    found = client.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"])
    assert [v.version for v in found] == ["1", "2", "3"]
    page = client.search_model_versions(
        f"name = '{name}' AND version_number >= 2", max_results=1, order_by=["version_number"]
    )
    assert [v.version for v in page] == ["2"]
    assert page.token
    rest = client.search_model_versions(
        f"name = '{name}' AND version_number >= 2",
        max_results=1,
        order_by=["version_number"],
        page_token=page.token,
    )
    assert [v.version for v in rest] == ["3"]


def test_a_version_of_a_logged_model(client: Client) -> None:
    experiment_id = client.create_experiment(unique("exp"))
    run = client.create_run(experiment_id)
    logged = client.create_logged_model(experiment_id, "clf", source_run_id=run.info.run_id)
    name = new_model(client)
    version = client.create_model_version(
        name, f"models:/{logged.model_id}", model_id=logged.model_id
    )
    assert version.model_id == logged.model_id
    assert version.run_id == run.info.run_id  # taken from the logged model
    assert client.get_model_version_download_uri(name, 1) == logged.artifact_location


# ------------------------------------------------------------------ aliases
def test_aliases(client: Client) -> None:
    name = new_model(client, versions=2)
    client.set_registered_model_alias(name, "champion", 1)
    assert client.get_model_version_by_alias(name, "champion").version == "1"
    assert client.get_registered_model(name).aliases == {"champion": "1"}
    client.set_registered_model_alias(name, "champion", "2")  # moves
    version = client.get_model_version_by_alias(name, "champion")
    assert (version.version, version.aliases) == ("2", ["champion"])
    assert client.get_model_version_by_alias(name, "latest").version == "2"
    with pytest.raises(InvalidParameter, match="reserved"):
        client.set_registered_model_alias(name, "v1", 1)
    client.delete_registered_model_alias(name, "champion")
    with pytest.raises(InvalidParameter, match="alias champion not found"):
        client.get_model_version_by_alias(name, "champion")


# ------------------------------------------------------------------ copies
def test_copy_model_version(client: Client) -> None:
    source = new_model(client)
    client.create_model_version(source, "s3://bucket/orig", tags={"k": "v"}, description="d")
    client.set_registered_model_alias(source, "champion", 1)
    destination = unique("copy")

    copy = client.copy_model_version(f"models:/{source}@champion", destination)
    assert (copy.name, copy.version) == (destination, "1")
    assert copy.source == f"models:/{source}/1"
    assert (copy.tags, copy.description) == ({"k": "v"}, "d")
    again = client.copy_model_version(f"models:/{source}/1", destination)  # model exists: v2
    assert again.version == "2"
    latest = client.copy_model_version(f"models:/{source}/latest", destination)
    assert latest.version == "3"

    with pytest.raises(InvalidParameter, match="only copies models"):
        client.copy_model_version("runs:/abc/model", destination)
    with pytest.raises(NotFound):
        client.copy_model_version(f"models:/{source}/9", destination)


# ------------------------------------------------------------------ prompts are not models
@pytest.fixture
def prompt(client: Client) -> str:
    """A prompt with one version and alias ``prod``, made through the store as the prompt
    APIs make it."""
    name = unique("prompt")
    store = store_of(client)
    store.create_registered_model(name, [RegisteredModelTag(PROMPT_TAG, "true")])
    store.create_model_version(name, "dummy-source", tags=PROMPT_VERSION_TAGS)
    store.set_registered_model_alias(name, "prod", "1")
    return name


MODEL_CALLS: dict[str, Callable[[Client, str], Any]] = {
    "rename_registered_model": lambda c, n: c.rename_registered_model(n, n + "-x"),
    "update_registered_model": lambda c, n: c.update_registered_model(n, "d"),
    "delete_registered_model": lambda c, n: c.delete_registered_model(n),
    "get_latest_versions": lambda c, n: c.get_latest_versions(n),
    "set_registered_model_tag": lambda c, n: c.set_registered_model_tag(n, "k", "v"),
    "delete_registered_model_tag": lambda c, n: c.delete_registered_model_tag(n, "k"),
    "set_registered_model_alias": lambda c, n: c.set_registered_model_alias(n, "a", 1),
    "delete_registered_model_alias": lambda c, n: c.delete_registered_model_alias(n, "prod"),
    "get_model_version_by_alias": lambda c, n: c.get_model_version_by_alias(n, "prod"),
    "create_model_version": lambda c, n: c.create_model_version(n, "dummy-source"),
    "update_model_version": lambda c, n: c.update_model_version(n, 1, "d"),
    "transition_model_version_stage": lambda c, n: c.transition_model_version_stage(
        n, 1, "Staging"
    ),
    "delete_model_version": lambda c, n: c.delete_model_version(n, 1),
    "get_model_version_download_uri": lambda c, n: c.get_model_version_download_uri(n, 1),
    "set_model_version_tag": lambda c, n: c.set_model_version_tag(n, 1, "k", "v"),
    "delete_model_version_tag": lambda c, n: c.delete_model_version_tag(n, 1, "k"),
    "copy_model_version": lambda c, n: c.copy_model_version(f"models:/{n}/1", unique()),
}


@pytest.mark.parametrize("method", sorted(MODEL_CALLS))
def test_model_methods_refuse_prompts(client: Client, prompt: str, method: str) -> None:
    with pytest.raises(InvalidParameter, match=rf"'{prompt}' is a prompt, not a model"):
        MODEL_CALLS[method](client, prompt)
    # Nothing changed: the prompt still has its version, alias and name.
    kept = client.get_registered_model(prompt)
    assert (kept.is_prompt, kept.aliases) == (True, {"prod": "1"})
    assert client.get_model_version(prompt, 1).source == "dummy-source"


def test_prompts_stay_out_of_model_searches_and_registrations(client: Client, prompt: str) -> None:
    assert prompt not in [m.name for m in client.search_registered_models()]
    assert prompt not in [v.name for v in client.search_model_versions()]
    name = new_model(client)
    with pytest.raises(InvalidParameter, match="Prompts cannot be registered as models"):
        client.create_model_version(name, "s3://b/x", tags={PROMPT_TAG: "true"})
    # The check the prompt side uses, both ways round.
    raise_if_prompt(client.get_registered_model(name))
    raise_if_not_prompt(client.get_registered_model(prompt))
    with pytest.raises(InvalidParameter, match="is a model, not a prompt"):
        raise_if_not_prompt(client.get_registered_model(name))


# ------------------------------------------------------------------ audit trail
def test_registry_history(client: Client) -> None:
    name = new_model(client, versions=1)
    client.transition_model_version_stage(name, 1, "Staging")
    client.set_registered_model_alias(name, "champion", 1)
    changes = client.get_registry_history(name)
    actions = [c.action for c in changes]
    assert actions[:3] == ["alias.set", "model_version.stage_transitioned", "model_version.created"]
    assert actions[-1] == "registered_model.created"
    stage = changes[1]
    assert (stage.version, stage.before, stage.after) == (
        "1",
        {"stage": "None"},
        {"stage": "Staging"},
    )
    assert all(c.user for c in changes)
    page = client.get_registry_history(name, max_results=2)
    assert len(page) == 2 and page.token
    rest = client.get_registry_history(name, max_results=10, page_token=page.token)
    assert [c.action for c in rest] == actions[2:]


# ------------------------------------------------------------------ webhooks
@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A live HTTP receiver on loopback (allowed for this test): its URL and what it got."""
    monkeypatch.setenv("WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS", "true")
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    with live_server(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        yield f"{url}/hook", received


def test_webhooks(client: Client, receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    hook = client.create_webhook(
        "ci",
        url,
        ["model_version.created", WebhookEvent("REGISTERED_MODEL", "CREATED")],
        secret="s",
    )
    assert hook.events == [
        WebhookEvent("MODEL_VERSION", "CREATED"),
        WebhookEvent("REGISTERED_MODEL", "CREATED"),
    ]
    assert client.get_webhook(hook.webhook_id).url == url
    assert [h.webhook_id for h in client.list_webhooks()] == [hook.webhook_id]

    result = client.test_webhook(hook.webhook_id, "model_version.created")
    assert (result.success, result.response_status) == (True, 200)
    assert received[-1]["entity"] == "model_version"
    deliveries = client.list_webhook_deliveries(hook.webhook_id)
    assert deliveries[0].success and deliveries[0].response_status == 200

    # A real event: creating a version is delivered in the background.
    name = new_model(client, versions=1)
    deadline = time.monotonic() + 15
    while not any(r.get("data", {}).get("name") == name for r in received[1:]):
        assert time.monotonic() < deadline, received
        time.sleep(0.05)

    updated = client.update_webhook(
        hook.webhook_id, status="DISABLED", events=["model_version.created"]
    )
    assert updated.status == WebhookStatus.DISABLED
    assert updated.events == [WebhookEvent("MODEL_VERSION", "CREATED")]
    with pytest.raises(InvalidParameter):
        client.create_webhook("bad", url, ["model_version.exploded"])
    client.delete_webhook(hook.webhook_id)
    with pytest.raises(NotFound):
        client.get_webhook(hook.webhook_id)


# ------------------------------------------------------------------ a separate registry
def test_a_registry_uri_apart_from_the_tracking_uri(
    client: Client, make_database: Callable[[str], str]
) -> None:
    registry_uri = make_database("sqlite")
    apart = Client(client.tracking_uri, registry_uri=registry_uri)
    assert apart.registry_uri == registry_uri
    name = new_model(apart, versions=1)
    assert Client(registry_uri).get_model_version(name, 1).version == "1"
    with pytest.raises(NotFound):
        client.get_registered_model(name)
