"""What every artifact repository does, on each storage ``artifact_root`` provides: local disk,
the artifact proxy of a live server, and S3 (moto's server).

Backend-specific behaviour (symlinks on disk, the proxy's credentials, S3 options) is tested
beside each repository; everything here must hold for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from .conftest import Storage

BINARY = bytes(range(256)) * 10


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A local tree: a.txt, sub/b.json, sub/deeper/c.bin."""
    folder = tmp_path / "source"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.json").write_text('{"b": 1}')
    (folder / "sub" / "deeper" / "c.bin").write_bytes(BINARY)
    return folder


def _local_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_log_artifact_then_list_and_read(artifact_root: Storage, source: Path) -> None:
    repo = artifact_root.repository()
    repo.log_artifact(source / "a.txt")
    repo.log_artifact(source / "a.txt", artifact_path="nested/dir")
    assert repo.list_artifacts() == [FileInfo("a.txt", False, 5), FileInfo("nested", True, None)]
    assert repo.list_artifacts("nested") == [FileInfo("nested/dir", True, None)]
    assert repo.list_artifacts("nested/dir") == [FileInfo("nested/dir/a.txt", False, 5)]
    with repo.open_artifact("nested/dir/a.txt") as stream:
        assert stream.read() == b"alpha"
    assert repo.is_dir("nested")
    assert not repo.is_dir("nested/dir/a.txt")
    assert artifact_root.files() == ["a.txt", "nested/dir/a.txt"]


def test_a_file_or_a_missing_path_lists_as_empty(artifact_root: Storage, source: Path) -> None:
    repo = artifact_root.repository()
    assert repo.list_artifacts() == []  # the root does not even exist yet
    repo.log_artifact(source / "a.txt")
    assert repo.list_artifacts("a.txt") == []
    assert repo.list_artifacts("nope") == []
    assert repo.list_artifacts("nope/deeper") == []


def test_log_artifacts_keeps_the_layout_and_download_restores_it(
    artifact_root: Storage, source: Path, tmp_path: Path
) -> None:
    repo = artifact_root.repository()
    repo.log_artifacts(source, artifact_path="out")
    assert [f.path for f in repo.list_artifacts("out/sub")] == ["out/sub/b.json", "out/sub/deeper"]

    local = repo.download_artifacts("out", tmp_path / "dst")
    assert local == str(tmp_path / "dst" / "out")
    assert _local_files(Path(local)) == _local_files(source)

    one = repo.download_artifacts("out/sub/b.json", tmp_path / "single")
    assert one == str(tmp_path / "single" / "out" / "sub" / "b.json")
    assert Path(one).read_text() == '{"b": 1}'


def test_download_everything_into_a_new_temporary_directory(
    artifact_root: Storage, source: Path
) -> None:
    repo = artifact_root.repository()
    repo.log_artifacts(source)
    local = Path(repo.download_artifacts())
    assert _local_files(local) == _local_files(source)


def test_open_write_and_iter_bytes_stream_in_chunks(artifact_root: Storage) -> None:
    repo = artifact_root.repository()
    with repo.open_write("big.bin") as sink:
        for _ in range(5):
            sink.write(b"x" * 1000)
    assert [len(c) for c in repo.iter_bytes("big.bin", chunk_size=2048)] == [2048, 2048, 904]
    assert repo.list_artifacts() == [FileInfo("big.bin", False, 5000)]


def test_a_failed_write_leaves_nothing_behind(artifact_root: Storage) -> None:
    repo = artifact_root.repository()
    with pytest.raises(RuntimeError), repo.open_write("dir/partial.bin") as sink:
        sink.write(b"half")
        raise RuntimeError("client went away")
    assert repo.list_artifacts("dir") == []
    assert artifact_root.files() == []


def test_an_unfinished_write_is_invisible(artifact_root: Storage) -> None:
    repo = artifact_root.repository()
    sink = repo.open_sink("dir/slow.bin")
    sink.write(b"so far")
    assert repo.list_artifacts("dir") == []
    with pytest.raises(NotFound):
        repo.open_artifact("dir/slow.bin")
    sink.commit()
    assert repo.list_artifacts("dir") == [FileInfo("dir/slow.bin", False, 6)]


def test_overwriting_replaces_the_file(artifact_root: Storage, tmp_path: Path) -> None:
    repo = artifact_root.repository()
    for text in (b"first version", b"v2"):
        with repo.open_write("f.txt") as sink:
            sink.write(text)
    assert b"".join(repo.iter_bytes("f.txt")) == b"v2"
    local = tmp_path / "f.txt"
    local.write_bytes(b"third")
    repo.log_artifact(local)
    assert b"".join(repo.iter_bytes("f.txt")) == b"third"
    assert repo.list_artifacts() == [FileInfo("f.txt", False, 5)]


