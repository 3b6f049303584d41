"""Request hardening, checked over real HTTP against uvicorn (``SecurityMiddleware``).

Three servers are shared by the module: one with the default settings, one with explicit host
and origin allow-lists, and one with a small body limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from servers import live_server
from wayline.server import ServerSettings, create_app
from wayline.server.security import (
    CONTENT_TYPE_MESSAGE,
    default_host_check,
    default_origin_check,
    pattern_host_check,
    pattern_origin_check,
    split_host,
)

from ._support import API, unique

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
BODY_LIMIT = 4096


def _settings(folder: Path, **overrides: object) -> ServerSettings:
    return ServerSettings(
        backend_store_uri=f"sqlite:///{folder / 'server.db'}",
        artifacts_destination=str(folder / "artifacts"),
        **overrides,  # type: ignore[arg-type]
    )


async def _broken(_: Request) -> Response:
    raise RuntimeError("secret detail from /srv/wayline/secrets.py")


@pytest.fixture(scope="module")
def default_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = create_app(_settings(tmp_path_factory.mktemp("default")))
    app.add_route("/broken", _broken)
    with live_server(app) as url:
        yield url


@pytest.fixture(scope="module")
def strict_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = _settings(
        tmp_path_factory.mktemp("strict"),
        allowed_hosts=("127.0.0.1", "mlflow.example.com", "*.corp.example", "10.1.2.3:5000"),
        cors_allowed_origins=("https://*.corp.example",),
        x_frame_options="DENY",
    )
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def limited_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = _settings(tmp_path_factory.mktemp("limited"), max_request_body_bytes=BODY_LIMIT)
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def http(default_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=default_url, timeout=30) as client:
        yield client


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    body: dict[str, str] = response.json()
    assert body["error_code"] == code
    return body


# ---------------------------------------------------------------- content type
def test_writes_need_json_content_type(http: httpx.Client) -> None:
    body = json.dumps({"name": unique()})
    for prefix in ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow"):
        refused = http.post(
            f"{prefix}/experiments/create", content=body, headers={"Content-Type": "text/plain"}
        )
        assert _assert_error(refused, 400, "INVALID_PARAMETER_VALUE") == {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": CONTENT_TYPE_MESSAGE,
        }
    form = http.post(f"{API}/experiments/create", data={"name": unique()})
    _assert_error(form, 400, "INVALID_PARAMETER_VALUE")
    # A body without any content type is refused too; an empty one means {}.
    bare = http.post(f"{API}/experiments/create", content=body)
    _assert_error(bare, 400, "INVALID_PARAMETER_VALUE")
    assert http.post(f"{API}/experiments/search", content=b"").status_code == 200


def test_json_with_parameters_is_accepted(http: httpx.Client) -> None:
    response = http.post(
        f"{API}/experiments/create",
        content=json.dumps({"name": unique()}),
        headers={"Content-Type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 200, response.text


def test_artifact_uploads_are_raw_bytes(http: httpx.Client) -> None:
    put = http.put(
        f"{ARTIFACTS}/0/run/artifacts/notes.txt",
        content=b"plain text, not JSON",
        headers={"Content-Type": "text/plain"},
    )
    assert put.status_code == 200, put.text
    assert http.get(f"{ARTIFACTS}/0/run/artifacts/notes.txt").content == b"plain text, not JSON"


def test_gets_and_unknown_paths_are_not_content_checked(http: httpx.Client) -> None:
    got = http.get(f"{API}/experiments/get", params={"experiment_id": "0"})
    assert got.status_code == 200
    assert http.post("/not-an-api", content=b"x").status_code == 404


# ---------------------------------------------------------------- host header
@pytest.mark.parametrize(
    "host",
    ["localhost", "localhost:5000", "127.0.0.1:80", "[::1]:5000", "192.168.1.20:5000", "10.0.0.7"],
)
def test_default_hosts_are_loopback_and_private(http: httpx.Client, host: str) -> None:
    assert http.get("/version", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "8.8.8.8", "localhost.evil"])
def test_other_hosts_are_refused(http: httpx.Client, host: str) -> None:
    response = http.get(f"{API}/experiments/get?experiment_id=0", headers={"Host": host})
    body = _assert_error(response, 403, "PERMISSION_DENIED")
    assert "Host" in body["message"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_health_answers_any_host(http: httpx.Client) -> None:
    # Load balancers probe by whatever address they know; /health reveals nothing.
    assert http.get("/health", headers={"Host": "evil.example"}).text == "OK"


def test_allowed_hosts_replace_the_defaults(strict_url: str) -> None:
    with httpx.Client(base_url=strict_url, timeout=30) as client:

        def status(host: str) -> int:
            return client.get("/version", headers={"Host": host}).status_code

        assert status("mlflow.example.com") == 200
        assert status("MLflow.Example.com:443") == 200
        assert status("team.corp.example:8080") == 200
        assert status("10.1.2.3:5000") == 200
        assert status("10.1.2.3:6000") == 403  # a pattern with a port allows that port only
        assert status("localhost") == 403
        assert status("corp.example") == 403


def test_host_patterns() -> None:
    assert split_host("[::1]:5000") == ("[::1]", "5000")
    assert split_host("Example.COM") == ("example.com", None)
    assert pattern_host_check(["*"])("anything.example:1")
    assert pattern_host_check(["192.168.*"])("192.168.4.5:5000")
    assert not pattern_host_check(["192.168.*"])("10.0.0.1")
    bound = default_host_check("mlflow.internal")
    assert bound("mlflow.internal:5000")
    assert not default_host_check("0.0.0.0")("mlflow.internal")
    assert not default_host_check("127.0.0.1")("169.254.169.254.evil.example")


# ---------------------------------------------------------------- origins and CORS
def test_cross_origin_writes_are_refused(http: httpx.Client, default_url: str) -> None:
    for origin in ("https://evil.example", "null", "http://localhost.evil.example:5000"):
        response = http.post(
            f"{API}/experiments/create", json={"name": unique()}, headers={"Origin": origin}
        )
        _assert_error(response, 403, "PERMISSION_DENIED")
    # The same origin as the server, and localhost pages (MLflow's default CORS list), may write.
    same = http.post(
        f"{API}/experiments/create", json={"name": unique()}, headers={"Origin": default_url}
    )
    assert same.status_code == 200, same.text
    local = http.post(
        f"{API}/experiments/create",
        json={"name": unique()},
        headers={"Origin": "http://localhost:3000"},
    )
    assert local.status_code == 200
    assert local.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "Origin" in local.headers["vary"]


def test_cross_origin_reads_get_no_cors_headers(http: httpx.Client) -> None:
    response = http.get("/version", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200  # the browser, not the server, withholds the answer
    assert "access-control-allow-origin" not in response.headers


def test_preflight(http: httpx.Client) -> None:
    request_headers = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
    }
    allowed = http.options(
        f"{API}/runs/create", headers={"Origin": "http://127.0.0.1:8888", **request_headers}
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:8888"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-headers"] == "content-type, authorization"
    refused = http.options(
        f"{API}/runs/create", headers={"Origin": "https://evil.example", **request_headers}
    )
    _assert_error(refused, 403, "PERMISSION_DENIED")


def test_cors_allowed_origins_replace_the_defaults(strict_url: str) -> None:
    with httpx.Client(base_url=strict_url, timeout=30) as client:

        def create(origin: str) -> httpx.Response:
            return client.post(
                f"{API}/experiments/create", json={"name": unique()}, headers={"Origin": origin}
            )

        allowed = create("https://app.corp.example")
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.corp.example"
        assert create("http://localhost:3000").status_code == 403
        assert create("http://app.corp.example").status_code == 403  # the scheme counts
        assert client.get("/health").headers["x-frame-options"] == "DENY"


def test_origin_patterns() -> None:
    assert default_origin_check("http://localhost:3000")
    assert default_origin_check("https://[::1]")
    assert not default_origin_check("http://localhost.evil.example")
    assert not default_origin_check("null")
    assert pattern_origin_check(["*"])("https://anything.example")
    assert pattern_origin_check(["http://localhost:*"])("http://localhost:5173")


# ---------------------------------------------------------------- security headers
def test_every_response_carries_security_headers(http: httpx.Client) -> None:
    answers = [
        http.get("/health"),
        http.get("/nope"),
        http.post(f"{API}/experiments/create", content=b"x", headers={"Content-Type": "text/x"}),
        http.get(f"{API}/experiments/get", params={"experiment_id": "424242"}),
        http.get("/broken"),
    ]
    assert [r.status_code for r in answers] == [200, 404, 400, 404, 500]
    for response in answers:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_internal_errors_leak_nothing(http: httpx.Client) -> None:
    response = http.get("/broken")
    assert response.status_code == 500
    assert response.json() == {"error_code": "INTERNAL_ERROR", "message": "Internal server error."}
    for secret in ("secret", "/srv", "Traceback", "RuntimeError"):
        assert secret not in response.text


# ---------------------------------------------------------------- body size and depth
def test_oversized_bodies_are_refused(limited_url: str) -> None:
    big = json.dumps({"name": unique(), "padding": "x" * BODY_LIMIT}).encode()
    with httpx.Client(base_url=limited_url, timeout=30) as client:
        announced = client.post(
            f"{API}/experiments/create",
            content=big,
            headers={"Content-Type": "application/json"},
        )
        body = _assert_error(announced, 400, "INVALID_PARAMETER_VALUE")
        assert str(BODY_LIMIT) in body["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
            for start in range(0, len(big), 1000):
                yield big[start : start + 1000]

        streamed = client.post(
            f"{API}/experiments/create",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        _assert_error(streamed, 400, "INVALID_PARAMETER_VALUE")
        small = client.post(f"{API}/experiments/create", json={"name": unique()})
        assert small.status_code == 200
        # The artifact proxy streams uploads to storage: no limit there.
        upload = client.put(f"{ARTIFACTS}/0/big.bin", content=b"\0" * (BODY_LIMIT * 4))
        assert upload.status_code == 200, upload.text


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_is_refused(http: httpx.Client, depth: int) -> None:
    nested = f'{{"name": "{unique()}", "tags": {"[" * depth}1{"]" * depth}}}'
    response = http.post(
        f"{API}/experiments/create",
        content=nested,
        headers={"Content-Type": "application/json"},
    )
    body = _assert_error(response, 400, "INVALID_PARAMETER_VALUE")
    assert "nested" in body["message"]


def test_many_brackets_at_shallow_depth_are_fine(http: httpx.Client) -> None:
    # More brackets than the depth limit, none of them deep: a tag value full of them, and
    # many sibling objects.
    name = unique("[[[[")
    tags = [{"key": f"k{i}", "value": "[" * 50} for i in range(100)]
    response = http.post(f"{API}/experiments/create", json={"name": name, "tags": tags})
    assert response.status_code == 200, response.text
