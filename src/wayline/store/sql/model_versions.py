"""Model versions in the SQL store: create (numbered, source-checked), read, update, stage
transitions, delete, search, download URIs and version tags.

Version numbers come from the registered model's ``next_version`` counter, bumped by an UPDATE
that takes the model row's lock first: concurrent registrations queue on it, and a deleted
version's number is never handed out again. As in ``registry.py``, each write appends its audit
entries in its transaction and emits its webhook event after the commit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, delete, select, update

from wayline.entities import PagedList
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionStatus,
    ModelVersionTag,
    Stage,
)
from wayline.errors import InvalidParameter
from wayline.store.registry import SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT
from wayline.store.sql.audit import Change, record
from wayline.store.sql.base import (
    decode_page_token,
    encode_page_token,
    fetch_rows,
    now_ms,
    upsert,
)
from wayline.store.sql.registry import PROMPT_TYPE_TAG
from wayline.store.sql.registry_rows import (
    VERSION_COLUMNS,
    load_versions,
    missing,
    model_state,
    parse_version,
    validate_model_name,
    validate_tag,
    version_entity,
    version_row,
)
from wayline.store.sql.tables import (
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_models,
)
from wayline.store.sql.version_sources import (
    Lineage,
    check_prompt_source,
    record_lineage,
    resolve_source,
)
from wayline.store.sql.webhooks import WebhooksMixin
from wayline.validation import validate_key, validate_length, validate_max_results

SEARCH_MODEL_VERSIONS_MAX_RESULTS_LIMIT = SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT
PROMPT_TEXT_TAG = "mlflow.prompt.text"
MAX_SOURCE_LENGTH = 1000
MAX_RUN_LINK_LENGTH = 1000
MAX_RUN_ID_LENGTH = 32
MAX_MODEL_ID_LENGTH = 34
_ACTIVE_STAGES = (Stage.STAGING, Stage.PRODUCTION)

rm = registered_models.c
mv = model_versions.c
mvt = model_version_tags.c
rma = registered_model_aliases.c


@functools.cache
def _tag_upsert(dialect: str) -> Insert:
    return upsert(dialect, model_version_tags, keys=("name", "version", "key"), update=("value",))


def _validate_version_tag(key: object, value: object) -> tuple[str, str]:
    if key == PROMPT_TEXT_TAG and isinstance(value, str) and len(value) > 100_000:
        raise InvalidParameter("Prompt text exceeds max length of 100000 characters.")
    return validate_tag(key, value)


def _allocate_version(conn: Connection, name: str, now: int) -> int:
    """The model's next version number. The UPDATE takes the model row's lock first, so
    concurrent registrations queue and get consecutive numbers; the counter never goes back."""
    conn.execute(
        update(registered_models)
        .where(rm.name == name)
        .values(next_version=rm.next_version + 1, last_updated_time=now)
    )
    rows = fetch_rows(conn, select(rm.next_version).where(rm.name == name))
    return int(rows[0][0]) - 1


def _created_event(
    version: ModelVersion, tags: dict[str, str], is_prompt: bool
) -> tuple[str, str, dict[str, Any]]:
    """The webhook event of a new version, with MLflow's payload (spec rest-registry.md §4)."""
    common = {"name": version.name, "version": version.version}
    description = version.description or None
    if is_prompt:
        hidden = {PROMPT_TAG, PROMPT_TYPE_TAG, PROMPT_TEXT_TAG}
        data = {
            **common,
            "template": tags.get(PROMPT_TEXT_TAG),
            "tags": {k: v for k, v in tags.items() if k not in hidden},
            "description": description,
        }
        return "PROMPT_VERSION", "CREATED", data
    data = {
        **common,
        "source": version.source,
        "run_id": version.run_id or None,
        "tags": tags,
        "description": description,
    }
    return "MODEL_VERSION", "CREATED", data


