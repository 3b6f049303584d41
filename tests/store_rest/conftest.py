"""Fixtures for the REST store: a scripted server behind ``httpx.MockTransport``.

``scripted(*answers)`` returns a store whose transport answers each request with the next
``httpx.Response`` (or raises the next exception) and records every request it saw, plus the
waits the retry loop asked for; retries never really sleep.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from wayline.store.rest import RestSettings, RestStore

from ._support import BASE_URL, FAST, Answer, Scripted, ScriptedFactory


@pytest.fixture
def scripted() -> Iterator[ScriptedFactory]:
    opened: list[RestStore] = []

    def make(*answers: Answer, settings: RestSettings = FAST) -> Scripted:
        queue = list(answers)
        sleeps: list[float] = []
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            request.read()
            seen.append(request)
            # Past the script, every call succeeds with an empty body.
            answer = queue.pop(0) if queue else httpx.Response(200, json={})
            if isinstance(answer, Exception):
                raise answer
            return answer

        store = RestStore(
            BASE_URL, settings, transport=httpx.MockTransport(handler), sleep=sleeps.append
        )
        opened.append(store)
        return Scripted(store, seen, sleeps)

    yield make
    for store in opened:
        store.close()
