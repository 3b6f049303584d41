"""The fluent logged-model API and the Client's logged-model methods, in this process."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

import wayline
from wayline.entities import Dataset, LoggedModelStatus, ModelOutput
from wayline.errors import InvalidParameter
from wayline.tracking import context, fluent_models


@pytest.fixture
def models_db(fluent_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(fluent_models, "_active_model_id", None)
    monkeypatch.setattr(fluent_models, "_last_logged_model_id", None)
    yield fluent_db


def test_initialize_finalize_and_metrics_for_a_model(models_db: str) -> None:
    assert wayline.last_logged_model() is None
    with wayline.start_run() as run:
        model = wayline.initialize_logged_model("clf", params={"depth": 3}, tags={"t": 1})
        assert model.source_run_id == run.info.run_id
        assert model.experiment_id == run.info.experiment_id
        assert (model.status, model.params) == (LoggedModelStatus.PENDING, {"depth": "3"})
        assert str(model.status) == "PENDING"
        # The caller's tags, over the system tags start_run adds too (as MLflow's fluent API).
        assert model.tags == {**context.system_tags(), "t": "1"}
        assert model.tags["mlflow.user"] == context.current_user()
        ds = Dataset("eval", "d1", "local", '{"uri": "eval.csv"}')
        wayline.log_metric("acc", 0.75, model_id=model.model_id, dataset=ds)
    final = wayline.finalize_logged_model(model.model_id, "READY")
    assert final.status == LoggedModelStatus.READY
    [metric] = wayline.get_logged_model(model.model_id).metrics
    assert (metric.value, metric.dataset_name, metric.dataset_digest, metric.run_id) == (
        0.75,
        "eval",
        "d1",
        run.info.run_id,
    )
    got = wayline.get_run(run.info.run_id)
    assert got.data.metrics == {"acc": 0.75}
    assert [i.dataset.name for i in got.inputs.dataset_inputs] == ["eval"]
    last = wayline.last_logged_model()
    assert last is not None and last.model_id == model.model_id


def test_external_model_tags_and_search(models_db: str) -> None:
    external = wayline.create_external_model("vendor", model_type="agent")
    assert external.status == LoggedModelStatus.READY
    assert external.tags == {**context.system_tags(), fluent_models.EXTERNAL_MODEL_TAG: "true"}
    other = wayline.initialize_logged_model("other")
    assert (external.source_run_id, other.model_type) == ("", "")  # unset, as MLflow shows it
    wayline.set_logged_model_tags(other.model_id, {"stage": "dev"})
    wayline.delete_logged_model_tag(external.model_id, fluent_models.EXTERNAL_MODEL_TAG)

    df = wayline.search_logged_models(order_by=[{"field_name": "name"}])
    assert isinstance(df, pd.DataFrame)
    assert list(df["name"]) == ["other", "vendor"]
    assert list(df["status"]) == [LoggedModelStatus.PENDING, LoggedModelStatus.READY]
    assert list(df["status"]) == ["PENDING", "READY"]  # MLflow's enum is a str, so is ours
    found = wayline.search_logged_models(filter_string="tags.stage = 'dev'", output_format="list")
    assert isinstance(found, list)
    assert [m.model_id for m in found] == [other.model_id]
    assert wayline.search_logged_models(max_results=1, output_format="list") != []
    with pytest.raises(InvalidParameter):
        wayline.search_logged_models(output_format="json")  # type: ignore[arg-type]


def test_active_model_receives_metrics(models_db: str) -> None:
    model = wayline.set_active_model(name="agent")
    assert wayline.get_active_model_id() == model.model_id
    assert wayline.set_active_model(name="agent").model_id == model.model_id  # found, not new
    with wayline.start_run():
        wayline.log_metric("latency", 12.0)
    assert [m.key for m in wayline.get_logged_model(model.model_id).metrics] == ["latency"]
    with pytest.raises(InvalidParameter):
        wayline.set_active_model()


def test_client_methods(models_db: str) -> None:
    client = wayline.Client()
    experiment_id = client.create_experiment("models")
    run = client.create_run(experiment_id)
    model = client.create_logged_model(experiment_id, "m", run.info.run_id, params={"a": 1})
    client.log_model_params(model.model_id, {"b": 2})
    client.set_logged_model_tags(model.model_id, {"k": "v"})
    client.log_outputs(run.info.run_id, [ModelOutput(model.model_id, 2)])
    client.log_metric(run.info.run_id, "acc", 0.5, model_id=model.model_id, synchronous=False)
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)

    got = client.get_logged_model(model.model_id)
    assert (got.params, got.tags, [m.key for m in got.metrics]) == (
        {"a": "1", "b": "2"},
        {"k": "v"},
        ["acc"],
    )
    page = client.search_logged_models(
        experiment_id,
        filter_string="metrics.acc > 0.1",
        datasets=None,
        order_by=[{"field_name": "metrics.acc", "ascending": False}],
    )
    assert [m.model_id for m in page] == [model.model_id]
    assert client.get_run(run.info.run_id).outputs.model_outputs == [ModelOutput(model.model_id, 2)]
    client.delete_logged_model_tag(model.model_id, "k")
    client.delete_logged_model(model.model_id)
    assert list(client.search_logged_models([experiment_id])) == []
    with pytest.raises(InvalidParameter):
        client.search_logged_models([experiment_id], order_by=[{"ascending": True}])
