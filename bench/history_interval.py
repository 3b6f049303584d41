"""get_metric_history_bulk_interval on one long history, against reading the whole history.

Run by hand; prints one JSON line (milliseconds, best of --repeat):

    .venv/bin/python bench/history_interval.py                   # 200,000 points, SQLite
    .venv/bin/python bench/history_interval.py --uri postgresql+psycopg://postgres@127.0.0.1/b

Three runs are logged: steps 0..N-1 ("contiguous"), every 10th step ("every_10"), and N steps
drawn at random from 0..3N ("gappy"): the three paths the SQL store can take.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from wayline.entities import Metric
from wayline.store.sql.store import SqlStore


def best_ms(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(min(times) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=320)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--uri", help="a SQL store URI (default: a new SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        uri = args.uri or f"sqlite:///{Path(folder) / 'bench.db'}"
        store = SqlStore(uri, Path(folder).as_uri())
        experiment_id = store.create_experiment(f"history-interval-{time.time_ns()}")
        n = args.points
        histories = {
            "contiguous": list(range(n)),
            "every_10": list(range(0, 10 * n, 10)),
            "gappy": sorted(random.Random(1).sample(range(3 * n), n)),
        }
        result: dict[str, object] = {"bench": "history_interval", "points": n, "uri": uri}
        for name, steps in histories.items():
            run_id = store.create_run(experiment_id).info.run_id
            for start in range(0, n, 1000):
                chunk = steps[start : start + 1000]
                store.log_batch(run_id, metrics=[Metric("loss", s / 7, s, s) for s in chunk])
            sample = partial(store.get_metric_history_bulk_interval, [run_id], "loss", args.samples)
            result[f"{name}_ms"] = best_ms(sample, args.repeat)
            if name == "contiguous":
                read_all = partial(store.get_metric_history, run_id, "loss")
                result["full_history_ms"] = best_ms(read_all, args.repeat)
        store.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
