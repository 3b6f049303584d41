"""``wayline models serve`` run as a real process for tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from servers import free_port

# A process imports the whole stack and loads the model first, maybe on a busy machine.
_START_TIMEOUT_S = 90.0


@dataclass
class ServeProcess:
    """A ``wayline models serve`` subprocess: its base URL, the process, and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve_process(
    args: Sequence[str], workdir: Path, env: dict[str, str] | None = None
) -> Iterator[ServeProcess]:
    """``wayline models serve ARGS -p PORT`` as a real process, until /ping answers 200."""
    port = free_port()
    command = [sys.executable, "-c", "from wayline.cli.main import cli; cli()", "models", "serve"]
    command += [*args, "-p", str(port)]
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=output, cwd=workdir, env={**os.environ, **(env or {})}
        )
    running = ServeProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"serve exited with {process.returncode}:\n{running.output()}")
            try:
                if httpx.get(f"{running.url}/ping", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"serve did not answer /ping in time:\n{running.output()}")
            time.sleep(0.1)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
