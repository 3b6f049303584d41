"""How the parts of a multipart upload become one file (used by ``multipart.py``).

Two ways. Parts staged as separate files are *joined* at ``complete``: on local disk the kernel
copies them while another thread hashes them from the page cache, elsewhere they pass through
once, hashed on the way. On a local destination, a client that announces its part size gets its
parts *written in place* instead, each at its offset in one file (``PartWriter``), and hashed in
order by a background thread as they arrive (``PrefixHashes``), so ``complete`` only renames the
file: no copy and no second pass over a multi-GB upload.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from wayline.artifacts.fsspec_repo import FsspecArtifactRepository
from wayline.artifacts.integrity import PartRecord, Tally
from wayline.artifacts.repository import CHUNK_SIZE, ArtifactRepository, ArtifactSink
from wayline.errors import InvalidParameter

# Linux copies between files inside the kernel; elsewhere parts go through user space.
_KERNEL_COPY = hasattr(os, "copy_file_range")


def join_parts(
    storage: ArtifactRepository, parts: list[str], sink: ArtifactSink
) -> tuple[Tally, list[int]]:
    """Copy the staged ``parts`` in order into ``sink``, hashing them: (tally, part sizes).

    On local storage the kernel copies the bytes while another thread hashes them from the page
    cache, so joining a multi-GB upload costs about one hashing pass of time; elsewhere the
    bytes pass through here once, hashed on the way.
    """
    local = (
        [storage.local_path(p) for p in parts]
        if isinstance(storage, FsspecArtifactRepository)
        else []
    )
    fileno = getattr(sink, "fileno", None)
    tally = Tally()
    if _KERNEL_COPY and fileno is not None and local and all(local):
        paths = [path for path in local if path is not None]
        target = fileno()
        with ThreadPoolExecutor(1, thread_name_prefix="wayline-join-hash") as pool:
            hashing = pool.submit(_hash_files, paths, tally)
            sizes = [_kernel_append(path, target) for path in paths]
            hashing.result()
        return tally, sizes
    sizes = []
    for part in parts:
        size = 0
        with storage.open_artifact(part) as source:
            while chunk := source.read(CHUNK_SIZE):
                tally.update(chunk)
                sink.write(chunk)
                size += len(chunk)
        sizes.append(size)
    return tally, sizes


def _hash_files(paths: list[str], tally: Tally) -> None:
    for path in paths:
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK_SIZE):
                tally.update(chunk)


def _kernel_append(path: str, target: int) -> int:
    copied = 0
    with open(path, "rb") as source:
        while moved := os.copy_file_range(source.fileno(), target, 1 << 30):
            copied += moved
    return copied


class PartWriter:
    """Writes one part into its region of the upload's ``data`` file (an ``ArtifactSink``)."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        self._position = offset
        self._end = offset + length

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        if self._position + len(data) > self._end:
            raise InvalidParameter("The part is longer than announced: it was not stored.")
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, self._position)
            self._position += written
            view = view[written:]
        return len(data)

    def write_many(self, chunks: list[bytes]) -> None:
        """Write ``chunks`` one after another: one system call (and one wait for the GIL)
        for them all."""
        size = sum(len(chunk) for chunk in chunks)
        if self._position + size > self._end:
            raise InvalidParameter("The part is longer than announced: it was not stored.")
        written = os.pwritev(self._fd, chunks, self._position)
        self._position += written
        if written < size:  # a short write: the rest the slow way
            self.write(b"".join(chunks)[written:])

    def commit(self) -> None:
        os.close(self._fd)

    def discard(self) -> None:
        # The region keeps stale bytes, but no digest record claims it: the part is not held.
        os.close(self._fd)


@dataclass
class _Progress:
    """How far one upload's ``data`` file is hashed: parts ``1 .. next_part - 1``, in order.

    ``kept`` holds the record of each part received whole by this process, so that ``complete``
    can tell whether the hashed bytes are still those of the parts it joins.
    """

    tally: Tally = field(default_factory=Tally)
    next_part: int = 1
    kept: dict[int, PartRecord] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def restart(self) -> None:
        self.tally = Tally()
        self.next_part = 1

    def hash_ready_parts(self, data: str, part_size: int) -> None:
        """Hash the consecutive parts from ``next_part`` on that are kept (hold ``lock``)."""
        if self.next_part not in self.kept:
            return
        with open(data, "rb") as source:
            while (record := self.kept.get(self.next_part)) is not None:
                source.seek((self.next_part - 1) * part_size)
                remaining = record.size
                while remaining and (chunk := source.read(min(CHUNK_SIZE, remaining))):
                    self.tally.update(chunk)
                    remaining -= len(chunk)
                self.next_part += 1


class PrefixHashes:
    """Background hashing of in-place uploads, one thread per server process.

    Parts arrive nearly in order (the client sends a few at a time), so by ``complete`` the
    thread has hashed almost the whole file. Another process of the server may receive some
    parts: this one then hashes them at ``complete``. Everything is in memory; a restarted
    server simply hashes the whole file at ``complete``.
    """

    def __init__(self) -> None:
        self._states: dict[str, _Progress] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def part_kept(
        self, upload_id: str, number: int, record: PartRecord, data: str, part_size: int
    ) -> None:
        with self._lock:
            state = self._states.setdefault(upload_id, _Progress())
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="wayline-upload-hash")
            pool = self._pool
        with state.lock:
            state.kept[number] = record
        pool.submit(self._advance, state, data, part_size)

    @staticmethod
    def _advance(state: _Progress, data: str, part_size: int) -> None:
        with state.lock:
            try:
                state.hash_ready_parts(data, part_size)
            except OSError:
                state.restart()  # the upload ended meanwhile; complete hashes what it needs

    def forget_part(self, upload_id: str, number: int) -> None:
        """A part is about to be written again: the hash may no longer cover it."""
        state = self._states.get(upload_id)
        if state is None:
            return
        with state.lock:
            state.kept.pop(number, None)
            if number < state.next_part:
                state.restart()

    def finish(
        self, upload_id: str, held: dict[int, PartRecord], data: str, part_size: int
    ) -> Tally:
        """The hash of the whole ``data`` file made of the ``held`` parts."""
        with self._lock:
            state = self._states.pop(upload_id, None) or _Progress()
        with state.lock:
            if any(state.kept.get(n) != held.get(n) for n in range(1, state.next_part)):
                state.restart()
            state.kept = dict(held)
            state.hash_ready_parts(data, part_size)
            return state.tally

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._states.pop(upload_id, None)


__all__ = ["PartWriter", "PrefixHashes", "join_parts"]
