#!/usr/bin/env bash
# Side-by-side benchmarks of Wayline against MLflow 3.18 on this machine, in one run, using the
# shared harness in ../../shared/bench (run by hand, never by the test suite).
#
#   bash bench/run.sh                      # embedded workloads W1 W2 W4 W5, 1 round
#   ROUNDS=2 WORKLOADS=w1,w2 bash bench/run.sh
#   MODE=server bash bench/run.sh          # tracking servers: W3 W4 W5 (see bench/targets.py)
#   QUICK=1 bash bench/run.sh              # 2-minute smoke test (of either mode)
#   MODE=artifacts bash bench/run.sh       # artifact proxy throughput: bench/artifacts.py
#   MODE=serving bash bench/run.sh         # model serving W6 (bench/serving.py prepares it)
#   MODE=registry bash bench/run.sh        # model registry searches: bench/registry.py
#   MODE=tracing bash bench/run.sh         # tracing SDK overhead and OTLP ingest: bench/tracing.py
#   MODE=ui bash bench/run.sh              # the runs page of 10,000 runs in Chromium: bench/ui.py
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
  artifacts) ;;
  serving) workloads=${WORKLOADS:-w6} ;;
  registry) ;;
  tracing) ;;
  ui) ;;
  *) echo "MODE must be embedded, server, artifacts, serving, registry, tracing or ui, not '$mode'" >&2; exit 2 ;;
esac

mlflow_python=$(bash "$harness/mlflow_venv.sh")
if [ "$mode" = artifacts ]; then
  # 1,000 small files and a 1 GiB file per target (QUICK: 200 and 64 MiB); one JSON line.
  sizes=()
  [ -n "${QUICK:-}" ] && sizes=(--files 200 --big-mib 64)
  MLFLOW_PYTHON="$mlflow_python" python3 "$here/artifacts.py" "${sizes[@]}" | tee -a "$out"
  exit
fi
if [ "$mode" = registry ]; then
  # 500 models x 10 versions per server (QUICK: 50 x 10); one JSON line per figure, the table
  # on stderr and in $cache/report-registry.md. The driver populates with httpx: our venv.
  # MLflow's populated database is cached under $cache (populating it takes minutes).
  sizes=()
  [ -n "${QUICK:-}" ] && sizes=(--models 50 --repeat 2)
  MLFLOW_PYTHON="$mlflow_python" "$repo/.venv/bin/python" "$here/registry.py" "${sizes[@]}" \
    --cache "$cache" --report "$cache/report-registry.md" | tee -a "$out"
  exit
fi
if [ "$mode" = tracing ]; then
  # Per-span overhead of each SDK (embedded SQLite, 5 rounds of 300 traced calls, taking turns)
  # and OTLP ingest of `mlflow server` and `wayline server` (200 traces x 50 spans, one per
  # request and 10 per request, then one 50,000-span trace); QUICK: 3 rounds of 100 calls, 40
  # traces, a 5,000-span trace. One JSON line per figure, the table on stderr and in
  # $cache/report-tracing.md. The driver builds the OTLP protobufs and posts them: our venv.
  sizes=()
  [ -n "${QUICK:-}" ] && sizes=(--quick)
  MLFLOW_PYTHON="$mlflow_python" "$repo/.venv/bin/python" "$here/tracing.py" "${sizes[@]}" \
    --report "$cache/report-tracing.md" | tee -a "$out"
  exit
fi
if [ "$mode" = ui ]; then
  # The runs page of an experiment of 10,000 runs (QUICK: 2,000 runs, 2 repetitions) in headless
  # Chromium, Wayline's UI against MLflow's; the seeded databases are cached under $cache (MLflow's
  # takes minutes), screenshots go to $cache/ui-screenshots. One JSON line, the table on stderr
  # and in $cache/report-ui.md. The driver runs Playwright and Wayline's store: our venv.
  sizes=()
  [ -n "${QUICK:-}" ] && sizes=(--runs 2000 --repeat 2)
  MLFLOW_PYTHON="$mlflow_python" "$repo/.venv/bin/python" "$here/ui.py" "${sizes[@]}" \
    --cache "$cache" --out "$cache/ui-screenshots" --report "$cache/report-ui.md" | tee -a "$out"
  exit
fi
wayline_python="$repo/.venv/bin/python"
config="$cache/targets-$mode.json"
if [ "$mode" = serving ]; then
  # W6: each client logs an iris LogisticRegression with its own <module>.sklearn.log_model and
  # its own CLI serves it (for MLflow the harness's default: --env-manager local, in its venv
  # as `pip install mlflow` makes it). Wayline is measured three ways: in this development venv
  # (whose torch, there for the pytorch tests, is imported by skops' scan of scikit-learn),
  # as a user installs it (`pip install 'wayline[sklearn]'` into a venv of its own, kept in
  # $cache/wayline-installed: delete it to rebuild), and in the model's own environment
  # (--env-manager virtualenv), which bench/serving.py builds first so the start is warm.
  "$wayline_python" "$here/serving.py" >&2
  installed="$cache/wayline-installed"
  if [ ! -x "$installed/bin/wayline" ]; then
    uv=$("$wayline_python" -c "from uv import find_uv_bin; print(find_uv_bin())")
    "$uv" venv -q --python "$wayline_python" "$installed"
    # requests: the harness's W6 client.
    "$uv" pip install -q --compile-bytecode --python "$installed/bin/python" -e "$repo[sklearn]" requests
  fi
  serve="{bin}/wayline models serve -m {model_uri} -h 127.0.0.1 -p {port}"
  cat > "$config" <<EOF
{"targets": [
  {"name": "mlflow-3.18.0", "python": "$mlflow_python", "client_module": "mlflow"},
  {"name": "wayline", "python": "$wayline_python", "client_module": "wayline",
   "serve_cmd": "$serve"},
  {"name": "wayline-installed", "python": "$installed/bin/python", "client_module": "wayline",
   "serve_cmd": "$serve"},
  {"name": "wayline-virtualenv", "python": "$wayline_python", "client_module": "wayline",
   "serve_cmd": "$serve --env-manager virtualenv"}
]}
EOF
else
  "$wayline_python" "$here/targets.py" "$mlflow_python" "$wayline_python" "$cache" "$mode" > "$config"
fi

quick=()
[ -n "${QUICK:-}" ] && quick=(--quick)
python3 "$harness/run_all.py" --config "$config" --workloads "$workloads" \
  --rounds "${ROUNDS:-1}" --out "$out" --report "$cache/report-$mode.md" "${quick[@]}"
