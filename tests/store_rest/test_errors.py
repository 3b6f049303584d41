"""Error responses turned back into the WaylineError tree (spec rest-tracking.md §1.4)."""

from __future__ import annotations

import httpx
import pytest

from wayline.entities import Metric
from wayline.errors import (
    AlreadyExists,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    WaylineError,
)

from ._support import ScriptedFactory


def _error(status: int, code: str, message: str = "msg") -> httpx.Response:
    return httpx.Response(status, json={"error_code": code, "message": message, "sqlstate": "X"})


@pytest.mark.parametrize(
    ("response", "cls", "code"),
    [
        (_error(404, "RESOURCE_DOES_NOT_EXIST"), NotFound, "RESOURCE_DOES_NOT_EXIST"),
        (_error(400, "RESOURCE_ALREADY_EXISTS"), AlreadyExists, "RESOURCE_ALREADY_EXISTS"),
        (_error(400, "INVALID_PARAMETER_VALUE"), InvalidParameter, "INVALID_PARAMETER_VALUE"),
        (_error(409, "ABORTED"), WaylineError, "ABORTED"),
        # A numeric error_code names an HTTP status.
        (_error(403, "403"), PermissionDenied, "PERMISSION_DENIED"),
        # Bodies without an error code are read from the status alone.
        (httpx.Response(404, text="<html>Not Found</html>"), WaylineError, "ENDPOINT_NOT_FOUND"),
        (httpx.Response(400, text="bad"), WaylineError, "BAD_REQUEST"),
        (httpx.Response(401, text=""), WaylineError, "UNAUTHENTICATED"),
        (httpx.Response(403, json={"detail": "no"}), PermissionDenied, "PERMISSION_DENIED"),
        (httpx.Response(418, text="teapot"), WaylineError, "BAD_REQUEST"),
        (httpx.Response(501, text="nope"), WaylineError, "NOT_IMPLEMENTED"),
    ],
)
def test_error_mapping(
    scripted: ScriptedFactory, response: httpx.Response, cls: type[WaylineError], code: str
) -> None:
    s = scripted(response)
    with pytest.raises(cls) as info:
        s.store.delete_experiment("1")
    assert type(info.value) is cls
    assert info.value.error_code == code


def test_json_error_message_is_kept(scripted: ScriptedFactory) -> None:
    s = scripted(_error(404, "RESOURCE_DOES_NOT_EXIST", "Run with id=abc not found"))
    with pytest.raises(NotFound, match=r"^Run with id=abc not found$"):
        s.store.get_run("abc")


def test_plain_error_message_names_url_and_status(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(404, text="x" * 5000))
    with pytest.raises(WaylineError) as info:
        s.store.get_run("abc")
    message = info.value.message
    assert "/api/2.0/mlflow/runs/get" in message and "404" in message
    assert len(message) < 1000


def test_get_experiment_by_name_none_when_missing(scripted: ScriptedFactory) -> None:
    s = scripted(_error(404, "RESOURCE_DOES_NOT_EXIST"))
    assert s.store.get_experiment_by_name("nope") is None
    assert s.requests[0].url.params["experiment_name"] == "nope"


def test_get_experiment_by_name_endpoint_missing_is_an_error(scripted: ScriptedFactory) -> None:
    # A plain 404 means the server lacks the endpoint, not that the experiment is absent.
    s = scripted(httpx.Response(404, text="Not Found"))
    with pytest.raises(WaylineError) as info:
        s.store.get_experiment_by_name("nope")
    assert info.value.error_code == "ENDPOINT_NOT_FOUND"


@pytest.mark.parametrize("body", [b"", b"OK", b"[]"])
def test_success_without_json_object_reads_as_empty(scripted: ScriptedFactory, body: bytes) -> None:
    s = scripted(httpx.Response(200, content=body))
    s.store.delete_tag("r1", "k")


def test_create_experiment_without_id_is_an_error(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(200, json={}))
    with pytest.raises(WaylineError, match="without an id"):
        s.store.create_experiment("e")


def test_redirect_is_an_error_naming_the_target(scripted: ScriptedFactory) -> None:
    s = scripted(httpx.Response(301, headers={"Location": "https://elsewhere/api"}))
    with pytest.raises(WaylineError, match="https://elsewhere/api") as info:
        s.store.create_experiment("e")
    assert info.value.error_code == "INTERNAL_ERROR"
    assert len(s.requests) == 1


def test_unencodable_value_is_invalid_parameter(scripted: ScriptedFactory) -> None:
    s = scripted()
    bad = Metric("m", "1.0", timestamp=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="LogBatch"):
        s.store.log_batch("r1", metrics=[bad])
    assert s.requests == []


def test_rename_to_empty_name_is_refused_locally(scripted: ScriptedFactory) -> None:
    # MLflow's server reads an empty new_name as "no rename"; the store must still refuse it.
    s = scripted()
    with pytest.raises(InvalidParameter):
        s.store.rename_experiment("1", " ")
    assert s.requests == []
