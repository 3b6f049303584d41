"""search_runs: the filter examples of spec/search-syntax.md §9, extensions, ordering, paging."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from wayline.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag, ViewType
from wayline.errors import InvalidParameter
from wayline.store.tracking import TrackingStore

from ._support import normalized, raises


@dataclass(frozen=True)
class World:
    """Four active runs r1..r4 and a deleted r5 in one experiment, plus ``other`` elsewhere."""

    experiment_id: str
    other_experiment_id: str
    ids: dict[str, str]  # run label -> run id

    def label(self, run_id: str) -> str:
        return {v: k for k, v in self.ids.items()}[run_id]


def _run(
    store: TrackingStore,
    experiment_id: str,
    *,
    name: str,
    user: str,
    start: int,
    metrics: dict[str, float] | None = None,
    params: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    status: str | None = None,
) -> str:
    run_id = store.create_run(
        experiment_id, user_id=user, start_time=start, run_name=name
    ).info.run_id
    store.log_batch(
        run_id,
        metrics=[Metric(k, v, start + 1, 0) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    if status is not None:
        store.update_run_info(run_id, run_status=status, end_time=start + 500)
    return run_id


def _dataset_input(name: str, context: str) -> DatasetInput:
    dataset = Dataset(name=name, digest=f"d-{name}", source_type="local", source='{"uri": "x"}')
    return DatasetInput(dataset=dataset, tags=[InputTag("mlflow.data.context", context)])


@pytest.fixture
def world(store: TrackingStore, make_experiment: Callable[..., str]) -> World:
    experiment_id = make_experiment("search")
    other = make_experiment("other")
    ids = {
        "r1": _run(
            store, experiment_id, name="R1-alpha", user="root", start=1000, status="FINISHED",
            metrics={"rmse": 0.3, "loss/val": 0.5, "x": -2000.0},
            params={"alpha": "0.5", "p1": "x", "a.b": "x", "a": "x"},
            tags={"mlflow.source.type": "LOCAL", "mlflow.user": "root", "b": "y", "x y": "1"},
        ),
        "r2": _run(
            store, experiment_id, name="r2-beta", user="alice", start=2000, status="FAILED",
            metrics={"rmse": 0.8, "loss": 0.0005},
            params={"alpha": "0.1", "p1": "X1", "a": "y"},
            tags={"mlflow.source.type": "NOTEBOOK", "b": "y", "x y": "3"},
        ),
        "r3": _run(
            store, experiment_id, name="gamma", user="bob", start=3000,
            metrics={"rmse": 1.5, "x": -1000.0, "loss": 0.5},
            params={"p1": "y", "a": "z"},
            tags={"t": "1", "x y": "2"},
        ),
        "r4": _run(
            store, experiment_id, name="delta", user="bob", start=4000, status="FINISHED",
            metrics={"rmse": math.nan},
        ),
        "r5": _run(store, experiment_id, name="deleted-one", user="root", start=5000,
                   metrics={"rmse": 0.1}, params={"alpha": "0.5"}),
        "other": _run(store, other, name="elsewhere", user="root", start=6000,
                      metrics={"rmse": 0.2}, params={"alpha": "0.5"}),
    }  # fmt: skip
    store.delete_run(ids["r5"])
    return World(experiment_id, other, ids)


def _search(
    store: TrackingStore, world: World, filter_string: str | None = None, **kwargs: object
) -> list[str]:
    runs = store.search_runs([world.experiment_id], filter_string, **kwargs)  # type: ignore[arg-type]
    return [world.label(run.info.run_id) for run in runs]


def _matches(store: TrackingStore, world: World, filter_string: str) -> set[str]:
    return set(_search(store, world, filter_string))


ACCEPTED = [
    ("metrics.rmse < 1", {"r1", "r2"}),  # 1; NaN r4 matches no ordering
    ("metric.rmse >= 0.5", {"r2", "r3"}),  # 2
    ("metrics.loss < 1e-3", {"r2"}),  # 3
    ("metrics.x > -1.5e3", {"r3"}),  # 3
    ("params.alpha = '0.5'", {"r1"}),  # 4 (deleted r5 excluded)
    ('params.alpha = "0.5"', {"r1"}),  # 5
    ("tags.`mlflow.source.type` = 'LOCAL'", {"r1"}),  # 8
    ("tags.\"mlflow.user\" = 'root'", {"r1"}),  # 9
    ("params.a.b = 'x'", {"r1"}),  # 10
    ("metrics.`loss/val` > 0", {"r1"}),  # 11
    ("attributes.status = 'FINISHED'", {"r1", "r4"}),  # 12
    ("status != 'FAILED'", {"r1", "r3", "r4"}),  # 13
    ("run_name ILIKE '%R1%'", {"r1"}),  # 14
    ("run_name LIKE 'r%'", {"r2"}),  # LIKE is case-sensitive on attributes too
    ("`Run name` = 'gamma'", {"r3"}),  # 15
    ("attributes.start_time > 2500", {"r3", "r4"}),  # 16
    ("created > 0", {"r1", "r2", "r3", "r4"}),  # 18
    ("Created <= 2000", {"r1", "r2"}),
    ("params.alpha IS NULL", {"r3", "r4"}),  # 21
    ("tags.t IS NOT NULL", {"r3"}),  # 21
    ("params.p1 LIKE 'X%'", {"r2"}),  # 23: case-sensitive
    ("params.p1 ILIKE 'X%'", {"r1", "r2"}),  # 23
    ("params.p1 != 'x'", {"r2", "r3"}),  # 24: r4 lacks p1
    ("tags.b != 'y'", set()),
    ("metrics.rmse < 1 and params.a = 'x' AND tags.b = 'y'", {"r1"}),  # 25
    ("user_id = 'bob'", {"r3", "r4"}),
    ("params.alpha = '0.5' and", {"r1"}),  # trailing AND tolerated
    ("params.alpha='0.5'", {"r1"}),
    ("metrics.rmse = 0.8", {"r2"}),
    ("metrics.rmse != 0.8", {"r1", "r3", "r4"}),  # NaN r4 is unequal to everything (IEEE)
    ("metrics.rmse != 0", {"r1", "r2", "r3", "r4"}),  # even to 0, which stands for it in MySQL
    ("metrics.missing < 100", set()),
    ("metrics.rmse = 0", set()),  # r4's NaN is not stored as a number that matches
    ("metrics.rmse >= 0", {"r1", "r2", "r3"}),
    ("metrics.rmse > -1e300", {"r1", "r2", "r3"}),
    ("params.p1 = 'X'", set()),  # = is case-sensitive
    ("params.p1 like 'x'", {"r1"}),
    ("attributes.end_time > 0", {"r1", "r2", "r4"}),
    ("tags.`x y` = '2'", {"r3"}),
    ("", {"r1", "r2", "r3", "r4"}),
    ("   ", {"r1", "r2", "r3", "r4"}),
    # Wayline's extensions of the grammar
    ("params.a = 'x' OR params.a = 'y'", {"r1", "r2"}),
    ("(params.a = 'x' OR params.a = 'z') AND metrics.rmse > 1", {"r3"}),
    ("params.a = 'x' OR (params.a = 'z' AND metrics.rmse > 1)", {"r1", "r3"}),
    ("(params.a = 'x')", {"r1"}),
    ("metrics.rmse < 1 OR params.a = 'z'", {"r1", "r2", "r3"}),
    ("params.a IN ('x','y')", {"r1", "r2"}),
    ("tags.`x y` NOT IN ('1', '2')", {"r2"}),  # r4 lacks the tag
    ("params.a NOT IN ('x')", {"r2", "r3"}),
]


@pytest.mark.parametrize(("filter_string", "expected"), ACCEPTED, ids=[f for f, _ in ACCEPTED])
def test_filter(store: TrackingStore, world: World, filter_string: str, expected: set[str]) -> None:
    assert _matches(store, world, filter_string) == expected


DATASET_FILTERS = [
    ("dataset.name = 'train' AND dataset.context = 'training'", {"r2"}),  # 28
    ("datasets.name = 'test'", {"r3"}),
    ("datasets.context = 'eval'", {"r3"}),
    ("dataset.digest LIKE 'd-t%'", {"r2", "r3"}),
    ("dataset.name IN ('test', 'x')", {"r3"}),
]


@pytest.mark.parametrize(
    ("filter_string", "expected"), DATASET_FILTERS, ids=[f for f, _ in DATASET_FILTERS]
)
def test_dataset_filter(
    store: TrackingStore, world: World, filter_string: str, expected: set[str]
) -> None:
    store.log_inputs(world.ids["r2"], [_dataset_input("train", "training")])
    store.log_inputs(
        world.ids["r3"], [_dataset_input("train", "eval"), _dataset_input("test", "eval")]
    )

    assert _matches(store, world, filter_string) == expected


def test_filter_run_id_in(store: TrackingStore, world: World) -> None:
    r1, r3 = world.ids["r1"], world.ids["r3"]

    assert _matches(store, world, f"attributes.run_id IN ('{r1}','{r3}')") == {"r1", "r3"}  # 19
    assert _matches(store, world, f"run_id = '{r1}'") == {"r1"}
    assert _matches(store, world, f"run_id NOT IN ('{r1}')") == {"r2", "r3", "r4"}


def test_filter_artifact_uri(store: TrackingStore, world: World) -> None:
    r2 = world.ids["r2"]

    assert _matches(store, world, f"attributes.artifact_uri LIKE '%{r2}%'") == {"r2"}


REJECTED = [
    "params.alpha = 0.5",  # 6
    "metrics.rmse < '1'",  # 7
    "metrics.loss/val > 0",  # 11
    "attributes.start_time >= '123'",  # 17
    "metrics.m IS NULL",  # 22
    "attributes.lifecycle_stage = 'active'",  # 29
    "params.a > '1'",  # 30
    "experiment_id = '0'",
    "foo.bar = 'x'",
    "params.a =",
    "params.a = 'x",
    "params.a ~ 'x'",
    "attributes.nope = 'x'",
    "(params.a = 'x'",
]


@pytest.mark.parametrize("filter_string", REJECTED)
def test_rejected_filter(store: TrackingStore, world: World, filter_string: str) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_runs([world.experiment_id], filter_string)


@pytest.mark.parametrize(
    "order_by", ["metrics.rmse DESC NULLS LAST", "params.alpha SIDEWAYS", "nope", "lifecycle_stage"]
)
def test_rejected_order_by(store: TrackingStore, world: World, order_by: str) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_runs([world.experiment_id], order_by=[order_by])


def test_default_order_is_start_time_desc(store: TrackingStore, world: World) -> None:
    assert _search(store, world) == ["r4", "r3", "r2", "r1"]


def test_default_order_breaks_ties_by_run_id(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    ids = [
        store.create_run(experiment_id, start_time=7, run_name=f"t{i}").info.run_id
        for i in range(6)
    ]
    later = store.create_run(experiment_id, start_time=8).info.run_id

    found = [run.info.run_id for run in store.search_runs([experiment_id])]

    assert found == [later, *sorted(ids)]


ORDERS = [
    (["metrics.loss ASC"], ["r2", "r3", "r4", "r1"]),  # lacking the key: last
    (["metrics.loss DESC"], ["r3", "r2", "r4", "r1"]),  # ... in both directions
    (["params.alpha"], ["r2", "r1", "r4", "r3"]),
    (["params.alpha desc"], ["r1", "r2", "r4", "r3"]),
    (["tags.`x y` DESC"], ["r2", "r3", "r1", "r4"]),
    (["tags.`x y`"], ["r1", "r3", "r2", "r4"]),
    (["start_time"], ["r1", "r2", "r3", "r4"]),
    (["created DESC"], ["r4", "r3", "r2", "r1"]),
    (["attribute.end_time DESC"], ["r4", "r2", "r1", "r3"]),
    (["status", "start_time DESC"], ["r2", "r4", "r1", "r3"]),
    (["user_id DESC", "run_name"], ["r1", "r4", "r3", "r2"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[" ".join(o) for o, _ in ORDERS])
def test_order_by(
    store: TrackingStore, world: World, order_by: list[str], expected: list[str]
) -> None:
    assert _search(store, world, order_by=order_by) == expected


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [("metrics.rmse", ["r1", "r2", "r3"]), ("metrics.rmse DESC", ["r3", "r2", "r1"])],
)
def test_order_by_metric(
    store: TrackingStore, world: World, order_by: str, expected: list[str]
) -> None:
    # r4's NaN is left out: where NaN sorts is not part of the contract.
    assert _search(store, world, "metrics.rmse < 100", order_by=[order_by]) == expected


def test_order_by_run_name(store: TrackingStore, world: World) -> None:
    # Only lower-case names: how case mixes in ordering depends on the database's collation.
    lower_case = "run_name != 'R1-alpha'"

    assert _search(store, world, lower_case, order_by=["attributes.run_name"]) == ["r4", "r3", "r2"]
    assert _search(store, world, lower_case, order_by=["run_name DESC"]) == ["r2", "r3", "r4"]


def test_order_by_metric_ties_fall_back_to_default_order(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    ids = []
    for i, value in enumerate([2.0, 1.0, 2.0, 1.0]):
        run_id = store.create_run(experiment_id, start_time=100 + i).info.run_id
        store.log_metric(run_id, Metric("m", value, 1, 0))
        ids.append(run_id)

    found = [r.info.run_id for r in store.search_runs([experiment_id], order_by=["metrics.m"])]

    assert found == [ids[3], ids[1], ids[2], ids[0]]


def test_order_uses_latest_metric(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    first = store.create_run(experiment_id, start_time=1).info.run_id
    second = store.create_run(experiment_id, start_time=2).info.run_id
    store.log_batch(first, metrics=[Metric("m", 0.0, 1, 5), Metric("m", 9.0, 1, 1)])
    store.log_batch(second, metrics=[Metric("m", 5.0, 1, 0)])

    found = [r.info.run_id for r in store.search_runs([experiment_id], order_by=["metrics.m DESC"])]

    assert found == [second, first]
    assert [r.info.run_id for r in store.search_runs([experiment_id], "metrics.m < 1")] == [first]


@pytest.mark.parametrize(
    ("view_type", "expected"),
    [
        (ViewType.ACTIVE_ONLY, {"r1", "r2", "r3", "r4"}),
        (ViewType.DELETED_ONLY, {"r5"}),
        (ViewType.ALL, {"r1", "r2", "r3", "r4", "r5"}),
    ],
)
def test_view_types(
    store: TrackingStore, world: World, view_type: ViewType, expected: set[str]
) -> None:
    assert set(_search(store, world, run_view_type=view_type)) == expected


def test_filter_combined_with_deleted_view(store: TrackingStore, world: World) -> None:
    found = _search(store, world, "params.alpha = '0.5'", run_view_type=ViewType.ALL)

    assert set(found) == {"r1", "r5"}


def test_restored_run_is_found_again(store: TrackingStore, world: World) -> None:
    store.restore_run(world.ids["r5"])

    assert "r5" in _search(store, world)


def test_runs_of_deleted_experiment_are_deleted(store: TrackingStore, world: World) -> None:
    store.delete_experiment(world.experiment_id)

    assert _search(store, world) == []
    assert set(_search(store, world, run_view_type=ViewType.DELETED_ONLY)) == {
        "r1",
        "r2",
        "r3",
        "r4",
        "r5",
    }


def test_multiple_experiments(store: TrackingStore, world: World) -> None:
    runs = store.search_runs(
        [world.experiment_id, world.other_experiment_id], "params.alpha = '0.5'"
    )

    assert {world.label(r.info.run_id) for r in runs} == {"r1", "other"}


def test_other_experiment_only(store: TrackingStore, world: World) -> None:
    runs = store.search_runs([world.other_experiment_id])

    assert [world.label(r.info.run_id) for r in runs] == ["other"]


def test_unknown_experiment_matches_nothing(store: TrackingStore, world: World) -> None:
    assert list(store.search_runs(["999999"])) == []


def test_results_carry_latest_values(store: TrackingStore, world: World) -> None:
    [run] = store.search_runs([world.experiment_id], "run_name = 'R1-alpha'")

    assert normalized(run) == normalized(store.get_run(world.ids["r1"]))
    assert run.data.metrics == {"rmse": 0.3, "loss/val": 0.5, "x": -2000.0}
    assert run.data.params == {"alpha": "0.5", "p1": "x", "a.b": "x", "a": "x"}
    assert run.info.status == "FINISHED"


def _all_pages(
    store: TrackingStore, experiment_id: str, page_size: int, **kwargs: object
) -> list[list[str]]:
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = store.search_runs([experiment_id], max_results=page_size, page_token=token, **kwargs)  # type: ignore[arg-type]
        pages.append([r.info.run_id for r in page])
        token = page.token
        if not token:
            return pages


def test_paging_through_everything(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    created = []
    for i in range(23):  # a few share a start time, so the tie-break is exercised too
        run_id = store.create_run(experiment_id, start_time=1000 + i // 3).info.run_id
        store.log_metric(run_id, Metric("m", float(i % 5), 1, 0))
        created.append(run_id)
    full = [r.info.run_id for r in store.search_runs([experiment_id])]

    pages = _all_pages(store, experiment_id, 5)
    ordered_pages = _all_pages(store, experiment_id, 4, order_by=["metrics.m DESC"])

    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [run_id for page in pages for run_id in page] == full
    assert sorted(full) == sorted(created)
    flat = [run_id for page in ordered_pages for run_id in page]
    assert sorted(flat) == sorted(created)
    assert flat == [
        r.info.run_id for r in store.search_runs([experiment_id], order_by=["metrics.m DESC"])
    ]


def test_last_full_page_has_no_token(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    for i in range(4):
        store.create_run(experiment_id, start_time=i)

    first = store.search_runs([experiment_id], max_results=2)
    second = store.search_runs([experiment_id], max_results=2, page_token=first.token)

    assert first.token
    assert len(second) == 2
    assert second.token is None
    assert store.search_runs([experiment_id], max_results=4).token is None


@pytest.mark.parametrize("max_results", [0, -1, 50001])
def test_max_results_bounds(store: TrackingStore, world: World, max_results: int) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_runs([world.experiment_id], max_results=max_results)


def test_max_results_at_limit(store: TrackingStore, world: World) -> None:
    assert len(store.search_runs([world.experiment_id], max_results=50000)) == 4


def test_bad_page_token(store: TrackingStore, world: World) -> None:
    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.search_runs([world.experiment_id], page_token="garbage!")
