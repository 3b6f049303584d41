"""The runs table of an experiment page: its state in the URL, and the rows of one page.

Everything a user can change (filter, sort, columns, page, lifecycle view, page size) is a query
parameter, so a table state is a link and back/forward walk through states. One page is one
``search_runs`` call: no per-run query, however many runs the experiment holds.

Columns are named ``<kind>.<key>`` with kind ``attributes``, ``metrics``, ``params`` or ``tags``
(``metrics.val loss``: the key is everything after the first dot).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from wayline.entities import Run, ViewType
from wayline.ui.templating import format_number

PARENT_TAG = "mlflow.parentRunId"
PAGE_SIZES = (25, 50, 100, 250, 1000)
DEFAULT_PAGE_SIZE = 100
DEFAULT_SORT = "attributes.start_time"
# With no column chosen, the table shows the page's metrics and params, at most this many:
# a run logging 5,000 params must not make a 5,000-column table.
DEFAULT_COLUMN_LIMIT = 40
KINDS = ("metrics", "params", "tags")
# The attribute columns every table shows, with the attribute they sort on (None: not sortable).
ATTRIBUTE_COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("run_name", "Run name", "attributes.run_name"),
    ("status", "Status", "attributes.status"),
    ("start_time", "Created", "attributes.start_time"),
    ("duration", "Duration", None),
    ("user_id", "User", "attributes.user_id"),
    ("source", "Source", "tags.mlflow.source.name"),
)
_VIEWS = {
    "active": ViewType.ACTIVE_ONLY,
    "deleted": ViewType.DELETED_ONLY,
    "all": ViewType.ALL,
}


@dataclass(frozen=True)
class TableState:
    """What the URL says the table shows."""

    filter: str = ""
    sort: str = DEFAULT_SORT
    descending: bool = True
    columns: tuple[str, ...] | None = None  # None: the default columns
    page_token: str = ""
    previous_tokens: tuple[str, ...] = ()  # the tokens of the pages before this one
    page_size: int = DEFAULT_PAGE_SIZE
    view: str = "active"

    @classmethod
    def from_query(cls, query: Mapping[str, str], columns: Sequence[str]) -> TableState:
        """The state in a request's query; ``columns`` holds every ``c`` value (an empty ``c``
        marks a chosen set, so choosing no column at all is a state too)."""
        size = query.get("per_page", "")
        sort = query.get("sort", DEFAULT_SORT)
        prev = query.get("prev")
        return cls(
            filter=query.get("filter", "").strip(),
            sort=sort if split_column(sort) else DEFAULT_SORT,
            descending=query.get("dir", "desc") != "asc",
            columns=(
                tuple(dict.fromkeys(c for c in columns if split_column(c))) if columns else None
            ),
            page_token=query.get("page_token", ""),
            previous_tokens=tuple(prev.split(",")) if prev is not None else (),
            page_size=int(size)
            if size.isdigit() and int(size) in PAGE_SIZES
            else DEFAULT_PAGE_SIZE,
            view=query.get("view", "active") if query.get("view") in _VIEWS else "active",
        )

    @property
    def view_type(self) -> ViewType:
        return _VIEWS[self.view]

    @property
    def page_number(self) -> int:
        return len(self.previous_tokens) + 1

    def order_by(self) -> list[str]:
        kind, key = split_column(self.sort) or ("attributes", "start_time")
        quoted = quote_key(key)
        if quoted is None:
            kind, quoted = "attributes", "start_time"
        direction = "DESC" if self.descending else "ASC"
        clauses = [f"{kind}.{quoted} {direction}"]
        if f"{kind}.{quoted}" != DEFAULT_SORT:
            clauses.append("attributes.start_time DESC")
        return clauses

    def query(self, **changes: object) -> str:
        """The query string of this state with ``changes`` applied (page position resets unless
        a change sets it)."""
        state = replace(self, **changes)  # type: ignore[arg-type]
        if not {"page_token", "previous_tokens"} & changes.keys():
            state = replace(state, page_token="", previous_tokens=())
        return "?" + urlencode(state._pairs())

    def next_page(self, token: str) -> str:
        return self.query(
            page_token=token, previous_tokens=(*self.previous_tokens, self.page_token)
        )

    def previous_page(self) -> str | None:
        if not self.previous_tokens:
            return None
        *before, last = self.previous_tokens
        return self.query(page_token=last, previous_tokens=tuple(before))

    def sort_link(self, column: str) -> str:
        """Clicking a header sorts by it, descending first; clicking again flips the order."""
        descending = not self.descending if column == self.sort else True
        return self.query(sort=column, descending=descending)

    def _pairs(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.filter:
            pairs.append(("filter", self.filter))
        if self.sort != DEFAULT_SORT or not self.descending:
            pairs += [("sort", self.sort), ("dir", "desc" if self.descending else "asc")]
        if self.columns is not None:
            pairs += [("c", ""), *(("c", column) for column in self.columns)]
        if self.view != "active":
            pairs.append(("view", self.view))
        if self.page_size != DEFAULT_PAGE_SIZE:
            pairs.append(("per_page", str(self.page_size)))
        if self.page_token:
            pairs += [("page_token", self.page_token), ("prev", ",".join(self.previous_tokens))]
        return pairs


def split_column(column: str) -> tuple[str, str] | None:
    """``"metrics.val loss"`` -> ``("metrics", "val loss")``; None for an unknown kind."""
    kind, dot, key = column.partition(".")
    if not dot or not key or kind not in ("attributes", *KINDS):
        return None
    return kind, key


def quote_key(key: str) -> str | None:
    """A key as the search grammar reads it: backticks around anything but a plain name. The
    grammar takes quoted text literally, so a key holding both quote kinds cannot be named."""
    if key.isidentifier():
        return key
    if "`" not in key:
        return f"`{key}`"
    if '"' not in key:
        return f'"{key}"'
    return None


@dataclass(frozen=True)
class Column:
    id: str
    kind: str
    key: str


@dataclass
class Row:
    """A run in the table, at ``depth`` under its parent when the parent is on the same page."""

    run: Run
    depth: int = 0
    child_count: int = 0
    parent_id: str | None = None
    parent_elsewhere: bool = False  # its parent run is not on this page
    values: dict[str, str] = field(default_factory=dict)


def available_columns(runs: Iterable[Run], chosen: Iterable[str]) -> dict[str, list[str]]:
    """The keys of each kind the chooser offers: those on this page plus those already chosen.
    System tags (``mlflow.*``) are left out: the attribute columns show what they hold."""
    keys: dict[str, set[str]] = {kind: set() for kind in KINDS}
    for run in runs:
        keys["metrics"].update(run.data.metrics)
        keys["params"].update(run.data.params)
        keys["tags"].update(k for k in run.data.tags if not k.startswith("mlflow."))
    for column in chosen:
        parts = split_column(column)
        if parts is not None and parts[0] in keys:
            keys[parts[0]].add(parts[1])
    return {kind: sorted(values) for kind, values in keys.items()}


def visible_columns(state: TableState, available: Mapping[str, list[str]]) -> list[Column]:
    if state.columns is not None:
        ids: Iterable[str] = state.columns
    else:
        ids = [f"metrics.{k}" for k in available["metrics"]]
        ids = [*ids, *(f"params.{k}" for k in available["params"])][:DEFAULT_COLUMN_LIMIT]
    columns = []
    for column in ids:
        parts = split_column(column)
        if parts is not None and parts[0] in KINDS:
            columns.append(Column(column, *parts))
    return columns


def cell_value(run: Run, column: Column) -> str:
    if column.kind == "metrics":
        value = run.data.metrics.get(column.key)
        return "" if value is None else format_number(value)
    source = run.data.params if column.kind == "params" else run.data.tags
    return source.get(column.key, "")


def nest(runs: Sequence[Run]) -> list[Row]:
    """The page's runs in display order: each child right under its parent when both are on
    this page, in page order; a run whose parent is elsewhere stays at the top level."""
    by_id = {run.info.run_id: run for run in runs}
    children: dict[str, list[Run]] = {}
    top: list[Run] = []
    for run in runs:
        parent = run.data.tags.get(PARENT_TAG)
        if parent and parent in by_id and parent != run.info.run_id:
            children.setdefault(parent, []).append(run)
        else:
            top.append(run)
    rows: list[Row] = []
    placed: set[str] = set()

    def place(run: Run, depth: int, parent: str | None) -> None:
        run_id = run.info.run_id
        if run_id in placed:  # a parent cycle in the tags: show each run once
            return
        placed.add(run_id)
        kids = children.get(run_id, [])
        original_parent = run.data.tags.get(PARENT_TAG) or None
        rows.append(
            Row(
                run,
                depth=depth,
                child_count=len(kids),
                parent_id=parent or original_parent,
                parent_elsewhere=parent is None and original_parent is not None,
            )
        )
        for kid in kids:
            place(kid, depth + 1, run_id)

    for run in top:
        place(run, 0, None)
    for run in runs:  # runs caught in a cycle have no top-level ancestor
        place(run, 0, None)
    return rows


__all__ = [
    "ATTRIBUTE_COLUMNS",
    "PAGE_SIZES",
    "Column",
    "Row",
    "TableState",
    "available_columns",
    "cell_value",
    "nest",
    "quote_key",
    "split_column",
    "visible_columns",
]
