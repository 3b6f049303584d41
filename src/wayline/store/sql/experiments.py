"""Experiments: create, read, search, rename, soft delete and restore, tags.

Ids are strings at the API and integers in the table; an id that is not a number names no
experiment. Deleting an experiment soft-deletes its active runs with the same ``deleted_time``,
which is how restoring it finds exactly the runs that were deleted with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from sqlalchemy import Connection, Row, bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from wayline.entities import Experiment, ExperimentTag, LifecycleStage, PagedList, ViewType
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.sql.base import (
    SqlBase,
    chunks,
    decode_page_token,
    encode_page_token,
    join_uri,
    now_ms,
    parse_experiment_id,
    upsert,
)
from wayline.store.sql.tables import experiment_tags, experiments, runs
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_LIMIT
from wayline.validation import (
    validate_artifact_location,
    validate_experiment_name,
    validate_experiment_tag,
    validate_max_results,
)

_Row: TypeAlias = Row[*tuple[Any, ...]]

ACTIVE = LifecycleStage.ACTIVE.value
DELETED = LifecycleStage.DELETED.value

_COLUMNS = (
    experiments.c.experiment_id,
    experiments.c.name,
    experiments.c.artifact_location,
    experiments.c.lifecycle_stage,
    experiments.c.creation_time,
    experiments.c.last_update_time,
    experiments.c.deleted_time,
)
_BY_ID = select(*_COLUMNS).where(experiments.c.experiment_id == bindparam("eid"))
_BY_NAME = select(*_COLUMNS).where(experiments.c.name == bindparam("name"))


def _not_found(experiment_id: object) -> NotFound:
    return NotFound(f"No Experiment with id={experiment_id} exists")


def _not_active(experiment_id: object) -> InvalidParameter:
    return InvalidParameter(
        f"The experiment {experiment_id} must be in the 'active' state. Current state is deleted."
    )


def _already_exists(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"Experiment(name={name}) already exists. Names stay taken by deleted experiments too:"
        " choose another name, or restore and reuse the deleted one."
    )


def experiment_row(conn: Connection, experiment_id: str | int) -> _Row:
    """The experiment's row (active or deleted); NotFound otherwise."""
    key = parse_experiment_id(experiment_id)
    row = None if key is None else conn.execute(_BY_ID, {"eid": key}).first()
    if row is None:
        raise _not_found(experiment_id)
    return row


