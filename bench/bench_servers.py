"""Starting and stopping the servers a bench measures: a free port, a wait for ``/health``,
and a stop of the server's whole process group (import as ``bench_servers`` from a script in
this folder)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(
    url: str, process: subprocess.Popen[bytes], log_file: Path, timeout_s: float = 120.0
) -> float:
    """Seconds until ``url`` answered ``/health``; RuntimeError with the server's log when it
    exits or does not answer within ``timeout_s``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
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


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session: its process group holds it and its workers
    only."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
