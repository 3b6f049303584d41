"""The app's transport rules: plain endpoints, error shapes, prefixes and request encodings."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

import wayline
from wayline.protocol import ALL_ROUTES, TRACKING_ROUTES, route, urls
from wayline.protocol.openapi import openapi_document
from wayline.server import create_app
from wayline.server.app import MLFLOW_COMPATIBLE_VERSION
from wayline.server.openapi import OPENAPI_URL
from wayline.server.tracking_routes import HANDLERS, endpoint
from wayline.store.resolve import tracking_store

from ._support import API, post, serve, sqlite_settings, unique


def test_health_and_version(client: httpx.Client) -> None:
    health = client.get("/health")
    assert (health.status_code, health.text) == (200, "OK")
    version = client.get("/version")
    assert version.status_code == 200
    assert version.headers["content-type"].startswith("text/plain")
    # MLflow's protocol version (its client gates features on it); Wayline's own in a header.
    assert version.text == MLFLOW_COMPATIBLE_VERSION
    assert version.headers["x-wayline-version"] == wayline.__version__


@pytest.mark.parametrize("path", ["/nope", "/api/2.0/mlflow/nope", "/openapi.json", "/redoc"])
def test_unknown_path_is_a_plain_404(client: httpx.Client, path: str) -> None:
    # A JSON body without error_code would read as INTERNAL_ERROR in MLflow's client; a plain one
    # reads as ENDPOINT_NOT_FOUND, which it needs to fall back to older APIs.
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/plain")


def test_docs_page_reads_the_route_table_document(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert OPENAPI_URL in page.text
    document = client.get(OPENAPI_URL).json()
    assert document == openapi_document()


def test_wrong_method_is_a_plain_405(client: httpx.Client) -> None:
    response = client.get(f"{API}/experiments/create")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert not response.headers["content-type"].startswith("application/json")


def test_every_route_is_mounted_at_both_prefixes(client: httpx.Client) -> None:
    for rpc in ALL_ROUTES:
        for url in urls(rpc):
            for method in rpc.methods:
                response = client.request(method, url, json={} if method != "GET" else None)
                # Anything but a missing endpoint: an answer, a 400 or 404 from the store, a 501.
                assert response.headers["content-type"] == "application/json", (method, url)


def test_every_route_of_the_table_has_a_handler() -> None:
    # A route without one would answer 501 NOT_IMPLEMENTED (see tracking_routes.endpoint).
    assert [rpc.name for rpc in TRACKING_ROUTES if rpc.name not in HANDLERS] == []


def test_log_model_appends_to_the_run_history(client: httpx.Client) -> None:
    experiment_id = post(client, "experiments/create", {"name": unique()})["experiment_id"]
    run_id = post(client, "runs/create", {"experiment_id": experiment_id})["run"]["info"]["run_id"]
    model = {
        "run_id": run_id,
        "artifact_path": "model",
        "utc_time_created": "2026-11-27 10:00:00.000000",
        "flavors": {"python_function": {"loader_module": "m"}},
    }

    assert post(client, "runs/log-model", {"run_id": run_id, "model_json": json.dumps(model)}) == {}

    tags = client.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]["data"]["tags"]
    [history] = [tag["value"] for tag in tags if tag["key"] == "mlflow.log-model.history"]
    assert json.loads(history) == [model]
    for bad in ("not json", "[1]", json.dumps({"run_id": run_id})):
        response = client.post(f"{API}/runs/log-model", json={"run_id": run_id, "model_json": bad})
        assert response.status_code == 400, bad
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_search_datasets_is_served_at_the_ajax_prefix_only(client: httpx.Client) -> None:
    experiment_id = post(client, "experiments/create", {"name": unique()})["experiment_id"]
    url = "/ajax-api/2.0/mlflow/experiments/search-datasets"

    assert client.post(url, json={"experiment_ids": [experiment_id]}).json() == {}
    assert client.post(url, json={}).status_code == 400
    assert client.post(url, json={"experiment_ids": [str(i) for i in range(21)]}).status_code == 400
    assert client.post(f"{API}/experiments/search-datasets", json={}).status_code == 404


def test_ajax_prefix_serves_the_same_handler(client: httpx.Client) -> None:
    name = unique()
    created = client.post("/ajax-api/2.0/mlflow/experiments/create", json={"name": name})
    experiment_id = created.json()["experiment_id"]
    got = client.get(f"{API}/experiments/get", params={"experiment_id": experiment_id})
    assert got.json()["experiment"]["name"] == name


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"just a string"', b"\xff\xfe", b'{"name": 5}', b'{"tags": 1}'],
)
def test_bad_bodies_are_400_invalid_parameter_value(client: httpx.Client, body: bytes) -> None:
    response = client.post(
        f"{API}/experiments/create", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_missing_required_field_names_it(client: httpx.Client) -> None:
    response = client.post(f"{API}/experiments/create", json={})
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": "Missing value for required parameter 'name'. "
        "See the API docs for more information about request parameters.",
    }


def test_body_spellings_double_encoding_and_unknown_fields(client: httpx.Client) -> None:
    name = unique()
    # Legacy double encoding: the body is a JSON string holding the JSON object.
    double = json.dumps(json.dumps({"name": name, "unknownField": 1}))
    created = client.post(
        f"{API}/experiments/create", content=double, headers={"content-type": "application/json"}
    )
    assert created.status_code == 200, created.text
    experiment_id = created.json()["experiment_id"]
    run = client.post(
        f"{API}/runs/create", json={"experimentId": experiment_id, "startTime": "1700000000000"}
    )
    assert run.json()["run"]["info"]["start_time"] == 1700000000000


def test_empty_body_means_an_empty_object(client: httpx.Client) -> None:
    response = client.post(f"{API}/experiments/search", content=b"")
    assert response.status_code == 200
    assert "experiments" in response.json()


def test_unexpected_errors_are_500_without_internals(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path)
    app = create_app(settings)
    store = tracking_store(settings.backend_store_uri, settings.default_artifact_root)

    def broken_handler(*_: object) -> dict[str, object]:
        raise RuntimeError("secret /srv/wayline detail")

    async def broken_endpoint(_: Request) -> Response:
        raise RuntimeError("secret /srv/wayline detail")

    app.add_route("/broken-handler", endpoint(route("GetRun"), broken_handler, store))
    app.add_route("/broken-endpoint", broken_endpoint)
    with serve(app, raise_errors=False) as http:
        answers = [http.get("/broken-handler"), http.get("/broken-endpoint")]
    for response in answers:
        assert response.status_code == 500
        assert response.json() == {
            "error_code": "INTERNAL_ERROR",
            "message": "Internal server error.",
        }
