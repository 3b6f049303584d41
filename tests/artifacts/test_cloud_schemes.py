"""Remote storage schemes: options from the environment, missing extras, Azure for real (Azurite),
and transfer progress reported by the fsspec repository."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from servers import live_server
from wayline.artifacts import artifact_repository
from wayline.artifacts.fsspec_repo import (
    REMOTE_SCHEMES,
    FsspecArtifactRepository,
    RenamingSink,
    remote_root,
)
from wayline.artifacts.progress import listening
from wayline.artifacts.resolve import storage_options
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound, WaylineError
from wayline.server import ServerSettings, create_app

from . import azurite as azurite_fixtures

# Imported fixtures (a conftest may import them instead; these names then resolve to the same).
azurite = azurite_fixtures.azurite
wasbs_root = azurite_fixtures.wasbs_root

WASBS = "wasbs://models@acme.blob.core.windows.net/mlruns/1"
EXAMPLE_URIS = {
    "s3": "s3://bucket/prefix",
    "gs": "gs://bucket/prefix",
    "wasbs": WASBS,
    "abfss": "abfss://models@acme.dfs.core.windows.net/mlruns",
    "hdfs": "hdfs://namenode:8020/user/ml/artifacts",
}


# ---------------------------------------------------------------- the scheme table
def test_every_remote_scheme_has_options_and_a_root() -> None:
    assert set(EXAMPLE_URIS) == set(REMOTE_SCHEMES)
    for uri in EXAMPLE_URIS.values():
        assert isinstance(storage_options(uri, {}), dict)
        assert remote_root(uri)


@pytest.mark.parametrize(
    ("uri", "root"),
    [
        ("s3://bucket/prefix/", "bucket/prefix"),
        ("gs://bucket", "bucket"),
        (WASBS, "models/mlruns/1"),
        ("abfss://models@acme.dfs.core.windows.net/", "models"),
        ("hdfs://namenode:8020/user/ml/", "/user/ml"),
        ("hdfs:///user/ml", "/user/ml"),
        ("hdfs://namenode", "/"),
    ],
)
def test_remote_root_is_the_path_inside_the_filesystem(uri: str, root: str) -> None:
    assert remote_root(uri) == root


@pytest.mark.parametrize(
    "uri",
    [
        "wasbs://acme.blob.core.windows.net/models/path",  # no container@
        "wasbs://@acme.blob.core.windows.net/path",
        "abfss://models@acme.queue.core.windows.net/path",  # not a blob or dfs host
        "gs:///no-bucket",
    ],
)
def test_malformed_remote_uris_are_refused_with_the_expected_form(uri: str) -> None:
    with pytest.raises(InvalidParameter):
        artifact_repository(uri)


# ---------------------------------------------------------------- options from the environment
def test_gcs_options() -> None:
    assert storage_options("gs://b/p", {}) == {"use_listings_cache": False}
    project = storage_options("gs://b/p", {"GOOGLE_CLOUD_PROJECT": "ml-prod"})
    assert project == {"use_listings_cache": False, "project": "ml-prod"}


def test_azure_credentials_follow_mlflow_precedence() -> None:
    base = {"account_name": "acme", "use_listings_cache": False}
    everything = {
        "AZURE_STORAGE_CONNECTION_STRING": "DefaultEndpointsProtocol=https;AccountName=acme",
        "AZURE_STORAGE_ACCESS_KEY": "key==",
        "AZURE_STORAGE_SAS_TOKEN": "sv=2024&sig=x",
    }
    assert storage_options(WASBS, everything) == {
        **base,
        "connection_string": everything["AZURE_STORAGE_CONNECTION_STRING"],
    }
    del everything["AZURE_STORAGE_CONNECTION_STRING"]
    assert storage_options(WASBS, everything) == {**base, "account_key": "key=="}
    del everything["AZURE_STORAGE_ACCESS_KEY"]
    assert storage_options(WASBS, everything) == {**base, "sas_token": "sv=2024&sig=x"}
    # Nothing set: Azure's default credential chain (AZURE_CLIENT_ID/SECRET/TENANT_ID, ...).
    service_principal = {"AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s", "AZURE_TENANT_ID": "t"}
    assert storage_options(WASBS, service_principal) == {**base, "anon": False}


def test_azure_account_and_host_come_from_the_uri() -> None:
    adls = storage_options("abfss://fs@lake01.dfs.core.windows.net/p", {})
    assert adls["account_name"] == "lake01"
    assert "account_host" not in adls  # the public cloud: adlfs derives the blob host
    china = storage_options("wasbs://c@acme.blob.core.chinacloudapi.cn/p", {})
    assert china["account_host"] == "acme.blob.core.chinacloudapi.cn"
    gov = storage_options("abfss://c@acme.dfs.core.usgovcloudapi.net/p", {})
    assert gov["account_host"] == "acme.blob.core.usgovcloudapi.net"  # blob API, not dfs


def test_hdfs_options() -> None:
    assert storage_options("hdfs://namenode:8020/p", {}) == {
        "host": "hdfs://namenode",
        "port": 8020,
    }
    kerberos = {
        "MLFLOW_KERBEROS_TICKET_CACHE": "/tmp/krb5cc_1000",
        "MLFLOW_KERBEROS_USER": "ml",
        "MLFLOW_PYARROW_EXTRA_CONF": "dfs.replication=2, fs.trash.interval=0",
    }
    assert storage_options("hdfs:///user/ml", kerberos) == {
        "host": "default",
        "port": 0,
        "user": "ml",
        "kerb_ticket": "/tmp/krb5cc_1000",
        "extra_conf": {"dfs.replication": "2", "fs.trash.interval": "0"},
    }
    with pytest.raises(InvalidParameter, match="key=value"):
        storage_options("hdfs:///p", {"MLFLOW_PYARROW_EXTRA_CONF": "dfs.replication"})
    with pytest.raises(InvalidParameter, match="bad port"):
        storage_options("hdfs://namenode:http/p", {})


def test_s3_options() -> None:
    assert storage_options("s3://b/p", {}) == {"client_kwargs": {}, "use_listings_cache": False}
    custom = {"MLFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9000", "MLFLOW_S3_IGNORE_TLS": "true"}
    assert storage_options("s3://b/p", custom)["client_kwargs"] == {
        "endpoint_url": "http://127.0.0.1:9000",
        "verify": False,
    }


def test_options_are_only_for_remote_uris() -> None:
    with pytest.raises(InvalidParameter):
        storage_options("/tmp/artifacts", {})


# ---------------------------------------------------------------- missing extras
@pytest.mark.parametrize(
    ("uri", "module", "extra"),
    [
        ("gs://bucket/p", "gcsfs", "gcs"),
        (WASBS, "adlfs", "azure"),
        ("abfss://c@acme.dfs.core.windows.net/p", "adlfs", "azure"),
        ("hdfs://namenode:8020/p", "pyarrow", "hdfs"),
        ("s3://bucket/p", "s3fs", "s3"),
    ],
)
def test_a_missing_library_names_the_extra_to_install(
    uri: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import module` fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(WaylineError, match=rf"pip install 'wayline\[{extra}\]'"):
        artifact_repository(uri)


# ---------------------------------------------------------------- HDFS-style uploads
def test_a_renaming_sink_shows_the_file_only_once_committed(tmp_path: Path) -> None:
    # HDFS files have no deferred commit: the upload goes to a hidden name, then is renamed.
    # Shown here on fsspec's local filesystem, which has the same open/mv/rm calls.
    from fsspec.implementations.local import LocalFileSystem

    folder = tmp_path / "dir"
    folder.mkdir()
    sink = RenamingSink(LocalFileSystem(), f"{folder}/f.bin")
    sink.write(b"abc")
    assert [p.name.startswith(".wayline-upload-") for p in folder.iterdir()] == [True]
    sink.commit()
    assert [p.name for p in folder.iterdir()] == ["f.bin"]
    assert (folder / "f.bin").read_bytes() == b"abc"

    abandoned = RenamingSink(LocalFileSystem(), f"{folder}/g.bin")
    abandoned.write(b"x")
    abandoned.discard()
    assert [p.name for p in folder.iterdir()] == ["f.bin"]


# ---------------------------------------------------------------- Azure for real (Azurite)
@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    return folder


def test_azure_round_trip(wasbs_root: str, source: Path, tmp_path: Path) -> None:
    repo = artifact_repository(wasbs_root)
    assert isinstance(repo, FsspecArtifactRepository)
    assert not repo.is_local
    assert repo.list_artifacts() == []
    repo.log_artifacts(source, "run")
    repo.log_artifact(source / "a.txt")
    assert repo.list_artifacts() == [FileInfo("a.txt", False, 5), FileInfo("run", True, None)]
    assert repo.list_artifacts("run/sub") == [FileInfo("run/sub/b.bin", False, 2000)]
    assert repo.list_artifacts("run/a.txt") == []
    assert b"".join(repo.iter_bytes("run/sub/b.bin")) == b"\x00\x01" * 1000

    local = Path(repo.download_artifacts("run", tmp_path / "dst"))
    assert (local / "a.txt").read_text() == "alpha"
    assert (local / "sub" / "b.bin").read_bytes() == b"\x00\x01" * 1000

    repo.delete_artifacts("run/sub")
    assert [f.path for f in repo.list_artifacts("run")] == ["run/a.txt"]
    with pytest.raises(NotFound):
        repo.open_artifact("run/sub/b.bin")


def test_azure_writes_appear_only_when_committed(wasbs_root: str) -> None:
    repo = artifact_repository(wasbs_root)
    with pytest.raises(RuntimeError), repo.open_write("dir/f.bin") as sink:
        sink.write(b"x" * 100)
        raise RuntimeError("abandoned")
    assert repo.list_artifacts("dir") == []
    with repo.open_write("dir/f.bin") as sink:
        sink.write(b"y" * 100)
    assert repo.list_artifacts("dir") == [FileInfo("dir/f.bin", False, 100)]


def test_azure_paths_are_checked_too(wasbs_root: str) -> None:
    repo = artifact_repository(wasbs_root)
    with pytest.raises(InvalidParameter):
        repo.open_sink("../other-container/x")
    with pytest.raises(InvalidParameter):
        repo.list_artifacts("%2e%2e")


@azurite_fixtures.large_azure_blocks
def test_the_server_proxies_to_an_azure_destination(wasbs_root: str, tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
        artifacts_destination=wasbs_root,
        access_log=False,
    )
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    payload = bytes(range(256)) * 4096  # 1 MiB, more than one upload flush
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        assert http.put(f"{proxy}/1/r/artifacts/w.bin", content=payload).status_code == 200
        assert http.get(f"{proxy}/1/r/artifacts/w.bin").content == payload
        listing = http.get(f"{proxy}", params={"path": "1/r/artifacts"}).json()
        assert listing == {"files": [{"path": "w.bin", "is_dir": False, "file_size": len(payload)}]}


# ---------------------------------------------------------------- transfer progress
def _moved_while(action: Callable[[], object]) -> int:
    moved: list[int] = []
    with listening(moved.append):
        action()
    return sum(moved)


def _check_progress(root: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"p" * (3 * 1024 * 1024 + 17))  # several chunks and a ragged end
    repo = artifact_repository(root)
    assert _moved_while(lambda: repo.log_artifact(big, "up")) == big.stat().st_size
    dst = tmp_path / "down"
    assert _moved_while(lambda: repo.download_artifacts("up", dst)) == big.stat().st_size
    assert (dst / "up" / "big.bin").read_bytes() == big.read_bytes()


def test_local_transfers_report_progress(tmp_path: Path) -> None:
    _check_progress(str(tmp_path / "store"), tmp_path)


def test_s3_transfers_report_progress(s3_root: str, tmp_path: Path) -> None:
    _check_progress(s3_root, tmp_path)


@azurite_fixtures.large_azure_blocks
def test_azure_transfers_report_progress(wasbs_root: str, tmp_path: Path) -> None:
    _check_progress(wasbs_root, tmp_path)


def test_nothing_is_reported_without_a_listener(tmp_path: Path) -> None:
    repo = artifact_repository(str(tmp_path / "store"))
    (tmp_path / "f.txt").write_text("quiet")
    repo.log_artifact(tmp_path / "f.txt")  # no listener: report() is a no-op, nothing breaks
    assert repo.list_artifacts() == [FileInfo("f.txt", False, 5)]
