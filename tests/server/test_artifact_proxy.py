"""The artifact proxy (spec §9), server-info and ListArtifacts, on a live uvicorn server."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
import tracemalloc
from collections.abc import Iterator
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import yaml

from servers import live_server
from wayline.artifacts.integrity import RECORD_ATTRIBUTE
from wayline.artifacts.proxy_repo import close_clients
from wayline.server import ServerSettings, create_app
from wayline.server.artifact_routes import SMALL_UPLOAD_BYTES
from wayline.store.resolve import clear_cache
from wayline.tracking.client import Client

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
LIST_RUN_ARTIFACTS = "/api/2.0/mlflow/artifacts/list"


def settings_for(tmp_path: Path, **overrides: object) -> ServerSettings:
    values: dict[str, object] = {
        "backend_store_uri": f"sqlite:///{tmp_path / 'server.db'}",
        "artifacts_destination": str(tmp_path / "destination"),
        "access_log": False,
    }
    values.update(overrides)
    return ServerSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with live_server(create_app(settings_for(tmp_path))) as url:
        yield url


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """One server for the many traversal cases: ``(base URL, folder holding its destination)``."""
    folder = tmp_path_factory.mktemp("shared")
    (folder / "secret.txt").write_text("top secret")
    with live_server(create_app(settings_for(folder))) as url:
        yield url, folder


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60.0) as client:
        yield client


def raw_request(base_url: str, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``target`` exactly as written: httpx would normalise ``..`` segments away."""
    parsed = urlparse(base_url)
    connection = HTTPConnection(parsed.hostname or "", parsed.port, timeout=30)
    try:
        connection.request(method, target, body=body or None)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ---------------------------------------------------------------- proxy basics
def test_put_get_list_delete_round_trip(http: httpx.Client, tmp_path: Path) -> None:
    put = http.put(f"{PROXY}/1/r1/artifacts/dir/hello.txt", content=b"hello")
    assert put.status_code == 200
    assert put.json() == {}
    http.put(f"{PROXY}/1/r1/artifacts/top.bin", content=b"\x00" * 10)
    assert (tmp_path / "destination/1/r1/artifacts/dir/hello.txt").read_bytes() == b"hello"

    got = http.get(f"{PROXY}/1/r1/artifacts/dir/hello.txt")
    assert (got.status_code, got.content) == (200, b"hello")

    listed = http.get(PROXY, params={"path": "1/r1/artifacts"})
    assert listed.json() == {
        "files": [
            {"path": "dir", "is_dir": True},
            {"path": "top.bin", "is_dir": False, "file_size": 10},
        ]
    }
    assert http.get(PROXY, params={"path": "1/r1/artifacts/dir"}).json() == {
        "files": [{"path": "hello.txt", "is_dir": False, "file_size": 5}]
    }
    assert http.get(PROXY).json() == {"files": [{"path": "1", "is_dir": True}]}
    # A file or a missing path lists as {} (the client relies on it to tell files from dirs).
    assert http.get(PROXY, params={"path": "1/r1/artifacts/top.bin"}).json() == {}
    assert http.get(PROXY, params={"path": "nope"}).json() == {}

    assert http.delete(f"{PROXY}/1/r1/artifacts/dir").json() == {}
    missing = http.get(f"{PROXY}/1/r1/artifacts/dir/hello.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert http.get(PROXY, params={"path": "1/r1/artifacts"}).json()["files"] == [
        {"path": "top.bin", "is_dir": False, "file_size": 10}
    ]


def test_put_overwrites(http: httpx.Client) -> None:
    http.put(f"{PROXY}/a.txt", content=b"first and longer")
    http.put(f"{PROXY}/a.txt", content=b"second")
    assert http.get(f"{PROXY}/a.txt").content == b"second"


