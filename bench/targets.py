"""Print the run_all.py target list (MLflow first, so ratios read "x times better than MLflow").

Usage: python bench/targets.py MLFLOW_PYTHON WAYLINE_PYTHON CACHE_DIR
"""

from __future__ import annotations

import json
import sys


def targets(mlflow_python: str, wayline_python: str, cache: str) -> dict[str, object]:
    def embedded_args(name: str) -> dict[str, list[str]]:
        return {
            "w4": [
                "--embedded",
                "--populate-embedded",
                "--populate-procs",
                "1",
                "--db-cache",
                f"{cache}/w4-10k-{name}.db",
            ],
            "w5": ["--embedded"],
        }

    return {
        "targets": [
            {
                "name": "mlflow-3.18.0",
                "python": mlflow_python,
                "client_module": "mlflow",
                "args": embedded_args("mlflow"),
            },
            {
                "name": "wayline",
                "python": wayline_python,
                "client_module": "wayline",
                "args": embedded_args("wayline"),
            },
        ]
    }


if __name__ == "__main__":
    print(json.dumps(targets(*sys.argv[1:4]), indent=2))
