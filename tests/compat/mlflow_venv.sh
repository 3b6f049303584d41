#!/usr/bin/env bash
# Builds (once) the virtual environment holding MLflow 3.18.0 that the compatibility tests drive
# as a subprocess, and prints the path of its python. Usage: PY=$(bash tests/compat/mlflow_venv.sh)
#
# MLflow is a test-only dependency whose pins clash with ours, so it lives in its own venv, cached
# in ${WAYLINE_MLFLOW_VENV:-~/.cache/wayline-tests/mlflow-3.18.0}. The package index reachable
# here has mlflow==3.18.0 but not mlflow-skinny/mlflow-tracing 3.18.0, so a plain
# `pip install mlflow==3.18.0` cannot resolve: install the union of its requirements and skinny
# 3.17.2's (mlflow-3.18.0-deps.txt beside this file), then the full wheel without dependencies.
# A lock makes parallel test sessions wait for one build; a marker file records a finished one
# (the first build takes about two minutes here).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${WAYLINE_MLFLOW_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/wayline-tests/mlflow-3.18.0}
marker="$venv/.wayline-complete"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
check() { "$venv/bin/python" -c 'import mlflow, mlflow.server, pandas; assert mlflow.__version__ == "3.18.0"'; }
if [ ! -f "$marker" ]; then
  if [ -e "$venv" ] && [ ! -f "$venv/.wayline-building" ]; then
    # Not a build of ours (WAYLINE_MLFLOW_VENV pointing at another venv): use it if it works,
    # never delete it.
    check >&2 || { echo "$venv exists but has no working MLflow 3.18.0" >&2; exit 1; }
  else
    rm -rf "$venv"  # an interrupted build of ours
    mkdir -p "$venv"
    touch "$venv/.wayline-building"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --upgrade pip >&2
    "$venv/bin/pip" install -q -r "$here/mlflow-3.18.0-deps.txt" >&2
    dl=$(mktemp -d)
    trap 'rm -rf "$dl"' EXIT
    "$venv/bin/pip" download -q --no-deps mlflow==3.18.0 -d "$dl" >&2
    "$venv/bin/pip" install -q --no-deps "$dl"/mlflow-3.18.0-py3-none-any.whl >&2
    check >&2
    rm "$venv/.wayline-building"
  fi
  touch "$marker"
fi
echo "$venv/bin/python"
