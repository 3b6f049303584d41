"""Reading registry rows into entities, and the rules every registry write checks first.

Loading takes a fixed number of set-based queries whatever the page size: the entity rows, then
the tags and aliases of all of them at once (and, for registered models, the latest version per
stage with its tags). Rows are read as plain driver tuples (``fetch_rows`` / ``fetch_in``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select

from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    Stage,
)
from wayline.errors import InvalidParameter, NotFound
from wayline.store.sql.base import IN_CHUNK, fetch_in, fetch_rows, gc_paused
from wayline.store.sql.tables import (
    MAX_REGISTERED_MODEL_NAME_LENGTH,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from wayline.validation import validate_key, validate_length

MAX_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_ALIAS_LENGTH = 255
_ALIAS = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS = re.compile(r"^[vV]\d+$")
_MAX_VERSION = 2**31 - 1
_STATUSES = {status.value: status for status in ModelVersionStatus}
_STAGE_ORDER = {stage.value: index for index, stage in enumerate(Stage)}

rm = registered_models.c
mv = model_versions.c
rmt = registered_model_tags.c
mvt = model_version_tags.c
rma = registered_model_aliases.c

MODEL_COLUMNS = (rm.name, rm.creation_time, rm.last_updated_time, rm.description, rm.user_id)
VERSION_COLUMNS = (
    mv.name,
    mv.version,
    mv.creation_time,
    mv.last_updated_time,
    mv.current_stage,
    mv.description,
    mv.source,
    mv.run_id,
    mv.status,
    mv.status_message,
    mv.user_id,
    mv.run_link,
    mv.model_id,
)
_MODEL_TAGS = select(rmt.name, rmt.key, rmt.value)
_ALIASES = select(rma.name, rma.alias, rma.version)
_VERSION_TAGS = select(mvt.name, mvt.version, mvt.key, mvt.value)
_STATE = (
    select(rm.model_uid, rmt.value)
    .select_from(
        registered_models.outerjoin(
            registered_model_tags, and_(rmt.name == rm.name, rmt.key == PROMPT_TAG)
        )
    )
    .where(rm.name == bindparam("name"))
)
_VERSION = select(*VERSION_COLUMNS).where(
    mv.name == bindparam("name"), mv.version == bindparam("version")
)

VersionKey = tuple[str, int]


# ---------------------------------------------------------------- validation
def missing(parameter: str) -> InvalidParameter:
    return InvalidParameter(
        f"Missing value for required parameter '{parameter}'. See the API docs for more"
        " information about request parameters."
    )


def validate_model_name(name: object, parameter: str = "name") -> str:
    """A registered model name: non-empty, no ``/`` or ``:``, no ``..``, bounded length."""
    if not isinstance(name, str) or not name.strip():
        raise missing(parameter)
    if "/" in name or ":" in name:
        raise InvalidParameter(f"Invalid model name '{name}'. Names cannot contain '/' or ':'.")
    if ".." in name:
        raise InvalidParameter(
            f"Invalid value '{name}' for parameter '{parameter}': names may be treated as"
            " files in certain cases, and must not contain '..'."
        )
    validate_length("Registered model name", name, MAX_REGISTERED_MODEL_NAME_LENGTH)
    return name


def validate_tag(key: object, value: object) -> tuple[str, str]:
    """A registry tag: a run-style key (≤ 250 characters), a string value ≤ 100,000."""
    checked = validate_key("tag", key)
    if not isinstance(value, str):
        raise InvalidParameter(f"The value of tag {checked!r} must be a string.")
    validate_length(f"Tag value for key {checked!r}:", value, MAX_REGISTRY_TAG_VALUE_LENGTH)
    return checked, value


def parse_version(version: object) -> int:
    """A version number from its wire form; InvalidParameter if it is no integer."""
    if isinstance(version, bool):
        raise InvalidParameter(f"Parameter 'version' must be an integer, got '{version}'.")
    if isinstance(version, int):
        return version
    try:
        return int(str(version).strip())
    except ValueError:
        raise InvalidParameter(
            f"Parameter 'version' must be an integer, got '{version}'."
        ) from None


def validate_alias(alias: object, *, for_set: bool = False) -> str:
    if not isinstance(alias, str) or alias == "":
        raise InvalidParameter("Registered model alias name cannot be empty.")
    if not _ALIAS.fullmatch(alias):
        raise InvalidParameter(
            f"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores"
            " (_), and dashes (-)."
        )
    validate_length("Registered model alias name", alias, MAX_ALIAS_LENGTH)
    if for_set:
        if alias.lower() == "latest":
            raise InvalidParameter("'latest' alias name (case insensitive) is reserved.")
        if _VERSION_ALIAS.fullmatch(alias):
            raise InvalidParameter(f"Version alias name '{alias}' is reserved.")
    return alias


def model_not_found(name: str) -> NotFound:
    return NotFound(f"Registered Model with name={name} not found")


def version_not_found(name: str, version: object) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found")


# ---------------------------------------------------------------- single rows
@dataclass(frozen=True, slots=True)
class ModelState:
    """What writes need to know about a registered model: its audit identity, prompt-ness."""

    name: str
    model_uid: str
    is_prompt: bool


def model_state(conn: Connection, name: str) -> ModelState:
    """NotFound unless the registered model exists."""
    rows = fetch_rows(conn, _STATE, {"name": name})
    if not rows:
        raise model_not_found(name)
    uid, prompt = rows[0]
    return ModelState(name, uid, (prompt or "").lower() == "true")


def version_row(conn: Connection, name: str, version: int) -> tuple[Any, ...]:
    """The version's row (``VERSION_COLUMNS``); NotFound if absent."""
    if not 0 < version <= _MAX_VERSION:
        raise version_not_found(name, version)
    rows = fetch_rows(conn, _VERSION, {"name": name, "version": version})
    if not rows:
        raise version_not_found(name, version)
    return rows[0]


