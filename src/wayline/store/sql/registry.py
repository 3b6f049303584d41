"""Registered models in the SQL store: create, read, rename, update, delete, search; their tags
and aliases, and the version an alias (or ``latest``) names.

Each write is one transaction that also appends its audit entries (``audit.record``); its
webhook event (``WebhooksMixin._emit``) goes out after the commit. A prompt is a registered model
tagged ``mlflow.prompt.is_prompt = "true"``: its events are the PROMPT* ones.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Insert, delete, select, update
from sqlalchemy.exc import IntegrityError

from wayline.entities import PagedList
from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    RegisteredModel,
    RegisteredModelTag,
    Stage,
)
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.registry import (
    SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODELS_MAX_RESULTS_LIMIT,
)
from wayline.store.sql.audit import Change, move_history, record
from wayline.store.sql.base import (
    decode_page_token,
    encode_page_token,
    fetch_rows,
    now_ms,
    upsert,
)
from wayline.store.sql.registry_rows import (
    MODEL_COLUMNS,
    VERSION_COLUMNS,
    latest_versions,
    load_models,
    load_versions,
    model_aliases,
    model_not_found,
    model_state,
    parse_version,
    validate_alias,
    validate_model_name,
    validate_tag,
    version_row,
)
from wayline.store.sql.tables import (
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from wayline.store.sql.webhooks import WebhooksMixin
from wayline.validation import validate_key, validate_max_results

# Tags that mark a prompt and its type: not part of a prompt.created event's user tags.
PROMPT_TYPE_TAG = "_mlflow_prompt_type"

rm = registered_models.c
mv = model_versions.c
rmt = registered_model_tags.c
rma = registered_model_aliases.c


@functools.cache
def _tag_upsert(dialect: str) -> Insert:
    return upsert(dialect, registered_model_tags, keys=("name", "key"), update=("value",))


@functools.cache
def _alias_upsert(dialect: str) -> Insert:
    return upsert(dialect, registered_model_aliases, keys=("name", "alias"), update=("version",))


def _already_exists(name: str, existing_is_prompt: bool, new_is_prompt: bool) -> AlreadyExists:
    old = "Prompt" if existing_is_prompt else "Registered Model"
    new = "Prompt" if new_is_prompt else "Registered Model"
    if old != new:
        return AlreadyExists(
            f"Tried to create a {new.lower()} with name {name!r}, but the name is already taken"
            f" by a {old.lower()}. MLflow does not allow creating a model and a prompt with the"
            " same name."
        )
    return AlreadyExists(f"{new} (name={name}) already exists.")


def _model_rows(conn: Connection, name: str) -> list[tuple[Any, ...]]:
    return fetch_rows(conn, select(*MODEL_COLUMNS).where(rm.name == name))


def _load_model(conn: Connection, name: str) -> RegisteredModel:
    found = load_models(conn, _model_rows(conn, name))
    if not found:
        raise model_not_found(name)
    return found[0]


def _tag_value(conn: Connection, name: str, key: str) -> str | None:
    rows = fetch_rows(conn, select(rmt.value).where(rmt.name == name, rmt.key == key))
    return rows[0][0] if rows else None


def _alias_version(conn: Connection, name: str, alias: str) -> int | None:
    rows = fetch_rows(conn, select(rma.version).where(rma.name == name, rma.alias == alias))
    return rows[0][0] if rows else None


class RegisteredModelsMixin(WebhooksMixin):
    # ------------------------------------------------------------ registered models
    def create_registered_model(
        self,
        name: str,
        tags: Sequence[RegisteredModelTag] = (),
        description: str | None = None,
    ) -> RegisteredModel:
        name = validate_model_name(name)
        values = dict(validate_tag(tag.key, tag.value) for tag in tags or ())
        is_prompt = values.get(PROMPT_TAG, "").lower() == "true"
        uid, created = uuid.uuid4().hex, now_ms()
        try:
            with self._write() as conn:
                if _model_rows(conn, name):
                    raise _already_exists(name, model_state(conn, name).is_prompt, is_prompt)
                conn.execute(
                    registered_models.insert(),
                    {
                        "name": name,
                        "model_uid": uid,
                        "creation_time": created,
                        "last_updated_time": created,
                        "description": description or None,
                        "next_version": 1,
                    },
                )
                if values:
                    rows = [{"name": name, "key": k, "value": v} for k, v in values.items()]
                    conn.execute(registered_model_tags.insert(), rows)
                after: dict[str, Any] = {"description": description or "", "tags": values}
                record(conn, [Change("registered_model.created", name, uid, after=after)])
        except IntegrityError:  # created concurrently between the check and the insert
            raise _already_exists(name, is_prompt, is_prompt) from None
        if is_prompt:
            hidden = {PROMPT_TAG, PROMPT_TYPE_TAG}
            user_tags = {k: v for k, v in values.items() if k not in hidden}
            data = {"name": name, "tags": user_tags, "description": description or ""}
            self._emit("PROMPT", "CREATED", data)
        else:
            data = {"name": name, "tags": values, "description": description or ""}
            self._emit("REGISTERED_MODEL", "CREATED", data)
        return RegisteredModel(
            name=name,
            creation_timestamp=created,
            last_updated_timestamp=created,
            description=description or "",
            tags=dict(sorted(values.items())),
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        name = validate_model_name(name)
        with self._read() as conn:
            return _load_model(conn, name)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        name = validate_model_name(name)
        new_name = validate_model_name(new_name, "new_name")
        try:
            with self._write() as conn:
                state = model_state(conn, name)
                if new_name != name:
                    if _model_rows(conn, new_name):
                        raise AlreadyExists(f"Registered Model (name={new_name}) already exists.")
                    now = now_ms()
                    # Versions, tags and aliases follow through ON UPDATE CASCADE.
                    conn.execute(
                        update(registered_models)
                        .where(rm.name == name)
                        .values(name=new_name, last_updated_time=now)
                    )
                    conn.execute(
                        update(model_versions)
                        .where(mv.name == new_name)
                        .values(last_updated_time=now)
                    )
                    move_history(conn, state.model_uid, new_name)
                    change = Change(
                        "registered_model.renamed",
                        new_name,
                        state.model_uid,
                        before={"name": name},
                        after={"name": new_name},
                    )
                    record(conn, [change])
                return _load_model(conn, new_name)
        except IntegrityError:
            raise AlreadyExists(f"Registered Model (name={new_name}) already exists.") from None

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        name = validate_model_name(name)
        with self._write() as conn:
            state = model_state(conn, name)
            old = fetch_rows(conn, select(rm.description).where(rm.name == name))[0][0]
            conn.execute(
                update(registered_models)
                .where(rm.name == name)
                .values(description=description or None, last_updated_time=now_ms())
            )
            if (old or "") != (description or ""):
                change = Change(
                    "registered_model.updated",
                    name,
                    state.model_uid,
                    before={"description": old or ""},
                    after={"description": description or ""},
                )
                record(conn, [change])
            return _load_model(conn, name)

    def delete_registered_model(self, name: str) -> None:
        name = validate_model_name(name)
        with self._write() as conn:
            state = model_state(conn, name)
            versions = [
                str(row[0])
                for row in fetch_rows(
                    conn, select(mv.version).where(mv.name == name).order_by(mv.version)
                )
            ]
            # Versions, their tags and aliases, and the model's tags go by ON DELETE CASCADE.
            conn.execute(delete(registered_models).where(rm.name == name))
            change = Change(
                "registered_model.deleted", name, state.model_uid, before={"versions": versions}
            )
            record(conn, [change])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = SEARCH_REGISTERED_MODELS_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        from wayline.search.sql_registry import registered_model_search_query

        max_results = validate_max_results(max_results, SEARCH_REGISTERED_MODELS_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        query = registered_model_search_query(MODEL_COLUMNS, filter_string, order_by)
        with self._read() as conn:
            rows = fetch_rows(conn, query.limit(max_results + 1).offset(offset))
            token = None
            if len(rows) > max_results:
                rows, token = rows[:max_results], encode_page_token(offset + max_results)
            return PagedList(load_models(conn, rows), token)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        name = validate_model_name(name)
        if isinstance(stages, str):
            stages = [stages]
        wanted = {Stage.parse(stage).value for stage in stages or ()} or {s.value for s in Stage}
        with self._read() as conn:
            model_state(conn, name)
            found = latest_versions(conn, [name], model_aliases(conn, [name])).get(name, [])
        return [version for version in found if version.current_stage in wanted]

    # ------------------------------------------------------------ tags
    def set_registered_model_tag(self, name: str, tag: RegisteredModelTag) -> None:
        name = validate_model_name(name)
        key, value = validate_tag(tag.key, tag.value)
        with self._write() as conn:
            state = model_state(conn, name)
            old = _tag_value(conn, name, key)
            conn.execute(_tag_upsert(self.dialect), {"name": name, "key": key, "value": value})
            if old != value:
                change = Change(
                    "registered_model_tag.set",
                    name,
                    state.model_uid,
                    before={} if old is None else {"key": key, "value": old},
                    after={"key": key, "value": value},
                )
                record(conn, [change])
        is_prompt = value.lower() == "true" if key == PROMPT_TAG else state.is_prompt
        if is_prompt:
            self._emit("PROMPT_TAG", "SET", {"name": name, "key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        name = validate_model_name(name)
        key = validate_key("tag", key)
        with self._write() as conn:
            state = model_state(conn, name)
            old = _tag_value(conn, name, key)
            if old is None:
                return  # as MLflow: deleting a missing tag is no error
            conn.execute(delete(registered_model_tags).where(rmt.name == name, rmt.key == key))
            change = Change(
                "registered_model_tag.deleted",
                name,
                state.model_uid,
                before={"key": key, "value": old},
            )
            record(conn, [change])
        if state.is_prompt and key != PROMPT_TAG:
            self._emit("PROMPT_TAG", "DELETED", {"name": name, "key": key})

    # ------------------------------------------------------------ aliases
    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        name = validate_model_name(name)
        alias = validate_alias(alias, for_set=True)
        number = parse_version(version)
        with self._write() as conn:
            state = model_state(conn, name)
            version_row(conn, name, number)
            old = _alias_version(conn, name, alias)
            if old != number:
                conn.execute(
                    _alias_upsert(self.dialect), {"name": name, "alias": alias, "version": number}
                )
                change = Change(
                    "alias.set",
                    name,
                    state.model_uid,
                    number,
                    before={} if old is None else {"version": str(old)},
                    after={"alias": alias, "version": str(number)},
                )
                record(conn, [change])
        entity = "PROMPT_ALIAS" if state.is_prompt else "MODEL_VERSION_ALIAS"
        self._emit(entity, "CREATED", {"name": name, "alias": alias, "version": str(number)})

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        name = validate_model_name(name)
        alias = validate_alias(alias)
        with self._write() as conn:
            state = model_state(conn, name)
            old = _alias_version(conn, name, alias)
            if old is None:
                return  # as MLflow: deleting a missing alias is no error
            conn.execute(
                delete(registered_model_aliases).where(rma.name == name, rma.alias == alias)
            )
            change = Change(
                "alias.deleted",
                name,
                state.model_uid,
                old,
                before={"alias": alias, "version": str(old)},
            )
            record(conn, [change])
        entity = "PROMPT_ALIAS" if state.is_prompt else "MODEL_VERSION_ALIAS"
        self._emit(entity, "DELETED", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        name = validate_model_name(name)
        alias = validate_alias(alias)
        with self._read() as conn:
            model_state(conn, name)
            if alias.lower() == "latest":
                query = (
                    select(*VERSION_COLUMNS)
                    .where(mv.name == name)
                    .order_by(mv.version.desc())
                    .limit(1)
                )
                rows = fetch_rows(conn, query)
                if not rows:
                    raise NotFound(f"Latest version not found for model {name}.")
                row = rows[0]
            else:
                number = _alias_version(conn, name, alias)
                if number is None:
                    raise InvalidParameter(f"Registered model alias {alias} not found.")
                row = version_row(conn, name, number)
            return load_versions(conn, [row])[0]


__all__ = ["PROMPT_TYPE_TAG", "RegisteredModelsMixin"]
