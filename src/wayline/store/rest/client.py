"""The HTTP side of the REST store: one pooled ``httpx.Client``, retries, auth and errors.

Transport rules follow spec rest-tracking.md §1: JSON bodies for writes, query strings for GETs,
``{"error_code", "message"}`` error bodies turned back into ``WaylineError`` subclasses, and
MLflow's client retry policy (exponential backoff with jitter, ``Retry-After`` honoured).

Nothing here reads the environment: ``rest_settings_from_env`` is handed the mapping by the one
caller that may read it (``wayline.store.resolve``) and returns a frozen ``RestSettings``. When
the mapping names no username or password, it looks in MLflow's credentials file,
``~/.mlflow/credentials`` (``$HOME`` taken from the mapping).

Every request identifies the client (spec §1.5): ``User-Agent: wayline-python-client/<version>``
and ``X-MLflow-Client-Version`` with the MLflow protocol version Wayline speaks, and the user it
acts for: ``X-Wayline-User`` (``store.registry.current_user()``, percent-encoded), which a Wayline
server names in the registry's audit trail when no Basic-auth user is given.
"""

from __future__ import annotations

import base64
import configparser
import email.utils
import json
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from wayline.errors import InvalidParameter, WaylineError
from wayline.protocol import JsonDict, Route, encode_query, encode_request, expand_path, urls
from wayline.protocol.request import MLFLOW_PROTOCOL_VERSION, load_json
from wayline.store.registry import current_user

# Writes MLflow's client may resend after a 5xx or a dropped connection, because replaying them
# is harmless (spec §1.4). Every other POST is retried only when the server never processed it.
RETRY_SAFE_ROUTES = frozenset(
    {
        "LogBatch",
        "LogMetric",
        "LogParam",
        "SetTag",
        "SetExperimentTag",
        "UpdateRun",
        "DeleteRun",
        "RestoreRun",
        "SearchRuns",
        "SearchExperiments",
        "SearchLoggedModels",
        # StartTraceV3 is an upsert, so a client may resend it (spec tracing.md §3.3).
        "StartTraceV3",
        "SearchTracesV3",
        "BatchGetTraceInfos",
    }
)

# 408 and 429 mean the server turned the request away unprocessed, so any call may be resent.
_ALWAYS_RETRY_STATUSES = frozenset({408, 429})
_SAFE_RETRY_STATUSES = frozenset({500, 502, 503, 504})

# A request that never reached the server: resending it cannot apply a write twice.
_NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)

# How MLflow's client reads an error response that carries no JSON error code.
_CODE_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_BODY_EXCERPT = 500

USER_HEADER = "X-Wayline-User"
# Characters a user name keeps as they are in the header; others are percent-encoded (header
# values are ASCII) and the server decodes them.
_USER_SAFE = "@._-+~!$&'()*,;=:"


CREDENTIALS_SECTION = "mlflow"


def client_headers(settings: RestSettings) -> dict[str, str]:
    """Headers on every request: who the client is, and its credentials if any."""
    from wayline import __version__

    return {
        "User-Agent": f"wayline-python-client/{__version__}",
        # Servers read this as the MLflow client version, so it names the protocol we speak.
        "X-MLflow-Client-Version": MLFLOW_PROTOCOL_VERSION,
        **auth_headers(settings),
    }


@dataclass(frozen=True, slots=True)
class RestSettings:
    """How the REST store talks to a server; defaults are MLflow's client defaults.

    ``max_retries``/``backoff_factor``/``backoff_jitter``/``max_backoff`` shape the retry
    schedule: the first retry is immediate, retry ``n`` waits ``backoff_factor * 2**(n-1)``
    seconds plus up to ``backoff_jitter`` random seconds, never more than ``max_backoff``.
    ``verify`` is False for ``MLFLOW_TRACKING_INSECURE_TLS`` or a CA bundle path.
    """

    timeout: float = 120.0
    max_retries: int = 7
    backoff_factor: float = 2.0
    backoff_jitter: float = 1.0
    max_backoff: float = 120.0
    username: str | None = None
    password: str | None = None
    token: str | None = None
    verify: bool | str = True


