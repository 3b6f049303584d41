"""Artifact URIs map to repositories in one place; proxy URIs map to server URLs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wayline.artifacts import artifact_repository
from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.artifacts.proxy_repo import ProxyArtifactRepository, split_proxy_uri
from wayline.errors import InvalidParameter, WaylineError


def test_local_paths_and_file_uris_are_local(tmp_path: Path) -> None:
    for uri in (str(tmp_path), tmp_path.as_uri(), f"file://{tmp_path}"):
        repo = artifact_repository(uri)
        assert isinstance(repo, FsspecArtifactRepository)
        assert repo.is_local


def test_proxy_and_http_uris_go_through_the_proxy() -> None:
    for uri in (
        "mlflow-artifacts:/1/abc/artifacts",
        "mlflow-artifacts://host:5000/1/abc/artifacts",
        "http://host:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
    ):
        assert isinstance(artifact_repository(uri, "http://host:5000"), ProxyArtifactRepository)


def test_unknown_schemes_are_refused_with_the_supported_list() -> None:
    with pytest.raises(InvalidParameter) as refused:
        artifact_repository("ftp://host/x")
    for scheme in ("s3://", "gs://", "wasbs://", "abfss://", "hdfs://", "mlflow-artifacts:/"):
        assert scheme in refused.value.message


@pytest.mark.parametrize(
    ("uri", "tracking_uri", "expected"),
    [
        ("mlflow-artifacts:/1/r/artifacts", "http://h:5000", ("http://h:5000", "1/r/artifacts")),
        ("mlflow-artifacts:/1/r", "https://h/prefix/", ("https://h/prefix", "1/r")),
        ("mlflow-artifacts:///1/r", "http://h:5000", ("http://h:5000", "1/r")),
        ("mlflow-artifacts://other:81/1/r", "https://h", ("https://other:81", "1/r")),
        ("mlflow-artifacts://other:81/1/r", None, ("http://other:81", "1/r")),
        ("mlflow-artifacts:/", "http://h", ("http://h", "")),
        (
            "http://h:5000/pre/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts",
            None,
            ("http://h:5000/pre", "1/r/artifacts"),
        ),
    ],
)
def test_split_proxy_uri(uri: str, tracking_uri: str | None, expected: tuple[str, str]) -> None:
    assert split_proxy_uri(uri, tracking_uri) == expected


def test_a_proxy_uri_needs_an_http_tracking_uri() -> None:
    with pytest.raises(WaylineError, match="http"):
        split_proxy_uri("mlflow-artifacts:/1/r", "sqlite:///x.db")


def test_proxy_uris_with_traversal_are_refused() -> None:
    with pytest.raises(InvalidParameter):
        split_proxy_uri("mlflow-artifacts:/1/../../etc", "http://h")
    with pytest.raises(InvalidParameter, match="not an artifact proxy URL"):
        split_proxy_uri("http://h/some/other/path", None)


def test_importing_wayline_loads_no_storage_library() -> None:
    code = (
        "import sys, wayline, wayline.artifacts\n"
        "libraries = ('fsspec', 's3fs', 'gcsfs', 'adlfs', 'pyarrow', 'httpx', 'yaml')\n"
        "print(sorted(m for m in libraries if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
