"""The model registry over HTTP: a live uvicorn server on a fresh SQLite store.

Every endpoint of spec rest-registry.md §2 and §4 plus Wayline's two extensions (history,
deliveries) answers bad input with 400/404 in MLflow's error shape, never a 5xx; the registry
endpoints are called as MLflow's client calls them (GETs with query strings, everything else with
a JSON body, DELETEs included); bad input answers 400/404 in MLflow's error shape, never a 5xx.
The acting user of each request (Basic auth, ``X-Wayline-User``, anonymous) shows in the audit
trail, and the REST store speaks to the same server through the same route table. Webhooks are
in ``test_registry_webhooks.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from wayline.entities.registry import ModelVersionTag, RegisteredModelTag, Stage
from wayline.errors import InvalidParameter, NotFound
from wayline.protocol import REGISTRY_ROUTES, WEBHOOK_ROUTES, Route, urls
from wayline.server.registry_routes import REGISTRY_HANDLERS
from wayline.store.registry import acting_user
from wayline.store.rest import RestStore

from . import _registry_support
from ._registry_support import (
    AJAX,
    API,
    call,
    error,
    history,
    new_run,
    ok,
    unique,
)

# The shared fixtures, found by pytest under these names.
server, http, rest = _registry_support.server, _registry_support.http, _registry_support.rest


# ---------------------------------------------------------------- the table is served
def test_every_registry_route_has_a_handler() -> None:
    names = {r.name for r in (*REGISTRY_ROUTES, *WEBHOOK_ROUTES)}
    assert names == set(REGISTRY_HANDLERS)


@pytest.mark.parametrize("entry", [*REGISTRY_ROUTES, *WEBHOOK_ROUTES], ids=lambda entry: entry.name)
def test_empty_requests_are_client_errors_at_both_prefixes(
    http: httpx.Client, entry: Route
) -> None:
    # Path parameters get an id that does not exist; everything else is left out.
    for template in urls(entry):
        url = template.replace("{webhook_id}", "no-such-webhook")
        for method in entry.methods:
            body: dict[str, Any] | None = None if method == "GET" else {}
            response = http.request(method, url, json=body)
            assert response.headers["content-type"] == "application/json", (method, url)
            # Searches and lists answer an empty page; everything else names what is missing.
            assert response.status_code in (200, 400, 404), (method, url, response.text)
            if response.status_code != 200:
                assert set(response.json()) >= {"error_code", "message"}


# ---------------------------------------------------------------- registered models
def test_registered_model_lifecycle(http: httpx.Client) -> None:
    name = unique()
    created = ok(
        http,
        "POST",
        "registered-models/create",
        {"name": name, "tags": [{"key": "team", "value": "a"}], "description": "first"},
    )["registered_model"]
    assert created["name"] == name
    assert created["description"] == "first"
    assert created["tags"] == [{"key": "team", "value": "a"}]
    assert created["creation_timestamp"] == created["last_updated_timestamp"]
    assert "latest_versions" not in created and "aliases" not in created

    got = ok(http, "GET", "registered-models/get", {"name": name})["registered_model"]
    assert got == created

    ok(http, "POST", "registered-models/set-tag", {"name": name, "key": "k", "value": ""})
    updated = ok(
        http, "PATCH", "registered-models/update", {"name": name, "description": "second"}
    )["registered_model"]
    assert updated["description"] == "second"
    assert {"key": "k", "value": ""} in updated["tags"]
    # DELETE with a JSON body, as MLflow's client sends it.
    assert ok(http, "DELETE", "registered-models/delete-tag", {"name": name, "key": "k"}) == {}
    tags = ok(http, "GET", "registered-models/get", {"name": name})["registered_model"]["tags"]
    assert tags == [{"key": "team", "value": "a"}]

    new_name = unique("renamed")
    renamed = ok(http, "POST", "registered-models/rename", {"name": name, "new_name": new_name})
    assert renamed["registered_model"]["name"] == new_name
    error(
        call(http, "GET", "registered-models/get", {"name": name}), 404, "RESOURCE_DOES_NOT_EXIST"
    )

    assert ok(http, "DELETE", "registered-models/delete", {"name": new_name}) == {}
    error(
        call(http, "GET", "registered-models/get", {"name": new_name}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"Registered Model with name={new_name} not found",
    )


def test_registered_model_errors_are_mlflows(http: httpx.Client) -> None:
    name = unique()
    ok(http, "POST", "registered-models/create", {"name": name})
    error(
        call(http, "POST", "registered-models/create", {"name": name}),
        400,
        "RESOURCE_ALREADY_EXISTS",
        f"Registered Model (name={name}) already exists.",
    )
    missing_name = (
        "Missing value for required parameter 'name'. "
        "See the API docs for more information about request parameters."
    )
    for body in ({}, {"name": ""}):
        error(
            call(http, "POST", "registered-models/create", body),
            400,
            "INVALID_PARAMETER_VALUE",
            missing_name,
        )
    error(
        call(http, "GET", "registered-models/get", {"name": ""}),
        400,
        "INVALID_PARAMETER_VALUE",
        missing_name,
    )
    for body in ({"name": name}, {"name": name, "new_name": ""}):
        response = call(http, "POST", "registered-models/rename", body)
        error(response, 400, "INVALID_PARAMETER_VALUE")
        assert "'new_name'" in response.json()["message"]
    error(
        call(
            http, "POST", "registered-models/set-tag", {"name": unique(), "key": "k", "value": ""}
        ),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    malformed = http.post(
        f"{API}/registered-models/create",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    error(malformed, 400, "INVALID_PARAMETER_VALUE")
    wrong_type = call(http, "POST", "registered-models/create", {"name": ["a"]})
    error(wrong_type, 400, "INVALID_PARAMETER_VALUE")


# ---------------------------------------------------------------- model versions
def test_model_version_lifecycle(http: httpx.Client) -> None:
    name = unique()
    run_id = new_run(http)
    ok(http, "POST", "registered-models/create", {"name": name})
    source = f"runs:/{run_id}/model"
    v1 = ok(
        http,
        "POST",
        "model-versions/create",
        {"name": name, "source": source, "run_id": run_id, "description": "d1"},
    )["model_version"]
    assert (v1["version"], v1["current_stage"], v1["status"]) == ("1", "None", "READY")
    assert (v1["source"], v1["run_id"], v1["run_link"]) == (source, run_id, "")
    v2 = ok(
        http,
        "POST",
        "model-versions/create",
        {"name": name, "source": "s3://bucket/v2", "tags": [{"key": "t", "value": "1"}]},
    )["model_version"]
    assert (v2["version"], v2["description"], v2["run_id"]) == ("2", "", "")
    assert v2["tags"] == [{"key": "t", "value": "1"}]

    got = ok(http, "GET", "model-versions/get", {"name": name, "version": "1"})["model_version"]
    assert got == v1
    described = ok(
        http, "PATCH", "model-versions/update", {"name": name, "version": "2", "description": "x"}
    )["model_version"]
    assert described["description"] == "x"

    ok(
        http,
        "POST",
        "model-versions/set-tag",
        {"name": name, "version": "1", "key": "a", "value": "b"},
    )
    ok(http, "DELETE", "model-versions/delete-tag", {"name": name, "version": "2", "key": "t"})
    v1_tags = ok(http, "GET", "model-versions/get", {"name": name, "version": 1})
    assert v1_tags["model_version"]["tags"] == [{"key": "a", "value": "b"}]
    v2_now = ok(http, "GET", "model-versions/get", {"name": name, "version": 2})["model_version"]
    assert "tags" not in v2_now

    staged = ok(
        http,
        "POST",
        "model-versions/transition-stage",
        {"name": name, "version": "1", "stage": "staging", "archive_existing_versions": False},
    )["model_version"]
    assert staged["current_stage"] == "Staging"
    produced = ok(
        http,
        "POST",
        "model-versions/transition-stage",
        {"name": name, "version": "2", "stage": "Staging", "archive_existing_versions": True},
    )["model_version"]
    assert produced["current_stage"] == "Staging"
    archived = ok(http, "GET", "model-versions/get", {"name": name, "version": "1"})
    assert archived["model_version"]["current_stage"] == "Archived"

    # POST as MLflow's client sends it, and GET as the spec allows.
    latest = ok(http, "POST", "registered-models/get-latest-versions", {"name": name})
    assert sorted((v["version"], v["current_stage"]) for v in latest["model_versions"]) == [
        ("1", "Archived"),
        ("2", "Staging"),
    ]
    staging = http.get(
        f"{API}/registered-models/get-latest-versions",
        params=[("name", name), ("stages", "staging")],
    )
    assert [v["version"] for v in staging.json()["model_versions"]] == ["2"]
    none = ok(
        http, "POST", "registered-models/get-latest-versions", {"name": name, "stages": ["None"]}
    )
    assert none == {}

    uri = ok(http, "GET", "model-versions/get-download-uri", {"name": name, "version": "2"})
    assert uri == {"artifact_uri": "s3://bucket/v2"}

    assert ok(http, "DELETE", "model-versions/delete", {"name": name, "version": "2"}) == {}
    error(
        call(http, "GET", "model-versions/get", {"name": name, "version": "2"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"Model Version (name={name}, version=2) not found",
    )
    v3 = ok(http, "POST", "model-versions/create", {"name": name, "source": "s3://b/3"})
    assert v3["model_version"]["version"] == "3"  # a deleted number is never reused


def test_model_version_errors_are_mlflows(http: httpx.Client) -> None:
    name = unique()
    ok(http, "POST", "registered-models/create", {"name": name})
    ok(http, "POST", "model-versions/create", {"name": name, "source": "s3://b/1"})
    error(
        call(http, "GET", "model-versions/get", {"name": name, "version": "abc"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Parameter 'version' must be an integer, got 'abc'.",
    )
    error(
        call(
            http,
            "POST",
            "model-versions/set-tag",
            {"name": name, "version": "x", "key": "k", "value": "v"},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "Parameter 'version' must be an integer, got 'x'.",
    )
    for params in ({"name": name}, {"name": name, "version": ""}):
        response = call(http, "GET", "model-versions/get", params)
        error(response, 400, "INVALID_PARAMETER_VALUE")
        assert "required parameter 'version'" in response.json()["message"]
    error(
        call(http, "GET", "model-versions/get", {"name": name, "version": "9"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"Model Version (name={name}, version=9) not found",
    )
    error(
        call(http, "POST", "model-versions/create", {"name": name}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Missing value for required parameter 'source'. "
        "See the API docs for more information about request parameters.",
    )
    error(
        call(
            http,
            "POST",
            "model-versions/transition-stage",
            {"name": name, "version": "1", "stage": "bogus", "archive_existing_versions": False},
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "Invalid Model Version stage: bogus. Value must be one of None, Staging, Production,"
        " Archived.",
    )
    not_a_bool = call(
        http,
        "POST",
        "model-versions/transition-stage",
        {"name": name, "version": "1", "stage": "Staging", "archive_existing_versions": "maybe"},
    )
    error(not_a_bool, 400, "INVALID_PARAMETER_VALUE")
    error(
        call(http, "POST", "model-versions/create", {"name": unique(), "source": "s3://b"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


# ---------------------------------------------------------------- aliases and search
def test_aliases(http: httpx.Client) -> None:
    name = unique()
    ok(http, "POST", "registered-models/create", {"name": name})
    for source in ("s3://b/1", "s3://b/2"):
        ok(http, "POST", "model-versions/create", {"name": name, "source": source})
    ok(http, "POST", "registered-models/alias", {"name": name, "alias": "champ", "version": "1"})
    by_alias = ok(http, "GET", "registered-models/alias", {"name": name, "alias": "champ"})
    assert by_alias["model_version"]["version"] == "1"
    assert by_alias["model_version"]["aliases"] == ["champ"]
    model = ok(http, "GET", "registered-models/get", {"name": name})["registered_model"]
    assert model["aliases"] == [{"alias": "champ", "version": "1"}]
    latest = ok(http, "GET", "registered-models/alias", {"name": name, "alias": "latest"})
    assert latest["model_version"]["version"] == "2"
    error(
        call(
            http, "POST", "registered-models/alias", {"name": name, "alias": "v2", "version": "1"}
        ),
        400,
        "INVALID_PARAMETER_VALUE",
        "Version alias name 'v2' is reserved.",
    )
    error(
        call(http, "GET", "registered-models/alias", {"name": name, "alias": "zzz"}),
        400,
        "INVALID_PARAMETER_VALUE",
        "Registered model alias zzz not found.",
    )
    # Moving the alias, then deleting it with a DELETE body.
    ok(http, "POST", "registered-models/alias", {"name": name, "alias": "champ", "version": 2})
    moved = ok(http, "GET", "registered-models/alias", {"name": name, "alias": "champ"})
    assert moved["model_version"]["version"] == "2"
    assert ok(http, "DELETE", "registered-models/alias", {"name": name, "alias": "champ"}) == {}
    model = ok(http, "GET", "registered-models/get", {"name": name})["registered_model"]
    assert "aliases" not in model


def test_searches_page_and_exclude_prompts(http: httpx.Client) -> None:
    prefix = unique("search")
    for i in range(3):
        ok(http, "POST", "registered-models/create", {"name": f"{prefix}-{i}"})
        ok(http, "POST", "model-versions/create", {"name": f"{prefix}-{i}", "source": "s3://b"})
    prompt = f"{prefix}-prompt"
    ok(
        http,
        "POST",
        "registered-models/create",
        {"name": prompt, "tags": [{"key": "mlflow.prompt.is_prompt", "value": "true"}]},
    )
    like = f"name LIKE '{prefix}%'"
    first = ok(http, "GET", "registered-models/search", {"filter": like, "max_results": 2})
    assert [m["name"] for m in first["registered_models"]] == [f"{prefix}-0", f"{prefix}-1"]
    second = ok(
        http,
        "GET",
        "registered-models/search",
        {"filter": like, "max_results": 2, "page_token": first["next_page_token"]},
    )
    assert [m["name"] for m in second["registered_models"]] == [f"{prefix}-2"]
    assert "next_page_token" not in second
    descending = http.get(
        f"{API}/registered-models/search",
        params=[("filter", like), ("order_by", "name DESC")],
    ).json()
    assert descending["registered_models"][0]["name"] == f"{prefix}-2"
    prompts = ok(
        http,
        "GET",
        "registered-models/search",
        {"filter": f"tags.`mlflow.prompt.is_prompt` = 'true' AND {like}"},
    )
    assert [m["name"] for m in prompts["registered_models"]] == [prompt]
    versions = ok(
        http,
        "GET",
        "model-versions/search",
        {"filter": f"name = '{prefix}-1'", "order_by": "version_number DESC"},
    )
    assert [(v["name"], v["version"]) for v in versions["model_versions"]] == [(f"{prefix}-1", "1")]
    nothing = ok(http, "GET", "model-versions/search", {"filter": "name = 'no-such-model'"})
    assert nothing == {}
    error(
        call(http, "GET", "registered-models/search", {"order_by": "bogus"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error(
        call(http, "GET", "registered-models/search", {"max_results": "x"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_ajax_prefix_serves_the_same_api(http: httpx.Client) -> None:
    name = unique("ajax")
    created = http.post(f"{AJAX}/registered-models/create", json={"name": name})
    assert created.status_code == 200, created.text
    got = http.get(f"{AJAX}/registered-models/get", params={"name": name})
    assert got.json()["registered_model"]["name"] == name
    deleted = http.request("DELETE", f"{AJAX}/registered-models/delete", json={"name": name})
    assert deleted.status_code == 200
    assert http.get(f"{API}/registered-models/get", params={"name": name}).status_code == 404


# ---------------------------------------------------------------- who acts
def _basic(user: str, password: str = "pw") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_acting_user_comes_from_basic_auth_then_header(http: httpx.Client) -> None:
    name = unique("audit")
    ok(http, "POST", "registered-models/create", {"name": name})  # anonymous
    tag = {"name": name, "key": "k", "value": "v"}
    header = {"X-Wayline-User": "bob"}
    assert call(http, "POST", "registered-models/set-tag", tag, headers=header).status_code == 200
    both = {"Authorization": _basic("alice"), "X-Wayline-User": "bob"}
    response = call(http, "POST", "registered-models/set-tag", {**tag, "value": "w"}, headers=both)
    assert response.status_code == 200
    encoded = {"X-Wayline-User": "j%C3%BCrgen"}  # how the REST store sends non-ASCII names
    untag = {"name": name, "key": "k"}
    response = call(http, "DELETE", "registered-models/delete-tag", untag, headers=encoded)
    assert response.status_code == 200

    changes = history(http, name)
    assert [(c["action"], c["user"]) for c in changes] == [
        ("registered_model_tag.deleted", "jürgen"),
        ("registered_model_tag.set", "alice"),
        ("registered_model_tag.set", "bob"),
        ("registered_model.created", "anonymous"),
    ]
    assert "w" in json.dumps(changes[1]["after"])
    assert {c["name"] for c in changes} == {name}


def test_history_pages_and_survives_deletion(http: httpx.Client) -> None:
    name = unique("hist")
    ok(http, "POST", "registered-models/create", {"name": name})
    ok(http, "POST", "model-versions/create", {"name": name, "source": "s3://b"})
    ok(
        http,
        "POST",
        "model-versions/transition-stage",
        {"name": name, "version": "1", "stage": "Production", "archive_existing_versions": False},
    )
    ok(http, "DELETE", "registered-models/delete", {"name": name})
    page = ok(http, "GET", "registered-models/history", {"name": name, "max_results": 2})
    assert len(page["changes"]) == 2 and page["next_page_token"]
    assert page["changes"][0]["action"] == "registered_model.deleted"
    older = ok(
        http,
        "GET",
        "registered-models/history",
        {"name": name, "page_token": page["next_page_token"]},
    )
    actions = [c["action"] for c in page["changes"] + older["changes"]]
    assert actions[-1] == "registered_model.created"
    transition = next(
        c for c in page["changes"] + older["changes"] if c["action"].endswith("stage_transitioned")
    )
    assert transition["version"] == "1"
    assert (transition["before"], transition["after"]) == (
        {"stage": "None"},
        {"stage": "Production"},
    )
    error(
        call(http, "GET", "registered-models/history", {}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


# ---------------------------------------------------------------- the REST store
def test_rest_store_runs_the_registry_against_the_server(rest: RestStore) -> None:
    name = unique("rest")
    model = rest.create_registered_model(name, [RegisteredModelTag("a", "1")], "desc")
    assert (model.name, model.tags, model.description) == (name, {"a": "1"}, "desc")
    version = rest.create_model_version(
        name, "s3://bucket/m", tags=[ModelVersionTag("t", "x")], description="v1"
    )
    assert (version.version, version.tags, version.current_stage) == ("1", {"t": "x"}, Stage.NONE)
    rest.set_registered_model_alias(name, "prod", 1)
    assert rest.get_model_version_by_alias(name, "prod").aliases == ["prod"]
    assert rest.get_registered_model(name).aliases == {"prod": "1"}
    moved = rest.transition_model_version_stage(name, "1", Stage.PRODUCTION)
    assert moved.current_stage == Stage.PRODUCTION
    assert [v.version for v in rest.get_latest_versions(name, ["production"])] == ["1"]
    assert rest.get_model_version_download_uri(name, 1) == "s3://bucket/m"
    rest.set_model_version_tag(name, 1, ModelVersionTag("u", "y"))
    rest.delete_model_version_tag(name, "1", "t")
    assert rest.get_model_version(name, "1").tags == {"u": "y"}
    found = rest.search_model_versions(f"name = '{name}'")
    assert [v.version for v in found] == ["1"]
    assert [m.name for m in rest.search_registered_models(f"name = '{name}'")] == [name]
    assert rest.update_model_version(name, 1, "new").description == "new"
    assert rest.update_registered_model(name, "other").description == "other"
    rest.set_registered_model_tag(name, RegisteredModelTag("b", "2"))
    rest.delete_registered_model_tag(name, "a")
    rest.delete_registered_model_alias(name, "prod")
    renamed = rest.rename_registered_model(name, f"{name}-2")
    assert renamed.tags == {"b": "2"}

    token = acting_user.set("carol")  # the REST store sends it as X-Wayline-User
    try:
        rest.delete_model_version(f"{name}-2", 1)
    finally:
        acting_user.reset(token)
    changes = rest.get_registry_history(f"{name}-2")
    assert changes[0].action == "model_version.deleted" and changes[0].user == "carol"
    rest.delete_registered_model(f"{name}-2")

    with pytest.raises(NotFound, match="not found"):
        rest.get_registered_model(name)
    with pytest.raises(InvalidParameter, match="must be an integer"):
        rest.get_model_version(name, "abc")
    rest.create_registered_model(name)
    with pytest.raises(InvalidParameter, match="alias nope not found"):
        rest.get_model_version_by_alias(name, "nope")


def test_openapi_document_describes_the_registry(http: httpx.Client) -> None:
    document = http.get(f"{API}/openapi.json").json()
    assert "get" in document["paths"][f"{API}/registered-models/get"]
    alias = document["paths"][f"{API}/registered-models/alias"]
    assert set(alias) == {"get", "post", "delete"}
    assert set(document["paths"][f"{API}/webhooks/{{webhook_id}}"]) == {"get", "patch", "delete"}
    version = alias["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert version["required"] == ["name", "alias", "version"]
