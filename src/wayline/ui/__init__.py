"""The web UI: pages rendered on the server from the store, with small ES modules for interaction.

Loaded only when the server builds its app (``wayline.server.app``), so ``import wayline`` never
pulls Jinja2 in.
"""

from wayline.ui.routes import add_ui_pages

__all__ = ["add_ui_pages"]
