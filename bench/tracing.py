"""Tracing speed, Wayline against MLflow 3.18: run by hand, prints JSON lines and a table.

Two kinds of figures, all taken in one run:

* **SDK overhead per span** (``overhead_us``): a root function calling a child function nine
  times, each with a small dict in and out, is called ``--calls`` times decorated with the
  client's ``@trace`` (10 spans a call) and as many times undecorated; the difference over the
  number of spans is what tracing costs the caller, in µs, with asynchronous export on (the
  clients' default). ``total_us`` adds the wait for the export queue to drain
  (``flush_trace_async_logging``) after each batch of calls, so it counts the export's own work
  too. Each client runs in its own venv against a local SQLite file (embedded: no server; with
  ``--mlflow-store server`` MLflow's exports to a local ``mlflow server`` instead); the two take
  turns for ``--rounds`` rounds (median) after a warm-up, and every trace is checked to be
  stored, whole, at the end.
* **OTLP ingest** (``ingest_*``, spans/s): the same ``ExportTraceServiceRequest`` protobuf bodies
  (built once with opentelemetry-proto, MLflow-style span attributes) POSTed to ``/v1/traces``
  of ``mlflow server`` and of ``wayline server`` (each on a fresh SQLite store with its default
  worker count, four for MLflow and one for Wayline; ``--workers`` sets both) with
  ``x-mlflow-experiment-id``, by ``--threads`` connections, timed until every request is
  answered and a trace search finds every trace (a fresh experiment per round; the servers are
  up together and take turns; median of ``--rounds``); the spans are counted afterwards.
  ``ingest_per_trace``: one request per trace (what MLflow's exporter sends), ``--traces``
  traces of ``--spans`` spans; ``ingest_batched``: the same spans, ``--batch`` traces per
  request; ``ingest_big_trace``: one trace of ``--big-spans`` spans in requests of 1,000.

Targets (the issue's): Wayline's overhead at most half of MLflow's (ratio MLflow/Wayline >= 2),
ingest at least three times MLflow's (ratio Wayline/MLflow >= 3). Each figure is one JSON line on
stdout; the markdown table goes to stderr (and ``--report``).

    .venv/bin/python bench/tracing.py                 # several minutes here
    .venv/bin/python bench/tracing.py --quick         # a smoke run, about a minute
    .venv/bin/python bench/tracing.py --only ingest   # or: overhead

MLflow's interpreter comes from ``$MLFLOW_PYTHON`` or the shared harness's ``mlflow_venv.sh``;
Wayline's is this repository's ``.venv`` (the driver runs there: it builds the protobufs and
posts them with httpx). Run nothing else meanwhile: the machine has two cores. Servers and
workers run in their own sessions and only those are stopped.
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
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from bench_servers import free_port, stop, wait_healthy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLIENTS = ("mlflow", "wayline")
CHILDREN = 9  # child spans per traced call: 10 spans with the root
BIG_TRACE_CHUNK = 1000
SETTINGS = ("calls", "rounds", "traces", "spans", "batch", "big_spans", "threads", "mlflow_store")
_STORED_TIMEOUT_S = 300.0
FIGURES = {
    "overhead_us": ("µs per span, caller-side (async export)", "lower", 2.0),
    "total_us": ("µs per span, including the export queue's drain", "lower", None),
    "ingest_per_trace": ("OTLP spans/s, one request per trace", "higher", 3.0),
    "ingest_batched": ("OTLP spans/s, several traces per request", "higher", 3.0),
    "ingest_big_trace": ("OTLP spans/s, one big trace", "higher", 3.0),
}


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- overhead worker (client's venv)
def _workload(trace: Callable[..., Any] | None) -> Callable[[int], dict[str, Any]]:
    """The root function (and its child), decorated with ``trace`` unless it is None."""

    def child(payload: dict[str, Any], step: int) -> dict[str, Any]:
        return {"value": payload["value"] * 2, "step": step, "tag": payload["tag"]}

    def root(x: int) -> dict[str, Any]:
        total = 0
        for step in range(CHILDREN):
            total += call_child({"value": x + step, "tag": "bench"}, step)["value"]
        return {"total": total, "x": x}

    call_child = trace(child) if trace else child
    return trace(root) if trace else root


def _count_stored(ml: Any, experiment_id: str) -> tuple[int, int]:
    """How many traces the experiment holds, and the spans of its newest."""
    traces = ml.search_traces(
        experiment_ids=[experiment_id], return_type="list", include_spans=False
    )
    if not traces:
        return 0, 0
    newest = max(traces, key=lambda t: t.info.timestamp_ms)
    whole = ml.get_trace(newest.info.trace_id)
    return len(traces), len(whole.data.spans) if whole else 0


def overhead_worker(args: argparse.Namespace) -> None:
    """Answer the driver's ``round`` lines with one round's timings (JSON), ``stop`` with counts.

    Timed in rounds so that the two clients can take turns; the export queue is drained after
    each batch of traced calls (timed apart), so no round leaves work for the next.
    """
    ml = importlib.import_module(args.client)
    ml.set_tracking_uri(args.tracking_uri)
    experiment_id = ml.set_experiment("tracing-overhead").experiment_id
    traced, plain = _workload(ml.trace), _workload(None)
    for i in range(max(20, args.calls // 5)):  # warm-up: imports, database, first exports
        traced(i)
        plain(i)
    ml.flush_trace_async_logging()
    warm = _count_stored(ml, experiment_id)[0]
    version = str(getattr(ml, "__version__", "?"))
    print(json.dumps({"ready": True, "version": version}), flush=True)
    rounds = 0
    for line in sys.stdin:
        if line.strip() != "round":
            break
        rounds += 1
        start = time.perf_counter()
        for i in range(args.calls):
            traced(i)
        traced_s = time.perf_counter() - start
        start = time.perf_counter()
        ml.flush_trace_async_logging()
        flush_s = time.perf_counter() - start
        start = time.perf_counter()
        for i in range(args.calls):
            plain(i)
        plain_s = time.perf_counter() - start
        figures = {"traced_s": traced_s, "flush_s": flush_s, "plain_s": plain_s}
        print(json.dumps(figures), flush=True)
    stored, spans = _count_stored(ml, experiment_id)
    expected = warm + rounds * args.calls
    print(json.dumps({"stored": stored, "expected": expected, "spans": spans}), flush=True)


# ---------------------------------------------------------------- processes
def _clean_env(python: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}
    # `mlflow server` starts uvicorn by name: its venv's bin goes first on PATH.
    env["PATH"] = f"{Path(python).parent}{os.pathsep}{env['PATH']}"
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"  # MLflow's job runner: unused here
    return env


class _Worker:
    """An overhead worker process, driven line by line."""

    def __init__(self, client: str, python: str, workdir: Path, calls: int, uri: str) -> None:
        command = [python, str(Path(__file__).resolve()), "--worker", "--client", client]
        command += ["--tracking-uri", uri, "--calls", str(calls)]
        self.client = client
        self._log = workdir / f"worker-{client}.log"
        with self._log.open("wb") as err:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=workdir,
                env=_clean_env(python),
                start_new_session=True,
            )
        self.version = "?"

    def _read(self) -> dict[str, Any]:
        out: IO[str] | None = self._process.stdout
        assert out is not None
        line = out.readline()
        if not line:
            tail = self._log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.client} worker ended:\n{tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    def ready(self) -> None:
        self.version = str(self._read()["version"])

    def round(self) -> dict[str, float]:
        self._send("round")
        return self._read()

    def finish(self) -> dict[str, Any]:
        self._send("stop")
        answer = self._read()
        self._process.wait(timeout=60)
        return answer

    def stop(self) -> None:
        stop(self._process)


def run_overhead(pythons: dict[str, str], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """{client: {overhead_us, total_us}} from rounds in which the clients take turns."""
    spans = args.calls * (CHILDREN + 1)
    uris = {c: f"sqlite:///{work / f'{c}.db'}" for c in args.clients}
    server: subprocess.Popen[bytes] | None = None
    if args.mlflow_store == "server" and "mlflow" in uris:
        (work / "overhead-server").mkdir()
        server, uris["mlflow"] = _server(
            "mlflow", pythons["mlflow"], work / "overhead-server", None
        )
    workers = {c: _Worker(c, pythons[c], work, args.calls, uris[c]) for c in args.clients}
    try:
        for worker in workers.values():
            log(f"[overhead] {worker.client}: warming up")
            worker.ready()
        samples: dict[str, list[dict[str, float]]] = {c: [] for c in workers}
        order = list(workers)
        for r in range(args.rounds):
            for client in order[r % len(order) :] + order[: r % len(order)]:
                figures = workers[client].round()
                samples[client].append(figures)
                over = (figures["traced_s"] - figures["plain_s"]) / spans * 1e6
                log(
                    f"[overhead] round {r + 1} {client}: {over:.1f} µs/span (traced"
                    f" {figures['traced_s']:.3f} s, drain {figures['flush_s']:.3f} s,"
                    f" plain {figures['plain_s']:.4f} s for {args.calls} calls)"
                )
        results: dict[str, Any] = {}
        for client, worker in workers.items():
            check = worker.finish()
            if check["stored"] != check["expected"] or check["spans"] != CHILDREN + 1:
                raise RuntimeError(f"{client}: traces not stored whole: {check}")
            over = [(s["traced_s"] - s["plain_s"]) / spans * 1e6 for s in samples[client]]
            total = [
                (s["traced_s"] + s["flush_s"] - s["plain_s"]) / spans * 1e6 for s in samples[client]
            ]
            results[client] = {
                "overhead_us": round(statistics.median(over), 2),
                "total_us": round(statistics.median(total), 2),
                "version": worker.version,
            }
        return results
    finally:
        for worker in workers.values():
            worker.stop()
        if server is not None:
            stop(server)


# ---------------------------------------------------------------- OTLP requests (driver, .venv)
def _attribute(key: str, value: Any) -> Any:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    # MLflow's exporter sends every attribute as a string holding its JSON.
    return KeyValue(key=key, value=AnyValue(string_value=json.dumps(value)))


def build_traces(
    n_traces: int, spans_per_trace: int, traces_per_request: int, chunk: int | None = None
) -> tuple[list[bytes], list[str]]:
    """Serialized ExportTraceServiceRequest bodies, and the trace ids (``tr-<hex>``) they hold.

    Each trace: a root AGENT span and ``spans_per_trace - 1`` LLM/TOOL children with small
    JSON inputs and outputs, one after another, sent in the order they end (the root last).
    ``chunk`` splits one trace's spans over several
    requests (a big trace); otherwise a request holds ``traces_per_request`` whole traces.
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

    start_ns = time.time_ns() - 3_600 * 10**9
    trace_ids: list[str] = []
    spans_by_trace: list[list[Any]] = []
    for _ in range(n_traces):
        raw_trace = os.urandom(16)
        trace_id = "tr-" + raw_trace.hex()
        trace_ids.append(trace_id)
        root_id = os.urandom(8)
        t0 = start_ns
        start_ns += spans_per_trace * 2_000_000
        spans = []
        for i in range(spans_per_trace):
            is_root = i == 0
            span_type = "AGENT" if is_root else ("LLM" if i % 2 else "TOOL")
            begin = t0 + (0 if is_root else i * 1_000_000)
            end = t0 + spans_per_trace * 1_000_000 + 1 if is_root else begin + 900_000
            attributes = [
                _attribute("mlflow.traceRequestId", trace_id),
                _attribute("mlflow.spanType", span_type),
                _attribute("mlflow.spanInputs", {"question": f"q{i}", "k": i}),
                _attribute("mlflow.spanOutputs", {"answer": f"a{i}", "score": i / 10}),
                _attribute("mlflow.spanFunctionName", "agent" if is_root else f"step_{i}"),
            ]
            spans.append(
                Span(
                    trace_id=raw_trace,
                    span_id=root_id if is_root else os.urandom(8),
                    parent_span_id=b"" if is_root else root_id,
                    name="agent" if is_root else f"step-{i}",
                    kind=Span.SpanKind.SPAN_KIND_INTERNAL,
                    start_time_unix_nano=begin,
                    end_time_unix_nano=end,
                    attributes=attributes,
                    status=Status(code=Status.StatusCode.STATUS_CODE_OK),
                )
            )
        # Exporters send spans as they end: the children first, the root last.
        spans_by_trace.append([*spans[1:], spans[0]])

    def body(spans: Sequence[Any]) -> bytes:
        request = ExportTraceServiceRequest(
            resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])]
        )
        data: bytes = request.SerializeToString()
        return data

    if chunk:
        everything = [span for spans in spans_by_trace for span in spans]
        bodies = [body(everything[i : i + chunk]) for i in range(0, len(everything), chunk)]
    else:
        bodies = [
            body([s for spans in spans_by_trace[i : i + traces_per_request] for s in spans])
            for i in range(0, n_traces, traces_per_request)
        ]
    return bodies, trace_ids


