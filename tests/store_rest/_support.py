"""Helpers shared by the REST store tests (import them relatively: ``from ._support``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from wayline.store.rest import RestSettings, RestStore

BASE_URL = "http://tracking.test:5000"

# Real schedule shape, but no jitter so the recorded waits are exact.
FAST = RestSettings(max_retries=3, backoff_factor=0.01, backoff_jitter=0.0)

Answer = httpx.Response | Exception


@dataclass
class Scripted:
    store: RestStore
    requests: list[httpx.Request] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)


ScriptedFactory = Callable[..., Scripted]
