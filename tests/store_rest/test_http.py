"""What the REST store puts on the wire: URLs, query strings, bodies, headers and auth."""

from __future__ import annotations

import base64
import json
import math

import httpx
import pytest

from wayline import __version__
from wayline.entities import ExperimentTag, Metric, Param, RunStatus, RunTag, ViewType
from wayline.protocol.request import MLFLOW_PROTOCOL_VERSION
from wayline.store.rest import RestSettings, rest_settings_from_env

from ._support import BASE_URL, ScriptedFactory

RUN_INFO = {"run_id": "r1", "experiment_id": "0", "status": "RUNNING", "lifecycle_stage": "active"}


def _body(request: httpx.Request) -> object:
    return json.loads(request.content)


def test_run_scoped_get_sends_run_id_and_run_uuid(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(200, json={"run": {"info": RUN_INFO}}))
    assert s.store.get_run("r1").info.run_id == "r1"
    (request,) = s.requests
    assert request.method == "GET"
    assert request.url.path == "/api/2.0/mlflow/runs/get"
    assert sorted(request.url.params.multi_items()) == [("run_id", "r1"), ("run_uuid", "r1")]
    assert request.content == b""


def test_metric_history_query(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(200, json={"metrics": [], "next_page_token": "t2"}))
    page = s.store.get_metric_history("r1", "loss", max_results=5, page_token="t1")
    assert page == [] and page.token == "t2"
    params = s.requests[0].url.params
    assert params["metric_key"] == "loss"
    assert params["max_results"] == "5"
    assert params["page_token"] == "t1"
    assert params["run_uuid"] == "r1"


def test_repeated_query_keys() -> None:
    from wayline.protocol import route
    from wayline.store.rest.client import RestClient

    client = RestClient("http://h:1/prefix/")
    try:
        request = client.build_request(
            route("GetMetricHistoryBulkInterval"), {"run_ids": ["a", "b"], "metric_key": "m"}
        )
    finally:
        client.close()
    assert str(request.url).startswith("http://h:1/prefix/api/2.0/mlflow/metrics/")
    assert request.url.params.get_list("run_ids") == ["a", "b"]


def test_post_sends_json_body(scripted: ScriptedFactory) -> None:
    s = scripted()
    s.store.log_batch(
        "r1",
        metrics=[Metric("m", math.nan, timestamp=1, step=2)],
        params=[Param("p", "1")],
        tags=[RunTag("t", "v")],
    )
    (request,) = s.requests
    assert request.method == "POST"
    assert request.url == f"{BASE_URL}/api/2.0/mlflow/runs/log-batch"
    assert request.headers["Content-Type"] == "application/json"
    assert _body(request) == {
        "run_id": "r1",
        "metrics": [{"key": "m", "value": "NaN", "timestamp": 1, "step": 2}],
        "params": [{"key": "p", "value": "1"}],
        "tags": [{"key": "t", "value": "v"}],
    }


def test_unset_fields_are_left_out(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(200, json={"experiments": [], "next_page_token": ""}))
    page = s.store.search_experiments(view_type=ViewType.ALL, max_results=10)
    assert page.token is None
    assert _body(s.requests[0]) == {"view_type": "ALL", "max_results": 10}


def test_update_run_and_create_run_bodies(scripted: ScriptedFactory) -> None:
    s = scripted(
        httpx.Response(200, json={"run_info": {**RUN_INFO, "status": "FINISHED"}}),
        httpx.Response(200, json={"run": {"info": RUN_INFO}}),
    )
    info = s.store.update_run_info("r1", RunStatus.FINISHED, end_time=9)
    assert info.status == RunStatus.FINISHED
    assert _body(s.requests[0]) == {
        "run_id": "r1",
        "run_uuid": "r1",
        "status": "FINISHED",
        "end_time": 9,
    }
    s.store.create_run("0", tags=[RunTag("mlflow.user", "me")])
    created = _body(s.requests[1])
    assert isinstance(created, dict)
    # The store stamps the start time, since MLflow's server would store 0.
    assert isinstance(created.pop("start_time"), int)
    assert created == {"experiment_id": "0", "tags": [{"key": "mlflow.user", "value": "me"}]}


