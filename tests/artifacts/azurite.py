"""Azure Blob Storage for tests: Azurite (Microsoft's storage emulator) on a loopback port.

* ``azurite`` (session): the emulator's blob service, installed from npm on first use into
  ``~/.cache/wayline-tests/azurite`` (``WAYLINE_TEST_CACHE`` moves the cache) and started on a
  free port with telemetry off. Without Node.js the tests that need it are skipped, or fail when
  ``CI`` is set, like the database services.
* ``wasbs_root``: ``wasbs://<new container>@devstoreaccount1.blob.core.windows.net/root`` with
  ``AZURE_STORAGE_CONNECTION_STRING`` pointing at the emulator, as a deployment would set it.
* ``new_container``, ``wasbs_uri``, ``container_files``: the pieces, for a suite that builds its
  own roots and reads the container directly.

adlfs talks to Azurite exactly as it talks to Azure: nothing in Wayline is patched. Tests moving
files over 1 MiB carry ``large_azure_blocks`` (see there). A conftest
uses the fixtures with ``from .azurite import azurite, wasbs_root  # noqa: F401``.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from servers import free_port

AZURITE_VERSION = "3.37.0"
# Azurite's fixed development account (public, documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_INSTALL_TIMEOUT_S = 600

# adlfs stages blocks over 1 MiB as raw bytes, which aiohttp meets with a ResourceWarning (about
# blocking an event loop: adlfs runs its own, in a thread). The suite turns warnings into errors,
# so tests moving big files through Azure carry this mark.
large_azure_blocks = pytest.mark.filterwarnings(
    "ignore:Sending a large body directly:ResourceWarning"
)
_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Azurite:
    """A running emulator: its blob endpoint and the connection string that reaches it."""

    blob_endpoint: str

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
    pytest.skip(message)


def _cache_dir() -> Path:
    root = os.environ.get("WAYLINE_TEST_CACHE") or Path.home() / ".cache" / "wayline-tests"
    return Path(root) / "azurite"


def _installed_azurite() -> Path:
    """The azurite-blob launcher, installed from npm (once; a lock serialises sessions)."""
    folder = _cache_dir()
    launcher = folder / "node_modules" / ".bin" / "azurite-blob"
    if launcher.exists():
        return launcher
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("Azurite needs npm to install it: apt-get install npm")
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not launcher.exists():
            install = [str(npm), "install", "--prefix", str(folder), "--no-audit", "--no-fund"]
            done = subprocess.run(
                [*install, "--no-update-notifier", f"azurite@{AZURITE_VERSION}"],
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIMEOUT_S,
                check=False,
            )
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
                _unavailable(f"npm could not install azurite@{AZURITE_VERSION}: {' / '.join(tail)}")
    return launcher


def _wait_until_listening(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Azurite exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(endpoint, timeout=1.0)  # any answer (400: no such resource) means up
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"Azurite did not listen in time:\n{log.read_text()}")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's blob service on a free loopback port, for the whole session."""
    if shutil.which("node") is None:
        _unavailable("Azure tests need Node.js for Azurite: apt-get install nodejs npm")
    pytest.importorskip("adlfs", reason="pip install 'wayline[azure]' for the Azure tests")
    launcher = _installed_azurite()
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    log = workdir / "azurite.log"
    command = [str(launcher), "--blobHost", "127.0.0.1", "--blobPort", str(port)]
    # In memory, no telemetry (nothing leaves the machine), and no refusal of the newer API
    # versions that the current Azure SDK sends.
    command += ["--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose"]
    command += ["--silent"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=output, cwd=workdir)
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    try:
        _wait_until_listening(process, endpoint, log)
        yield Azurite(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def new_container(azurite: Azurite) -> str:
    """A new, empty container (``wl-<hex>``) in the emulator's account; its name."""
    container = f"wl-{uuid.uuid4().hex[:12]}"
    _filesystem(azurite).mkdir(container)
    return container


def wasbs_uri(container: str, path: str = "") -> str:
    """MLflow's URI form for ``path`` in ``container`` of the emulator's account."""
    return f"wasbs://{container}@{ACCOUNT}.blob.core.windows.net/{path}".rstrip("/")


def container_files(azurite: Azurite, container: str) -> list[str]:
    """Every blob in ``container`` (paths relative to it), read with adlfs, not Wayline."""
    found = _filesystem(azurite).find(container)
    return sorted(str(path).removeprefix(f"{container}/") for path in found)


def _filesystem(azurite: Azurite) -> Any:
    import fsspec

    # A fresh instance each time: fsspec caches filesystems, and listings, by their options.
    return fsspec.filesystem(
        "abfs", connection_string=azurite.connection_string, skip_instance_cache=True
    )


@pytest.fixture
def wasbs_root(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    """``wasbs://<new container>@devstoreaccount1.blob.core.windows.net/root``, with the
    connection string in the environment, as a deployment would set it."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return wasbs_uri(new_container(azurite), "root")
