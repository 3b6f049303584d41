"""What a paged, sortable, searchable list page keeps in its query string: ``q``, ``sort`` and
``dir``, and the page tokens (the current one and those before it, for a Previous link).

A page subclasses ``ListState`` with its sort keys and default order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Self
from urllib.parse import urlencode


@dataclass(frozen=True)
class ListState:
    # Sort name in the URL -> the store's order-by key.
    SORTS: ClassVar[Mapping[str, str]] = {"name": "name"}
    DEFAULT_SORT: ClassVar[str] = "name"
    DEFAULT_DESCENDING: ClassVar[bool] = False

    # Built by from_query, which fills in the subclass's default order.
    search: str = ""
    sort: str = ""
    descending: bool = False
    page_token: str = ""
    previous_tokens: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Self:
        prev = query.get("prev")
        sort = query.get("sort", cls.DEFAULT_SORT)
        default_dir = "desc" if cls.DEFAULT_DESCENDING else "asc"
        return cls(
            search=query.get("q", "").strip(),
            sort=sort if sort in cls.SORTS else cls.DEFAULT_SORT,
            descending=query.get("dir", default_dir) == "desc",
            page_token=query.get("page_token", ""),
            previous_tokens=tuple(prev.split(",")) if prev is not None else (),
        )

    def is_default_order(self) -> bool:
        return self.sort == self.DEFAULT_SORT and self.descending == self.DEFAULT_DESCENDING

    def order_by(self) -> list[str]:
        return [f"{self.SORTS[self.sort]} {'DESC' if self.descending else 'ASC'}"]

    def query(self, **changes: Any) -> str:
        """The query string of this state with ``changes``; any change but paging goes back
        to the first page."""
        state = replace(self, **changes)
        if not {"page_token", "previous_tokens"} & changes.keys():
            state = replace(state, page_token="", previous_tokens=())
        pairs = [("q", state.search)] if state.search else []
        if not state.is_default_order():
            pairs += [("sort", state.sort), ("dir", "desc" if state.descending else "asc")]
        if state.page_token:
            pairs += [("page_token", state.page_token), ("prev", ",".join(state.previous_tokens))]
        return "?" + urlencode(pairs)

    def sort_link(self, sort: str) -> str:
        """Sorting by ``sort``: flips the direction of the current sort; names start A-Z,
        other keys newest first."""
        descending = not self.descending if sort == self.sort else sort != "name"
        return self.query(sort=sort, descending=descending)

    def next_link(self, token: str | None) -> str | None:
        if not token:
            return None
        return self.query(
            page_token=token, previous_tokens=(*self.previous_tokens, self.page_token)
        )

    def previous_link(self) -> str | None:
        if not self.previous_tokens:
            return None
        *before, last = self.previous_tokens
        return self.query(page_token=last, previous_tokens=tuple(before))


__all__ = ["ListState"]
