"""A 2 GiB artifact up and down through the proxy of a live ``wayline server`` process, with the
client's and the server's peak memory measured: both must stay far below the file's size.

The client runs in a process of its own (started like a user's script, with the default
multipart settings: 2 GiB goes in 32 MiB parts) and reports its peak resident set (``VmHWM``);
the server's is read from ``/proc`` before it stops.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servers import server_process

SIZE = 2 * 1024**3
BLOCK = 1024 * 1024
PEAK_LIMIT = 200 * 1024 * 1024
CLIENT_TIMEOUT_S = 240

CLIENT_SCRIPT = """
import sys
from wayline.artifacts.proxy_repo import ProxyArtifactRepository

url, local, dst = sys.argv[1:4]
repo = ProxyArtifactRepository(url)
repo.log_artifact(local)
print(repo.download_artifacts("big.bin", dst))
with open("/proc/self/status") as status:
    print(next(line for line in status if line.startswith("VmHWM:")))
"""


def peak_bytes(status_line: str) -> int:
    """Bytes of a ``/proc/<pid>/status`` line such as ``VmHWM:    81234 kB``."""
    label, value, unit = status_line.split()
    assert (label, unit) == ("VmHWM:", "kB")
    return int(value) * 1024


def server_peak(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return peak_bytes(next(line for line in status if line.startswith("VmHWM:")))


def write_file(path: Path) -> str:
    """SIZE bytes, quickly: one random block, made unique by a counter; returns the SHA-256."""
    digest = hashlib.sha256()
    block = bytearray(os.urandom(BLOCK))
    with path.open("wb") as target:
        for index in range(SIZE // BLOCK):
            block[:8] = index.to_bytes(8, "big")
            target.write(block)
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_2_gib_artifact_round_trips_in_bounded_memory(tmp_path: Path) -> None:
    local = tmp_path / "big.bin"
    destination = tmp_path / "destination"
    dst = tmp_path / "downloaded"
    args = [
        "--backend-store-uri",
        f"sqlite:///{tmp_path / 'server.db'}",
        "--artifacts-destination",
        str(destination),
        "--no-access-log",
    ]
    try:
        expected = write_file(local)
        with server_process(args, tmp_path) as server:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}
            env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    CLIENT_SCRIPT,
                    f"{server.url}/api/2.0/mlflow-artifacts/artifacts/large",
                    str(local),
                    str(dst),
                ],
                capture_output=True,
                text=True,
                env=env,
                timeout=CLIENT_TIMEOUT_S,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-3000:] + server.output()[-3000:]
            server_bytes = server_peak(server.process.pid)
        downloaded_path, peak_line = done.stdout.strip().splitlines()[-2:]
        client_bytes = peak_bytes(peak_line)

        stored = destination / "large" / "big.bin"
        assert stored.stat().st_size == SIZE
        # The multipart path ran (its memory of unfinished uploads exists) and finished.
        assert list((tmp_path / "cache" / "wayline" / "uploads").iterdir()) == []
        assert list((destination / ".wayline-internal" / "uploads").iterdir()) == []
        downloaded = Path(downloaded_path)
        assert downloaded.stat().st_size == SIZE
        assert file_sha256(downloaded) == expected
        # Shown with -s: the figures the memory bound is about.
        client_mib, server_mib = client_bytes / 2**20, server_bytes / 2**20
        print(f"peak RSS: client {client_mib:.0f} MiB, server {server_mib:.0f} MiB")
        assert client_bytes < PEAK_LIMIT, f"client peak {client_bytes / 2**20:.0f} MiB"
        assert server_bytes < PEAK_LIMIT, f"server peak {server_bytes / 2**20:.0f} MiB"
    finally:
        # Gigabytes: not left for pytest's kept temporary directories.
        local.unlink(missing_ok=True)
        shutil.rmtree(destination, ignore_errors=True)
        shutil.rmtree(dst, ignore_errors=True)
