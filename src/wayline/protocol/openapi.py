"""An OpenAPI 3 description of the REST API, generated from the route tables.

Nothing here is written by hand per route: paths, methods, parameters and bodies come from
``ALL_ROUTES`` (tracking, model registry, webhooks), so a route added to a table is described as
soon as it exists. Each route is described at its ``/api/...`` URL (the ``/ajax-api/...`` twin
answers the same). The description states what the server accepts, which is a little wider than
what MLflow's client sends: int64 fields take numbers or decimal strings, doubles take numbers or
the strings "NaN", "Infinity" and "-Infinity", enums take their names, version numbers take
decimal strings or integers.

Responses are described loosely (an object listing the route's top-level keys), because their
contents are defined by the protocol encoders and checked by the codec tests, not here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any

from wayline import entities
from wayline.entities.registry import WEBHOOK_EVENTS, WebhookStatus
from wayline.protocol.routes import ALL_ROUTES, Field, Route, urls

JsonSchema = dict[str, Any]

OPENAPI_VERSION = "3.0.3"
_PATH_PARAMETER = re.compile(r"\{(\w+)\}")
_METHODS_WITH_QUERY = frozenset({"GET"})

_STRING: JsonSchema = {"type": "string"}
_INT64: JsonSchema = {
    "oneOf": [
        {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
        {"type": "string", "pattern": r"^[+-]?[0-9]+$"},
    ]
}
_INT32: JsonSchema = {
    "type": "integer",
    "format": "int32",
    "minimum": -(2**31),
    "maximum": 2**31 - 1,
}
_DOUBLE: JsonSchema = {
    "oneOf": [
        {"type": "number", "format": "double"},
        {"type": "string", "enum": ["NaN", "Infinity", "-Infinity"]},
    ]
}


def _object(required: Iterable[str] = (), **properties: JsonSchema) -> JsonSchema:
    schema: JsonSchema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


_KEY_VALUE = _object(("key",), key=_STRING, value=_STRING)

# Named schemas of the message kinds, under #/components/schemas.
_MESSAGES: dict[str, JsonSchema] = {
    "KeyValue": _KEY_VALUE,
    "Metric": _object(
        ("key", "value", "timestamp"),
        key=_STRING,
        value=_DOUBLE,
        timestamp=_INT64,
        step=_INT64,
        dataset_name=_STRING,
        dataset_digest=_STRING,
        model_id=_STRING,
        run_id=_STRING,
    ),
    "Dataset": _object(
        ("name", "digest", "source_type", "source"),
        name=_STRING,
        digest=_STRING,
        source_type=_STRING,
        source=_STRING,
        schema=_STRING,
        profile=_STRING,
    ),
    "DatasetInput": _object(
        ("dataset",),
        tags={"type": "array", "items": {"$ref": "#/components/schemas/KeyValue"}},
        dataset={"$ref": "#/components/schemas/Dataset"},
    ),
    "ModelInput": _object(("model_id",), model_id=_STRING),
    "ModelOutput": _object(("model_id",), model_id=_STRING, step=_INT64),
    "LoggedModelDataset": _object(("dataset_name",), dataset_name=_STRING, dataset_digest=_STRING),
    "LoggedModelOrderBy": _object(
        ("field_name",),
        field_name=_STRING,
        ascending={"type": "boolean"},
        dataset_name=_STRING,
        dataset_digest=_STRING,
    ),
    "WebhookEvent": _object(
        ("entity", "action"),
        entity={"type": "string", "enum": list(WEBHOOK_EVENTS)},
        action={
            "type": "string",
            "enum": sorted({a for actions in WEBHOOK_EVENTS.values() for a in actions}),
        },
    ),
    "Error": _object(("error_code", "message"), error_code=_STRING, message=_STRING),
    "TraceLocation": _object(
        ("type",),
        type={"type": "string", "enum": ["MLFLOW_EXPERIMENT", "INFERENCE_TABLE"]},
        mlflow_experiment=_object(("experiment_id",), experiment_id=_STRING),
    ),
    "PromptVersionRef": _object(("name", "version"), name=_STRING, version=_STRING),
}
# Field kinds that share one message schema.
_MESSAGE_ALIASES = {
    "ExperimentTag": "KeyValue",
    "RunTag": "KeyValue",
    "Param": "KeyValue",
    "TraceRequestMetadata": "KeyValue",
}
_SCALARS: dict[str, JsonSchema] = {
    "str": _STRING,
    "i64": _INT64,
    "i32": _INT32,
    "f64": _DOUBLE,
    "bool": {"type": "boolean"},
    # A model version number: a decimal string on the wire, a JSON integer also accepted.
    "version": {
        "oneOf": [
            {"type": "string", "pattern": r"^[+-]?[0-9]+$"},
            {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
        ]
    },
    "WebhookStatus": {"type": "string", "enum": list(WebhookStatus.__members__)},
    "TraceStatus": {
        "type": "string",
        "enum": ["TRACE_STATUS_UNSPECIFIED", "OK", "ERROR", "IN_PROGRESS"],
    },
    # A protobuf FieldMask: lowerCamel paths joined by commas ("assessmentName,feedback").
    "field_mask": {"type": "string"},
}


def field_schema(kind: str) -> JsonSchema:
    """The JSON schema of one value of a field kind.

    Enums are looked up among the entities by the kind's name, so a new enum kind needs no
    change here. A kind this module does not know yet gets an unconstrained schema (a message
    kind: any object) rather than a wrong one.
    """
    if kind in _SCALARS:
        return dict(_SCALARS[kind])
    named = _MESSAGE_ALIASES.get(kind, kind)
    if kind.endswith("Tag") and named not in _MESSAGES:
        named = "KeyValue"  # every *Tag kind of the protocol is a {key, value} pair
    if named in _MESSAGES:
        return {"$ref": f"#/components/schemas/{named}"}
    candidate = getattr(entities, kind, None)
    if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
        return {"type": "string", "enum": list(candidate.__members__)}
    return {"type": "object"} if kind[:1].isupper() else {}


def _value_schema(field: Field) -> JsonSchema:
    item = field_schema(field.kind)
    return {"type": "array", "items": item} if field.repeated else item


def _query_schema(field: Field) -> JsonSchema:
    # A query string holds text: a one-of of number and numeric string would be ambiguous
    # there (both serialise alike), so integers are plain integers, doubles plain numbers.
    kind = field.kind
    if kind == "i64":
        item: JsonSchema = dict(_INT64["oneOf"][0])
    elif kind == "version":
        item = dict(_SCALARS["version"]["oneOf"][0])
    elif kind == "f64":
        item = {"type": "number", "format": "double"}
    else:
        item = field_schema(kind)
    return {"type": "array", "items": item} if field.repeated else item


def _parameters(route: Route, method: str) -> list[JsonSchema]:
    in_path = _PATH_PARAMETER.findall(route.path)
    parameters: list[JsonSchema] = [
        {"name": name, "in": "path", "required": True, "schema": _STRING} for name in in_path
    ]
    if method in _METHODS_WITH_QUERY:
        for field in route.request:
            if field.name in in_path:
                continue
            parameter: JsonSchema = {
                "name": field.name,
                "in": "query",
                "required": field.required,
                "schema": _query_schema(field),
            }
            if field.repeated:
                parameter.update(style="form", explode=True)  # run_ids=a&run_ids=b
            parameters.append(parameter)
    return parameters


def _request_body(route: Route) -> JsonSchema | None:
    in_path = set(_PATH_PARAMETER.findall(route.path))
    fields = [field for field in route.request if field.name not in in_path]
    if not fields:
        return None
    required = [field.name for field in fields if field.required]
    schema = _object(required, **{field.name: _value_schema(field) for field in fields})
    return {
        "required": bool(required),
        "content": {"application/json": {"schema": schema}},
    }


def _operation(route: Route, method: str) -> JsonSchema:
    # operationIds must be unique: extra methods of one RPC get the method as a suffix.
    suffix = "" if method == route.method else method.capitalize()
    ok = _object(**{key: {} for key in route.response})
    operation: JsonSchema = {
        "operationId": f"{route.name}{suffix}",
        "summary": route.name,
        "parameters": _parameters(route, method),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ok}}},
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if method not in _METHODS_WITH_QUERY:
        body = _request_body(route)
        if body is not None:
            operation["requestBody"] = body
    if not operation["parameters"]:
        del operation["parameters"]
    return operation


def openapi_document(routes: Iterable[Route] = ALL_ROUTES) -> JsonSchema:
    """The OpenAPI 3 document of ``routes``, ready to serialise as JSON."""
    from wayline import __version__

    paths: dict[str, JsonSchema] = {}
    for route in routes:
        item = paths.setdefault(urls(route)[0], {})
        for method in route.methods:
            item[method.lower()] = _operation(route, method)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Wayline tracking and model registry API",
            "version": __version__,
            "description": (
                "MLflow's tracking and model registry REST API as served by Wayline. Every "
                "path is also served under /ajax-api/ instead of /api/."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": _MESSAGES,
            "responses": {
                "Error": {
                    "description": "An error, with MLflow's error code.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
        },
    }


__all__ = ["OPENAPI_VERSION", "JsonSchema", "field_schema", "openapi_document"]
