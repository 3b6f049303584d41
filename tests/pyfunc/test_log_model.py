"""log_model on a SQLite store with local artifacts, loaded back by runs:/ and models:/m-<id>."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import wayline
import wayline.pyfunc
from wayline.entities import LoggedModel, LoggedModelStatus
from wayline.errors import InvalidParameter
from wayline.models import Model
from wayline.pyfunc import PythonModel, PythonModelContext
from wayline.tracking.client import Client


class AddOne(PythonModel):
    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return model_input["x"] + 1


FRAME = pd.DataFrame({"x": [1.0, 2.0]})


def _models() -> list[LoggedModel]:
    found = wayline.search_logged_models(output_format="list")
    assert isinstance(found, list)
    return found


def test_log_and_load_by_both_uris(tracking: str, tmp_path: Path) -> None:
    with wayline.start_run() as run:
        wayline.log_param("depth", 3)
        wayline.log_metric("acc", 0.9, step=0)
        info = wayline.pyfunc.log_model(
            name="model", python_model=AddOne(), input_example=FRAME, params={"lr": 0.1}
        )
    run_id = run.info.run_id
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run_id
    assert info.signature is not None

    client = Client(tracking)
    logged = client.get_logged_model(str(info.model_id))
    assert logged.status == LoggedModelStatus.READY
    assert (logged.name, logged.source_run_id) == ("model", run_id)
    assert logged.params == {"lr": "0.1", "depth": "3"}
    assert [(m.key, m.value) for m in logged.metrics] == [("acc", 0.9)]
    outputs = client.get_run(run_id).outputs
    assert outputs is not None
    assert [o.model_id for o in outputs.model_outputs] == [info.model_id]

    # The files live at the model's own location, as with MLflow 3.
    local_root = Path(logged.artifact_location.removeprefix("file://"))
    meta = Model.load(local_root)
    assert (meta.model_id, meta.model_uuid, meta.run_id) == (info.model_id,) * 2 + (run_id,)
    assert meta.artifact_path == logged.artifact_location
    assert Model.load(info.model_uri) == meta

    for uri in (info.model_uri, f"runs:/{run_id}/model"):
        loaded = wayline.pyfunc.load_model(uri, dst_path=str(tmp_path / uri.replace(":", "_")))
        assert loaded.predict(FRAME).tolist() == [2.0, 3.0]


class Vocab(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        self.words = Path(context.artifacts["vocab"]).read_text().split()

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self.words


def test_artifacts_given_as_run_uris_are_downloaded(tracking: str) -> None:
    with wayline.start_run() as run:
        wayline.log_text("a b c", "vocab.txt")
        uri = f"runs:/{run.info.run_id}/vocab.txt"
        info = wayline.pyfunc.log_model(name="m", python_model=Vocab(), artifacts={"vocab": uri})
    assert info.flavors["python_function"]["artifacts"] == {
        "vocab": {"path": "artifacts/vocab.txt", "uri": uri}
    }
    assert wayline.pyfunc.load_model(info.model_uri).predict([1]) == ["a", "b", "c"]


def test_log_without_a_run_and_failure_marks_failed(tracking: str) -> None:
    info = wayline.pyfunc.log_model(name="solo", python_model=AddOne())
    assert info.run_id is None
    assert wayline.pyfunc.load_model(info.model_uri).predict(FRAME).tolist() == [2.0, 3.0]

    with pytest.raises(InvalidParameter, match="Both `artifact_path`"):
        wayline.pyfunc.log_model(name="bad", python_model=AddOne(), artifact_path="bad")
    models = _models()
    assert {m.name for m in models} == {"solo"}  # the bad call failed before creating a model

    class Unpicklable(AddOne):
        def __init__(self) -> None:
            import threading

            self.lock = threading.Lock()

    with pytest.raises(InvalidParameter, match="serialize"):
        wayline.pyfunc.log_model(name="broken", python_model=Unpicklable())
    broken = [m for m in _models() if m.name == "broken"]
    assert [m.status for m in broken] == [LoggedModelStatus.FAILED]
