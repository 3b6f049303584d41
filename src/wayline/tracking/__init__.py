"""Tracking: the Client, the fluent API's state, async logging and run context."""

from wayline.tracking.client import Client, MlflowClient
from wayline.tracking.uri import get_tracking_uri, set_tracking_uri

__all__ = ["Client", "MlflowClient", "get_tracking_uri", "set_tracking_uri"]