def test_delete_a_file_a_tree_and_everything(artifact_root: Storage, source: Path) -> None:
    repo = artifact_root.repository()
    repo.log_artifacts(source)
    repo.delete_artifacts("a.txt")
    assert [f.path for f in repo.list_artifacts()] == ["sub"]
    repo.delete_artifacts("sub/deeper")
    assert [f.path for f in repo.list_artifacts("sub")] == ["sub/b.json"]
    repo.delete_artifacts("missing")  # nothing to delete is fine
    repo.delete_artifacts()
    assert repo.list_artifacts() == []
    assert artifact_root.files() == []


def test_missing_artifacts_are_not_found(
    artifact_root: Storage, source: Path, tmp_path: Path
) -> None:
    repo = artifact_root.repository()
    repo.log_artifacts(source)
    for path in ("nope.txt", "sub/nope.txt", ""):
        with pytest.raises(NotFound):
            repo.open_artifact(path)
    with pytest.raises(NotFound):
        repo.download_artifacts("nope.txt", tmp_path / "dst")


NAMES = ["naïve café 数据.txt", "with space.txt", "100%25.txt", "dossier é/ü b.txt", "x+y=z~.txt"]


def test_unicode_space_and_percent_names_round_trip(artifact_root: Storage, tmp_path: Path) -> None:
    repo = artifact_root.repository()
    for index, name in enumerate(NAMES):
        with repo.open_write(name) as sink:
            sink.write(f"content {index}".encode())
    folder = tmp_path / "spaced dir"
    folder.mkdir()
    (folder / "é à.bin").write_bytes(b"uploaded")
    repo.log_artifact(folder / "é à.bin", artifact_path="dossier é")

    assert artifact_root.files() == sorted([*NAMES, "dossier é/é à.bin"])
    assert [f.path for f in repo.list_artifacts("dossier é")] == [
        "dossier é/é à.bin",
        "dossier é/ü b.txt",
    ]
    for index, name in enumerate(NAMES):
        assert b"".join(repo.iter_bytes(name)) == f"content {index}".encode()
    local = Path(repo.download_artifacts("", tmp_path / "dst"))
    assert _local_files(local)["dossier é/é à.bin"] == b"uploaded"
    assert _local_files(local)["100%25.txt"] == b"content 2"
    repo.delete_artifacts("dossier é")
    assert [f.path for f in repo.list_artifacts()] == sorted(NAMES[:3] + NAMES[4:])


def test_empty_files_are_artifacts_too(artifact_root: Storage, tmp_path: Path) -> None:
    repo = artifact_root.repository()
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    repo.log_artifact(empty, "dir")
    with repo.open_write("dir/also-empty.bin"):
        pass
    assert repo.list_artifacts("dir") == [
        FileInfo("dir/also-empty.bin", False, 0),
        FileInfo("dir/empty.txt", False, 0),
    ]
    assert b"".join(repo.iter_bytes("dir/empty.txt")) == b""
    local = Path(repo.download_artifacts("dir", tmp_path / "dst"))
    assert _local_files(local) == {"also-empty.bin": b"", "empty.txt": b""}


UNSAFE = [
    "../x",
    "a/../../x",
    "../../../x",
    "%2e%2e/x",
    "%252e%252e/x",
    "a/%2E%2E/%2e%2e/x",
    "/abs",
    "/etc/passwd",
    "a\x00b",
    "a\\..\\x",
    "a;b",
    "a#b",
]


@pytest.mark.parametrize("bad", UNSAFE)
def test_every_operation_refuses_an_unsafe_path(
    artifact_root: Storage, source: Path, tmp_path: Path, bad: str
) -> None:
    repo = artifact_root.repository()
    with pytest.raises(InvalidParameter):
        repo.log_artifact(source / "a.txt", artifact_path=bad)
    with pytest.raises(InvalidParameter):
        repo.log_artifacts(source, artifact_path=bad)
    with pytest.raises(InvalidParameter):
        repo.open_sink(bad)
    with pytest.raises(InvalidParameter):
        repo.open_sink(f"{bad}/f.txt")
    with pytest.raises(InvalidParameter):
        repo.list_artifacts(bad)
    with pytest.raises(InvalidParameter):
        repo.open_artifact(bad)
    with pytest.raises(InvalidParameter):
        repo.delete_artifacts(bad)
    with pytest.raises(InvalidParameter):
        repo.download_artifacts(bad, tmp_path / "dst" / "inner")
    assert artifact_root.files() == []
    assert artifact_root.files_outside() == []
    assert not (tmp_path / "dst" / "x").exists()
    assert not (tmp_path / "x").exists()


def test_log_artifact_refuses_what_is_not_a_file(artifact_root: Storage, source: Path) -> None:
    repo = artifact_root.repository()
    with pytest.raises(InvalidParameter, match="Not a file"):
        repo.log_artifact(source)
    with pytest.raises(InvalidParameter, match="Not a directory"):
        repo.log_artifacts(source / "a.txt")
    with pytest.raises(InvalidParameter):
        repo.open_sink("")
