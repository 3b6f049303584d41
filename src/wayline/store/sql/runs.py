"""Runs: create, read, update, soft delete and restore, search.

Reading runs, one or a page of thousands, takes a fixed number of queries: the run rows, then
params, tags, latest metrics and inputs for all of them at once (IN lists in chunks).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, String, bindparam, cast, select, update

from wayline.entities import (
    LifecycleStage,
    PagedList,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.entities.builders import new_param, new_tag
from wayline.errors import InvalidParameter, NotFound
from wayline.store.run_names import generate_run_name
from wayline.store.sql.base import (
    SqlBase,
    decode_page_token,
    encode_page_token,
    fetch_in,
    fetch_rows,
    gc_paused,
    join_uri,
    now_ms,
    parse_experiment_id,
)
from wayline.store.sql.experiments import experiment_row
from wayline.store.sql.inputs import load_inputs
from wayline.store.sql.logged_models import load_model_links
from wayline.store.sql.metrics import load_latest
from wayline.store.sql.tables import params as params_table
from wayline.store.sql.tables import runs
from wayline.store.sql.tables import tags as tags_table
from wayline.store.sql.values import RUN_NAME_TAG, write_tags
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_LIMIT
from wayline.validation import (
    MAX_TAG_VALUE_LENGTH,
    validate_max_results,
    validate_run_name,
    validate_tag,
    validate_timestamp,
    validate_user_id,
)

# In RunInfo's field order, the experiment id already as the string the API uses.
_INFO_COLUMNS = (
    runs.c.run_id,
    cast(runs.c.experiment_id, String).label("experiment_id"),
    runs.c.name,
    runs.c.user_id,
    runs.c.status,
    runs.c.start_time,
    runs.c.end_time,
    runs.c.artifact_uri,
    runs.c.lifecycle_stage,
)
INFO_FIELDS = tuple(column.name for column in _INFO_COLUMNS)  # a test pins RunInfo to it
_INFO = select(*_INFO_COLUMNS)
_INFO_BY_ID = _INFO.where(runs.c.run_id == bindparam("run_id"))
_PAIRS = {
    table.name: select(table.c.run_id, table.c.key, table.c.value)
    for table in (params_table, tags_table)
}


def _load_pairs(conn: Connection, table: Any, run_ids: Sequence[str]) -> dict[str, list[Any]]:
    """Param or RunTag objects per run (in no particular order)."""
    make = new_param if table is params_table else new_tag
    found: defaultdict[str, list[Any]] = defaultdict(list)
    query = _PAIRS[table.name]
    for run_id, key, value in fetch_in(conn, query, f"{table.name}.run_id", run_ids):
        found[run_id].append(make(key, value))
    return found


def load_runs(conn: Connection, run_ids: Sequence[str]) -> list[Run]:
    """Full runs for these ids, in the order given (unknown ids are left out)."""
    with gc_paused():
        found = {row[0]: RunInfo(*row) for row in fetch_in(conn, _INFO, "runs.run_id", run_ids)}
        return complete_runs(conn, [found[run_id] for run_id in run_ids if run_id in found])


def complete_runs(conn: Connection, infos: Sequence[RunInfo]) -> list[Run]:
    """Runs with their params, tags, latest metrics and inputs, in a fixed number of queries."""
    if not infos:
        return []
    with gc_paused():
        ids = [info.run_id for info in infos]
        run_params = _load_pairs(conn, params_table, ids)
        run_tags = _load_pairs(conn, tags_table, ids)
        latest = load_latest(conn, ids)
        inputs = load_inputs(conn, ids)
        model_inputs, model_outputs = load_model_links(conn, ids)
        return [
            Run(
                info,
                RunData(
                    latest.get(info.run_id, []),
                    run_params.get(info.run_id, []),
                    run_tags.get(info.run_id, []),
                ),
                RunInputs(inputs.get(info.run_id, []), model_inputs.get(info.run_id, [])),
                RunOutputs(model_outputs.get(info.run_id, [])),
            )
            for info in infos
        ]


def _run_name(run_name: str | None, run_tags: Sequence[RunTag]) -> str:
    """MLflow's rule: the argument, else the mlflow.runName tag, else a generated name."""
    tag_name = next((t.value for t in reversed(run_tags) if t.key == RUN_NAME_TAG), None)
    if run_name and tag_name and run_name != tag_name:
        raise InvalidParameter(
            f"Both the run_name argument ({run_name!r}) and the '{RUN_NAME_TAG}' tag"
            f" ({tag_name!r}) are given, with different values. Pass only one of them."
        )
    name = run_name or tag_name or generate_run_name()
    validate_run_name(name)
    return name


MODEL_HISTORY_TAG = "mlflow.log-model.history"
# What a run's model history keeps of each MLmodel, as MLflow does: not its signature, examples
# or flavor configs, so the tag stays small.
_HISTORY_FIELDS = ("run_id", "utc_time_created", "artifact_path", "model_uuid")


def model_history_entry(model: Mapping[str, Any]) -> dict[str, Any]:
    """The entry of ``mlflow.log-model.history`` for one MLmodel (given as a dict)."""
    entry = {key: model[key] for key in _HISTORY_FIELDS if key in model}
    flavors = model.get("flavors") or {}
    entry["flavors"] = {
        name: {k: v for k, v in conf.items() if k != "config"} if isinstance(conf, dict) else conf
        for name, conf in flavors.items()
    }
    return entry


