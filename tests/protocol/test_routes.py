"""The route table: its shape, its URLs, and agreement with spec/rest-tracking.md §3-§4, §6."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from wayline.protocol.routes import TRACKING_ROUTES, Route, expand_path, route, urls


def _find_spec() -> Path:
    """The spec beside the repository (``../shared``), or where WAYLINE_SPEC_DIR points."""
    candidates = [
        Path(os.environ.get("WAYLINE_SPEC_DIR", "/nonexistent")),
        Path(__file__).parents[2].parent / "shared/spec",
        Path("/work/shared/spec"),  # this workplace's copy, for clones made elsewhere
    ]
    found = [path / "rest-tracking.md" for path in candidates]
    return next((path for path in found if path.exists()), found[1])


SPEC = _find_spec()
# The route families this table owns; other §4 rows (presigned URLs) are optional features.
OWNED_PREFIXES = ("experiments/", "runs/", "metrics/", "artifacts/list")

_ROW = re.compile(r"^\| (?P<name>\w+) \| (?P<methods>[^`|]*)`(?P<path>[^`]+)` \| (?P<rest>.*)$")
_FIELD = re.compile(r"`(?P<name>\w+)`(?P<mark>[*\[]?)")


@dataclass(frozen=True)
class SpecRpc:
    name: str
    methods: frozenset[str]
    path: str
    fields: frozenset[str]
    required: frozenset[str]
    repeated: frozenset[str]
    response: frozenset[str]


def _response_keys(cell: str) -> frozenset[str]:
    # "`{runs[], next_page_token}`" -> {"runs", "next_page_token"}; "`{}`" -> {}
    match = re.search(r"`\{([^`]*)\}`", cell)
    assert match, cell
    keys = (re.match(r"\s*(\w*)", part) for part in match.group(1).split(","))
    return frozenset(key.group(1) for key in keys if key and key.group(1))


def _parse_spec_rpcs(text: str) -> list[SpecRpc]:
    start = text.index("## 3. Experiments")
    section = text[start : text.index("### 4.1", start)]
    rpcs = []
    for line in section.splitlines():
        row = _ROW.match(line)
        if not row or row["name"] == "RPC":
            continue
        request, response = row["rest"].split(" | ", 1)
        fields = list(_FIELD.finditer(request))
        rpcs.append(
            SpecRpc(
                name=row["name"],
                methods=frozenset(re.findall(r"\b(GET|POST|PATCH|DELETE)\b", row["methods"])),
                path="/mlflow/" + row["path"],
                fields=frozenset(f["name"] for f in fields),
                required=frozenset(f["name"] for f in fields if f["mark"] == "*"),
                repeated=frozenset(f["name"] for f in fields if f["mark"] == "["),
                response=_response_keys(response),
            )
        )
    return rpcs


@pytest.fixture(scope="module")
def spec_rpcs() -> dict[str, SpecRpc]:
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}: set WAYLINE_SPEC_DIR to the spec folder")
    rpcs = _parse_spec_rpcs(SPEC.read_text(encoding="utf-8"))
    owned = {r.name: r for r in rpcs if r.path.removeprefix("/mlflow/").startswith(OWNED_PREFIXES)}
    # A guard against the parser silently matching nothing after a spec reformat.
    assert len(owned) >= 25, sorted(owned)
    return owned


@dataclass(frozen=True)
class SpecModelRpc:
    """A §6 row: its request cell is prose (``{model_id, status}``), so only the shape counts."""

    name: str
    method: str
    path: str
    response: frozenset[str]


@pytest.fixture(scope="module")
def spec_model_rpcs() -> dict[str, SpecModelRpc]:
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}: set WAYLINE_SPEC_DIR to the spec folder")
    text = SPEC.read_text(encoding="utf-8")
    start = text.index("## 6. Logged models")
    section = text[start : text.index("## 7.", start)]
    rpcs = {}
    for line in section.splitlines():
        row = _ROW.match(line)
        if not row or row["name"] == "RPC":
            continue
        response = row["rest"].split(" | ", 1)[1]
        rpcs[row["name"]] = SpecModelRpc(
            name=row["name"],
            method=row["methods"].strip(),
            path="/mlflow" + row["path"],
            response=_response_keys(response),
        )
    assert len(rpcs) >= 9, sorted(rpcs)
    return rpcs


MODEL_ROUTES = [r for r in TRACKING_ROUTES if r.path.startswith("/mlflow/logged-models")]


def test_every_owned_spec_rpc_is_in_the_table(
    spec_rpcs: dict[str, SpecRpc], spec_model_rpcs: dict[str, SpecModelRpc]
) -> None:
    table = {r.name for r in TRACKING_ROUTES}
    spec = set(spec_rpcs) | set(spec_model_rpcs) | set(PROSE_RPCS)
    assert sorted(spec - table) == []
    assert sorted(table - spec) == []


# RPCs the spec describes in prose rather than in a table: name -> the URL it gives.
PROSE_RPCS = {"SearchDatasets": "/ajax-api/2.0/mlflow/experiments/search-datasets"}


@pytest.mark.parametrize("name", sorted(PROSE_RPCS))
def test_prose_rpc_urls_are_the_specs(name: str) -> None:
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}: set WAYLINE_SPEC_DIR to the spec folder")
    assert PROSE_RPCS[name] in SPEC.read_text(encoding="utf-8")
    assert urls(route(name)) == [PROSE_RPCS[name]]


@pytest.mark.parametrize("entry", MODEL_ROUTES, ids=lambda r: r.name)
def test_logged_model_route_matches_spec_row(
    entry: Route, spec_model_rpcs: dict[str, SpecModelRpc]
) -> None:
    spec = spec_model_rpcs[entry.name]
    assert (entry.method, entry.path) == (spec.method, spec.path)
    # Path parameters are required request fields, filled from (and into) the URL.
    for name in entry.path_fields:
        assert entry.field(name).required
    if entry.name != "SetLoggedModelTags":  # the spec allows `{}` or `{model}`; we answer `{}`
        assert set(entry.response) == spec.response


def test_expand_path_fills_and_escapes_parameters() -> None:
    entry = route("DeleteLoggedModelTag")
    assert entry.path_fields == ("model_id", "tag_key")
    url = expand_path(urls(entry)[0], {"model_id": "m-1", "tag_key": "a/b c"})
    assert url == "/api/2.0/mlflow/logged-models/m-1/tags/a%2Fb%20c"
    with pytest.raises(ValueError, match="tag_key"):
        expand_path(urls(entry)[0], {"model_id": "m-1"})
    assert route("CreateRun").path_fields == ()


@pytest.mark.parametrize(
    "entry",
    [r for r in TRACKING_ROUTES if r not in MODEL_ROUTES and r.name not in PROSE_RPCS],
    ids=lambda r: r.name,
)
def test_route_matches_spec_row(entry: Route, spec_rpcs: dict[str, SpecRpc]) -> None:
    spec = spec_rpcs[entry.name]
    assert entry.path == spec.path
    assert set(entry.methods) == spec.methods
    assert {f.name for f in entry.request} == spec.fields
    assert {f.name for f in entry.request if f.required} == spec.required
    assert {f.name for f in entry.request if f.repeated} == spec.repeated
    assert set(entry.response) == spec.response


def test_names_and_paths_are_unique() -> None:
    assert len({r.name for r in TRACKING_ROUTES}) == len(TRACKING_ROUTES)
    assert len({(r.method, r.path) for r in TRACKING_ROUTES}) == len(TRACKING_ROUTES)
    for entry in TRACKING_ROUTES:
        assert entry.path.startswith("/mlflow/")
        assert entry.since == 2
        assert len({f.name for f in entry.request}) == len(entry.request)


def test_urls_mount_api_and_ajax_prefixes() -> None:
    assert urls(route("CreateRun")) == [
        "/api/2.0/mlflow/runs/create",
        "/ajax-api/2.0/mlflow/runs/create",
    ]
    v3 = Route("StartTraceV3", "POST", "/mlflow/traces", since=3)
    assert urls(v3) == ["/api/3.0/mlflow/traces", "/ajax-api/3.0/mlflow/traces"]


def test_lookup_by_name() -> None:
    entry = route("LogMetric")
    assert (entry.method, entry.path) == ("POST", "/mlflow/runs/log-metric")
    assert entry.field("timestamp").kind == "i64"
    assert route("SearchExperiments").methods == ("POST", "GET")
    with pytest.raises(KeyError, match="NoSuchRpc"):
        route("NoSuchRpc")
    with pytest.raises(KeyError, match="nope"):
        entry.field("nope")


def test_routes_are_frozen() -> None:
    entry = route("GetRun")
    with pytest.raises(AttributeError):
        entry.path = "/elsewhere"  # type: ignore[misc]
