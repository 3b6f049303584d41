"""``FsspecArtifactRepository``: artifacts on any fsspec filesystem, local or remote.

Local roots (a plain path or ``file://``) use fsspec's local filesystem, with two local-only
rules: every target is checked with ``resolve_inside`` (so symlinks cannot lead out of the root),
and uploads go to a hidden temporary file beside the target that is renamed into place, so a
half-written upload is never visible under its name. Remote roots (``s3://``) come from
``remote_filesystem``; their libraries live in extras and are imported only when such a root is
used. Remote writes are opened with ``autocommit=False``: the object is completed at ``commit``
(for S3, the multipart upload) and abandoned at ``discard``.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlparse

from wayline.artifacts.paths import invalid_path, join_relative, resolve_inside, safe_relative_path
from wayline.artifacts.repository import (
    CHUNK_SIZE,
    ArtifactRepository,
    ArtifactSink,
    LocalPath,
    artifact_name,
    upload_target,
)
from wayline.entities import FileInfo
from wayline.errors import InvalidParameter, NotFound, WaylineError

# scheme -> (module that registers it with fsspec, wayline extra that installs it)
REMOTE_SCHEMES: dict[str, tuple[str, str]] = {"s3": ("s3fs", "s3")}

# Temporary files of unfinished transfers: never listed as artifacts.
PARTIAL_PREFIXES = (".wayline-upload-", ".wayline-download-")


def remote_filesystem(scheme: str, options: Mapping[str, Any] | None = None) -> Any:
    """The fsspec filesystem for a remote ``scheme``, importing its library on first use."""
    module, extra = REMOTE_SCHEMES[scheme]
    try:
        importlib.import_module(module)
    except ImportError:
        raise WaylineError(
            f"Artifacts at {scheme}:// need the {module} package: pip install 'wayline[{extra}]'"
        ) from None
    import fsspec

    return fsspec.filesystem(scheme, **dict(options or {}))


def is_local_uri(uri: str) -> bool:
    """A plain path (POSIX or Windows) or a ``file:`` URI."""
    scheme = urlparse(uri).scheme
    return len(scheme) <= 1 or scheme == "file"


def local_root(uri: str) -> str:
    """The absolute local directory a plain path or ``file:`` URI names."""
    parsed = urlparse(uri)
    path = unquote(parsed.path) if parsed.scheme == "file" else uri
    if parsed.scheme == "file" and parsed.netloc not in ("", "localhost"):
        raise InvalidParameter(f"file: URIs must name a local path, not host {parsed.netloc!r}")
    return os.path.abspath(os.path.expanduser(path))


class _LocalSink:
    """Writes a hidden file beside the target; ``commit`` renames it into place."""

    def __init__(self, target: str) -> None:
        self._target = target
        fd, self._partial = tempfile.mkstemp(
            dir=os.path.dirname(target), prefix=PARTIAL_PREFIXES[0]
        )
        self._file = os.fdopen(fd, "wb")

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        return self._file.write(data)

    def commit(self) -> None:
        self._file.close()
        os.chmod(self._partial, 0o644)  # mkstemp makes 0600 files; artifacts are shared
        os.replace(self._partial, self._target)

    def discard(self) -> None:
        self._file.close()
        if os.path.exists(self._partial):
            os.remove(self._partial)


class FsspecArtifactRepository(ArtifactRepository):
    """Artifacts under a local directory, a ``file://`` URI or an ``s3://bucket/prefix``.

    ``storage_options`` go to the remote filesystem (``wayline.artifacts.resolve`` fills them
    from the environment, e.g. ``MLFLOW_S3_ENDPOINT_URL``).

    Example::

        repo = FsspecArtifactRepository("/tmp/artifacts/1/abc/artifacts")
        repo.log_artifact("metrics.json")
    """

    def __init__(self, artifact_uri: str, storage_options: Mapping[str, Any] | None = None):
        super().__init__(artifact_uri)
        self._local = is_local_uri(artifact_uri)
        if self._local:
            from fsspec.implementations.local import LocalFileSystem

            self._root = local_root(artifact_uri)
            self._fs: Any = LocalFileSystem()
        else:
            parsed = urlparse(artifact_uri)
            if parsed.scheme not in REMOTE_SCHEMES:
                raise InvalidParameter(f"Unsupported artifact URI scheme: {parsed.scheme!r}")
            self._root = (parsed.netloc + parsed.path).rstrip("/")
            if not parsed.netloc:
                raise InvalidParameter(f"Artifact URI {artifact_uri!r} names no bucket")
            self._fs = remote_filesystem(parsed.scheme, storage_options)

    @property
    def is_local(self) -> bool:
        return self._local

    def _full(self, relative: str) -> str:
        if self._local:
            return resolve_inside(self._root, relative)
        return f"{self._root}/{relative}" if relative else self._root

    # ------------------------------------------------------------------ writing
    def log_artifact(self, local_file: LocalPath, artifact_path: str | None = None) -> None:
        local, target = upload_target(local_file, artifact_path)
        with open(local, "rb") as source, self.open_write(target) as sink:
            shutil.copyfileobj(source, cast(Any, sink), CHUNK_SIZE)

    def open_sink(self, path: str) -> ArtifactSink:
        relative = safe_relative_path(path)
        if not relative:
            raise invalid_path()
        target = self._full(relative)
        if self._local:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # A parent created just now could be a symlink planted meanwhile: check again.
            target = resolve_inside(self._root, relative)
            if os.path.isdir(target):
                raise InvalidParameter(f"Cannot overwrite directory {relative!r} with a file")
            return _LocalSink(target)
        return cast(ArtifactSink, self._fs.open(target, "wb", autocommit=False))

    # ------------------------------------------------------------------ reading
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative = safe_relative_path(path)
        full = self._full(relative)
        try:
            if not self._fs.isdir(full):
                return []
            entries = self._fs.ls(full, detail=True)
        except FileNotFoundError:
            return []
        found: list[FileInfo] = []
        for entry in entries:
            name = artifact_name(str(entry["name"]))
            if not name or name.startswith(PARTIAL_PREFIXES):
                continue
            if self._local and entry.get("islink") and not self._inside(relative, name):
                continue  # a symlink leading out of the root is no artifact of ours
            is_dir = entry.get("type") == "directory"
            size = None if is_dir else int(entry.get("size") or 0)
            found.append(FileInfo(join_relative(relative, name), is_dir, size))
        found.sort(key=lambda info: info.path)
        return found

    def _inside(self, relative: str, name: str) -> bool:
        try:
            resolve_inside(self._root, join_relative(relative, name))
        except InvalidParameter:
            return False
        return True

    def is_dir(self, path: str) -> bool:
        return bool(self._fs.isdir(self._full(safe_relative_path(path))))

    def local_path(self, path: str) -> str | None:
        """The local file holding artifact ``path``; None for remote roots or no such file."""
        if not self._local:
            return None
        full = self._full(safe_relative_path(path))
        return full if os.path.isfile(full) else None

    def open_artifact(self, path: str) -> BinaryIO:
        relative = safe_relative_path(path)
        full = self._full(relative)
        try:
            if relative and not self._fs.isdir(full):
                return cast(BinaryIO, self._fs.open(full, "rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass
        raise NotFound(f"No such artifact: '{relative}'")

    def _download_file(self, path: str, local_file: str) -> None:
        if self._local:
            with self.open_artifact(path) as source, open(local_file, "wb") as target:
                shutil.copyfileobj(source, target, CHUNK_SIZE)
            return
        # fsspec's get_file streams in blocks (and parallel parts where the backend can).
        full = self._full(safe_relative_path(path))
        try:
            self._fs.get_file(full, local_file)
        except FileNotFoundError:
            raise NotFound(f"No such artifact: '{path}'") from None

    # ------------------------------------------------------------------ deleting
    def delete_artifacts(self, path: str | None = None) -> None:
        full = self._full(safe_relative_path(path))
        if self._fs.exists(full):
            self._fs.rm(full, recursive=True)


__all__ = [
    "REMOTE_SCHEMES",
    "FsspecArtifactRepository",
    "is_local_uri",
    "local_root",
    "remote_filesystem",
]
