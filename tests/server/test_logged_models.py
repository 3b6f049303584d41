"""Logged-model RPCs over HTTP (spec rest-tracking.md §2, §6): the JSON shapes and paths."""

from __future__ import annotations

from typing import Any

import httpx

from ._support import API, get_run, new_run, post, unique


def create_model(client: httpx.Client, experiment_id: str, **body: object) -> dict[str, Any]:
    response = post(client, "logged-models", {"experiment_id": experiment_id, **body})
    model: dict[str, Any] = response["model"]
    return model


def test_logged_model_json_shape(client: httpx.Client) -> None:
    experiment_id, run_id = new_run(client)
    model = create_model(
        client,
        experiment_id,
        name="model",
        source_run_id=run_id,
        tags=[{"key": "mlflow.user", "value": "me"}],
        params=[{"key": "depth", "value": "3"}],
    )
    info = model["info"]
    model_id = info["model_id"]
    assert set(info) == {
        "model_id",
        "experiment_id",
        "name",
        "creation_timestamp_ms",
        "last_updated_timestamp_ms",
        "artifact_uri",
        "status",
        "model_type",
        "source_run_id",
        "tags",
    }
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["model_type"] == ""  # always emitted, as the reference server does
    assert info["artifact_uri"].endswith(f"/{experiment_id}/models/{model_id}/artifacts")
    assert isinstance(info["creation_timestamp_ms"], int)
    assert model["data"] == {"params": [{"key": "depth", "value": "3"}]}

    # The call sequence of `mlflow.<flavor>.log_model` (spec §6), then metrics for the model.
    post(client, "runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]})
    assert client.get(f"{API}/logged-models/{model_id}").json()["model"]["info"] == info
    finalized = client.patch(
        f"{API}/logged-models/{model_id}",
        json={"model_id": model_id, "status": "LOGGED_MODEL_READY"},
    )
    assert finalized.status_code == 200, finalized.text
    assert finalized.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    metric = {"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 7, "step": 1}
    post(client, "runs/log-metric", {**metric, "model_id": model_id, "dataset_name": "eval"})

    data = client.get(f"{API}/logged-models/{model_id}").json()["model"]["data"]
    assert data["metrics"] == [
        {
            "key": "acc",
            "value": 0.5,
            "timestamp": 7,
            "step": 1,
            "dataset_name": "eval",
            "model_id": model_id,
            "run_id": run_id,
        }
    ]
    run = get_run(client, run_id)
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 0}]}
    assert run["inputs"] == {}


def test_tag_routes_and_path_parameters(client: httpx.Client) -> None:
    experiment_id, _ = new_run(client)
    model_id = create_model(client, experiment_id, name="m")["info"]["model_id"]

    response = client.patch(
        f"{API}/logged-models/{model_id}/tags",
        json={"tags": [{"key": "a/b", "value": "1"}, {"key": "c", "value": "2"}]},
    )
    assert (response.status_code, response.json()) == (200, {})
    response = client.delete(f"{API}/logged-models/{model_id}/tags/a%2Fb")
    assert (response.status_code, response.json()) == (200, {})
    tags = client.get(f"{API}/logged-models/{model_id}").json()["model"]["info"]["tags"]
    assert tags == [{"key": "c", "value": "2"}]
    post(client, f"logged-models/{model_id}/params", {"params": [{"key": "p", "value": "v"}]})

    response = client.delete(f"{API}/logged-models/{model_id}")
    assert (response.status_code, response.json()) == (200, {})
    missing = client.get(f"{API}/logged-models/{model_id}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_search_answers_empty_object_without_matches(client: httpx.Client) -> None:
    experiment_id = post(client, "experiments/create", {"name": unique()})["experiment_id"]
    body = {"experiment_ids": [experiment_id], "filter": "name = 'model'"}
    assert post(client, "logged-models/search", body) == {}

    model = create_model(client, experiment_id, name="model")
    found = post(client, "logged-models/search", {**body, "max_results": 10})
    assert [m["info"]["model_id"] for m in found["models"]] == [model["info"]["model_id"]]
    ordered = post(
        client,
        "logged-models/search",
        {
            "experiment_ids": [experiment_id],
            "order_by": [{"field_name": "metrics.acc", "ascending": False, "dataset_name": "x"}],
        },
    )
    assert len(ordered["models"]) == 1


def test_bad_input_is_400_never_500(client: httpx.Client) -> None:
    experiment_id = post(client, "experiments/create", {"name": unique()})["experiment_id"]
    model_id = create_model(client, experiment_id, name="m")["info"]["model_id"]
    bad = [
        client.patch(f"{API}/logged-models/{model_id}", json={"status": "DONE"}),
        client.patch(f"{API}/logged-models/{model_id}", json={"status": "LOGGED_MODEL_PENDING"}),
        client.patch(f"{API}/logged-models/{model_id}", json={}),
        client.post(f"{API}/logged-models", json={"name": "m"}),
        client.post(f"{API}/logged-models/search", json={"filter": "bogus = 1"}),
        client.post(f"{API}/logged-models/search", json={"order_by": [{"ascending": True}]}),
        client.post(f"{API}/logged-models/search", json={"order_by": ["name"]}),
        client.post(f"{API}/runs/outputs", json={"models": [{"model_id": model_id}]}),
    ]
    for response in bad:
        assert response.status_code == 400, response.text
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    missing = client.post(f"{API}/runs/outputs", json={"run_id": "x", "models": []})
    assert missing.status_code == 404
    artifacts = client.get(f"{API}/logged-models/{model_id}/artifacts/directories")
    assert artifacts.status_code == 200
    assert artifacts.json()["root_uri"].endswith(f"/models/{model_id}/artifacts")
