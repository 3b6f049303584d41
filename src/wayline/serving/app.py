"""The scoring server: a small ASGI app in front of one loaded pyfunc model.

It speaks MLflow's scoring protocol (spec/model-format.md §6): ``GET /ping`` and ``/health``
(200 once the model is loaded), ``GET /version``, ``POST /invocations`` with JSON, CSV or
Parquet bodies. It is a bare ASGI callable rather than a FastAPI app: four fixed routes need no
router, and skipping the framework's request and response objects is most of the time a
one-row request spends in the server.

Work per request: the body is read (refused with 413 past ``max_request_bytes``); parsing,
``predict`` and encoding then run together in a thread pool so the event loop keeps answering
health checks, and the whole of it is bounded by ``timeout_s`` (504 after). Errors are JSON
``{"error_code", "message"}``: bad input is 400, never 500; an exception inside ``predict`` is
400 ``BAD_REQUEST`` naming the exception, its traceback going to the server log only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from wayline.errors import InvalidParameter, WaylineError, http_status
from wayline.serving.inputs import ParsedInput, parse_json
from wayline.serving.outputs import encode, encode_predictions
from wayline.serving.settings import MODEL_URI_ENV, ScoringSettings
from wayline.serving.tables import parse_csv, parse_parquet

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from wayline.pyfunc import PyFuncModel

CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_PARQUET = "application/vnd.apache.parquet"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON, CONTENT_TYPE_PARQUET]

logger = logging.getLogger("wayline.serving")
access_logger = logging.getLogger("wayline.access")

_JSON = [(b"content-type", b"application/json")]
_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]


class Reply:
    """A finished response: status, body and content-type header."""

    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.body = body
        self.headers = headers


def error_reply(error: WaylineError, status: int | None = None, **extra: str) -> Reply:
    body = {"error_code": error.error_code, "message": error.message, **extra}
    return Reply(status or http_status(error.error_code), encode(body), _JSON)


def text_reply(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), _TEXT)


def _content_type(header: str | None) -> str | Reply:
    """The media type of a request, or the 415 answer MLflow gives for it."""
    if not header:
        return text_reply(
            415,
            f"This predictor only supports the following content types: Types: {CONTENT_TYPES}. "
            "Got no Content-Type header.",
        )
    media, *rest = (part.strip() for part in header.split(";"))
    options = {
        key.strip().lower(): value.strip() for key, _, value in (p.partition("=") for p in rest)
    }
    if options.get("charset", "utf-8").lower() != "utf-8":
        return text_reply(415, "The scoring server only supports UTF-8")
    if unexpected := sorted(set(options) - {"charset"}):
        return text_reply(
            415,
            f"Unrecognized content type parameters: {', '.join(unexpected)}. The scoring protocol "
            "of MLflow 2.0 and later takes no format parameter: send application/json with one "
            "of dataframe_split, dataframe_records, instances or inputs.",
        )
    media = media.lower()
    if media not in CONTENT_TYPES:
        return text_reply(
            415,
            f"This predictor only supports the following content types: Types: {CONTENT_TYPES}. "
            f"Got '{header}'.",
        )
    return media


def _rows(data: Any) -> int:
    if isinstance(data, dict):
        return max((_rows(v) for v in data.values()), default=1)
    shape = getattr(data, "shape", None)
    if shape:
        return int(shape[0])
    return len(data) if isinstance(data, list) else 1


class ScoringApp:
    """The ASGI app serving ``model``; build it with ``create_scoring_app``."""

    def __init__(self, model: PyFuncModel, settings: ScoringSettings) -> None:
        self.model = model
        self.settings = settings
        meta = model.metadata
        self._schema = meta.get_input_schema()
        self._params_schema = meta.get_params_schema()
        self._from_type_hints = bool(
            meta.signature is not None and meta.signature._is_signature_from_type_hint
        )
        self._executor = ThreadPoolExecutor(settings.threads, thread_name_prefix="wayline-predict")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        reply = await self._route(scope, receive)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [*reply.headers, (b"content-length", str(len(reply.body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})
        if self.settings.access_log:
            access_logger.info(
                "method=%s path=%s status=%d duration_ms=%.2f",
                scope["method"],
                scope["path"],
                reply.status,
                (time.perf_counter() - started) * 1000,
            )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope: Scope, receive: Receive) -> Reply:
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method != "POST":
                return Reply(405, b"Method Not Allowed", [*_TEXT, (b"allow", b"POST")])
            return await self._invocations(scope, receive)
        if path in ("/ping", "/health", "/version"):
            if method not in ("GET", "HEAD"):
                return Reply(405, b"Method Not Allowed", [*_TEXT, (b"allow", b"GET")])
            if path == "/version":
                return Reply(200, _mlflow_version().encode(), _JSON)
            return Reply(200, b"\n", _JSON)
        return text_reply(404, "Not Found")

    async def _invocations(self, scope: Scope, receive: Receive) -> Reply:
        headers = dict(scope["headers"])
        raw_type = headers.get(b"content-type")
        media = _content_type(raw_type.decode("latin-1") if raw_type else None)
        if isinstance(media, Reply):
            return media
        try:
            async with asyncio.timeout(self.settings.timeout_s):
                body = await self._body(headers, receive)
                if isinstance(body, Reply):
                    return body
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self._executor, self.invoke, body, media)
        except TimeoutError:
            error = WaylineError(
                f"Request processing time exceeded the limit of {self.settings.timeout_s:g} s. "
                "Send fewer rows per request or start the server with a larger --timeout.",
                "DEADLINE_EXCEEDED",
            )
            return error_reply(error, 504)

    async def _body(self, headers: dict[bytes, bytes], receive: Receive) -> bytes | Reply:
        limit = self.settings.max_request_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return self._too_large(int(declared))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return text_reply(400, "The client disconnected before sending the whole body.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return self._too_large(size)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def _too_large(self, size: int) -> Reply:
        limit = self.settings.max_request_bytes
        return error_reply(
            WaylineError(
                f"The request body ({size} bytes) is larger than this server accepts ({limit} "
                "bytes). Split the input into smaller requests or start the server with a larger "
                "--max-request-bytes.",
                "BAD_REQUEST",
            ),
            413,
        )

    def invoke(self, body: bytes, media: str) -> Reply:
        """Parse, predict and encode one request (runs in the thread pool)."""
        try:
            parsed = self.parse(body, media)
        except WaylineError as e:
            return error_reply(e)
        limit = self.settings.max_batch_rows
        if limit is not None and (rows := _rows(parsed.data)) > limit:
            return error_reply(
                InvalidParameter(
                    f"The request holds {rows} rows; this server takes at most {limit} per "
                    "request. Split the input into smaller requests."
                )
            )
        try:
            predictions = self.model.predict(parsed.data, params=parsed.params)
        except InvalidParameter as e:
            return error_reply(
                InvalidParameter(f"Failed to predict data. \nError: {e.message}"),
                error_class="SCHEMA_ENFORCEMENT_FAILED",
            )
        except WaylineError as e:
            return error_reply(e, 400 if http_status(e.error_code) >= 500 else None)
        except Exception as e:  # any failure of the model's own code is the input's fault here
            logger.exception("predict failed")
            return error_reply(
                WaylineError(
                    "Encountered an unexpected error while evaluating the model. Verify that the "
                    "serialized input Dataframe is compatible with the model for inference. "
                    f"Error: {type(e).__name__}: {e}",
                    "BAD_REQUEST",
                )
            )
        try:
            return Reply(200, encode_predictions(predictions, parsed.unwrapped), _JSON)
        except TypeError as e:
            logger.exception("could not encode predictions")
            return error_reply(
                WaylineError(f"The model's output cannot be written as JSON: {e}", "BAD_REQUEST")
            )

    def parse(self, body: bytes, media: str) -> ParsedInput:
        """The model input of a request body of type ``media``."""
        if media == CONTENT_TYPE_JSON:
            return parse_json(body, self._schema, self._params_schema, self._from_type_hints)
        if media == CONTENT_TYPE_CSV:
            return ParsedInput(parse_csv(body, self._schema))
        return ParsedInput(parse_parquet(body))


_version: str | None = None


def _mlflow_version() -> str:
    """The MLflow version whose protocol this server speaks (what MLflow's /version answers)."""
    global _version  # noqa: PLW0603 - computed on first use: the import is not free
    if _version is None:
        from wayline.protocol.request import MLFLOW_PROTOCOL_VERSION

        _version = MLFLOW_PROTOCOL_VERSION
    return _version


def create_scoring_app(
    model: str | PyFuncModel, settings: ScoringSettings | None = None
) -> ScoringApp:
    """An ASGI scoring server for ``model`` (a model URI or an already loaded PyFuncModel).

    Example::

        import uvicorn
        from wayline.serving import ScoringSettings, create_scoring_app

        app = create_scoring_app("models:/m-0123...", ScoringSettings(timeout_s=10))
        uvicorn.run(app, port=5001)
    """
    settings = settings or ScoringSettings()
    if isinstance(model, (str, os.PathLike)):
        from wayline.pyfunc import load_model

        config = dict(settings.model_config) if settings.model_config is not None else None
        model = load_model(os.fspath(model), model_config=config)
    return ScoringApp(model, settings)


def freeze_heap() -> None:
    """Move everything loaded so far (libraries, the model) out of the garbage collector's
    reach, and turn collection back on. A server process does it once before serving: the
    collections that pandas' many small allocations trigger then skip those millions of
    long-lived objects, which takes milliseconds off the slowest requests.

    ``wayline models serve`` turns collection off while it imports and loads the model (a
    sixth of the start-up went to collections finding almost nothing); no collection precedes
    the freeze either, as it would spend a tenth of a second to free a few thousand objects.
    """
    import gc

    gc.freeze()
    gc.enable()


def create_scoring_app_from_env() -> ScoringApp:
    """The factory each uvicorn worker calls: the model URI and settings from the environment."""
    uri = os.environ.get(MODEL_URI_ENV)
    if not uri:
        raise WaylineError(
            f"{MODEL_URI_ENV} is not set: start the server with wayline models serve"
        )
    app = create_scoring_app(uri, ScoringSettings.from_env())
    freeze_heap()
    return app


__all__ = [
    "CONTENT_TYPES",
    "ScoringApp",
    "create_scoring_app",
    "create_scoring_app_from_env",
    "freeze_heap",
]
