"""A real webhook receiver for the delivery tests: an HTTP server on loopback, in a thread.

``serve_receiver()`` yields a ``Receiver`` that records every request (path, headers, raw body)
and answers ``fail_status`` (500) to the first ``fail_first`` requests, then ``status`` (200);
``retry_after`` adds that header to the failures, ``delay_s`` makes each answer that slow,
``location`` turns the success answers into redirects. ``wait_for(n)`` blocks until ``n``
requests have arrived.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    status: int = 200
    fail_first: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    delay_s: float = 0.0
    location: str | None = None
    answer: bytes = b'{"ok": true}'
    requests: list[Received] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def record(self, received: Received) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(received)
            failing = len(self.requests) <= self.fail_first
            self._lock.notify_all()
        if failing:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return self.fail_status, headers, b"receiver is down"
        if self.location:
            return 302, {"Location": self.location}, b""
        return self.status, {"Content-Type": "application/json"}, self.answer

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} requests arrived, not {count}")
            return list(self.requests)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received = Received(self.path, dict(self.headers.items()), body, time.monotonic())
            if receiver.delay_s:
                time.sleep(receiver.delay_s)
            status, headers, answer = receiver.record(received)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:  # the client gave up waiting (timeout tests)
                pass

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Receiver("")))
    server.daemon_threads = True
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook")
    server.RequestHandlerClass = _handler(receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