# ---------------------------------------------------------------- loading entities
def version_entity(
    row: Sequence[Any], tags: dict[str, str] | None = None, aliases: list[str] | None = None
) -> ModelVersion:
    # Positional, in the field order of ModelVersion: this runs once per row of a search page.
    return ModelVersion(
        row[0],
        str(row[1]),
        row[2],
        row[3],
        row[4],
        row[5] or "",
        row[6],
        row[7] or "",
        _STATUSES[row[8]],
        row[9] or "",
        row[10] or "",
        row[11] or "",
        row[12] or "",
        tags or {},
        aliases or [],
    )


def load_versions(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[ModelVersion]:
    """Version entities for rows of ``VERSION_COLUMNS``, with their tags and aliases."""
    if not rows:
        return []
    with gc_paused():
        keys = [(row[0], row[1]) for row in rows]
        tags = version_tags(conn, keys)
        aliases = version_aliases(conn, {name for name, _ in keys})
        return [
            version_entity(row, tags.get(key), aliases.get(key))
            for row, key in zip(rows, keys, strict=True)
        ]


def version_tags(conn: Connection, keys: Sequence[VersionKey]) -> dict[VersionKey, dict[str, str]]:
    """The tags of these versions: one query per 1,000 model names, bounded by the page's
    lowest and highest version number (so a page of a few versions of a long-lived model does
    not read all of its tags), then narrowed to the page."""
    if not keys:
        return {}
    wanted = set(keys)
    numbers = [version for _, version in keys]
    low, high = min(numbers), max(numbers)
    names = sorted({name for name, _ in keys})
    prefix = _version_tags_sql(conn)
    # The driver's own placeholders, as ``fetch_in`` writes them (an array on PostgreSQL).
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    found: defaultdict[VersionKey, dict[str, str]] = defaultdict(dict)
    for start in range(0, len(names), IN_CHUNK):
        chunk = names[start : start + IN_CHUNK]
        params: tuple[Any, ...]
        if conn.dialect.name == "postgresql":
            where = "model_version_tags.name = ANY(%s)"
            params = (chunk, low, high)
        else:
            where = f"model_version_tags.name IN ({', '.join([mark] * len(chunk))})"
            params = (*chunk, low, high)
        sql = f"{prefix} WHERE {where} AND model_version_tags.version BETWEEN {mark} AND {mark}"
        result = conn.exec_driver_sql(sql, params)
        try:
            for name, version, key, value in result.cursor.fetchall():
                if (name, version) in wanted:
                    found[(name, version)][key] = value
        finally:
            result.close()
    return {
        key: pairs if len(pairs) < 2 else dict(sorted(pairs.items()))
        for key, pairs in found.items()
    }


def _version_tags_sql(conn: Connection) -> str:
    key = (conn.dialect.name, conn.dialect.driver)
    text = _VERSION_TAGS_SQL.get(key)
    if text is None:
        text = _VERSION_TAGS_SQL[key] = str(_VERSION_TAGS.compile(dialect=conn.dialect))
    return text


_VERSION_TAGS_SQL: dict[tuple[str, str], str] = {}


def model_aliases(conn: Connection, names: Iterable[str]) -> dict[str, dict[str, str]]:
    """Per model name, its aliases (alias → version string), sorted by alias."""
    found: defaultdict[str, dict[str, str]] = defaultdict(dict)
    rows = fetch_in(conn, _ALIASES, "registered_model_aliases.name", sorted(set(names)))
    for name, alias, version in sorted(rows, key=lambda r: (r[0], r[1])):
        found[name][alias] = str(version)
    return found


def version_aliases(conn: Connection, names: Iterable[str]) -> dict[VersionKey, list[str]]:
    found: defaultdict[VersionKey, list[str]] = defaultdict(list)
    for name, aliases in model_aliases(conn, names).items():
        for alias, version in aliases.items():
            found[(name, int(version))].append(alias)
    return found


def load_models(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[RegisteredModel]:
    """Registered model entities for rows of ``MODEL_COLUMNS``: tags, aliases, and the latest
    version in each stage (with its tags and aliases)."""
    if not rows:
        return []
    with gc_paused():
        names = [row[0] for row in rows]
        tags: defaultdict[str, dict[str, str]] = defaultdict(dict)
        for name, key, value in fetch_in(conn, _MODEL_TAGS, "registered_model_tags.name", names):
            tags[name][key] = value
        aliases = model_aliases(conn, names)
        latest = latest_versions(conn, names, aliases)
        return [
            RegisteredModel(
                name=row[0],
                creation_timestamp=row[1],
                last_updated_timestamp=row[2],
                description=row[3] or "",
                user_id=row[4] or "",
                latest_versions=latest.get(row[0], []),
                tags=dict(sorted(tags.get(row[0], {}).items())),
                aliases=aliases.get(row[0], {}),
            )
            for row in rows
        ]


def latest_versions(
    conn: Connection, names: Sequence[str], aliases: dict[str, dict[str, str]]
) -> dict[str, list[ModelVersion]]:
    """Per model, the highest version in each stage, in stage order."""
    found: defaultdict[str, list[ModelVersion]] = defaultdict(list)
    for start in range(0, len(names), 1000):
        chunk = list(names[start : start + 1000])
        highest = (
            select(mv.name.label("n"), func.max(mv.version).label("v"))
            .where(mv.name.in_(chunk))
            .group_by(mv.name, mv.current_stage)
            .subquery("highest")
        )
        query = select(*VERSION_COLUMNS).join(
            highest, and_(mv.name == highest.c.n, mv.version == highest.c.v)
        )
        rows = fetch_rows(conn, query)
        tags = version_tags(conn, [(row[0], row[1]) for row in rows])
        for row in rows:
            names_of = [a for a, v in aliases.get(row[0], {}).items() if v == str(row[1])]
            found[row[0]].append(version_entity(row, tags.get((row[0], row[1])), names_of))
    for versions in found.values():
        versions.sort(key=lambda v: _STAGE_ORDER.get(v.current_stage, len(_STAGE_ORDER)))
    return found


__all__ = [
    "MAX_ALIAS_LENGTH",
    "MAX_REGISTRY_TAG_VALUE_LENGTH",
    "MODEL_COLUMNS",
    "VERSION_COLUMNS",
    "ModelState",
    "latest_versions",
    "load_models",
    "load_versions",
    "missing",
    "model_aliases",
    "model_not_found",
    "model_state",
    "parse_version",
    "validate_alias",
    "validate_model_name",
    "validate_tag",
    "version_entity",
    "version_not_found",
    "version_row",
    "version_tags",
]
