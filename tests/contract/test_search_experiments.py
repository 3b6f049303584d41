"""search_experiments: filters of spec/search-syntax.md §3, ordering, view types, paging."""

from __future__ import annotations

import pytest

from wayline.entities import Experiment, ExperimentTag, ViewType
from wayline.errors import InvalidParameter
from wayline.store.tracking import TrackingStore

from ._support import raises


@pytest.fixture
def ids(store: TrackingStore) -> dict[str, str]:
    """exp-a (team=core), exp-b (team=ml), exp-c (no team), other, gone (deleted), by name."""
    names = {
        "exp-a": {"team": "core"},
        "exp-b": {"team": "ml"},
        "exp-c": {},
        "other": {"team": "Core"},
        "gone": {"team": "core"},
    }
    created = {
        name: store.create_experiment(name, tags=[ExperimentTag(k, v) for k, v in tags.items()])
        for name, tags in names.items()
    }
    store.delete_experiment(created["gone"])
    return created


def _names(experiments: list[Experiment]) -> list[str]:
    return [e.name for e in experiments]


def _found(store: TrackingStore, filter_string: str, **kwargs: object) -> set[str]:
    return set(_names(store.search_experiments(filter_string=filter_string, **kwargs)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name LIKE 'exp%'", {"exp-a", "exp-b", "exp-c"}),  # 31
        ("name = 'exp-b'", {"exp-b"}),
        ("attribute.name != 'exp-b'", {"Default", "exp-a", "exp-c", "other"}),
        ("name ILIKE 'EXP-%'", {"exp-a", "exp-b", "exp-c"}),
        ("name LIKE 'EXP-%'", set()),
        ("tags.team IS NULL", {"Default", "exp-c"}),  # 33
        ("tags.team IS NOT NULL", {"exp-a", "exp-b", "other"}),
        ("tags.team = 'core'", {"exp-a"}),
        ("tags.team ILIKE 'core'", {"exp-a", "other"}),
        ("tags.team != 'core'", {"exp-b", "other"}),
        ("tags.team LIKE '%l'", {"exp-b"}),
        ("name LIKE 'exp%' AND tags.team = 'ml'", {"exp-b"}),
        ("creation_time > 0", {"Default", "exp-a", "exp-b", "exp-c", "other"}),
        ("last_update_time < 1000", set()),
        ("", {"Default", "exp-a", "exp-b", "exp-c", "other"}),
    ],
)
def test_filter(
    store: TrackingStore, ids: dict[str, str], filter_string: str, expected: set[str]
) -> None:
    assert _found(store, filter_string) == expected


def test_filter_by_experiment_id(store: TrackingStore, ids: dict[str, str]) -> None:
    a, c = ids["exp-a"], ids["exp-c"]

    assert _found(store, f"experiment_id IN ('{a}','{c}')") == {"exp-a", "exp-c"}  # 32
    assert _found(store, f"experiment_id = '{a}'") == {"exp-a"}
    assert _found(store, f"experiment_id NOT IN ('{a}', '0')") == {"exp-b", "exp-c", "other"}


def test_filter_by_creation_time(store: TrackingStore, ids: dict[str, str]) -> None:
    created = store.get_experiment(ids["exp-c"]).creation_time

    later = store.search_experiments(filter_string=f"creation_time >= {created}")
    earlier = store.search_experiments(filter_string=f"creation_time < {created}")

    assert "exp-c" in _names(later)
    assert all((e.creation_time or 0) >= (created or 0) for e in later)
    assert all((e.creation_time or 0) < (created or 0) for e in earlier)
    assert len(later) + len(earlier) == 5


