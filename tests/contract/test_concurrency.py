"""Concurrent writers: OS processes on one SQLite file, threads on every backend."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameter
from wayline.store.tracking import TrackingStore

from ._support import StoreFactory, close_store

# Per worker: METRIC_CALLS single points, BATCHES batches of BATCH_SIZE points, TAG_CALLS tags,
# SHARED_CALLS points + one param + one tag on the shared run.
METRIC_CALLS, BATCHES, BATCH_SIZE, TAG_CALLS, SHARED_CALLS = 40, 5, 50, 20, 20
WORKERS = 4
START_TIMEOUT_S = 60

# Runs in a fresh interpreter: waits for the start file, then logs as fast as it can.
LOGGING_WORKER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from wayline.entities import Metric, Param, RunTag
    from wayline.store.resolve import tracking_store

    (uri, artifact_root, experiment_id, shared_run, index, start_file, counts) = sys.argv[1:]
    index = int(index)
    metric_calls, batches, batch_size, tag_calls, shared_calls = map(int, counts.split(","))
    store = tracking_store(uri, artifact_root=artifact_root)
    run_id = store.create_run(experiment_id, start_time=index, run_name=f"w{index}").info.run_id
    print(json.dumps({"ready": run_id}), flush=True)
    while not Path(start_file).exists():
        time.sleep(0.005)
    for i in range(metric_calls):
        store.log_metric(run_id, Metric("single", float(i), 1000 + i, i))
        if i < shared_calls:
            store.log_metric(shared_run, Metric(f"w{index}", float(i), 1000 + i, i))
            store.log_metric(shared_run, Metric("all", float(index), 1000 + i, i * 10 + index))
    for b in range(batches):
        step = b * batch_size
        points = [Metric("batched", float(b), 2000 + j, step + j) for j in range(batch_size)]
        store.log_batch(run_id, metrics=points, params=[Param(f"p{b}", str(b))])
    for i in range(tag_calls):
        store.set_tag(run_id, RunTag(f"t{i}", str(i)))
    store.log_param(shared_run, Param(f"w{index}", str(index)))
    store.log_param(shared_run, Param("same", "v"))  # every worker, the same value: no error
    store.set_tag(shared_run, RunTag(f"w{index}", str(index)))
    store.close()
    print(json.dumps({"done": run_id}), flush=True)
    """
)

