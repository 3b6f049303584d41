"""``ArtifactRepository``: the one interface to artifact storage, whatever holds the bytes.

A repository is rooted at an artifact URI (a run's ``artifact_uri``, say); every ``path`` it is
given is relative to that root and checked by ``wayline.artifacts.paths`` before it is used.
Bytes move in chunks: uploads read local files piece by piece, downloads write them the same way,
and nothing reads a whole artifact into memory to move it.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO, Protocol

from wayline.artifacts.paths import join_relative, resolve_inside, safe_relative_path
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter

CHUNK_SIZE = 1024 * 1024

LocalPath = str | os.PathLike[str]


class ArtifactSink(Protocol):
    """A file being written: it becomes visible at ``commit`` and vanishes at ``discard``."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int | None: ...

    def commit(self) -> None: ...

    def discard(self) -> None: ...


class ArtifactRepository(ABC):
    """Artifact storage under one root URI.

    Example::

        from wayline.artifacts import artifact_repository

        repo = artifact_repository("/tmp/run-artifacts")
        repo.log_artifact("model.pkl", artifact_path="model")
        print([f.path for f in repo.list_artifacts("model")])  # ['model/model.pkl']
        local = repo.download_artifacts("model")
    """

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    # ------------------------------------------------------------------ writing
    @abstractmethod
    def log_artifact(self, local_file: LocalPath, artifact_path: str | None = None) -> None:
        """Upload one local file into the directory ``artifact_path`` (the root if None)."""

    def log_artifacts(self, local_dir: LocalPath, artifact_path: str | None = None) -> None:
        """Upload every file under ``local_dir``, keeping its layout, below ``artifact_path``."""
        base = safe_relative_path(artifact_path)
        local_dir = os.fspath(local_dir)
        if not os.path.isdir(local_dir):
            raise InvalidParameter(f"Not a directory: {local_dir!r}")
        for folder, _, files in os.walk(local_dir):
            relative = os.path.relpath(folder, local_dir)
            target = join_relative(base, "" if relative == "." else relative.replace(os.sep, "/"))
            for name in sorted(files):
                self.log_artifact(os.path.join(folder, name), target or None)

    @abstractmethod
    def open_sink(self, path: str) -> ArtifactSink:
        """A sink writing the artifact at ``path``: call ``commit`` when done or ``discard``."""

    @contextmanager
    def open_write(self, path: str) -> Iterator[ArtifactSink]:
        """``with repo.open_write("a/b.txt") as f: f.write(...)``; kept only if the block ends
        without an exception."""
        sink = self.open_sink(path)
        try:
            yield sink
        except BaseException:
            sink.discard()
            raise
        sink.commit()

    # ------------------------------------------------------------------ reading
    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of directory ``path``, sorted, with paths relative to the root.

        A file or a missing path lists as ``[]``.
        """

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory with something in it."""
        return bool(self.list_artifacts(path))

    @abstractmethod
    def open_artifact(self, path: str) -> BinaryIO:
        """A binary file object streaming the artifact (NotFound if there is none); close it."""

    def iter_bytes(self, path: str, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The artifact's bytes in chunks of at most ``chunk_size``."""
        with self.open_artifact(path) as stream:
            while chunk := stream.read(chunk_size):
                yield chunk

    def _download_file(self, path: str, local_file: str) -> None:
        """Copy one artifact to ``local_file`` (its directory exists)."""
        with self.open_artifact(path) as source, open(local_file, "wb") as target:
            while chunk := source.read(CHUNK_SIZE):
                target.write(chunk)

    def download_artifacts(self, artifact_path: str = "", dst_path: LocalPath | None = None) -> str:
        """Download a file or a directory tree; returns its local path.

        ``dst_path`` (created if missing; a new temporary directory if None) receives it at
        ``<dst_path>/<artifact_path>``.
        """
        path = safe_relative_path(artifact_path)
        dst = os.path.abspath(os.fspath(dst_path)) if dst_path else tempfile.mkdtemp()
        os.makedirs(dst, exist_ok=True)
        if not path or self.is_dir(path):
            self._download_tree(path, dst)
        else:
            self._download_one(path, dst)
        return resolve_inside(dst, path)

    def _download_tree(self, path: str, dst: str) -> None:
        os.makedirs(resolve_inside(dst, path), exist_ok=True)
        for info in self.list_artifacts(path or None):
            if info.is_dir:
                self._download_tree(safe_relative_path(info.path), dst)
            else:
                self._download_one(info.path, dst)

    def _download_one(self, path: str, dst: str) -> None:
        # The path may come from a remote listing: it is checked again before touching disk,
        # and the file appears under its name only once complete.
        local_file = resolve_inside(dst, safe_relative_path(path))
        folder = os.path.dirname(local_file)
        os.makedirs(folder, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=folder, prefix=".wayline-download-")
        os.close(fd)
        try:
            self._download_file(path, partial)
            os.replace(partial, local_file)
        except BaseException:
            if os.path.exists(partial):
                os.remove(partial)
            raise

    # ------------------------------------------------------------------ deleting
    @abstractmethod
    def delete_artifacts(self, path: str | None = None) -> None:
        """Delete a file or directory tree (everything under the root if None)."""

    def close(self) -> None:  # noqa: B027 - optional hook: most repositories hold nothing
        """Release connections the repository holds."""


def read_chunks(local_file: str, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
    """``length`` bytes of a local file from ``offset`` (all the rest if None), chunk by chunk."""
    with open(local_file, "rb") as source:
        source.seek(offset)
        left = length
        while left is None or left > 0:
            chunk = source.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def upload_target(local_file: LocalPath, artifact_path: str | None) -> tuple[str, str]:
    """``(local file, relative target)`` of ``log_artifact``: the file must exist, and keeps its
    name under ``artifact_path``."""
    local = os.fspath(local_file)
    if not os.path.isfile(local):
        raise InvalidParameter(f"Not a file: {local!r}")
    name = safe_relative_path(os.path.basename(local))
    return local, join_relative(safe_relative_path(artifact_path), name)


def artifact_name(path: str) -> str:
    """The last segment of a relative artifact path."""
    return posixpath.basename(path.rstrip("/"))


__all__ = [
    "CHUNK_SIZE",
    "ArtifactRepository",
    "ArtifactSink",
    "LocalPath",
    "artifact_name",
    "read_chunks",
    "upload_target",
]
