"""The OpenAPI description: generated from the route table, valid, served, and fuzzed.

The fuzzing runs schemathesis against a live uvicorn server on a fresh SQLite store, a bounded
and derandomized number of examples per operation, and checks one thing: no 5xx answer.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case, GenerationMode, Response

from servers import live_server
from wayline.protocol import ALL_ROUTES, Field, Route, urls
from wayline.protocol.openapi import field_schema, openapi_document
from wayline.server import ServerSettings, create_app
from wayline.server.openapi import OPENAPI_URL

DOCUMENT = openapi_document()
OPERATIONS = [
    (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in sorted(item)
]


def _negatable(method: str, path: str) -> bool:
    # Negative examples break a schema; an operation whose only inputs are string path
    # parameters has nothing to break (every string is one), so it is fuzzed positively only.
    operation = DOCUMENT["paths"][path][method.lower()]
    query = [p for p in operation.get("parameters", ()) if p["in"] != "path"]
    return bool(query) or "requestBody" in operation


FUZZ_CASES = [
    pytest.param(mode, method, path, id=f"{mode.value}-{method} {path}")
    for method, path in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or _negatable(method, path)
]
# Per operation and generation mode. Enough to reach every field's edge values (empty strings,
# huge integers, wrong types in negative mode) while keeping the whole file under a minute.
EXAMPLES_PER_MODE = 10
# NOT_IMPLEMENTED (501) is the documented answer of routes in the table that this server does
# not build yet, so it is not a server error here; every other 5xx is.
ALLOWED_5XX = frozenset({501})


def _fresh(document: dict[str, Any]) -> dict[str, Any]:
    # schemathesis writes into the dict it loads; keep the module's copy pristine.
    loaded: dict[str, Any] = json.loads(json.dumps(document))
    return loaded


# ---------------------------------------------------------------- the document
def test_document_is_valid_openapi() -> None:
    schema = schemathesis.openapi.from_dict(_fresh(DOCUMENT))

    schema.validate()  # against the OpenAPI 3.0 meta-schema; raises on any violation
    assert DOCUMENT["openapi"].startswith("3.0")


def test_every_route_and_method_is_described() -> None:
    for route in ALL_ROUTES:
        item = DOCUMENT["paths"][urls(route)[0]]
        for method in route.methods:
            assert method.lower() in item, (route.name, method)
    operation_ids = [
        op["operationId"] for item in DOCUMENT["paths"].values() for op in item.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert len(operation_ids) == sum(len(route.methods) for route in ALL_ROUTES)


def test_get_fields_are_query_parameters() -> None:
    operation = DOCUMENT["paths"]["/api/2.0/mlflow/metrics/get-history-bulk-interval"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}

    assert parameters["run_ids"]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert parameters["run_ids"]["explode"] is True  # repeated keys: run_ids=a&run_ids=b
    assert parameters["metric_key"]["required"] is True
    assert parameters["start_step"]["schema"]["type"] == "integer"
    assert parameters["max_results"]["schema"]["format"] == "int32"
    assert {p["in"] for p in parameters.values()} == {"query"}
    assert "requestBody" not in operation


def test_post_fields_are_a_json_body() -> None:
    operation = DOCUMENT["paths"]["/api/2.0/mlflow/runs/log-metric"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]

    assert body["required"] == ["key", "value", "timestamp"]
    assert body["properties"]["value"] == field_schema("f64")
    assert body["properties"]["timestamp"] == field_schema("i64")
    assert "parameters" not in operation
    search = DOCUMENT["paths"]["/api/2.0/mlflow/runs/search"]["post"]
    view = search["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert view["run_view_type"] == {
        "type": "string",
        "enum": ["ACTIVE_ONLY", "DELETED_ONLY", "ALL"],
    }
    assert view["experiment_ids"] == {"type": "array", "items": {"type": "string"}}


def test_path_parameters_come_from_the_path() -> None:
    route = Route(
        "GetThing",
        "GET",
        "/mlflow/things/{thing_id}/parts/{part}",
        request=(Field("thing_id", required=True), Field("part"), Field("view", "ViewType")),
        response=("thing",),
    )
    extra = Route(
        "DeleteThing", "DELETE", "/mlflow/things/{thing_id}", request=(Field("thing_id"),)
    )

    document = openapi_document([route, extra])

    get = document["paths"]["/api/2.0/mlflow/things/{thing_id}/parts/{part}"]["get"]
    assert [(p["name"], p["in"], p["required"]) for p in get["parameters"]] == [
        ("thing_id", "path", True),
        ("part", "path", True),
        ("view", "query", False),
    ]
    delete = document["paths"]["/api/2.0/mlflow/things/{thing_id}"]["delete"]
    assert "requestBody" not in delete  # its only field is in the path
    schemathesis.openapi.from_dict(_fresh(document)).validate()


def test_unknown_field_kinds_get_loose_schemas() -> None:
    assert field_schema("SomeFutureMessage") == {"type": "object"}
    assert field_schema("RunStatus")["enum"] == [
        "RUNNING",
        "SCHEDULED",
        "FINISHED",
        "FAILED",
        "KILLED",
    ]
    assert field_schema("RunTag") == {"$ref": "#/components/schemas/KeyValue"}


# ---------------------------------------------------------------- served, and fuzzed
@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    app_settings = ServerSettings(
        backend_store_uri=f"sqlite:///{folder / 'fuzz.db'}",
        default_artifact_root=(folder / "artifacts").as_uri(),
    )
    with live_server(create_app(app_settings)) as url:
        yield url


@pytest.fixture(scope="module")
def served_schema(server_url: str) -> Any:
    return schemathesis.openapi.from_url(server_url + OPENAPI_URL, timeout=10)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def test_document_is_served(server_url: str) -> None:
    response = httpx.get(server_url + OPENAPI_URL, timeout=10)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == _fresh(DOCUMENT)


def _describe(case: Case[Any], response: Response) -> str:
    request = response.request
    body = (
        request.body.decode(errors="replace") if isinstance(request.body, bytes) else request.body
    )
    return (
        f"{case.operation.label} answered {response.status_code}\n"
        f"request: {request.method} {request.url}\nbody: {body!r}\n"
        f"response: {response.content[:2000].decode(errors='replace')}"
    )


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "method", "path"), FUZZ_CASES)
def test_no_server_errors(
    served_schema: Any,
    server_url: str,
    session: requests.Session,
    mode: GenerationMode,
    method: str,
    path: str,
) -> None:
    operation = served_schema[path][method]

    # derandomize: the same examples every run (no flaky CI); database=None: no .hypothesis/.
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def no_server_error(case: Case[Any]) -> None:
        response = case.call(base_url=server_url, session=session, timeout=30)
        status = response.status_code
        assert status < 500 or status in ALLOWED_5XX, _describe(case, response)

    no_server_error()


def test_fuzzing_covers_every_operation() -> None:
    # Kept apart from the parametrization so that a route added to the table without a
    # description (or the reverse) fails loudly rather than silently shrinking the fuzzing.
    described = {(m, p) for m, p in OPERATIONS}
    expected = {(m, urls(r)[0]) for r in ALL_ROUTES for m in r.methods}
    assert described == expected
    assert copy.deepcopy(DOCUMENT) == openapi_document()  # building it twice gives the same
