"""`wayline artifacts` end to end: SQLite with local artifacts, and a live server's proxy."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from servers import live_server
from wayline.artifacts.proxy_repo import close_clients
from wayline.cli.main import cli
from wayline.server import ServerSettings, create_app
from wayline.store.resolve import clear_cache
from wayline.tracking.client import Client


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def failing(*args: str) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run_id(store_uri: str, tmp_path: Path) -> str:
    client = Client(store_uri)
    experiment = client.create_experiment("art", artifact_location=str(tmp_path / "artifacts"))
    return client.create_run(experiment).info.run_id


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    folder = tmp_path / "outputs"
    (folder / "plots").mkdir(parents=True)
    (folder / "metrics.json").write_text('{"rmse": 0.5}')
    (folder / "plots" / "roc.png").write_bytes(b"\x89PNG" + bytes(996))
    return folder


@pytest.fixture
def server_uri(tmp_path: Path) -> Iterator[str]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "destination"),
        access_log=False,
    )
    with live_server(create_app(settings)) as url:
        yield url
    close_clients()
    clear_cache()  # the REST store of this server's URI, with its connections


def test_log_list_and_download(store_uri: str, run_id: str, outputs: Path, tmp_path: Path) -> None:
    common = ["--run-id", run_id, "--tracking-uri", store_uri]
    metrics = str(outputs / "metrics.json")
    out = invoke("artifacts", "log-artifact", "--local-file", metrics, *common)
    assert f"as metrics.json in run {run_id}" in out
    invoke("artifacts", "log-artifacts", "--local-dir", str(outputs), "-a", "outputs", *common)

    table = invoke("artifacts", "list", *common)
    assert "metrics.json" in table
    assert "outputs/" in table
    assert "13 bytes" in table  # rich's decimal size of the 13-byte file
    listed = json.loads(invoke("artifacts", "list", "-a", "outputs/plots", "--json", *common))
    assert listed == [{"path": "outputs/plots/roc.png", "is_dir": False, "file_size": 1000}]
    assert "No artifacts under nowhere" in invoke("artifacts", "list", "-a", "nowhere", *common)

    dst = tmp_path / "dst"
    out = invoke("artifacts", "download", "-a", "outputs", "--dst-path", str(dst), *common)
    local = Path(out.strip())
    assert local == dst / "outputs"
    assert (local / "plots" / "roc.png").read_bytes() == b"\x89PNG" + bytes(996)
    assert (local / "metrics.json").read_text() == '{"rmse": 0.5}'


def test_download_by_runs_uri(store_uri: str, run_id: str, outputs: Path, tmp_path: Path) -> None:
    invoke(
        "artifacts", "log-artifacts", "-l", str(outputs), "-r", run_id, "--tracking-uri", store_uri
    )
    uri = f"runs:/{run_id}/plots/roc.png"
    out = invoke(
        "artifacts", "download", "-u", uri, "-d", str(tmp_path / "d"), "--tracking-uri", store_uri
    )
    assert Path(out.strip()).read_bytes() == (outputs / "plots" / "roc.png").read_bytes()


def test_through_the_servers_proxy(server_uri: str, outputs: Path, tmp_path: Path) -> None:
    client = Client(server_uri)
    run = client.create_run(client.create_experiment("proxied")).info
    assert run.artifact_uri.startswith("mlflow-artifacts:/")
    common = ["-r", run.run_id, "--tracking-uri", server_uri]
    invoke("artifacts", "log-artifacts", "-l", str(outputs), *common)
    invoke("artifacts", "log-artifact", "-l", str(outputs / "metrics.json"), "-a", "again", *common)
    listed = json.loads(invoke("artifacts", "list", "--json", *common))
    assert [entry["path"] for entry in listed] == ["again", "metrics.json", "plots"]
    # The files landed in the server's destination, under the run's proxied root.
    stored = tmp_path / "destination" / run.artifact_uri.removeprefix("mlflow-artifacts:/")
    assert (stored / "again" / "metrics.json").read_text() == '{"rmse": 0.5}'

    out = invoke("artifacts", "download", "-d", str(tmp_path / "dst"), *common)
    assert (Path(out.strip()) / "plots" / "roc.png").stat().st_size == 1000


def test_usage_and_store_errors_are_one_line(store_uri: str, outputs: Path) -> None:
    result = failing("artifacts", "download", "--tracking-uri", store_uri)
    assert result.exit_code == 2
    assert "--run-id" in result.output and "--artifact-uri" in result.output
    missing_run = "0" * 32
    args = ["-l", str(outputs), "-r", missing_run, "--tracking-uri", store_uri]
    result = failing("artifacts", "log-artifacts", *args)
    assert result.exit_code == 1
    assert "RESOURCE_DOES_NOT_EXIST" in result.output
    result = failing("artifacts", "log-artifact", "-l", str(outputs), "-r", missing_run)
    assert result.exit_code == 2  # a directory is no --local-file
    assert "is a directory" in result.output


def test_piped_output_has_no_progress_bar(store_uri: str, run_id: str, outputs: Path) -> None:
    out = invoke(
        "artifacts", "log-artifacts", "-l", str(outputs), "-r", run_id, "--tracking-uri", store_uri
    )
    assert "Uploading" not in out
    assert out.count("\n") == 1


def _in_terminal(args: list[str], cwd: Path) -> str:
    """Run ``wayline ARGS`` with a pseudo-terminal as its stdout; returns what it drew."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-c", "from wayline.cli.main import cli; cli()", *args]
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    with subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd, env=env
    ) as process:
        os.close(terminal)
        drawn = bytearray()
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            drawn += chunk
        assert process.wait(timeout=60) == 0, drawn.decode(errors="replace")
    os.close(controller)
    return drawn.decode(errors="replace")


def test_a_terminal_gets_a_progress_bar(store_uri: str, run_id: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"b" * (3 * 1024 * 1024))  # 3.1 MB in rich's decimal units
    common = ["-r", run_id, "--tracking-uri", store_uri]
    drawn = _in_terminal(["artifacts", "log-artifact", "-l", str(big), *common], tmp_path)
    assert "Uploading big.bin" in drawn
    assert "3.1/3.1 MB" in drawn  # bytes moved out of the total, drawn as the bar fills

    dst = tmp_path / "dst"
    download = ["artifacts", "download", "-a", "big.bin", "-d", str(dst), *common]
    drawn = _in_terminal(download, tmp_path)
    assert "Downloading" in drawn
    assert "3.1/3.1 MB" in drawn
    assert (dst / "big.bin").stat().st_size == big.stat().st_size

    quiet = _in_terminal(["artifacts", "log-artifact", "-q", "-l", str(big), *common], tmp_path)
    assert "Uploading" not in quiet