# ---------------------------------------------------------------- ingest (driver, .venv)
def _server(
    kind: str, python: str, workdir: Path, workers: int | None
) -> tuple[subprocess.Popen[bytes], str]:
    """A fresh ``kind server`` on SQLite in ``workdir``, once it answers: (process, URL)."""
    port = free_port()
    command = [str(Path(python).parent / kind), "server"]
    command += ["--backend-store-uri", f"sqlite:///{workdir / 'store.db'}"]
    command += ["--artifacts-destination", str(workdir / "artifacts")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    log_file = workdir / "server.log"
    with log_file.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=output,
            cwd=workdir,
            env=_clean_env(python),
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process, log_file)
    return process, url


class _Ingest:
    """One server's REST and OTLP endpoints, through one pooled httpx client."""

    def __init__(self, url: str, threads: int) -> None:
        import httpx

        self.url = url
        self.threads = threads
        self.retries = 0
        self.http = httpx.Client(
            timeout=600, limits=httpx.Limits(max_connections=threads, max_keepalive_connections=4)
        )

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = self.http.request(method, f"{self.url}{path}", **kwargs)
        if answer.status_code != 200:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        result: dict[str, Any] = answer.json()
        return result

    def experiment(self, name: str) -> str:
        body = {"name": name}
        return str(
            self.call("POST", "/api/2.0/mlflow/experiments/create", json=body)["experiment_id"]
        )

    def post_all(self, bodies: list[bytes], experiment_id: str) -> None:
        headers = {
            "Content-Type": "application/x-protobuf",
            "x-mlflow-experiment-id": experiment_id,
        }

        def post(body: bytes) -> None:
            for attempt in range(8):
                answer = self.http.post(f"{self.url}/v1/traces", content=body, headers=headers)
                if answer.status_code == 200:
                    return
                if answer.status_code < 500 and b"locked" not in answer.content:
                    break
                self.retries += 1
                time.sleep(0.05 * 2**attempt)  # a busy SQLite writer: wait and try again
            raise RuntimeError(f"POST /v1/traces: {answer.status_code} {answer.text[:500]}")

        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(post, bodies))

    def count_traces(self, experiment_id: str) -> int:
        count, token = 0, None
        location = {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": experiment_id},
        }
        while True:
            body: dict[str, Any] = {"locations": [location], "max_results": 500}
            if token:
                body["page_token"] = token
            page = self.call("POST", "/api/3.0/mlflow/traces/search", json=body)
            count += len(page.get("traces", []))
            token = page.get("next_page_token")
            if not token:
                return count

    def span_count(self, trace_id: str) -> int:
        import httpx

        for attempt in range(3):
            try:
                path = "/api/3.0/mlflow/traces/get"
                answer = self.call("GET", path, params={"trace_id": trace_id})
                return len(answer.get("trace", {}).get("spans", []))
            except httpx.TransportError:
                # A server's worker may drop the connection of a long read (MLflow's has, for
                # a 50,000-span trace on a busy machine): the clock goes on, ask again.
                if attempt == 2:
                    raise
                time.sleep(1)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.http.close()


