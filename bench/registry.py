"""Model registry search speed on a populated registry: run by hand, prints JSON lines and a table.

Each server gets a fresh SQLite store, populated through the REST API (several threads, the same
requests for every server): ``--models`` registered models (500) with a ``team`` tag, each with
``--versions`` versions (10) created from 50 runs (``runs:/<run>/model``) and tagged
``quality`` (``gold`` for the last version, ``silver`` for the middle ones, else ``bronze``), an
alias ``champion`` on the last version, and every tenth model's last version in Production.

Then, through a client against the server (a median of ``--repeat`` timings after one warm-up,
and every answer's size checked against what was populated):

* ``mv_all``: ``search_model_versions`` without a filter, every version, pages of 1,000;
* ``mv_name_eq``: ``name = 'model-123'`` (10 versions);
* ``mv_name_like``: ``name LIKE 'model-1%'`` (111 models, 1,110 versions);
* ``mv_run_in``: ``run_id IN (three runs)`` (300 versions);
* ``mv_tag_eq``: ``tags.quality = 'gold'`` (one version per model);
* ``rm_all``: ``search_registered_models`` over every model, pages of 100 (the client default);
* ``alias_get``: 100 ``get_model_version_by_alias`` calls (``models:/name@champion`` lookups).

Targets: ``mlflow-default`` (MLflow 3.18's client against ``mlflow server``, four workers),
``mlflow-1worker`` (the same database served by ``mlflow server --workers 1``),
``mlflow-client-wayline`` (MLflow's client against ``wayline server``) and ``wayline``
(Wayline's client against the same ``wayline server``). Each figure is one JSON line on stdout
with every target's seconds and the ratios MLflow / Wayline (>1 = Wayline is faster); the
markdown table goes to stderr (and ``--report``).

    .venv/bin/python bench/registry.py --cache /tmp/wayline-bench-cache   # minutes, once
    .venv/bin/python bench/registry.py --models 50 --repeat 2   # a quick smoke run

MLflow's interpreter comes from ``$MLFLOW_PYTHON`` or the shared harness's ``mlflow_venv.sh``;
Wayline's is this repository's ``.venv`` (the driver runs there: it populates with httpx). Run
nothing else meanwhile: the machine has two cores. Servers run in their own sessions and only
those are stopped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench_servers import free_port, stop, wait_healthy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RUNS = 50
FIGURES = {
    "mv_all": "search_model_versions, no filter, all versions (pages of 1,000)",
    "mv_name_eq": "search_model_versions name = 'model-123'",
    "mv_name_like": "search_model_versions name LIKE 'model-1%'",
    "mv_run_in": "search_model_versions run_id IN (3 runs)",
    "mv_tag_eq": "search_model_versions tags.quality = 'gold'",
    "rm_all": "search_registered_models, all models (pages of 100)",
    "alias_get": "100 x get_model_version_by_alias",
}
TARGETS = ("mlflow-default", "mlflow-1worker", "mlflow-client-wayline", "wayline")
SERVER = {  # which server each target's client talks to
    "mlflow-default": "mlflow",
    "mlflow-1worker": "mlflow",
    "mlflow-client-wayline": "wayline",
    "wayline": "wayline",
}


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- worker (inside a client's venv)
def _all_pages(fetch: Callable[[str | None], Any]) -> int:
    count, token = 0, None
    while True:
        page = fetch(token)
        count += len(page)
        token = page.token
        if not token:
            return count


def _timed(action: Callable[[], int], repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs after a warm-up, and the size of the answer."""
    count = action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        again = action()
        times.append(time.perf_counter() - start)
        assert again == count, f"answers changed size: {count} then {again}"
    return statistics.median(times), count


def worker(args: argparse.Namespace) -> None:
    """Time the searches with the client module ``args.client`` and print their figures."""
    client = importlib.import_module(args.client).MlflowClient(tracking_uri=args.tracking_uri)
    runs = json.loads(args.runs)
    models = args.models
    run_in = "run_id IN (" + ", ".join(f"'{r}'" for r in runs[:3]) + ")"

    def versions(filter_string: str | None, page: int = 1000) -> Callable[[], int]:
        return lambda: _all_pages(
            lambda token: client.search_model_versions(
                filter_string, max_results=page, page_token=token
            )
        )

    def aliases() -> int:
        for i in range(100):
            version = client.get_model_version_by_alias(f"model-{i * models // 100}", "champion")
            assert version.version == str(args.versions)
        return 100

    actions: dict[str, Callable[[], int]] = {
        "mv_all": versions(None),
        "mv_name_eq": versions(f"name = 'model-{min(123, models - 1)}'"),
        "mv_name_like": versions("name LIKE 'model-1%'"),
        "mv_run_in": versions(run_in),
        "mv_tag_eq": versions("tags.quality = 'gold'"),
        "rm_all": lambda: _all_pages(
            lambda token: client.search_registered_models(max_results=100, page_token=token)
        ),
        "alias_get": aliases,
    }
    results: dict[str, dict[str, float]] = {}
    for name, action in actions.items():
        seconds, count = _timed(action, args.repeat)
        results[name] = {"s": round(seconds, 5), "count": count}
        log(f"  {name}: {seconds * 1000:.1f} ms ({count})")
    print(json.dumps(results), flush=True)


