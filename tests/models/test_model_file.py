"""The MLmodel file, input examples and the environment files written with a model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from wayline.errors import InvalidParameter, NotFound
from wayline.models import Model, infer_pip_requirements, infer_signature
from wayline.models.environment import package_version, requirements_of, write_environment
from wayline.models.example import load_example, save_example


def test_round_trip_keeps_unknown_keys(tmp_path: Path) -> None:
    model = Model(run_id="r1", artifact_path="model", metadata={"owner": "me"})
    model.add_flavor("python_function", loader_module="mlflow.pyfunc.model")
    model.signature = infer_signature(pd.DataFrame({"x": [1.0]}))
    text = model.to_dict()
    text["resources"] = {"api_version": "1"}
    loaded = Model.from_dict(text)
    assert loaded.to_dict() == text
    loaded.save(tmp_path / "MLmodel")
    assert Model.load(tmp_path) == loaded
    assert Model.load(tmp_path / "MLmodel").metadata == {"owner": "me"}


def test_keys_are_mlflows(tmp_path: Path) -> None:
    Model(model_id="m-1").save(tmp_path / "MLmodel")
    raw = yaml.safe_load((tmp_path / "MLmodel").read_text())
    assert set(raw) == {
        "flavors",
        "model_uuid",
        "model_id",
        "utc_time_created",
        "prompts",
        "wayline_version",
    }
    assert "mlflow_version" not in raw  # MLflow's loader does not need it
    assert len(raw["utc_time_created"]) == len("2026-11-27 05:06:11.776000")


def test_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="MLmodel"):
        Model.load(tmp_path)


def test_dataframe_example_files(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, None], "b": ["x", "y"]})
    info = save_example(str(tmp_path), (frame, {"mult": 2.0}))
    assert info == {
        "artifact_path": "input_example.json",
        "params": "true",
        "type": "dataframe",
        "pandas_orient": "split",
        "serving_input_path": "serving_input_example.json",
    }
    raw = json.loads((tmp_path / "input_example.json").read_text())
    assert raw == {
        "inputs": {"columns": ["a", "b"], "data": [[1.0, "x"], [None, "y"]]},
        "params": {"mult": 2.0},
    }
    serving = json.loads((tmp_path / "serving_input_example.json").read_text())
    assert serving == {"dataframe_split": raw["inputs"], "params": {"mult": 2.0}}
    loaded = load_example(str(tmp_path), info)
    assert loaded["b"].tolist() == ["x", "y"]


def test_tensor_and_json_examples(tmp_path: Path) -> None:
    info = save_example(str(tmp_path), {"x": np.zeros((1, 2))})
    assert info["type"] == "ndarray"
    assert json.loads((tmp_path / "serving_input_example.json").read_text()) == {
        "inputs": {"x": [[0.0, 0.0]]}
    }
    info = save_example(str(tmp_path), ["a", "b"])
    assert info["type"] == "json_object"
    assert load_example(str(tmp_path), info) == ["a", "b"]
    with pytest.raises(InvalidParameter, match="Mixed types"):
        save_example(str(tmp_path), {"x": np.zeros(2), "y": 1})


def test_environment_files(tmp_path: Path) -> None:
    reqs = write_environment(str(tmp_path), ["cloudpickle==3.1.3"], extra_pip_requirements=["a==1"])
    assert reqs == ["wayline==0.1.0", "cloudpickle==3.1.3", "a==1"]
    assert (tmp_path / "requirements.txt").read_text() == "\n".join(reqs)
    python_env = yaml.safe_load((tmp_path / "python_env.yaml").read_text())
    version = ".".join(map(str, sys.version_info[:3]))
    assert python_env["python"] == version
    assert python_env["dependencies"] == ["-r requirements.txt"]
    assert [d.split("==")[0] for d in python_env["build_dependencies"]] == [
        "pip",
        "setuptools",
        "wheel",
    ]
    conda = yaml.safe_load((tmp_path / "conda.yaml").read_text())
    assert conda["name"] == "mlflow-env"
    assert conda["channels"] == ["conda-forge"]
    assert conda["dependencies"][0] == f"python={version}"
    assert conda["dependencies"][-1] == {"pip": reqs}


def test_pip_requirements_replace_and_constraints(tmp_path: Path) -> None:
    (tmp_path / "c.txt").write_text("numpy<3\n")
    reqs = write_environment(
        str(tmp_path), ["ignored==1"], pip_requirements=["b", f"-c {tmp_path / 'c.txt'}"]
    )
    assert reqs == ["wayline==0.1.0", "b", "-c constraints.txt"]
    assert (tmp_path / "constraints.txt").read_text() == "numpy<3"
    with pytest.raises(InvalidParameter, match="Only one of"):
        write_environment(str(tmp_path), [], pip_requirements=["a"], extra_pip_requirements=["b"])


class _UsesYaml:
    def predict(self, context: object, model_input: object) -> str:
        return yaml.safe_dump(model_input)


def test_inferred_requirements_name_what_the_code_imports(tmp_path: Path) -> None:
    helper = tmp_path / "helper.py"
    helper.write_text("import numpy\nimport json\nfrom helper2 import x\n")
    reqs = requirements_of(_UsesYaml(), [str(helper)], flavor_packages=["cloudpickle"])
    assert reqs[0] == f"cloudpickle=={package_version('cloudpickle')}"
    assert f"PyYAML=={package_version('PyYAML')}" in reqs
    assert f"numpy=={package_version('numpy')}" in reqs
    assert not any(r.startswith(("json", "helper")) for r in reqs)


def test_infer_pip_requirements_of_a_saved_model(tmp_path: Path) -> None:
    import wayline.pyfunc

    code = tmp_path / "model_code.py"
    code.write_text(
        "import yaml\n"
        "from wayline.models import set_model\n"
        "set_model(lambda x: yaml.safe_dump(x))\n"
    )
    wayline.pyfunc.save_model(tmp_path / "m", python_model=str(code))
    written = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    yaml_pin = f"PyYAML=={package_version('PyYAML')}"
    assert written[0] == "wayline==0.1.0"
    assert yaml_pin in written
    inferred = infer_pip_requirements(str(tmp_path / "m"), "python_function")
    assert inferred == written[1:]
    assert infer_pip_requirements(str(tmp_path / "nothing"), fallback=["x"]) == ["x"]
