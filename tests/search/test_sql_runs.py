"""run_search_query against SQLite rows written directly, and compiled for every dialect."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect

from wayline.entities import ViewType
from wayline.errors import InvalidParameter
from wayline.search import matches, parse_run_filter, run_search_query

from ._support import SearchDb

ALL_ACTIVE = {"r1", "r2", "r3", "r4"}


def build_world(db: SearchDb) -> list[int]:
    """Four active runs r1..r4 and a deleted r5 in one experiment, ``other`` in a second."""
    search = db.experiment("search")
    other = db.experiment("other")
    db.run(
        "r1", search, name="R1-alpha", user_id="root", start_time=1000, end_time=1500,
        status="FINISHED",
        metrics={"rmse": 0.3, "loss/val": 0.5, "x": -2000.0, "nan_or_missing": math.nan},
        params={"alpha": "0.5", "p1": "x", "a.b": "x", "a": "x", "pat": "a_b%"},
        tags={"mlflow.source.type": "LOCAL", "b": "y", "x y": "1"},
    )  # fmt: skip
    db.run(
        "r2", search, name="r2-beta", user_id="alice", start_time=2000, end_time=2500,
        status="FAILED",
        metrics={"rmse": 0.8, "loss": 0.0005, "nan_or_missing": -1.0},
        params={"alpha": "0.1", "p1": "X1", "a": "y", "pat": "axbc"},
        tags={"b": "y", "x y": "3"},
        inputs=[("train", "d-train", "training")],
    )  # fmt: skip
    db.run(
        "r3", search, name="gamma", user_id="bob", start_time=3000,
        metrics={"rmse": 1.5, "x": -1000.0, "loss": 0.5},
        params={"p1": "y", "a": "z"},
        tags={"t": "1", "x y": "2"},
        inputs=[("train", "d-train", "eval"), ("test", "d-test", "eval")],
    )  # fmt: skip
    db.run(
        "r4", search, name="delta", user_id="bob", start_time=4000, end_time=4500,
        status="FINISHED", metrics={"rmse": math.nan},
    )  # fmt: skip
    db.run(
        "r5", search, name="deleted-one", user_id="root", start_time=5000, stage="deleted",
        metrics={"rmse": 0.1}, params={"alpha": "0.5"},
    )  # fmt: skip
    db.run("other", other, start_time=6000, metrics={"rmse": 0.2}, params={"alpha": "0.5"})
    return [search, other]


@pytest.fixture
def world(db: SearchDb) -> list[int]:
    return build_world(db)


def search(
    db: SearchDb,
    experiment_ids: list[int],
    filter_string: str | None = None,
    order_by: list[str] | None = None,
    view_type: ViewType = ViewType.ACTIVE_ONLY,
) -> list[str]:
    return db.ids(run_search_query(experiment_ids, filter_string, view_type, order_by))


FILTERS: list[tuple[str, set[str]]] = [
    ("metrics.rmse < 1", {"r1", "r2"}),  # NaN r4 matches no ordering
    ("metric.rmse >= 0.5", {"r2", "r3"}),
    ("metrics.loss < 1e-3", {"r2"}),
    ("metrics.x > -1.5e3", {"r3"}),
    ("metrics.rmse = 0.8", {"r2"}),
    ("metrics.rmse != 0.8", {"r1", "r3", "r4"}),  # NaN r4 is unequal to everything (IEEE)
    ("metrics.rmse != 0", {"r1", "r2", "r3", "r4"}),  # NaN is stored as 0 but is not 0
    ("metrics.rmse = 0", set()),
    ("metrics.rmse <= 0", set()),
    ("metrics.rmse >= 0", {"r1", "r2", "r3"}),
    ("metrics.rmse < 1e999", {"r1", "r2", "r3"}),
    ("metrics.missing < 100", set()),
    ("metrics.`loss/val` > 0", {"r1"}),
    ("params.alpha = '0.5'", {"r1"}),
    ('params.alpha = "0.5"', {"r1"}),
    ("tags.`mlflow.source.type` = 'LOCAL'", {"r1"}),
    ("params.a.b = 'x'", {"r1"}),
    ("attributes.status = 'FINISHED'", {"r1", "r4"}),
    ("status != 'FAILED'", {"r1", "r3", "r4"}),
    ("run_name ILIKE '%R1%'", {"r1"}),
    ("run_name LIKE '%a'", ALL_ACTIVE),
    ("run_name LIKE '%A'", set()),
    ("run_name LIKE 'r%'", {"r2"}),  # LIKE is case-sensitive
    ("run_name ILIKE 'r%'", {"r1", "r2"}),
    ("`Run name` = 'gamma'", {"r3"}),
    ("attributes.start_time > 2500", {"r3", "r4"}),
    ("created > 0", ALL_ACTIVE),
    ("Created <= 2000", {"r1", "r2"}),
    ("attributes.end_time > 0", {"r1", "r2", "r4"}),
    ("end_time != 1500", {"r2", "r4"}),  # r3 has no end time
    ("start_time < 99999999999999999999999", ALL_ACTIVE),
    ("user_id = 'bob'", {"r3", "r4"}),
    ("run_id IN ('r1', 'r3')", {"r1", "r3"}),
    ("run_id NOT IN ('r1')", {"r2", "r3", "r4"}),
    ("artifact_uri LIKE '%/r2'", {"r2"}),
    ("params.alpha IS NULL", {"r3", "r4"}),
    ("tags.t IS NOT NULL", {"r3"}),
    ("params.p1 LIKE 'X%'", {"r2"}),
    ("params.p1 ILIKE 'X%'", {"r1", "r2"}),
    ("params.p1 != 'x'", {"r2", "r3"}),  # r4 lacks p1
    ("params.p1 = 'X'", set()),
    ("params.p1 like 'x'", {"r1"}),
    ("tags.b != 'y'", set()),
    ("params.pat LIKE 'a\\_b\\%'", {"r1"}),  # backslash escapes the wildcards
    ("params.pat LIKE 'a_b%'", {"r1", "r2"}),
    ("params.pat ILIKE 'A\\_B%'", {"r1"}),
    ("metrics.rmse < 1 and params.a = 'x' AND tags.b = 'y'", {"r1"}),
    ("dataset.name = 'train' AND dataset.context = 'training'", {"r2"}),
    ("datasets.name = 'test'", {"r3"}),
    ("datasets.context = 'eval'", {"r3"}),  # two matching inputs, one row
    ("dataset.digest LIKE 'd-t%'", {"r2", "r3"}),
    ("dataset.name != 'train'", {"r3"}),  # some input is not 'train'; r1 and r4 have none
    ("dataset.context IN ('eval', 'x')", {"r3"}),
    ("dataset.name NOT IN ('train')", {"r3"}),
    ("tags.`x y` = '2'", {"r3"}),
    ("", ALL_ACTIVE),
    # Wayline's extensions
    ("params.a = 'x' OR params.a = 'y'", {"r1", "r2"}),
    ("(params.a = 'x' OR params.a = 'z') AND metrics.rmse > 1", {"r3"}),
    ("params.a = 'x' OR params.a = 'z' AND metrics.rmse > 1", {"r1", "r3"}),
    ("metrics.rmse < 1 OR params.a = 'z'", {"r1", "r2", "r3"}),
    ("params.a IN ('x','y')", {"r1", "r2"}),
    ("params.a NOT IN ('x')", {"r2", "r3"}),
    ("tags.`x y` NOT IN ('1', '2')", {"r2"}),  # r4 lacks the tag
    ("status IN ('FINISHED', 'FAILED')", {"r1", "r2", "r4"}),
    ("params.alpha IS NULL OR dataset.name = 'test'", {"r3", "r4"}),
]


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS, ids=[f for f, _ in FILTERS])
def test_filter(db: SearchDb, world: list[int], filter_string: str, expected: set[str]) -> None:
    found = search(db, world[:1], filter_string)

    assert set(found) == expected
    assert len(found) == len(set(found))


@pytest.mark.parametrize(("filter_string", "expected"), FILTERS, ids=[f for f, _ in FILTERS])
def test_evaluator_agrees_with_sql(
    db: SearchDb, world: list[int], filter_string: str, expected: set[str]
) -> None:
    expr = parse_run_filter(filter_string)
    active = {run_id: record for run_id, record in db.records.items() if run_id in ALL_ACTIVE}

    assert {run_id for run_id, record in active.items() if matches(expr, record)} == expected


_CLAUSES = [f for f, _ in FILTERS if f]


def _combined(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda left, op, right: f"({left}{op}{right})",
        inner,
        st.sampled_from([" AND ", " or "]),
        inner,
    )


_filters = st.recursive(st.sampled_from(_CLAUSES), _combined, max_leaves=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(filter_string=_filters)
def test_random_combinations_agree_with_evaluator(
    db: SearchDb, world: list[int], filter_string: str
) -> None:
    expr = parse_run_filter(filter_string)
    active = {run_id: record for run_id, record in db.records.items() if run_id in ALL_ACTIVE}
    expected = {run_id for run_id, record in active.items() if matches(expr, record)}

    assert set(search(db, world[:1], filter_string)) == expected


ORDERS: list[tuple[list[str], list[str]]] = [
    ([], ["r4", "r3", "r2", "r1"]),  # start_time DESC
    (["metrics.rmse"], ["r1", "r2", "r3", "r4"]),  # NaN after numbers...
    (["metrics.rmse DESC"], ["r3", "r2", "r1", "r4"]),  # ... in both directions, as MLflow
    (["metrics.loss ASC"], ["r2", "r3", "r4", "r1"]),  # lacking the key: last...
    (["metrics.loss DESC"], ["r3", "r2", "r4", "r1"]),  # ... in both directions
    (["params.alpha"], ["r2", "r1", "r4", "r3"]),
    (["params.alpha desc"], ["r1", "r2", "r4", "r3"]),
    (["tags.`x y` DESC"], ["r2", "r3", "r1", "r4"]),
    (["tags.`x y`"], ["r1", "r3", "r2", "r4"]),
    (["start_time"], ["r1", "r2", "r3", "r4"]),
    (["created DESC"], ["r4", "r3", "r2", "r1"]),
    (["attribute.end_time DESC"], ["r4", "r2", "r1", "r3"]),  # NULL end time last
    (["end_time"], ["r1", "r2", "r4", "r3"]),
    (["status", "start_time DESC"], ["r2", "r4", "r1", "r3"]),
    (["user_id DESC", "run_name"], ["r1", "r4", "r3", "r2"]),
    (["run_id DESC"], ["r4", "r3", "r2", "r1"]),
    (["metrics.loss", "metrics.loss DESC"], ["r2", "r3", "r4", "r1"]),
    (["params.a", "metrics.rmse DESC", "tags.b"], ["r1", "r2", "r3", "r4"]),
    (["metrics.nan_or_missing DESC"], ["r2", "r1", "r4", "r3"]),  # number, NaN, missing
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[" ".join(o) for o, _ in ORDERS])
def test_order_by(db: SearchDb, world: list[int], order_by: list[str], expected: list[str]) -> None:
    assert search(db, world[:1], order_by=order_by) == expected


def test_order_by_binary_string_order(db: SearchDb, world: list[int]) -> None:
    assert search(db, world[:1], order_by=["attributes.run_name"]) == ["r1", "r4", "r3", "r2"]


def test_order_with_filter_on_multi_input_run_has_no_duplicates(
    db: SearchDb, world: list[int]
) -> None:
    found = search(
        db, world[:1], "dataset.context = 'eval' OR dataset.name = 'train'", ["metrics.x"]
    )

    assert found == ["r3", "r2"]


def test_ties_fall_back_to_start_time_then_run_id(db: SearchDb) -> None:
    experiment = db.experiment("ties")
    for run_id, start in [("b", 7), ("a", 7), ("d", 6), ("c", 8), ("e", 7)]:
        db.run(run_id, experiment, start_time=start, metrics={"m": 1.0})

    assert search(db, [experiment]) == ["c", "a", "b", "e", "d"]
    assert search(db, [experiment], order_by=["metrics.m DESC"]) == ["c", "a", "b", "e", "d"]
    assert search(db, [experiment], order_by=["start_time"]) == ["d", "a", "b", "e", "c"]


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (ViewType.ACTIVE_ONLY, ALL_ACTIVE),
        (ViewType.DELETED_ONLY, {"r5"}),
        (ViewType.ALL, ALL_ACTIVE | {"r5"}),
    ],
)
def test_view_types(
    db: SearchDb, world: list[int], view_type: ViewType, expected: set[str]
) -> None:
    assert set(search(db, world[:1], view_type=view_type)) == expected
    assert set(search(db, world[:1], "params.alpha = '0.5'", view_type=view_type)) == (
        expected & {"r1", "r5"}
    )


def test_experiment_ids(db: SearchDb, world: list[int]) -> None:
    assert set(search(db, world, "params.alpha = '0.5'")) == {"r1", "other"}
    assert search(db, world[1:]) == ["other"]
    assert search(db, []) == []
    assert search(db, [999]) == []


def test_invalid_filter_and_order_raise(db: SearchDb, world: list[int]) -> None:
    with pytest.raises(InvalidParameter):
        search(db, world, "params.a = 1")
    with pytest.raises(InvalidParameter):
        search(db, world, order_by=["metrics.m DESC NULLS LAST"])


BIG_FILTER = (
    "metrics.rmse < 1 AND (params.a = 'x' OR tags.t IS NULL) AND status IN ('FINISHED') "
    "AND dataset.context NOT IN ('eval') AND dataset.name ILIKE 'tr%' AND run_name LIKE 'a\\_%' "
    "AND start_time >= 1e400 AND metrics.m != -1e999 AND params.q IS NOT NULL"
)
BIG_ORDER = ["metrics.rmse DESC", "params.alpha", "tags.t DESC", "end_time", "run_id"]


DIALECTS: list[Dialect] = [
    postgresql.dialect(),  # type: ignore[no-untyped-call]
    mysql.dialect(),
    sqlite.dialect(),
]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda d: str(d.name))
def test_values_are_bound_on_every_dialect(dialect: Dialect) -> None:
    query = run_search_query(
        [1], BIG_FILTER + " AND params.secret = 'tops3cret'", ViewType.ALL, BIG_ORDER
    )

    compiled = query.compile(dialect=dialect)

    assert "tops3cret" not in str(compiled)
    assert "tops3cret" in compiled.params.values()
    assert "NULLS" not in str(compiled)


def test_sql_injection_is_inert(db: SearchDb, world: list[int]) -> None:
    assert search(db, world, "params.a = 'x'' OR 1=1 --'") == []
    assert search(db, world, "tags.`b' OR '1'='1` = 'y'") == []


def test_every_backend_agrees(backend_db: SearchDb) -> None:
    """The same filters and orders on real servers (one database per backend, to stay quick)."""
    world = build_world(backend_db)
    wrong = []
    for filter_string, expected in FILTERS:
        found = search(backend_db, world[:1], filter_string)
        if set(found) != expected or len(found) != len(set(found)):
            wrong.append((filter_string, found))
    for order_by, expected_order in ORDERS:
        found = search(backend_db, world[:1], order_by=order_by)
        if found != expected_order:
            wrong.append((" ".join(order_by), found))
    assert search(backend_db, world[:1], BIG_FILTER, BIG_ORDER) == []

    assert wrong == []
