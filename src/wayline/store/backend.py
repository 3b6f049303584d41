"""``Store``: what every backend implements: the tracking, registry and trace interfaces together.

The registry and the traces live in the tracking database (as in MLflow), so one backend object
serves all three; ``tracking_store`` returns one of these.
"""

from __future__ import annotations

from abc import ABC

from wayline.store.registry import RegistryStore
from wayline.store.traces import TraceStore
from wayline.store.tracking import TrackingStore


class Store(TrackingStore, RegistryStore, TraceStore, ABC):
    """A tracking store that is also a registry and a trace store (``SqlStore``, ``RestStore``)."""


__all__ = ["Store"]