# ---------------------------------------------------------------- population (driver, httpx)
def expected_counts(models: int, versions: int) -> dict[str, int]:
    like = sum(1 for i in range(models) if str(i).startswith("1"))
    total = models * versions
    # Versions are spread over the runs in turn: the first three runs' share of them.
    run_in = sum(1 for k in range(total) if k % RUNS < 3)
    return {
        "mv_all": total,
        "mv_name_eq": versions,
        "mv_name_like": like * versions,
        "mv_run_in": run_in,
        "mv_tag_eq": models,
        "rm_all": models,
        "alias_get": 100,
    }


def populate(url: str, models: int, versions: int, threads: int) -> list[str]:
    """Fill the registry of the server at ``url``; the run ids the versions come from."""
    import httpx

    api = f"{url}/api/2.0/mlflow"
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=threads)) as http:

        def call(method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            for attempt in range(8):
                answer = http.request(method, f"{api}/{path}", json=body)
                if answer.status_code < 500 and b"database is locked" not in answer.content:
                    break
                time.sleep(0.05 * 2**attempt)  # a busy SQLite writer: wait and try again
            if answer.status_code != 200:
                raise RuntimeError(f"{method} {path} {body}: {answer.status_code} {answer.text}")
            result: dict[str, Any] = answer.json()
            return result

        experiment = call("POST", "experiments/create", {"name": "registry-bench"})
        runs = [
            call("POST", "runs/create", {"experiment_id": experiment["experiment_id"]})["run"][
                "info"
            ]["run_id"]
            for _ in range(RUNS)
        ]

        def one_model(i: int) -> None:
            name = f"model-{i}"
            team = [{"key": "team", "value": f"team-{i % 10}"}]
            call("POST", "registered-models/create", {"name": name, "tags": team})
            for v in range(1, versions + 1):
                run = runs[(i * versions + v - 1) % RUNS]
                quality = "gold" if v == versions else "silver" if v > versions // 2 else "bronze"
                body = {
                    "name": name,
                    "source": f"runs:/{run}/model",
                    "run_id": run,
                    "tags": [{"key": "quality", "value": quality}, {"key": "n", "value": str(v)}],
                }
                call("POST", "model-versions/create", body)
            last = str(versions)
            call(
                "POST",
                "registered-models/alias",
                {"name": name, "alias": "champion", "version": last},
            )
            if i % 10 == 0:
                stage = {"stage": "Production", "archive_existing_versions": False}
                call(
                    "POST",
                    "model-versions/transition-stage",
                    {"name": name, "version": last, **stage},
                )

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one_model, range(models)))
    return runs


