"""The tracking server: an ASGI app speaking MLflow's REST API over Wayline's stores.

Importing this package loads FastAPI; ``import wayline`` never does.
"""

from wayline.server.app import create_app
from wayline.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
