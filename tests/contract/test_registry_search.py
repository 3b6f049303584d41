"""Registry searches (spec search-syntax.md §4-5): filters, orders, pages, the prompt rule."""

from __future__ import annotations

import time

import pytest

from wayline.entities.registry import (
    PROMPT_TAG,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from wayline.errors import InvalidParameter
from wayline.store.backend import Store

from ._support import raises

INVALID = "INVALID_PARAMETER_VALUE"
S3 = "s3://bucket/models/m"
NOT_PROMPT = f"tag.`{PROMPT_TAG}` != 'true'"
PROMPTS = f"tags.`{PROMPT_TAG}` = 'true'"


def _names(models: list[RegisteredModel]) -> list[str]:
    return [m.name for m in models]


def _keys(versions: list[ModelVersion]) -> list[tuple[str, str]]:
    return [(v.name, v.version) for v in versions]


def _tick() -> None:
    time.sleep(0.003)  # distinct millisecond timestamps for the orders under test


@pytest.fixture
def models(store: Store) -> Store:
    """alpha (team=a), Beta (team=b), gamma (no tags), and the prompt qa-prompt."""
    store.create_registered_model("alpha", [RegisteredModelTag("team", "a")])
    _tick()
    store.create_registered_model("Beta", [RegisteredModelTag("team", "b")])
    _tick()
    store.create_registered_model("gamma")
    store.create_registered_model(
        "qa-prompt", [RegisteredModelTag(PROMPT_TAG, "true"), RegisteredModelTag("team", "a")]
    )
    return store


# ---------------------------------------------------------------- registered models
@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (None, ["Beta", "alpha", "gamma"]),
        ("name = 'alpha'", ["alpha"]),
        ("name != 'alpha'", ["Beta", "gamma"]),
        ("name LIKE '%a'", ["Beta", "alpha", "gamma"]),
        ("name LIKE 'b%'", []),
        ("name ILIKE 'b%'", ["Beta"]),
        ("name IN ('alpha', 'gamma', 'nope')", ["alpha", "gamma"]),
        ("name NOT IN ('alpha')", ["Beta", "gamma"]),
        ("tags.team = 'a'", ["alpha"]),
        ("tag.team != 'a'", ["Beta"]),  # gamma lacks the tag: no match
        ("tags.team LIKE '%'", ["Beta", "alpha"]),
        ("tags.`team` ILIKE 'B'", ["Beta"]),
        ("name = 'alpha' OR tags.team = 'b'", ["Beta", "alpha"]),
    ],
)
def test_registered_model_filters(
    models: Store, filter_string: str | None, expected: list[str]
) -> None:
    assert _names(models.search_registered_models(filter_string)) == expected


def test_prompt_rule_for_registered_models(models: Store) -> None:
    # The clause MLflow's client appends means "not a prompt": models without the tag match.
    assert _names(models.search_registered_models(NOT_PROMPT)) == ["Beta", "alpha", "gamma"]
    assert _names(models.search_registered_models(f"name LIKE '%a%' AND {NOT_PROMPT}")) == [
        "Beta",
        "alpha",
        "gamma",
    ]
    assert _names(models.search_registered_models(f"tags.`{PROMPT_TAG}` = 'false'")) == [
        "Beta",
        "alpha",
        "gamma",
    ]
    assert _names(models.search_registered_models(PROMPTS)) == ["qa-prompt"]
    assert _names(models.search_registered_models(f"{PROMPTS} AND tags.team = 'a'")) == [
        "qa-prompt"
    ]
    assert _names(models.search_registered_models(f"tags.`{PROMPT_TAG}` != 'false'")) == [
        "qa-prompt"
    ]
    assert _names(models.search_registered_models("tags.team = 'a'")) == ["alpha"]


