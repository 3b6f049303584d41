"""The registry's wire protocol: entity JSON (spec rest-registry.md §1, §4), request kinds, and
the registry and webhook route tables checked against the spec's RPC tables (§2, §4)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from wayline.entities.registry import (
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
    RegistryChange,
    Stage,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from wayline.errors import InvalidParameter
from wayline.protocol import (
    ALL_ROUTES,
    REGISTRY_ROUTES,
    WEBHOOK_ROUTES,
    Route,
    decode_model_version,
    decode_registered_model,
    decode_registry_change,
    decode_webhook,
    decode_webhook_delivery,
    decode_webhook_event,
    decode_webhook_test_result,
    encode_model_version,
    encode_query,
    encode_registered_model,
    encode_registry_change,
    encode_request,
    encode_webhook,
    encode_webhook_delivery,
    encode_webhook_test_result,
    parse_model_version_status,
    parse_request,
    parse_version,
    parse_webhook_status,
    route,
    urls,
)

SPEC_CANDIDATES = [
    Path(__file__).parents[2].parent / "shared/spec/rest-registry.md",
    Path("/work/shared/spec/rest-registry.md"),
]
SPEC = next((path for path in SPEC_CANDIDATES if path.exists()), SPEC_CANDIDATES[0])
T0 = 1_795_755_975_134


def _version(**fields: object) -> ModelVersion:
    values: dict[str, object] = {
        "name": "reg1",
        "version": "1",
        "creation_timestamp": T0,
        "last_updated_timestamp": T0 + 1,
        **fields,
    }
    return ModelVersion(**values)  # type: ignore[arg-type]


def _wire(value: object) -> object:
    """Through real JSON text, as the wire carries it."""
    return json.loads(json.dumps(value))


# ---------------------------------------------------------------- model versions
def test_minimal_version_has_the_fields_mlflow_always_sends() -> None:
    encoded = encode_model_version(_version(source="s3://bucket/x"))
    # As observed from MLflow's server: empty strings sent, empty tags/aliases/user omitted.
    assert encoded == {
        "name": "reg1",
        "version": "1",
        "creation_timestamp": T0,
        "last_updated_timestamp": T0 + 1,
        "current_stage": "None",
        "description": "",
        "source": "s3://bucket/x",
        "run_id": "",
        "status": "READY",
        "run_link": "",
    }
    assert decode_model_version(_wire(encoded)) == _version(source="s3://bucket/x")


def test_full_version_round_trips() -> None:
    version = _version(
        version="12",
        current_stage=Stage.PRODUCTION,
        description="d1",
        source="models:/m-7dd1",
        run_id="cf98ee46",
        status=ModelVersionStatus.PENDING_REGISTRATION,
        status_message="copying",
        user_id="alice",
        run_link="http://x/run",
        model_id="m-7dd1",
        tags={"t": "1", "mlflow.prompt.text": "Hi {{ name }}"},
        aliases=["champion", "prod"],
    )
    encoded = encode_model_version(version)
    assert encoded["version"] == "12"
    assert encoded["aliases"] == ["champion", "prod"]
    assert encoded["tags"] == [
        {"key": "t", "value": "1"},
        {"key": "mlflow.prompt.text", "value": "Hi {{ name }}"},
    ]
    assert encoded["status"] == "PENDING_REGISTRATION"
    assert decode_model_version(_wire(encoded)) == version


def test_version_decodes_mlflows_observed_json() -> None:
    observed = {
        "name": "reg1",
        "version": "1",
        "creation_timestamp": 1795755975134,
        "last_updated_timestamp": 1795755976884,
        "current_stage": "None",
        "description": "d1",
        "source": "models:/m-7dd107a3803048d8b594bc7a07931d43",
        "run_id": "cf98ee46",
        "status": "READY",
        "run_link": "",
        "aliases": ["champion"],
        "deployment_job_state": {"job_id": ""},  # unknown to Wayline: ignored
    }
    version = decode_model_version(observed)
    assert version.version == "1"
    assert version.current_stage is Stage.NONE
    assert version.aliases == ["champion"]
    assert version.status is ModelVersionStatus.READY


def test_version_status_by_number_and_version_as_integer() -> None:
    version = decode_model_version({"name": "m", "version": 3, "status": 2})
    assert version.version == "3"
    assert version.status is ModelVersionStatus.FAILED_REGISTRATION
    assert version.current_stage == "None"


@pytest.mark.parametrize(
    "bad",
    [{"version": "1"}, {"name": "m"}, {"name": "m", "version": "x"}, {"name": 1, "version": "1"}],
)
def test_bad_versions_are_invalid_parameters(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidParameter):
        decode_model_version(bad)


# ---------------------------------------------------------------- registered models
def test_minimal_registered_model_omits_empty_fields() -> None:
    model = RegisteredModel("reg1", T0, T0)
    # The observed answer to registered-models/create {"name": "reg1"}.
    assert encode_registered_model(model) == {
        "name": "reg1",
        "creation_timestamp": T0,
        "last_updated_timestamp": T0,
    }
    assert decode_registered_model(_wire(encode_registered_model(model))) == model


def test_full_registered_model_round_trips() -> None:
    model = RegisteredModel(
        "reg1",
        T0,
        T0 + 5,
        description="the model",
        user_id="bob",
        latest_versions=[
            _version(version="2", current_stage=Stage.NONE),
            _version(version="1", current_stage=Stage.STAGING, aliases=["champ"]),
        ],
        tags={"mlflow.prompt.is_prompt": "true", "team": "x"},
        aliases={"champ": "1", "prod": "2"},
    )
    encoded = encode_registered_model(model)
    assert encoded["aliases"] == [
        {"alias": "champ", "version": "1"},
        {"alias": "prod", "version": "2"},
    ]
    assert encoded["tags"][0] == {"key": "mlflow.prompt.is_prompt", "value": "true"}
    assert [v["version"] for v in encoded["latest_versions"]] == ["2", "1"]
    decoded = decode_registered_model(_wire(encoded))
    assert decoded == model
    assert decoded.is_prompt


def test_registered_model_alias_versions_may_be_numbers() -> None:
    model = decode_registered_model(
        {"name": "m", "aliases": [{"alias": "a", "version": 4}], "tags": [{"key": "k"}]}
    )
    assert model.aliases == {"a": "4"}
    assert model.tags == {"k": ""}
    assert model.creation_timestamp == 0


# ---------------------------------------------------------------- audit trail
def test_registry_change_round_trips_with_every_key() -> None:
    change = RegistryChange(
        id=7,
        timestamp=T0,
        user="alice",
        action="model_version.stage_transitioned",
        name="reg1",
        version="2",
        before={"stage": "Staging"},
        after={"stage": "Production"},
    )
    encoded = encode_registry_change(change)
    assert set(encoded) == {
        "id",
        "timestamp",
        "user",
        "action",
        "name",
        "version",
        "before",
        "after",
    }
    assert decode_registry_change(_wire(encoded)) == change
    created = RegistryChange(1, T0, "bob", "registered_model.created", "reg1", after={"x": 1})
    assert encode_registry_change(created)["version"] == ""
    assert decode_registry_change(_wire(encode_registry_change(created))) == created


# ---------------------------------------------------------------- webhooks
def _webhook(**fields: object) -> Webhook:
    values: dict[str, object] = {
        "webhook_id": "wh-1",
        "name": "hook",
        "url": "https://hooks.example.com/x",
        "events": [WebhookEvent("MODEL_VERSION", "CREATED")],
        "creation_timestamp": T0,
        "last_updated_timestamp": T0,
        **fields,
    }
    return Webhook(**values)  # type: ignore[arg-type]


def test_webhook_round_trips_as_enum_names() -> None:
    webhook = _webhook(
        description="notify",
        status=WebhookStatus.DISABLED,
        events=[WebhookEvent("MODEL_VERSION_TAG", "SET"), WebhookEvent("PROMPT_ALIAS", "DELETED")],
    )
    encoded = encode_webhook(webhook)
    assert encoded == {
        "webhook_id": "wh-1",
        "name": "hook",
        "description": "notify",
        "url": "https://hooks.example.com/x",
        "events": [
            {"entity": "MODEL_VERSION_TAG", "action": "SET"},
            {"entity": "PROMPT_ALIAS", "action": "DELETED"},
        ],
        "status": "DISABLED",
        "creation_timestamp": T0,
        "last_updated_timestamp": T0,
    }
    assert "secret" not in encoded
    assert decode_webhook(_wire(encoded)) == webhook
    assert "description" not in encode_webhook(_webhook())
    assert decode_webhook(_wire(encode_webhook(_webhook()))) == _webhook()


@pytest.mark.parametrize(
    "value",
    [
        {"entity": "MODEL_VERSION", "action": "CREATED"},
        {"entity": "model_version", "action": "created"},
        {"entity": 2, "action": 1},
        {"entity": "2", "action": "1"},
        "model_version.created",
        WebhookEvent("MODEL_VERSION", "CREATED"),
    ],
)
def test_webhook_event_spellings(value: object) -> None:
    assert decode_webhook_event(value) == WebhookEvent("MODEL_VERSION", "CREATED")


@pytest.mark.parametrize(
    "value",
    [
        {"entity": "MODEL_VERSION", "action": "SET"},  # not a valid pair
        {"entity": "NOPE", "action": "CREATED"},
        {"entity": "MODEL_VERSION"},
        {"entity": 99, "action": 1},
        "model_version",
        3,
    ],
)
def test_invalid_webhook_events(value: object) -> None:
    with pytest.raises(InvalidParameter):
        decode_webhook_event(value)


def test_webhook_delivery_and_test_result_round_trip() -> None:
    failed = WebhookDelivery("d-1", "wh-1", "model_version.created", T0, 2, False, None, "refused")
    encoded = encode_webhook_delivery(failed)
    assert encoded["response_status"] is None
    assert decode_webhook_delivery(_wire(encoded)) == failed
    ok = WebhookDelivery("d-2", "wh-1", "registered_model.created", T0, 1, True, 200)
    assert decode_webhook_delivery(_wire(encode_webhook_delivery(ok))) == ok

    result = WebhookTestResult(True, 204)
    assert encode_webhook_test_result(result) == {"success": True, "response_status": 204}
    assert decode_webhook_test_result(_wire(encode_webhook_test_result(result))) == result
    failure = WebhookTestResult(False, 500, "boom", "HTTP 500")
    assert decode_webhook_test_result(_wire(encode_webhook_test_result(failure))) == failure


# ---------------------------------------------------------------- scalars
@pytest.mark.parametrize(
    ("raw", "expected"), [("1", "1"), (7, "7"), (" 3 ", "3"), ("007", "7"), ("", "")]
)
def test_parse_version(raw: object, expected: str) -> None:
    assert parse_version(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "1.5", 1.5, True, None, [1]])
def test_parse_version_refuses_non_integers_with_mlflows_message(raw: object) -> None:
    with pytest.raises(InvalidParameter, match=r"^Parameter 'version' must be an integer, got "):
        parse_version(raw)


def test_enum_parsers() -> None:
    assert parse_model_version_status("ready") is ModelVersionStatus.READY
    assert parse_model_version_status(1) is ModelVersionStatus.PENDING_REGISTRATION
    assert parse_webhook_status("disabled") is WebhookStatus.DISABLED
    assert parse_webhook_status(1) is WebhookStatus.ACTIVE
    with pytest.raises(InvalidParameter):
        parse_model_version_status("DONE")
    with pytest.raises(InvalidParameter):
        parse_webhook_status(3)


# ---------------------------------------------------------------- requests
def test_registry_requests_decode_their_kinds() -> None:
    create = route("CreateRegisteredModel")
    values = parse_request(
        create, {"name": "m", "tags": [{"key": "a", "value": "b"}], "description": "d"}
    )
    assert values == {"name": "m", "tags": [RegisteredModelTag("a", "b")], "description": "d"}
    version = parse_request(
        route("CreateModelVersion"),
        {"name": "m", "source": "s", "tags": [{"key": "k", "value": "v"}]},
    )
    assert version["tags"] == [ModelVersionTag("k", "v")]
    get = parse_request(
        route("GetModelVersion"), {"name": ["m"], "version": ["2"]}, from_query=True
    )
    assert get == {"name": "m", "version": "2"}
    with pytest.raises(InvalidParameter, match="must be an integer, got 'abc'"):
        parse_request(route("GetModelVersion"), {"name": "m", "version": "abc"})
    with pytest.raises(InvalidParameter, match="Missing value for required parameter 'version'"):
        parse_request(route("GetModelVersion"), {"name": "m"})
    hook = parse_request(
        route("CreateWebhook"),
        {
            "name": "w",
            "url": "https://x",
            "events": [{"entity": "REGISTERED_MODEL", "action": "CREATED"}],
            "status": "DISABLED",
        },
    )
    assert hook["events"] == [WebhookEvent("REGISTERED_MODEL", "CREATED")]
    assert hook["status"] is WebhookStatus.DISABLED


def test_registry_requests_encode_as_mlflows_client_sends_them() -> None:
    alias = encode_request(
        route("SetRegisteredModelAlias"), {"name": "m", "alias": "champ", "version": 3}
    )
    assert alias == {"name": "m", "alias": "champ", "version": "3"}
    transition = encode_request(
        route("TransitionModelVersionStage"),
        {"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": False},
    )
    assert transition["archive_existing_versions"] is False
    hook = encode_request(
        route("CreateWebhook"),
        {
            "name": "w",
            "url": "https://x",
            "events": ["model_version.created", WebhookEvent("PROMPT", "CREATED")],
            "status": WebhookStatus.ACTIVE,
        },
    )
    assert hook["events"] == [
        {"entity": "MODEL_VERSION", "action": "CREATED"},
        {"entity": "PROMPT", "action": "CREATED"},
    ]
    assert hook["status"] == "ACTIVE"
    query = encode_query(
        route("GetLatestVersions"), {"name": "m", "stages": ["Staging", "Production"]}
    )
    assert query == [("name", "m"), ("stages", "Staging"), ("stages", "Production")]


# ---------------------------------------------------------------- the route tables vs the spec
@dataclass(frozen=True)
class SpecRpc:
    name: str
    methods: frozenset[str]
    path: str
    fields: frozenset[str]
    required: frozenset[str]
    repeated: frozenset[str]
    response: frozenset[str]


_ROW = re.compile(r"^\| (?P<name>\w+) \| (?P<methods>[^`|]*)`(?P<path>[^`]+)` \| (?P<rest>.*)$")
_FIELD = re.compile(r"`(?P<name>\w+)`(?P<required>\*)?(?P<repeated>\[)?")


def _top_level_keys(cell: str) -> frozenset[str]:
    """``{result:{a, b}}`` -> {result}; ``{models[], next_page_token}`` -> both; ``{}`` -> {}."""
    match = re.search(r"`\{(.*)\}`", cell)
    assert match, cell
    depth, keys, current = 0, [], ""
    for char in match.group(1):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            keys.append(current)
            current = ""
        elif depth == 0:
            current += char
    keys.append(current)
    names = (re.match(r"\s*(\w*)", key) for key in keys)
    return frozenset(n.group(1) for n in names if n and n.group(1))


def _parse_rows(section: str, prefix: str) -> dict[str, SpecRpc]:
    rpcs = {}
    for line in section.splitlines():
        row = _ROW.match(line)
        if not row or row["name"] == "RPC":
            continue
        request, response = row["rest"].split(" | ", 1)
        if request.startswith("body"):
            # "body `{name, key}`": every field of a DELETE body is required.
            names = re.findall(r"\w+", request.split("`")[1])
            fields = frozenset(names)
            required, repeated = fields, frozenset[str]()
        else:
            found = list(_FIELD.finditer(request))
            fields = frozenset(f["name"] for f in found)
            required = frozenset(f["name"] for f in found if f["required"])
            repeated = frozenset(f["name"] for f in found if f["repeated"])
        path = row["path"]
        rpcs[row["name"]] = SpecRpc(
            name=row["name"],
            methods=frozenset(re.findall(r"\b(GET|POST|PATCH|DELETE)\b", row["methods"])),
            path=prefix + ("/" + path if path else ""),
            fields=fields,
            required=required,
            repeated=repeated,
            response=_top_level_keys(response),
        )
    return rpcs


@pytest.fixture(scope="module")
def spec_rpcs() -> dict[str, SpecRpc]:
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}")
    text = SPEC.read_text(encoding="utf-8")
    registry = text[text.index("## 2. Endpoints") : text.index("### 2.1")]
    webhooks = text[text.index("## 4. Webhooks") : text.index("## 5.")]
    rpcs = {**_parse_rows(registry, "/mlflow"), **_parse_rows(webhooks, "/mlflow")}
    assert len(rpcs) == 27, sorted(rpcs)  # a guard against the parser matching nothing
    return rpcs


# Wayline's extensions (common brief), not in the spec's tables.
EXTENSIONS = {"GetRegistryHistory", "ListWebhookDeliveries"}


def test_every_spec_rpc_is_in_the_tables(spec_rpcs: dict[str, SpecRpc]) -> None:
    table = {r.name for r in (*REGISTRY_ROUTES, *WEBHOOK_ROUTES)}
    assert sorted(set(spec_rpcs) - table) == []
    assert sorted(table - set(spec_rpcs)) == sorted(EXTENSIONS)


@pytest.mark.parametrize(
    "entry",
    [r for r in (*REGISTRY_ROUTES, *WEBHOOK_ROUTES) if r.name not in EXTENSIONS],
    ids=lambda r: r.name,
)
def test_route_matches_spec_row(entry: Route, spec_rpcs: dict[str, SpecRpc]) -> None:
    spec = spec_rpcs[entry.name]
    assert entry.path == spec.path
    assert set(entry.methods) == spec.methods
    path_fields = set(entry.path_fields)
    # Path parameters are request fields the spec names in the path, not in the request cell.
    assert {f.name for f in entry.request} - path_fields == spec.fields
    assert {f.name for f in entry.request if f.required} - path_fields == spec.required
    assert {f.name for f in entry.request if f.repeated} == spec.repeated
    assert set(entry.response) == spec.response
    for name in path_fields:
        assert entry.field(name).required


def test_extensions_are_where_the_brief_puts_them() -> None:
    history = route("GetRegistryHistory")
    assert (history.method, urls(history)[0]) == (
        "GET",
        "/api/2.0/mlflow/registered-models/history",
    )
    assert {f.name for f in history.request} == {"name", "max_results", "page_token"}
    assert history.response == ("changes", "next_page_token")
    deliveries = route("ListWebhookDeliveries")
    assert (deliveries.method, urls(deliveries)[0]) == (
        "GET",
        "/api/2.0/mlflow/webhooks/{webhook_id}/deliveries",
    )
    assert deliveries.response == ("deliveries", "next_page_token")


def test_all_routes_have_unique_names_and_method_paths() -> None:
    assert len({r.name for r in ALL_ROUTES}) == len(ALL_ROUTES)
    # The URL, not the path: v2 and v3 trace RPCs share paths under their own /api/<n>.0.
    pairs = [(m, urls(r)[0]) for r in ALL_ROUTES for m in r.methods]
    assert len(set(pairs)) == len(pairs)
    # registered-models/alias carries three RPCs, one per method.
    alias = {r.name: r.method for r in ALL_ROUTES if r.path == "/mlflow/registered-models/alias"}
    assert alias == {
        "SetRegisteredModelAlias": "POST",
        "GetModelVersionByAlias": "GET",
        "DeleteRegisteredModelAlias": "DELETE",
    }
    assert route("GetLatestVersions").methods == ("POST", "GET")
    assert urls(route("CreateWebhook")) == [
        "/api/2.0/mlflow/webhooks",
        "/ajax-api/2.0/mlflow/webhooks",
    ]