SCHEMA_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from wayline.store.resolve import tracking_store

    uri, artifact_root, start_file, name = sys.argv[1:]
    print("ready", flush=True)
    while not Path(start_file).exists():
        time.sleep(0.001)
    store = tracking_store(uri, artifact_root=artifact_root)
    experiment_id = store.create_experiment(name)
    assert store.get_experiment("0").name == "Default"
    store.close()
    print(experiment_id, flush=True)
    """
)


def _spawn(script: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(processes: list[subprocess.Popen[str]]) -> list[str]:
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=START_TIMEOUT_S)
        assert process.returncode == 0, stderr
        assert "locked" not in stderr, stderr
        outputs.append(stdout)
    return outputs


@pytest.mark.slow
def test_processes_log_into_one_sqlite_file(
    sqlite_opener: StoreFactory, sqlite_uri: str, artifact_root: str, tmp_path: Path
) -> None:
    setup = sqlite_opener()
    experiment_id = setup.create_experiment("concurrent")
    shared = setup.create_run(experiment_id, start_time=0, run_name="shared").info.run_id
    close_store(setup)  # no connection held while the workers run
    script = tmp_path / "worker.py"
    script.write_text(LOGGING_WORKER)
    start_file = tmp_path / "go"
    counts = ",".join(map(str, (METRIC_CALLS, BATCHES, BATCH_SIZE, TAG_CALLS, SHARED_CALLS)))
    processes = [
        _spawn(
            script,
            sqlite_uri,
            artifact_root,
            experiment_id,
            shared,
            str(i),
            str(start_file),
            counts,
        )
        for i in range(WORKERS)
    ]
    _wait_until_ready(processes)  # every worker has opened the store before any starts logging
    start_file.touch()
    outputs = _finish(processes)

    check = sqlite_opener()
    try:
        run_ids = [json.loads(out.splitlines()[-1])["done"] for out in outputs]
        _check_worker_runs(check, run_ids)
        _check_shared_run(check, shared)
    finally:
        close_store(check)


def _wait_until_ready(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        line = process.stdout.readline() if process.stdout else ""
        if "ready" not in line:
            process.kill()
            pytest.fail(f"worker did not start: {process.communicate()[1]}")


def _check_worker_runs(store: TrackingStore, run_ids: list[str]) -> None:
    assert len(set(run_ids)) == WORKERS
    for run_id in run_ids:
        run = store.get_run(run_id)
        assert len(store.get_metric_history(run_id, "single")) == METRIC_CALLS
        assert len(store.get_metric_history(run_id, "batched")) == BATCHES * BATCH_SIZE
        assert run.data.metrics == {"single": METRIC_CALLS - 1.0, "batched": BATCHES - 1.0}
        assert run.data.params == {f"p{b}": str(b) for b in range(BATCHES)}
        assert {f"t{i}" for i in range(TAG_CALLS)} <= set(run.data.tags)


def _check_shared_run(store: TrackingStore, run_id: str) -> None:
    run = store.get_run(run_id)
    for index in range(WORKERS):
        history = store.get_metric_history(run_id, f"w{index}")
        assert [m.step for m in history] == list(range(SHARED_CALLS))
        assert run.data.params[f"w{index}"] == str(index)
        assert run.data.tags[f"w{index}"] == str(index)
    assert run.data.params["same"] == "v"
    assert len(store.get_metric_history(run_id, "all")) == WORKERS * SHARED_CALLS
    # Highest step wins: step (SHARED_CALLS - 1) * 10 + the highest worker index.
    [latest] = [m for m in run.data.latest_metrics if m.key == "all"]
    assert (latest.step, latest.value) == ((SHARED_CALLS - 1) * 10 + WORKERS - 1, WORKERS - 1.0)


@pytest.mark.parametrize("attempt", range(3))
def test_processes_create_the_schema_at_once(
    tmp_path: Path, artifact_root: str, attempt: int
) -> None:
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    script = tmp_path / "schema_worker.py"
    script.write_text(SCHEMA_WORKER)
    start_file = tmp_path / "go"
    processes = [_spawn(script, uri, artifact_root, str(start_file), f"e{i}") for i in range(2)]
    _wait_until_ready(processes)  # both have imported wayline and wait on the start file
    start_file.touch()

    outputs = _finish(processes)

    assert len({out.split()[-1] for out in outputs}) == 2


def test_threads_share_one_store(store: TrackingStore) -> None:
    experiment_id = store.create_experiment("threads")
    shared = store.create_run(experiment_id, start_time=0, run_name="shared").info.run_id
    errors: list[BaseException] = []
    own_runs: list[str] = []
    barrier = threading.Barrier(WORKERS)

    def work(index: int) -> None:
        try:
            run_id = store.create_run(experiment_id, start_time=index).info.run_id
            own_runs.append(run_id)
            barrier.wait(timeout=30)
            _log_like_a_worker(store, run_id, shared, index)
        except BaseException as exc:
            errors.append(exc)

    _run_threads(work)

    assert errors == []
    _check_worker_runs(store, own_runs)
    _check_shared_run(store, shared)


def test_threads_with_a_store_each(make_store: Callable[[], TrackingStore]) -> None:
    first = make_store()
    experiment_id = first.create_experiment("threads")
    shared = first.create_run(experiment_id, start_time=0, run_name="shared").info.run_id
    stores = [make_store() for _ in range(WORKERS)]
    errors: list[BaseException] = []
    own_runs: list[str] = []
    barrier = threading.Barrier(WORKERS)

    def work(index: int) -> None:
        try:
            store = stores[index]
            run_id = store.create_run(experiment_id, start_time=index).info.run_id
            own_runs.append(run_id)
            barrier.wait(timeout=30)
            _log_like_a_worker(store, run_id, shared, index)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_store(stores[index])

    _run_threads(work)

    assert errors == []
    _check_worker_runs(first, own_runs)
    _check_shared_run(first, shared)


def _run_threads(work: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=START_TIMEOUT_S)
        assert not thread.is_alive()


def _log_like_a_worker(store: TrackingStore, run_id: str, shared: str, index: int) -> None:
    """The same writes as LOGGING_WORKER, in this process."""
    for i in range(METRIC_CALLS):
        store.log_metric(run_id, Metric("single", float(i), 1000 + i, i))
        if i < SHARED_CALLS:
            store.log_metric(shared, Metric(f"w{index}", float(i), 1000 + i, i))
            store.log_metric(shared, Metric("all", float(index), 1000 + i, i * 10 + index))
    for b in range(BATCHES):
        batch = [
            Metric("batched", float(b), 2000 + j, b * BATCH_SIZE + j) for j in range(BATCH_SIZE)
        ]
        store.log_batch(run_id, metrics=batch, params=[Param(f"p{b}", str(b))])
    for i in range(TAG_CALLS):
        store.set_tag(run_id, RunTag(f"t{i}", str(i)))
    store.log_param(shared, Param(f"w{index}", str(index)))
    store.log_param(shared, Param("same", "v"))  # every worker, the same value: no error
    store.set_tag(shared, RunTag(f"w{index}", str(index)))


@pytest.mark.parametrize("attempt", range(2))
def test_stores_create_the_schema_at_once(
    sql_backend: str, make_database: Callable[[str], str], artifact_root: str, attempt: int
) -> None:
    from wayline.store.sql.store import SqlStore

    uri = make_database(sql_backend)
    barrier = threading.Barrier(WORKERS)
    stores: list[TrackingStore] = []
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            store = SqlStore(uri, artifact_root)
            stores.append(store)
            store.create_experiment(f"e{index}")
        except BaseException as exc:
            errors.append(exc)

    try:
        _run_threads(work)
        assert errors == []
        names = {e.name for e in stores[0].search_experiments()}
        assert names == {"Default", *(f"e{i}" for i in range(WORKERS))}
    finally:
        for store in stores:
            close_store(store)


def test_racing_different_param_values(store: TrackingStore) -> None:
    """Threads log one param key with different values at once: exactly one value wins."""
    run_id = store.create_run(store.create_experiment("race"), start_time=0).info.run_id
    barrier = threading.Barrier(WORKERS)
    outcomes: list[str] = []

    def work(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            store.log_param(run_id, Param("contested", str(index)))
            outcomes.append("ok")
        except InvalidParameter as exc:
            outcomes.append(exc.error_code)
        except BaseException as exc:
            outcomes.append(repr(exc))

    _run_threads(work)

    assert sorted(outcomes) == ["INVALID_PARAMETER_VALUE"] * (WORKERS - 1) + ["ok"]
    winner = store.get_run(run_id).data.params["contested"]
    assert winner in {str(i) for i in range(WORKERS)}
