"""The proxy repository against a live Wayline server, and against a hostile one."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

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
