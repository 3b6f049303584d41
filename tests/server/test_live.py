"""``wayline server`` as a real process under uvicorn, reached over TCP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server did not answer /health in {STARTUP_TIMEOUT_S}s:\n{log.read_text()}")


@pytest.mark.slow
def test_wayline_server_serves_over_http(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    command = [
        sys.executable,
        "-c",
        "from wayline.cli.main import cli; cli()",
        "server",
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'live.db'}",
        "--port",
        str(port),
    ]
    with log.open("wb") as output, subprocess.Popen(command, stdout=output, stderr=output) as proc:
        try:
            wait_until_healthy(base_url, proc, log)
            with httpx.Client(base_url=base_url, timeout=10.0) as http:
                assert http.get("/health").text == "OK"
                created = http.post("/api/2.0/mlflow/experiments/create", json={"name": "live"})
                assert created.status_code == 200, created.text
                experiment_id = created.json()["experiment_id"]
                got = http.get(
                    "/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id}
                )
                assert got.json()["experiment"]["artifact_location"] == (
                    f"mlflow-artifacts:/{experiment_id}"
                )
                assert http.get("/nope").status_code == 404
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
