"""Experiment RPCs over HTTP: shapes, statuses and paging (spec rest-tracking.md §3)."""

from __future__ import annotations

import httpx

from ._support import API, unique
from .conftest import MakeClient


def create(client: httpx.Client, name: str, **body: object) -> str:
    response = client.post(f"{API}/experiments/create", json={"name": name, **body})
    assert response.status_code == 200, response.text
    experiment_id = response.json()["experiment_id"]
    assert isinstance(experiment_id, str)
    return experiment_id


def get(client: httpx.Client, experiment_id: str) -> dict[str, object]:
    response = client.get(f"{API}/experiments/get", params={"experiment_id": experiment_id})
    assert response.status_code == 200, response.text
    experiment: dict[str, object] = response.json()["experiment"]
    return experiment


def test_create_and_get_shape(client: httpx.Client) -> None:
    name = unique()
    experiment_id = create(client, name, tags=[{"key": "team", "value": "a"}])
    experiment = get(client, experiment_id)
    assert experiment["name"] == name
    assert experiment["lifecycle_stage"] == "active"
    # The server's default root is the artifact proxy, so clients never need credentials.
    assert experiment["artifact_location"] == f"mlflow-artifacts:/{experiment_id}"
    assert experiment["tags"] == [{"key": "team", "value": "a"}]
    assert isinstance(experiment["creation_time"], int)  # int64 travels as a JSON number
    assert isinstance(experiment["last_update_time"], int)


def test_explicit_artifact_location_and_no_tags(client: httpx.Client) -> None:
    experiment_id = create(client, unique(), artifact_location="s3://bucket/somewhere")
    experiment = get(client, experiment_id)
    assert experiment["artifact_location"] == "s3://bucket/somewhere"
    assert "tags" not in experiment  # unset repeated fields are omitted


def test_duplicate_name_is_400_resource_already_exists(client: httpx.Client) -> None:
    name = unique()
    create(client, name)
    response = client.post(f"{API}/experiments/create", json={"name": name})
    assert response.status_code == 400
    assert response.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    assert set(response.json()) == {"error_code", "message"}


def test_unknown_id_is_404_resource_does_not_exist(client: httpx.Client) -> None:
    response = client.get(f"{API}/experiments/get", params={"experiment_id": "999999"})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_get_by_name(client: httpx.Client) -> None:
    name = unique()
    experiment_id = create(client, name)
    url = f"{API}/experiments/get-by-name"
    found = client.get(url, params={"experiment_name": name})
    assert found.json()["experiment"]["experiment_id"] == experiment_id
    missing = client.get(url, params={"experiment_name": unique()})
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_rename_delete_restore(client: httpx.Client) -> None:
    experiment_id = create(client, unique())
    new_name = unique()
    body = {"experiment_id": experiment_id, "new_name": new_name}
    assert client.post(f"{API}/experiments/update", json=body).json() == {}
    assert get(client, experiment_id)["name"] == new_name

    assert (
        client.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}).json() == {}
    )
    deleted = client.get(f"{API}/experiments/get-by-name", params={"experiment_name": new_name})
    assert deleted.json()["experiment"]["lifecycle_stage"] == "deleted"
    # A deleted experiment keeps its name and refuses new runs.
    again = client.post(f"{API}/experiments/create", json={"name": new_name})
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    run = client.post(f"{API}/runs/create", json={"experiment_id": experiment_id})
    assert (run.status_code, run.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")

    client.post(f"{API}/experiments/restore", json={"experiment_id": experiment_id})
    assert get(client, experiment_id)["lifecycle_stage"] == "active"


def test_update_without_new_name_still_checks_the_id(client: httpx.Client) -> None:
    response = client.post(f"{API}/experiments/update", json={"experiment_id": "424242"})
    assert response.status_code == 404


def test_set_and_delete_experiment_tag(client: httpx.Client) -> None:
    experiment_id = create(client, unique())
    tag = {"experiment_id": experiment_id, "key": "k", "value": "v1"}
    assert client.post(f"{API}/experiments/set-experiment-tag", json=tag).json() == {}
    client.post(f"{API}/experiments/set-experiment-tag", json={**tag, "value": "v2"})
    assert get(client, experiment_id)["tags"] == [{"key": "k", "value": "v2"}]
    body = {"experiment_id": experiment_id, "key": "k"}
    assert client.post(f"{API}/experiments/delete-experiment-tag", json=body).json() == {}
    assert "tags" not in get(client, experiment_id)


def test_search_pages_by_post_and_get(make_client: MakeClient) -> None:
    with make_client() as http:
        ids = [create(http, f"paged-{i}") for i in range(5)]
        seen: list[str] = []
        body: dict[str, object] = {"max_results": 2, "filter": "name LIKE 'paged-%'"}
        pages = 0
        while True:
            page = http.post(f"{API}/experiments/search", json=body).json()
            pages += 1
            seen += [experiment["experiment_id"] for experiment in page["experiments"]]
            if "next_page_token" not in page:
                break
            body["page_token"] = page["next_page_token"]
        assert pages == 3
        assert sorted(seen) == sorted(ids)

        # GET with query parameters; the default experiment is active too.
        listed = http.get(f"{API}/experiments/search", params={"view_type": "ALL"}).json()
        assert len(listed["experiments"]) == 6
        assert "next_page_token" not in listed

        http.post(f"{API}/experiments/delete", json={"experiment_id": ids[0]})
        deleted = http.post(f"{API}/experiments/search", json={"view_type": "DELETED_ONLY"})
        assert [e["experiment_id"] for e in deleted.json()["experiments"]] == [ids[0]]

        none = http.post(f"{API}/experiments/search", json={"filter": "name = 'nothing'"})
        assert none.json() == {}


def test_search_rejects_bad_values(client: httpx.Client) -> None:
    for body in ({"max_results": 0}, {"view_type": "SOME"}, {"filter": "name ==="}):
        response = client.post(f"{API}/experiments/search", json=body)
        assert response.status_code == 400, body
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