def test_the_ajax_prefix_serves_the_same_proxy(http: httpx.Client) -> None:
    http.put("/ajax-api/2.0/mlflow-artifacts/artifacts/x/y.txt", content=b"ajax")
    assert http.get(f"{PROXY}/x/y.txt").content == b"ajax"
    assert http.get("/ajax-api/2.0/mlflow-artifacts/artifacts", params={"path": "x"}).json() == {
        "files": [{"path": "y.txt", "is_dir": False, "file_size": 4}]
    }


def test_the_root_cannot_be_written_or_deleted(http: httpx.Client, tmp_path: Path) -> None:
    http.put(f"{PROXY}/keep.txt", content=b"k")
    assert http.put(f"{PROXY}/", content=b"x").status_code == 400
    assert http.delete(f"{PROXY}/").status_code == 400
    assert (tmp_path / "destination/keep.txt").exists()


# ---------------------------------------------------------------- downloads
@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("page.html", "text/html; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("model.unknownext", "application/octet-stream"),
    ],
)
def test_downloads_are_typed_attachments_never_sniffed(
    http: httpx.Client, name: str, media_type: str
) -> None:
    http.put(f"{PROXY}/types/{name}", content=b"<script>alert(1)</script>")
    got = http.get(f"{PROXY}/types/{name}")
    assert got.status_code == 200
    assert got.headers["content-type"] == media_type
    assert got.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]


def test_a_non_ascii_name_is_sent_in_the_utf8_form(http: httpx.Client) -> None:
    http.put(f"{PROXY}/r%C3%A9sum%C3%A9.txt", content=b"cv")
    got = http.get(f"{PROXY}/r%C3%A9sum%C3%A9.txt")
    assert got.content == b"cv"
    assert got.headers["content-disposition"] == "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.txt"


def test_a_directory_is_not_downloadable(http: httpx.Client) -> None:
    http.put(f"{PROXY}/d/f.txt", content=b"f")
    assert http.get(f"{PROXY}/d").status_code == 404


# ---------------------------------------------------------------- path safety
TRAVERSALS = [
    "../../secret.txt",
    "a/../../../secret.txt",
    "%2e%2e/%2e%2e/secret.txt",
    "..%2f..%2fsecret.txt",
    "%252e%252e/%252e%252e/secret.txt",
    "%2fetc%2fpasswd",
    "a%00b.txt",
    "a%5c..%5csecret.txt",
    "a%3bjsessionid=1.txt",
    "a%23frag.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_traversal_attempts_are_refused(shared: tuple[str, Path], method: str, target: str) -> None:
    server, folder = shared
    status, body = raw_request(server, method, f"{PROXY}/{target}", b"overwritten")
    assert status == 400, body
    assert b'"Invalid path"' in body
    assert (folder / "secret.txt").read_text() == "top secret"
    destination = folder / "destination"
    assert not destination.exists() or not any(destination.iterdir())


@pytest.mark.parametrize("path", ["..", "../x", "%2e%2e", "/etc", "a;b"])
def test_listing_outside_the_destination_is_refused(http: httpx.Client, path: str) -> None:
    listed = http.get(PROXY, params={"path": path})
    assert listed.status_code == 400
    assert listed.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}


