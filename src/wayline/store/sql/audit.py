"""The registry's audit trail: who changed which model, version, tag, alias or stage, and how.

Every registry write appends its changes here inside its own transaction (``record``), so a
change and its entry commit or roll back together. Entries are never edited, with one exception:
renaming a model moves its entries (found by the model's ``model_uid``, which survives renames)
to the new name, so ``get_registry_history(new_name)`` is one index range over ``(name, id)``
and still shows what happened under the old name. The rename itself is an entry too
(``before={"name": old}``). Entries outlive the model: after a delete the name's history stays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from wayline.entities import PagedList
from wayline.entities.registry import RegistryChange
from wayline.store.registry import HISTORY_MAX_RESULTS_DEFAULT, current_user
from wayline.store.sql.base import (
    SqlBase,
    decode_page_token,
    encode_page_token,
    fetch_rows,
    now_ms,
)
from wayline.store.sql.tables import registry_changes
from wayline.validation import validate_max_results

HISTORY_MAX_RESULTS_LIMIT = 1000

rc = registry_changes.c
_INSERT = registry_changes.insert()
_MOVE = (
    update(registry_changes)
    .where(rc.model_uid == bindparam("uid"))
    .values(name=bindparam("new_name"))
)
_HISTORY = (
    select(rc.id, rc.timestamp, rc.user, rc.action, rc.name, rc.version, rc.before, rc.after)
    .where(rc.name == bindparam("name"))
    .order_by(rc.id.desc())
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


@dataclass(frozen=True, slots=True)
class Change:
    """One entry to append: ``before``/``after`` hold the changed fields only."""

    action: str
    name: str
    model_uid: str
    version: int | None = None
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)


def record(conn: Connection, changes: Sequence[Change]) -> None:
    """Append ``changes`` in the caller's transaction, named after the acting user."""
    if not changes:
        return
    user, timestamp = current_user(), now_ms()
    rows = [
        {
            "timestamp": timestamp,
            "user": user,
            "action": change.action,
            "name": change.name,
            "model_uid": change.model_uid,
            "version": change.version,
            "before": _json(change.before),
            "after": _json(change.after),
        }
        for change in changes
    ]
    conn.execute(_INSERT, rows)


def move_history(conn: Connection, model_uid: str, new_name: str) -> None:
    """File the model's entries under its new name (see the module docstring)."""
    conn.execute(_MOVE, {"uid": model_uid, "new_name": new_name})


def _json(values: Mapping[str, Any]) -> str:
    return json.dumps(dict(values), sort_keys=True, separators=(",", ":"))


class AuditMixin(SqlBase):
    def get_registry_history(
        self,
        name: str,
        max_results: int = HISTORY_MAX_RESULTS_DEFAULT,
        page_token: str | None = None,
    ) -> PagedList[RegistryChange]:
        max_results = validate_max_results(max_results, HISTORY_MAX_RESULTS_LIMIT)
        offset = decode_page_token(page_token)
        with self._read() as conn:
            rows = fetch_rows(
                conn, _HISTORY, {"name": name, "limit": max_results + 1, "offset": offset}
            )
        token = None
        if len(rows) > max_results:
            rows = rows[:max_results]
            token = encode_page_token(offset + max_results)
        changes = [
            RegistryChange(
                id=row[0],
                timestamp=row[1],
                user=row[2],
                action=row[3],
                name=row[4],
                version="" if row[5] is None else str(row[5]),
                before=json.loads(row[6]),
                after=json.loads(row[7]),
            )
            for row in rows
        ]
        return PagedList(changes, token)


__all__ = ["HISTORY_MAX_RESULTS_LIMIT", "AuditMixin", "Change", "move_history", "record"]
