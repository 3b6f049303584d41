#!/usr/bin/env bash
# Side-by-side benchmarks of Wayline against MLflow 3.18 on this machine, in one run, using the
# shared harness in ../../shared/bench (run by hand, never by the test suite).
#
#   bash bench/run.sh                      # embedded workloads W1 W2 W4 W5, 1 round
#   ROUNDS=2 WORKLOADS=w1,w2 bash bench/run.sh
#   MODE=server bash bench/run.sh          # tracking servers: W3 W4 W5 (see bench/targets.py)
#   QUICK=1 bash bench/run.sh              # 2-minute smoke test (of either mode)
#
# Prints the markdown table (ratios are "x times better than MLflow") and keeps raw JSON lines
# in $OUT. W4 populates 10,000 runs once per target and caches the database under $CACHE.
# MODE=server compares MLflow's client on `mlflow server` (four workers, then one) with MLflow's
# client and ours on `wayline server`; add w3w2 to WORKLOADS for two workers everywhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
harness=${BENCH_HARNESS:-$(cd "$repo/../shared/bench" && pwd)}
cache=${CACHE:-/tmp/wayline-bench-cache}
mode=${MODE:-embedded}
out=${OUT:-/tmp/wayline-bench-$mode.jsonl}
# A quick run populates W4 with a few hundred runs: keep that away from the 10,000-run caches.
[ -n "${QUICK:-}" ] && cache="$cache/quick"
mkdir -p "$cache"

case "$mode" in
  embedded) workloads=${WORKLOADS:-w1,w2,w4,w5} ;;
  server) workloads=${WORKLOADS:-w3,w4,w5} ;;
  *) echo "MODE must be embedded or server, not '$mode'" >&2; exit 2 ;;
esac

mlflow_python=$(bash "$harness/mlflow_venv.sh")
wayline_python="$repo/.venv/bin/python"
config="$cache/targets-$mode.json"
"$wayline_python" "$here/targets.py" "$mlflow_python" "$wayline_python" "$cache" "$mode" > "$config"

quick=()
[ -n "${QUICK:-}" ] && quick=(--quick)
python3 "$harness/run_all.py" --config "$config" --workloads "$workloads" \
  --rounds "${ROUNDS:-1}" --out "$out" --report "$cache/report-$mode.md" "${quick[@]}"
