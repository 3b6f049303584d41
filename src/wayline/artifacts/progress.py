"""Transfer progress: repositories report bytes moved; whoever cares listens.

Repositories call ``report(n)`` after each chunk they upload or download (a no-op unless a
listener is installed, so the hot loops pay one context-variable read). The CLI installs a rich
progress bar with ``listening(callback)``; the listener lives in a context variable, so worker
threads started by a repository (parallel multipart parts) must be given the context with
``contextvars.copy_context().run`` to report into it.

Example::

    from wayline.artifacts.progress import listening

    moved = 0
    def count(n: int) -> None:
        global moved
        moved += n

    with listening(count):
        repo.log_artifact("model.bin")
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

ProgressCallback = Callable[[int], None]


@dataclass
class _Listener:
    callback: ProgressCallback
    # Parallel parts report from several threads: one lock keeps each callback call whole.
    lock: threading.Lock = field(default_factory=threading.Lock)


_listener: ContextVar[_Listener | None] = ContextVar("wayline_transfer_progress", default=None)


@contextmanager
def listening(callback: ProgressCallback) -> Iterator[None]:
    """Call ``callback(n)`` for every ``n`` bytes moved by transfers inside the block."""
    token = _listener.set(_Listener(callback))
    try:
        yield
    finally:
        _listener.reset(token)


def report(moved: int) -> None:
    """Tell the current listener (if any) that ``moved`` more bytes were transferred."""
    listener = _listener.get()
    if listener is not None and moved:
        with listener.lock:
            listener.callback(moved)


__all__ = ["ProgressCallback", "listening", "report"]