class RunsMixin(SqlBase):
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        tags = [validate_tag(tag, truncate=self.truncate_long_values) for tag in tags]
        name = _run_name(run_name, tags)
        user_id = user_id or ""
        validate_user_id(user_id)
        start_time = now_ms() if start_time is None else start_time
        validate_timestamp(start_time, "The run")
        run_id = uuid.uuid4().hex
        all_tags = {tag.key: tag.value for tag in tags}
        all_tags[RUN_NAME_TAG] = name
        with self._write() as conn:
            experiment = experiment_row(conn, experiment_id)
            if experiment.lifecycle_stage != LifecycleStage.ACTIVE:
                raise InvalidParameter(
                    f"The experiment {experiment_id} must be in the 'active' state. Current state"
                    f" is {experiment.lifecycle_stage}."
                )
            info = RunInfo(
                run_id=run_id,
                experiment_id=str(experiment.experiment_id),
                run_name=name,
                user_id=user_id,
                status=RunStatus.RUNNING.value,
                start_time=int(start_time),
                end_time=None,
                artifact_uri=join_uri(experiment.artifact_location, run_id, "artifacts"),
                lifecycle_stage=LifecycleStage.ACTIVE.value,
            )
            conn.execute(
                runs.insert(),
                {
                    "run_id": run_id,
                    "experiment_id": experiment.experiment_id,
                    "name": name,
                    "user_id": user_id,
                    "status": info.status,
                    "start_time": info.start_time,
                    "end_time": None,
                    "lifecycle_stage": info.lifecycle_stage,
                    "artifact_uri": info.artifact_uri,
                },
            )
            conn.execute(
                tags_table.insert(),
                [{"run_id": run_id, "key": k, "value": all_tags[k]} for k in sorted(all_tags)],
            )
        tag_list = [RunTag(k, all_tags[k]) for k in sorted(all_tags)]
        return Run(info, RunData(tag_list=tag_list))

    def get_run(self, run_id: str) -> Run:
        with self._read() as conn:
            found = load_runs(conn, [run_id])
        if not found:
            raise NotFound(f"Run with id={run_id} not found")
        return found[0]

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        values: dict[str, Any] = {}
        if run_status is not None:
            values["status"] = RunStatus.to_string(run_status)
        if end_time is not None:
            validate_timestamp(end_time, "The run's end")
            values["end_time"] = int(end_time)
        if run_name:
            validate_run_name(run_name)
            values["name"] = run_name
        with self._write() as conn:
            self._active_run(conn, run_id)
            if values:
                conn.execute(update(runs).where(runs.c.run_id == run_id).values(values))
            if run_name:
                write_tags(conn, self.dialect, run_id, [RunTag(RUN_NAME_TAG, run_name)])
            row = conn.execute(_INFO_BY_ID, {"run_id": run_id}).one()
        return RunInfo(*row)

    def record_logged_model(self, run_id: str, model: Mapping[str, Any]) -> None:
        entry = model_history_entry(model)
        with self._write() as conn:
            self._active_run(conn, run_id)
            # Appends are read-modify-write: lock the run's row so concurrent ones on
            # PostgreSQL/MySQL queue up (SQLite's write transaction already serialises them).
            conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id).with_for_update())
            previous = conn.execute(
                select(tags_table.c.value).where(
                    tags_table.c.run_id == run_id, tags_table.c.key == MODEL_HISTORY_TAG
                )
            ).scalar()
            value = json.dumps([*(json.loads(previous) if previous else []), entry])
            if len(value) > MAX_TAG_VALUE_LENGTH:
                # Cutting it, as other long tag values are cut, would leave broken JSON.
                raise InvalidParameter(
                    f"Run {run_id} has logged too many models for its {MODEL_HISTORY_TAG} tag "
                    f"({len(value)} characters, at most {MAX_TAG_VALUE_LENGTH}); log new "
                    "models as logged models (log_model in MLflow 3) instead."
                )
            write_tags(conn, self.dialect, run_id, (RunTag(MODEL_HISTORY_TAG, value),))

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED, now_ms())

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE, None)

    def _set_run_stage(self, run_id: str, stage: LifecycleStage, deleted_time: int | None) -> None:
        with self._write() as conn:
            self._run_state(conn, run_id)
            conn.execute(
                update(runs)
                .where(runs.c.run_id == run_id)
                .values(lifecycle_stage=stage.value, deleted_time=deleted_time)
            )

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        from wayline.search.sql import run_search_query

        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]  # a lone id, not a sequence of characters
        keys = [k for k in (parse_experiment_id(e) for e in experiment_ids) if k is not None]
        query = run_search_query(
            keys, filter_string, ViewType.from_string(run_view_type), list(order_by or ())
        )
        # Ids first, then the page's rows by id: the database sorts narrow rows, not whole runs.
        with self._read() as conn, gc_paused():
            page = query.limit(max_results + 1).offset(offset)
            ids = [row[0] for row in fetch_rows(conn, page)]
            token = None
            if len(ids) > max_results:
                ids = ids[:max_results]
                token = encode_page_token(offset + max_results)
            found = load_runs(conn, ids)
        return PagedList(found, token)


__all__ = ["RunsMixin", "complete_runs", "load_runs"]
