"""``metrics/get-history-bulk-interval`` over HTTP: query decoding, defaults, JSON shape."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ._support import API, new_run, post

URL = f"{API}/metrics/get-history-bulk-interval"


def log_points(client: httpx.Client, run_id: str, points: list[dict[str, Any]]) -> None:
    post(client, "runs/log-batch", {"run_id": run_id, "metrics": points})


def test_repeated_run_ids_and_json_shape(client: httpx.Client) -> None:
    _, first = new_run(client)
    _, second = new_run(client)
    log_points(client, first, [{"key": "loss", "value": "NaN", "timestamp": 7, "step": 3}])
    log_points(client, second, [{"key": "loss", "value": 0.5, "timestamp": 8, "step": 0}])

    response = client.get(
        URL, params=[("run_ids", second), ("run_ids", first), ("metric_key", "loss")]
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "metrics": [
            {"key": "loss", "value": 0.5, "timestamp": 8, "step": 0, "run_id": second},
            {"key": "loss", "value": "NaN", "timestamp": 7, "step": 3, "run_id": first},
        ]
    }


def test_max_results_defaults_to_mlflows_2500(client: httpx.Client) -> None:
    _, run_id = new_run(client)
    for start in range(0, 3000, 1000):
        batch = [
            {"key": "m", "value": i, "timestamp": i, "step": i} for i in range(start, start + 1000)
        ]
        log_points(client, run_id, batch)

    response = client.get(URL, params={"run_ids": run_id, "metric_key": "m"})

    steps = [metric["step"] for metric in response.json()["metrics"]]
    assert len(steps) == 2500
    assert (steps[0], steps[-1]) == (0, 2999)


def test_nothing_logged_is_an_empty_object(client: httpx.Client) -> None:
    _, run_id = new_run(client)

    response = client.get(URL, params={"run_ids": run_id, "metric_key": "never", "max_results": 5})

    assert response.status_code == 200
    assert response.json() == {}  # an empty repeated field is omitted, as MLflow does


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"metric_key": "m"}, id="no-run-ids"),
        pytest.param({"run_ids": "r"}, id="no-metric-key"),
        pytest.param({"run_ids": "r", "metric_key": "m", "max_results": "0"}, id="zero"),
        pytest.param({"run_ids": "r", "metric_key": "m", "max_results": "2501"}, id="too-many"),
        pytest.param({"run_ids": "r", "metric_key": "m", "max_results": "x"}, id="not-int"),
        pytest.param(
            {"run_ids": "r", "metric_key": "m", "start_step": "9", "end_step": "1"},
            id="start-after-end",
        ),
        pytest.param({"run_ids": "r", "metric_key": "m", "end_step": "2" * 30}, id="not-int64"),
    ],
)
def test_bad_requests_are_400(client: httpx.Client, params: dict[str, str]) -> None:
    response = client.get(URL, params=params)

    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_more_than_100_runs_is_400(client: httpx.Client) -> None:
    run_ids = [f"{i:032x}" for i in range(101)]

    response = client.get(URL, params={"metric_key": "m", "run_ids": run_ids})

    assert response.status_code == 400
    assert "at most 100 run_ids" in response.json()["message"]
