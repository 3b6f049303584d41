"""Multipart uploads through the artifact proxy: the wire protocol, resumption, integrity and
path safety, over live servers; then our client and MLflow's against them.

``watched(app, traffic)`` puts a gate in front of the real app that records each request's
method and path and may answer in the app's place (a failing or a hanging part), as a flaky
network or proxy would.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlparse

import anyio
import httpx
import pytest
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from servers import live_server
from wayline.artifacts.integrity import content_digest
from wayline.artifacts.progress import listening
from wayline.artifacts.proxy_repo import ProxyArtifactRepository, close_clients
from wayline.artifacts.proxy_uploads import MultipartSettings
from wayline.errors import WaylineError
from wayline.server import ServerSettings, create_app
from wayline.store.rest import RestSettings

MPU = "/api/2.0/mlflow-artifacts/mpu"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
STAGING = ".wayline-internal/uploads"
PART = 64 * 1024

Interfere = Callable[[str, str], Awaitable[Response | None]]


@dataclass
class Traffic:
    """What reached the server, and a hook that may answer a request in the app's place."""

    seen: list[tuple[str, str]] = field(default_factory=list)
    interfere: Interfere | None = None

    def part_puts(self) -> list[int]:
        return [int(p.rsplit("/", 1)[1]) for m, p in self.seen if m == "PUT" and "/parts/" in p]

    def calls(self, action: str) -> int:
        return sum(1 for _, path in self.seen if f"/mpu/{action}" in path)


def watched(app: ASGIApp, traffic: Traffic) -> ASGIApp:
    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            traffic.seen.append((scope["method"], scope["path"]))
            if traffic.interfere is not None:
                answer = await traffic.interfere(scope["method"], scope["path"])
                if answer is not None:
                    await _drain(receive)
                    await answer(scope, receive, send)
                    return
        await app(scope, receive, send)

    return gate


async def _drain(receive: Receive) -> None:
    # Read the body the app will not, so the client hears a clean answer.
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


def settings_for(tmp_path: Path) -> ServerSettings:
    return ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "destination"),
        access_log=False,
    )


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def server(tmp_path: Path, traffic: Traffic) -> Iterator[str]:
    with live_server(watched(create_app(settings_for(tmp_path)), traffic)) as url:
        yield url
    close_clients()


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60.0) as client:
        yield client


def raw_request(base_url: str, method: str, target: str, body: bytes) -> tuple[int, bytes]:
    """Send ``target`` exactly as written: httpx would normalise ``..`` segments away."""
    parsed = urlparse(base_url)
    connection = HTTPConnection(parsed.hostname or "", parsed.port, timeout=30)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def crc(data: bytes) -> str:
    """The ETag a part is answered with: its CRC32."""
    return f"{zlib.crc32(data):08x}"


def staged(tmp_path: Path) -> list[str]:
    folder = tmp_path / "destination" / STAGING
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def create(
    http: httpx.Client, directory: str, name: str, num_parts: int, part_size: int | None = None
) -> dict[str, object]:
    request = {"path": name, "num_parts": num_parts}
    if part_size is not None:
        request["part_size"] = part_size
    response = http.post(f"{MPU}/create/{directory}", json=request)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def put_parts(http: httpx.Client, body: dict[str, object], pieces: list[bytes]) -> list[str]:
    etags = []
    credentials = body["credentials"]
    assert isinstance(credentials, list)
    for credential, piece in zip(credentials, pieces, strict=True):
        response = http.put(credential["url"], content=piece, headers=credential["headers"])
        assert response.status_code == 200, response.text
        etags.append(response.headers["etag"])
    return etags


def complete(
    http: httpx.Client, directory: str, name: str, upload_id: object, etags: list[str], **extra: str
) -> httpx.Response:
    parts = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, 1)]
    body = {"path": name, "upload_id": upload_id, "parts": parts, **extra}
    return http.post(f"{MPU}/complete/{directory}", json=body)


