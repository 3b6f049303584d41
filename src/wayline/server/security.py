"""``SecurityMiddleware``: the checks every request passes before it reaches a route.

A pure ASGI middleware (no ``BaseHTTPMiddleware``, which costs a task and a queue per request);
it reads the few headers it needs in one pass over the raw header list. In order:

1. **Host allow-list** against DNS rebinding: a page on ``evil.example`` that re-points its
   name at 127.0.0.1 still sends ``Host: evil.example``. By default loopback names, private
   and link-local addresses and the host the server binds are allowed, at any port;
   ``allowed_hosts`` replaces that list (``*`` allows all). ``/health`` is exempt so that load
   balancers may probe by any address. Refused: 403 PERMISSION_DENIED.
2. **Cross-origin writes**: a POST/PUT/PATCH/DELETE carrying an ``Origin`` must come from the
   same origin or an allowed CORS origin (by default any localhost origin), else 403. Allowed
   origins get CORS headers, and their preflight ``OPTIONS`` requests are answered here.
3. **JSON only** on the tracking API's writes (``/api/`` and ``/ajax-api/``): another
   ``Content-Type`` is 400 INVALID_PARAMETER_VALUE, as MLflow's server answers; no content type
   is accepted with an empty body (an empty body means ``{}``). The artifact proxy, whose
   uploads are raw bytes, is exempt.
4. **Body size**: a body over ``max_body_bytes`` (announced or counted while read) is 400
   INVALID_PARAMETER_VALUE. The artifact proxy streams uploads to storage and is exempt.
5. ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options`` on every response.

Host and origin patterns are shell-style (``*.example.com``, ``192.168.*``,
``http://localhost:*``); a host pattern with a port matches that port only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wayline.errors import InvalidParameter

# Paths whose request bodies are not JSON: the artifact proxy takes raw bytes on PUT.
RAW_BODY_PREFIXES: tuple[str, ...] = (
    "/api/2.0/mlflow-artifacts/",
    "/ajax-api/2.0/mlflow-artifacts/",
)
JSON_API_PREFIXES: tuple[str, ...] = ("/api/", "/ajax-api/")
HOST_CHECK_EXEMPT_PATHS = frozenset({"/health"})
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CONTENT_TYPE_MESSAGE = "Content-Type must be one of ['application/json']"

_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
_CORS_METHODS = b"GET, POST, PUT, PATCH, DELETE, OPTIONS"
_CORS_MAX_AGE = b"600"
# Distinct Host/Origin values remembered with their verdict; a client spraying random names
# only clears the cache, it cannot grow it.
_CACHE_LIMIT = 1024

HostCheck = Callable[[str], bool]
_Refusal = tuple[int, str, str]  # status, error code, message


def security_headers(x_frame_options: str) -> list[tuple[bytes, bytes]]:
    """The headers added to every response (``NONE`` leaves framing to the browser)."""
    headers = [(b"x-content-type-options", b"nosniff")]
    if x_frame_options.upper() != "NONE":
        headers.append((b"x-frame-options", x_frame_options.upper().encode("latin-1")))
    return headers


def split_host(host: str) -> tuple[str, str | None]:
    """``"Example.com:5000"`` -> ``("example.com", "5000")``; IPv6 keeps its brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        if end == -1:
            return host, None
        name, rest = host[: end + 1], host[end + 1 :]
        return name, rest[1:] if rest.startswith(":") else None
    name, sep, port = host.rpartition(":")
    if not sep or not port.isdigit():
        return host, None
    return name, port


def _is_private_address(name: str) -> bool:
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def default_host_check(bound_host: str) -> HostCheck:
    """MLflow's default: loopback names, private addresses, and the host the server binds."""
    bound = split_host(bound_host)[0]
    wildcard_bind = bound in ("", "0.0.0.0", "::", "[::]")

    def allowed(host: str) -> bool:
        name = split_host(host)[0]
        if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
            return True
        if not wildcard_bind and name in (bound, f"[{bound}]"):
            return True
        return _is_private_address(name)

    return allowed


