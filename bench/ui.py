"""The runs page of a 10,000-run experiment in headless Chromium: Wayline's UI against MLflow's.

Issue 8 asks that the runs page be interactive in under 1.5 s and a page change take under
300 ms, measured in the browser, with the same measurement of MLflow 3.18's UI on the same data.
Both servers get the same ``--runs`` runs (10,000) in one experiment: names ``r00000``…, a
metric ``acc``, a param ``lr``, a tag ``group``, start times one second apart; seeded into SQLite
through each project's own store (Wayline's ``SqlStore`` here, MLflow's ``SqlAlchemyStore`` in
MLflow's venv) and kept under ``--cache``. Each UI is served by its own CLI (``wayline server``,
``mlflow server``, the same options: ``--workers`` 1 by default, as MLflow's default
four fail to start on this loaded machine) and measured in Debian's ``/usr/bin/chromium``
through Playwright, one fresh browser context per repetition, after one warm-up load per server,
the UIs taking turns; each figure is the median of ``--repeat`` (5) repetitions:

* ``interactive_ms``: from the navigation start to the moment the first run row of the runs
  table is in the DOM and visible: ``performance.now()`` read in the page by a
  ``requestAnimationFrame`` poll (``page.wait_for_function``), so within a frame of the paint.
  Wayline: ``/experiments/<id>``, rows ``#runs tbody tr``; MLflow: ``/#/experiments/<id>/runs``
  (its "Training runs"; ``/#/experiments/<id>`` is an overview), the rows of its ag-grid.
* ``dom_interactive_ms``: the navigation entry's ``domInteractive`` (for MLflow, a single-page
  app, that is only its empty shell).
* ``page_change_ms``: the next 100 runs. Wayline: its "Next" link opens a new document; the figure
  is that document's ``performance.now()`` when its first row is visible. MLflow: its "Load more"
  button; the figure is the time from the click (a capturing listener reads
  ``performance.now()``) to the grid's row count growing (its ``aria-rowcount``).

``runs_ms`` keeps each repetition's figures with the navigation entries' ``response_end_ms``
(the server's answer is in) and, for Wayline's second page, its own ``page_change_*`` timings:
they tell the server's share from the browser's. Every measured row is checked to be the
expected seeded run, and one screenshot per UI and page is saved to ``--out``. The browser
refuses requests that leave 127.0.0.1 and lists them (``blocked_requests``). One JSON line on
stdout; a markdown table on stderr (and ``--report``) with pass/fail against the issue's targets
for Wayline and the ratios MLflow / Wayline (>1 = Wayline is faster).

    .venv/bin/python bench/ui.py --cache /tmp/wayline-bench-cache      # seeding: minutes, once
    .venv/bin/python bench/ui.py --runs 2000 --repeat 2                # a quick smoke run

MLflow's interpreter comes from ``$MLFLOW_PYTHON`` or the shared harness's ``mlflow_venv.sh``;
the driver runs in this repository's ``.venv`` (Playwright, Wayline's store). Run nothing else
meanwhile: the machine has two cores. Servers run in their own sessions and only those are
stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_servers import free_port, stop, wait_healthy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KINDS = ("wayline", "mlflow")
EXPERIMENT = "ui-bench"
START_MS = 1_700_000_000_000
PAGE = 100  # runs per page in both UIs
TARGETS_MS = {"interactive_ms": 1500.0, "page_change_ms": 300.0}  # issue 8, for Wayline
FIGURES = ("interactive_ms", "page_change_ms", "dom_interactive_ms")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as tests/ui/conftest.py
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_START_TIMEOUT_S = 300.0
_TIMEOUT_MS = 60_000.0


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def run_name(i: int) -> str:
    return f"r{i:05d}"


# ---------------------------------------------------------------- seeding
def _no_sync(connection: Any, _record: object) -> None:
    connection.execute("PRAGMA synchronous = OFF")


def seed_mlflow(db: Path, runs: int) -> str:
    """Seed ``db`` through MLflow's own store (run in MLflow's venv); the experiment id."""
    # MLflow's venv, not ours: mypy runs in ours.
    from mlflow.entities import (  # type: ignore[import-not-found, unused-ignore]
        ExperimentTag,
        Metric,
        Param,
        RunTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import (  # type: ignore[import-not-found, unused-ignore]
        SqlAlchemyStore,
    )
    from sqlalchemy import event

    store = SqlAlchemyStore(f"sqlite:///{db}", str(db.parent / "artifacts"))
    # 30,000 small transactions, each waiting for the disk: seeding does not wait (a seeding cut
    # short is done again anyway, see `seeded`); the file is the same.
    event.listen(store.engine, "connect", _no_sync)
    store.engine.dispose()
    # Without this tag MLflow's UI asks what kind of experiment this is before it shows runs.
    kind = [ExperimentTag("mlflow.experimentKind", "custom_model_development")]
    experiment = store.create_experiment(EXPERIMENT, tags=kind)
    for i in range(runs):
        start = START_MS + i * 1000
        run = store.create_run(experiment, "bench", start, [], run_name(i))
        store.log_batch(
            run.info.run_id,
            metrics=[Metric("acc", i / runs, start, 0)],
            params=[Param("lr", str(i % 13))],
            tags=[RunTag("group", f"g{i % 10}")],
        )
    return str(experiment)


def seed_wayline(db: Path, runs: int) -> str:
    """Seed ``db`` through Wayline's ``SqlStore`` with the same runs; the experiment id."""
    from wayline.entities import ExperimentTag, Metric, Param, RunTag
    from wayline.store.sql.store import SqlStore

    store = SqlStore(f"sqlite:///{db}", str(db.parent / "artifacts"))
    try:
        kind = [ExperimentTag("mlflow.experimentKind", "custom_model_development")]
        experiment = store.create_experiment(EXPERIMENT, tags=kind)
        for i in range(runs):
            start = START_MS + i * 1000
            run = store.create_run(experiment, "bench", start, [], run_name(i))
            store.log_batch(
                run.info.run_id,
                metrics=[Metric("acc", i / runs, start, 0)],
                params=[Param("lr", str(i % 13))],
                tags=[RunTag("group", f"g{i % 10}")],
            )
    finally:
        store.close()
    return experiment


