"""Figures for ``log_figure``: matplotlib figures saved with ``savefig``, plotly figures with
``write_html`` (``.html``) or ``write_image`` (other formats, which needs plotly's kaleido).

Neither library is imported unless the figure's own module is already loaded, so logging a
plotly figure works where matplotlib is not installed, and the other way round.
"""

from __future__ import annotations

import importlib
import posixpath
import sys
from collections.abc import Mapping
from typing import Any

from wayline.errors import InvalidParameter

PLOTLY_IMAGE_EXTENSIONS = (".png", ".jpeg", ".webp", ".svg", ".pdf")


def _is_instance(figure: Any, module: str, name: str) -> bool:
    """``isinstance(figure, module.name)`` when the library is loaded (it is, if ``figure``
    came from it), without importing it otherwise."""
    if module.split(".", maxsplit=1)[0] not in sys.modules:
        return False
    return isinstance(figure, getattr(importlib.import_module(module), name))


def save_figure(
    figure: Any, local_file: str, artifact_file: str, save_kwargs: Mapping[str, Any] | None
) -> None:
    """Write ``figure`` to ``local_file`` in the format ``artifact_file``'s extension names.

    Example::

        fig, ax = matplotlib.pyplot.subplots()
        save_figure(fig, "/tmp/x/loss.png", "plots/loss.png", None)
    """
    kwargs = dict(save_kwargs or {})
    if _is_instance(figure, "matplotlib.figure", "Figure"):
        figure.savefig(local_file, **kwargs)
        return
    if _is_instance(figure, "plotly.graph_objects", "Figure"):
        extension = posixpath.splitext(artifact_file)[1]
        if extension == ".html":
            # As MLflow: plotly.js from its CDN (a 3 MB file per figure otherwise), no browser.
            kwargs.setdefault("include_plotlyjs", "cdn")
            kwargs.setdefault("auto_open", False)
            figure.write_html(local_file, **kwargs)
        elif extension in PLOTLY_IMAGE_EXTENSIONS:
            figure.write_image(local_file, **kwargs)
        else:
            raise InvalidParameter(
                f"Unsupported file extension for plotly figure: '{extension}'; use .html or "
                f"one of {', '.join(PLOTLY_IMAGE_EXTENSIONS)}."
            )
        return
    raise InvalidParameter(
        f"Unsupported figure object type: '{type(figure)}'; log_figure takes a "
        "matplotlib.figure.Figure (pip install matplotlib) or a plotly.graph_objects.Figure "
        "(pip install plotly)."
    )


__all__ = ["PLOTLY_IMAGE_EXTENSIONS", "save_figure"]
