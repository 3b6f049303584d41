"""The fsspec repository on S3 (s3fs against moto's server on loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wayline.artifacts import artifact_repository
from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    return folder


def test_s3_round_trip(s3_root: str, source: Path, tmp_path: Path) -> None:
    repo = artifact_repository(s3_root)
    assert isinstance(repo, FsspecArtifactRepository)
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


def test_s3_writes_appear_only_when_committed(s3_root: str) -> None:
    repo = artifact_repository(s3_root)
    with pytest.raises(RuntimeError), repo.open_write("dir/f.bin") as sink:
        sink.write(b"x" * 100)
        raise RuntimeError("abandoned")
    assert repo.list_artifacts("dir") == []
    with repo.open_write("dir/f.bin") as sink:
        sink.write(b"y" * 100)
    assert repo.list_artifacts("dir") == [FileInfo("dir/f.bin", False, 100)]


def test_s3_paths_are_checked_too(s3_root: str) -> None:
    repo = artifact_repository(s3_root)
    with pytest.raises(InvalidParameter):
        repo.open_sink("../other-prefix/x")
    with pytest.raises(InvalidParameter):
        repo.list_artifacts("%2e%2e")


def test_the_server_proxies_to_an_s3_destination(s3_root: str, tmp_path: Path) -> None:
    import httpx

    from servers import live_server
    from wayline.server import ServerSettings, create_app

    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
        artifacts_destination=s3_root,
        access_log=False,
    )
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    payload = bytes(range(256)) * 4096  # 1 MiB, more than one upload flush
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        assert http.put(f"{proxy}/1/r/artifacts/w.bin", content=payload).status_code == 200
        got = http.get(f"{proxy}/1/r/artifacts/w.bin")
        assert got.content == payload
        assert got.headers["content-disposition"] == 'attachment; filename="w.bin"'
        assert http.get(proxy, params={"path": "1/r/artifacts"}).json() == {
            "files": [{"path": "w.bin", "is_dir": False, "file_size": len(payload)}]
        }
        assert http.get(f"{proxy}/1/r/artifacts/missing").status_code == 404
        assert http.get(f"{proxy}/1/%2e%2e/x").status_code == 400
        assert http.delete(f"{proxy}/1/r/artifacts/w.bin").json() == {}
        assert http.get(proxy, params={"path": "1/r/artifacts"}).json() == {}
    assert artifact_repository(s3_root).list_artifacts("1/r/artifacts") == []
