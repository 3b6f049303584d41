"""What a route table is made of: ``Route`` (one RPC), its request ``Field``s, the URLs a route
is mounted at and the filling of path parameters (``/mlflow/logged-models/{model_id}``: each
names a request field, which the client puts into the URL instead of the query or body, and the
server reads back from the URL). The tables themselves are in ``routes`` and
``trace_route_table``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

Method = Literal["GET", "POST", "PATCH", "DELETE"]

# Scalars are proto types; capitalised kinds are messages or enums decoded by ``request``.
FieldKind = Literal[
    "str",
    "i64",
    "i32",
    "f64",
    "bool",
    "RunStatus",
    "ViewType",
    "LoggedModelStatus",
    "ExperimentTag",
    "RunTag",
    "LoggedModelTag",
    "Param",
    "Metric",
    "DatasetInput",
    "ModelInput",
    "ModelOutput",
    "LoggedModelDataset",
    "LoggedModelOrderBy",
    "version",
    "RegisteredModelTag",
    "ModelVersionTag",
    "WebhookEvent",
    "WebhookStatus",
    "Trace",
    "TraceLocation",
    "TraceStatus",
    "TraceRequestMetadata",
    "TraceTag",
    "Assessment",
    "PromptVersionRef",
    "field_mask",
]

_PATH_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Field:
    """One request field, named as in the proto (snake_case)."""

    name: str
    kind: FieldKind = "str"
    required: bool = False
    repeated: bool = False


@dataclass(frozen=True, slots=True)
class Route:
    """One RPC: where it is mounted, what it reads and the top-level keys it answers with.

    ``extra_methods`` are further methods the server accepts for the same handler (the client
    uses ``method``); ``response`` lists keys that may appear, each omitted when unset.
    """

    name: str
    method: Method
    path: str
    since: int = 2
    request: tuple[Field, ...] = ()
    response: tuple[str, ...] = ()
    extra_methods: tuple[Method, ...] = ()
    ajax_only: bool = False

    @property
    def methods(self) -> tuple[Method, ...]:
        return (self.method, *self.extra_methods)

    def field(self, name: str) -> Field:
        for field in self.request:
            if field.name == name:
                return field
        raise KeyError(f"{self.name} has no request field {name!r}")

    @property
    def path_fields(self) -> tuple[str, ...]:
        """Request fields that travel in the path, in path order (``("model_id",)``)."""
        return tuple(_PATH_PARAMETER.findall(self.path))


def urls(route: Route) -> list[str]:
    """Every URL the route is mounted at: the API prefix and the web UI's ajax prefix.

    Path parameters stay placeholders (``{model_id}``); see ``expand_path``. An ``ajax_only``
    route (one MLflow declares without a leading slash, so only its ajax URL works) has no
    ``/api/`` URL.
    """
    ajax = f"/ajax-api/{route.since}.0{route.path}"
    return [ajax] if route.ajax_only else [f"/api/{route.since}.0{route.path}", ajax]


def expand_path(url: str, values: Mapping[str, Any]) -> str:
    """``url`` with each ``{name}`` replaced by ``values[name]``, percent-encoded whole.

    Every character but letters, digits and ``-._~`` is escaped (``/`` too), so a tag key such
    as ``a/b`` stays one path segment. ValueError if a parameter has no value.
    """

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None or value == "":
            raise ValueError(f"no value for the path parameter {match.group(1)!r} of {url}")
        return quote(str(value), safe="")

    return _PATH_PARAMETER.sub(fill, url)


def optional(name: str, kind: FieldKind = "str", *, required: bool = False) -> Field:
    """A field the request may leave out (the route tables call it ``_f``)."""
    return Field(name, kind, required=required)


def repeated(name: str, kind: FieldKind = "str") -> Field:
    """A repeated field (``_list`` in the tables)."""
    return Field(name, kind, repeated=True)


def required(name: str, kind: FieldKind = "str") -> Field:
    """A field the request must carry (``_req`` in the tables)."""
    return Field(name, kind, required=True)


__all__ = [
    "Field",
    "FieldKind",
    "Method",
    "Route",
    "expand_path",
    "optional",
    "repeated",
    "required",
    "urls",
]