def test_a_symlink_out_of_the_destination_is_not_followed(
    http: httpx.Client, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    http.put(f"{PROXY}/ok.txt", content=b"ok")
    (tmp_path / "destination" / "escape").symlink_to(outside)
    assert http.get(f"{PROXY}/escape/secret.txt").status_code == 400
    assert http.put(f"{PROXY}/escape/planted.txt", content=b"x").status_code == 400
    assert http.delete(f"{PROXY}/escape").status_code == 400
    assert http.get(PROXY).json() == {
        "files": [{"path": "ok.txt", "is_dir": False, "file_size": 2}]
    }
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


# ---------------------------------------------------------------- the reserved folder
RESERVED = ".wayline-internal"


@pytest.mark.parametrize(
    "target",
    [
        f"{RESERVED}/records/a.txt",
        RESERVED,
        ".Wayline-Internal/records/a.txt",
        f"{RESERVED}/uploads/{'0' * 32}/upload.json",
        f"./{RESERVED}/records",
        f"a/../{RESERVED}/records",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_the_reserved_folder_is_out_of_reach(
    shared: tuple[str, Path], method: str, target: str
) -> None:
    server, _ = shared
    status, body = raw_request(server, method, f"{PROXY}/{target}", b"planted")
    assert status == 400, body
    assert b'"Invalid path"' in body
    listed = httpx.get(f"{server}{PROXY}", params={"path": target})
    assert listed.status_code == 400


def test_listings_never_show_the_reserved_folder(http: httpx.Client, tmp_path: Path) -> None:
    http.put(f"{PROXY}/top.txt", content=b"top")
    # Staged uploads and the records of remote destinations live there.
    planted = tmp_path / "destination" / RESERVED / "records" / "top.txt"
    planted.parent.mkdir(parents=True)
    planted.write_text("{}")
    assert http.get(PROXY).json() == {
        "files": [{"path": "top.txt", "is_dir": False, "file_size": 3}]
    }
    # A run whose root lies in the reserved folder cannot list it either.
    info = create_run(http, "planted", artifact_location=f"mlflow-artifacts:/{RESERVED}")
    listed = http.get(LIST_RUN_ARTIFACTS, params={"run_id": info["run_id"]})
    assert listed.status_code == 400


# ---------------------------------------------------------------- integrity
def digest_header(data: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


def test_an_upload_with_its_digest_is_kept_and_served_with_it(http: httpx.Client) -> None:
    data = b"checked bytes" * 1000
    put = http.put(
        f"{PROXY}/ok/a.bin", content=data, headers={"Content-Digest": digest_header(data)}
    )
    assert put.status_code == 200, put.text
    got = http.get(f"{PROXY}/ok/a.bin")
    assert got.content == data
    assert got.headers["content-digest"] == digest_header(data)
    assert got.headers["content-length"] == str(len(data))
    head = http.head(f"{PROXY}/ok/a.bin")
    assert head.headers["content-digest"] == digest_header(data)


def test_an_upload_without_a_digest_is_recorded_all_the_same(
    http: httpx.Client, tmp_path: Path
) -> None:
    # MLflow's client sends no digest: the server hashes what it receives.
    http.put(f"{PROXY}/plain/b.txt", content=b"no digest sent")
    assert http.get(f"{PROXY}/plain/b.txt").headers["content-digest"] == digest_header(
        b"no digest sent"
    )
    # On local disk the record rides on the file itself.
    stored = tmp_path / "destination" / "plain" / "b.txt"
    assert json.loads(os.getxattr(stored, RECORD_ATTRIBUTE)) == {
        "size": 14,
        "sha256": hashlib.sha256(b"no digest sent").hexdigest(),
    }
    assert not (tmp_path / "destination" / RESERVED / "records").exists()


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        # corrupt: the bytes are not those the digest names
        (b"corrupted!", {"Content-Digest": digest_header(b"the original")}),
        # truncated: the first half of a file sent with the whole file's digest
        (b"the orig", {"Content-Digest": digest_header(b"the original")}),
        # a digest that is no digest
        (b"x", {"Content-Digest": "sha-256=:bm90IDMyIGJ5dGVz:"}),
        (b"x", {"Content-Digest": "sha-256=not-a-byte-sequence"}),
    ],
)
def test_corrupt_and_truncated_uploads_are_refused_leaving_nothing(
    http: httpx.Client, tmp_path: Path, body: bytes, headers: dict[str, str]
) -> None:
    http.put(f"{PROXY}/keep/old.txt", content=b"previous version")
    for name in ("old.txt", "new.txt"):
        refused = http.put(f"{PROXY}/keep/{name}", content=body, headers=headers)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    folder = tmp_path / "destination" / "keep"
    assert sorted(p.name for p in folder.iterdir()) == ["old.txt"]  # no partial file either
    kept = http.get(f"{PROXY}/keep/old.txt")
    assert kept.content == b"previous version"
    assert kept.headers["content-digest"] == digest_header(b"previous version")
    assert http.get(f"{PROXY}/keep/new.txt").status_code == 404


def test_other_digest_algorithms_are_ignored(http: httpx.Client) -> None:
    sha512 = base64.b64encode(hashlib.sha512(b"data").digest()).decode()
    put = http.put(
        f"{PROXY}/alg.txt", content=b"data", headers={"Content-Digest": f"sha-512=:{sha512}:"}
    )
    assert put.status_code == 200
    both = f"sha-512=:{sha512}:, {digest_header(b'other')}"
    assert (
        http.put(f"{PROXY}/alg.txt", content=b"data", headers={"Content-Digest": both}).status_code
        == 400
    )


def test_a_file_replaced_or_changed_behind_the_proxy(http: httpx.Client, tmp_path: Path) -> None:
    for path in ("d/a.txt", "d/b.txt"):
        http.put(f"{PROXY}/{path}", content=b"as uploaded")
    folder = tmp_path / "destination" / "d"
    # Changed in place (bit rot, a truncation): the record stays, and names other bytes.
    with (folder / "a.txt").open("r+b") as changed:
        changed.write(b"AS")
    assert http.get(f"{PROXY}/d/a.txt").headers["content-digest"] == digest_header(b"as uploaded")
    # Replaced by a new file: no record, served as it is.
    (folder / "b.tmp").write_bytes(b"replaced")
    os.replace(folder / "b.tmp", folder / "b.txt")
    assert "content-digest" not in http.get(f"{PROXY}/d/b.txt").headers
    # Deleted and uploaded again: checked against its own digest, not the old one's.
    http.delete(f"{PROXY}/d")
    http.put(f"{PROXY}/d/a.txt", content=b"new")
    assert http.get(f"{PROXY}/d/a.txt").headers["content-digest"] == digest_header(b"new")


# ---------------------------------------------------------------- streaming
def test_a_50_mb_upload_streams_through_bounded_memory(http: httpx.Client, tmp_path: Path) -> None:
    chunk = bytes(range(256)) * 256  # 64 KiB
    count = 50 * 16  # 50 MiB
    expected = hashlib.sha256()
    for _ in range(count):
        expected.update(chunk)

    def body() -> Iterator[bytes]:
        for _ in range(count):
            yield chunk

    # Client and server share this process, so tracemalloc sees both: if either held the
    # body whole, the peak would be 50 MiB or more.
    tracemalloc.start()
    try:
        put = http.put(
            f"{PROXY}/big/blob.bin",
            content=body(),
            headers={"Content-Length": str(len(chunk) * count)},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert put.status_code == 200, put.text
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"
    assert (tmp_path / "destination/big/blob.bin").stat().st_size == len(chunk) * count

    received = hashlib.sha256()
    with http.stream("GET", f"{PROXY}/big/blob.bin") as response:
        assert response.headers["content-length"] == str(len(chunk) * count)
        for piece in response.iter_bytes():
            received.update(piece)
    assert received.hexdigest() == expected.hexdigest()


def _cut_upload(server: str, folder: str, length: int) -> None:
    """Announce ``length`` bytes, send a thousand and hang up."""
    parsed = urlparse(server)
    with socket.create_connection((parsed.hostname or "", parsed.port or 80)) as sock:
        sock.sendall(
            f"PUT {PROXY}/{folder}/short.bin HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
            + b"x" * 1000
        )
        time.sleep(0.2)


def test_an_interrupted_small_upload_writes_nothing(
    server: str, http: httpx.Client, tmp_path: Path
) -> None:
    _cut_upload(server, "cut-small", SMALL_UPLOAD_BYTES)  # read whole before any write
    assert http.get(f"{PROXY}/cut-small/short.bin").status_code == 404
    assert not (tmp_path / "destination" / "cut-small").exists()


def test_an_interrupted_upload_leaves_no_file(server: str, tmp_path: Path) -> None:
    _cut_upload(server, "cut", SMALL_UPLOAD_BYTES * 5)  # streamed to a file as it arrives
    folder = tmp_path / "destination" / "cut"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if folder.exists() and not any(folder.iterdir()):
            break
        time.sleep(0.05)
    assert folder.exists()
    assert list(folder.iterdir()) == []


# ---------------------------------------------------------------- other routes
@pytest.mark.parametrize(
    "url",
    ["/api/2.0/mlflow-artifacts/presigned/a/b.bin", "/ajax-api/2.0/mlflow-artifacts/presigned/a"],
)
def test_presigned_downloads_are_not_implemented(http: httpx.Client, url: str) -> None:
    response = http.get(url)
    assert response.status_code == 501
    assert response.json()["error_code"] == "NOT_IMPLEMENTED"


def test_server_info_advertises_multipart_uploads_only(http: httpx.Client) -> None:
    for url in ("/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"):
        info = http.get(url).json()
        assert info["store_type"] == "SqlStore"
        assert info["artifact_serving_enabled"] is True
        assert info["multipart_uploads_enabled"] is True
        assert info["multipart_downloads_enabled"] is False


def test_without_serve_artifacts_there_is_no_proxy(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, serve_artifacts=False))
    with live_server(app) as url, httpx.Client(base_url=url) as http:
        assert http.put(f"{PROXY}/a.txt", content=b"a").status_code == 404
        info = http.get("/api/3.0/mlflow/server-info").json()
        assert info["artifact_serving_enabled"] is False
        assert info["multipart_uploads_enabled"] is False
        mpu = "/api/2.0/mlflow-artifacts/mpu/create/x"
        assert http.post(mpu, json={"path": "a", "num_parts": 1}).status_code == 404
        experiment_id = http.post(
            "/api/2.0/mlflow/experiments/create", json={"name": "no-proxy"}
        ).json()["experiment_id"]
        run_id = http.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id}
        ).json()["run"]["info"]["run_id"]
        listed = http.get(LIST_RUN_ARTIFACTS, params={"run_id": run_id})
        assert listed.status_code == 400
        assert "--serve-artifacts" in listed.json()["message"]