def pattern_host_check(patterns: Iterable[str]) -> HostCheck:
    """Hosts matching one of ``patterns``; ``*`` matches every host."""
    rules = [split_host(pattern) for pattern in patterns if pattern.strip()]

    def allowed(host: str) -> bool:
        name, port = split_host(host)
        for pattern_name, pattern_port in rules:
            if pattern_name == "*" and pattern_port is None:
                return True
            if pattern_port is not None and not fnmatchcase(port or "", pattern_port):
                continue
            if fnmatchcase(name, pattern_name):
                return True
        return False

    return allowed


def default_origin_check(origin: str) -> bool:
    """MLflow's default CORS origins: http(s) pages served from localhost, at any port."""
    scheme, sep, rest = origin.lower().partition("://")
    if not sep or scheme not in ("http", "https"):
        return False
    return split_host(rest)[0] in _LOOPBACK_NAMES


def pattern_origin_check(patterns: Iterable[str]) -> Callable[[str], bool]:
    """Origins matching one of ``patterns`` (``https://*.example.com``); ``*`` matches all."""
    rules = [pattern.strip().lower().rstrip("/") for pattern in patterns if pattern.strip()]
    if "*" in rules:
        return lambda _: True

    def allowed(origin: str) -> bool:
        origin = origin.lower()
        return any(fnmatchcase(origin, rule) for rule in rules)

    return allowed


class _Verdicts:
    """A bounded memo of a check's answers: most requests repeat one Host and one Origin."""

    __slots__ = ("_cache", "_check")

    def __init__(self, check: Callable[[str], bool]) -> None:
        self._check = check
        self._cache: dict[bytes, bool] = {}

    def __call__(self, value: bytes) -> bool:
        verdict = self._cache.get(value)
        if verdict is None:
            verdict = self._check(value.decode("latin-1"))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[value] = verdict
        return verdict


def error_body(error_code: str, message: str) -> bytes:
    return orjson.dumps({"error_code": error_code, "message": message})


