#!/usr/bin/env bash
# Side-by-side benchmarks of Wayline against MLflow 3.18 on this machine, in one run, using the
# shared harness in ../../shared/bench (run by hand, never by the test suite).
#
#   bash bench/run.sh                      # embedded workloads W1 W2 W4 W5, 1 round
#   ROUNDS=2 WORKLOADS=w1,w2 bash bench/run.sh
#   QUICK=1 bash bench/run.sh              # 2-minute smoke test
#
# Prints the markdown table (ratios are "x times better than MLflow") and keeps raw JSON lines
# in $OUT. W4 populates 10,000 runs once per target through that target's own API and caches
# the database under $CACHE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
harness=${BENCH_HARNESS:-$(cd "$repo/../shared/bench" && pwd)}
cache=${CACHE:-/tmp/wayline-bench-cache}
out=${OUT:-/tmp/wayline-bench.jsonl}
mkdir -p "$cache"

mlflow_python=$(bash "$harness/mlflow_venv.sh")
wayline_python="$repo/.venv/bin/python"
config="$cache/targets.json"
"$wayline_python" "$here/targets.py" "$mlflow_python" "$wayline_python" "$cache" > "$config"

quick=()
[ -n "${QUICK:-}" ] && quick=(--quick)
python3 "$harness/run_all.py" --config "$config" --workloads "${WORKLOADS:-w1,w2,w4,w5}" \
  --rounds "${ROUNDS:-1}" --out "$out" --report "$cache/report.md" "${quick[@]}"
