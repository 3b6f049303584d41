"""Request bodies and query strings, read and written through the route table.

The server calls ``parse_body``/``query_lists`` and then ``parse_request``; the REST client calls
``encode_request`` (JSON bodies) or ``encode_query`` (GETs). Both sides read field names and kinds
from the same ``Route``, so they agree on every spelling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from wayline.errors import InvalidParameter
from wayline.protocol.assessments import encode_assessment, encode_field_mask, parse_field_mask
from wayline.protocol.registry import (
    decode_model_version_tag,
    decode_registered_model_tag,
    decode_webhook_event,
    encode_registry_tag,
    encode_webhook_event,
    parse_version,
    parse_webhook_status,
)
from wayline.protocol.routes import Field, FieldKind, Route
from wayline.protocol.traces import (
    decode_key_value,
    decode_prompt_version,
    decode_trace,
    decode_trace_location,
    encode_prompt_version,
    encode_trace,
    encode_trace_location,
    encode_trace_status,
    parse_trace_state,
)
from wayline.protocol.tracking import (
    JsonDict,
    as_list,
    as_object,
    decode_dataset_input,
    decode_experiment_tag,
    decode_logged_model_dataset,
    decode_logged_model_order_by,
    decode_logged_model_tag,
    decode_metric,
    decode_model_input,
    decode_model_output,
    decode_param,
    decode_run_tag,
    encode_dataset_input,
    encode_logged_model_dataset,
    encode_logged_model_order_by,
    encode_metric,
    encode_model_input,
    encode_model_output,
    encode_tag,
    parse_logged_model_status,
)
from wayline.protocol.values import (
    encode_double,
    encode_query_bool,
    missing_parameter,
    parse_bool,
    parse_double,
    parse_int,
    parse_run_status,
    parse_str,
    parse_view_type,
)

_DECODERS: dict[FieldKind, Callable[[object, str], Any]] = {
    "str": parse_str,
    "i64": lambda value, name: parse_int(value, name, bits=64),
    "i32": lambda value, name: parse_int(value, name, bits=32),
    "f64": parse_double,
    "bool": parse_bool,
    "RunStatus": parse_run_status,
    "ViewType": parse_view_type,
    "ExperimentTag": lambda value, _: decode_experiment_tag(value),
    "RunTag": lambda value, _: decode_run_tag(value),
    "Param": lambda value, _: decode_param(value),
    "Metric": lambda value, _: decode_metric(value),
    "LoggedModelStatus": parse_logged_model_status,
    "LoggedModelTag": lambda value, _: decode_logged_model_tag(value),
    "DatasetInput": lambda value, _: decode_dataset_input(value),
    "ModelInput": lambda value, _: decode_model_input(value),
    "ModelOutput": lambda value, _: decode_model_output(value),
    "LoggedModelDataset": lambda value, _: decode_logged_model_dataset(value),
    "LoggedModelOrderBy": lambda value, _: decode_logged_model_order_by(value),
    "version": parse_version,
    "RegisteredModelTag": lambda value, _: decode_registered_model_tag(value),
    "ModelVersionTag": lambda value, _: decode_model_version_tag(value),
    "WebhookEvent": lambda value, _: decode_webhook_event(value),
    "WebhookStatus": parse_webhook_status,
    "Trace": lambda value, _: decode_trace(value),
    "TraceLocation": decode_trace_location,
    "TraceStatus": parse_trace_state,
    "TraceRequestMetadata": decode_key_value,
    "TraceTag": decode_key_value,
    # Create reads a whole assessment, update only the masked fields: the handler decodes it.
    "Assessment": as_object,
    "PromptVersionRef": decode_prompt_version,
    "field_mask": parse_field_mask,
}

_ENCODERS: dict[FieldKind, Callable[[Any], Any]] = {
    "str": str,
    "i64": int,
    "i32": int,
    "f64": encode_double,
    "bool": bool,
    "RunStatus": lambda value: parse_run_status(value).value,
    "ViewType": lambda value: parse_view_type(value).name,
    "ExperimentTag": encode_tag,
    "RunTag": encode_tag,
    "Param": encode_tag,
    "Metric": encode_metric,
    "LoggedModelStatus": lambda value: parse_logged_model_status(value).wire_name,
    "LoggedModelTag": encode_tag,
    "DatasetInput": encode_dataset_input,
    "ModelInput": encode_model_input,
    "ModelOutput": encode_model_output,
    "LoggedModelDataset": encode_logged_model_dataset,
    "LoggedModelOrderBy": encode_logged_model_order_by,
    "version": parse_version,
    "RegisteredModelTag": encode_registry_tag,
    "ModelVersionTag": encode_registry_tag,
    # Strings such as "model_version.created" are accepted wherever an event is.
    "WebhookEvent": lambda value: encode_webhook_event(decode_webhook_event(value)),
    "WebhookStatus": lambda value: parse_webhook_status(value).value,
    "Trace": encode_trace,
    "TraceLocation": encode_trace_location,
    "TraceStatus": encode_trace_status,
    "TraceRequestMetadata": lambda pair: {"key": pair[0], "value": pair[1]},
    "TraceTag": lambda pair: {"key": pair[0], "value": pair[1]},
    "Assessment": lambda value: value if isinstance(value, dict) else encode_assessment(value),
    "PromptVersionRef": encode_prompt_version,
    "field_mask": lambda value: value if isinstance(value, str) else encode_field_mask(value),
}


def lower_camel(name: str) -> str:
    """The proto JSON name of a snake_case field: ``run_name`` -> ``runName``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# The MLflow release whose REST protocol Wayline speaks (spec/ was taken from it). The server
# answers it at /version and the REST client sends it as X-MLflow-Client-Version: MLflow's
# clients and servers compare these to decide which features the other side has.
MLFLOW_PROTOCOL_VERSION = "3.18.0"

