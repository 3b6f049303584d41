"""The registry's audit trail: every change recorded with who made it, newest first, across
renames and past deletion; a refused write records nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from wayline.entities.registry import ModelVersionTag, RegisteredModelTag, RegistryChange
from wayline.errors import AlreadyExists, InvalidParameter, NotFound
from wayline.store.backend import Store
from wayline.store.registry import acting_user

from ._support import raises

S3 = "s3://bucket/models/m"
INVALID = "INVALID_PARAMETER_VALUE"


@pytest.fixture(autouse=True)
def alice() -> Iterator[None]:
    """Changes in these tests are made by "alice" (the server takes it from the request)."""
    token = acting_user.set("alice")
    yield
    acting_user.reset(token)


def _history(store: Store, name: str) -> list[RegistryChange]:
    changes: list[RegistryChange] = []
    token = None
    while True:
        page = store.get_registry_history(name, max_results=3, page_token=token)
        changes += page
        token = page.token
        if token is None:
            return changes


def _summary(
    changes: list[RegistryChange],
) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """Oldest first: (action, version, before, after)."""
    return [(c.action, c.version, c.before, c.after) for c in reversed(changes)]


def test_every_change_is_recorded(store: Store) -> None:
    store.create_registered_model("m", [RegisteredModelTag("k", "v")], "first")
    store.update_registered_model("m", "second")
    store.set_registered_model_tag("m", RegisteredModelTag("k", "w"))
    store.delete_registered_model_tag("m", "k")
    store.create_model_version("m", S3, tags=[ModelVersionTag("t", "1")], description="d")
    store.update_model_version("m", "1", "d2")
    store.set_model_version_tag("m", "1", ModelVersionTag("t", "2"))
    store.delete_model_version_tag("m", "1", "t")
    store.set_registered_model_alias("m", "champion", "1")
    store.delete_registered_model_alias("m", "champion")
    store.transition_model_version_stage("m", "1", "Staging")

    changes = _history(store, "m")

    assert all(c.user == "alice" and c.name == "m" for c in changes)
    assert [c.id for c in changes] == sorted((c.id for c in changes), reverse=True)
    assert [c.timestamp for c in changes] == sorted((c.timestamp for c in changes), reverse=True)
    assert _summary(changes) == [
        ("registered_model.created", "", {}, {"description": "first", "tags": {"k": "v"}}),
        ("registered_model.updated", "", {"description": "first"}, {"description": "second"}),
        (
            "registered_model_tag.set",
            "",
            {"key": "k", "value": "v"},
            {"key": "k", "value": "w"},
        ),
        ("registered_model_tag.deleted", "", {"key": "k", "value": "w"}, {}),
        (
            "model_version.created",
            "1",
            {},
            {"description": "d", "model_id": "", "run_id": "", "source": S3, "tags": {"t": "1"}},
        ),
        ("model_version.updated", "1", {"description": "d"}, {"description": "d2"}),
        ("model_version_tag.set", "1", {"key": "t", "value": "1"}, {"key": "t", "value": "2"}),
        ("model_version_tag.deleted", "1", {"key": "t", "value": "2"}, {}),
        ("alias.set", "1", {}, {"alias": "champion", "version": "1"}),
        ("alias.deleted", "1", {"alias": "champion", "version": "1"}, {}),
        ("model_version.stage_transitioned", "1", {"stage": "None"}, {"stage": "Staging"}),
    ]


def test_stage_archiving_and_alias_moves(store: Store) -> None:
    store.create_registered_model("m")
    for _ in range(3):
        store.create_model_version("m", S3)
    store.transition_model_version_stage("m", "1", "Production")
    store.transition_model_version_stage("m", "2", "Production")
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "champion", "2")
    store.set_registered_model_alias("m", "champion", "2")  # no change, no entry

    store.transition_model_version_stage("m", "3", "Production", archive_existing_versions=True)

    recent = _summary(_history(store, "m")[:5])
    assert recent == [
        ("alias.set", "1", {}, {"alias": "champion", "version": "1"}),
        ("alias.set", "2", {"version": "1"}, {"alias": "champion", "version": "2"}),
        ("model_version.stage_transitioned", "1", {"stage": "Production"}, {"stage": "Archived"}),
        ("model_version.stage_transitioned", "2", {"stage": "Production"}, {"stage": "Archived"}),
        ("model_version.stage_transitioned", "3", {"stage": "None"}, {"stage": "Production"}),
    ]


def test_deleting_a_version_records_its_aliases(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)
    store.set_registered_model_alias("m", "a", "1")
    store.set_registered_model_alias("m", "b", "1")

    store.delete_model_version("m", "1")

    assert _summary(_history(store, "m")[:3]) == [
        ("alias.deleted", "1", {"alias": "a", "version": "1"}, {}),
        ("alias.deleted", "1", {"alias": "b", "version": "1"}, {}),
        ("model_version.deleted", "1", {"run_id": "", "source": S3, "stage": "None"}, {}),
    ]


def test_history_follows_a_rename(store: Store) -> None:
    store.create_registered_model("old")
    store.create_model_version("old", S3)

    store.rename_registered_model("old", "new")
    store.set_registered_model_alias("new", "champion", "1")

    assert [c.action for c in reversed(_history(store, "new"))] == [
        "registered_model.created",
        "model_version.created",
        "registered_model.renamed",
        "alias.set",
    ]
    renamed = _history(store, "new")[1]
    assert (renamed.before, renamed.after) == ({"name": "old"}, {"name": "new"})
    assert _history(store, "old") == []
    # A new model under the old name has a history of its own.
    store.create_registered_model("old")
    assert [c.action for c in _history(store, "old")] == ["registered_model.created"]
    assert len(_history(store, "new")) == 4


def test_history_outlives_the_model(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)
    store.create_model_version("m", S3)

    store.delete_registered_model("m")

    changes = _history(store, "m")
    assert changes[0].action == "registered_model.deleted"
    assert changes[0].before == {"versions": ["1", "2"]}
    assert len(changes) == 4


def test_refused_writes_record_nothing(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3)
    before = _history(store, "m")

    with pytest.raises(AlreadyExists):
        store.create_registered_model("m")
    with raises(InvalidParameter, INVALID):
        store.set_registered_model_alias("m", "latest", "1")
    with pytest.raises(NotFound):
        store.set_model_version_tag("m", "7", ModelVersionTag("k", "v"))
    with raises(InvalidParameter, INVALID):
        store.create_model_version("m", "s3://b/../x")
    with raises(InvalidParameter, INVALID):
        store.transition_model_version_stage("m", "1", "Live")

    assert _history(store, "m") == before


def test_the_acting_user_is_recorded(store: Store) -> None:
    token = acting_user.set("bob")
    try:
        store.create_registered_model("m")
    finally:
        acting_user.reset(token)
    store.update_registered_model("m", "x")

    assert [c.user for c in reversed(_history(store, "m"))] == ["bob", "alice"]


def test_history_paging_and_errors(store: Store) -> None:
    store.create_registered_model("m")
    for _ in range(4):
        store.create_model_version("m", S3)

    first = store.get_registry_history("m", max_results=2)
    second = store.get_registry_history("m", max_results=2, page_token=first.token)
    third = store.get_registry_history("m", max_results=2, page_token=second.token)

    assert [c.version for c in [*first, *second, *third]] == ["4", "3", "2", "1", ""]
    assert third.token is None
    assert store.get_registry_history("never-existed") == []
    with raises(InvalidParameter, INVALID):
        store.get_registry_history("m", max_results=0)
    with raises(InvalidParameter, INVALID):
        store.get_registry_history("m", page_token="garbage")
