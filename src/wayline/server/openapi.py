"""The OpenAPI description of the tracking API, served at ``OPENAPI_URL``."""

from __future__ import annotations

import functools

import orjson
from starlette.requests import Request
from starlette.responses import Response

from wayline.protocol.openapi import openapi_document

# Under the API prefix rather than at /openapi.json: MLflow serves nothing there, and the
# document describes only the MLflow API.
OPENAPI_URL = "/api/2.0/mlflow/openapi.json"


@functools.cache
def _document_bytes() -> bytes:
    # The route table is fixed at import time, so the document is rendered once per process.
    return orjson.dumps(openapi_document())


async def openapi_json(_: Request) -> Response:
    return Response(_document_bytes(), media_type="application/json")


__all__ = ["OPENAPI_URL", "openapi_json"]
