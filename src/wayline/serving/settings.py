"""The scoring server's settings: one frozen object, read from the environment once.

Worker processes (``--workers N``) build their app from the environment they inherit, so the
settings travel there as ``WAYLINE_SCORING_*`` variables (``to_env``/``from_env``). MLflow's
``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`` and ``SERVING_MODEL_CONFIG`` are read too.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wayline.errors import InvalidParameter

DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024
DEFAULT_TIMEOUT_S = 60.0
MODEL_URI_ENV = "WAYLINE_SCORING_MODEL_URI"
TIMEOUT_ENVS = ("WAYLINE_SCORING_SERVER_REQUEST_TIMEOUT", "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT")
MAX_BYTES_ENV = "WAYLINE_SCORING_MAX_REQUEST_BYTES"
MAX_ROWS_ENV = "WAYLINE_SCORING_MAX_BATCH_ROWS"
THREADS_ENV = "WAYLINE_SCORING_THREADS"
ACCESS_LOG_ENV = "WAYLINE_SCORING_ACCESS_LOG"
MODEL_CONFIG_ENV = "SERVING_MODEL_CONFIG"


@dataclass(frozen=True)
class ScoringSettings:
    """How the scoring server treats requests.

    Example::

        ScoringSettings(timeout_s=5, max_request_bytes=10 * 1024 * 1024, max_batch_rows=10_000)
    """

    # Per request: reading the body, parsing it and predicting. Past it the answer is 504.
    timeout_s: float = DEFAULT_TIMEOUT_S
    # Larger bodies are refused with 413 before they are read.
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    # Rows (or items) one request may carry; None for no limit.
    max_batch_rows: int | None = None
    # Threads running predictions (parsing and encoding too, so the event loop stays free to
    # answer /ping); None for Python's default (CPU count + 4, at most 32).
    threads: int | None = None
    access_log: bool = False
    model_config: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise InvalidParameter(f"The request timeout must be positive, not {self.timeout_s}")
        if self.max_request_bytes <= 0:
            raise InvalidParameter(
                f"The request size limit must be positive, not {self.max_request_bytes}"
            )
        if self.max_batch_rows is not None and self.max_batch_rows <= 0:
            raise InvalidParameter(
                f"The batch row limit must be positive, not {self.max_batch_rows}"
            )

    def to_env(self) -> dict[str, str]:
        """These settings as environment variables (for worker processes)."""
        env = {
            TIMEOUT_ENVS[0]: str(self.timeout_s),
            MAX_BYTES_ENV: str(self.max_request_bytes),
            ACCESS_LOG_ENV: "true" if self.access_log else "false",
        }
        if self.max_batch_rows is not None:
            env[MAX_ROWS_ENV] = str(self.max_batch_rows)
        if self.threads is not None:
            env[THREADS_ENV] = str(self.threads)
        if self.model_config is not None:
            env[MODEL_CONFIG_ENV] = json.dumps(dict(self.model_config))
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ScoringSettings:
        """Settings from ``environ`` (default ``os.environ``); absent variables keep defaults."""
        env = os.environ if environ is None else environ

        def number(names: tuple[str, ...], kind: type[float] | type[int]) -> Any:
            for name in names:
                if value := env.get(name):
                    try:
                        return kind(value)
                    except ValueError:
                        raise InvalidParameter(
                            f"{name}={value!r} is not a number: set it to e.g. 60."
                        ) from None
            return None

        timeout = number(TIMEOUT_ENVS, float)
        max_bytes = number((MAX_BYTES_ENV,), int)
        config = env.get(MODEL_CONFIG_ENV)
        return cls(
            timeout_s=DEFAULT_TIMEOUT_S if timeout is None else timeout,
            max_request_bytes=DEFAULT_MAX_REQUEST_BYTES if max_bytes is None else max_bytes,
            max_batch_rows=number((MAX_ROWS_ENV,), int),
            threads=number((THREADS_ENV,), int),
            access_log=env.get(ACCESS_LOG_ENV, "false").lower() in ("1", "true", "yes"),
            model_config=json.loads(config) if config else None,
        )


__all__ = ["MODEL_URI_ENV", "ScoringSettings"]
