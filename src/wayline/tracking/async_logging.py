"""Background logging for ``synchronous=False``: a queue drained by one thread per store.

A call only puts a tuple on a queue (no validation, no entity building), so it returns in well
under a microsecond. The worker takes everything queued so far, groups it by run and writes it
with ``log_batch`` in chunks within MLflow's limits. If a chunk fails it is replayed one value at
a time, so one bad value costs only itself, and every failure is kept until the next ``flush``
raises it: nothing is lost silently. ``flush`` runs at ``end_run``, at interpreter exit and on
``wayline.flush_async_logging()``.
"""

from __future__ import annotations

import atexit
import queue
import sys
import threading
from typing import Any

from wayline.entities import Metric, Param, RunTag
from wayline.store.tracking import TrackingStore
from wayline.tracking.batching import chunk_batch
from wayline.tracking.values import metric_value, param_value, tag_value

_METRIC, _PARAM, _TAG, _FLUSH = 0, 1, 2, 3
_DRAIN_LIMIT = 20_000  # items per worker pass: bounds memory, still large batches

# (run_id, kind, key, value, timestamp, step); a flush marker carries its Event in `key`.
_Item = tuple[Any, ...]


class _Pending:
    __slots__ = ("metrics", "params", "tags")

    def __init__(self) -> None:
        self.metrics: list[Metric] = []
        self.params: list[Param] = []
        self.tags: list[RunTag] = []


class RunOperations:
    """Handle returned by asynchronous log calls; ``wait()`` blocks until they are written."""

    def __init__(self, logger: AsyncLogger, run_id: str | None = None) -> None:
        self._logger = logger
        self._run_id = run_id

    def wait(self) -> None:
        """Block until every queued value is stored; raise the first failure, if any."""
        self._logger.flush(self._run_id)


class AsyncLogger:
    """The queue and worker thread of one store."""

    def __init__(self, store: TrackingStore) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._errors: list[tuple[str, BaseException]] = []
        self._errors_lock = threading.Lock()
        self.operations = RunOperations(self)

    # --------------------------------------------------------------- producer side (hot path)
    def log_metric(self, run_id: str, key: str, value: Any, timestamp: int, step: int) -> None:
        if self._thread is None:
            self._start()
        self._queue.put((run_id, _METRIC, key, value, timestamp, step))

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        if self._thread is None:
            self._start()
        self._queue.put((run_id, _PARAM, key, value))

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        if self._thread is None:
            self._start()
        self._queue.put((run_id, _TAG, key, value))

    def log_batch(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        if self._thread is None:
            self._start()
        put = self._queue.put
        for p in params:
            put((run_id, _PARAM, p.key, p.value))
        for t in tags:
            put((run_id, _TAG, t.key, t.value))
        for m in metrics:
            put((run_id, _METRIC, m.key, m.value, m.timestamp, m.step))

    def flush(self, run_id: str | None = None) -> None:
        """Wait until everything queued is stored, then raise failures (of ``run_id`` or all)."""
        if self._thread is not None and self._thread.is_alive():
            done = threading.Event()
            self._queue.put((None, _FLUSH, done))
            done.wait()
        self._raise_errors(run_id)

    # --------------------------------------------------------------- worker side
    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                thread = threading.Thread(target=self._work, name="wayline-async-log", daemon=True)
                thread.start()
                atexit.register(self._flush_at_exit)
                self._thread = thread

    def _work(self) -> None:
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            items = [get()]
            try:
                while len(items) < _DRAIN_LIMIT:
                    items.append(get_nowait())
            except queue.Empty:
                pass
            try:
                self._process(items)
            except BaseException as exc:  # keep the worker alive whatever happens
                self._record("", exc)

    def _process(self, items: list[_Item]) -> None:
        pending: dict[str, _Pending] = {}
        for item in items:
            kind = item[1]
            if kind == _FLUSH:
                self._write_all(pending)
                pending = {}
                item[2].set()
                continue
            batch = pending.get(item[0])
            if batch is None:
                batch = pending[item[0]] = _Pending()
            try:
                if kind == _METRIC:
                    key = item[2]
                    value = metric_value(key, item[3])
                    batch.metrics.append(Metric(key, value, item[4], item[5]))
                elif kind == _PARAM:
                    batch.params.append(Param(item[2], param_value(item[3])))
                else:
                    batch.tags.append(RunTag(item[2], tag_value(item[3])))
            except Exception as exc:
                self._record(item[0], exc)
        self._write_all(pending)

    def _write_all(self, pending: dict[str, _Pending]) -> None:
        for run_id, batch in pending.items():
            for metrics, params, tags in chunk_batch(batch.metrics, batch.params, batch.tags):
                try:
                    self._store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
                except Exception:
                    self._write_one_by_one(run_id, metrics, params, tags)

    def _write_one_by_one(
        self, run_id: str, metrics: list[Metric], params: list[Param], tags: list[RunTag]
    ) -> None:
        store = self._store
        for param in params:
            self._attempt(run_id, store.log_param, run_id, param)
        for tag in tags:
            self._attempt(run_id, store.set_tag, run_id, tag)
        for metric in metrics:
            self._attempt(run_id, store.log_metric, run_id, metric)

    def _attempt(self, run_id: str, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            self._record(run_id, exc)

    def _record(self, run_id: str, exc: BaseException) -> None:
        with self._errors_lock:
            self._errors.append((run_id, exc))

    def _raise_errors(self, run_id: str | None) -> None:
        if not self._errors:
            return
        with self._errors_lock:
            mine = [e for r, e in self._errors if run_id is None or r in (run_id, "")]
            self._errors = [
                (r, e) for r, e in self._errors if not (run_id is None or r in (run_id, ""))
            ]
        if not mine:
            return
        first = mine[0]
        if len(mine) > 1:
            first.add_note(f"{len(mine) - 1} more asynchronous logging call(s) failed as well.")
        first.add_note("Raised at flush: this value was logged with synchronous=False.")
        raise first

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # nowhere to raise to at exit: tell the user on stderr
            notes = "".join(f"\n  {n}" for n in getattr(exc, "__notes__", []))
            sys.stderr.write(f"wayline: asynchronous logging failed: {exc!r}{notes}\n")


_loggers: dict[int, AsyncLogger] = {}
_loggers_lock = threading.Lock()


def logger_for(store: TrackingStore) -> AsyncLogger:
    """The logger of ``store`` (one per store object, created on first use)."""
    logger = _loggers.get(id(store))
    if logger is None:
        with _loggers_lock:
            logger = _loggers.get(id(store))
            if logger is None:
                logger = _loggers[id(store)] = AsyncLogger(store)
    return logger


def flush_all(run_id: str | None = None) -> None:
    """Flush every store's queue; raise the first failure after all are flushed."""
    failure: BaseException | None = None
    for logger in list(_loggers.values()):
        try:
            logger.flush(run_id)
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