def _ingest_once(
    server: _Ingest, name: str, bodies: list[bytes], trace_ids: list[str], spans_per_trace: int
) -> float:
    """Seconds from the first POST until a search finds every trace; then checks the spans."""
    experiment_id = server.experiment(name)
    start = time.perf_counter()
    server.post_all(bodies, experiment_id)
    while server.count_traces(experiment_id) < len(trace_ids):
        if time.perf_counter() - start > _STORED_TIMEOUT_S:
            raise RuntimeError(f"{name}: traces still missing after {_STORED_TIMEOUT_S}s")
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    # The spans, counted after the clock stops (a sample of traces: reading is not timed).
    step = max(1, len(trace_ids) // 10)
    for trace_id in [*trace_ids[::step], trace_ids[-1]]:
        deadline = time.monotonic() + _STORED_TIMEOUT_S
        while (found := server.span_count(trace_id)) < spans_per_trace:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {trace_id} has {found} of {spans_per_trace} spans")
            time.sleep(0.2)
            seconds = time.perf_counter() - start  # not all stored yet: the clock goes on
    return seconds


def ingest_plan(args: argparse.Namespace) -> dict[str, tuple[int, int, int, int | None]]:
    """figure -> (traces, spans per trace, traces per request, chunk of a big trace)."""
    return {
        "ingest_per_trace": (args.traces, args.spans, 1, None),
        "ingest_batched": (args.traces, args.spans, args.batch, None),
        "ingest_big_trace": (1, args.big_spans, 1, BIG_TRACE_CHUNK),
    }


def run_ingest(pythons: dict[str, str], work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """{server: {figure: spans/s}}. Every server gets identical bodies (fresh trace ids per
    round, so each round writes new traces rather than replacing old ones); the servers are all
    up at once and take turns, in rotated order, so drift in the machine's load hits both."""
    plan = ingest_plan(args)
    log("[ingest] building the OTLP requests")
    built = {
        (figure, r): build_traces(*shape)
        for figure, shape in plan.items()
        for r in range(args.rounds)
    }
    processes: list[subprocess.Popen[bytes]] = []
    servers: dict[str, _Ingest] = {}
    try:
        for kind in args.clients:
            workdir = work / f"ingest-{kind}"
            workdir.mkdir()
            process, url = _server(kind, pythons[kind], workdir, args.workers)
            processes.append(process)
            servers[kind] = _Ingest(url, args.threads)
        seconds: dict[tuple[str, str], list[float]] = {}
        order = list(servers)
        for figure, (n_traces, n_spans, _, _) in plan.items():
            for r in range(args.rounds):
                bodies, trace_ids = built[figure, r]
                for kind in order[r % len(order) :] + order[: r % len(order)]:
                    took = _ingest_once(servers[kind], f"{figure}-{r}", bodies, trace_ids, n_spans)
                    seconds.setdefault((kind, figure), []).append(took)
                    rate = n_traces * n_spans / took
                    log(f"[ingest] {figure} round {r + 1} {kind}: {rate:,.0f} spans/s")
        results: dict[str, Any] = {}
        for kind, server in servers.items():
            results[kind] = {
                figure: round(n_traces * n_spans / statistics.median(seconds[kind, figure]), 1)
                for figure, (n_traces, n_spans, _, _) in plan.items()
            }
            results[kind]["retries"] = server.retries
        return results
    finally:
        for server in servers.values():
            server.close()
        for process in processes:
            stop(process)


# ---------------------------------------------------------------- report
def report(overhead: dict[str, Any], ingest: dict[str, Any], args: argparse.Namespace) -> str:
    """Print one JSON line per figure; return the markdown table."""
    rows = [
        "| figure | MLflow 3.18 | Wayline | ratio | target |",
        "|---|---|---|---|---|",
    ]
    for figure, (description, better, target) in FIGURES.items():
        source = overhead if figure in ("overhead_us", "total_us") else ingest
        theirs = source.get("mlflow", {}).get(figure)
        ours = source.get("wayline", {}).get(figure)
        if theirs is None and ours is None:
            continue
        ratio = None
        if theirs is not None and ours is not None:
            ratio = round(theirs / ours if better == "lower" else ours / theirs, 2)
        line = {
            "benchmark": "tracing",
            "figure": figure,
            "description": description,
            "unit": "us" if better == "lower" else "spans/s",
            "better": better,
            "results": {"mlflow": theirs, "wayline": ours},
            "ratio": ratio,
            "target": target,
            "settings": {k: getattr(args, k) for k in SETTINGS},
            "unix_time": int(time.time()),
        }
        print(json.dumps(line), flush=True)
        goal = f"≥ {target:g}x" if target else "-"
        shown = "-" if ratio is None else f"{ratio:.2f}x"
        if ratio is not None and target:
            shown += " ✓" if ratio >= target else " ✗"
        cells = ["-" if v is None else f"{v:,}" for v in (theirs, ours)]
        rows.append(f"| {description} | {cells[0]} | {cells[1]} | {shown} | {goal} |")
    return "\n".join(rows)


def _mlflow_python() -> str:
    if os.environ.get("MLFLOW_PYTHON"):
        return os.environ["MLFLOW_PYTHON"]
    harness = Path(os.environ.get("BENCH_HARNESS", REPO.parent / "shared" / "bench"))
    done = subprocess.run(
        ["bash", str(harness / "mlflow_venv.sh")], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def driver(args: argparse.Namespace) -> None:
    args.clients = [c for c in args.clients.split(",") if c]
    if set(args.clients) - set(CLIENTS):
        raise SystemExit(f"--clients takes {', '.join(CLIENTS)}")
    pythons = {"mlflow": _mlflow_python(), "wayline": str(REPO / ".venv" / "bin" / "python")}
    work = Path(tempfile.mkdtemp(prefix="wayline-bench-tracing-"))
    overhead: dict[str, Any] = {}
    ingest: dict[str, Any] = {}
    try:
        if args.only in (None, "overhead"):
            overhead = run_overhead(pythons, work, args)
        if args.only in (None, "ingest"):
            ingest = run_ingest(pythons, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = report(overhead, ingest, args)
    versions = {c: overhead[c]["version"] for c in overhead}
    retries = {c: ingest[c]["retries"] for c in ingest}
    log(f"\n{table}\n\n(medians of {args.rounds} rounds; ratio: how many times better Wayline is)")
    log(f"clients: {versions or '-'}; ingest retries on busy SQLite: {retries or '-'}")
    if args.report:
        Path(args.report).write_text(table + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="traced calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--traces", type=int, default=200)
    parser.add_argument("--spans", type=int, default=50, help="spans per trace")
    parser.add_argument("--batch", type=int, default=10, help="traces per batched request")
    parser.add_argument("--big-spans", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=4, help="concurrent OTLP connections")
    parser.add_argument("--workers", type=int, help="--workers for both servers (else defaults)")
    parser.add_argument(
        "--mlflow-store",
        choices=("sqlite", "server"),
        default="sqlite",
        help="where MLflow's SDK exports in the overhead figures: a SQLite file, as Wayline's"
        " does, or a local `mlflow server` (its default four workers, on SQLite)",
    )
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--only", choices=("overhead", "ingest"))
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--report", help="also write the markdown table here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--tracking-uri", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        overhead_worker(args)
        return
    if args.quick:
        args.calls, args.rounds, args.traces, args.big_spans = 100, 3, 40, 5_000
    driver(args)


if __name__ == "__main__":
    main()
