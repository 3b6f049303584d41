"""LoggedModel, RunOutputs and model inputs to and from JSON (spec rest-tracking.md §2)."""

from __future__ import annotations

import json
import math

import pytest

from wayline.entities import (
    LoggedModel,
    LoggedModelStatus,
    Metric,
    ModelInput,
    ModelOutput,
    Run,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from wayline.errors import InvalidParameter
from wayline.protocol import decode_logged_model, decode_run, encode_logged_model, encode_run

MODEL_ID = "m-" + "a" * 32
RUN_ID = "b" * 32


def _model(**fields: object) -> LoggedModel:
    values: dict[str, object] = {
        "model_id": MODEL_ID,
        "experiment_id": "3",
        "name": "model",
        "artifact_uri": f"mlflow-artifacts:/3/models/{MODEL_ID}/artifacts",
        "creation_timestamp_ms": 1_700_000_000_000,
        "last_updated_timestamp_ms": 1_700_000_000_500,
        **fields,
    }
    return LoggedModel(**values)  # type: ignore[arg-type]


def test_minimal_model_omits_unset_fields_but_not_model_type() -> None:
    encoded = encode_logged_model(_model())
    assert encoded == {
        "info": {
            "model_id": MODEL_ID,
            "experiment_id": "3",
            "name": "model",
            "creation_timestamp_ms": 1_700_000_000_000,
            "last_updated_timestamp_ms": 1_700_000_000_500,
            "artifact_uri": f"mlflow-artifacts:/3/models/{MODEL_ID}/artifacts",
            "status": "LOGGED_MODEL_PENDING",
            "model_type": "",
        },
        "data": {},
    }
    assert decode_logged_model(encoded) == _model()


def test_full_model_round_trips_through_json() -> None:
    model = _model(
        status=LoggedModelStatus.READY,
        creator_id=7,
        model_type="sklearn",
        source_run_id=RUN_ID,
        status_message="ok",
        tags={"mlflow.user": "me"},
        params={"depth": "3"},
        metrics=[Metric("acc", math.nan, 5, 1, "eval", "d1", MODEL_ID, RUN_ID)],
    )
    encoded = encode_logged_model(model)
    assert encoded["info"]["tags"] == [{"key": "mlflow.user", "value": "me"}]
    assert encoded["data"]["metrics"][0]["value"] == "NaN"
    assert decode_logged_model(json.loads(json.dumps(encoded))) == model


def test_decoder_accepts_status_numbers_and_rejects_unknown_ones() -> None:
    encoded = encode_logged_model(_model())
    encoded["info"]["status"] = 3
    assert decode_logged_model(encoded).status == LoggedModelStatus.FAILED
    encoded["info"]["status"] = "SHINY"
    with pytest.raises(InvalidParameter):
        decode_logged_model(encoded)


def test_run_outputs_and_model_inputs() -> None:
    info = RunInfo(RUN_ID, "3", "r", "u", "RUNNING", 1, None, "file:///a")
    run = Run(
        info,
        inputs=RunInputs(model_inputs=[ModelInput(MODEL_ID)]),
        outputs=RunOutputs([ModelOutput(MODEL_ID, 4)]),
    )
    encoded = encode_run(run)
    assert encoded["inputs"] == {"model_inputs": [{"model_id": MODEL_ID}]}
    assert encoded["outputs"] == {"model_outputs": [{"model_id": MODEL_ID, "step": 4}]}
    assert decode_run(encoded) == run
    assert encode_run(Run(info))["outputs"] == {}
    del encoded["outputs"]
    assert decode_run(encoded).outputs == RunOutputs()


def test_status_is_spelled_as_mlflows_python_enum() -> None:
    # Code written for mlflow.entities.LoggedModelStatus: members, str(), comparison to str.
    assert [s.value for s in LoggedModelStatus] == ["UNSPECIFIED", "PENDING", "READY", "FAILED"]
    assert str(LoggedModelStatus.READY) == "READY"
    assert LoggedModelStatus.READY == "READY"
    assert [s.to_int() for s in LoggedModelStatus] == [0, 1, 2, 3]
    assert LoggedModelStatus.from_int(3) is LoggedModelStatus.FAILED
    assert LoggedModelStatus.is_finalized("READY") and not LoggedModelStatus.is_finalized(1)
    # The wire keeps the proto names; every spelling reads back.
    assert LoggedModelStatus.FAILED.wire_name == "LOGGED_MODEL_UPLOAD_FAILED"
    for spelled in ("FAILED", "failed", "LOGGED_MODEL_UPLOAD_FAILED", "UPLOAD_FAILED", 3, "3"):
        assert LoggedModelStatus.from_string(spelled) is LoggedModelStatus.FAILED
    assert LoggedModelStatus.to_string("pending") == "LOGGED_MODEL_PENDING"
    with pytest.raises(InvalidParameter):
        LoggedModelStatus.from_string(4)
