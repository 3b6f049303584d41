"""Artifact storages for tests.

* ``s3_root``: a fresh bucket on a moto S3 server on loopback, with the client env pointing at
  it. moto runs in server mode (a real HTTP server on 127.0.0.1, started once per session), so
  s3fs talks to it exactly as it talks to S3: nothing in Wayline is patched.
* ``artifact_server``: a live Wayline server (one per test module) whose artifact proxy keeps
  files in a local destination; its default artifact root is ``mlflow-artifacts:/``.
* ``tracking``: the fluent API on a fresh experiment, once on a SQLite file (artifacts on local
  disk) and once on ``artifact_server`` (artifacts through its proxy); yields the tracking URI.
* ``artifact_root``: one ``Storage`` per backend (``local``, ``proxy``, ``s3``), for the suite
  every artifact repository must pass. ``Storage.files()`` reads the backing storage directly
  (the disk, the server's destination, the bucket's listing), not through Wayline, so tests can
  check what really landed, inside the root and outside it.
"""

from __future__ import annotations

import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from wayline.artifacts import ArtifactRepository, artifact_repository

S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# Where each test's root sits inside its storage: deep enough that "../" escapes stay visible.
ROOT_PREFIX = "a/b/root"
STORAGES = ("local", "proxy", "s3")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_root(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``s3://<new bucket>/root``, with ``MLFLOW_S3_ENDPOINT_URL`` and credentials set."""
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", moto_endpoint)
    bucket = f"wl-{uuid.uuid4().hex[:12]}"
    # moto's server does not check signatures, so a plain PUT creates the bucket.
    httpx.put(f"{moto_endpoint}/{bucket}").raise_for_status()
    return f"s3://{bucket}/root"


@dataclass(frozen=True)
class ArtifactServer:
    """A live Wayline server: its URL and the directory its artifact proxy writes to."""

    url: str
    destination: Path


@pytest.fixture(scope="module")
def artifact_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArtifactServer]:
    from servers import live_server
    from wayline.artifacts.proxy_repo import close_clients
    from wayline.server import ServerSettings, create_app

    base = tmp_path_factory.mktemp("artifact-server")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{base / 'db.sqlite'}",
        artifacts_destination=str(base / "destination"),
        access_log=False,
    )
    with live_server(create_app(settings)) as url:
        yield ArtifactServer(url, base / "destination")
    close_clients()


TRACKING_ENV = (
    "WAYLINE_TRACKING_URI",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_RUN_ID",
)


@pytest.fixture(params=["sqlite", "server"])
def tracking(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    from wayline.tracking import fluent, uri

    for name in TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # the SQLite store's default artifact root lands here
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    monkeypatch.setattr(fluent, "_last_active_run_id", None)
    if request.param == "sqlite":
        target = f"sqlite:///{tmp_path / 'fluent.db'}"
    else:
        target = request.getfixturevalue("artifact_server").url
    uri.set_tracking_uri(target)
    try:
        # The server is shared by the module's tests: each gets its own experiment.
        fluent.set_experiment(f"exp-{uuid.uuid4().hex[:12]}")
        yield target
    finally:
        while fluent.active_run() is not None:
            fluent.end_run()
        uri.set_tracking_uri(None)


@dataclass(frozen=True)
class Storage:
    """One storage under test: a repository root ``<container>/a/b/root`` and a direct view
    of every file the container holds (``list_container``: paths relative to it)."""

    kind: str
    root_uri: str
    tracking_uri: str | None
    list_container: Callable[[], list[str]]

    def repository(self) -> ArtifactRepository:
        return artifact_repository(self.root_uri, self.tracking_uri)

    def files(self) -> list[str]:
        """Every file stored under the root (temporary files too), relative to it, sorted."""
        start = ROOT_PREFIX + "/"
        return sorted(p[len(start) :] for p in self.list_container() if p.startswith(start))

    def files_outside(self) -> list[str]:
        """Every file the container holds outside the root: none, whatever a test tried."""
        return sorted(p for p in self.list_container() if not p.startswith(ROOT_PREFIX + "/"))


def _walk(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    found = []
    for directory, _, names in os.walk(folder):
        for name in names:
            found.append(Path(directory, name).relative_to(folder).as_posix())
    return found


def _bucket_keys(endpoint: str, bucket: str) -> list[str]:
    keys: list[str] = []
    token: str | None = None
    namespace = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    while True:
        params = {"list-type": "2", **({"continuation-token": token} if token else {})}
        listing = ET.fromstring(httpx.get(f"{endpoint}/{bucket}", params=params).content)
        keys.extend(e.text or "" for e in listing.iter(f"{namespace}Key"))
        token = listing.findtext(f"{namespace}NextContinuationToken")
        if not token:
            return keys


def _local(tmp_path: Path) -> Storage:
    container = tmp_path / "storage"
    return Storage("local", str(container / ROOT_PREFIX), None, lambda: _walk(container))


def _proxy(server: ArtifactServer) -> Storage:
    area = uuid.uuid4().hex
    container = server.destination / area

    def list_container() -> list[str]:
        # Files that landed at the top of the destination escaped this test's area too.
        top = server.destination
        stray = [p.name for p in top.iterdir() if p.is_file()] if top.exists() else []
        return _walk(container) + [f"../{name}" for name in stray]

    root = f"mlflow-artifacts:/{area}/{ROOT_PREFIX}"
    return Storage("proxy", root, server.url, list_container)


def _s3(root: str, endpoint: str) -> Storage:
    bucket = urlparse(root).netloc
    return Storage(
        "s3", f"s3://{bucket}/{ROOT_PREFIX}", None, lambda: _bucket_keys(endpoint, bucket)
    )


@pytest.fixture(params=STORAGES)
def artifact_root(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """The same artifact suite on local disk, the proxy of a live server, and S3 (moto)."""
    kind: str = request.param
    if kind == "local":
        return _local(tmp_path)
    if kind == "proxy":
        return _proxy(request.getfixturevalue("artifact_server"))
    return _s3(request.getfixturevalue("s3_root"), request.getfixturevalue("moto_endpoint"))
