"""A tiny database of runs and experiments written straight into the tables with Core."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, insert, select

from wayline.search import Record
from wayline.store.sql import tables as t


def search_engine(uri: str = "sqlite://") -> Engine:
    """An engine with the store's search-relevant settings, and the tables created."""
    engine = create_engine(uri)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _case_sensitive_like(dbapi_connection: Any, _record: Any) -> None:
            # The store's engine sets this too: LIKE is case-sensitive on every backend.
            dbapi_connection.execute("PRAGMA case_sensitive_like = ON")

    t.metadata.create_all(engine)
    return engine


class SearchDb:
    """Writes rows directly and runs search queries; also keeps each run as an evaluator Record."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.records: dict[str, Record] = {}

    def experiment(
        self,
        name: str,
        *,
        stage: str = "active",
        creation_time: int = 0,
        last_update_time: int = 0,
        tags: Mapping[str, str] | None = None,
    ) -> int:
        with self.engine.begin() as conn:
            experiment_id: int = conn.execute(
                insert(t.experiments).returning(t.experiments.c.experiment_id),
                {
                    "name": name,
                    "artifact_location": f"/a/{name}",
                    "lifecycle_stage": stage,
                    "creation_time": creation_time,
                    "last_update_time": last_update_time,
                },
            ).scalar_one()
            for key, value in (tags or {}).items():
                conn.execute(
                    insert(t.experiment_tags),
                    {"experiment_id": experiment_id, "key": key, "value": value},
                )
        return experiment_id

    def run(
        self,
        run_id: str,
        experiment_id: int,
        *,
        name: str = "",
        user_id: str = "u",
        status: str = "RUNNING",
        start_time: int | None = 0,
        end_time: int | None = None,
        stage: str = "active",
        metrics: Mapping[str, float] | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        inputs: Sequence[tuple[str, str, str]] = (),  # (name, digest, context)
    ) -> str:
        row: dict[str, Any] = {
            "run_id": run_id,
            "experiment_id": experiment_id,
            "name": name or run_id,
            "user_id": user_id,
            "status": status,
            "start_time": start_time,
            "end_time": end_time,
            "lifecycle_stage": stage,
            "artifact_uri": f"/a/{experiment_id}/{run_id}",
        }
        with self.engine.begin() as conn:
            conn.execute(insert(t.runs), row)
            for key, number in (metrics or {}).items():
                nan = math.isnan(number)
                conn.execute(
                    insert(t.latest_metrics),
                    {
                        "run_id": run_id,
                        "key": key,
                        "value": 0.0 if nan else number,
                        "is_nan": nan,
                        "timestamp": 0,
                        "step": 0,
                    },
                )
            for table, values in ((t.params, params), (t.tags, tags)):
                for key, value in (values or {}).items():
                    conn.execute(insert(table), {"run_id": run_id, "key": key, "value": value})
            for name_, digest, context in inputs:
                dataset_id = self._dataset(conn, experiment_id, name_, digest)
                conn.execute(insert(t.run_inputs), {"run_id": run_id, "dataset_id": dataset_id})
                conn.execute(
                    insert(t.input_tags),
                    {
                        "run_id": run_id,
                        "dataset_id": dataset_id,
                        "key": "mlflow.data.context",
                        "value": context,
                    },
                )
        attributes = {k: row[k] for k in ("run_id", "user_id", "status", "start_time", "end_time")}
        self.records[run_id] = Record(
            metrics=dict(metrics or {}),
            params=dict(params or {}),
            tags=dict(tags or {}),
            attributes={**attributes, "run_name": row["name"], "artifact_uri": row["artifact_uri"]},
            datasets=[{"name": n, "digest": d, "context": c} for n, d, c in inputs],
        )
        return run_id

    @staticmethod
    def _dataset(conn: Any, experiment_id: int, name: str, digest: str) -> str:
        found = conn.execute(
            select(t.datasets.c.dataset_id).where(
                t.datasets.c.experiment_id == experiment_id,
                t.datasets.c.name == name,
                t.datasets.c.digest == digest,
            )
        ).scalar()
        if found is not None:
            return str(found)
        dataset_id = f"ds-{experiment_id}-{name}-{digest}"[:32]
        conn.execute(
            insert(t.datasets),
            {
                "dataset_id": dataset_id,
                "experiment_id": experiment_id,
                "name": name,
                "digest": digest,
                "source_type": "local",
                "source": "{}",
            },
        )
        return dataset_id

    def ids(self, query: Select[Any]) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())
