"""``Store``: what every backend implements, the tracking and the registry interfaces together.

The registry lives in the tracking database (as in MLflow), so one backend object serves both;
``tracking_store`` returns one of these.
"""

from __future__ import annotations

from abc import ABC

from wayline.store.registry import RegistryStore
from wayline.store.tracking import TrackingStore


class Store(TrackingStore, RegistryStore, ABC):
    """A tracking store that is also a registry store (``SqlStore``, ``RestStore``)."""


__all__ = ["Store"]
