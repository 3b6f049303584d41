"""Artifact throughput through a tracking server's proxy: run by hand, prints one JSON line.

Each target is a client against its own fresh server (SQLite store, ``--artifacts-destination``
in a temporary directory), all started before the transfers and stopped after them:

* ``mlflow-1worker``: MLflow 3.18's client against ``mlflow server --workers 1``;
* ``mlflow-default``: MLflow's client against ``mlflow server`` (its default four workers);
* ``mlflow-client-wayline``: MLflow's client against ``wayline server``;
* ``wayline``: Wayline's client against ``wayline server``.

Each target receives ``--files`` small files (1-4 KiB, 1,000 by default) with one
``log_artifacts`` of their directory (``dir_*``) and with one ``log_artifact`` call each
(``calls_*``). Then, ``--big-repeat`` rounds (3) in which the targets take turns in a rotated
order, one ``--big-mib`` file (1 GiB by default) is uploaded with ``log_artifact``
(``big_upload_*``) and downloaded with ``download_artifacts`` (``big_download_*``), each after a
``sync``; a big figure is the median of the rounds, as the speed of this shared machine's page
cache and disk drifts by 2x within minutes. Every transfer is checked (count and sizes) after it
is timed. The JSON line holds each target's figures and ``ratios``: a Wayline target's
throughput over MLflow's (>1 = Wayline is faster), against both MLflow servers.

    python3 bench/artifacts.py                          # about 8 minutes here, 5 GiB of disk
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
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench_servers import free_port, stop, wait_healthy

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
TARGETS = ("mlflow-1worker", "mlflow-default", "mlflow-client-wayline", "wayline")
MB = 1_000_000


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- worker (inside a client's venv)
def _rate(count: float, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def _timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _settle() -> None:
    """Write back what earlier transfers left in the page cache, then let the disk rest."""
    os.sync()
    time.sleep(1.0)


def _tree(folder: Path) -> dict[str, int]:
    return {
        str(path.relative_to(folder)): path.stat().st_size
        for path in folder.rglob("*")
        if path.is_file()
    }


def worker(args: argparse.Namespace) -> None:
    """Run one phase of transfers with the client module ``args.client``; print its figures.

    ``small``: the small files, once per target. ``big``: one upload and one download of the
    big file, each on a settled disk (the driver runs this phase ``--big-repeat`` times per
    target, the targets taking turns).
    """
    client_module = importlib.import_module(args.client)
    client = client_module.MlflowClient(tracking_uri=args.tracking_uri)
    experiment = client.create_experiment(f"artifacts-bench-{uuid.uuid4().hex[:8]}")
    run_id = client.create_run(experiment).info.run_id
    data = Path(args.data)
    figures: dict[str, Any] = {"client_version": str(getattr(client_module, "__version__", "?"))}
    if args.phase == "small":
        small = data / "small"
        files = sorted(small.iterdir())
        small_bytes = sum(f.stat().st_size for f in files)
        dir_s = _timed(lambda: client.log_artifacts(run_id, str(small), "dir"))
        calls_s = _timed(lambda: [client.log_artifact(run_id, str(f), "calls") for f in files])
        # Checked after the clock stops: every file arrived, whole.
        listed = {f.path: f.file_size for f in client.list_artifacts(run_id, "dir")}
        expected = {f"dir/{f.name}": f.stat().st_size for f in files}
        assert listed == expected, "log_artifacts lost files"
        assert len(client.list_artifacts(run_id, "calls")) == len(files), "log_artifact lost files"
        n = len(files)
        figures |= {
            "dir_s": round(dir_s, 3),
            "dir_files_per_s": _rate(n, dir_s),
            "dir_mb_per_s": _rate(small_bytes / MB, dir_s),
            "calls_s": round(calls_s, 3),
            "calls_files_per_s": _rate(n, calls_s),
        }
    else:
        big = data / "big.bin"
        out = Path(args.workdir)
        _settle()
        up_s = _timed(lambda: client.log_artifact(run_id, str(big), "big"))
        _settle()
        downloaded: list[str] = []
        down_s = _timed(
            lambda: downloaded.append(client.download_artifacts(run_id, "big/big.bin", str(out)))
        )
        assert Path(downloaded[0]).stat().st_size == big.stat().st_size, "short download"
        shutil.rmtree(out, ignore_errors=True)
        figures |= {"big_upload_s": round(up_s, 3), "big_download_s": round(down_s, 3)}
    print(json.dumps(figures), flush=True)


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


class Target:
    """One target's server, started for the whole run and stopped after it."""

    def __init__(self, name: str, pythons: dict[str, str], work: Path) -> None:
        self.name = name
        self.pythons = pythons
        self.workdir = work / name
        self.workdir.mkdir()
        self.url = f"http://127.0.0.1:{free_port()}"
        self.env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
        self.env.pop("MLFLOW_TRACKING_URI", None)
        self.log_file = self.workdir / "server.log"
        # `mlflow server` starts uvicorn (or gunicorn) by name: its venv's bin goes first.
        path = f"{Path(pythons['mlflow']).parent}{os.pathsep}{self.env['PATH']}"
        port = int(self.url.rsplit(":", 1)[1])
        with self.log_file.open("wb") as output:
            self.server = subprocess.Popen(
                _server_command(name, pythons, self.workdir, port),
                stdout=output,
                stderr=output,
                cwd=self.workdir,
                env={**self.env, "PATH": path},
                start_new_session=True,
            )

    def wait(self) -> None:
        start_s = wait_healthy(self.url, self.server, self.log_file)
        log(f"[{self.name}] server up in {start_s:.1f}s")

    def run(self, phase: str, data: Path) -> dict[str, Any]:
        client = "wayline" if self.name == "wayline" else "mlflow"
        command = [self.pythons[client], str(Path(__file__).resolve()), "--worker"]
        command += ["--client", client, "--tracking-uri", self.url, "--phase", phase]
        command += ["--data", str(data), "--workdir", str(self.workdir / "dl")]
        done = subprocess.run(command, capture_output=True, text=True, env=self.env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name} worker failed:\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"[{self.name}] {phase}: {result}")
        # A GiB per big run: gone before the next target's turn.
        for folder, _, names in os.walk(self.workdir / "destination"):
            for name in names:
                if name == "big.bin":
                    os.remove(os.path.join(folder, name))
        return result

    def stop(self) -> None:
        stop(self.server)
        shutil.rmtree(self.workdir, ignore_errors=True)


