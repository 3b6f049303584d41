"""experiment_search_query against SQLite rows written directly, and on the real servers."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect

from wayline.entities import ViewType
from wayline.errors import InvalidParameter
from wayline.search import experiment_search_query

from ._support import SearchDb


def build_world(db: SearchDb) -> dict[str, int]:
    return {
        "alpha": db.experiment(
            "alpha", creation_time=100, last_update_time=500, tags={"team": "ml"}
        ),
        "Beta": db.experiment(
            "Beta", creation_time=300, last_update_time=200, tags={"team": "data", "team name": "x"}
        ),
        "alpha-2": db.experiment("alpha-2", creation_time=200, last_update_time=300),
        "gone": db.experiment("gone", stage="deleted", creation_time=400, last_update_time=400),
    }


@pytest.fixture
def world(db: SearchDb) -> dict[str, int]:
    return build_world(db)


def search(
    db: SearchDb,
    world: dict[str, int],
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
) -> list[str]:
    names = {v: k for k, v in world.items()}
    return [names[i] for i in db.ids(experiment_search_query(filter_string, view_type, order_by))]


ACTIVE = {"alpha", "Beta", "alpha-2"}
FILTERS: list[tuple[str, set[str]]] = [
    ("", ACTIVE),
    ("name LIKE 'alpha%'", {"alpha", "alpha-2"}),  # 31
    ("name = 'alpha'", {"alpha"}),
    ("name LIKE 'beta'", set()),  # case-sensitive
    ("name ILIKE 'beta'", {"Beta"}),
    ("name != 'alpha'", {"Beta", "alpha-2"}),
    ("name IN ('alpha', 'Beta', 'nope')", {"alpha", "Beta"}),
    ("experiment_id IN ('1','3')", {"alpha", "alpha-2"}),  # 32
    ("experiment_id IN ('1', 'x', '01', '-2', '99999999999')", {"alpha"}),  # bad ids: no match
    ("experiment_id IN ('x')", set()),
    ("experiment_id = '2'", {"Beta"}),
    ("experiment_id = 'x'", set()),
    ("experiment_id != 'x'", ACTIVE),
    ("experiment_id != '2'", {"alpha", "alpha-2"}),
    ("experiment_id NOT IN ('x')", ACTIVE),
    ("experiment_id NOT IN ('1', 'x')", {"Beta", "alpha-2"}),
    ("tags.team IS NULL", {"alpha-2"}),  # 33
    ("tags.team IS NOT NULL", {"alpha", "Beta"}),
    ("tags.team != 'ml'", {"Beta"}),  # alpha-2 lacks the tag
    ("tags.`team name` = 'x'", {"Beta"}),
    ("tags.team ILIKE 'ML'", {"alpha"}),
    ("creation_time > 150", {"Beta", "alpha-2"}),
    ("last_update_time <= 300", {"Beta", "alpha-2"}),
    ("name = 'alpha' OR tags.team = 'data'", {"alpha", "Beta"}),
    ("(name LIKE 'a%' OR name = 'Beta') AND creation_time >= 200", {"Beta", "alpha-2"}),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS, ids=[f for f, _ in FILTERS])
def test_filter(
    db: SearchDb, world: dict[str, int], filter_string: str, expected: set[str]
) -> None:
    assert set(search(db, world, filter_string)) == expected


ORDERS: list[tuple[list[str], list[str]]] = [
    ([], ["Beta", "alpha-2", "alpha"]),  # creation_time DESC
    (["creation_time"], ["alpha", "alpha-2", "Beta"]),
    (["last_update_time DESC"], ["alpha", "alpha-2", "Beta"]),
    (["experiment_id DESC"], ["alpha-2", "Beta", "alpha"]),
    (["attribute.name"], ["Beta", "alpha", "alpha-2"]),  # binary order
    (["name DESC"], ["alpha-2", "alpha", "Beta"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[" ".join(o) for o, _ in ORDERS])
def test_order_by(
    db: SearchDb, world: dict[str, int], order_by: list[str], expected: list[str]
) -> None:
    assert search(db, world, order_by=order_by) == expected


def test_experiment_id_breaks_ties(db: SearchDb) -> None:
    world = {name: db.experiment(name, creation_time=5) for name in ["c", "a", "b"]}

    assert search(db, world) == ["c", "a", "b"]
    assert search(db, world, order_by=["last_update_time"]) == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (ViewType.ACTIVE_ONLY, ["Beta", "alpha-2", "alpha"]),
        (ViewType.DELETED_ONLY, ["gone"]),
        (ViewType.ALL, ["gone", "Beta", "alpha-2", "alpha"]),
    ],
)
def test_view_types(
    db: SearchDb, world: dict[str, int], view_type: ViewType, expected: list[str]
) -> None:
    assert search(db, world, view_type=view_type) == expected


def test_invalid_filter_raises(db: SearchDb, world: dict[str, int]) -> None:
    with pytest.raises(InvalidParameter):
        search(db, world, "experiment_id = 1")
    with pytest.raises(InvalidParameter):
        search(db, world, order_by=["tags.team"])


DIALECTS: list[Dialect] = [postgresql.dialect(), mysql.dialect()]  # type: ignore[no-untyped-call]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: str(d.name))
def test_compiles_with_bound_values(dialect: Dialect) -> None:
    query = experiment_search_query(
        "name ILIKE 'n4me%' AND experiment_id IN ('7') AND tags.t != 'v4lue' AND creation_time > 3",
        ViewType.ALL,
        ["name DESC", "last_update_time"],
    )

    text = str(query.compile(dialect=dialect))

    assert "n4me" not in text
    assert "v4lue" not in text


def test_every_backend_agrees(backend_db: SearchDb) -> None:
    world = build_world(backend_db)
    wrong: list[tuple[str, list[str]]] = []
    for filter_string, expected in FILTERS:
        found = search(backend_db, world, filter_string)
        if set(found) != expected:
            wrong.append((filter_string, found))
    for order_by, expected_order in ORDERS:
        found = search(backend_db, world, order_by=order_by)
        if found != expected_order:
            wrong.append((" ".join(order_by), found))

    assert wrong == []