def _first(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return None


def _number(environ: Mapping[str, str], suffix: str, default: float) -> float:
    value = _first(environ, f"WAYLINE_{suffix}", f"MLFLOW_{suffix}")
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise WaylineError(f"Invalid value {value!r} for {suffix}: expected a number.") from None


def read_credentials_file(path: Path) -> tuple[str | None, str | None]:
    """``(username, password)`` from MLflow's credentials file; Nones when it is absent.

    The file is INI-style::

        [mlflow]
        mlflow_tracking_username = alice
        mlflow_tracking_password = secret
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        found = parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise WaylineError(f"Cannot read the credentials file {path}: {exc}") from None
    if not found or not parser.has_section(CREDENTIALS_SECTION):
        return None, None
    section = parser[CREDENTIALS_SECTION]
    username = section.get("mlflow_tracking_username") or None
    password = section.get("mlflow_tracking_password") or None
    return username, password


def credentials_path(environ: Mapping[str, str]) -> Path:
    """Where MLflow's client keeps credentials: ``~/.mlflow/credentials``."""
    home = environ.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".mlflow" / "credentials"


def rest_settings_from_env(environ: Mapping[str, str]) -> RestSettings:
    """Settings from ``WAYLINE_*`` variables, falling back to their ``MLFLOW_*`` names.

    A username or password missing from the variables comes from ``~/.mlflow/credentials``.
    """
    username = _first(environ, "WAYLINE_TRACKING_USERNAME", "MLFLOW_TRACKING_USERNAME")
    password = _first(environ, "WAYLINE_TRACKING_PASSWORD", "MLFLOW_TRACKING_PASSWORD")
    if username is None or password is None:
        file_username, file_password = read_credentials_file(credentials_path(environ))
        username = username or file_username
        password = password or file_password
    cert_path = _first(
        environ, "WAYLINE_TRACKING_SERVER_CERT_PATH", "MLFLOW_TRACKING_SERVER_CERT_PATH"
    )
    insecure = _first(environ, "WAYLINE_TRACKING_INSECURE_TLS", "MLFLOW_TRACKING_INSECURE_TLS")
    verify: bool | str = cert_path or True
    if insecure is not None and insecure.strip().lower() in ("true", "1", "yes"):
        verify = False
    return RestSettings(
        timeout=_number(environ, "HTTP_REQUEST_TIMEOUT", 120.0),
        max_retries=int(_number(environ, "HTTP_REQUEST_MAX_RETRIES", 7)),
        backoff_factor=_number(environ, "HTTP_REQUEST_BACKOFF_FACTOR", 2.0),
        backoff_jitter=_number(environ, "HTTP_REQUEST_BACKOFF_JITTER", 1.0),
        username=username,
        password=password,
        token=_first(environ, "WAYLINE_TRACKING_TOKEN", "MLFLOW_TRACKING_TOKEN"),
        verify=verify,
    )


def auth_headers(settings: RestSettings) -> dict[str, str]:
    """Basic auth when a username and password are set, else a bearer token, else nothing."""
    if settings.username and settings.password:
        pair = f"{settings.username}:{settings.password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    if settings.token:
        return {"Authorization": f"Bearer {settings.token}"}
    return {}


def tls_verify(base_url: str, settings: RestSettings) -> bool | ssl.SSLContext:
    """httpx's ``verify`` for a client of ``base_url``.

    Redirects are not followed, so a plain-http client never speaks TLS; skipping the default
    context saves loading the CA bundle (tens of ms) on every client opened. httpx 0.28
    deprecates a path for ``verify``, so a CA bundle goes in through an SSLContext.
    """
    if base_url.lower().startswith("http://"):
        return False
    verify = settings.verify
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify


def error_from_response(response: httpx.Response) -> WaylineError:
    """The WaylineError an error response stands for (spec §1.4, client-side reading)."""
    try:
        body: object = load_json(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error_code"):
        code = str(body["error_code"])
        message = str(body.get("message") or "")
        # Some servers put the HTTP status in error_code; read it as the status it names.
        if code.isdigit():
            code = _CODE_BY_STATUS.get(int(code), _fallback_code(int(code)))
        return WaylineError.from_error_code(code, message)
    code = _CODE_BY_STATUS.get(response.status_code, _fallback_code(response.status_code))
    detail = response.text[:_BODY_EXCERPT]
    if response.is_redirect:
        detail = f"redirected to {response.headers.get('Location')}; use that tracking URI"
    return WaylineError.from_error_code(
        code,
        f"API request to {response.request.url} failed with status "
        f"{response.status_code}: {detail}",
    )


def _fallback_code(status: int) -> str:
    return "BAD_REQUEST" if 400 <= status < 500 else "INTERNAL_ERROR"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait: a number (fractions allowed) or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _body_json(response: httpx.Response) -> JsonDict:
    # MLflow's client reads an empty (or non-JSON, "200 OK") success body as {}.
    try:
        body: object = load_json(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class RestClient:
    """Sends route-table requests to one server and returns their JSON bodies.

    One ``httpx.Client`` (a keep-alive connection pool) serves every call; ``close`` releases it
    and the next call opens a new one. ``transport`` replaces the network (tests pass
    ``httpx.MockTransport``); ``sleep`` is what waits between retries.
    """

    def __init__(
        self,
        base_url: str,
        settings: RestSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.settings = settings or RestSettings()
        self._transport = transport
        self._sleep = sleep
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        client = self._client
        if client is not None:  # the common case needs no lock
            return client
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.settings.timeout),
                    headers=client_headers(self.settings),
                    transport=self._transport,
                    verify=tls_verify(self.base_url, self.settings),
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def url(self, route: Route) -> str:
        return self.base_url + urls(route)[0]

    def build_request(self, route: Route, values: Mapping[str, Any]) -> httpx.Request:
        """The request for one RPC: a query string for GETs, a JSON body otherwise.

        Path parameters (``{model_id}``) are filled into the URL and left out of a GET's query;
        a JSON body keeps them, as MLflow's client sends it: MLflow's server reads
        FinalizeLoggedModel's ``model_id`` from the body, not the path.
        """
        http = self._http()
        # Per request, not per client: the acting user is a context variable.
        user = {USER_HEADER: quote(current_user(), safe=_USER_SAFE)}
        try:
            url = self.url(route)
            if route.path_fields:
                url = expand_path(url, values)
            if route.method == "GET":
                values = {k: v for k, v in values.items() if k not in route.path_fields}
                params = tuple(encode_query(route, values))
                return http.build_request("GET", url, params=params, headers=user)
            body = json.dumps(encode_request(route, values), separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            # A value of the wrong type (a string metric value, say) cannot be encoded; report
            # it as the server would have, instead of as a crash inside the encoder.
            raise InvalidParameter(f"Invalid {route.name} request: {exc}") from exc
        return http.build_request(
            route.method,
            url,
            content=body.encode(),
            headers={"Content-Type": "application/json", **user},
        )

    def call(self, route: Route, values: Mapping[str, Any]) -> JsonDict:
        """Send one RPC (retrying as MLflow's client does) and return its JSON body.

        Raises the WaylineError subclass the server's error code names, or WaylineError when
        the server cannot be reached after the last retry.
        """
        retry_safe = route.method == "GET" or route.name in RETRY_SAFE_ROUTES
        return _body_json(self.send(self.build_request(route, values), retry_safe=retry_safe))

    def post_bytes(
        self, path: str, content: bytes, headers: Mapping[str, str], *, retry_safe: bool = False
    ) -> httpx.Response:
        """POST a body that is not JSON (OTLP protobuf to ``/v1/traces``) to ``base_url + path``,
        with the retries and error reading of ``call``; the successful response."""
        user = {USER_HEADER: quote(current_user(), safe=_USER_SAFE)}
        request = self._http().build_request(
            "POST", self.base_url + path, content=content, headers={**headers, **user}
        )
        return self.send(request, retry_safe=retry_safe)

    def send(self, request: httpx.Request, *, retry_safe: bool) -> httpx.Response:
        """Send ``request``, retrying as MLflow's client does; a status >= 300 is raised as the
        WaylineError it stands for. ``retry_safe`` allows resending after a 5xx or a dropped
        connection (replaying the request is harmless)."""
        attempt = 0
        while True:
            try:
                response = self._http().send(request)
            except httpx.TransportError as exc:
                resendable = retry_safe or isinstance(exc, _NOT_SENT_ERRORS)
                if not resendable or attempt >= self.settings.max_retries:
                    raise WaylineError(
                        f"API request to {request.url} failed: {type(exc).__name__}: {exc}"
                    ) from exc
                attempt += 1
                self._sleep(self._backoff(attempt, None))
                continue
            status = response.status_code
            retryable = status in _ALWAYS_RETRY_STATUSES or (
                retry_safe and status in _SAFE_RETRY_STATUSES
            )
            if retryable and attempt < self.settings.max_retries:
                attempt += 1
                self._sleep(self._backoff(attempt, _retry_after(response)))
                continue
            # A redirect is an error too: resending a write elsewhere is not ours to decide.
            if status >= 300:
                raise error_from_response(response)
            return response

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``attempt`` (urllib3's schedule, as MLflow's)."""
        settings = self.settings
        if retry_after is not None:
            return min(retry_after, settings.max_backoff)
        if attempt <= 1:
            return 0.0
        delay = settings.backoff_factor * float(2 ** (attempt - 1))
        delay += random.uniform(0, settings.backoff_jitter)
        return min(delay, settings.max_backoff)


__all__ = [
    "RETRY_SAFE_ROUTES",
    "USER_HEADER",
    "RestClient",
    "RestSettings",
    "auth_headers",
    "client_headers",
    "credentials_path",
    "error_from_response",
    "read_credentials_file",
    "rest_settings_from_env",
    "tls_verify",
]
