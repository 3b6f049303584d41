"""The UI's artifact route, ``/get-artifact?path=&run_uuid=``, over local, proxied and S3 roots."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wayline.artifacts import artifact_repository
from wayline.server import ServerSettings, create_app
from wayline.server.ui_routes import UI_ARTIFACT_URLS, ui_media_type

from ._support import post, serve, unique

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def http(tmp_path: Path) -> Iterator[httpx.Client]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}",
        artifacts_destination=str(tmp_path / "destination"),
        access_log=False,
    )
    with serve(create_app(settings)) as client:
        yield client


def new_run(http: httpx.Client, artifact_location: str | None = None) -> tuple[str, str]:
    """``(run_id, artifact_uri)`` of a new run in a new experiment."""
    body: dict[str, str] = {"name": unique()}
    if artifact_location:
        body["artifact_location"] = artifact_location
    experiment_id = post(http, "experiments/create", body)["experiment_id"]
    info = post(http, "runs/create", {"experiment_id": experiment_id})["run"]["info"]
    return info["run_id"], info["artifact_uri"]


def proxied_run(http: httpx.Client, files: dict[str, bytes]) -> str:
    run_id, root = new_run(http)
    assert root.startswith("mlflow-artifacts:/")
    for path, content in files.items():
        put = http.put(f"{PROXY}/{root.removeprefix('mlflow-artifacts:/')}/{path}", content=content)
        assert put.status_code == 200, put.text
    return run_id


@pytest.mark.parametrize("url", UI_ARTIFACT_URLS)
def test_a_proxied_runs_file(http: httpx.Client, url: str) -> None:
    run_id = proxied_run(http, {"plots/roc.png": b"\x89PNG-roc", "notes.txt": b"hello"})
    got = http.get(url, params={"path": "plots/roc.png", "run_uuid": run_id})
    assert got.status_code == 200
    assert got.content == b"\x89PNG-roc"
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"] == 'attachment; filename="roc.png"'
    assert got.headers["x-content-type-options"] == "nosniff"
    # run_id is accepted as well as the UI's run_uuid.
    text = http.get(url, params={"path": "notes.txt", "run_id": run_id})
    assert (text.status_code, text.text) == (200, "hello")
    assert text.headers["content-type"].startswith("text/plain")


def test_a_local_runs_file(http: httpx.Client, tmp_path: Path) -> None:
    run_id, root = new_run(http, str(tmp_path / "local-artifacts"))
    folder = Path(root) / "model"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    got = http.get("/get-artifact", params={"path": "model/MLmodel", "run_uuid": run_id})
    assert (got.status_code, got.text) == (200, "flavors: {}\n")
    assert got.headers["content-type"].startswith("text/plain")  # as MLflow serves MLmodel


def test_active_content_is_an_inert_attachment(http: httpx.Client) -> None:
    files = {
        "page.html": b"<script>alert(1)</script>",
        "icon.svg": b"<svg onload='alert(1)'/>",
        "app.js": b"alert(1)",
    }
    run_id = proxied_run(http, files)
    types = {}
    for name, content in files.items():
        got = http.get("/get-artifact", params={"path": name, "run_uuid": run_id})
        assert got.content == content
        assert got.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert got.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in got.headers["content-security-policy"]
        types[name] = got.headers["content-type"].split(";")[0]
    # JavaScript goes out as text/plain: with nosniff no browser will run it as a script.
    assert types == {"page.html": "text/html", "icon.svg": "image/svg+xml", "app.js": "text/plain"}


def test_missing_files_and_directories_are_404(http: httpx.Client) -> None:
    run_id = proxied_run(http, {"dir/a.txt": b"a"})
    for path in ("nope.txt", "dir", ""):
        got = http.get("/get-artifact", params={"path": path, "run_uuid": run_id})
        assert got.status_code == 404, path
        assert got.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_bad_requests(http: httpx.Client) -> None:
    run_id = proxied_run(http, {"a.txt": b"a"})
    for path in ("../../../../secret.txt", "%2e%2e/%2e%2e/x", "/etc/passwd", "a\x00.txt"):
        got = http.get("/get-artifact", params={"path": path, "run_uuid": run_id})
        assert got.status_code == 400, path
        assert got.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}
    no_path = http.get("/get-artifact", params={"run_uuid": run_id})
    assert no_path.status_code == 400
    assert "'path'" in no_path.json()["message"]
    no_run = http.get("/get-artifact", params={"path": "a.txt"})
    assert no_run.status_code == 400
    unknown = http.get("/get-artifact", params={"path": "a.txt", "run_uuid": uuid.uuid4().hex})
    assert unknown.status_code == 404


def test_a_proxied_run_on_a_server_without_the_proxy(tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'ui.db'}",
        serve_artifacts=False,
        access_log=False,
    )
    with serve(create_app(settings)) as http:
        run_id, _ = new_run(http, "mlflow-artifacts:/elsewhere")
        got = http.get("/get-artifact", params={"path": "a.txt", "run_uuid": run_id})
        assert got.status_code == 400
        assert "--serve-artifacts" in got.json()["message"]


# ---------------------------------------------------------------- an S3 root (moto on loopback)
@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_an_s3_runs_file(
    http: httpx.Client, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLFLOW_S3_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"wl-{uuid.uuid4().hex[:12]}"
    httpx.put(f"{moto_endpoint}/{bucket}").raise_for_status()
    run_id, root = new_run(http, f"s3://{bucket}/experiments")
    with artifact_repository(root).open_write("eval/report.json") as sink:
        sink.write(b'{"auc": 0.9}')
    got = http.get("/get-artifact", params={"path": "eval/report.json", "run_uuid": run_id})
    assert (got.status_code, got.content) == (200, b'{"auc": 0.9}')
    assert got.headers["content-type"].startswith("text/plain")
    missing = http.get("/get-artifact", params={"path": "eval/nope.json", "run_uuid": run_id})
    assert missing.status_code == 404


def test_ui_media_types_follow_mlflow() -> None:
    assert ui_media_type("model/MLmodel") == "text/plain"
    assert ui_media_type("conf/settings.YAML") == "text/plain"
    assert ui_media_type("a/b.csv") == "text/plain"
    assert ui_media_type("plots/roc.png") == "image/png"
    assert ui_media_type("weights.bin") == "application/octet-stream"
    assert ui_media_type("README") == "application/octet-stream"