def seeded(kind: str, runs: int, cache: Path, mlflow_python: str) -> tuple[Path, str]:
    """The cached seeded database of ``kind`` (seeded now if missing) and its experiment id."""
    db = cache / f"ui-{kind}-{runs}.db"
    meta = db.with_suffix(".json")
    if db.exists() and meta.exists():
        log(f"[{kind}] seeded database from {db}")
        return db, str(json.loads(meta.read_text())["experiment_id"])
    db.unlink(missing_ok=True)
    log(f"[{kind}] seeding {runs} runs into {db}")
    start = time.perf_counter()
    if kind == "wayline":
        experiment = seed_wayline(db, runs)
    else:
        command = [mlflow_python, str(Path(__file__).resolve()), "--seed-mlflow", str(db)]
        done = subprocess.run(
            [*command, "--runs", str(runs)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            db.unlink(missing_ok=True)
            raise RuntimeError(f"seeding MLflow failed:\n{done.stderr[-4000:]}")
        experiment = done.stdout.strip().splitlines()[-1]
    # Written last: a seeding cut short leaves no metadata, so the next run seeds again.
    meta.write_text(json.dumps({"experiment_id": experiment, "runs": runs}))
    log(f"[{kind}] seeded in {time.perf_counter() - start:.0f} s")
    return db, experiment


# ---------------------------------------------------------------- servers
def start_server(
    kind: str, bin_dir: Path, db: Path, workdir: Path, workers: int
) -> tuple[Any, str]:
    """``<kind> server`` over a copy of ``db`` (the cache stays as seeded); (process, url)."""
    workdir.mkdir(parents=True)
    store = workdir / "store.db"
    shutil.copyfile(db, store)
    port = free_port()
    command = [str(bin_dir / kind), "server", "--backend-store-uri", f"sqlite:///{store}"]
    command += ["--artifacts-destination", str(workdir / "artifacts")]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    # `mlflow server` starts uvicorn by name: its venv's bin goes first on PATH.
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    log_file = workdir / "server.log"
    with log_file.open("wb") as output:
        server = subprocess.Popen(
            command, stdout=output, stderr=output, cwd=workdir, env=env, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server, log_file, _START_TIMEOUT_S)
    except BaseException:
        stop(server)
        raise
    return server, url


# ---------------------------------------------------------------- the browser
# The first run row, once it is in the DOM and laid out: performance.now() (ms since the
# navigation start), else false so that wait_for_function polls again on the next frame.
_FIRST_ROW = """(selector) => {
  const row = document.querySelector(selector);
  if (!row) return false;
  const box = row.getBoundingClientRect();
  const shown = box.width > 0 && box.height > 0 && row.checkVisibility();
  return shown && row.textContent.match(/r\\d{5}/) ? performance.now() : false;
}"""
_ROW_NAME = """(selector) => document.querySelector(selector).textContent.match(/r\\d{5}/)[0]"""
# Where a document's time went: the server's answer (responseEnd) and the parsed DOM.
_NAVIGATION = """(() => {
  const entry = performance.getEntriesByType('navigation')[0];
  return {response_end_ms: entry.responseEnd, dom_interactive_ms: entry.domInteractive};
})()"""
# ag-grid renders only the rows in view; its aria-rowcount counts every row it holds (+1 for
# the header row).
_ROW_COUNT = "Number(document.querySelector('[aria-rowcount]').getAttribute('aria-rowcount'))"
_MARK_CLICK = """() => document.addEventListener(
  'click', () => { window.__benchClick = performance.now(); }, {capture: true, once: true})"""
_GREW = f"""(before) => {{
  const count = {_ROW_COUNT};
  return count > before ? [performance.now() - window.__benchClick, count] : false;
}}"""


class Ui:
    """How to open one UI's runs page and move to its next 100 runs."""

    def __init__(self, kind: str, url: str, experiment: str, runs: int) -> None:
        self.kind = kind
        self.runs = runs
        if kind == "wayline":
            self.page_url = f"{url}/experiments/{experiment}"
            self.row = "#runs tbody tr[data-run-id]"
        else:
            # `/#/experiments/<id>` opens the experiment's overview; its runs table is here.
            self.page_url = f"{url}/#/experiments/{experiment}/runs"
            # The run name column is pinned to the left: its cells hold the names.
            self.row = ".ag-pinned-left-cols-container .ag-row[row-index='0']"

    def check_row(self, page: Any, expected: int) -> str:
        """The name in the first row; RuntimeError unless it is the ``expected`` seeded run."""
        name: str = page.evaluate(_ROW_NAME, self.row)
        if name != run_name(expected):
            raise RuntimeError(f"{self.kind}: first row {name!r}, not {run_name(expected)!r}")
        return name

    def open(self, page: Any) -> dict[str, float]:
        page.goto(self.page_url, wait_until="commit")
        shown = page.wait_for_function(_FIRST_ROW, arg=self.row, polling="raf")
        interactive = float(shown.json_value())
        # Newest first in both UIs: the last seeded run heads the table.
        self.check_row(page, self.runs - 1)
        return {"interactive_ms": interactive, **page.evaluate(_NAVIGATION)}

    def next_page(self, page: Any) -> dict[str, float]:
        """``page_change_ms``, and for Wayline its new document's navigation timings."""
        if self.kind == "wayline":
            with page.expect_navigation(wait_until="commit"):
                page.get_by_test_id("next-page").click()
            shown = page.wait_for_function(_FIRST_ROW, arg=self.row, polling="raf")
            self.check_row(page, self.runs - 1 - PAGE)
            timings = {f"page_change_{k}": v for k, v in page.evaluate(_NAVIGATION).items()}
            return {"page_change_ms": float(shown.json_value()), **timings}
        before = int(page.evaluate(_ROW_COUNT))
        button = page.get_by_role("button", name="Load more")
        button.scroll_into_view_if_needed()
        page.evaluate(_MARK_CLICK)
        button.click()
        grew = page.wait_for_function(_GREW, arg=before, polling="raf").json_value()
        if grew[1] - before != PAGE:
            raise RuntimeError(f"mlflow: Load more added {grew[1] - before} rows, not {PAGE}")
        return {"page_change_ms": float(grew[0])}


def _context(browser: Any, blocked: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(_TIMEOUT_MS)

    def local_only(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", local_only)
    return context


def repetition(browser: Any, ui: Ui, shots: Path | None, blocked: list[str]) -> dict[str, float]:
    """One fresh context: open the runs page, then move to the next 100 runs."""
    context = _context(browser, blocked)
    try:
        page = context.new_page()
        figures = ui.open(page)
        if shots:
            page.screenshot(path=str(shots / f"{ui.kind}-runs.png"))
        figures |= ui.next_page(page)
        if shots:
            page.screenshot(path=str(shots / f"{ui.kind}-next-page.png"))
        return figures
    finally:
        context.close()


def measure(uis: list[Ui], repeat: int, out: Path) -> dict[str, Any]:
    """Every UI's figures (medians and each repetition's), the UIs taking turns."""
    from playwright.sync_api import sync_playwright

    samples: dict[str, list[dict[str, float]]] = {ui.kind: [] for ui in uis}
    blocked: dict[str, list[str]] = {ui.kind: [] for ui in uis}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            for ui in uis:  # warm-up: servers open their databases, caches fill
                warm = repetition(browser, ui, out, blocked[ui.kind])
                log(f"[{ui.kind}] warm-up: {_rounded(warm)}")
            for turn in range(repeat):
                for ui in uis[turn % len(uis) :] + uis[: turn % len(uis)]:
                    figures = repetition(browser, ui, None, blocked[ui.kind])
                    samples[ui.kind].append(figures)
                    log(f"[{ui.kind}] {turn + 1}/{repeat}: {_rounded(figures)}")
        finally:
            browser.close()
    results: dict[str, Any] = {}
    for kind, runs in samples.items():
        results[kind] = {f: round(statistics.median(r[f] for r in runs), 1) for f in FIGURES}
        results[kind]["runs_ms"] = [_rounded(r) for r in runs]
        results[kind]["blocked_requests"] = sorted(set(blocked[kind]))
    return results


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in figures.items()}


# ---------------------------------------------------------------- driver
def _mlflow_python() -> str:
    if os.environ.get("MLFLOW_PYTHON"):
        return os.environ["MLFLOW_PYTHON"]
    harness = Path(os.environ.get("BENCH_HARNESS", REPO.parent / "shared" / "bench"))
    done = subprocess.run(
        ["bash", str(harness / "mlflow_venv.sh")], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    """Wayline's pass/fail against the issue's targets and the ratios MLflow / Wayline."""
    out: dict[str, Any] = {}
    if "wayline" in results:
        out["targets_ms"] = TARGETS_MS
        out["pass"] = {f: results["wayline"][f] < limit for f, limit in TARGETS_MS.items()}
    if {"wayline", "mlflow"} <= set(results):
        out["ratios"] = {
            f: round(results["mlflow"][f] / results["wayline"][f], 2)
            for f in FIGURES
            if results["wayline"][f] > 0
        }
    return out


def table(results: dict[str, Any], judged: dict[str, Any]) -> str:
    kinds = [k for k in KINDS if k in results]
    columns = ["figure", *[f"{k} (ms)" for k in kinds], "target (ms)", "wayline"]
    if "ratios" in judged:
        columns.append("mlflow / wayline")
    rows = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for figure in FIGURES:
        cells = [figure, *[f"{results[k][figure]:.0f}" for k in kinds]]
        limit = TARGETS_MS.get(figure)
        passed = judged.get("pass", {}).get(figure)
        cells += [f"{limit:.0f}" if limit else "-", {True: "pass", False: "FAIL"}.get(passed, "-")]
        if "ratios" in judged:
            cells.append(f"{judged['ratios'][figure]:.2f}x")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def driver(args: argparse.Namespace) -> None:
    kinds = [k for k in args.uis.split(",") if k]
    if set(kinds) - set(KINDS) or not kinds:
        raise SystemExit(f"--uis takes a list of {', '.join(KINDS)}")
    mlflow_python = _mlflow_python()
    bins = {"mlflow": Path(mlflow_python).parent, "wayline": REPO / ".venv" / "bin"}
    work = Path(tempfile.mkdtemp(prefix="wayline-bench-ui-"))
    cache = Path(args.cache) if args.cache else work / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="wayline-bench-ui-shots-"))
    out.mkdir(parents=True, exist_ok=True)
    servers: list[Any] = []
    try:
        uis = []
        for kind in kinds:
            db, experiment = seeded(kind, args.runs, cache, mlflow_python)
            server, url = start_server(kind, bins[kind], db, work / kind, args.workers)
            servers.append(server)
            uis.append(Ui(kind, url, experiment, args.runs))
        results = measure(uis, args.repeat, out)
    finally:
        for server in servers:
            stop(server)
        shutil.rmtree(work, ignore_errors=True)
    judged = verdicts(results)
    line = {
        "benchmark": "ui",
        "runs": args.runs,
        "page": PAGE,
        "repeat": args.repeat,
        "workers": args.workers,
        "unix_time": int(time.time()),
        "screenshots": str(out),
        "results": results,
        **judged,
    }
    print(json.dumps(line), flush=True)
    report = table(results, judged)
    log("\n" + report + f"\n\n(ms: median of {args.repeat}; ratios: MLflow's / Wayline's time)")
    log(f"screenshots: {out}")
    if args.report:
        Path(args.report).write_text(report + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="of each server")
    parser.add_argument("--uis", default=",".join(KINDS), help="wayline,mlflow")
    parser.add_argument("--cache", help="keep the seeded databases in this folder")
    parser.add_argument("--out", help="screenshots go here (default: a temporary folder)")
    parser.add_argument("--report", help="also write the markdown table here")
    parser.add_argument("--seed-mlflow", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_mlflow:
        print(seed_mlflow(Path(args.seed_mlflow), args.runs), flush=True)
    else:
        driver(args)


if __name__ == "__main__":
    main()