def test_an_artifacts_only_server_still_proxies(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, artifacts_only=True))
    with live_server(app) as url, httpx.Client(base_url=url) as http:
        assert http.put(f"{PROXY}/only/a.txt", content=b"a").status_code == 200
        assert http.get(f"{PROXY}/only/a.txt").content == b"a"
        assert http.get(PROXY, params={"path": "only"}).json()["files"][0]["path"] == "a.txt"
        assert (
            http.post("/api/2.0/mlflow/experiments/create", json={"name": "x"}).status_code == 503
        )


# ---------------------------------------------------------------- ListArtifacts
def create_run(
    http: httpx.Client, name: str, artifact_location: str | None = None
) -> dict[str, str]:
    body: dict[str, str] = {"name": name}
    if artifact_location:
        body["artifact_location"] = artifact_location
    experiment_id = http.post("/api/2.0/mlflow/experiments/create", json=body).json()[
        "experiment_id"
    ]
    run = http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    info: dict[str, str] = run.json()["run"]["info"]
    return info


def test_list_artifacts_of_a_run_behind_the_proxy(http: httpx.Client) -> None:
    info = create_run(http, "listing")
    run_id, experiment_id = info["run_id"], info["experiment_id"]
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    base = f"{PROXY}/{experiment_id}/{run_id}/artifacts"
    http.put(f"{base}/dir/hello.txt", content=b"hello")
    http.put(f"{base}/model.pkl", content=b"12345678")

    top = http.get(LIST_RUN_ARTIFACTS, params={"run_id": run_id}).json()
    assert top == {
        "root_uri": info["artifact_uri"],
        "files": [
            {"path": "dir", "is_dir": True},
            {"path": "model.pkl", "is_dir": False, "file_size": 8},
        ],
    }
    nested = http.get(LIST_RUN_ARTIFACTS, params={"run_uuid": run_id, "path": "dir"}).json()
    assert nested["files"] == [{"path": "dir/hello.txt", "is_dir": False, "file_size": 5}]
    for path in ("model.pkl", "missing"):
        listed = http.get(LIST_RUN_ARTIFACTS, params={"run_id": run_id, "path": path}).json()
        assert listed == {"root_uri": info["artifact_uri"]}
    bad = http.get(LIST_RUN_ARTIFACTS, params={"run_id": run_id, "path": "../../"})
    assert bad.status_code == 400
    unknown = http.get(LIST_RUN_ARTIFACTS, params={"run_id": "0" * 32})
    assert unknown.status_code == 404