def test_experiment_tag_body(scripted: ScriptedFactory) -> None:
    s = scripted()
    s.store.set_experiment_tag("4", ExperimentTag("k", "v"))
    assert _body(s.requests[0]) == {"experiment_id": "4", "key": "k", "value": "v"}


def test_metric_history_follows_page_tokens(scripted: ScriptedFactory) -> None:
    point = {"key": "loss", "value": 1.0, "timestamp": 1, "step": 0}
    s = scripted(
        httpx.Response(200, json={"metrics": [point], "next_page_token": "p2"}),
        httpx.Response(200, json={"metrics": [{**point, "step": 1}]}),
    )
    history = s.store.get_metric_history("r1", "loss")
    assert [m.step for m in history] == [0, 1]
    assert history.token is None
    assert "page_token" not in s.requests[0].url.params
    assert s.requests[1].url.params["page_token"] == "p2"


def test_user_agent(scripted: ScriptedFactory) -> None:
    s = scripted()
    s.store.delete_run("r1")
    assert s.requests[0].headers["User-Agent"] == f"wayline-python-client/{__version__}"
    assert s.requests[0].headers["X-MLflow-Client-Version"] == MLFLOW_PROTOCOL_VERSION
    assert "Authorization" not in s.requests[0].headers


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (RestSettings(username="u", password="p:w"), _basic("u", "p:w")),
        (RestSettings(token="tok"), "Bearer tok"),
        # Basic wins when both are configured, as in MLflow's client.
        (RestSettings(username="u", password="p", token="tok"), _basic("u", "p")),
        # A username alone is not enough for basic auth.
        (RestSettings(username="u", token="tok"), "Bearer tok"),
    ],
)
def test_auth_header(scripted: ScriptedFactory, settings: RestSettings, expected: str) -> None:
    s = scripted(settings=settings)
    s.store.delete_experiment("1")
    assert s.requests[0].headers["Authorization"] == expected


def test_settings_from_env_prefers_wayline_names() -> None:
    settings = rest_settings_from_env(
        {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
            "WAYLINE_HTTP_REQUEST_TIMEOUT": "7.5",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
            "MLFLOW_TRACKING_USERNAME": "m",
            "WAYLINE_TRACKING_USERNAME": "w",
            "MLFLOW_TRACKING_PASSWORD": "pw",
            "MLFLOW_TRACKING_TOKEN": "t",
            "MLFLOW_TRACKING_INSECURE_TLS": "true",
        }
    )
    assert settings == RestSettings(
        timeout=7.5, max_retries=2, username="w", password="pw", token="t", verify=False
    )


def test_settings_defaults_match_mlflow() -> None:
    settings = rest_settings_from_env({})
    assert (settings.timeout, settings.max_retries, settings.backoff_factor) == (120.0, 7, 2.0)
    assert settings.verify is True and settings.token is None


def test_bad_number_in_env_is_reported() -> None:
    from wayline.errors import WaylineError

    with pytest.raises(WaylineError, match="HTTP_REQUEST_TIMEOUT"):
        rest_settings_from_env({"MLFLOW_HTTP_REQUEST_TIMEOUT": "soon"})


def test_close_then_reuse(scripted: ScriptedFactory) -> None:
    s = scripted()
    s.store.delete_run("r1")
    s.store.close()
    s.store.close()
    s.store.restore_run("r1")
    assert [r.url.path.rsplit("/", 1)[1] for r in s.requests] == ["delete", "restore"]


def test_timeout_is_applied() -> None:
    from wayline.store.rest.client import RestClient

    client = RestClient("http://h", RestSettings(timeout=3.0))
    try:
        assert client._http().timeout == httpx.Timeout(3.0)
    finally:
        client.close()
