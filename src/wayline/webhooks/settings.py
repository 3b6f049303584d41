"""How webhook deliveries behave: timeout, retries, backoff and the private-address switch.

Read once from the environment when a dispatcher is built (``WebhookSettings.from_env``); the
MLflow name in brackets is read when the Wayline one is absent:

* ``WAYLINE_WEBHOOK_TIMEOUT`` (``MLFLOW_WEBHOOK_REQUEST_TIMEOUT``): seconds per attempt, 5;
* ``WAYLINE_WEBHOOK_MAX_RETRIES`` (``MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES``): retries after the
  first attempt, 3;
* ``WAYLINE_WEBHOOK_RETRY_BACKOFF``: seconds before the first retry, doubling after, 1;
* ``WAYLINE_WEBHOOK_ALLOW_PRIVATE_IPS`` (``MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS``): allow receivers
  on loopback and private networks, false.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from wayline.errors import WaylineError
from wayline.webhooks.urls import private_ips_allowed

_TIMEOUT_S = 5.0
_MAX_RETRIES = 3
_RETRY_BACKOFF_S = 1.0


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    timeout: float = _TIMEOUT_S
    max_retries: int = _MAX_RETRIES
    retry_backoff: float = _RETRY_BACKOFF_S
    allow_private_ips: bool = False
    # Events waiting beyond this are dropped (and logged): a dead receiver must not grow memory.
    max_queued: int = 10_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        """Settings from ``environ`` (default ``os.environ``); absent variables keep defaults."""
        env = os.environ if environ is None else environ
        timeout = _number(
            env, ("WAYLINE_WEBHOOK_TIMEOUT", "MLFLOW_WEBHOOK_REQUEST_TIMEOUT"), _TIMEOUT_S
        )
        retries = _number(
            env,
            ("WAYLINE_WEBHOOK_MAX_RETRIES", "MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES"),
            _MAX_RETRIES,
        )
        backoff = _number(env, ("WAYLINE_WEBHOOK_RETRY_BACKOFF",), _RETRY_BACKOFF_S)
        if timeout <= 0 or retries < 0 or retries != int(retries) or backoff < 0:
            raise WaylineError(
                "Invalid webhook settings: WAYLINE_WEBHOOK_TIMEOUT must be > 0 seconds,"
                " WAYLINE_WEBHOOK_MAX_RETRIES a whole number >= 0 and"
                f" WAYLINE_WEBHOOK_RETRY_BACKOFF >= 0 seconds (got {timeout:g}, {retries:g},"
                f" {backoff:g})."
            )
        return cls(
            timeout=timeout,
            max_retries=int(retries),
            retry_backoff=backoff,
            allow_private_ips=private_ips_allowed(env),
        )


def _number(env: Mapping[str, str], names: tuple[str, ...], default: float) -> float:
    for name in names:
        value = env.get(name)
        if value is not None and value.strip():
            try:
                return float(value)
            except ValueError:
                raise WaylineError(
                    f"Invalid value {value!r} for {name}: expected a number."
                ) from None
    return default


__all__ = ["WebhookSettings"]