def test_list_artifacts_of_a_run_stored_in_a_local_directory(
    http: httpx.Client, tmp_path: Path
) -> None:
    info = create_run(http, "local-location", artifact_location=str(tmp_path / "elsewhere"))
    root = Path(info["artifact_uri"])
    (root / "plots").mkdir(parents=True)
    (root / "plots" / "loss.png").write_bytes(b"png")
    listed = http.get(LIST_RUN_ARTIFACTS, params={"run_id": info["run_id"], "path": "plots"})
    assert listed.json()["files"] == [{"path": "plots/loss.png", "is_dir": False, "file_size": 3}]


# ---------------------------------------------------------------- the Wayline client
@pytest.fixture
def fresh_connections() -> Iterator[None]:
    """Close the pooled connections the client opened (its store and the proxy's pool)."""
    yield
    close_clients()
    clear_cache()


@pytest.mark.usefixtures("fresh_connections")
def test_the_client_logs_and_reads_artifacts_through_the_server(
    server: str, tmp_path: Path
) -> None:
    client = Client(server)
    run = client.create_run(client.create_experiment("through-proxy"))
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")

    source = tmp_path / "outputs"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "sub" / "b.csv").write_text("x,y\n1,2\n")
    (tmp_path / "model.bin").write_bytes(b"\x01" * 3000)

    client.log_artifacts(run_id, source, "outputs")
    client.log_artifact(run_id, tmp_path / "model.bin", "model")
    client.log_text(run_id, "héllo", "notes/readme.md")
    client.log_dict(run_id, {"lr": 0.1, "layers": [64, 32]}, "config.yaml")
    client.log_dict(run_id, {"ok": True}, "config.json")

    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [
        ("config.json", False),
        ("config.yaml", False),
        ("model", True),
        ("notes", True),
        ("outputs", True),
    ]
    assert [(f.path, f.file_size) for f in client.list_artifacts(run_id, "model")] == [
        ("model/model.bin", 3000)
    ]

    local = Path(client.download_artifacts(run_id, "outputs", tmp_path / "dst"))
    assert (local / "a.txt").read_text() == "alpha"
    assert (local / "sub" / "b.csv").read_text() == "x,y\n1,2\n"
    everything = Path(client.download_artifacts(run_id, "", tmp_path / "all"))
    assert (everything / "notes" / "readme.md").read_text(encoding="utf-8") == "héllo"
    assert yaml.safe_load((everything / "config.yaml").read_text()) == {
        "lr": 0.1,
        "layers": [64, 32],
    }
    assert (everything / "model" / "model.bin").read_bytes() == b"\x01" * 3000
    assert (everything / "config.json").read_text() == '{\n  "ok": true\n}'

    # The server's tracking API sees the same files.
    with httpx.Client(base_url=server) as http:
        listed = http.get(LIST_RUN_ARTIFACTS, params={"run_id": run_id, "path": "outputs/sub"})
    assert listed.json()["files"] == [
        {"path": "outputs/sub/b.csv", "is_dir": False, "file_size": 8}
    ]
