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
SETTINGS_ENV_VAR = "_WAYLINE_SERVER_SETTINGS"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How a Wayline tracking server runs.

    ``backend_store_uri`` is the tracking store (a SQLAlchemy database URI);
    ``default_artifact_root`` is where experiments created without an ``artifact_location``
    keep artifacts (``<root>/<experiment_id>``). ``registry_store_uri`` defaults to the backend
    store. With ``serve_artifacts`` the server proxies ``mlflow-artifacts:/`` URIs to
    ``artifacts_destination``; ``artifacts_only`` serves nothing but that proxy.
    ``allowed_hosts`` and ``cors_allowed_origins`` are None for MLflow's defaults.

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

    def __post_init__(self) -> None:
        if not self.backend_store_uri.strip():
            raise ValueError("backend_store_uri must not be empty")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")

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
    "ServerSettings",
]