# ---------------------------------------------------------------- driver
def _mlflow_python() -> str:
    if os.environ.get("MLFLOW_PYTHON"):
        return os.environ["MLFLOW_PYTHON"]
    harness = Path(os.environ.get("BENCH_HARNESS", REPO.parent / "shared" / "bench"))
    done = subprocess.run(
        ["bash", str(harness / "mlflow_venv.sh")], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def _server(
    kind: str, pythons: dict[str, str], workdir: Path, workers: int | None
) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = Path(pythons[kind]).parent
    command = [
        str(bin_dir / kind),
        "server",
        "--backend-store-uri",
        f"sqlite:///{workdir / 'store.db'}",
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if workers:
        command += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    # `mlflow server` starts uvicorn by name: its venv's bin goes first on PATH.
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    log_file = workdir / f"server-{port}.log"
    with log_file.open("wb") as output:
        server = subprocess.Popen(
            command, stdout=output, stderr=output, cwd=workdir, env=env, start_new_session=True
        )
    wait_healthy(url, server, log_file)
    return server, url, log_file


def _measure(
    target: str, client: str, url: str, pythons: dict[str, str], runs: list[str], args: Any
) -> dict[str, dict[str, float]]:
    command = [pythons[client], str(Path(__file__).resolve()), "--worker", "--client", client]
    command += ["--tracking-uri", url, "--runs", json.dumps(runs), "--repeat", str(args.repeat)]
    command += ["--models", str(args.models), "--versions", str(args.versions)]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    log(f"[{target}] searching")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{target} worker failed:\n{done.stderr[-4000:]}")
    sys.stderr.write(done.stderr)
    result: dict[str, dict[str, float]] = json.loads(done.stdout.strip().splitlines()[-1])
    expected = expected_counts(args.models, args.versions)
    for name, figure in result.items():
        if figure["count"] != expected[name]:
            raise RuntimeError(f"{target}: {name} found {figure['count']}, not {expected[name]}")
    return result


def run_server(kind: str, pythons: dict[str, str], work: Path, args: Any) -> dict[str, Any]:
    """Populate a fresh ``kind`` server and time its targets; {target: figures} plus setup.

    MLflow's populated database is kept in ``--cache`` (populating it takes minutes here) and
    copied on later runs; Wayline's is populated every time (its schema changes as it grows).
    """
    workdir = work / kind
    workdir.mkdir()
    cached = _cached_db(kind, args)
    runs: list[str] | None = None
    if cached is not None and cached.exists():
        shutil.copyfile(cached, workdir / "store.db")
        runs = json.loads(cached.with_suffix(".runs.json").read_text())
        log(f"[{kind}] populated database copied from {cached}")
    out: dict[str, Any] = {}
    server, url, _ = _server(kind, pythons, workdir, None)
    try:
        if runs is None:
            log(f"[{kind}] populating {args.models} models x {args.versions} versions")
            start = time.perf_counter()
            runs = populate(url, args.models, args.versions, args.threads)
            out[f"populate_s:{kind}"] = round(time.perf_counter() - start, 2)
            log(f"[{kind}] populated in {out[f'populate_s:{kind}']} s")
        for target in TARGETS:
            if target in args.targets and SERVER[target] == kind and target != "mlflow-1worker":
                client = "wayline" if target == "wayline" else "mlflow"
                out[target] = _measure(target, client, url, pythons, runs, args)
    finally:
        stop(server)
    if cached is not None and not cached.exists():  # the server is stopped: the file is whole
        cached.with_suffix(".runs.json").write_text(json.dumps(runs))
        shutil.copyfile(workdir / "store.db", cached)
    if kind == "mlflow" and "mlflow-1worker" in args.targets:
        server, url, _ = _server(kind, pythons, workdir, 1)
        try:
            out["mlflow-1worker"] = _measure("mlflow-1worker", "mlflow", url, pythons, runs, args)
        finally:
            stop(server)
    return out


def _cached_db(kind: str, args: Any) -> Path | None:
    if kind != "mlflow" or not args.cache:
        return None
    Path(args.cache).mkdir(parents=True, exist_ok=True)
    return Path(args.cache) / f"registry-mlflow-{args.models}x{args.versions}.db"


def report(results: dict[str, dict[str, dict[str, float]]], args: Any) -> str:
    """Print one JSON line per figure; return the markdown table."""
    names = [t for t in TARGETS if t in results]
    pairs = [
        (ours, theirs)
        for ours in ("wayline", "mlflow-client-wayline")
        for theirs in ("mlflow-default", "mlflow-1worker")
        if ours in results and theirs in results
    ]
    columns = ["figure", *[f"{n} (ms)" for n in names], *[f"{o} vs {t}" for o, t in pairs]]
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for figure, description in FIGURES.items():
        seconds = {n: results[n][figure]["s"] for n in names}
        ratios = {f"{o}/{t}": round(seconds[t] / seconds[o], 2) for o, t in pairs}
        line = {
            "benchmark": "registry",
            "figure": figure,
            "description": description,
            "unit": "s",
            "better": "lower",
            "count": results[names[0]][figure]["count"],
            "models": args.models,
            "versions": args.models * args.versions,
            "repeat": args.repeat,
            "unix_time": int(time.time()),
            "results": seconds,
            "ratios": ratios,
        }
        print(json.dumps(line), flush=True)
        cells = [f"{seconds[n] * 1000:.1f}" for n in names]
        rows.append(
            "| " + " | ".join([figure, *cells, *[f"{r:.2f}x" for r in ratios.values()]]) + " |"
        )
    return "\n".join(rows)


def driver(args: argparse.Namespace) -> None:
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = set(args.targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    pythons = {"mlflow": _mlflow_python(), "wayline": str(REPO / ".venv" / "bin" / "python")}
    work = Path(tempfile.mkdtemp(prefix="wayline-bench-registry-"))
    results: dict[str, Any] = {}
    try:
        if {"mlflow-default", "mlflow-1worker"} & set(args.targets):
            results.update(run_server("mlflow", pythons, work, args))
        if {"mlflow-client-wayline", "wayline"} & set(args.targets):
            results.update(run_server("wayline", pythons, work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    setup = {k: results.pop(k) for k in list(results) if k.startswith("populate_s:")}
    print(json.dumps({"benchmark": "registry", "figure": "populate", "unit": "s", **setup}))
    table = report(results, args)
    log("\n" + table + "\n\n(ms: median per figure; ratios: MLflow's time / ours, >1 = faster)")
    log("populate (s): " + ", ".join(f"{k.split(':')[1]} {v}" for k, v in setup.items()))
    if args.report:
        Path(args.report).write_text(table + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=4, help="populating threads")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--report", help="also write the markdown table here")
    parser.add_argument("--cache", help="keep MLflow's populated database in this folder")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--tracking-uri", help=argparse.SUPPRESS)
    parser.add_argument("--runs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        driver(args)


if __name__ == "__main__":
    main()
