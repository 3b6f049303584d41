"""Artifact throughput through a tracking server's proxy: run by hand, prints one JSON line.

Each target is a client against a fresh server (SQLite store, ``--artifacts-destination`` in a
temporary directory) started for it and stopped after it:

* ``mlflow-1worker``: MLflow 3.18's client against ``mlflow server --workers 1``;
* ``mlflow-default``: MLflow's client against ``mlflow server`` (its default four workers);
* ``mlflow-client-wayline``: MLflow's client against ``wayline server``;
* ``wayline``: Wayline's client against ``wayline server``.

For each, one run receives: ``--files`` small files (1-4 KiB, 1,000 by default) with one
``log_artifacts`` of their directory (``dir_*``), the same files with one ``log_artifact`` call
each (``calls_*``), then one ``--big-mib`` file (1 GiB by default) uploaded with
``log_artifact`` (``big_upload_*``) and downloaded with ``download_artifacts``
(``big_download_*``). Every transfer is checked (count and sizes) after it is timed. The JSON
line holds each target's figures and ``ratios``: a Wayline target's throughput over MLflow's
(>1 = Wayline is faster), against both MLflow servers.

    python3 bench/artifacts.py                          # about 5 minutes here, 4 GiB of disk
    python3 bench/artifacts.py --files 200 --big-mib 64 # a quick smoke run
    python3 bench/artifacts.py --targets wayline,mlflow-1worker

MLflow's interpreter comes from ``$MLFLOW_PYTHON`` or the shared harness's ``mlflow_venv.sh``
(``MLFLOW_VENV`` reuses a built venv); Wayline's is this repository's ``.venv``. Run nothing else
meanwhile: the machine has two cores. The script starts its servers in their own sessions and
only ever stops those.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGETS = ("mlflow-1worker", "mlflow-default", "mlflow-client-wayline", "wayline")
MB = 1_000_000
_START_TIMEOUT_S = 120.0


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- worker (inside a client's venv)
def _rate(count: float, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def _timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _tree(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file()
    }


def worker(args: argparse.Namespace) -> None:
    """Run the transfers with the client module ``args.client`` and print their figures."""
    client_module = importlib.import_module(args.client)
    client = client_module.MlflowClient(tracking_uri=args.tracking_uri)
    experiment = client.create_experiment(f"artifacts-bench-{uuid.uuid4().hex[:8]}")
    run_id = client.create_run(experiment).info.run_id
    data = Path(args.data)
    small = data / "small"
    files = sorted(small.iterdir())
    small_bytes = sum(f.stat().st_size for f in files)
    big = data / "big.bin"
    out = Path(args.workdir)

    dir_s = _timed(lambda: client.log_artifacts(run_id, str(small), "dir"))
    calls_s = _timed(lambda: [client.log_artifact(run_id, str(f), "calls") for f in files])
    big_up_s = _timed(lambda: client.log_artifact(run_id, str(big), "big"))
    downloaded: list[str] = []
    big_down_s = _timed(
        lambda: downloaded.append(client.download_artifacts(run_id, "big/big.bin", str(out)))
    )

    # Checked after the clock stops: every file arrived, whole.
    listed = {f.path: f.file_size for f in client.list_artifacts(run_id, "dir")}
    expected = {f"dir/{f.name}": f.stat().st_size for f in files}
    assert listed == expected, "log_artifacts lost files"
    assert len(client.list_artifacts(run_id, "calls")) == len(files), "log_artifact lost files"
    assert Path(downloaded[0]).stat().st_size == big.stat().st_size, "short download"
    n = len(files)
    print(
        json.dumps(
            {
                "client_version": str(getattr(client_module, "__version__", "?")),
                "dir_s": round(dir_s, 3),
                "dir_files_per_s": _rate(n, dir_s),
                "dir_mb_per_s": _rate(small_bytes / MB, dir_s),
                "calls_s": round(calls_s, 3),
                "calls_files_per_s": _rate(n, calls_s),
                "big_upload_s": round(big_up_s, 3),
                "big_upload_mb_per_s": _rate(big.stat().st_size / MB, big_up_s),
                "big_download_s": round(big_down_s, 3),
                "big_download_mb_per_s": _rate(big.stat().st_size / MB, big_down_s),
            }
        ),
        flush=True,
    )


# ---------------------------------------------------------------- driver
def _make_data(folder: Path, files: int, big_mib: int) -> None:
    rng = random.Random(42)
    small = folder / "small"
    small.mkdir(parents=True)
    for i in range(files):
        (small / f"f{i:04d}.bin").write_bytes(rng.randbytes(rng.randint(1024, 4096)))
    with (folder / "big.bin").open("wb") as big:
        for _ in range(big_mib):
            big.write(os.urandom(1024 * 1024))


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log_file: Path) -> float:
    start = time.monotonic()
    while time.monotonic() - start < _START_TIMEOUT_S:
        if process.poll() is not None:
            raise RuntimeError(f"server exited:\n{log_file.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as answer:
                if answer.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer /health:\n{log_file.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # The server runs in its own session: its process group holds it and its workers only.
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _server_command(target: str, pythons: dict[str, str], workdir: Path, port: int) -> list[str]:
    store = ["--backend-store-uri", f"sqlite:///{workdir / 'store.db'}"]
    where = ["--artifacts-destination", str(workdir / "destination")]
    listen = ["--host", "127.0.0.1", "--port", str(port)]
    if target in ("mlflow-1worker", "mlflow-default"):
        mlflow = str(Path(pythons["mlflow"]).parent / "mlflow")
        workers = ["--workers", "1"] if target == "mlflow-1worker" else []
        return [mlflow, "server", *store, *where, *listen, *workers]
    wayline = str(Path(pythons["wayline"]).parent / "wayline")
    return [wayline, "server", *store, *where, *listen]


def run_target(target: str, pythons: dict[str, str], data: Path, work: Path) -> dict[str, Any]:
    workdir = work / target
    workdir.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_file = workdir / "server.log"
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    # `mlflow server` starts uvicorn (or gunicorn) by name: its venv's bin goes first on PATH.
    server_env = {**env, "PATH": f"{Path(pythons['mlflow']).parent}{os.pathsep}{env['PATH']}"}
    with log_file.open("wb") as output:
        server = subprocess.Popen(
            _server_command(target, pythons, workdir, port),
            stdout=output,
            stderr=output,
            cwd=workdir,
            env=server_env,
            start_new_session=True,
        )
    try:
        start_s = _wait_healthy(url, server, log_file)
        client = "wayline" if target == "wayline" else "mlflow"
        command = [pythons[client], str(Path(__file__).resolve()), "--worker", "--client", client]
        command += ["--tracking-uri", url, "--data", str(data), "--workdir", str(workdir / "dl")]
        log(f"[{target}] server up in {start_s:.1f}s; transferring")
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{target} worker failed:\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"[{target}] {result}")
        return result
    finally:
        _stop(server)
        shutil.rmtree(workdir, ignore_errors=True)  # a GiB or two per target


def _ratios(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    keys = ("dir_files_per_s", "calls_files_per_s", "big_upload_mb_per_s", "big_download_mb_per_s")
    ratios: dict[str, float] = {}
    for ours in ("wayline", "mlflow-client-wayline"):
        for theirs in ("mlflow-1worker", "mlflow-default"):
            if ours in results and theirs in results:
                for key in keys:
                    value = results[ours][key] / results[theirs][key]
                    ratios[f"{ours}/{theirs}:{key}"] = round(value, 2)
    return ratios


def _mlflow_python() -> str:
    if os.environ.get("MLFLOW_PYTHON"):
        return os.environ["MLFLOW_PYTHON"]
    harness = Path(os.environ.get("BENCH_HARNESS", REPO.parent / "shared" / "bench"))
    done = subprocess.run(
        ["bash", str(harness / "mlflow_venv.sh")], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()[-1]


def driver(args: argparse.Namespace) -> None:
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    pythons = {"mlflow": _mlflow_python(), "wayline": str(REPO / ".venv" / "bin" / "python")}
    work = Path(tempfile.mkdtemp(prefix="wayline-bench-artifacts-"))
    try:
        data = work / "data"
        log(f"writing {args.files} small files and a {args.big_mib} MiB file under {work}")
        _make_data(data, args.files, args.big_mib)
        results = {target: run_target(target, pythons, data, work) for target in targets}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "artifacts",
                "files": args.files,
                "small_bytes": "1-4 KiB each",
                "big_bytes": args.big_mib * 1024 * 1024,
                "unix_time": int(time.time()),
                "results": results,
                "ratios": _ratios(results),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--tracking-uri", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        driver(args)


if __name__ == "__main__":
    main()