# ---------------------------------------------------------------- the protocol
def test_create_put_parts_and_complete(http: httpx.Client, server: str, tmp_path: Path) -> None:
    pieces = [b"a" * 1000, b"b" * 1000, b"tail"]
    body = create(http, "1/run/artifacts/model", "weights.bin", 3)
    upload_id = body["upload_id"]
    assert isinstance(upload_id, str)
    assert len(upload_id) == 32
    assert body["credentials"] == [
        {"url": f"{server}{MPU}/parts/{upload_id}/{n}", "part_number": n, "headers": {}}
        for n in (1, 2, 3)
    ]
    etags = put_parts(http, body, pieces)
    assert etags == [f'"{crc(piece)}"' for piece in pieces]
    assert staged(tmp_path) == [upload_id]

    whole = b"".join(pieces)
    done = complete(
        http, "1/run/artifacts/model", "weights.bin", upload_id, etags, sha256=sha(whole)
    )
    assert (done.status_code, done.json()) == (200, {})
    got = http.get(f"{PROXY}/1/run/artifacts/model/weights.bin")
    assert got.content == whole
    assert got.headers["content-digest"].startswith("sha-256=:")
    assert staged(tmp_path) == []  # staging is removed
    listed = http.get(PROXY, params={"path": "1/run/artifacts/model"}).json()
    assert listed == {"files": [{"path": "weights.bin", "is_dir": False, "file_size": 2004}]}


