"""``ServerSettings``: everything the tracking server is configured with, resolved once.

The CLI builds it from its flags; the app factory only reads it. Uvicorn imports the app in each
worker process, so the CLI hands the settings over through one environment variable holding them
as JSON (``to_env``/``from_env``) rather than through module globals.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

# Clients are handed mlflow-artifacts:/ URIs and upload through the server, so they never need
# storage credentials (DESIGN.md, "Defaults").
DEFAULT_ARTIFACT_ROOT = "mlflow-artifacts:/"
DEFAULT_BACKEND_STORE_URI = "sqlite:///wayline.db"
DEFAULT_ARTIFACTS_DESTINATION = "./wayline-artifacts"
# Generous for JSON (a log-batch is at most 1 MB), small enough that one request cannot make a
# worker hold gigabytes. The artifact proxy streams uploads and is exempt.
DEFAULT_MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024
# How long a stopping server lets requests in flight finish before it closes their connections.
DEFAULT_GRACEFUL_SHUTDOWN_S = 30.0
X_FRAME_OPTIONS = ("SAMEORIGIN", "DENY", "NONE")
SETTINGS_ENV_VAR = "_WAYLINE_SERVER_SETTINGS"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How a Wayline tracking server runs.

    ``backend_store_uri`` is the tracking store (a SQLAlchemy database URI);
    ``default_artifact_root`` is where experiments created without an ``artifact_location``
    keep artifacts (``<root>/<experiment_id>``). ``registry_store_uri`` defaults to the backend
    store. With ``serve_artifacts`` the server proxies ``mlflow-artifacts:/`` URIs to
    ``artifacts_destination``; ``artifacts_only`` serves nothing but that proxy.
    ``allowed_hosts`` and ``cors_allowed_origins`` are None for MLflow's defaults (loopback
    names, private addresses and the bound host; localhost origins), ``("*",)`` for anything.
    ``db_pool_size``/``db_max_overflow`` size each worker's connection pool (None: by the number
    of workers). ``metrics_dir`` is where worker processes share Prometheus counters (set by the
    CLI when it starts several workers). ``truncate_long_values`` cuts run param/tag values
    over MLflow's limits instead of refusing them, as MLflow's server does by default.

    Example::

        settings = ServerSettings(backend_store_uri="sqlite:///runs.db", port=8080)
        app = create_app(settings)
    """

    backend_store_uri: str = DEFAULT_BACKEND_STORE_URI
    default_artifact_root: str = DEFAULT_ARTIFACT_ROOT
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    registry_store_uri: str | None = None
    artifacts_destination: str = DEFAULT_ARTIFACTS_DESTINATION
    serve_artifacts: bool = True
    artifacts_only: bool = False
    allowed_hosts: tuple[str, ...] | None = None
    cors_allowed_origins: tuple[str, ...] | None = None
    x_frame_options: str = "SAMEORIGIN"
    max_request_body_bytes: int = DEFAULT_MAX_REQUEST_BODY_BYTES
    access_log: bool = True
    graceful_shutdown_s: float = DEFAULT_GRACEFUL_SHUTDOWN_S
    db_pool_size: int | None = None
    db_max_overflow: int | None = None
    metrics_dir: str | None = None
    truncate_long_values: bool = True

    def __post_init__(self) -> None:
        if not self.backend_store_uri.strip():
            raise ValueError("backend_store_uri must not be empty")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")
        if self.max_request_body_bytes < 1:
            raise ValueError("max_request_body_bytes must be positive")
        if self.x_frame_options.upper() not in X_FRAME_OPTIONS:
            raise ValueError(f"x_frame_options must be one of {', '.join(X_FRAME_OPTIONS)}")
        if self.graceful_shutdown_s < 0:
            raise ValueError("graceful_shutdown_s must not be negative")
        for name in ("db_pool_size", "db_max_overflow"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")

    @property
    def registry_uri(self) -> str:
        """The model registry's store: the backend store unless one is named."""
        return self.registry_store_uri or self.backend_store_uri

    def pool_options(self) -> dict[str, int]:
        """Connection-pool sizes for one worker's engine (PostgreSQL, MySQL, SQLite files).

        Every worker has its own pool, so the defaults shrink as workers are added: one worker
        keeps SQLAlchemy's 5 (+10 overflow), and the total across workers stays near 20 (+40)
        so that, say, 8 workers stay well inside PostgreSQL's default of 100 connections.
        """
        workers = self.workers
        size = self.db_pool_size
        overflow = self.db_max_overflow
        return {
            "pool_size": size if size is not None else max(2, min(5, 20 // workers)),
            "max_overflow": overflow if overflow is not None else max(2, min(10, 40 // workers)),
        }

    def to_env(self) -> dict[str, str]:
        """The environment entries that let a worker process rebuild these settings."""
        return {SETTINGS_ENV_VAR: json.dumps(asdict(self))}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Settings written by ``to_env``; the defaults when the variable is absent."""
        raw = (os.environ if environ is None else environ).get(SETTINGS_ENV_VAR)
        if not raw:
            return cls()
        data = json.loads(raw)
        known = {field.name for field in fields(cls)}
        # JSON has no tuples: lists come back as the tuples they were written from.
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in data.items()
            if key in known
        }
        return cls(**values)


__all__ = [
    "DEFAULT_ARTIFACTS_DESTINATION",
    "DEFAULT_ARTIFACT_ROOT",
    "DEFAULT_BACKEND_STORE_URI",
    "DEFAULT_GRACEFUL_SHUTDOWN_S",
    "DEFAULT_MAX_REQUEST_BODY_BYTES",
    "ServerSettings",
]
