"""The fsspec repository on a local root: what only local disk has (symlinks, file names on
disk, file:// URIs). The behaviour every storage shares is in test_repository_contract.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from wayline.artifacts import artifact_repository
from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter


@pytest.fixture
def repo(tmp_path: Path) -> FsspecArtifactRepository:
    return FsspecArtifactRepository(str(tmp_path / "store"))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A local tree: a.txt, sub/b.json, sub/deeper/c.bin."""
    folder = tmp_path / "source"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.json").write_text('{"b": 1}')
    (folder / "sub" / "deeper" / "c.bin").write_bytes(bytes(range(256)) * 10)
    return folder


def test_symlinks_out_of_the_root_are_neither_followed_nor_listed(
    repo: FsspecArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifact(source / "a.txt")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    root = tmp_path / "store"
    (root / "escape").symlink_to(outside)
    (root / "secret-link").symlink_to(outside / "secret.txt")
    assert [f.path for f in repo.list_artifacts()] == ["a.txt"]
    with pytest.raises(InvalidParameter):
        repo.open_artifact("secret-link")
    with pytest.raises(InvalidParameter):
        repo.list_artifacts("escape")
    with pytest.raises(InvalidParameter):
        repo.open_sink("escape/planted.txt")
    with pytest.raises(InvalidParameter):
        repo.delete_artifacts("escape")
    assert (outside / "secret.txt").read_text() == "secret"
    assert not (outside / "planted.txt").exists()


def test_a_file_named_with_a_percent_keeps_its_name(
    repo: FsspecArtifactRepository, tmp_path: Path
) -> None:
    local = tmp_path / "100%25.txt"
    local.write_text("full")
    repo.log_artifact(local)
    assert [f.path for f in repo.list_artifacts()] == ["100%25.txt"]
    assert (tmp_path / "store" / "100%25.txt").read_text() == "full"


def test_file_uris_and_plain_paths_name_the_same_root(tmp_path: Path, source: Path) -> None:
    plain = artifact_repository(str(tmp_path / "store"))
    as_uri = artifact_repository((tmp_path / "store").as_uri())
    plain.log_artifact(source / "a.txt")
    assert as_uri.list_artifacts() == [FileInfo("a.txt", False, 5)]


def test_a_file_does_not_replace_a_directory(repo: FsspecArtifactRepository, source: Path) -> None:
    repo.log_artifacts(source)
    with pytest.raises(InvalidParameter, match="overwrite directory"):
        repo.open_sink("sub")
    assert [f.path for f in repo.list_artifacts("sub")] == ["sub/b.json", "sub/deeper"]
