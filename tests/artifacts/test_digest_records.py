"""Where the proxy keeps what it stored: on local disk as an attribute of the file itself,
written before the file appears; on object storage as small JSON files beside the tree."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from wayline.artifacts import ArtifactRepository, artifact_repository
from wayline.artifacts.integrity import (
    RECORD_ATTRIBUTE,
    RECORDS_FOLDER,
    DigestRecord,
    DigestRecords,
    Tally,
)
from wayline.server.multipart import keep


def _store(repo: ArtifactRepository, repo_path: str, data: bytes) -> DigestRecord:
    """Store ``data`` at ``repo_path`` as the proxy does, with its record."""
    sink = repo.open_sink(repo_path)
    sink.write(data)
    tally = Tally()
    tally.update(data)
    keep(sink, repo_path, tally, DigestRecords(repo))
    return DigestRecord(len(data), hashlib.sha256(data).hexdigest())


def test_a_local_record_is_on_the_file_and_goes_with_it(tmp_path: Path) -> None:
    repo = artifact_repository(str(tmp_path))
    records = DigestRecords(repo)
    expected = _store(repo, "run/model.bin", b"weights")
    stored = tmp_path / "run" / "model.bin"
    assert json.loads(os.getxattr(stored, RECORD_ATTRIBUTE)) == {
        "size": 7,
        "sha256": expected.sha256,
    }
    assert records.read("run/model.bin") == expected
    assert not (tmp_path / RECORDS_FOLDER).exists()  # no file per record
    stored.unlink()
    stored.write_bytes(b"written behind the proxy's back")
    assert records.read("run/model.bin") is None


def test_an_attribute_wins_over_a_record_file_left_from_before(tmp_path: Path) -> None:
    repo = artifact_repository(str(tmp_path))
    records = DigestRecords(repo)
    records.write("a.txt", DigestRecord(3, "0" * 64))  # as an older server kept it
    expected = _store(repo, "a.txt", b"new content")
    assert records.read("a.txt") == expected
    os.removexattr(tmp_path / "a.txt", RECORD_ATTRIBUTE)
    assert records.read("a.txt") == DigestRecord(3, "0" * 64)


def test_a_malformed_attribute_is_no_record(tmp_path: Path) -> None:
    repo = artifact_repository(str(tmp_path))
    records = DigestRecords(repo)
    _store(repo, "a.txt", b"x")
    os.setxattr(tmp_path / "a.txt", RECORD_ATTRIBUTE, b"not json")
    assert records.read("a.txt") is None
    os.setxattr(tmp_path / "a.txt", RECORD_ATTRIBUTE, b'{"size": 1, "sha256": "short"}')
    assert records.read("a.txt") is None


def test_object_storage_keeps_record_files_that_mirror_the_tree(s3_root: str) -> None:
    repo = artifact_repository(s3_root)
    records = DigestRecords(repo)
    first = _store(repo, "d/a.txt", b"first")
    _store(repo, "d/sub/b.txt", b"second")
    assert records.read("d/a.txt") == first
    listed = {info.path for info in repo.list_artifacts(f"{RECORDS_FOLDER}/d")}
    assert listed == {f"{RECORDS_FOLDER}/d/a.txt", f"{RECORDS_FOLDER}/d/sub"}
    # Overwritten: the new file's record replaces the old one.
    second = _store(repo, "d/a.txt", b"rewritten")
    assert records.read("d/a.txt") == second
    records.forget("d")
    assert records.read("d/a.txt") is None
    assert records.read("d/sub/b.txt") is None