def test_registered_model_orders(models: Store) -> None:
    models.update_registered_model("alpha", "touched")  # now the most recently updated

    by_time = models.search_registered_models(order_by=["last_updated_timestamp DESC"])
    assert _names(by_time) == ["alpha", "gamma", "Beta"]
    by_alias = models.search_registered_models(order_by=["timestamp ASC"])
    assert _names(by_alias) == ["Beta", "gamma", "alpha"]
    assert _names(models.search_registered_models(order_by=["name DESC"])) == [
        "gamma",
        "alpha",
        "Beta",
    ]
    for duplicate in (["name", "name DESC"], ["timestamp", "last_updated_timestamp"]):
        with pytest.raises(InvalidParameter, match="duplicate"):
            models.search_registered_models(order_by=duplicate)
    for bad in (["creation_timestamp"], ["tags.team"], ["name sideways"]):
        with raises(InvalidParameter, INVALID):
            models.search_registered_models(order_by=bad)


def test_registered_model_search_pages(store: Store) -> None:
    for index in range(7):
        store.create_registered_model(f"m{index}")

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = store.search_registered_models(max_results=3, page_token=token)
        seen += _names(page)
        pages += 1
        token = page.token
        if token is None:
            break
    assert (seen, pages) == ([f"m{i}" for i in range(7)], 3)


def test_registered_model_search_errors(models: Store) -> None:
    for bad in (
        "creation_timestamp > 0",
        "version_number = 1",
        "tags.team IN ('a')",
        "name = alpha",
        "name ==",
        "params.x = '1'",
    ):
        with raises(InvalidParameter, INVALID):
            models.search_registered_models(bad)
    with raises(InvalidParameter, INVALID):
        models.search_registered_models(max_results=1001)
    with raises(InvalidParameter, INVALID):
        models.search_registered_models(max_results=0)
    with raises(InvalidParameter, INVALID):
        models.search_registered_models(page_token="not-a-token")


def test_search_results_carry_tags_aliases_and_latest_versions(store: Store) -> None:
    store.create_registered_model("m", [RegisteredModelTag("k", "v")])
    store.create_model_version("m", S3, tags=[ModelVersionTag("vt", "x")])
    store.create_model_version("m", S3)
    store.transition_model_version_stage("m", "1", "Production")
    store.set_registered_model_alias("m", "champion", "1")

    (found,) = store.search_registered_models("name = 'm'")

    assert found == store.get_registered_model("m")
    assert (found.tags, found.aliases) == ({"k": "v"}, {"champion": "1"})
    production = next(v for v in found.latest_versions if v.current_stage == "Production")
    assert (production.version, production.tags) == ("1", {"vt": "x"})


# ---------------------------------------------------------------- model versions
@pytest.fixture
def versions(store: Store) -> Store:
    """a: versions 1-3 (run r1, r1, r2), b: versions 1-2; qa-prompt: one prompt version."""
    store.create_registered_model("a")
    store.create_registered_model("b")
    for name, source, run in (
        ("a", "s3://bucket/a/1", "r1"),
        ("a", "s3://bucket/a/2", "r1"),
        ("b", "gs://bucket/b/1", None),
        ("a", "s3://bucket/a/3", "r2"),
        ("b", "gs://bucket/b/2", None),
    ):
        _tick()
        tags = [ModelVersionTag("run", run)] if run else []
        store.create_model_version(name, source, tags=tags)
    store.create_registered_model("qa-prompt", [RegisteredModelTag(PROMPT_TAG, "true")])
    store.create_model_version(
        "qa-prompt", "dummy-source", tags=[ModelVersionTag(PROMPT_TAG, "true")]
    )
    return store


def test_model_version_default_order(versions: Store) -> None:
    # last_updated_timestamp DESC, name ASC, version_number DESC; prompts left out.
    assert _keys(versions.search_model_versions()) == [
        ("b", "2"),
        ("a", "3"),
        ("b", "1"),
        ("a", "2"),
        ("a", "1"),
    ]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'a'", [("a", "3"), ("a", "2"), ("a", "1")]),
        ("name IN ('b')", [("b", "2"), ("b", "1")]),
        ("name != 'a'", [("b", "2"), ("b", "1")]),
        ("version_number = 2", [("b", "2"), ("a", "2")]),
        ("version_number >= 2 AND name = 'a'", [("a", "3"), ("a", "2")]),
        ("version_number < 2", [("b", "1"), ("a", "1")]),
        ("source_path LIKE 'gs://%'", [("b", "2"), ("b", "1")]),
        ("source_path = 's3://bucket/a/2'", [("a", "2")]),
        ("tags.run = 'r1'", [("a", "2"), ("a", "1")]),
        ("tags.run != 'r1'", [("a", "3")]),  # versions without the tag do not match
        ("tags.run ILIKE 'R%' AND version_number > 1", [("a", "3"), ("a", "2")]),
        (
            "name = 'a' OR name = 'b' AND version_number = 1",
            [("a", "3"), ("b", "1"), ("a", "2"), ("a", "1")],
        ),
    ],
)
def test_model_version_filters(
    versions: Store, filter_string: str, expected: list[tuple[str, str]]
) -> None:
    assert _keys(versions.search_model_versions(filter_string)) == expected


