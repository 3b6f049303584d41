"""Real servers for tests that talk HTTP to Wayline.

* ``live_server(app)``: uvicorn in a thread, serving an app built in the test;
* ``server_process(args, workdir)``: ``wayline server ARGS`` as a subprocess (the CLI, worker
  processes, signals: everything a deployment runs).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

_START_TIMEOUT_S = 20.0
# A process imports the whole stack first, and several of them may start at once on a busy CI.
_PROCESS_START_TIMEOUT_S = 90.0


@contextmanager
def live_server(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL.

    The app's lifespan runs, so its stores are closed when the block ends.
    """
    # Bind first, then hand the socket to uvicorn: nothing else can take the port in between.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(_START_TIMEOUT_S)
        sock.close()


def recording(
    app: ASGIApp,
    seen: list[httpx.Headers],
    admit: Callable[[httpx.Headers], bool] | None = None,
) -> ASGIApp:
    """``app`` behind a gate that records every HTTP request's headers in ``seen`` and answers
    401 to those ``admit`` refuses, as an authenticating proxy in front of a server would."""

    async def gate(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope["headers"]
            headers = httpx.Headers([(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw])
            seen.append(headers)
            if admit is not None and not admit(headers):
                await PlainTextResponse("who are you?", status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return gate


def free_port() -> int:
    """A loopback port nothing listens on right now (for servers started as processes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A ``wayline`` server subprocess: its base URL, the process, and its output file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def cli_process(
    cli_args: Sequence[str],
    workdir: Path,
    *,
    ready_path: str = "/health",
    port_flag: str = "--port",
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> Iterator[ServerProcess]:
    """Run ``wayline CLI_ARGS PORT_FLAG P`` as a real process until ``ready_path`` answers 200.

    Stdout and stderr go to a file in ``workdir``; the process is stopped (SIGTERM, then
    SIGKILL) when the block ends unless the test already stopped it.
    """
    port = port or free_port()
    command = [sys.executable, "-c", "from wayline.cli.main import cli; cli()", *cli_args]
    if "--port" not in cli_args and "-p" not in cli_args:
        command += [port_flag, str(port)]
    log = workdir / f"{cli_args[0]}-{port}.log"
    environment = {**os.environ, **(env or {})}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=output, cwd=workdir, env=environment
        )
    running = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(running, ready_path)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=_START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def server_process(
    args: Sequence[str],
    workdir: Path,
    *,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
) -> AbstractContextManager[ServerProcess]:
    """``wayline server ARGS --port P`` as a real process, until /health answers."""
    return cli_process(["server", *args], workdir, env=env, port=port)


def _wait_until_ready(server: ServerProcess, path: str) -> None:
    deadline = time.monotonic() + _PROCESS_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"server exited with {server.process.returncode}:\n{server.output()}"
            )
        try:
            if httpx.get(f"{server.url}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {path} in time:\n{server.output()}")
