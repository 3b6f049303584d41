"""The UI's ``/model-versions/get-artifact?name=&version=&path=`` (plain and ``/ajax-api``): a
registered version's files, wherever its source is (run artifacts behind the proxy, a logged
model, a ``runs:/`` URI, a local folder), with ``/get-artifact``'s path checks and headers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wayline.server import ServerSettings, create_app
from wayline.server.ui_routes import MODEL_VERSION_ARTIFACT_URLS

from ._support import post, serve, unique

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
URL = "/model-versions/get-artifact"


@pytest.fixture
def http(tmp_path: Path) -> Iterator[httpx.Client]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}",
        artifacts_destination=str(tmp_path / "destination"),
        access_log=False,
    )
    with serve(create_app(settings)) as client:
        yield client


def upload(http: httpx.Client, root: str, files: dict[str, bytes]) -> None:
    assert root.startswith("mlflow-artifacts:/")
    for path, content in files.items():
        put = http.put(f"{PROXY}/{root.removeprefix('mlflow-artifacts:/')}/{path}", content=content)
        assert put.status_code == 200, put.text


def new_run(http: httpx.Client, artifact_location: str | None = None) -> tuple[str, str, str]:
    """``(experiment_id, run_id, artifact_uri)`` of a new run in a new experiment."""
    body: dict[str, str] = {"name": unique()}
    if artifact_location:
        body["artifact_location"] = artifact_location
    experiment_id = post(http, "experiments/create", body)["experiment_id"]
    info = post(http, "runs/create", {"experiment_id": experiment_id})["run"]["info"]
    return experiment_id, info["run_id"], info["artifact_uri"]


def register(http: httpx.Client, name: str, source: str, **body: str) -> str:
    version = post(http, "model-versions/create", {"name": name, "source": source, **body})
    number: str = version["model_version"]["version"]
    return number


@pytest.fixture
def versions(http: httpx.Client) -> str:
    """A model whose version 1 is a run's ``model`` folder behind the proxy, 2 a logged model,
    3 ``runs:/<run>/model``; returns its name."""
    experiment_id, run_id, root = new_run(http)
    upload(
        http,
        root,
        {
            "model/MLmodel": b"flavors: {}\n",
            "model/data/w.bin": b"\x00\x01weights",
            "model/page.html": b"<script>alert(1)</script>",
            "model/app.js": b"alert(1)",
        },
    )
    logged = post(http, "logged-models", {"experiment_id": experiment_id, "name": "clf"})
    info = logged["model"]["info"]
    upload(http, info["artifact_uri"], {"MLmodel": b"logged: true\n"})
    name = f"reg-{uuid.uuid4().hex[:8]}"
    post(http, "registered-models/create", {"name": name})
    assert register(http, name, f"{root}/model", run_id=run_id) == "1"
    assert register(http, name, f"models:/{info['model_id']}", model_id=info["model_id"]) == "2"
    assert register(http, name, f"runs:/{run_id}/model", run_id=run_id) == "3"
    return name


@pytest.mark.parametrize("url", MODEL_VERSION_ARTIFACT_URLS)
def test_a_versions_files(http: httpx.Client, versions: str, url: str) -> None:
    got = http.get(url, params={"name": versions, "version": "1", "path": "MLmodel"})
    assert (got.status_code, got.text) == (200, "flavors: {}\n")
    assert got.headers["content-type"].startswith("text/plain")  # as MLflow serves MLmodel
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == 'attachment; filename="MLmodel"'
    data = http.get(url, params={"name": versions, "version": "1", "path": "data/w.bin"})
    assert (data.status_code, data.content) == (200, b"\x00\x01weights")
    assert data.headers["content-type"] == "application/octet-stream"
    logged = http.get(url, params={"name": versions, "version": "2", "path": "MLmodel"})
    assert (logged.status_code, logged.text) == (200, "logged: true\n")
    by_run = http.get(url, params={"name": versions, "version": "3", "path": "data/w.bin"})
    assert (by_run.status_code, by_run.content) == (200, b"\x00\x01weights")


def test_active_content_is_an_inert_attachment(http: httpx.Client, versions: str) -> None:
    page = http.get(URL, params={"name": versions, "version": "1", "path": "page.html"})
    assert page.content == b"<script>alert(1)</script>"
    assert page.headers["content-type"].startswith("text/html")
    assert "sandbox" in page.headers["content-security-policy"]
    assert page.headers["content-disposition"] == 'attachment; filename="page.html"'
    script = http.get(URL, params={"name": versions, "version": "1", "path": "app.js"})
    assert script.headers["content-type"].startswith("text/plain")
    assert script.headers["x-content-type-options"] == "nosniff"


def test_traversal_is_refused(http: httpx.Client, versions: str) -> None:
    attempts = (
        "../../../../secret.txt",
        "../MLmodel",
        "%2e%2e/%2e%2e/x",
        "%252e%252e/x",
        "/etc/passwd",
        "data/../../x",
        "a\x00.txt",
        "..\\..\\x",
        ".wayline-internal/x",
    )
    for path in attempts:
        got = http.get(URL, params={"name": versions, "version": "1", "path": path})
        assert got.status_code in (400, 404), path
        assert got.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST")
        assert "secret" not in got.text


def test_missing_and_bad_parameters(http: httpx.Client, versions: str) -> None:
    for path in ("nope.txt", "data", ""):
        got = http.get(URL, params={"name": versions, "version": "1", "path": path})
        assert got.status_code == 404, path
        assert got.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    unknown_version = http.get(URL, params={"name": versions, "version": "9", "path": "MLmodel"})
    assert unknown_version.status_code == 404
    unknown_model = http.get(URL, params={"name": "nope", "version": "1", "path": "MLmodel"})
    assert unknown_model.status_code == 404
    not_a_number = http.get(URL, params={"name": versions, "version": "x", "path": "MLmodel"})
    assert not_a_number.status_code == 400
    for missing in ("name", "version", "path"):
        params = {"name": versions, "version": "1", "path": "MLmodel"}
        del params[missing]
        got = http.get(URL, params=params)
        assert got.status_code == 400, missing
        assert f"'{missing}'" in got.json()["message"]


def test_a_local_source(http: httpx.Client, tmp_path: Path) -> None:
    _, run_id, root = new_run(http, str(tmp_path / "local-artifacts"))
    folder = Path(root) / "model"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("local: true\n")
    name = f"reg-{uuid.uuid4().hex[:8]}"
    post(http, "registered-models/create", {"name": name})
    register(http, name, str(folder), run_id=run_id)
    got = http.get(URL, params={"name": name, "version": "1", "path": "MLmodel"})
    assert (got.status_code, got.text) == (200, "local: true\n")
    escape = http.get(URL, params={"name": name, "version": "1", "path": "../../ui.db"})
    assert escape.status_code == 400
    ajax = http.get(f"/ajax-api/2.0/mlflow{URL}", params={"name": name, "version": "1"})
    assert ajax.status_code == 400  # no path
