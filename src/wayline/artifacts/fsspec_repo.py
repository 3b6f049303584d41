"""``FsspecArtifactRepository``: artifacts on any fsspec filesystem, local or remote.

Local roots (a plain path or ``file://``) use fsspec's local filesystem, with two local-only
rules: every target is checked with ``resolve_inside`` (so symlinks cannot lead out of the root),
and uploads go to a hidden temporary file beside the target that is renamed into place, so a
half-written upload is never visible under its name. Remote roots (``s3://``, ``gs://``,
``wasbs://``, ``abfss://``, ``hdfs://``: ``REMOTE_SCHEMES``) come from ``remote_filesystem``;
their libraries live in extras and are imported only when such a root is used. Remote writes are
opened with ``autocommit=False``: the object is completed at ``commit`` (for S3, the multipart
upload) and abandoned at ``discard`` (``_ObjectSink``); HDFS, whose files have no such commit,
gets a hidden file renamed into place (``RenamingSink``).

Every chunk moved by ``log_artifact`` and by downloads is reported to
``wayline.artifacts.progress``, so the CLI can draw a progress bar.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import uuid
from collections.abc import Mapping
from contextvars import copy_context
from typing import Any, BinaryIO, NamedTuple, cast
from urllib.parse import unquote, urlparse

from wayline.artifacts.paths import invalid_path, join_relative, resolve_inside, safe_relative_path
from wayline.artifacts.progress import report
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


class RemoteScheme(NamedTuple):
    """How one remote URI scheme maps onto fsspec."""

    module: str  # the library behind the filesystem, imported on first use
    extra: str  # the wayline extra that installs it
    protocol: str  # fsspec's name for the filesystem
    # Whether its files honour autocommit=False (an object store completes the object at
    # commit); if not, uploads go to a hidden file that is renamed into place.
    deferred_commit: bool = True


# The URI schemes MLflow uses for remote artifact roots. wasbs:// and abfss:// are both Azure
# Blob Storage (abfss is its Data Lake Gen2 view of the same blobs): adlfs serves them as "abfs".
REMOTE_SCHEMES: dict[str, RemoteScheme] = {
    "s3": RemoteScheme("s3fs", "s3", "s3"),
    "gs": RemoteScheme("gcsfs", "gcs", "gs"),
    "wasbs": RemoteScheme("adlfs", "azure", "abfs"),
    "abfss": RemoteScheme("adlfs", "azure", "abfs"),
    "hdfs": RemoteScheme("pyarrow", "hdfs", "hdfs", deferred_commit=False),
}

# Temporary files of unfinished transfers: never listed as artifacts.
PARTIAL_PREFIXES = (".wayline-upload-", ".wayline-download-")


def remote_filesystem(scheme: str, options: Mapping[str, Any] | None = None) -> Any:
    """The fsspec filesystem for a remote ``scheme``, importing its library on first use.

    Example::

        fs = remote_filesystem("s3", {"client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}})
    """
    remote = REMOTE_SCHEMES[scheme]
    try:
        importlib.import_module(remote.module)
    except ImportError:
        raise WaylineError(
            f"Artifacts at {scheme}:// need the {remote.module} package: "
            f"pip install 'wayline[{remote.extra}]'"
        ) from None
    import fsspec

    try:
        return fsspec.filesystem(remote.protocol, **dict(options or {}))
    except (OSError, ValueError) as exc:
        # pyarrow fails here without Java and libhdfs; adlfs without usable credentials.
        raise WaylineError(
            f"Could not open the {scheme}:// artifact store: {exc}. Check its credentials and "
            "settings in the environment (see `wayline.artifacts.resolve`)."
        ) from exc


def remote_root(uri: str) -> str:
    """The path of a remote artifact root inside its filesystem.

    ``s3://bucket/p`` and ``gs://bucket/p`` give ``bucket/p``; Azure's
    ``wasbs://container@account.blob.core.windows.net/p`` gives ``container/p`` (the account is
    a storage option); ``hdfs://namenode:8020/p`` gives ``/p`` (so does ``hdfs:///p``, on the
    default name node).

    Example::

        remote_root("wasbs://models@acme.blob.core.windows.net/mlruns")  # "models/mlruns"
    """
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    path = parsed.path.rstrip("/")
    if scheme == "hdfs":
        return path or "/"
    if scheme in ("wasbs", "abfss"):
        container, at, _ = parsed.netloc.partition("@")
        if not at or not container:
            raise InvalidParameter(
                f"Azure artifact URIs look like {scheme}://<container>@<account>"
                f".{'dfs' if scheme == 'abfss' else 'blob'}.core.windows.net/<path>, "
                f"not {uri!r}"
            )
        return container + path
    if not parsed.netloc:
        raise InvalidParameter(f"Artifact URI {uri!r} names no bucket")
    return parsed.netloc + path


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

    def fileno(self) -> int:
        """The descriptor of the file being written, at the end of what was written so far
        (for copies done by the kernel, such as joining multipart uploads)."""
        self._file.flush()
        return self._file.fileno()

    def adopt(self, path: str) -> None:
        """Take the finished local file ``path`` (same filesystem) as this file's content, so
        that ``commit`` moves it into place without copying a byte."""
        self._file.close()
        # Renamed over the empty partial, ext4 would first flush the adopted file's data to
        # disk (its auto_da_alloc): a GiB upload would wait for its writeback. Kept where it
        # is (the same filesystem), it is renamed only once, into place.
        os.remove(self._partial)
        self._partial = path
        self._file = open(path, "ab")  # noqa: SIM115 -- closed by commit/discard

    def commit(self) -> None:
        self._file.close()
        os.chmod(self._partial, 0o644)  # mkstemp makes 0600 files; artifacts are shared
        os.replace(self._partial, self._target)

    def discard(self) -> None:
        self._file.close()
        if os.path.exists(self._partial):
            os.remove(self._partial)


def _copy_reporting(source: BinaryIO, target: Any) -> None:
    """Copy ``source`` to ``target`` in chunks, reporting each one to the progress listener."""
    while chunk := source.read(CHUNK_SIZE):
        target.write(chunk)
        report(len(chunk))


def _progress_callback() -> Any:
    """An fsspec callback that forwards bytes moved by ``get_file`` to the progress listener.

    Async filesystems (s3fs, gcsfs, adlfs) call it from fsspec's own event-loop thread, where the
    caller's progress context is unset: it reports inside a copy of the caller's context. Some
    report increments, others absolute positions: both reach ``call`` with ``value`` updated.
    """
    from fsspec.callbacks import Callback

    context = copy_context()

    class _Reporting(Callback):  # type: ignore[misc]  # fsspec has no type hints
        def __init__(self) -> None:
            super().__init__()
            self.reported = 0

        def call(self, *args: Any, **kwargs: Any) -> None:
            moved = int(self.value or 0) - self.reported
            if moved > 0:
                self.reported += moved
                context.run(report, moved)

    return _Reporting()


class _ObjectSink:
    """A remote object being written, opened with ``autocommit=False`` so that nothing, not even
    garbage collection closing it, publishes a half-written object.

    ``commit`` lets the file finish as an autocommitting file does on close: one PUT for a small
    file; the last part and the completion of the multipart upload for a large one (S3), or
    the block list (Azure). ``discard`` abandons it (S3 aborts the multipart upload; Azure's
    staged blocks are never committed) and marks it closed, so it is never flushed after.
    """

    def __init__(self, file: Any) -> None:
        self._file = file

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        return int(self._file.write(data))

    def commit(self) -> None:
        self._file.autocommit = True
        self._file.close()

    def discard(self) -> None:
        try:
            self._file.discard()
        finally:
            self._file.closed = True


class RenamingSink:
    """For filesystems without deferred commits (HDFS): writes a hidden file beside the target
    and renames it into place at ``commit`` (a rename, unlike a long write, is one step)."""

    def __init__(self, fs: Any, target: str) -> None:
        self._fs = fs
        self._target = target
        folder = target.rpartition("/")[0]
        self._partial = f"{folder}/{PARTIAL_PREFIXES[0]}{uuid.uuid4().hex}"
        self._file = fs.open(self._partial, "wb")

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        return int(self._file.write(data))

    def commit(self) -> None:
        self._file.close()
        self._fs.mv(self._partial, self._target)

    def discard(self) -> None:
        self._file.close()
        if self._fs.exists(self._partial):
            self._fs.rm(self._partial)


class FsspecArtifactRepository(ArtifactRepository):
    """Artifacts under a local directory or ``file://`` URI, or a remote root: ``s3://``,
    ``gs://``, ``wasbs://``, ``abfss://``, ``hdfs://``.

    ``storage_options`` go to the remote filesystem (``wayline.artifacts.resolve`` fills them
    from the environment, e.g. ``MLFLOW_S3_ENDPOINT_URL``).

    Example::

        repo = FsspecArtifactRepository("/tmp/artifacts/1/abc/artifacts")
        repo.log_artifact("metrics.json")
    """

    def __init__(self, artifact_uri: str, storage_options: Mapping[str, Any] | None = None):
        super().__init__(artifact_uri)
        self._local = is_local_uri(artifact_uri)
        self._deferred_commit = True
        if self._local:
            from fsspec.implementations.local import LocalFileSystem

            self._root = local_root(artifact_uri)
            self._fs: Any = LocalFileSystem()
        else:
            scheme = urlparse(artifact_uri).scheme.lower()
            if scheme not in REMOTE_SCHEMES:
                raise InvalidParameter(f"Unsupported artifact URI scheme: {scheme!r}")
            self._root = remote_root(artifact_uri)
            self._fs = remote_filesystem(scheme, storage_options)
            self._deferred_commit = REMOTE_SCHEMES[scheme].deferred_commit

    @property
    def is_local(self) -> bool:
        return self._local

    def local_target(self, path: str) -> str | None:
        """Where artifact ``path`` is (or would be) stored on local disk, parent folders made;
        None for remote roots."""
        if not self._local:
            return None
        relative = safe_relative_path(path)
        os.makedirs(os.path.dirname(self._full(relative)), exist_ok=True)
        return resolve_inside(self._root, relative)  # again: a parent made now may be a link

    def _full(self, relative: str) -> str:
        if self._local:
            return resolve_inside(self._root, relative)
        return f"{self._root.rstrip('/')}/{relative}" if relative else self._root

    # ------------------------------------------------------------------ writing
    def log_artifact(self, local_file: LocalPath, artifact_path: str | None = None) -> None:
        local, target = upload_target(local_file, artifact_path)
        with open(local, "rb") as source, self.open_write(target) as sink:
            _copy_reporting(source, sink)

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
        if not self._deferred_commit:
            return RenamingSink(self._fs, target)
        # _open, not open: open() registers every autocommit=False file in the filesystem's
        # transaction, whose list (on a filesystem instance cached for the whole process) would
        # keep each upload's buffer alive for ever.
        return _ObjectSink(self._fs._open(target, "wb", autocommit=False))

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
                _copy_reporting(source, target)
            return
        # fsspec's get_file streams in blocks (and parallel parts where the backend can).
        full = self._full(safe_relative_path(path))
        try:
            self._fs.get_file(full, local_file, callback=_progress_callback())
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
    "RemoteScheme",
    "is_local_uri",
    "local_root",
    "remote_filesystem",
    "remote_root",
]
