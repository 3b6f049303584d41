"""Seed data for the UI tests, written through the store in this process (import as ``._seed``).

* ``Seeded.plain``: 60 finished runs with metric ``acc`` (run i has acc = i / 100), param
  ``lr`` and tag ``team``; run names ``run-00`` … ``run-59`` start one second apart.
* ``Seeded.nested``: a parent run with three children, and a grandchild under the first child.
* ``Seeded.hostile``: names, params, tags and a description holding HTML and script payloads.
"""

from __future__ import annotations

from dataclasses import dataclass

from wayline.entities import Metric, Param, RunStatus, RunTag
from wayline.store.sql.store import SqlStore

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
START = 1_700_000_000_000
PLAIN_RUNS = 60


@dataclass(frozen=True)
class Seeded:
    plain: str
    nested: str
    hostile: str
    parent_id: str
    child_ids: tuple[str, ...]
    grandchild_id: str
    hostile_run_id: str


def _run(
    store: SqlStore, experiment_id: str, name: str, start: int, tags: list[RunTag] | None = None
) -> str:
    run = store.create_run(experiment_id, "tester", start, tags or [], name)
    return run.info.run_id


def seed(uri: str, artifact_root: str) -> Seeded:
    store = SqlStore(uri, artifact_root)
    try:
        plain = store.create_experiment("plain")
        for i in range(PLAIN_RUNS):
            run_id = _run(store, plain, f"run-{i:02d}", START + i * 1000)
            store.log_batch(
                run_id,
                metrics=[Metric("acc", i / 100, START + i * 1000, 0)],
                params=[Param("lr", str(0.001 * (i % 7)))],
                tags=[RunTag("team", "red" if i % 2 else "blue")],
            )
            store.update_run_info(run_id, RunStatus.FINISHED.name, START + i * 1000 + 61_000)

        nested = store.create_experiment("nested")
        parent = _run(store, nested, "parent", START)
        children = tuple(
            _run(
                store, nested, f"child-{i}", START + 100 + i, [RunTag("mlflow.parentRunId", parent)]
            )
            for i in range(3)
        )
        grandchild = _run(
            store, nested, "grandchild", START + 200, [RunTag("mlflow.parentRunId", children[0])]
        )

        hostile = store.create_experiment(f"exp {SCRIPT}")
        hostile_run = _run(
            store, hostile, f"{IMG} run", START, [RunTag("mlflow.source.name", SCRIPT)]
        )
        store.log_batch(
            hostile_run,
            # Keys allow no markup; values do. "val loss" needs quoting in an order_by.
            metrics=[Metric("val loss", 1.0, START, 0)],
            params=[Param("payload", SCRIPT)],
            tags=[
                RunTag("note", IMG),
                RunTag("mlflow.note.content", f"# Notes\n{SCRIPT}\n[click](javascript:alert(1))"),
            ],
        )
        return Seeded(plain, nested, hostile, parent, children, grandchild, hostile_run)
    finally:
        store.close()
