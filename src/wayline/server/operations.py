"""Running the server in production: access log, Prometheus metrics, the last-resort 500.

``ObservabilityMiddleware`` is the outermost of Wayline's middleware, so it sees every request,
including those the security checks refuse. Per request it

* observes Prometheus metrics by method, *route template* (``/api/2.0/mlflow/runs/get``, or
  ``<unmatched>`` for unknown paths, so random URLs cannot grow the series without bound) and
  status: ``wayline_http_requests_total`` and ``wayline_http_request_duration_seconds``, plus
  ``wayline_http_requests_in_progress``;
* writes one access-log line (logfmt, logger ``wayline.access``)::

      method=POST path=/api/2.0/mlflow/runs/create status=200 duration_ms=3.41 client=10.0.0.7:53122

* turns an exception that escaped every handler into a generic 500 in MLflow's error shape, the
  traceback going to the log only (a client never sees internals or server paths).

Metrics live in a registry per app. With several worker processes each worker counts in files
under ``metrics_dir`` (prometheus_client's multiprocess mode, chosen by the
``PROMETHEUS_MULTIPROC_DIR`` variable the CLI sets before workers start), and ``/metrics`` sums
them, so a scrape sees the whole server whichever worker answers it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wayline.server.security import error_body

access_logger = logging.getLogger("wayline.access")
logger = logging.getLogger(__name__)

UNMATCHED_ROUTE = "<unmatched>"
# Seconds. Most API calls take a few milliseconds; searches and histories can take seconds.
LATENCY_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
_INTERNAL_ERROR = error_body("INTERNAL_ERROR", "Internal server error.")


class Metrics:
    """The server's Prometheus metrics, registered in a registry of their own.

    One registry per app (not prometheus_client's global one), so several apps in one process
    (tests) do not collide. ``metrics_dir`` selects multiprocess exposition.
    """

    def __init__(self, metrics_dir: str | None = None) -> None:
        self.metrics_dir = metrics_dir
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "wayline_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "wayline_http_request_duration_seconds",
            "Time from receiving a request to finishing its response.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # Summed over live workers in multiprocess mode; what a graceful shutdown waits for.
        self.in_progress = Gauge(
            "wayline_http_requests_in_progress",
            "HTTP requests being answered now.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        # labels() validates and locks on every call; the children of a label set never change.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = (method, route, str(status))
            children = (self.requests.labels(*labels), self.latency.labels(*labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def close(self) -> None:
        """Forget this worker's live gauges (its in-progress count) once it stops serving."""
        if self.metrics_dir is not None:
            mark_process_dead(os.getpid(), self.metrics_dir)  # type: ignore[no-untyped-call]

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The metrics in the text format ``accept`` asks for, and its content type."""
        registry = self.registry
        if self.metrics_dir is not None:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.metrics_dir)  # type: ignore[no-untyped-call]
        encoder, content_type = choose_encoder(accept or "")
        return encoder(registry), content_type

    async def endpoint(self, request: Request) -> Response:
        body, content_type = self.exposition(request.headers.get("accept"))
        return Response(body, headers={"Content-Type": content_type})


class RouteTemplates:
    """The path pattern (``/runs/{run_id}``) of the route that answered a request.

    Starlette's router leaves the matched route's endpoint in the scope, not the route itself,
    so the patterns are indexed by endpoint, once, on first use (every route is mounted by
    then). An endpoint mounted at several paths (``/api/...`` and ``/ajax-api/...``) is told
    apart by the static part of each pattern.
    """

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes = routes
        self._index: dict[object, list[tuple[str, str]]] | None = None

    def _build(self) -> dict[object, list[tuple[str, str]]]:
        index: dict[object, list[tuple[str, str]]] = {}
        for route in self._routes:
            pattern = getattr(route, "path_format", None)
            endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
            if isinstance(pattern, str) and endpoint is not None:
                # (A Mount's pattern already ends in /{path}; its endpoint is its app.)
                static = pattern.split("{", 1)[0]
                index.setdefault(endpoint, []).append((static, pattern))
        return index

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        pattern = getattr(route, "path_format", None)
        if isinstance(pattern, str):
            return pattern
        if self._index is None:
            self._index = self._build()
        candidates = self._index.get(scope.get("endpoint"))
        if not candidates:
            return UNMATCHED_ROUTE
        if len(candidates) > 1:
            path = scope["path"]
            for static, pattern in candidates:
                if path.startswith(static):
                    return pattern
        return candidates[0][1]


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "-"


class ObservabilityMiddleware:
    """Metrics, access log and the last-resort 500 (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        routes: Sequence[BaseRoute] = (),
        access_log: bool = True,
        error_headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = RouteTemplates(routes)
        self.access_log = access_log
        self.error_headers = list(error_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False
        in_progress = self.metrics.in_progress
        in_progress.inc()

        async def send_observed(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status = message["status"]
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            logger.exception("unhandled error answering %s %s", scope["method"], scope["path"])
            if started:
                raise  # half a response is out: only dropping the connection is left
            status = 500
            await self._internal_error(send)
        finally:
            in_progress.dec()
            elapsed = time.perf_counter() - start
            self.metrics.observe(scope["method"], self.templates(scope), status, elapsed)
            if self.access_log and access_logger.isEnabledFor(logging.INFO):
                # raw_path is the request line's path, still percent-encoded: no spaces or
                # control characters can reach the log line through it.
                raw = scope.get("raw_path")
                path = raw.decode("latin-1") if raw else scope["path"]
                access_logger.info(
                    "method=%s path=%s status=%d duration_ms=%.2f client=%s",
                    scope["method"],
                    path,
                    status,
                    elapsed * 1000,
                    _client(scope),
                )

    async def _internal_error(self, send: Send) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
            *self.error_headers,
        ]
        await send({"type": "http.response.start", "status": 500, "headers": headers})
        await send({"type": "http.response.body", "body": _INTERNAL_ERROR})


__all__ = ["LATENCY_BUCKETS", "Metrics", "ObservabilityMiddleware", "RouteTemplates"]