@pytest.mark.parametrize(
    "filter_string",
    [
        "name = exp-a",
        "creation_time > '1'",
        "experiment_id > '1'",
        "lifecycle_stage = 'active'",
        "params.a = 'x'",
        "metrics.m > 1",
        "name LIKE",
    ],
)
def test_rejected_filter(store: TrackingStore, filter_string: str) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_experiments(filter_string=filter_string)


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (ViewType.ACTIVE_ONLY, {"Default", "exp-a", "exp-b", "exp-c", "other"}),
        (ViewType.DELETED_ONLY, {"gone"}),
        (ViewType.ALL, {"Default", "exp-a", "exp-b", "exp-c", "other", "gone"}),
    ],
)
def test_view_types(
    store: TrackingStore, ids: dict[str, str], view_type: ViewType, expected: set[str]
) -> None:
    assert set(_names(store.search_experiments(view_type=view_type))) == expected


def test_default_view_is_active_only(store: TrackingStore, ids: dict[str, str]) -> None:
    assert "gone" not in _names(store.search_experiments())
    assert _found(store, "tags.team = 'core'", view_type=ViewType.ALL) == {"exp-a", "gone"}


def test_default_order(store: TrackingStore, ids: dict[str, str]) -> None:
    found = store.search_experiments(view_type=ViewType.ALL)

    keys = [(-(e.creation_time or 0), int(e.experiment_id)) for e in found]
    assert keys == sorted(keys)
    assert len(found) == 6


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["name"], ["Default", "exp-a", "exp-b", "exp-c", "other"]),
        (["name DESC"], ["other", "exp-c", "exp-b", "exp-a", "Default"]),
        (["attribute.name asc"], ["Default", "exp-a", "exp-b", "exp-c", "other"]),
    ],
)
def test_order_by_name(
    store: TrackingStore, ids: dict[str, str], order_by: list[str], expected: list[str]
) -> None:
    assert _names(store.search_experiments(order_by=order_by)) == expected


def test_order_by_experiment_id(store: TrackingStore, ids: dict[str, str]) -> None:
    ascending = [e.experiment_id for e in store.search_experiments(order_by=["experiment_id"])]
    descending = [
        e.experiment_id for e in store.search_experiments(order_by=["experiment_id DESC"])
    ]

    assert ascending == sorted(ascending, key=int)
    assert descending == ascending[::-1]
    assert ascending[0] == "0"


def test_order_by_time(store: TrackingStore, ids: dict[str, str]) -> None:
    store.set_experiment_tag(ids["exp-a"], ExperimentTag("touched", "1"))
    found = store.search_experiments(order_by=["last_update_time DESC"])

    times = [e.last_update_time or 0 for e in found]
    assert times == sorted(times, reverse=True)
    created = [e.creation_time or 0 for e in store.search_experiments(order_by=["creation_time"])]
    assert created == sorted(created)


@pytest.mark.parametrize(
    "order_by", ["tags.team", "name SIDEWAYS", "lifecycle_stage", "name DESC NULLS LAST"]
)
def test_rejected_order_by(store: TrackingStore, order_by: str) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_experiments(order_by=[order_by])


def test_paging(store: TrackingStore, ids: dict[str, str]) -> None:
    for i in range(4):
        store.create_experiment(f"more-{i}")
    full = [e.experiment_id for e in store.search_experiments(view_type=ViewType.ALL)]

    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = store.search_experiments(view_type=ViewType.ALL, max_results=3, page_token=token)
        pages.append([e.experiment_id for e in page])
        token = page.token
        if not token:
            break

    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert [i for page in pages for i in page] == full
    assert len(set(full)) == 10


def test_paging_with_order(store: TrackingStore, ids: dict[str, str]) -> None:
    first = store.search_experiments(max_results=3, order_by=["name"])
    second = store.search_experiments(max_results=3, order_by=["name"], page_token=first.token)

    assert _names(first) == ["Default", "exp-a", "exp-b"]
    assert _names(second) == ["exp-c", "other"]
    assert second.token is None
    assert store.search_experiments(max_results=5).token is None


@pytest.mark.parametrize("max_results", [0, -1, 50001])
def test_max_results_bounds(store: TrackingStore, max_results: int) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_experiments(max_results=max_results)


def test_results_carry_tags(store: TrackingStore, ids: dict[str, str]) -> None:
    [found] = store.search_experiments(filter_string="name = 'exp-a'")

    assert found == store.get_experiment(ids["exp-a"])
    assert found.tags == {"team": "core"}
