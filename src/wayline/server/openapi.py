"""The OpenAPI description of the tracking API, served at ``OPENAPI_URL`` (and under /docs)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from wayline.protocol.openapi import openapi_document

# Under the API prefix rather than at /openapi.json: MLflow serves nothing there, and the
# document describes only the MLflow API.
OPENAPI_URL = "/api/2.0/mlflow/openapi.json"


class WaylineApp(FastAPI):
    """FastAPI, describing itself with the document built from the route table.

    The handlers take the raw request (MLflow's JSON, decoded by ``wayline.protocol``), so
    FastAPI's own schema generation would see no parameters at all.
    """

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = openapi_document()
        return self.openapi_schema


__all__ = ["OPENAPI_URL", "WaylineApp"]