class SecurityMiddleware:
    """Host, origin, content-type and body-size checks plus security headers (module doc)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        bound_host: str = "127.0.0.1",
        allowed_hosts: Iterable[str] | None = None,
        cors_allowed_origins: Iterable[str] | None = None,
        max_body_bytes: int,
        x_frame_options: str = "SAMEORIGIN",
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self._host_ok = _Verdicts(
            default_host_check(bound_host)
            if allowed_hosts is None
            else pattern_host_check(allowed_hosts)
        )
        self._origin_ok = _Verdicts(
            default_origin_check
            if cors_allowed_origins is None
            else pattern_origin_check(cors_allowed_origins)
        )
        self._headers = security_headers(x_frame_options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _Headers(scope["headers"])
        path: str = scope["path"]
        method: str = scope["method"]
        refusal = self._host_refusal(path, headers)
        if refusal is None and method == "OPTIONS" and headers.preflight is not None:
            await self._preflight(scope, send, headers)
            return
        refusal = (
            refusal
            or self._origin_refusal(method, headers)
            or self._body_refusal(path, method, headers)
        )
        if refusal is not None:
            await self._reject(send, *refusal)
            return
        if method != "GET" and not path.startswith(RAW_BODY_PREFIXES):
            receive = self._counting(receive)
        origin = headers.origin
        cors_origin = origin if origin is not None and self._origin_ok(origin) else None
        await self.app(scope, receive, self._with_headers(send, cors_origin))

    def _host_refusal(self, path: str, headers: _Headers) -> _Refusal | None:
        host = headers.host
        if host is None or path in HOST_CHECK_EXEMPT_PATHS or self._host_ok(host):
            return None
        return 403, "PERMISSION_DENIED", "Invalid Host header: this host is not allowed."

    def _origin_allowed(self, headers: _Headers) -> bool:
        origin = headers.origin
        if origin is None or self._origin_ok(origin):
            return True
        return headers.host is not None and _origin_authority(origin) == headers.host.lower()

    def _origin_refusal(self, method: str, headers: _Headers) -> _Refusal | None:
        if method not in STATE_CHANGING_METHODS or self._origin_allowed(headers):
            return None
        return 403, "PERMISSION_DENIED", "Cross-origin request refused: this origin is not allowed."

    def _body_refusal(self, path: str, method: str, headers: _Headers) -> _Refusal | None:
        if method not in STATE_CHANGING_METHODS or path.startswith(RAW_BODY_PREFIXES):
            return None
        # No content type is fine with no body: an empty body means {}.
        if (
            path.startswith(JSON_API_PREFIXES)
            and not _is_json(headers.content_type)
            and (headers.content_type is not None or headers.has_body())
        ):
            return 400, "INVALID_PARAMETER_VALUE", CONTENT_TYPE_MESSAGE
        length = headers.content_length
        if length is not None and _too_large(length, self.max_body_bytes):
            return 400, "INVALID_PARAMETER_VALUE", self._size_message()
        return None

    def _with_headers(self, send: Send, cors_origin: bytes | None) -> Send:
        extra = list(self._headers)
        if cors_origin is not None:
            extra += [(b"access-control-allow-origin", cors_origin), (b"vary", b"Origin")]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        return send_with_headers

    def _counting(self, receive: Receive) -> Receive:
        # Chunked bodies announce no length: count while the route reads, and stop it with the
        # same error once the limit is passed (the app's error handler renders it).
        limit = self.max_body_bytes
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise InvalidParameter(self._size_message())
            return message

        return counting_receive

    def _size_message(self) -> str:
        return f"Request body is larger than the server's limit of {self.max_body_bytes} bytes."

    async def _preflight(self, scope: Scope, send: Send, request: _Headers) -> None:
        origin = request.origin
        if origin is None or not self._origin_allowed(request):
            await self._reject(
                send, 403, "PERMISSION_DENIED", "Cross-origin request refused: origin not allowed."
            )
            return
        requested = next(
            (v for k, v in scope["headers"] if k == b"access-control-request-headers"), None
        )
        headers = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", _CORS_METHODS),
            (b"access-control-max-age", _CORS_MAX_AGE),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
            *self._headers,
        ]
        if requested:
            headers.append((b"access-control-allow-headers", requested))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _reject(self, send: Send, status: int, error_code: str, message: str) -> None:
        body = error_body(error_code, message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *self._headers,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _Headers:
    """The request headers the checks read, found in one pass over the raw list."""

    __slots__ = ("chunked", "content_length", "content_type", "host", "origin", "preflight")

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self.host: bytes | None = None
        self.origin: bytes | None = None
        self.content_type: bytes | None = None
        self.content_length: bytes | None = None
        self.preflight: bytes | None = None
        self.chunked = False
        for key, value in raw:
            if key == b"host":
                self.host = value
            elif key == b"origin":
                self.origin = value
            elif key == b"content-type":
                self.content_type = value
            elif key == b"content-length":
                self.content_length = value
            elif key == b"transfer-encoding":
                self.chunked = True
            elif key == b"access-control-request-method":
                self.preflight = value

    def has_body(self) -> bool:
        length = self.content_length
        return self.chunked or (length is not None and length.strip() != b"0")


def _origin_authority(origin: bytes) -> bytes:
    """``b"http://Host:5000"`` -> ``b"host:5000"`` (what the Host header of the same origin is)."""
    _, sep, rest = origin.partition(b"://")
    return rest.rstrip(b"/").lower() if sep else b""


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json"


def _too_large(content_length: bytes, limit: int) -> bool:
    # A malformed length never gets here: the HTTP server refuses it first.
    text = content_length.strip()
    return text.isdigit() and int(text) > limit


__all__ = [
    "CONTENT_TYPE_MESSAGE",
    "JSON_API_PREFIXES",
    "RAW_BODY_PREFIXES",
    "SecurityMiddleware",
    "default_host_check",
    "default_origin_check",
    "pattern_host_check",
    "pattern_origin_check",
    "security_headers",
    "split_host",
]
