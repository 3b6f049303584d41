"""``wayline.artifacts``' functions (MLflow's ``mlflow.artifacts``) and the URIs they take:
``runs:/``, ``models:/m-<id>``, local paths, file://, s3://, mlflow-artifacts:/ and proxy URLs.

The run and model forms run on a SQLite store (artifacts on disk) and on a live server
(artifacts through its proxy); the storage forms on the storage they name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import wayline
from wayline.artifacts import (
    artifact_repository,
    download_artifacts,
    list_artifacts,
    load_dict,
    load_image,
    load_text,
)
from wayline.artifacts.uris import child_uri, resolve_artifact_uri
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from .conftest import ArtifactServer


def _files(folder: str | Path) -> dict[str, str]:
    root = Path(folder)
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def run_id(tracking: str) -> str:
    """A finished run holding notes/a.txt, cfg/c.yaml and cfg/c.json."""
    with wayline.start_run() as run:
        wayline.log_text("hello", "notes/a.txt")
        wayline.log_dict({"k": [1, 2]}, "cfg/c.yaml")
        wayline.log_dict({"j": 1}, "cfg/c.json")
    return run.info.run_id


def test_load_text_and_dict_from_runs_uris(run_id: str) -> None:
    assert load_text(f"runs:/{run_id}/notes/a.txt") == "hello"
    assert load_dict(f"runs:/{run_id}/cfg/c.yaml") == {"k": [1, 2]}
    assert load_dict(f"runs:/{run_id}/cfg/c.json") == {"j": 1}
    # MLflow's documented form: the run's artifact_uri (mlflow-artifacts:/ on a server) + path.
    artifact_uri = wayline.get_run(run_id).info.artifact_uri
    assert load_text(f"{artifact_uri}/notes/a.txt") == "hello"
    assert load_dict(f"{artifact_uri}/cfg/c.yaml") == {"k": [1, 2]}


def test_download_a_file_a_directory_and_everything(run_id: str, tmp_path: Path) -> None:
    one = download_artifacts(f"runs:/{run_id}/notes/a.txt", dst_path=tmp_path / "one")
    assert one == str(tmp_path / "one" / "a.txt")  # the last segment only, as in MLflow
    assert Path(one).read_text() == "hello"

    folder = download_artifacts(f"runs:/{run_id}/cfg", dst_path=tmp_path / "dir")
    assert folder == str(tmp_path / "dir" / "cfg")
    assert set(_files(folder)) == {"c.json", "c.yaml"}

    everything = download_artifacts(run_id=run_id, dst_path=tmp_path / "all")
    assert everything == str(tmp_path / "all")
    assert set(_files(everything)) == {"notes/a.txt", "cfg/c.yaml", "cfg/c.json"}

    by_path = download_artifacts(run_id=run_id, artifact_path="notes/a.txt", dst_path=tmp_path)
    assert by_path == str(tmp_path / "a.txt")


def test_download_without_a_destination(
    tracking: str, run_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    local = download_artifacts(f"runs:/{run_id}/notes/a.txt")
    assert Path(local).read_text() == "hello"
    artifact_uri = wayline.get_run(run_id).info.artifact_uri
    if tracking.startswith("sqlite"):
        # Artifacts already on local disk are not copied, as MLflow does.
        assert local == os.path.join(artifact_uri, "notes", "a.txt")
    else:  # a new temporary directory
        assert Path(local).parent.parent == temporary


def test_list_artifacts_by_uri_and_by_run(run_id: str) -> None:
    assert [f.path for f in list_artifacts(f"runs:/{run_id}")] == ["cfg", "notes"]
    assert [f.path for f in list_artifacts(f"runs:/{run_id}/cfg")] == ["cfg/c.json", "cfg/c.yaml"]
    assert list_artifacts(f"runs:/{run_id}/notes/a.txt") == []
    assert [f.path for f in list_artifacts(run_id=run_id)] == ["cfg", "notes"]
    assert list_artifacts(run_id=run_id, artifact_path="notes") == [
        FileInfo("notes/a.txt", False, 5)
    ]
    assert list_artifacts(run_id=run_id, artifact_path="missing") == []


def test_arguments_and_missing_artifacts(run_id: str) -> None:
    with pytest.raises(InvalidParameter, match="Exactly one"):
        download_artifacts()
    with pytest.raises(InvalidParameter, match="Exactly one"):
        list_artifacts(f"runs:/{run_id}", run_id=run_id)
    with pytest.raises(InvalidParameter, match="artifact_path"):
        download_artifacts(f"runs:/{run_id}", artifact_path="notes")
    with pytest.raises(NotFound):
        load_text(f"runs:/{run_id}/nope.txt")
    with pytest.raises(NotFound):
        load_text(f"runs:/{'0' * 32}/notes/a.txt")  # no such run
    with pytest.raises(InvalidParameter, match="directory"):
        load_text(f"runs:/{run_id}")
    with pytest.raises(InvalidParameter):
        load_text(f"runs:/{run_id}/../../etc/passwd")


def test_content_that_cannot_be_loaded_is_a_bad_request(tracking: str) -> None:
    with wayline.start_run() as run:
        wayline.log_text("{not json", "broken.json")
        wayline.log_text("a: [", "broken.yaml")
        wayline.log_text("no image", "broken.png")
    repo = artifact_repository(run.info.artifact_uri, tracking)
    with repo.open_write("latin1.txt") as sink:
        sink.write("café".encode("latin-1"))
    uri = f"runs:/{run.info.run_id}"
    for bad in ("broken.json", "broken.yaml", "latin1.txt"):
        with pytest.raises(InvalidParameter) as refused:
            load_dict(f"{uri}/{bad}")
        assert refused.value.error_code == "BAD_REQUEST"
    with pytest.raises(InvalidParameter, match="PIL Image"):
        load_image(f"{uri}/broken.png")


def test_logged_model_uris(tracking: str, tmp_path: Path) -> None:
    with wayline.start_run() as run:
        pass
    model = wayline.Client().create_logged_model(
        run.info.experiment_id, name="clf", source_run_id=run.info.run_id
    )
    repo = artifact_repository(model.artifact_location, tracking)
    with repo.open_write("MLmodel") as sink:
        sink.write(b"flavors: {}\n")
    with repo.open_write("data/weights.bin") as sink:
        sink.write(b"w" * 10)
    uri = f"models:/{model.model_id}"

    assert load_text(f"{uri}/MLmodel") == "flavors: {}\n"
    assert [f.path for f in list_artifacts(uri)] == ["MLmodel", "data"]
    assert list_artifacts(f"{uri}/data") == [FileInfo("data/weights.bin", False, 10)]
    local = download_artifacts(uri, dst_path=tmp_path / "model")
    assert _files(local) == {"MLmodel": "flavors: {}\n", "data/weights.bin": "w" * 10}
    with pytest.raises(NotFound):
        load_text(f"models:/m-{'0' * 32}/MLmodel")


# ---------------------------------------------------------------------- storage URIs
def test_local_paths_and_file_uris(tmp_path: Path) -> None:
    root = tmp_path / "store dir"
    with artifact_repository(str(root)).open_write("d/x y.txt") as sink:
        sink.write(b"hi")
    target = root / "d" / "x y.txt"
    assert load_text(str(target)) == "hi"
    assert load_text(target.as_uri()) == "hi"  # file:///.../store%20dir/d/x%20y.txt
    assert list_artifacts(str(root / "d")) == [FileInfo("d/x y.txt", False, 2)]
    assert list_artifacts((root / "d").as_uri()) == [FileInfo("d/x y.txt", False, 2)]
    copied = download_artifacts(str(root / "d"), dst_path=tmp_path / "dst")
    assert _files(copied) == {"x y.txt": "hi"}
    assert download_artifacts(str(target)) == str(target)  # already local: not copied


def test_s3_uris(s3_root: str, tmp_path: Path) -> None:
    with artifact_repository(s3_root).open_write("run/cfg.json") as sink:
        sink.write(b'{"a": 1}')
    assert load_dict(f"{s3_root}/run/cfg.json") == {"a": 1}
    assert list_artifacts(f"{s3_root}/run") == [FileInfo("run/cfg.json", False, 8)]
    local = download_artifacts(f"{s3_root}/run", dst_path=tmp_path)
    assert _files(local) == {"cfg.json": '{"a": 1}'}


def test_proxy_uris_and_urls(artifact_server: ArtifactServer, tmp_path: Path) -> None:
    server = artifact_server.url
    with artifact_repository("mlflow-artifacts:/shared/x", server).open_write("n.txt") as sink:
        sink.write(b"proxied")
    by_scheme = download_artifacts(
        "mlflow-artifacts:/shared/x/n.txt", dst_path=tmp_path / "a", tracking_uri=server
    )
    assert Path(by_scheme).read_text() == "proxied"
    assert list_artifacts("mlflow-artifacts:/shared/x", tracking_uri=server) == [
        FileInfo("x/n.txt", False, 7)
    ]
    # A proxy URL names its server itself: no tracking URI needed.
    url = f"{server}/api/2.0/mlflow-artifacts/artifacts/shared/x"
    assert list_artifacts(url) == [FileInfo("x/n.txt", False, 7)]
    assert load_text(f"{url}/n.txt") == "proxied"
    assert Path(download_artifacts(f"{url}/n.txt", dst_path=tmp_path / "b")).read_text() == (
        "proxied"
    )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/run/artifacts", ("s3://bucket/run", "artifacts")),
        ("s3://bucket/run/artifacts/", ("s3://bucket/run", "artifacts")),
        ("s3://bucket", ("s3://bucket", "")),
        ("mlflow-artifacts:/1/r/artifacts/x.txt", ("mlflow-artifacts:/1/r/artifacts", "x.txt")),
        ("mlflow-artifacts://host:5000/1/x", ("mlflow-artifacts://host:5000/1", "x")),
        ("mlflow-artifacts:/x", ("mlflow-artifacts:/", "x")),
        ("file:///tmp/a%20b/c%20d.txt", ("file:///tmp/a%20b", "c d.txt")),
        ("/tmp/a/b/", ("/tmp/a", "b")),
        ("relative/file.txt", ("relative", "file.txt")),
        (
            "https://h/api/2.0/mlflow-artifacts/artifacts/1/x",
            ("https://h/api/2.0/mlflow-artifacts/artifacts/1", "x"),
        ),
    ],
)
def test_storage_uris_split_as_mlflow_splits_them(uri: str, expected: tuple[str, str]) -> None:
    assert resolve_artifact_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["runs:/", "runs:", "runs://profile/id/x", "runs:/id/../x", "runs:/id/%2e%2e/x", "models:/"],
)
def test_malformed_run_and_model_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameter):
        resolve_artifact_uri(uri)


def test_child_uris_keep_file_uris_encoded() -> None:
    assert child_uri("file:///tmp/x", "a b/c") == "file:///tmp/x/a%20b/c"
    assert child_uri("s3://b/root/", "a b") == "s3://b/root/a b"
    assert child_uri("/tmp/x", "") == "/tmp/x"
