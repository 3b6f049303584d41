"""The fsspec repository on a local root: round trips, streaming, atomic writes, safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wayline.artifacts import artifact_repository
from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound


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


def test_log_artifact_then_list_and_read(repo: FsspecArtifactRepository, source: Path) -> None:
    repo.log_artifact(source / "a.txt")
    repo.log_artifact(source / "a.txt", artifact_path="nested/dir")
    assert repo.list_artifacts() == [
        FileInfo("a.txt", False, 5),
        FileInfo("nested", True, None),
    ]
    assert repo.list_artifacts("nested") == [FileInfo("nested/dir", True, None)]
    assert repo.list_artifacts("nested/dir") == [FileInfo("nested/dir/a.txt", False, 5)]
    with repo.open_artifact("nested/dir/a.txt") as stream:
        assert stream.read() == b"alpha"


def test_a_file_or_a_missing_path_lists_as_empty(
    repo: FsspecArtifactRepository, source: Path
) -> None:
    assert repo.list_artifacts() == []  # the root does not even exist yet
    repo.log_artifact(source / "a.txt")
    assert repo.list_artifacts("a.txt") == []
    assert repo.list_artifacts("nope") == []


def test_log_artifacts_keeps_the_layout_and_download_restores_it(
    repo: FsspecArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(source, artifact_path="out")
    assert [f.path for f in repo.list_artifacts("out/sub")] == ["out/sub/b.json", "out/sub/deeper"]

    local = repo.download_artifacts("out", tmp_path / "dst")
    assert local == str(tmp_path / "dst" / "out")
    assert (tmp_path / "dst/out/a.txt").read_text() == "alpha"
    assert (tmp_path / "dst/out/sub/deeper/c.bin").read_bytes() == bytes(range(256)) * 10

    one = repo.download_artifacts("out/sub/b.json", tmp_path / "single")
    assert Path(one).read_text() == '{"b": 1}'
    assert one == str(tmp_path / "single" / "out" / "sub" / "b.json")


def test_download_everything_into_a_new_temporary_directory(
    repo: FsspecArtifactRepository, source: Path
) -> None:
    repo.log_artifacts(source)
    local = Path(repo.download_artifacts())
    assert sorted(str(p.relative_to(local)) for p in local.rglob("*") if p.is_file()) == [
        "a.txt",
        "sub/b.json",
        "sub/deeper/c.bin",
    ]


def test_iter_bytes_streams_in_chunks(repo: FsspecArtifactRepository) -> None:
    with repo.open_write("big.bin") as sink:
        for _ in range(5):
            sink.write(b"x" * 1000)
    assert [len(c) for c in repo.iter_bytes("big.bin", chunk_size=2048)] == [2048, 2048, 904]


def test_a_failed_write_leaves_nothing_behind(
    repo: FsspecArtifactRepository, tmp_path: Path
) -> None:
    with pytest.raises(RuntimeError), repo.open_write("dir/partial.bin") as sink:
        sink.write(b"half")
        raise RuntimeError("client went away")
    assert repo.list_artifacts("dir") == []
    assert os.listdir(tmp_path / "store" / "dir") == []


def test_an_unfinished_write_is_invisible(repo: FsspecArtifactRepository) -> None:
    sink = repo.open_sink("dir/slow.bin")
    sink.write(b"so far")
    assert repo.list_artifacts("dir") == []
    with pytest.raises(NotFound):
        repo.open_artifact("dir/slow.bin")
    sink.commit()
    assert repo.list_artifacts("dir") == [FileInfo("dir/slow.bin", False, 6)]


def test_overwriting_replaces_the_file(repo: FsspecArtifactRepository) -> None:
    for text in (b"first version", b"v2"):
        with repo.open_write("f.txt") as sink:
            sink.write(text)
    assert b"".join(repo.iter_bytes("f.txt")) == b"v2"


def test_delete_a_file_a_tree_and_everything(
    repo: FsspecArtifactRepository, source: Path, tmp_path: Path
) -> None:
    repo.log_artifacts(source)
    repo.delete_artifacts("a.txt")
    assert [f.path for f in repo.list_artifacts()] == ["sub"]
    repo.delete_artifacts("sub/deeper")
    assert [f.path for f in repo.list_artifacts("sub")] == ["sub/b.json"]
    repo.delete_artifacts("missing")  # nothing to delete is fine
    repo.delete_artifacts()
    assert not (tmp_path / "store").exists()


def test_missing_artifacts_are_not_found(repo: FsspecArtifactRepository, source: Path) -> None:
    repo.log_artifacts(source)
    for path in ("nope.txt", "sub", ""):
        with pytest.raises(NotFound):
            repo.open_artifact(path)


@pytest.mark.parametrize("bad", ["../x", "%2e%2e/x", "/abs", "a;b", "a#b", "a\\b"])
def test_every_operation_checks_its_path(
    repo: FsspecArtifactRepository, source: Path, tmp_path: Path, bad: str
) -> None:
    with pytest.raises(InvalidParameter):
        repo.log_artifact(source / "a.txt", artifact_path=bad)
    with pytest.raises(InvalidParameter):
        repo.list_artifacts(bad)
    with pytest.raises(InvalidParameter):
        repo.open_artifact(bad)
    with pytest.raises(InvalidParameter):
        repo.open_sink(bad)
    with pytest.raises(InvalidParameter):
        repo.delete_artifacts(bad)
    with pytest.raises(InvalidParameter):
        repo.download_artifacts(bad, tmp_path / "dst")
    assert not (tmp_path / "x").exists()


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


def test_log_artifact_refuses_what_is_not_a_file(
    repo: FsspecArtifactRepository, source: Path
) -> None:
    with pytest.raises(InvalidParameter, match="Not a file"):
        repo.log_artifact(source)
    with pytest.raises(InvalidParameter, match="Not a directory"):
        repo.log_artifacts(source / "a.txt")
