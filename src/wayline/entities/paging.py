"""A page of search results."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class PagedList(list[T]):
    """A list of results plus ``token``, the opaque token of the next page (None at the end)."""

    def __init__(self, items: list[T] | tuple[T, ...] = (), token: str | None = None) -> None:
        super().__init__(items)
        self.token = token
