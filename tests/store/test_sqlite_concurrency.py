"""Several processes writing one SQLite file: nobody sees "database is locked", nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from wayline.store.sql.store import SqlStore

PROCESSES = 4
CALLS = 60

WRITER = textwrap.dedent(
    """
    import sys
    from wayline.entities import Metric, Param, RunTag
    from wayline.store.sql.store import SqlStore

    uri, shared_run, index, calls = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = SqlStore(uri)
    own = store.create_run("0", run_name=f"writer-{index}").info.run_id
    for i in range(calls):
        store.log_metric(shared_run, Metric(f"w{index}", float(i), i, i))
        store.log_batch(
            own,
            metrics=[Metric("m", float(i), i, i), Metric("n", 0.0, i, i)],
            params=[Param(f"p{i}", "v")],
            tags=[RunTag("last", str(i))],
        )
    store.close()
    """
)


def test_processes_write_one_file_at_once(sqlite_uri: str) -> None:
    store = SqlStore(sqlite_uri)
    try:
        shared = store.create_run("0").info.run_id
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, sqlite_uri, shared, str(i), str(CALLS)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(PROCESSES)
        ]
        errors = [w.communicate(timeout=180)[1] for w in workers]
        assert [w.returncode for w in workers] == [0] * PROCESSES, errors
        for i in range(PROCESSES):
            assert len(store.get_metric_history(shared, f"w{i}")) == CALLS
        runs = store.search_runs(["0"], filter_string=f"tags.last = '{CALLS - 1}'")
        assert len(runs) == PROCESSES
        for run in runs:
            assert len(run.data.params) == CALLS
            assert len(store.get_metric_history(run.info.run_id, "m")) == CALLS
    finally:
        store.close()
