"""Logged models (MLflow 3): create, read, finalize, soft delete, search, tags and params;
the metrics logged with a ``model_id``; the models runs used and produced.

Reading models, one or a page, takes a fixed number of queries: the model rows, then tags,
params and metrics for all of them at once. A deleted model is invisible (NotFound, never in a
search) until ``wayline gc`` purges it.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    String,
    cast,
    delete,
    literal_column,
    select,
    union_all,
    update,
)

from wayline.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    ModelInput,
    ModelOutput,
    PagedList,
    Param,
)
from wayline.errors import InvalidParameter, NotFound
from wayline.store.run_names import generate_run_name
from wayline.store.sql.base import (
    SqlBase,
    decode_page_token,
    encode_page_token,
    fetch_in,
    fetch_rows,
    gc_paused,
    insert_ignore,
    join_uri,
    now_ms,
    parse_experiment_id,
    upsert,
)
from wayline.store.sql.experiments import experiment_row
from wayline.store.sql.tables import (
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    run_model_inputs,
    run_model_outputs,
)
from wayline.store.tracking import LOGGED_MODELS_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_LIMIT
from wayline.validation import (
    MAX_DATASET_DIGEST_LENGTH,
    MAX_DATASET_NAME_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    metric_value_for_storage,
    validate_key,
    validate_length,
    validate_max_results,
    validate_param,
)

ACTIVE = LifecycleStage.ACTIVE.value
DELETED = LifecycleStage.DELETED.value
MAX_MODEL_NAME_LENGTH = 500
MAX_MODEL_TYPE_LENGTH = 500
# A logged model's name becomes a path segment and part of `runs:/<id>/<name>` URIs.
_NAME_FORBIDDEN = frozenset('/:.%"' + "'")
_FINAL_STATUSES = (
    LoggedModelStatus.READY,
    LoggedModelStatus.FAILED,
)
_NAN = float("nan")

lm = logged_models.c
_MODEL_COLUMNS = (
    lm.model_id,
    cast(lm.experiment_id, String).label("experiment_id"),
    lm.name,
    lm.artifact_location,
    lm.creation_timestamp_ms,
    lm.last_updated_timestamp_ms,
    lm.status,
    lm.model_type,
    lm.source_run_id,
    lm.status_message,
    lm.lifecycle_stage,
)
_MODELS = select(*_MODEL_COLUMNS)
_PAIRS = {
    table.name: select(table.c.model_id, table.c.key, table.c.value)
    for table in (logged_model_tags, logged_model_params)
}
_POINTS = select(
    logged_model_metrics.c.model_id,
    logged_model_metrics.c.key,
    logged_model_metrics.c.value,
    logged_model_metrics.c.is_nan,
    logged_model_metrics.c.timestamp,
    logged_model_metrics.c.step,
    logged_model_metrics.c.run_id,
    logged_model_metrics.c.dataset_name,
    logged_model_metrics.c.dataset_digest,
)


# Both link tables in one query, so loading a page of runs costs one query more, not two.
# Inputs carry step -1 (outputs' steps are non-negative); the WHERE that ``fetch_in`` appends
# to the outer select is pushed into both branches by every backend's planner.
_MODEL_LINKS = select(
    union_all(
        select(
            run_model_inputs.c.run_id,
            run_model_inputs.c.model_id,
            literal_column("-1", BigInteger).label("step"),
        ),
        select(run_model_outputs.c.run_id, run_model_outputs.c.model_id, run_model_outputs.c.step),
    ).subquery("model_links")
)


def _not_found(model_id: str) -> NotFound:
    return NotFound(f"Logged model with ID '{model_id}' not found.")


@functools.cache
def _tag_upsert(dialect: str) -> Insert:
    return upsert(dialect, logged_model_tags, keys=("model_id", "key"), update=("value",))


# ---------------------------------------------------------------- reading
def load_models(conn: Connection, model_ids: Sequence[str]) -> list[LoggedModel]:
    """Active models for these ids with tags, params and metrics, in the order given."""
    with gc_paused():
        rows = {
            row[0]: row
            for row in fetch_in(conn, _MODELS, "logged_models.model_id", model_ids)
            if row[-1] == ACTIVE
        }
        ids = [model_id for model_id in model_ids if model_id in rows]
        if not ids:
            return []
        tags = _load_pairs(conn, logged_model_tags, ids)
        params = _load_pairs(conn, logged_model_params, ids)
        metrics = _load_points(conn, ids)
        models = []
        for model_id in ids:
            row = rows[model_id]
            models.append(
                LoggedModel(
                    model_id=row[0],
                    experiment_id=row[1],
                    name=row[2],
                    artifact_uri=row[3],
                    creation_timestamp_ms=row[4],
                    last_updated_timestamp_ms=row[5],
                    status=LoggedModelStatus.from_string(row[6]),
                    model_type=row[7] or "",
                    source_run_id=row[8] or "",
                    status_message=row[9] or "",
                    tags=tags.get(model_id, {}),
                    params=params.get(model_id, {}),
                    metrics=metrics.get(model_id, []),
                )
            )
        return models


def _load_pairs(conn: Connection, table: Any, ids: Sequence[str]) -> dict[str, dict[str, str]]:
    found: defaultdict[str, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in fetch_in(conn, _PAIRS[table.name], f"{table.name}.model_id", ids):
        found[model_id][key] = value
    return {model_id: dict(sorted(pairs.items())) for model_id, pairs in found.items()}


def _load_points(conn: Connection, ids: Sequence[str]) -> dict[str, list[Metric]]:
    found: defaultdict[str, list[Metric]] = defaultdict(list)
    rows = fetch_in(conn, _POINTS, "logged_model_metrics.model_id", ids)
    for model_id, key, value, is_nan, timestamp, step, run_id, name, digest in rows:
        found[model_id].append(
            Metric(key, _NAN if is_nan else value, timestamp, step, name, digest, model_id, run_id)
        )
    for points in found.values():
        points.sort(key=lambda m: (m.key, m.step, m.timestamp, m.run_id or ""))
    return found


def load_model_links(
    conn: Connection, run_ids: Sequence[str]
) -> tuple[dict[str, list[ModelInput]], dict[str, list[ModelOutput]]]:
    """The models each run used and produced (each list ordered by model id, then step)."""
    inputs: defaultdict[str, list[ModelInput]] = defaultdict(list)
    outputs: defaultdict[str, list[ModelOutput]] = defaultdict(list)
    for run_id, model_id, step in sorted(
        fetch_in(conn, _MODEL_LINKS, "model_links.run_id", run_ids), key=lambda r: (r[1], r[2])
    ):
        if step < 0:
            inputs[run_id].append(ModelInput(model_id))
        else:
            outputs[run_id].append(ModelOutput(model_id, step))
    return inputs, outputs


# ---------------------------------------------------------------- writing
def _active_model_ids(conn: Connection, model_ids: Sequence[str]) -> None:
    """NotFound unless every id names an active logged model."""
    wanted = list(dict.fromkeys(model_ids))
    query = select(lm.model_id, lm.lifecycle_stage)
    found = {
        row[0]
        for row in fetch_in(conn, query, "logged_models.model_id", wanted)
        if row[1] == ACTIVE
    }
    for model_id in wanted:
        if model_id not in found:
            raise _not_found(model_id)


def _point_id(model_id: str, run_id: str, metric: Metric, value: float, is_nan: bool) -> str:
    # A digest of the point's natural key: see the note on ``logged_model_metrics``.
    text = "\x1f".join(
        (
            model_id,
            run_id,
            metric.key,
            str(int(metric.step)),
            str(int(metric.timestamp)),
            "nan" if is_nan else repr(value),
            metric.dataset_name or "",
            metric.dataset_digest or "",
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def write_model_metrics(
    conn: Connection, dialect: str, run_id: str, metrics: Sequence[Metric]
) -> None:
    """Also record, on their logged models, the validated points that carry a ``model_id``."""
    points = [m for m in metrics if m.model_id]
    if not points:
        return
    for metric in points:
        validate_length("Metric dataset_name", metric.dataset_name, MAX_DATASET_NAME_LENGTH)
        validate_length("Metric dataset_digest", metric.dataset_digest, MAX_DATASET_DIGEST_LENGTH)
    _active_model_ids(conn, [str(m.model_id) for m in points])
    rows = []
    for metric in points:
        value, is_nan = metric_value_for_storage(metric.value)
        model_id = str(metric.model_id)
        rows.append(
            {
                "model_id": model_id,
                "point_id": _point_id(model_id, run_id, metric, value, is_nan),
                "key": metric.key,
                "step": int(metric.step),
                "timestamp": int(metric.timestamp),
                "value": value,
                "is_nan": is_nan,
                "run_id": run_id,
                "dataset_name": metric.dataset_name or None,
                "dataset_digest": metric.dataset_digest or None,
            }
        )
    conn.execute(insert_ignore(dialect, logged_model_metrics), rows)


def write_model_inputs(
    conn: Connection, dialect: str, run_id: str, models: Sequence[ModelInput]
) -> None:
    """Link logged models to the run that used them (linking one twice changes nothing)."""
    ids = list(dict.fromkeys(_model_id_of(model) for model in models))
    _active_model_ids(conn, ids)
    rows = [{"run_id": run_id, "model_id": model_id} for model_id in ids]
    conn.execute(insert_ignore(dialect, run_model_inputs), rows)


def _model_id_of(model: ModelInput | ModelOutput) -> str:
    model_id = getattr(model, "model_id", None)
    if not isinstance(model_id, str) or not model_id:
        raise InvalidParameter(f"Invalid model reference {model!r}: model_id is required.")
    return model_id


def _validate_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("A logged model's name must be a non-empty string.")
    validate_length("Logged model name", name, MAX_MODEL_NAME_LENGTH)
    bad = sorted(set(name) & _NAME_FORBIDDEN)
    if bad:
        raise InvalidParameter(
            f"Invalid logged model name {name!r}: names may not contain {', '.join(bad)}."
        )


def _validate_tags(tags: Sequence[LoggedModelTag]) -> dict[str, str]:
    """The tags as a dict (the last value of a repeated key wins), validated."""
    for tag in tags:
        validate_key("tag", tag.key)
        if not isinstance(tag.value, str):
            raise InvalidParameter(f"The value of tag {tag.key!r} must be a string.")
        validate_length(f"Tag value for key {tag.key!r}:", tag.value, MAX_TAG_VALUE_LENGTH)
    return {tag.key: tag.value for tag in tags}


def _validate_params(params: Sequence[Param]) -> dict[str, str]:
    found: dict[str, str] = {}
    for param in params:
        validate_param(param)
        if found.get(param.key, param.value) != param.value:
            raise InvalidParameter(
                f"Duplicate parameter key {param.key!r} with different values in one request."
            )
        found[param.key] = param.value
    return found


class LoggedModelsMixin(SqlBase):
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Sequence[LoggedModelTag] = (),
        params: Sequence[Param] = (),
        model_type: str | None = None,
    ) -> LoggedModel:
        name = name or generate_run_name()
        _validate_name(name)
        if model_type is not None:
            validate_length("Logged model type", model_type, MAX_MODEL_TYPE_LENGTH)
        tag_values, param_values = _validate_tags(tags), _validate_params(params)
        model_id = f"m-{uuid.uuid4().hex}"
        created = now_ms()
        with self._write() as conn:
            experiment = experiment_row(conn, experiment_id)
            if experiment.lifecycle_stage != ACTIVE:
                raise InvalidParameter(
                    f"The experiment {experiment_id} must be in the 'active' state. Current state"
                    f" is {experiment.lifecycle_stage}."
                )
            if source_run_id:
                self._run_state(conn, source_run_id)
            model = LoggedModel(
                model_id=model_id,
                experiment_id=str(experiment.experiment_id),
                name=name,
                artifact_uri=join_uri(
                    experiment.artifact_location, "models", model_id, "artifacts"
                ),
                creation_timestamp_ms=created,
                last_updated_timestamp_ms=created,
                status=LoggedModelStatus.PENDING,
                model_type=model_type or "",
                source_run_id=source_run_id or "",
                tags=dict(sorted(tag_values.items())),
                params=dict(sorted(param_values.items())),
            )
            conn.execute(
                logged_models.insert(),
                {
                    "model_id": model_id,
                    "experiment_id": experiment.experiment_id,
                    "name": name,
                    "artifact_location": model.artifact_uri,
                    "creation_timestamp_ms": created,
                    "last_updated_timestamp_ms": created,
                    "status": model.status.wire_name,
                    "lifecycle_stage": ACTIVE,
                    # NULL when unset, so such models sort after the others.
                    "model_type": model.model_type or None,
                    "source_run_id": model.source_run_id or None,
                },
            )
            for table, values in (
                (logged_model_tags, model.tags),
                (logged_model_params, model.params),
            ):
                if values:
                    rows = [{"model_id": model_id, "key": k, "value": v} for k, v in values.items()]
                    conn.execute(table.insert(), rows)
        return model

    def get_logged_model(self, model_id: str) -> LoggedModel:
        with self._read() as conn:
            found = load_models(conn, [model_id])
        if not found:
            raise _not_found(model_id)
        return found[0]

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        final = LoggedModelStatus.from_string(status)
        if final not in _FINAL_STATUSES:
            raise InvalidParameter(
                f"Invalid status {final.wire_name} to finalize logged model {model_id}: expected "
                f"{' or '.join(s.wire_name for s in _FINAL_STATUSES)}."
            )
        with self._write() as conn:
            self._touch(conn, model_id, status=final.wire_name)
            return load_models(conn, [model_id])[0]

    def delete_logged_model(self, model_id: str) -> None:
        with self._write() as conn:
            self._touch(conn, model_id, lifecycle_stage=DELETED, deleted_time=now_ms())

    def set_logged_model_tags(self, model_id: str, tags: Sequence[LoggedModelTag]) -> None:
        values = _validate_tags(tags)
        with self._write() as conn:
            self._touch(conn, model_id)
            if values:
                rows = [
                    {"model_id": model_id, "key": k, "value": values[k]} for k in sorted(values)
                ]
                conn.execute(_tag_upsert(self.dialect), rows)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with self._write() as conn:
            self._touch(conn, model_id)
            tags = logged_model_tags.c
            query = delete(logged_model_tags).where(tags.model_id == model_id, tags.key == key)
            if conn.execute(query).rowcount == 0:
                raise NotFound(f"No tag with key {key!r} on logged model {model_id}.")

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        values = _validate_params(params)
        with self._write() as conn:
            self._touch(conn, model_id)
            pc = logged_model_params.c
            query = select(pc.key, pc.value).where(
                pc.model_id == model_id, pc.key.in_(list(values))
            )
            stored: dict[str, str] = {k: v for k, v in conn.execute(query)} if values else {}
            for key, value in values.items():
                if stored.get(key, value) != value:
                    raise InvalidParameter(
                        f"Changing param values is not allowed. Param with key='{key}' was already"
                        f" logged with value='{stored[key]}' for logged model ID='{model_id}'."
                        f" Attempted logging new value '{value}'."
                    )
            rows = [
                {"model_id": model_id, "key": k, "value": v}
                for k, v in sorted(values.items())
                if k not in stored
            ]
            if rows:
                conn.execute(insert_ignore(self.dialect, logged_model_params), rows)

    def _touch(self, conn: Connection, model_id: str, **values: Any) -> None:
        """Update an active model's row (at least its last-updated time); NotFound otherwise."""
        query = (
            update(logged_models)
            .where(lm.model_id == model_id, lm.lifecycle_stage == ACTIVE)
            .values(last_updated_timestamp_ms=now_ms(), **values)
        )
        if conn.execute(query).rowcount == 0:
            raise _not_found(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[LoggedModelDataset] | None = None,
        max_results: int = LOGGED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[LoggedModelOrderBy] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        from wayline.search.sql_logged_models import logged_model_search_query

        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        if isinstance(experiment_ids, str | int):
            experiment_ids = [str(experiment_ids)]
        keys = [k for k in (parse_experiment_id(e) for e in experiment_ids) if k is not None]
        query = logged_model_search_query(
            keys, filter_string, list(datasets or ()), list(order_by or ())
        )
        with self._read() as conn:
            ids = [row[0] for row in fetch_rows(conn, query.limit(max_results + 1).offset(offset))]
            token = None
            if len(ids) > max_results:
                ids = ids[:max_results]
                token = encode_page_token(offset + max_results)
            found = load_models(conn, ids)
        return PagedList(found, token)

    def log_outputs(self, run_id: str, models: Sequence[ModelOutput]) -> None:
        steps: dict[tuple[str, int], None] = {}
        for model in models:
            step = getattr(model, "step", 0)
            if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < 2**63:
                raise InvalidParameter(
                    f"Invalid step {step!r} for model output {_model_id_of(model)}: expected a"
                    " non-negative integer."
                )
            steps[(_model_id_of(model), step)] = None
        with self._write() as conn:
            self._active_run(conn, run_id)
            if not steps:
                return
            _active_model_ids(conn, [model_id for model_id, _ in steps])
            rows = [{"run_id": run_id, "model_id": m, "step": s} for m, s in steps]
            conn.execute(insert_ignore(self.dialect, run_model_outputs), rows)


__all__ = [
    "LoggedModelsMixin",
    "load_model_links",
    "load_models",
    "write_model_inputs",
    "write_model_metrics",
]