def run_targets(
    names: list[str], pythons: dict[str, str], data: Path, work: Path, big_repeat: int
) -> dict[str, dict[str, Any]]:
    """Every target's figures. The big transfers take turns, in a rotated order each round,
    so that a slow spell of this shared machine falls on all targets alike; each figure is
    the median of the ``big_repeat`` rounds."""
    targets = [Target(name, pythons, work) for name in names]
    try:
        for target in targets:
            target.wait()
        results = {t.name: t.run("small", data) for t in targets}
        rounds: dict[str, list[dict[str, Any]]] = {t.name: [] for t in targets}
        for turn in range(big_repeat):
            for target in targets[turn % len(targets) :] + targets[: turn % len(targets)]:
                rounds[target.name].append(target.run("big", data))
    finally:
        for target in targets:
            target.stop()
    size_mb = (data / "big.bin").stat().st_size / MB
    for name, runs in rounds.items():
        for kind in ("upload", "download"):
            times = [run[f"big_{kind}_s"] for run in runs]
            median = statistics.median(times)
            results[name] |= {
                f"big_{kind}_s": round(median, 3),
                f"big_{kind}_mb_per_s": _rate(size_mb, median),
                f"big_{kind}_runs_s": times,
            }
    return results


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
        results = run_targets(targets, pythons, data, work, args.big_repeat)
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
    parser.add_argument("--big-repeat", type=int, default=3, help="big transfers per target")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=("small", "big"), help=argparse.SUPPRESS)
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
