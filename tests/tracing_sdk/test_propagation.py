"""The current span across asyncio tasks (by itself) and threads (with ``copy_context``)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import wayline
from wayline.entities.trace import Trace

Finished = Callable[[str | None], Trace]


@wayline.trace
def tool(name: str) -> str:
    return name.upper()


def test_tasks_inherit_the_current_span(finished: Finished) -> None:
    @wayline.trace
    async def sub(i: int) -> int:
        await asyncio.sleep(0.001 * (3 - i))
        with wayline.start_span(f"inner-{i}"):
            await asyncio.sleep(0)
        return i

    async def main() -> str | None:
        with wayline.start_span("root") as root:
            tasks = [asyncio.create_task(sub(i)) for i in range(3)]
            await asyncio.gather(*tasks)
        return root.trace_id

    trace = finished(asyncio.run(main()))
    spans = {s.span_id: s for s in trace.spans}
    names = {s.name: s for s in trace.spans if s.name.startswith("inner")}
    root = trace.root_span
    assert root is not None and root.name == "root"
    subs = [s for s in trace.spans if s.name == "sub"]
    assert len(subs) == 3 and all(s.parent_id == root.span_id for s in subs)
    for i in range(3):
        inner = names[f"inner-{i}"]
        assert spans[inner.parent_id or ""].inputs == {"i": i}


def test_copy_context_carries_the_span_into_threads(finished: Finished) -> None:
    with wayline.start_span("root") as root:
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(contextvars.copy_context().run, tool, name) for name in ("a", "b")
            ]
            assert [f.result() for f in futures] == ["A", "B"]
        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(tool, "c"))
        thread.start()
        thread.join()
    trace = finished(root.trace_id)
    tools = [s for s in trace.spans if s.name == "tool"]
    assert len(tools) == 3
    assert all(s.parent_id == root.span_id for s in tools)


def test_a_thread_without_the_context_starts_its_own_trace(finished: Finished) -> None:
    results: list[str | None] = []

    def work() -> None:
        tool("x")
        results.append(wayline.get_last_active_trace_id(thread_local=True))

    with wayline.start_span("root") as root:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
    assert [s.name for s in finished(root.trace_id).spans] == ["root"]
    assert results[0] is not None and results[0] != root.trace_id
    assert [s.name for s in finished(results[0]).spans] == ["tool"]


def test_concurrent_traces_in_threads_stay_apart(finished: Finished) -> None:
    @wayline.trace
    def request(i: int) -> int:
        for j in range(5):
            tool(f"{i}-{j}")
        return i

    ids: dict[int, str | None] = {}

    def run(i: int) -> None:
        request(i)
        ids[i] = wayline.get_last_active_trace_id(thread_local=True)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids.values())) == 8
    for i, trace_id in ids.items():
        trace = finished(trace_id)
        root = trace.root_span
        assert root is not None and root.inputs == {"i": i}
        assert sorted(s.inputs["name"] for s in trace.spans if s.name == "tool") == [
            f"{i}-{j}" for j in range(5)
        ]