# Deeper than any request MLflow defines (a few levels); far below where recursive code (the
# parser itself, encoders) would hit Python's recursion limit.
MAX_JSON_DEPTH = 64


def parse_body(raw: bytes | str | None) -> JsonDict:
    """A JSON request body as a dict: empty means ``{}``, a JSON string of JSON is decoded twice.

    Nesting deeper than ``MAX_JSON_DEPTH`` is refused like malformed JSON.
    """
    if raw is None or not raw.strip():
        return {}
    try:
        value: object = load_json(raw)
        # Legacy clients double-encode: the body is a JSON string holding the JSON object.
        if isinstance(value, str):
            raw = value
            value = load_json(value)
    except ValueError as exc:
        raise InvalidParameter(f"Malformed JSON request body: {exc}") from None
    except RecursionError:
        pass  # nested past the interpreter's limit: certainly too deep
    else:
        if _shallow(raw) or _depth_within(value, MAX_JSON_DEPTH):
            return dict(as_object(value, "request body"))
    raise InvalidParameter(
        f"Malformed JSON request body: nested more than {MAX_JSON_DEPTH} levels deep."
    )


def load_json(raw: bytes | str) -> object:
    """A JSON document, parsed by orjson whenever it can be (requests and responses alike)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        # Bare NaN/Infinity tokens (which some clients write) are not JSON; the standard
        # library reads them, and reports real syntax errors.
        return json.loads(raw)


_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _shallow(raw: bytes | str) -> bool:
    """Whether the body's brackets surely nest at most ``MAX_JSON_DEPTH`` deep, decided in C.

    The skeleton of brackets loses its innermost pairs at each pass, which strips at least one
    and at most two levels, so emptying it within ``MAX_JSON_DEPTH // 2`` passes proves the
    bound. Brackets inside strings can only make this answer False (the caller then walks the
    parsed value); a log-batch body empties in three passes.
    """
    skeleton = (raw.encode() if isinstance(raw, str) else raw).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_JSON_DEPTH // 2):
        if not skeleton:
            return True
        shorter = skeleton.replace(b"{}", b"").replace(b"[]", b"")
        if len(shorter) == len(skeleton):
            return False
        skeleton = shorter
    return not skeleton


def _depth_within(value: object, limit: int) -> bool:
    """Whether no list or object in ``value`` lies more than ``limit`` levels deep."""
    stack: list[tuple[dict[str, object] | list[object], int]] = []
    if isinstance(value, (dict, list)):
        stack.append((value, 1))
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return False
                stack.append((child, depth + 1))
    return True


def _lookup(params: Mapping[str, object], name: str) -> object:
    camel = lower_camel(name)
    if camel != name and name in params and camel in params:
        raise InvalidParameter(f"Request field '{name}' is given twice, as '{name}' and '{camel}'.")
    return params[name] if name in params else params.get(camel)


def _decode(field: Field, raw: object, from_query: bool) -> Any:
    decode = _DECODERS[field.kind]
    if field.repeated:
        return [decode(item, field.name) for item in as_list(raw, field.name)]
    if from_query and isinstance(raw, list):
        raw = raw[0]
    return decode(raw, field.name)


def parse_request(
    route: Route, params: Mapping[str, object], *, from_query: bool = False
) -> dict[str, Any]:
    """The route's fields decoded from a JSON body, or from ``query_lists`` output.

    Absent fields are left out (so callers apply their own defaults); unknown keys are ignored;
    a missing required field is InvalidParameter with MLflow's "Missing value" message.
    """
    values: dict[str, Any] = {}
    for field in route.request:
        raw = _lookup(params, field.name)
        if raw is None or (from_query and raw == []):
            if field.required:
                raise missing_parameter(field.name)
            continue
        values[field.name] = _decode(field, raw, from_query)
    return values


def run_id_of(values: Mapping[str, Any]) -> str:
    """The run a request names: ``run_id``, else the legacy ``run_uuid``; one is required."""
    run_id = values.get("run_id") or values.get("run_uuid")
    if not run_id:
        raise missing_parameter("run_id")
    return str(run_id)


def _with_run_uuid(route: Route, values: Mapping[str, Any]) -> dict[str, Any]:
    # Older servers read only run_uuid, so the client fills it whenever the route has it.
    filled = {name: value for name, value in values.items() if value is not None}
    names = {field.name for field in route.request}
    if "run_uuid" in names and "run_id" in filled:
        filled.setdefault("run_uuid", filled["run_id"])
    unknown = set(filled) - names
    if unknown:
        raise ValueError(f"{route.name} has no request fields {sorted(unknown)}")
    return filled


def encode_request(route: Route, values: Mapping[str, Any]) -> JsonDict:
    """A JSON body for ``route``; None values are left out. ValueError on unknown field names."""
    body: JsonDict = {}
    for name, value in _with_run_uuid(route, values).items():
        encode = _ENCODERS[route.field(name).kind]
        repeated = route.field(name).repeated
        body[name] = [encode(item) for item in value] if repeated else encode(value)
    return body


def encode_query(route: Route, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Query-string pairs for a GET: lists become repeated keys, booleans ``True``/``False``."""
    pairs: list[tuple[str, str]] = []
    for name, value in _with_run_uuid(route, values).items():
        field = route.field(name)
        for item in value if field.repeated else [value]:
            if field.kind == "bool":
                pairs.append((name, encode_query_bool(bool(item))))
            else:
                pairs.append((name, str(_ENCODERS[field.kind](item))))
    return pairs


__all__ = [
    "encode_query",
    "encode_request",
    "load_json",
    "lower_camel",
    "parse_body",
    "parse_request",
    "run_id_of",
]