def test_the_ajax_prefix_and_the_root_directory(http: httpx.Client, server: str) -> None:
    ajax = "/ajax-api/2.0/mlflow-artifacts/mpu"
    response = http.post(f"{ajax}/create", json={"path": "top.txt", "num_parts": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["credentials"][0]["url"].startswith(f"{server}{ajax}/parts/")
    etags = put_parts(http, body, [b"at the root"])
    parts = [{"part_number": 1, "etag": etags[0]}]
    done = http.post(
        f"{ajax}/complete", json={"path": "top.txt", "upload_id": body["upload_id"], "parts": parts}
    )
    assert done.status_code == 200, done.text
    assert http.get(f"{PROXY}/top.txt").content == b"at the root"


def test_an_empty_file_is_one_empty_part(http: httpx.Client) -> None:
    body = create(http, "e", "empty.bin", 1)
    etags = put_parts(http, body, [b""])
    assert complete(http, "e", "empty.bin", body["upload_id"], etags).status_code == 200
    assert http.get(f"{PROXY}/e/empty.bin").content == b""


def test_the_parts_list_tells_what_the_server_holds(http: httpx.Client) -> None:
    body = create(http, "r", "f.bin", 3)
    upload_id = body["upload_id"]
    credentials = body["credentials"]
    assert isinstance(credentials, list)
    http.put(credentials[1]["url"], content=b"second")
    listed = http.get(f"{MPU}/parts/{upload_id}").json()
    assert listed["upload_id"] == upload_id
    assert listed["path"] == "r/f.bin"
    assert listed["num_parts"] == 3
    assert listed["parts"] == [{"part_number": 2, "etag": f'"{crc(b"second")}"', "size": 6}]
    assert listed["credentials"] == credentials
    # A part sent again replaces the first copy.
    http.put(credentials[1]["url"], content=b"second, again")
    again = http.get(f"{MPU}/parts/{upload_id}").json()["parts"]
    assert again == [{"part_number": 2, "etag": f'"{crc(b"second, again")}"', "size": 13}]


def test_abort_removes_the_staged_parts(http: httpx.Client, tmp_path: Path) -> None:
    body = create(http, "a", "f.bin", 2)
    put_parts(http, body, [b"one", b"two"])
    assert staged(tmp_path) == [body["upload_id"]]
    aborted = http.post(f"{MPU}/abort/a", json={"path": "f.bin", "upload_id": body["upload_id"]})
    assert (aborted.status_code, aborted.json()) == (200, {})
    assert staged(tmp_path) == []
    # Aborting again, or an upload never created, is no error (a retried abort must succeed).
    assert (
        http.post(f"{MPU}/abort/a", json={"path": "f.bin", "upload_id": body["upload_id"]}).json()
        == {}
    )
    assert http.get(f"{MPU}/parts/{body['upload_id']}").status_code == 404
    part = http.put(body["credentials"][0]["url"], content=b"late")  # type: ignore[index]
    assert part.status_code == 404
    assert not (tmp_path / "destination" / "a").exists()


# ---------------------------------------------------------------- parts in place
def test_parts_written_in_place_in_any_order_and_sent_again(
    http: httpx.Client, tmp_path: Path
) -> None:
    size = 1000
    pieces = [os.urandom(size), os.urandom(size), os.urandom(size), b"end"]
    body = create(http, "p", "f.bin", 4, part_size=size)
    urls = [c["url"] for c in body["credentials"]]  # type: ignore[attr-defined]
    etags: dict[int, str] = {}
    for number in (3, 1, 4, 2):
        etags[number] = http.put(urls[number - 1], content=pieces[number - 1]).headers["etag"]
    assert staged(tmp_path) == [body["upload_id"]]
    # Part 1 again, with other bytes, after the server may have hashed the first ones.
    pieces[0] = os.urandom(size)
    etags[1] = http.put(urls[0], content=pieces[0]).headers["etag"]
    whole = b"".join(pieces)

    ordered = [etags[n] for n in (1, 2, 3, 4)]
    done = complete(http, "p", "f.bin", body["upload_id"], ordered, sha256=sha(whole))

    assert done.status_code == 200, done.text
    got = http.get(f"{PROXY}/p/f.bin")
    assert got.content == whole
    assert got.headers["content-digest"] == content_digest(hashlib.sha256(whole).digest())
    assert staged(tmp_path) == []
    assert (tmp_path / "destination" / "p" / "f.bin").stat().st_mode & 0o777 == 0o644


def test_a_part_in_place_must_have_the_announced_size(http: httpx.Client) -> None:
    body = create(http, "q", "f.bin", 2, part_size=100)
    urls = [c["url"] for c in body["credentials"]]  # type: ignore[attr-defined]
    for url, piece in ((urls[0], b"x" * 99), (urls[0], b"x" * 101), (urls[1], b"x" * 101)):
        refused = http.put(url, content=piece)
        assert refused.status_code == 400
        assert "Content-Length" in refused.json()["message"]
    assert http.put(urls[1], content=b"x" * 50).status_code == 200  # the last may be shorter
    listed = http.get(f"{MPU}/parts/{body['upload_id']}").json()["parts"]
    assert [part["part_number"] for part in listed] == [2]


def test_parts_in_place_that_do_not_make_the_file_are_not_stored(
    http: httpx.Client, tmp_path: Path
) -> None:
    body = create(http, "w", "f.bin", 2, part_size=4)
    etags = put_parts(http, body, [b"abcd", b"ef"])
    refused = complete(http, "w", "f.bin", body["upload_id"], etags, sha256="f" * 64)
    assert refused.status_code == 400
    assert "SHA-256" in refused.json()["message"]
    assert http.get(f"{PROXY}/w/f.bin").status_code == 404
    assert staged(tmp_path) == []


# ---------------------------------------------------------------- integrity
def test_a_part_with_a_wrong_digest_is_refused_and_not_held(http: httpx.Client) -> None:
    body = create(http, "d", "f.bin", 1)
    url = body["credentials"][0]["url"]  # type: ignore[index]
    bad = "sha-256=:" + "A" * 43 + "=:"
    refused = http.put(url, content=b"bytes", headers={"Content-Digest": bad})
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert http.get(f"{MPU}/parts/{body['upload_id']}").json()["parts"] == []


@pytest.mark.parametrize(
    ("etags", "sha256", "message"),
    [
        (['"' + "0" * 64 + '"', None], None, "etag"),  # an etag the server never gave
        ([None, None], "f" * 64, "SHA-256"),  # the parts do not make the announced file
    ],
)
def test_a_complete_that_does_not_add_up_is_refused(
    http: httpx.Client,
    tmp_path: Path,
    etags: list[str | None],
    sha256: str | None,
    message: str,
) -> None:
    body = create(http, "c", "f.bin", 2)
    real = put_parts(http, body, [b"first", b"second"])
    sent = [given or actual for given, actual in zip(etags, real, strict=True)]
    extra = {"sha256": sha256} if sha256 else {}
    refused = complete(http, "c", "f.bin", body["upload_id"], sent, **extra)
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in refused.json()["message"]
    assert http.get(f"{PROXY}/c/f.bin").status_code == 404
    assert not (tmp_path / "destination" / "c").exists() or not any(
        (tmp_path / "destination" / "c").iterdir()
    )


def test_a_complete_with_a_part_missing_is_refused(http: httpx.Client) -> None:
    body = create(http, "m", "f.bin", 3)
    credentials = body["credentials"]
    assert isinstance(credentials, list)
    etags = [http.put(c["url"], content=b"x").headers["etag"] for c in credentials[:2]]
    refused = complete(http, "m", "f.bin", body["upload_id"], [*etags, '"' + crc(b"x") + '"'])
    assert refused.status_code == 400
    assert "Part 3" in refused.json()["message"]
    short = complete(http, "m", "f.bin", body["upload_id"], etags)
    assert short.status_code == 400
    # Nothing was lost: the part can still come, and then the upload completes.
    etags.append(http.put(credentials[2]["url"], content=b"x").headers["etag"])
    assert complete(http, "m", "f.bin", body["upload_id"], etags).status_code == 200
    assert http.get(f"{PROXY}/m/f.bin").content == b"xxx"


def test_an_upload_completes_only_for_its_own_path(http: httpx.Client) -> None:
    body = create(http, "own", "f.bin", 1)
    etags = put_parts(http, body, [b"mine"])
    refused = complete(http, "other", "f.bin", body["upload_id"], etags)
    assert refused.status_code == 400
    assert http.get(f"{PROXY}/other/f.bin").status_code == 404


# ---------------------------------------------------------------- path safety
BAD_REQUESTS = [
    # traversal in the directory of the URL
    ("POST", f"{MPU}/create/../../x", {"path": "f", "num_parts": 1}),
    ("POST", f"{MPU}/create/%2e%2e/x", {"path": "f", "num_parts": 1}),
    ("POST", f"{MPU}/create/a/..%2f..%2fx", {"path": "f", "num_parts": 1}),
    ("POST", f"{MPU}/complete/../x", {"path": "f", "upload_id": "0" * 32, "parts": []}),
    ("POST", f"{MPU}/abort/%252e%252e/x", {"path": "f", "upload_id": "0" * 32}),
    # a file name that is no name
    ("POST", f"{MPU}/create/a", {"path": "..", "num_parts": 1}),
    ("POST", f"{MPU}/create/a", {"path": "a/..", "num_parts": 1}),
    ("POST", f"{MPU}/create/a", {"path": "%2e%2e", "num_parts": 1}),
    ("POST", f"{MPU}/create/a", {"path": "", "num_parts": 1}),
    ("POST", f"{MPU}/create/a", {"path": 7, "num_parts": 1}),
    # the reserved folder
    ("POST", f"{MPU}/create/.wayline-internal/uploads", {"path": "f", "num_parts": 1}),
    ("POST", f"{MPU}/create", {"path": ".wayline-internal", "num_parts": 1}),
    # upload ids that are not ours
    ("POST", f"{MPU}/complete/a", {"path": "f", "upload_id": "../../x", "parts": []}),
    ("POST", f"{MPU}/abort/a", {"path": "f", "upload_id": "0" * 31 + "/"}),
    ("POST", f"{MPU}/abort/a", {"path": "f", "upload_id": "A" * 32}),
    ("POST", f"{MPU}/abort/a", {"path": "f"}),
    ("PUT", f"{MPU}/parts/../../secret.txt/1", None),
    ("PUT", f"{MPU}/parts/..%2f..%2fsecret.txt/1", None),
    ("PUT", f"{MPU}/parts/{'0' * 32}/../../../secret.txt", None),
    ("PUT", f"{MPU}/parts/{'0' * 32}/0", None),
    ("PUT", f"{MPU}/parts/{'0' * 32}/-1", None),
    ("PUT", f"{MPU}/parts/{'0' * 32}/1/2", None),
    ("GET", f"{MPU}/parts/..", None),
    ("GET", f"{MPU}/parts/{'0' * 32}/..", None),
    # bodies and counts that make no sense
    ("POST", f"{MPU}/create/a", {"path": "f", "num_parts": 0}),
    ("POST", f"{MPU}/create/a", {"path": "f", "num_parts": 10_001}),
    ("POST", f"{MPU}/create/a", {"path": "f", "num_parts": True}),
    ("POST", f"{MPU}/create/a", ["not", "an", "object"]),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("shared")
    (folder / "secret.txt").write_text("top secret")
    with live_server(create_app(settings_for(folder))) as url:
        yield url, folder


@pytest.mark.parametrize(("method", "target", "body"), BAD_REQUESTS)
def test_bad_paths_ids_and_bodies_are_refused(
    shared: tuple[str, Path], method: str, target: str, body: object
) -> None:
    server, folder = shared
    raw = json.dumps(body).encode() if body is not None else b"planted"
    status, answer = raw_request(server, method, target, raw)
    assert status == 400, answer
    assert json.loads(answer)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert (folder / "secret.txt").read_text() == "top secret"
    destination = folder / "destination"
    assert not destination.exists() or not any(destination.iterdir())


def test_an_unknown_upload_is_not_found(http: httpx.Client) -> None:
    unknown = "0" * 32
    assert http.get(f"{MPU}/parts/{unknown}").status_code == 404
    assert http.put(f"{MPU}/parts/{unknown}/1", content=b"x").status_code == 404
    body = {"path": "f", "upload_id": unknown, "parts": [{"part_number": 1, "etag": "x"}]}
    missing = http.post(f"{MPU}/complete/a", json=body)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


# ---------------------------------------------------------------- our client
def repository(
    server: str, tmp_path: Path, *, workers: int = 4, minimum: int = 1
) -> ProxyArtifactRepository:
    multipart = MultipartSettings(
        minimum_file_size=minimum,
        part_size=PART,
        max_workers=workers,
        state_dir=str(tmp_path / "state"),
    )
    return ProxyArtifactRepository(
        f"{server}{PROXY}/7/run/artifacts",
        settings=RestSettings(max_retries=0),
        multipart=multipart,
    )


def make_file(path: Path, size: int) -> bytes:
    data = (hashlib.sha256(path.name.encode()).digest() * (size // 32 + 1))[:size]
    path.write_bytes(data)
    return data


def test_the_client_uploads_large_files_in_parallel_parts(
    server: str, traffic: Traffic, tmp_path: Path
) -> None:
    local = tmp_path / "big.bin"
    data = make_file(local, 10 * PART + 123)
    repo = repository(server, tmp_path)
    moved: list[int] = []
    with listening(moved.append):
        repo.log_artifact(local, "model")
    assert sorted(traffic.part_puts()) == list(range(1, 12))
    assert traffic.calls("complete") == 1
    assert sum(moved) == len(data)  # every part's thread reported into our listener
    stored = tmp_path / "destination" / "7/run/artifacts/model/big.bin"
    assert stored.read_bytes() == data
    assert staged(tmp_path) == []
    assert list((tmp_path / "state").iterdir()) == []  # nothing left to resume

    downloaded: list[int] = []
    with listening(downloaded.append):
        local_copy = repo.download_artifacts("model/big.bin", tmp_path / "dst")
    assert Path(local_copy).read_bytes() == data
    assert sum(downloaded) == len(data)


def test_small_files_go_whole(server: str, traffic: Traffic, tmp_path: Path) -> None:
    repo = repository(server, tmp_path, minimum=PART)
    local = tmp_path / "small.txt"
    make_file(local, PART - 1)
    repo.log_artifact(local)
    assert traffic.calls("create") == 0
    assert ("PUT", f"{PROXY}/7/run/artifacts/small.txt") in traffic.seen


def test_an_interrupted_upload_resumes_with_the_missing_parts_only(
    server: str, traffic: Traffic, tmp_path: Path
) -> None:
    local = tmp_path / "resumed.bin"
    data = make_file(local, 8 * PART)
    failed = False

    async def fail_part_6_once(method: str, path: str) -> Response | None:
        nonlocal failed
        if method == "PUT" and path.endswith("/6") and not failed:
            failed = True
            return PlainTextResponse("storage hiccup", status_code=500)
        return None

    traffic.interfere = fail_part_6_once
    repo = repository(server, tmp_path, workers=1)
    with pytest.raises(WaylineError):
        repo.log_artifact(local)
    assert traffic.calls("abort") == 0  # kept for resumption
    [upload_id] = staged(tmp_path)
    held = {p["part_number"] for p in httpx.get(f"{server}{MPU}/parts/{upload_id}").json()["parts"]}
    assert {1, 2, 3, 4, 5} <= held
    assert 6 not in held
    assert len(list((tmp_path / "state").iterdir())) == 1

    traffic.seen.clear()
    repository(server, tmp_path).log_artifact(local)
    assert sorted(traffic.part_puts()) == sorted(set(range(1, 9)) - held)
    assert traffic.calls("create") == 0
    assert (tmp_path / "destination/7/run/artifacts/resumed.bin").read_bytes() == data
    assert staged(tmp_path) == []
    assert list((tmp_path / "state").iterdir()) == []


def test_a_changed_file_starts_a_new_upload(server: str, traffic: Traffic, tmp_path: Path) -> None:
    local = tmp_path / "changing.bin"
    make_file(local, 4 * PART)

    async def fail_part_3(method: str, path: str) -> Response | None:
        if method == "PUT" and path.endswith("/3"):
            return PlainTextResponse("down", status_code=500)
        return None

    traffic.interfere = fail_part_3
    with pytest.raises(WaylineError):
        repository(server, tmp_path, workers=1).log_artifact(local)
    traffic.interfere = None
    changed = b"\x00" + local.read_bytes()[1:]
    local.write_bytes(changed)
    traffic.seen.clear()
    repository(server, tmp_path).log_artifact(local)
    assert traffic.calls("create") == 1
    assert sorted(traffic.part_puts()) == [1, 2, 3, 4]
    assert traffic.calls("abort") == 1  # the stale upload is dropped, not left on the server
    assert (tmp_path / "destination/7/run/artifacts/changing.bin").read_bytes() == changed
    assert staged(tmp_path) == []


CLIENT_SCRIPT = """
import sys
from wayline.artifacts.proxy_repo import ProxyArtifactRepository
from wayline.artifacts.proxy_uploads import MultipartSettings
from wayline.store.rest import RestSettings

url, local, state = sys.argv[1:4]
multipart = MultipartSettings(minimum_file_size=1, part_size=65536, max_workers=1, state_dir=state)
repo = ProxyArtifactRepository(url, settings=RestSettings(max_retries=0), multipart=multipart)
repo.log_artifact(local)
"""


def test_a_client_killed_mid_upload_is_resumed_by_the_next(
    server: str, traffic: Traffic, tmp_path: Path
) -> None:
    local = tmp_path / "killed.bin"
    data = make_file(local, 6 * PART)
    release = threading.Event()

    async def hang_on_part_4(method: str, path: str) -> Response | None:
        if method == "PUT" and path.endswith("/4") and not release.is_set():
            while not release.is_set():
                await anyio.sleep(0.02)
            return PlainTextResponse("too late", status_code=503)
        return None

    traffic.interfere = hang_on_part_4
    command = [sys.executable, "-c", CLIENT_SCRIPT, f"{server}{PROXY}/7/run/artifacts"]
    client = subprocess.Popen([*command, str(local), str(tmp_path / "state")])
    try:
        deadline = time.monotonic() + 60
        while 4 not in traffic.part_puts():
            assert client.poll() is None, "the client ended before it was killed"
            assert time.monotonic() < deadline, "part 4 never came"
            time.sleep(0.02)
        os.kill(client.pid, signal.SIGKILL)
        client.wait(10)
    finally:
        release.set()
        if client.poll() is None:
            client.kill()
            client.wait()
    [upload_id] = staged(tmp_path)
    listed = httpx.get(f"{server}{MPU}/parts/{upload_id}").json()
    assert [p["part_number"] for p in listed["parts"]] == [1, 2, 3]

    traffic.seen.clear()
    repository(server, tmp_path).log_artifact(local)
    assert sorted(traffic.part_puts()) == [4, 5, 6]
    assert (tmp_path / "destination/7/run/artifacts/killed.bin").read_bytes() == data


@pytest.mark.parametrize("refusal", ["server-info says no", "mpu/create answers 501"])
def test_a_server_without_multipart_gets_the_whole_file(
    server: str, traffic: Traffic, tmp_path: Path, refusal: str
) -> None:
    async def refuse(method: str, path: str) -> Response | None:
        if refusal == "server-info says no" and path.endswith("/server-info"):
            return Response(b'{"multipart_uploads_enabled": false}', 200)
        if refusal == "mpu/create answers 501" and "/mpu/create" in path:
            body = b'{"error_code": "NOT_IMPLEMENTED", "message": "no"}'
            return Response(body, 501, media_type="application/json")
        return None

    traffic.interfere = refuse
    local = tmp_path / "whole.bin"
    data = make_file(local, 3 * PART)
    repository(server, tmp_path).log_artifact(local)
    assert traffic.part_puts() == []
    assert ("PUT", f"{PROXY}/7/run/artifacts/whole.bin") in traffic.seen
    assert (tmp_path / "destination/7/run/artifacts/whole.bin").read_bytes() == data


# ---------------------------------------------------------------- MLflow's client
MLFLOW_SCRIPT = """
import sys
from mlflow import MlflowClient

url, local, dst = sys.argv[1:4]
client = MlflowClient(url)
run = client.create_run(client.create_experiment("multipart"))
client.log_artifact(run.info.run_id, local, "big")
print(client.download_artifacts(run.info.run_id, "big/" + local.rsplit("/", 1)[1], dst))
"""


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    """The python of the cached MLflow 3.18 venv (tests/compat/mlflow_venv.sh builds it)."""
    script = Path(__file__).resolve().parents[1] / "compat" / "mlflow_venv.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    python = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not Path(python).exists():
        message = f"no MLflow 3.18 venv ({done.stderr.strip()[-500:]})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.mark.compat
def test_mlflow_client_uploads_in_parts_to_wayline(
    server: str, traffic: Traffic, tmp_path: Path, mlflow_python: str
) -> None:
    local = tmp_path / "mlflow.bin"
    data = make_file(local, 5 * PART + 7)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}
    env["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = "1"
    env["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(PART)
    done = subprocess.run(
        [mlflow_python, "-c", MLFLOW_SCRIPT, server, str(local), str(tmp_path / "dst")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert sorted(traffic.part_puts()) == [1, 2, 3, 4, 5, 6]
    assert traffic.calls("complete") == 1
    assert Path(done.stdout.strip().splitlines()[-1]).read_bytes() == data
    [stored] = (tmp_path / "destination").glob("*/*/artifacts/big/mlflow.bin")
    assert stored.read_bytes() == data
    assert staged(tmp_path) == []
    # The server recorded the file although MLflow's client sent no digest.
    got = httpx.get(f"{server}{PROXY}/{stored.relative_to(tmp_path / 'destination')}")
    assert got.headers["content-digest"].startswith("sha-256=:")
