"""HTML form posts: parsing ``application/x-www-form-urlencoded`` bodies and redirecting back.

The UI's forms are small (a name, a few run ids), so the body is read whole, under the server's
body-size limit that ``SecurityMiddleware`` enforces, and parsed with the standard library rather
than a multipart dependency.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import RedirectResponse

from wayline.errors import InvalidParameter


class Form:
    """The fields of one posted form; a field may repeat (``run_id`` of each selected run)."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self._fields.get(name)
        return values[0] if values else default

    def required(self, name: str) -> str:
        value = self.get(name).strip()
        if not value:
            raise InvalidParameter(f"The form field {name!r} must not be empty.")
        return value

    def all(self, name: str) -> list[str]:
        return [value for value in self._fields.get(name, []) if value]


async def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidParameter("The UI's forms post application/x-www-form-urlencoded bodies.")
    body = (await request.body()).decode("utf-8", errors="replace")
    return Form(parse_qs(body, keep_blank_values=True))


def local_path(target: str, fallback: str) -> str:
    """``target`` if it is a path on this server, else ``fallback``: a form cannot redirect a
    user to another site (``//evil.example`` and ``https://…`` are refused)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return fallback


def see_other(path: str) -> RedirectResponse:
    """Post/redirect/get: after a form post the browser loads ``path`` with GET, so reloading
    the page does not post the form again."""
    return RedirectResponse(path, status_code=303)


__all__ = ["Form", "local_path", "read_form", "see_other"]
