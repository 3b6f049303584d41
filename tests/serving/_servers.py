"""``wayline models serve`` run as a real process for tests."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from servers import ServerProcess, cli_process


def serve_process(
    args: Sequence[str], workdir: Path, env: dict[str, str] | None = None
) -> AbstractContextManager[ServerProcess]:
    """``wayline models serve ARGS -p PORT`` as a real process, until /ping answers 200."""
    return cli_process(
        ["models", "serve", *args], workdir, ready_path="/ping", port_flag="-p", env=env
    )