class ModelVersionsMixin(WebhooksMixin):
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Sequence[ModelVersionTag] = (),
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
    ) -> ModelVersion:
        name = validate_model_name(name)
        if not isinstance(source, str) or not source:
            raise missing("source")
        validate_length("Model version source", source, MAX_SOURCE_LENGTH)
        validate_length("Model version run_link", run_link, MAX_RUN_LINK_LENGTH)
        validate_length("Model version run_id", run_id, MAX_RUN_ID_LENGTH)
        validate_length("Model version model_id", model_id, MAX_MODEL_ID_LENGTH)
        values = dict(_validate_version_tag(tag.key, tag.value) for tag in tags or ())
        now = now_ms()
        with self._write() as conn:
            state = model_state(conn, name)
            is_prompt = state.is_prompt or values.get(PROMPT_TAG, "").lower() == "true"
            if is_prompt:
                check_prompt_source(source)
                lineage = Lineage(source, run_id or None, model_id or None)
            else:
                lineage = resolve_source(conn, source, run_id, model_id)
                validate_length("Model version source", lineage.source, MAX_SOURCE_LENGTH)
            version = _allocate_version(conn, name, now)
            row = {
                "name": name,
                "version": version,
                "creation_time": now,
                "last_updated_time": now,
                "description": description or None,
                "current_stage": Stage.NONE.value,
                "source": lineage.source,
                "storage_location": lineage.storage_location,
                "run_id": lineage.run_id,
                "run_link": run_link or None,
                "status": ModelVersionStatus.READY.value,
                "model_id": lineage.model_id,
            }
            conn.execute(model_versions.insert(), row)
            if values:
                tag_rows = [
                    {"name": name, "version": version, "key": k, "value": v}
                    for k, v in values.items()
                ]
                conn.execute(model_version_tags.insert(), tag_rows)
            if lineage.model_id and not is_prompt:
                record_lineage(conn, self.dialect, lineage.model_id, name, version)
            after = {
                "source": lineage.source,
                "run_id": lineage.run_id or "",
                "model_id": lineage.model_id or "",
                "description": description or "",
                "tags": values,
            }
            change = Change("model_version.created", name, state.model_uid, version, after=after)
            record(conn, [change])
        created = version_entity(
            [row.get(column.name) for column in VERSION_COLUMNS], dict(sorted(values.items()))
        )
        self._emit(*_created_event(created, values, is_prompt))
        return created

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        name, number = validate_model_name(name), parse_version(version)
        with self._read() as conn:
            return load_versions(conn, [version_row(conn, name, number)])[0]

    def update_model_version(
        self, name: str, version: str | int, description: str | None
    ) -> ModelVersion:
        name, number = validate_model_name(name), parse_version(version)
        with self._write() as conn:
            state = model_state(conn, name)
            old = version_row(conn, name, number)[5]
            conn.execute(
                update(model_versions)
                .where(mv.name == name, mv.version == number)
                .values(description=description or None, last_updated_time=now_ms())
            )
            if (old or "") != (description or ""):
                change = Change(
                    "model_version.updated",
                    name,
                    state.model_uid,
                    number,
                    before={"description": old or ""},
                    after={"description": description or ""},
                )
                record(conn, [change])
            return load_versions(conn, [version_row(conn, name, number)])[0]

    def transition_model_version_stage(
        self,
        name: str,
        version: str | int,
        stage: str | Stage,
        archive_existing_versions: bool = False,
    ) -> ModelVersion:
        target = Stage.parse(stage)
        if archive_existing_versions and target not in _ACTIVE_STAGES:
            raise InvalidParameter(
                "Model version transition cannot archive existing model versions because"
                f" '{stage}' is not an Active stage. Valid stages are"
                f" {[s.value for s in _ACTIVE_STAGES]}"
            )
        name, number = validate_model_name(name), parse_version(version)
        now = now_ms()
        with self._write() as conn:
            state = model_state(conn, name)
            current = version_row(conn, name, number)[4]
            changes: list[Change] = []
            if archive_existing_versions:
                others = fetch_rows(
                    conn,
                    select(mv.version).where(
                        mv.name == name, mv.version != number, mv.current_stage == target.value
                    ),
                )
                if others:
                    conn.execute(
                        update(model_versions)
                        .where(mv.name == name, mv.version.in_([o[0] for o in others]))
                        .values(current_stage=Stage.ARCHIVED.value, last_updated_time=now)
                    )
                for (other,) in sorted(others):
                    changes.append(
                        Change(
                            "model_version.stage_transitioned",
                            name,
                            state.model_uid,
                            other,
                            before={"stage": target.value},
                            after={"stage": Stage.ARCHIVED.value},
                        )
                    )
            conn.execute(
                update(model_versions)
                .where(mv.name == name, mv.version == number)
                .values(current_stage=target.value, last_updated_time=now)
            )
            conn.execute(
                update(registered_models).where(rm.name == name).values(last_updated_time=now)
            )
            if current != target.value:
                changes.append(
                    Change(
                        "model_version.stage_transitioned",
                        name,
                        state.model_uid,
                        number,
                        before={"stage": current},
                        after={"stage": target.value},
                    )
                )
            record(conn, changes)
            return load_versions(conn, [version_row(conn, name, number)])[0]

    def delete_model_version(self, name: str, version: str | int) -> None:
        name, number = validate_model_name(name), parse_version(version)
        with self._write() as conn:
            state = model_state(conn, name)
            row = version_row(conn, name, number)
            aliases = fetch_rows(
                conn,
                select(rma.alias)
                .where(rma.name == name, rma.version == number)
                .order_by(rma.alias),
            )
            # Its tags and aliases go by ON DELETE CASCADE.
            conn.execute(delete(model_versions).where(mv.name == name, mv.version == number))
            conn.execute(
                update(registered_models).where(rm.name == name).values(last_updated_time=now_ms())
            )
            changes = [
                Change(
                    "alias.deleted",
                    name,
                    state.model_uid,
                    number,
                    before={"alias": alias, "version": str(number)},
                )
                for (alias,) in aliases
            ]
            before = {"stage": row[4], "source": row[6], "run_id": row[7] or ""}
            changes.append(
                Change("model_version.deleted", name, state.model_uid, number, before=before)
            )
            record(conn, changes)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_MODEL_VERSIONS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        from wayline.search.sql_registry import model_version_search_query

        max_results = validate_max_results(max_results, SEARCH_MODEL_VERSIONS_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        query = model_version_search_query(VERSION_COLUMNS, filter_string, order_by)
        with self._read() as conn:
            rows = fetch_rows(conn, query.limit(max_results + 1).offset(offset))
            token = None
            if len(rows) > max_results:
                rows, token = rows[:max_results], encode_page_token(offset + max_results)
            return PagedList(load_versions(conn, rows), token)

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        name, number = validate_model_name(name), parse_version(version)
        with self._read() as conn:
            version_row(conn, name, number)
            rows = fetch_rows(
                conn,
                select(mv.storage_location, mv.source).where(mv.name == name, mv.version == number),
            )
        location, source = rows[0]
        return str(location or source)

    # ------------------------------------------------------------ tags
    def set_model_version_tag(self, name: str, version: str | int, tag: ModelVersionTag) -> None:
        name, number = validate_model_name(name), parse_version(version)
        key, value = _validate_version_tag(tag.key, tag.value)
        with self._write() as conn:
            state = model_state(conn, name)
            version_row(conn, name, number)
            old = self._version_tag(conn, name, number, key)
            conn.execute(
                _tag_upsert(self.dialect),
                {"name": name, "version": number, "key": key, "value": value},
            )
            if old != value:
                change = Change(
                    "model_version_tag.set",
                    name,
                    state.model_uid,
                    number,
                    before={} if old is None else {"key": key, "value": old},
                    after={"key": key, "value": value},
                )
                record(conn, [change])
        entity = "PROMPT_VERSION_TAG" if state.is_prompt else "MODEL_VERSION_TAG"
        data = {"name": name, "version": str(number), "key": key, "value": value}
        self._emit(entity, "SET", data)

    def delete_model_version_tag(self, name: str, version: str | int, key: str) -> None:
        name, number = validate_model_name(name), parse_version(version)
        key = validate_key("tag", key)
        with self._write() as conn:
            state = model_state(conn, name)
            version_row(conn, name, number)
            old = self._version_tag(conn, name, number, key)
            if old is None:
                return  # as MLflow: deleting a missing tag is no error
            conn.execute(
                delete(model_version_tags).where(
                    mvt.name == name, mvt.version == number, mvt.key == key
                )
            )
            change = Change(
                "model_version_tag.deleted",
                name,
                state.model_uid,
                number,
                before={"key": key, "value": old},
            )
            record(conn, [change])
        entity = "PROMPT_VERSION_TAG" if state.is_prompt else "MODEL_VERSION_TAG"
        self._emit(entity, "DELETED", {"name": name, "version": str(number), "key": key})

    @staticmethod
    def _version_tag(conn: Connection, name: str, version: int, key: str) -> str | None:
        rows = fetch_rows(
            conn,
            select(mvt.value).where(mvt.name == name, mvt.version == version, mvt.key == key),
        )
        return rows[0][0] if rows else None


__all__ = ["ModelVersionsMixin"]
