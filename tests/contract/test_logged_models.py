"""Logged models (MLflow 3): lifecycle, tags, params, metrics, search, and links to runs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from wayline.entities import (
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    LoggedModelTag,
    Metric,
    ModelInput,
    ModelOutput,
    Param,
    Run,
)
from wayline.errors import InvalidParameter, NotFound
from wayline.store.tracking import TrackingStore

from ._support import raises

PENDING = LoggedModelStatus.PENDING
READY = LoggedModelStatus.READY
FAILED = LoggedModelStatus.FAILED
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
INVALID = "INVALID_PARAMETER_VALUE"
UNKNOWN_ID = "m-" + "0" * 32


@pytest.fixture
def experiment_id(make_experiment: Callable[..., str]) -> str:
    return make_experiment()


def _ids(models: list[LoggedModel]) -> list[str]:
    return [m.model_id for m in models]


# ---------------------------------------------------------------- create, get, finalize, delete
def test_create_and_get(
    store: TrackingStore, experiment_id: str, make_run: Callable[..., Run]
) -> None:
    run_id = make_run(experiment_id).info.run_id
    model = store.create_logged_model(
        experiment_id,
        name="classifier",
        source_run_id=run_id,
        tags=[LoggedModelTag("team", "vision"), LoggedModelTag("stage", "dev")],
        params=[Param("depth", "3")],
        model_type="sklearn",
    )

    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    location = store.get_experiment(experiment_id).artifact_location
    assert model.artifact_uri == f"{location}/models/{model.model_id}/artifacts"
    assert (model.experiment_id, model.name, model.status) == (experiment_id, "classifier", PENDING)
    assert (model.source_run_id, model.model_type) == (run_id, "sklearn")
    assert model.tags == {"stage": "dev", "team": "vision"}
    assert model.params == {"depth": "3"}
    assert model.creation_timestamp_ms == model.last_updated_timestamp_ms > 0
    assert store.get_logged_model(model.model_id) == model


def test_name_is_generated_and_optional_fields_stay_unset(
    store: TrackingStore, experiment_id: str
) -> None:
    model = store.create_logged_model(experiment_id)

    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", model.name)
    stored = store.get_logged_model(model.model_id)
    # Unset text fields read as "", as MLflow's client shows them, on every backend.
    assert (stored.model_type, stored.source_run_id, stored.status_message) == ("", "", "")
    assert (stored.tags, stored.params, stored.metrics) == ({}, {}, [])


@pytest.mark.parametrize("status", [READY, FAILED])
def test_finalize(store: TrackingStore, experiment_id: str, status: LoggedModelStatus) -> None:
    model = store.create_logged_model(experiment_id, name="m")

    final = store.finalize_logged_model(model.model_id, status)

    assert final.status == status
    assert final.last_updated_timestamp_ms >= model.creation_timestamp_ms
    assert store.get_logged_model(model.model_id) == final


@pytest.mark.parametrize("status", [PENDING, LoggedModelStatus.UNSPECIFIED])
def test_finalize_needs_a_final_status(
    store: TrackingStore, experiment_id: str, status: LoggedModelStatus
) -> None:
    model = store.create_logged_model(experiment_id, name="m")
    with raises(InvalidParameter, INVALID):
        store.finalize_logged_model(model.model_id, status)


def test_delete_hides_the_model(store: TrackingStore, experiment_id: str) -> None:
    kept = store.create_logged_model(experiment_id, name="kept")
    gone = store.create_logged_model(experiment_id, name="gone")

    store.delete_logged_model(gone.model_id)

    with raises(NotFound, NOT_FOUND):
        store.get_logged_model(gone.model_id)
    assert _ids(store.search_logged_models([experiment_id])) == [kept.model_id]
    with raises(NotFound, NOT_FOUND):
        store.delete_logged_model(gone.model_id)
    with raises(NotFound, NOT_FOUND):
        store.set_logged_model_tags(gone.model_id, [LoggedModelTag("a", "b")])


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get_logged_model(UNKNOWN_ID),
        lambda s: s.finalize_logged_model(UNKNOWN_ID, READY),
        lambda s: s.delete_logged_model(UNKNOWN_ID),
        lambda s: s.set_logged_model_tags(UNKNOWN_ID, [LoggedModelTag("a", "b")]),
        lambda s: s.delete_logged_model_tag(UNKNOWN_ID, "a"),
        lambda s: s.log_logged_model_params(UNKNOWN_ID, [Param("a", "b")]),
    ],
    ids=["get", "finalize", "delete", "set-tags", "delete-tag", "log-params"],
)
def test_unknown_model_is_not_found(
    store: TrackingStore, call: Callable[[TrackingStore], object]
) -> None:
    with raises(NotFound, NOT_FOUND):
        call(store)


def test_create_errors(store: TrackingStore, make_experiment: Callable[..., str]) -> None:
    with raises(NotFound, NOT_FOUND):
        store.create_logged_model("999999", name="m")
    deleted = make_experiment()
    store.delete_experiment(deleted)
    with raises(InvalidParameter, INVALID):
        store.create_logged_model(deleted, name="m")
    active = make_experiment()
    with raises(InvalidParameter, INVALID):
        store.create_logged_model(active, name="a/b")
    with raises(NotFound, NOT_FOUND):
        store.create_logged_model(active, name="m", source_run_id="0" * 32)
    with raises(InvalidParameter, INVALID):
        store.create_logged_model(active, name="m", params=[Param("p", "1"), Param("p", "2")])


# ---------------------------------------------------------------- tags and params
def test_tags_set_replace_and_delete(store: TrackingStore, experiment_id: str) -> None:
    model_id = store.create_logged_model(experiment_id, name="m").model_id

    store.set_logged_model_tags(model_id, [LoggedModelTag("a", "1"), LoggedModelTag("b", "2")])
    store.set_logged_model_tags(model_id, [LoggedModelTag("a", "3")])
    assert store.get_logged_model(model_id).tags == {"a": "3", "b": "2"}

    store.delete_logged_model_tag(model_id, "b")
    assert store.get_logged_model(model_id).tags == {"a": "3"}
    with raises(NotFound, NOT_FOUND):
        store.delete_logged_model_tag(model_id, "b")


def test_tag_key_with_slash_and_space(store: TrackingStore, experiment_id: str) -> None:
    # Over REST the key travels in the URL path, percent-encoded.
    model_id = store.create_logged_model(experiment_id, name="m").model_id
    store.set_logged_model_tags(model_id, [LoggedModelTag("mlflow.a/b c", "v")])
    store.delete_logged_model_tag(model_id, "mlflow.a/b c")
    assert store.get_logged_model(model_id).tags == {}


def test_params_are_immutable(store: TrackingStore, experiment_id: str) -> None:
    model_id = store.create_logged_model(experiment_id, name="m", params=[Param("a", "1")]).model_id

    store.log_logged_model_params(model_id, [Param("a", "1"), Param("b", "2")])
    assert store.get_logged_model(model_id).params == {"a": "1", "b": "2"}
    with raises(InvalidParameter, INVALID):
        store.log_logged_model_params(model_id, [Param("a", "changed")])
    assert store.get_logged_model(model_id).params == {"a": "1", "b": "2"}


# ---------------------------------------------------------------- metrics and run links
def test_metrics_with_model_id_show_on_the_model_and_the_run(
    store: TrackingStore, experiment_id: str, make_run: Callable[..., Run]
) -> None:
    run_id = make_run(experiment_id).info.run_id
    model_id = store.create_logged_model(experiment_id, name="m", source_run_id=run_id).model_id

    store.log_metric(run_id, Metric("acc", 0.9, 100, 1, "eval", "d1", model_id))
    store.log_metric(run_id, Metric("acc", 0.9, 100, 1, "eval", "d1", model_id))  # replayed
    store.log_batch(
        run_id,
        metrics=[Metric("loss", 0.25, 200, 2, model_id=model_id), Metric("other", 1.0, 200)],
    )

    metrics = sorted(store.get_logged_model(model_id).metrics, key=lambda m: m.key)
    assert metrics == [
        Metric("acc", 0.9, 100, 1, "eval", "d1", model_id, run_id),
        Metric("loss", 0.25, 200, 2, None, None, model_id, run_id),
    ]
    assert store.get_run(run_id).data.metrics == {"acc": 0.9, "loss": 0.25, "other": 1.0}


def test_nan_metric_on_a_model(
    store: TrackingStore, experiment_id: str, make_run: Callable[..., Run]
) -> None:
    run_id = make_run(experiment_id).info.run_id
    model_id = store.create_logged_model(experiment_id, name="m").model_id
    store.log_metric(run_id, Metric("x", math.nan, 1, 0, model_id=model_id))
    [metric] = store.get_logged_model(model_id).metrics
    assert math.isnan(metric.value)
    # NaN compares as IEEE 754 says, as in run searches: only != holds.
    for filter_string, found in (("metrics.x != 0", [model_id]), ("metrics.x = 0", [])):
        assert _ids(store.search_logged_models([experiment_id], filter_string)) == found
    assert _ids(store.search_logged_models([experiment_id], "metrics.x <= 0")) == []


def test_metric_for_an_unknown_model_is_not_found(
    store: TrackingStore, make_run: Callable[..., Run]
) -> None:
    run_id = make_run().info.run_id
    with raises(NotFound, NOT_FOUND):
        store.log_metric(run_id, Metric("acc", 1.0, 1, 0, model_id=UNKNOWN_ID))
    assert store.get_run(run_id).data.metrics == {}  # nothing of the call was applied


def test_run_outputs_and_model_inputs(
    store: TrackingStore, experiment_id: str, make_run: Callable[..., Run]
) -> None:
    run_id = make_run(experiment_id).info.run_id
    first = store.create_logged_model(experiment_id, name="a").model_id
    second = store.create_logged_model(experiment_id, name="b").model_id

    store.log_outputs(run_id, [ModelOutput(first, 0), ModelOutput(first, 5)])
    store.log_outputs(run_id, [ModelOutput(first, 0)])  # again: no duplicate
    store.log_inputs(run_id, models=[ModelInput(second)])
    store.log_inputs(run_id, models=[ModelInput(second)])

    run = store.get_run(run_id)
    assert run.outputs.model_outputs == [ModelOutput(first, 0), ModelOutput(first, 5)]
    assert run.inputs.model_inputs == [ModelInput(second)]
    [found] = store.search_runs([experiment_id])
    assert (found.outputs, found.inputs) == (run.outputs, run.inputs)


def test_run_links_need_existing_models(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run_id = make_run().info.run_id
    with raises(NotFound, NOT_FOUND):
        store.log_outputs(run_id, [ModelOutput(UNKNOWN_ID, 0)])
    with raises(NotFound, NOT_FOUND):
        store.log_inputs(run_id, models=[ModelInput(UNKNOWN_ID)])
    with raises(NotFound, NOT_FOUND):
        store.log_outputs("0" * 32, [])
    run = store.get_run(run_id)
    assert (run.outputs.model_outputs, run.inputs.model_inputs) == ([], [])


# ---------------------------------------------------------------- search
@pytest.fixture
def three_models(
    store: TrackingStore, experiment_id: str, make_run: Callable[..., Run]
) -> dict[str, LoggedModel]:
    """alpha (READY, sklearn, acc 0.9 on eval / 0.5 on train), beta (acc 0.7), gamma (none)."""
    run_id = make_run(experiment_id).info.run_id
    alpha = store.create_logged_model(
        experiment_id,
        name="alpha",
        source_run_id=run_id,
        tags=[LoggedModelTag("team", "Vision")],
        params=[Param("depth", "3")],
        model_type="sklearn",
    )
    beta = store.create_logged_model(
        experiment_id, name="beta", params=[Param("depth", "5")], model_type="torch"
    )
    gamma = store.create_logged_model(experiment_id, name="gamma")
    store.finalize_logged_model(alpha.model_id, READY)
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.9, 10, 0, "eval", "e1", alpha.model_id),
            Metric("acc", 0.5, 10, 0, "train", "t1", alpha.model_id),
            Metric("acc", 0.7, 10, 0, "eval", "e1", beta.model_id),
            Metric("acc", 0.1, 5, 0, "eval", "e1", beta.model_id),  # older: not the latest
        ],
    )
    return {"alpha": alpha, "beta": beta, "gamma": gamma}


def _names(store: TrackingStore, experiment_id: str, filter_string: str, **kw: object) -> set[str]:
    found = store.search_logged_models([experiment_id], filter_string, **kw)  # type: ignore[arg-type]
    return {m.name for m in found}


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'alpha'", {"alpha"}),
        ("name != 'alpha'", {"beta", "gamma"}),
        ("name LIKE '%a'", {"alpha", "beta", "gamma"}),
        ("name LIKE 'A%'", set()),
        ("name ILIKE 'A%'", {"alpha"}),
        ("model_type = 'torch'", {"beta"}),
        ("model_type LIKE 's%'", {"alpha"}),
        ("status = 'LOGGED_MODEL_READY'", {"alpha"}),
        ("status = 'READY'", {"alpha"}),
        ("status != 'LOGGED_MODEL_READY'", {"beta", "gamma"}),
        ("status LIKE '%PENDING'", {"beta", "gamma"}),
        ("status = 'NO_SUCH_STATUS'", set()),
        ("params.depth = '3'", {"alpha"}),
        ("params.depth != '3'", {"beta"}),
        ("params.depth LIKE '%'", {"alpha", "beta"}),
        ("tags.team = 'Vision'", {"alpha"}),
        ("tags.team ILIKE 'vis%'", {"alpha"}),
        ("tags.team != 'x'", {"alpha"}),
        ("metrics.acc > 0.8", {"alpha"}),
        ("metrics.acc >= 0.5", {"alpha", "beta"}),
        ("metrics.acc < 0.2", set()),
        ("metrics.acc = 0.7", {"beta"}),
        ("metrics.acc != 0.7", {"alpha"}),
        ("metrics.missing > 0", set()),
        ("creation_timestamp > 0 AND last_updated_timestamp > 0", {"alpha", "beta", "gamma"}),
        ("creation_time < 0", set()),
        ("last_updated_time >= 0", {"alpha", "beta", "gamma"}),
        ("name = 'alpha' AND params.depth = '3' AND metrics.acc > 0.8", {"alpha"}),
    ],
)
def test_search_filters(
    store: TrackingStore,
    experiment_id: str,
    three_models: dict[str, LoggedModel],
    filter_string: str,
    expected: set[str],
) -> None:
    assert _names(store, experiment_id, filter_string) == expected


def test_search_by_id_and_source_run(
    store: TrackingStore, experiment_id: str, three_models: dict[str, LoggedModel]
) -> None:
    alpha = three_models["alpha"]
    assert _names(store, experiment_id, f"model_id = '{alpha.model_id}'") == {"alpha"}
    assert _names(store, experiment_id, f"source_run_id = '{alpha.source_run_id}'") == {"alpha"}
    assert _names(store, experiment_id, "source_run_id LIKE '%'") == {"alpha"}


def test_search_metrics_restricted_to_datasets(
    store: TrackingStore, experiment_id: str, three_models: dict[str, LoggedModel]
) -> None:
    train = [LoggedModelDataset("train")]
    assert _names(store, experiment_id, "metrics.acc > 0.6", datasets=train) == set()
    assert _names(store, experiment_id, "metrics.acc < 0.6", datasets=train) == {"alpha"}
    eval_exact = [LoggedModelDataset("eval", "e1")]
    assert _names(store, experiment_id, "metrics.acc > 0.6", datasets=eval_exact) == {
        "alpha",
        "beta",
    }
    assert (
        _names(store, experiment_id, "metrics.acc > 0", datasets=[LoggedModelDataset("eval", "zz")])
        == set()
    )
    # Without datasets, every dataset's latest point counts.
    assert _names(store, experiment_id, "metrics.acc < 0.6") == {"alpha"}


def test_search_order_by_attributes(
    store: TrackingStore, experiment_id: str, three_models: dict[str, LoggedModel]
) -> None:
    def order(*entries: LoggedModelOrderBy) -> list[str]:
        return [m.name for m in store.search_logged_models([experiment_id], order_by=entries)]

    assert order(LoggedModelOrderBy("name")) == ["alpha", "beta", "gamma"]
    assert order(LoggedModelOrderBy("name", ascending=False)) == ["gamma", "beta", "alpha"]
    # Models without a model_type come last in both directions.
    assert order(LoggedModelOrderBy("model_type", False), LoggedModelOrderBy("name")) == [
        "beta",
        "alpha",
        "gamma",
    ]
    default = store.search_logged_models([experiment_id])
    stamps = [(-m.creation_timestamp_ms, m.model_id) for m in default]
    assert stamps == sorted(stamps)


def test_search_order_by_metrics_with_dataset(
    store: TrackingStore, experiment_id: str, three_models: dict[str, LoggedModel]
) -> None:
    def order(entry: LoggedModelOrderBy) -> list[str]:
        return [m.name for m in store.search_logged_models([experiment_id], order_by=[entry])]

    assert order(LoggedModelOrderBy("metrics.acc", False, "eval")) == ["alpha", "beta", "gamma"]
    assert order(LoggedModelOrderBy("metrics.acc", True, "eval", "e1")) == [
        "beta",
        "alpha",
        "gamma",
    ]
    # On train only alpha has the metric; the others follow, in the default order.
    assert order(LoggedModelOrderBy("metrics.acc", True, "train"))[0] == "alpha"
    assert order(LoggedModelOrderBy("params.depth", False)) == ["beta", "alpha", "gamma"]


def test_search_pages(store: TrackingStore, experiment_id: str) -> None:
    created = [store.create_logged_model(experiment_id, name=f"m{i}") for i in range(5)]
    order = [LoggedModelOrderBy("name")]

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = store.search_logged_models(
            [experiment_id], max_results=2, order_by=order, page_token=token
        )
        seen.extend(m.name for m in page)
        pages += 1
        token = page.token
        if not token:
            break
    assert seen == [m.name for m in created]
    assert pages == 3


def test_search_scope_and_no_match(
    store: TrackingStore, make_experiment: Callable[..., str]
) -> None:
    first, second = make_experiment(), make_experiment()
    in_first = store.create_logged_model(first, name="m")
    store.create_logged_model(second, name="m")

    assert _ids(store.search_logged_models([first])) == [in_first.model_id]
    assert len(store.search_logged_models([first, second], "name = 'm'")) == 2
    empty = store.search_logged_models([first], "name = 'nothing'")
    assert (list(empty), empty.token) == ([], None)
    assert list(store.search_logged_models(["999999"])) == []


@pytest.mark.parametrize(
    "filter_string",
    [
        "foo.bar = 'x'",
        "metrics.acc > 'x'",
        "name > 1",
        "params.p IN ('a')",
        "experiment_id = '1'",
        "nonsense",
        "name = ",
    ],
)
def test_search_rejects_bad_filters(
    store: TrackingStore, experiment_id: str, filter_string: str
) -> None:
    with raises(InvalidParameter, INVALID):
        store.search_logged_models([experiment_id], filter_string)


@pytest.mark.parametrize(
    "entry",
    [
        LoggedModelOrderBy("nonsense"),
        LoggedModelOrderBy("name DESC"),
        LoggedModelOrderBy("name", dataset_name="eval"),
        LoggedModelOrderBy("metrics.acc", dataset_digest="d"),
    ],
)
def test_search_rejects_bad_order_by(
    store: TrackingStore, experiment_id: str, entry: LoggedModelOrderBy
) -> None:
    with raises(InvalidParameter, INVALID):
        store.search_logged_models([experiment_id], order_by=[entry])


def test_search_rejects_bad_paging(store: TrackingStore, experiment_id: str) -> None:
    with raises(InvalidParameter, INVALID):
        store.search_logged_models([experiment_id], page_token="not-a-token")
    with raises(InvalidParameter, INVALID):
        store.search_logged_models([experiment_id], max_results=0)


# ---------------------------------------------------------------- gc
def test_gc_purges_deleted_models_and_those_of_purged_experiments(
    sql_store: TrackingStore,
) -> None:
    from wayline.store.sql.gc import purge_deleted
    from wayline.store.sql.store import SqlStore

    assert isinstance(sql_store, SqlStore)
    kept_exp, gone_exp = sql_store.create_experiment("kept"), sql_store.create_experiment("gone")
    run_id = sql_store.create_run(kept_exp).info.run_id
    kept = sql_store.create_logged_model(kept_exp, name="kept", params=[Param("a", "1")])
    deleted = sql_store.create_logged_model(kept_exp, name="deleted", params=[Param("a", "1")])
    in_gone = sql_store.create_logged_model(gone_exp, name="in-gone")
    for model in (kept, deleted):
        sql_store.log_metric(run_id, Metric("acc", 1.0, 1, 0, model_id=model.model_id))
    sql_store.log_outputs(run_id, [ModelOutput(deleted.model_id, 0)])
    sql_store.delete_logged_model(deleted.model_id)
    sql_store.delete_experiment(gone_exp)

    purged = purge_deleted(sql_store)

    assert deleted.artifact_uri in purged.artifact_uris
    assert in_gone.artifact_uri not in purged.artifact_uris  # inside its experiment's folder
    assert sql_store.get_logged_model(kept.model_id).metrics != []
    assert sql_store.get_run(run_id).outputs.model_outputs == []
    assert _ids(sql_store.search_logged_models([kept_exp, gone_exp])) == [kept.model_id]