def test_model_version_run_id_filters(store: Store) -> None:
    store.create_registered_model("m")
    for run in ("r1", "r2", "r1"):
        store.create_model_version("m", f"runs:/{run}/model", run_id=run)

    found = store.search_model_versions("run_id = 'r1'", order_by=["version_number"])
    assert _keys(found) == [("m", "1"), ("m", "3")]
    found = store.search_model_versions("run_id IN ('r2', 'r9')")
    assert _keys(found) == [("m", "2")]


def test_prompt_rule_for_model_versions(versions: Store) -> None:
    assert _keys(versions.search_model_versions(PROMPTS)) == [("qa-prompt", "1")]
    assert len(versions.search_model_versions(f"tags.`{PROMPT_TAG}` != 'true'")) == 5
    assert versions.search_model_versions("name = 'qa-prompt'") == []
    found = versions.search_model_versions(f"name = 'qa-prompt' AND {PROMPTS}")
    assert _keys(found) == [("qa-prompt", "1")]


def test_model_version_orders(versions: Store) -> None:
    versions.update_model_version("a", "1", "touched")

    found = versions.search_model_versions(order_by=["version_number ASC"])
    assert _keys(found) == [("a", "1"), ("b", "1"), ("a", "2"), ("b", "2"), ("a", "3")]
    found = versions.search_model_versions(order_by=["name DESC", "version_number ASC"])
    assert _keys(found)[:2] == [("b", "1"), ("b", "2")]
    found = versions.search_model_versions(order_by=["creation_timestamp ASC"])
    assert _keys(found) == [("a", "1"), ("a", "2"), ("b", "1"), ("a", "3"), ("b", "2")]
    found = versions.search_model_versions(order_by=["last_updated_timestamp DESC"])
    assert _keys(found)[0] == ("a", "1")
    with pytest.raises(InvalidParameter, match="duplicate"):
        versions.search_model_versions(order_by=["name", "name DESC"])
    for bad in (["run_id"], ["tags.run"], ["source_path DESC"]):
        with raises(InvalidParameter, INVALID):
            versions.search_model_versions(order_by=bad)


def test_model_version_search_pages(versions: Store) -> None:
    everything = _keys(versions.search_model_versions())
    seen: list[tuple[str, str]] = []
    token = None
    while True:
        page = versions.search_model_versions(max_results=2, page_token=token)
        seen += _keys(page)
        token = page.token
        if token is None:
            break
    assert seen == everything


def test_model_version_search_errors(versions: Store) -> None:
    for bad in (
        "version_number = 1.5",
        "version_number = '1'",
        "source_path IN ('x')",
        "tags.run IN ('r1')",
        "creation_timestamp > 0",
        "name LIKE",
    ):
        with raises(InvalidParameter, INVALID):
            versions.search_model_versions(bad)
    with raises(InvalidParameter, INVALID):
        versions.search_model_versions(max_results=200_001)


def test_version_search_results_carry_tags_and_aliases(store: Store) -> None:
    store.create_registered_model("m")
    store.create_model_version("m", S3, tags=[ModelVersionTag("k", "v")])
    store.create_model_version("m", S3)
    store.set_registered_model_alias("m", "champion", "1")
    store.set_registered_model_alias("m", "backup", "1")

    found = store.search_model_versions("name = 'm'", order_by=["version_number"])

    assert [(v.tags, v.aliases) for v in found] == [({"k": "v"}, ["backup", "champion"]), ({}, [])]
    assert found[0] == store.get_model_version("m", "1")
