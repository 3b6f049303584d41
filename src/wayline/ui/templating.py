"""The Jinja2 environment of the UI and the filters its templates use.

Autoescaping is on for every template whatever its name, and no template marks user data
``|safe``: run names, tags and params are always shown as text. The one piece of HTML built in
Python, a run description rendered from Markdown, comes from a renderer with raw HTML disabled
(``render_markdown``) and is passed as ``Markup`` explicitly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.responses import HTMLResponse

import wayline

# The pages load scripts, styles and images from this server only: a value that slipped past
# escaping still could not run inline script or reach another host. Inline styles are allowed
# because Plotly sets them on the elements it draws; a style cannot run code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


STATIC_DIR = Path(__file__).parent / "static"
# Static files are requested with ``?v=<static_version()>``: a changed file gets a new URL.
STATIC_CACHE = "public, max-age=31536000, immutable"


def format_timestamp(millis: int | None) -> str:
    """``1700000000000`` -> ``"2023-11-14 22:13:20"`` (UTC); empty for None."""
    if millis is None:
        return ""
    moment = dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def format_duration(start: int | None, end: int | None) -> str:
    """A run's duration as ``"1h 2m"``, ``"3m 4s"`` or ``"5.2s"``; empty while unknown."""
    if start is None or end is None or end < start:
        return ""
    seconds = (end - start) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_number(value: float) -> str:
    """Metric values to 6 significant digits, as a table cell shows them."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def render_markdown(text: str) -> Markup:
    """``text`` as HTML from Markdown, with raw HTML shown as text and unsafe links dropped.

    markdown-it-py comes with rich; its ``js-default`` preset disables raw HTML and validates
    link schemes (no ``javascript:``). Without it the text is shown preformatted.
    """
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return Markup("<pre class='description'>{}</pre>").format(text)
    return Markup(MarkdownIt("js-default").render(text))


def static_version() -> str:
    """What the pages add to static URLs (``?v=``): a digest of the static files' names, sizes
    and modification times, so that the browser may cache them for long (``STATIC_CACHE``) and
    still fetches them anew once they change."""
    digest = hashlib.sha256(wayline.__version__.encode())
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("wayline.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["timestamp"] = format_timestamp
    env.filters["number"] = format_number
    env.globals["duration"] = format_duration
    env.globals["version"] = static_version()
    return env


class Pages:
    """Renders the UI's templates into HTML responses."""

    def __init__(self) -> None:
        self.env = _environment()

    def render(
        self, template: str, context: Mapping[str, Any], *, status_code: int = 200
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(context)
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "content-security-policy": CONTENT_SECURITY_POLICY,
                "cache-control": "no-store",
            },
        )


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "STATIC_CACHE",
    "STATIC_DIR",
    "Pages",
    "format_duration",
    "format_number",
    "format_timestamp",
    "render_markdown",
    "static_version",
]
