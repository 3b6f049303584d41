"""Writing a download on a second thread, while the first one receives and hashes it.

Receiving a big download (HTTP parsing, hashing) and writing it to disk take about the same
time; hashing and writing release the GIL, so on two threads they overlap. On this project's
2-core machine a 1 GiB download through the proxy took 15-20% less time than with one thread
(and less than with the hashing on the writer's thread too).
"""

from __future__ import annotations

import queue
import threading
from types import TracebackType
from typing import Protocol

# Chunks are handed over in batches of about this many bytes (fewer queue operations), and at
# most _QUEUED batches wait: the memory a slow disk can make us hold.
_BATCH_BYTES = 1024 * 1024
_QUEUED = 8


class _Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


class BackgroundWriter:
    """Writes chunks to ``target`` on a thread of its own.

    Use as a context manager: leaving it waits for every chunk to be written, and raises what
    writing raised (``write`` raises it too, as soon as it is known)::

        with open(path, "wb") as target, BackgroundWriter(target) as writer:
            for chunk in chunks:
                writer.write(chunk)
    """

    def __init__(self, target: _Writable) -> None:
        self._target = target
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(_QUEUED)
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="wayline-download", daemon=True)

    def __enter__(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def write(self, chunk: bytes) -> None:
        self._raise_error()
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= _BATCH_BYTES:
            self._hand_over()

    def _hand_over(self) -> None:
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        while True:
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                self._raise_error()  # the writer stopped: nobody will take it

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so that the receiver never blocks
            try:
                for chunk in batch:
                    self._target.write(chunk)
            except BaseException as exc:  # handed to the receiving thread
                self._error = exc

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if kind is None and self._batch:
                self._hand_over()
        finally:
            # The thread ends even when the last hand-over failed (it drains after an error).
            self._queue.put(None)
            self._thread.join()
        if kind is None:
            self._raise_error()


__all__ = ["BackgroundWriter"]
