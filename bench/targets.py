"""Print the run_all.py target list (MLflow first, so ratios read "x times better than MLflow").

Usage: python bench/targets.py MLFLOW_PYTHON WAYLINE_PYTHON CACHE_DIR [embedded|server]

* ``embedded`` (default): each client on a local SQLite store, no server (W1, W2, W4, W5).
* ``server``: tracking servers on loopback (W3, W4, W5): MLflow's client against ``mlflow
  server`` (its default four workers, then one worker), against ``wayline server``, and our client
  against ``wayline server``.

W4 data is populated once per schema and cached in CACHE_DIR: the MLflow database serves both
modes; Wayline's carries its schema revision in its name, so a migration repopulates it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from wayline.store.sql.migrations import HEAD_REVISION

Target = dict[str, object]  # one entry of run_all.py's "targets" list


def _w4_cache(cache: str, name: str) -> str:
    suffix = f"-{HEAD_REVISION}" if name == "wayline" else ""
    return f"{cache}/w4-10k-{name}{suffix}.db"


def embedded_targets(mlflow_python: str, wayline_python: str, cache: str) -> list[Target]:
    def args(name: str) -> dict[str, list[str]]:
        populate = ["--embedded", "--populate-embedded", "--populate-procs", "1"]
        return {"w4": [*populate, "--db-cache", _w4_cache(cache, name)], "w5": ["--embedded"]}

    return [
        {
            "name": "mlflow-3.18.0",
            "python": mlflow_python,
            "client_module": "mlflow",
            "args": args("mlflow"),
        },
        {
            "name": "wayline",
            "python": wayline_python,
            "client_module": "wayline",
            "args": args("wayline"),
        },
    ]


def server_targets(mlflow_python: str, wayline_python: str, cache: str) -> list[Target]:
    # The harness's default server command is `mlflow server` from the target's interpreter.
    wayline_bin = Path(wayline_python).parent
    wayline_server = (
        f"{wayline_bin}/wayline server --backend-store-uri {{backend_uri}} "
        "--artifacts-destination {artifacts} --host 127.0.0.1 --port {port}"
    )

    def args(name: str) -> dict[str, list[str]]:
        # A cached database is copied and served. A missing MLflow one is populated through
        # MLflow's local store (as in embedded mode: the same file); a missing Wayline one
        # through the server's API, since MLflow's client would write MLflow's schema locally.
        populate = ["--populate-embedded", "--populate-procs", "1"] if name == "mlflow" else []
        return {"w4": [*populate, "--db-cache", _w4_cache(cache, name)]}

    return [
        {
            "name": "mlflow-3.18.0-server",
            "python": mlflow_python,
            "client_module": "mlflow",
            "args": args("mlflow"),
        },
        {
            # uvicorn's multi-worker path leaves TCP_NODELAY off (see the harness README): one
            # worker measures MLflow's code rather than delayed ACKs.
            "name": "mlflow-3.18.0-server-1worker",
            "python": mlflow_python,
            "client_module": "mlflow",
            "env": {"BENCH_WORKERS": "1"},
            "args": args("mlflow"),
        },
        {
            "name": "mlflow-client-vs-wayline-server",
            "python": mlflow_python,
            "client_module": "mlflow",
            "server_cmd": wayline_server,
            "args": args("wayline"),
        },
        {
            "name": "wayline-client-vs-wayline-server",
            "python": wayline_python,
            "client_module": "wayline",
            "server_cmd": wayline_server,
            "args": args("wayline"),
        },
    ]


def targets(
    mlflow_python: str, wayline_python: str, cache: str, mode: str = "embedded"
) -> dict[str, object]:
    if mode not in ("embedded", "server"):
        raise SystemExit(f"unknown mode {mode!r}: embedded or server")
    make = server_targets if mode == "server" else embedded_targets
    return {"targets": make(mlflow_python, wayline_python, cache)}


if __name__ == "__main__":
    print(json.dumps(targets(*sys.argv[1:5]), indent=2))
