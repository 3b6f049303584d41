"""Run, value and metric-history RPCs over HTTP (spec rest-tracking.md §4, §10)."""

from __future__ import annotations

from typing import Any

import httpx

from ._support import API, get_run, new_run, post, unique
from .conftest import MakeClient

T0 = 1795755946334


def test_happy_path_transcript(client: httpx.Client) -> None:
    """The call sequence MLflow's client makes for a small script (spec §10)."""
    name = unique()
    experiment_id = post(
        client, "experiments/create", {"name": name, "tags": [{"key": "team", "value": "a"}]}
    )["experiment_id"]
    absent = client.get(f"{API}/experiments/get-by-name", params={"experiment_name": name + "b"})
    assert absent.status_code == 404
    tags = [
        {"key": "mlflow.user", "value": "root"},
        {"key": "mlflow.source.name", "value": "s1.py"},
        {"key": "mlflow.source.type", "value": "LOCAL"},
        {"key": "mlflow.runName", "value": "r1"},
    ]
    body = {"experiment_id": experiment_id, "user_id": "root", "run_name": "r1"}
    run = post(client, "runs/create", {**body, "start_time": T0, "tags": tags})["run"]
    r = run["info"]["run_id"]
    assert run["info"]["status"] == "RUNNING"
    assert run["info"]["run_uuid"] == r
    assert run["info"]["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{r}/artifacts"
    assert "end_time" not in run["info"]
    assert "metrics" not in run["data"] and "params" not in run["data"]
    assert run["inputs"] == {}

    ids = {"run_uuid": r, "run_id": r}
    assert post(client, "runs/log-parameter", {**ids, "key": "alpha", "value": "0.5"}) == {}
    metric = {"key": "loss", "value": 1.5, "timestamp": T0 + 37, "step": 3}
    assert post(client, "runs/log-metric", {**ids, **metric}) == {}
    batch = {"key": "a", "value": 1.0, "timestamp": T0 + 94, "step": 0, "run_id": r}
    assert post(client, "runs/log-batch", {"run_id": r, "metrics": [batch]}) == {}
    get_run(client, r)
    update = {**ids, "status": "FINISHED", "end_time": T0 + 464}
    info = post(client, "runs/update", update)["run_info"]
    assert (info["status"], info["end_time"]) == ("FINISHED", T0 + 464)

    data = get_run(client, r)["data"]
    assert data["params"] == [{"key": "alpha", "value": "0.5"}]
    metrics = {m["key"]: m for m in data["metrics"]}
    assert metrics["loss"] == {"key": "loss", "value": 1.5, "timestamp": T0 + 37, "step": 3}
    assert metrics["a"]["value"] == 1.0
    assert {"key": "mlflow.runName", "value": "r1"} in data["tags"]


def test_nan_and_infinities_travel_as_strings(client: httpx.Client) -> None:
    _, r = new_run(client)
    for i, value in enumerate(["NaN", "Infinity", "-Infinity"]):
        post(client, "runs/log-metric", {"run_id": r, "key": "m", "value": value, "timestamp": i})
    history = client.get(f"{API}/metrics/get-history", params={"run_id": r, "metric_key": "m"})
    values = [point["value"] for point in history.json()["metrics"]]
    assert values[0] == "NaN"
    # The SQL store clamps infinities to the largest doubles on read-back, as MLflow's does.
    assert values[1] in ("Infinity", 1.7976931348623157e308)
    assert values[2] in ("-Infinity", -1.7976931348623157e308)


def test_unknown_run_is_404(client: httpx.Client) -> None:
    response = client.get(f"{API}/runs/get", params={"run_id": "abc"})
    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_run_id_is_required_in_either_spelling(client: httpx.Client) -> None:
    response = client.post(f"{API}/runs/log-metric", json={"key": "m", "value": 1, "timestamp": 1})
    assert response.status_code == 400
    assert "run_id" in response.json()["message"]
    _, r = new_run(client)
    legacy = {"run_uuid": r, "key": "m", "value": 2, "timestamp": 1}
    assert client.post(f"{API}/runs/log-metric", json=legacy).status_code == 200


def test_create_run_needs_an_experiment_id(client: httpx.Client) -> None:
    response = client.post(f"{API}/runs/create", json={"run_name": "x"})
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_params_are_immutable(client: httpx.Client) -> None:
    _, r = new_run(client)
    param = {"run_id": r, "key": "p", "value": "1"}
    post(client, "runs/log-parameter", param)
    post(client, "runs/log-parameter", param)  # the same value again is fine
    changed = client.post(f"{API}/runs/log-parameter", json={**param, "value": "2"})
    assert (changed.status_code, changed.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_tags_rename_delete_and_restore(client: httpx.Client) -> None:
    _, r = new_run(client, run_name="first")
    post(client, "runs/set-tag", {"run_id": r, "key": "k", "value": "v"})
    post(client, "runs/delete-tag", {"run_id": r, "key": "k"})
    missing = client.post(f"{API}/runs/delete-tag", json={"run_id": r, "key": "k"})
    assert missing.status_code == 404
    info = post(client, "runs/update", {"run_id": r, "run_name": "second"})["run_info"]
    assert info["run_name"] == "second"
    assert {"key": "mlflow.runName", "value": "second"} in get_run(client, r)["data"]["tags"]

    assert post(client, "runs/delete", {"run_id": r}) == {}
    assert get_run(client, r)["info"]["lifecycle_stage"] == "deleted"
    write = client.post(f"{API}/runs/set-tag", json={"run_id": r, "key": "k", "value": "v"})
    assert (write.status_code, write.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert post(client, "runs/restore", {"run_id": r}) == {}
    assert get_run(client, r)["info"]["lifecycle_stage"] == "active"


def test_log_batch_limits(client: httpx.Client) -> None:
    _, r = new_run(client)
    params = [{"key": "p", "value": "1"}, {"key": "p", "value": "1"}]
    duplicate = client.post(f"{API}/runs/log-batch", json={"run_id": r, "params": params})
    assert duplicate.status_code == 400
    huge = [{"key": f"k{i}", "value": "x" * 5000} for i in range(100)] * 3
    too_big = client.post(f"{API}/runs/log-batch", json={"run_id": r, "tags": huge})
    assert too_big.status_code == 400
    assert "bytes" in too_big.json()["message"]


def test_log_inputs(client: httpx.Client) -> None:
    _, r = new_run(client)
    dataset = {
        "name": "train",
        "digest": "b7766ffa",
        "source_type": "s3",
        "source": '{"uri": "s3://bucket/data.csv"}',
    }
    entry = {"tags": [{"key": "mlflow.data.context", "value": "training"}], "dataset": dataset}
    for _ in range(2):  # the same dataset twice is stored once
        post(client, "runs/log-inputs", {"run_id": r, "datasets": [entry]})
    assert get_run(client, r)["inputs"] == {"dataset_inputs": [entry]}


def test_search_runs_pages(make_client: MakeClient) -> None:
    with make_client() as http:
        experiment_id, _ = new_run(http, start_time=T0)
        for i in range(1, 5):
            post(http, "runs/create", {"experiment_id": experiment_id, "start_time": T0 + i})
        body: dict[str, Any] = {"experiment_ids": [experiment_id], "max_results": 2}
        starts: list[int] = []
        while True:
            page = post(http, "runs/search", body)
            starts += [run["info"]["start_time"] for run in page["runs"]]
            if "next_page_token" not in page:
                break
            body["page_token"] = page["next_page_token"]
        assert starts == [T0 + i for i in range(4, -1, -1)]  # start_time DESC by default
        filtered = {
            "experiment_ids": [experiment_id],
            "filter": f"attributes.start_time > {T0 + 2}",
        }
        assert len(post(http, "runs/search", filtered)["runs"]) == 2
        assert post(http, "runs/search", {"experiment_ids": ["12345"]}) == {}


def test_metric_history_pages(client: httpx.Client) -> None:
    _, r = new_run(client)
    metrics = [{"key": "h", "value": float(i), "timestamp": T0, "step": i} for i in range(5)]
    post(client, "runs/log-batch", {"run_id": r, "metrics": metrics})
    url = f"{API}/metrics/get-history"
    everything = client.get(url, params={"run_id": r, "run_uuid": r, "metric_key": "h"}).json()
    assert [m["step"] for m in everything["metrics"]] == [0, 1, 2, 3, 4]
    assert "next_page_token" not in everything

    params: dict[str, Any] = {"run_id": r, "metric_key": "h", "max_results": 2}
    steps: list[int] = []
    while True:
        page = client.get(url, params=params).json()
        steps += [m["step"] for m in page["metrics"]]
        if "next_page_token" not in page:
            break
        params["page_token"] = page["next_page_token"]
    assert steps == [0, 1, 2, 3, 4]
    bad = client.get(url, params={"run_id": r, "metric_key": "h", "max_results": 0})
    assert bad.status_code == 400


def test_get_with_repeated_keys_takes_the_first_scalar(client: httpx.Client) -> None:
    _, r = new_run(client)
    response = client.get(f"{API}/runs/get", params=[("run_id", r), ("run_id", "other")])
    assert response.json()["run"]["info"]["run_id"] == r
    # Repeated fields arrive as repeated keys, and a single occurrence is a one-item list.
    prefix = unique("repeated")
    names = [f"{prefix}-b", f"{prefix}-a"]
    for name in names:
        client.post(f"{API}/experiments/create", json={"name": name})
    url = f"{API}/experiments/search"
    match = f"name LIKE '{prefix}-%'"
    several = {"filter": match, "order_by": ["name ASC", "experiment_id"]}  # repeated keys
    listed = client.get(url, params=several).json()["experiments"]
    assert [e["name"] for e in listed] == sorted(names)
    one = client.get(url, params={"filter": match, "order_by": "name DESC"}).json()
    assert [e["name"] for e in one["experiments"]] == sorted(names, reverse=True)