def _load_tags(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for chunk in chunks(ids):
        query = (
            select(experiment_tags.c.experiment_id, experiment_tags.c.key, experiment_tags.c.value)
            .where(experiment_tags.c.experiment_id.in_(chunk))
            .order_by(experiment_tags.c.experiment_id, experiment_tags.c.key)
        )
        for eid, key, value in conn.execute(query).all():
            found.setdefault(eid, {})[key] = value
    return found


def _entity(row: _Row, tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=row.lifecycle_stage,
        tags=tags,
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
    )


class ExperimentsMixin(SqlBase):
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
    ) -> str:
        validate_experiment_name(name)
        validate_artifact_location(artifact_location)
        for tag in tags:
            validate_experiment_tag(tag)
        now = now_ms()
        with self._write() as conn:
            if conn.execute(_BY_NAME, {"name": name}).first() is not None:
                raise _already_exists(name)
            values = {
                "name": name,
                "artifact_location": artifact_location or "",
                "lifecycle_stage": ACTIVE,
                "creation_time": now,
                "last_update_time": now,
            }
            try:
                result = conn.execute(experiments.insert().values(values))
            except IntegrityError:
                raise _already_exists(name) from None  # created concurrently
            inserted = result.inserted_primary_key
            assert inserted is not None  # single-row insert
            experiment_id = int(inserted[0])
            if not artifact_location:
                # The default location contains the id, known only after the insert.
                conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == experiment_id)
                    .values(artifact_location=join_uri(self.artifact_root, str(experiment_id)))
                )
            rows = {tag.key: tag.value for tag in tags}
            if rows:
                conn.execute(
                    experiment_tags.insert(),
                    [
                        {"experiment_id": experiment_id, "key": k, "value": v}
                        for k, v in rows.items()
                    ],
                )
        return str(experiment_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._read() as conn:
            row = experiment_row(conn, experiment_id)
            tags = _load_tags(conn, [row.experiment_id])
        return _entity(row, tags.get(row.experiment_id, {}))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._read() as conn:
            # MySQL compares with trailing spaces ignored: insist on the exact name.
            row = next((r for r in conn.execute(_BY_NAME, {"name": name}) if r.name == name), None)
            if row is None:
                return None
            tags = _load_tags(conn, [row.experiment_id])
        return _entity(row, tags.get(row.experiment_id, {}))

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        from wayline.search.sql import experiment_search_query

        max_results = validate_max_results(max_results, SEARCH_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        query = experiment_search_query(
            filter_string, ViewType.from_string(view_type), list(order_by or ())
        )
        with self._read() as conn:
            ids = list(conn.execute(query.limit(max_results + 1).offset(offset)).scalars())
            token = None
            if len(ids) > max_results:
                ids = ids[:max_results]
                token = encode_page_token(offset + max_results)
            found = self._load_experiments(conn, ids)
        return PagedList(found, token)

    @staticmethod
    def _load_experiments(conn: Connection, ids: Sequence[int]) -> list[Experiment]:
        rows: dict[int, _Row] = {}
        for chunk in chunks(ids):
            query = select(*_COLUMNS).where(experiments.c.experiment_id.in_(chunk))
            rows.update((row.experiment_id, row) for row in conn.execute(query))
        tags = _load_tags(conn, ids)
        return [_entity(rows[eid], tags.get(eid, {})) for eid in ids if eid in rows]

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        with self._write() as conn:
            row = experiment_row(conn, experiment_id)
            if row.lifecycle_stage != ACTIVE:
                raise InvalidParameter(
                    f"Cannot rename experiment {experiment_id}: it is deleted. Restore it first."
                )
            if row.name == new_name:
                return
            taken = conn.execute(_BY_NAME, {"name": new_name}).first()
            if taken is not None:
                raise _already_exists(new_name)
            try:
                conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == row.experiment_id)
                    .values(name=new_name, last_update_time=now_ms())
                )
            except IntegrityError:
                raise _already_exists(new_name) from None

    def delete_experiment(self, experiment_id: str) -> None:
        with self._write() as conn:
            row = experiment_row(conn, experiment_id)
            if row.lifecycle_stage != ACTIVE:
                raise NotFound(
                    f"No Experiment with id={experiment_id} exists in the 'active' state: it is"
                    " already deleted."
                )
            # Restoring brings back the runs whose deleted_time is the experiment's: it must
            # differ from that of any run deleted on its own, even within the same millisecond.
            latest = conn.execute(
                select(func.max(runs.c.deleted_time)).where(
                    runs.c.experiment_id == row.experiment_id
                )
            ).scalar()
            now = max(now_ms(), (latest or 0) + 1)
            conn.execute(
                update(experiments)
                .where(experiments.c.experiment_id == row.experiment_id)
                .values(lifecycle_stage=DELETED, deleted_time=now, last_update_time=now)
            )
            conn.execute(
                update(runs)
                .where(runs.c.experiment_id == row.experiment_id, runs.c.lifecycle_stage == ACTIVE)
                .values(lifecycle_stage=DELETED, deleted_time=now)
            )

    def restore_experiment(self, experiment_id: str) -> None:
        with self._write() as conn:
            row = experiment_row(conn, experiment_id)
            if row.lifecycle_stage != DELETED:
                raise NotFound(
                    f"No Experiment with id={experiment_id} exists in the 'deleted' state: it is"
                    " active."
                )
            conn.execute(
                update(experiments)
                .where(experiments.c.experiment_id == row.experiment_id)
                .values(lifecycle_stage=ACTIVE, deleted_time=None, last_update_time=now_ms())
            )
            restore = update(runs).where(
                runs.c.experiment_id == row.experiment_id, runs.c.lifecycle_stage == DELETED
            )
            if row.deleted_time is not None:
                # Runs deleted on their own before the experiment stay deleted.
                restore = restore.where(runs.c.deleted_time == row.deleted_time)
            conn.execute(restore.values(lifecycle_stage=ACTIVE, deleted_time=None))

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        validate_experiment_tag(tag)
        with self._write() as conn:
            row = experiment_row(conn, experiment_id)
            if row.lifecycle_stage != ACTIVE:
                raise _not_active(experiment_id)
            stmt = upsert(self.dialect, experiment_tags, ("experiment_id", "key"), ("value",))
            conn.execute(
                stmt, {"experiment_id": row.experiment_id, "key": tag.key, "value": tag.value}
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self._write() as conn:
            row = experiment_row(conn, experiment_id)
            if row.lifecycle_stage != ACTIVE:
                raise _not_active(experiment_id)
            result = conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == row.experiment_id,
                    experiment_tags.c.key == key,
                )
            )
            if result.rowcount == 0:
                raise NotFound(f"No tag with name: {key} in experiment with id {experiment_id}")


__all__ = ["ExperimentsMixin", "experiment_row"]
