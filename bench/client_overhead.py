"""How much of a search through MLflow's client is the client itself: run by hand, one JSON line.

Times one ``runs/search`` page as raw HTTP (the server's share, transfer included) and through
``MlflowClient.search_runs`` (the same call plus the client's parsing into entities), medians of
``--repeat``. Run it with the MLflow venv's python against any server, e.g. the W4 databases:

    wayline server --backend-store-uri sqlite:///w4-wayline.db --port 5201 &
    mlflow server --backend-store-uri sqlite:///w4-mlflow.db --port 5202 --workers 1 &
    $MLFLOW_PYTHON bench/client_overhead.py http://127.0.0.1:5201
    $MLFLOW_PYTHON bench/client_overhead.py http://127.0.0.1:5202
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable


def _median_s(call: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tracking_uri")
    parser.add_argument("--max-results", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import mlflow  # the client under test: MLflow's, from its own venv
    import requests

    mlflow.set_tracking_uri(args.tracking_uri)
    client = mlflow.MlflowClient()
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    session = requests.Session()
    body = {"experiment_ids": experiment_ids, "max_results": args.max_results}
    url = f"{args.tracking_uri}/api/2.0/mlflow/runs/search"

    raw = _median_s(lambda: session.post(url, json=body).content, args.repeat)
    full = _median_s(
        lambda: client.search_runs(experiment_ids, max_results=args.max_results), args.repeat
    )
    size = len(session.post(url, json=body).content)
    print(
        json.dumps(
            {
                "tracking_uri": args.tracking_uri,
                "raw_http_s": round(raw, 4),
                "mlflow_client_s": round(full, 4),
                "client_share_s": round(full - raw, 4),
                "response_bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
