"""The download writer thread: every byte written in order, and a failed write raised to the
receiving thread rather than lost."""

from __future__ import annotations

import io
import os
import threading

import pytest

from wayline.artifacts.background_writer import BackgroundWriter


def test_chunks_are_written_in_order() -> None:
    chunks = [os.urandom(size) for size in (1, 70_000, 300_000, 1_200_000, 5, 64 * 1024)]
    target = io.BytesIO()
    with BackgroundWriter(target) as writer:
        for chunk in chunks:
            writer.write(chunk)
    assert target.getvalue() == b"".join(chunks)


class _FullDisk:
    def __init__(self, room: int) -> None:
        self.room = room

    def write(self, data: bytes, /) -> int:
        if len(data) > self.room:
            raise OSError(28, "No space left on device")
        self.room -= len(data)
        return len(data)


def test_a_failed_write_reaches_the_receiver() -> None:
    chunk = b"x" * (256 * 1024)
    full = _FullDisk(3 * len(chunk))
    with pytest.raises(OSError, match="No space left"), BackgroundWriter(full) as writer:
        for _ in range(200):  # far more than the queue holds: the writer must not hang
            writer.write(chunk)


def test_a_failure_of_the_receiver_stops_the_writer() -> None:
    target = io.BytesIO()
    with (
        pytest.raises(RuntimeError, match="connection reset"),
        BackgroundWriter(target) as writer,
    ):
        writer.write(b"partial")
        raise RuntimeError("connection reset")
    # What was received whole is written; the half-received batch is dropped.
    assert target.getvalue() in (b"", b"partial")


def test_a_failure_in_the_last_batch_is_raised_and_the_thread_ends() -> None:
    full = _FullDisk(0)
    writer = BackgroundWriter(full)
    with pytest.raises(OSError, match="No space left"), writer:
        writer.write(b"small: it stays in the batch until the end")
    assert not [t for t in threading.enumerate() if t.name == "wayline-download"]
