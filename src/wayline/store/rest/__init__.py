"""The tracking store over HTTP: ``RestStore`` and the settings of its HTTP client."""

from wayline.store.rest.client import RestSettings, rest_settings_from_env
from wayline.store.rest.store import RestStore

__all__ = ["RestSettings", "RestStore", "rest_settings_from_env"]
