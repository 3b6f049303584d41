"""log_inputs: dataset fields, deduplication, input tags (context)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wayline.entities import Dataset, DatasetInput, InputTag, Run
from wayline.errors import InvalidParameter, NotFound
from wayline.store.tracking import TrackingStore

from ._support import raises

CONTEXT = "mlflow.data.context"


def _dataset(name: str = "train", digest: str = "b7766ffa", **fields: str | None) -> Dataset:
    values: dict[str, str | None] = {
        "source_type": "s3",
        "source": '{"uri": "s3://bucket/data.csv"}',
        "schema": '{"mlflow_colspec": [{"type": "double", "name": "x"}]}',
        "profile": '{"num_rows": 3, "num_elements": 9}',
        **fields,
    }
    return Dataset(name=name, digest=digest, **values)  # type: ignore[arg-type]


def _summary(run: Run) -> list[tuple[Dataset, dict[str, str]]]:
    return sorted(
        ((i.dataset, {t.key: t.value for t in i.tags}) for i in run.inputs.dataset_inputs),
        key=lambda pair: (pair[0].name, pair[0].digest),
    )


@pytest.fixture
def run_id(make_run: Callable[..., Run]) -> str:
    return make_run().info.run_id


def test_dataset_fields_round_trip(store: TrackingStore, run_id: str) -> None:
    dataset = _dataset()

    store.log_inputs(run_id, [DatasetInput(dataset, [InputTag(CONTEXT, "training")])])

    assert _summary(store.get_run(run_id)) == [(dataset, {CONTEXT: "training"})]


def test_optional_fields_absent(store: TrackingStore, run_id: str) -> None:
    dataset = _dataset(schema=None, profile=None)

    store.log_inputs(run_id, [DatasetInput(dataset)])

    [(stored, tags)] = _summary(store.get_run(run_id))
    assert (stored.name, stored.digest, stored.source_type, stored.source) == (
        "train",
        "b7766ffa",
        "s3",
        '{"uri": "s3://bucket/data.csv"}',
    )
    assert not stored.schema
    assert not stored.profile
    assert tags == {}


def test_same_dataset_twice_is_stored_once(store: TrackingStore, run_id: str) -> None:
    entry = DatasetInput(_dataset(), [InputTag(CONTEXT, "training")])

    store.log_inputs(run_id, [entry])
    store.log_inputs(run_id, [entry])
    store.log_inputs(run_id, [entry, entry])

    assert len(store.get_run(run_id).inputs.dataset_inputs) == 1


def test_several_datasets_and_tags(store: TrackingStore, run_id: str) -> None:
    train = DatasetInput(
        _dataset("train", "d1"), [InputTag(CONTEXT, "training"), InputTag("k", "v")]
    )
    evaluation = DatasetInput(_dataset("eval", "d2"), [InputTag(CONTEXT, "eval")])

    store.log_inputs(run_id, [train, evaluation])

    assert _summary(store.get_run(run_id)) == [
        (evaluation.dataset, {CONTEXT: "eval"}),
        (train.dataset, {CONTEXT: "training", "k": "v"}),
    ]


def test_same_name_other_digest_is_another_dataset(store: TrackingStore, run_id: str) -> None:
    store.log_inputs(run_id, [DatasetInput(_dataset("train", "d1"))])
    store.log_inputs(run_id, [DatasetInput(_dataset("train", "d2"))])

    assert [d.digest for d, _ in _summary(store.get_run(run_id))] == ["d1", "d2"]


def test_dataset_shared_by_runs_of_an_experiment(
    store: TrackingStore, make_run: Callable[..., Run], make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    first = make_run(experiment_id).info.run_id
    second = make_run(experiment_id).info.run_id
    elsewhere = make_run().info.run_id
    dataset = _dataset()

    for run_id, context in ((first, "training"), (second, "eval"), (elsewhere, "eval")):
        store.log_inputs(run_id, [DatasetInput(dataset, [InputTag(CONTEXT, context)])])

    assert _summary(store.get_run(first)) == [(dataset, {CONTEXT: "training"})]
    assert _summary(store.get_run(second)) == [(dataset, {CONTEXT: "eval"})]
    assert _summary(store.get_run(elsewhere)) == [(dataset, {CONTEXT: "eval"})]


def test_inputs_in_search_results(store: TrackingStore, make_run: Callable[..., Run]) -> None:
    run = make_run()
    dataset = _dataset()
    store.log_inputs(run.info.run_id, [DatasetInput(dataset, [InputTag(CONTEXT, "training")])])

    [found] = store.search_runs([run.info.experiment_id])

    assert _summary(found) == [(dataset, {CONTEXT: "training"})]


def test_dataset_filters(
    store: TrackingStore, make_run: Callable[..., Run], make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    trained = make_run(experiment_id).info.run_id
    evaluated = make_run(experiment_id).info.run_id
    make_run(experiment_id)  # no inputs
    store.log_inputs(
        trained, [DatasetInput(_dataset("train", "d1"), [InputTag(CONTEXT, "training")])]
    )
    store.log_inputs(
        evaluated, [DatasetInput(_dataset("train", "d1"), [InputTag(CONTEXT, "eval")])]
    )

    def found(filter_string: str) -> set[str]:
        return {r.info.run_id for r in store.search_runs([experiment_id], filter_string)}

    assert found("dataset.name = 'train'") == {trained, evaluated}
    assert found("dataset.name = 'train' AND dataset.context = 'training'") == {trained}
    assert found("datasets.digest IN ('d1', 'zz')") == {trained, evaluated}
    assert found("dataset.context != 'training'") == {evaluated}
    assert found("dataset.name LIKE 'tr%' AND dataset.context = 'eval'") == {evaluated}
    assert found("dataset.name = 'nothing'") == set()


@pytest.mark.parametrize(
    "entry",
    [
        DatasetInput(_dataset(name="")),
        DatasetInput(_dataset(name="n" * 501)),
        DatasetInput(_dataset(digest="d" * 37)),
        DatasetInput(_dataset(), [InputTag("k" * 256, "v")]),
        DatasetInput(_dataset(), [InputTag("k", "v" * 501)]),
    ],
    ids=["empty name", "long name", "long digest", "long tag key", "long tag value"],
)
def test_invalid_inputs_write_nothing(
    store: TrackingStore, run_id: str, entry: DatasetInput
) -> None:
    valid = DatasetInput(_dataset("ok", "ok"))

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.log_inputs(run_id, [valid, entry])

    assert store.get_run(run_id).inputs.dataset_inputs == []


def test_log_inputs_to_unknown_run(store: TrackingStore) -> None:
    with raises(NotFound, "RESOURCE_DOES_NOT_EXIST"):
        store.log_inputs("0" * 32, [DatasetInput(_dataset())])


def test_log_inputs_to_deleted_run(store: TrackingStore, run_id: str) -> None:
    store.delete_run(run_id)

    with raises(InvalidParameter, "INVALID_PARAMETER_VALUE"):
        store.log_inputs(run_id, [DatasetInput(_dataset())])


def test_search_datasets_summarises_each_context(
    store: TrackingStore, make_run: Callable[..., Run], make_experiment: Callable[..., str]
) -> None:
    experiment_id = make_experiment()
    other_experiment = make_experiment()
    train, test = _dataset("train", "aaaa"), _dataset("test", "bbbb")
    first, second = make_run(experiment_id).info.run_id, make_run(experiment_id).info.run_id
    store.log_inputs(first, [DatasetInput(train, [InputTag(CONTEXT, "training")])])
    store.log_inputs(second, [DatasetInput(train, [InputTag(CONTEXT, "eval")])])
    store.log_inputs(second, [DatasetInput(test)])  # no context tag
    store.log_inputs(make_run(other_experiment).info.run_id, [DatasetInput(_dataset("x", "c"))])

    found = store.search_datasets([experiment_id])

    assert [(s.experiment_id, s.name, s.digest, s.context) for s in found] == [
        (experiment_id, "test", "bbbb", None),
        (experiment_id, "train", "aaaa", "eval"),
        (experiment_id, "train", "aaaa", "training"),
    ]
    assert {s.name for s in store.search_datasets([experiment_id, other_experiment])} == {
        "test",
        "train",
        "x",
    }
    assert store.search_datasets([make_experiment()]) == []
