"""S3-only behaviour: the repository chosen for s3:// URIs, and the server's proxy writing to an
S3 destination (moto's server on loopback). The behaviour every storage shares, S3 included,
is in test_repository_contract.py."""

from __future__ import annotations

from pathlib import Path

from wayline.artifacts import artifact_repository
from wayline.artifacts.fsspec_repo import FsspecArtifactRepository


def test_s3_uris_get_the_fsspec_repository(s3_root: str) -> None:
    repo = artifact_repository(s3_root)
    assert isinstance(repo, FsspecArtifactRepository)
    assert not repo.is_local


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
