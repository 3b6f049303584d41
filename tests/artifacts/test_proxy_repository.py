"""The proxy repository against a live Wayline server, and against a hostile one."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from servers import live_server, recording
from wayline import __version__
from wayline.artifacts import artifact_repository
from wayline.artifacts.proxy_repo import ProxyArtifactRepository, close_clients
from wayline.artifacts.proxy_uploads import MultipartSettings
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.server import ServerSettings, create_app
from wayline.store.rest import rest_settings_from_env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
        artifacts_destination=str(tmp_path / "destination"),
        access_log=False,
    )
    with live_server(create_app(settings)) as url:
        yield url
    close_clients()


def test_round_trip_through_a_wayline_server(server: str, tmp_path: Path) -> None:
    repo = artifact_repository("mlflow-artifacts:/7/run/artifacts", tracking_uri=server)
    assert isinstance(repo, ProxyArtifactRepository)
    local = tmp_path / "weights.bin"
    local.write_bytes(b"w" * 5000)
    repo.log_artifact(local, "model")
    with repo.open_write("notes/a b%25.txt") as sink:  # spaces and percents survive the URL
        sink.write(b"spooled")
    assert repo.list_artifacts() == [FileInfo("model", True), FileInfo("notes", True)]
    assert repo.list_artifacts("notes") == [FileInfo("notes/a b%25.txt", False, 7)]
    assert (tmp_path / "destination/7/run/artifacts/notes/a b%25.txt").read_bytes() == b"spooled"
    with repo.open_artifact("model/weights.bin") as stream:
        assert stream.read(10) == b"w" * 10
        assert len(stream.read()) == 4990
    assert repo.is_dir("model")
    assert not repo.is_dir("model/weights.bin")

    repo.delete_artifacts("model")
    assert [f.path for f in repo.list_artifacts()] == ["notes"]
    with pytest.raises(NotFound):
        repo.open_artifact("model/weights.bin")
    with pytest.raises(NotFound):
        repo.download_artifacts("model/weights.bin", tmp_path / "dst")


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda data: b"X" + data[1:], "SHA-256"),  # a flipped byte, same size
        (lambda data: data[:-100], "bytes"),  # truncated on disk
    ],
)
def test_a_download_altered_on_the_server_is_detected(
    server: str, tmp_path: Path, damage: Callable[[bytes], bytes], problem: str
) -> None:
    repo = artifact_repository("mlflow-artifacts:/9/run/artifacts", tracking_uri=server)
    local = tmp_path / "data.bin"
    local.write_bytes(bytes(range(256)) * 4000)
    repo.log_artifact(local, "d")
    stored = tmp_path / "destination/9/run/artifacts/d/data.bin"
    stored.write_bytes(damage(stored.read_bytes()))  # bit rot, a bad restore...

    with pytest.raises(WaylineError) as corrupt:
        repo.download_artifacts("d/data.bin", tmp_path / "dst")
    assert corrupt.value.error_code == "DATA_LOSS"
    assert problem in corrupt.value.message
    # Neither the file nor its partial download is left behind.
    dst = tmp_path / "dst"
    assert not dst.exists() or [p for p in dst.rglob("*") if p.is_file()] == []
    with pytest.raises(WaylineError):
        repo.download_artifacts("d", tmp_path / "tree")

    # Uploaded again, it downloads again.
    repo.log_artifact(local, "d")
    assert Path(repo.download_artifacts("d/data.bin", tmp_path / "ok")).read_bytes() == (
        local.read_bytes()
    )


def test_uploads_carry_their_digest(
    guarded_server: tuple[str, list[httpx.Headers]], tmp_path: Path
) -> None:
    url, seen = guarded_server
    settings = rest_settings_from_env({"HOME": str(tmp_path), "MLFLOW_TRACKING_TOKEN": "t0ken"})
    repo = ProxyArtifactRepository("mlflow-artifacts:/1/run/artifacts", url, settings)
    local = tmp_path / "f.txt"
    local.write_bytes(b"digest me")
    repo.log_artifact(local)
    with repo.open_write("g.txt") as sink:
        sink.write(b"and me")
    expected = [
        "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"
        for data in (b"digest me", b"and me")
    ]
    assert [h["content-digest"] for h in seen if "content-digest" in h] == expected


def test_an_abandoned_write_uploads_nothing(server: str) -> None:
    repo = artifact_repository("mlflow-artifacts:/run", tracking_uri=server)
    with pytest.raises(RuntimeError), repo.open_write("x.txt") as sink:
        sink.write(b"never sent")
        raise RuntimeError("stop")
    assert repo.list_artifacts() == []


BASIC_ALICE = "Basic " + base64.b64encode(b"alice:s3cret").decode()


@pytest.fixture
def guarded_server(tmp_path: Path) -> Iterator[tuple[str, list[httpx.Headers]]]:
    """A Wayline server behind a gate that admits only alice (Basic) or a bearer token, as an
    authenticating proxy in front of a tracking server would; records the headers it saw."""
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
        artifacts_destination=str(tmp_path / "destination"),
        access_log=False,
    )
    seen: list[httpx.Headers] = []

    def admit(headers: httpx.Headers) -> bool:
        return headers.get("authorization") in (BASIC_ALICE, "Bearer t0ken")

    with live_server(recording(create_app(settings), seen, admit)) as url:
        yield url, seen
    close_clients()


def test_artifact_calls_carry_the_clients_credentials_and_identity(
    guarded_server: tuple[str, list[httpx.Headers]], tmp_path: Path
) -> None:
    url, seen = guarded_server
    home = tmp_path / "home"
    (home / ".mlflow").mkdir(parents=True)
    (home / ".mlflow" / "credentials").write_text(
        "[mlflow]\nmlflow_tracking_username = alice\nmlflow_tracking_password = s3cret\n"
    )
    uri = "mlflow-artifacts:/1/run/artifacts"
    from_file = ProxyArtifactRepository(uri, url, rest_settings_from_env({"HOME": str(home)}))
    with from_file.open_write("a.txt") as sink:
        sink.write(b"hello")
    assert from_file.list_artifacts() == [FileInfo("a.txt", False, 5)]
    assert seen[-1]["authorization"] == BASIC_ALICE
    assert seen[-1]["user-agent"] == f"wayline-python-client/{__version__}"
    assert "x-mlflow-client-version" in seen[-1]

    token_env = {"HOME": str(tmp_path), "MLFLOW_TRACKING_TOKEN": "t0ken"}
    with_token = ProxyArtifactRepository(uri, url, rest_settings_from_env(token_env))
    with with_token.open_artifact("a.txt") as stream:
        assert stream.read() == b"hello"

    anonymous = ProxyArtifactRepository(uri, url, rest_settings_from_env({"HOME": str(tmp_path)}))
    with pytest.raises(WaylineError) as refused:
        anonymous.list_artifacts()
    assert refused.value.error_code == "UNAUTHENTICATED"


@pytest.fixture
def hostile_server() -> Iterator[str]:
    """A server whose listing names a file outside the directory being downloaded."""

    async def listing(request: Request) -> Response:
        return JSONResponse(
            {"files": [{"path": "../../escaped.txt", "is_dir": False, "file_size": 4}]}
        )

    async def artifact(request: Request) -> Response:
        return Response(b"evil")

    app = Starlette(
        routes=[
            Route("/api/2.0/mlflow-artifacts/artifacts", listing),
            Route("/api/2.0/mlflow-artifacts/artifacts/{path:path}", artifact),
        ]
    )
    with live_server(app) as url:
        yield url
    close_clients()


def test_names_from_a_hostile_listing_are_refused(hostile_server: str, tmp_path: Path) -> None:
    repo = artifact_repository(
        f"{hostile_server}/api/2.0/mlflow-artifacts/artifacts/run", tracking_uri=None
    )
    with pytest.raises(InvalidParameter):
        repo.download_artifacts("", tmp_path / "a" / "b")
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "a" / "escaped.txt").exists()


def test_multipart_uploads_through_a_server_storing_in_s3(
    s3_root: str, moto_endpoint: str, tmp_path: Path
) -> None:
    """Parts, digest records and the joined file all go through the destination's open_sink,
    so an s3:// destination works as a local one does."""
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
        artifacts_destination=s3_root,
        access_log=False,
    )
    multipart = MultipartSettings(
        minimum_file_size=1, part_size=64 * 1024, state_dir=str(tmp_path / "state")
    )
    local = tmp_path / "weights.bin"
    data = bytes(range(256)) * 1000  # 4 parts, the last one short
    local.write_bytes(data)
    with live_server(create_app(settings)) as url:
        repo = ProxyArtifactRepository(
            f"{url}/api/2.0/mlflow-artifacts/artifacts/5/run/artifacts", multipart=multipart
        )
        try:
            repo.log_artifact(local, "model")
            copy = repo.download_artifacts("model/weights.bin", tmp_path / "dst")
            assert Path(copy).read_bytes() == data
            assert repo.list_artifacts("model") == [FileInfo("model/weights.bin", False, len(data))]
        finally:
            close_clients()
    bucket = urlparse(s3_root).netloc
    listing = httpx.get(f"{moto_endpoint}/{bucket}", params={"list-type": "2"}).text
    keys = sorted(re.findall(r"<Key>([^<]+)</Key>", listing))
    assert keys == [
        "root/.wayline-internal/records/5/run/artifacts/model/weights.bin",
        "root/5/run/artifacts/model/weights.bin",
    ]  # the staged parts are gone
