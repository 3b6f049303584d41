"""save_model / load_model of custom models: predict forms, artifacts, code, models-from-code."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import wayline.pyfunc
from wayline.errors import InvalidParameter
from wayline.models import Model, infer_signature
from wayline.pyfunc import PythonModel, PythonModelContext


class Scale(PythonModel):
    def __init__(self, factor: float) -> None:
        self.factor = factor

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        mult = (params or {}).get("mult", 1.0)
        if isinstance(model_input, pd.DataFrame):
            return model_input["x"] * self.factor * mult
        return model_input


class NoContext(PythonModel):
    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return [len(model_input), params]


class ReadsArtifact(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        self.words = Path(context.artifacts["vocab"]).read_text().split()
        self.config = context.model_config

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return [self.words, self.config]


FRAME = pd.DataFrame({"x": [1.0, 2.0]})


def test_flavor_block_is_mlflows(tmp_path: Path) -> None:
    wayline.pyfunc.save_model(tmp_path / "m", python_model=Scale(2.0))
    flavor = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.model"
    assert flavor["python_model"] == "python_model.pkl"
    assert flavor["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert (flavor["code"], flavor["streamable"]) == (None, False)
    assert {"cloudpickle_version", "python_version"} <= set(flavor)
    for name in ("requirements.txt", "python_env.yaml", "conda.yaml", "python_model.pkl"):
        assert (tmp_path / "m" / name).is_file()


def test_predict_with_signature_and_params(tmp_path: Path) -> None:
    signature = infer_signature(FRAME, FRAME["x"], params={"mult": 1.0})
    wayline.pyfunc.save_model(tmp_path / "m", python_model=Scale(2.0), signature=signature)
    model = wayline.pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(FRAME).tolist() == [2.0, 4.0]
    assert model.predict(FRAME, params={"mult": 3}).tolist() == [6.0, 12.0]
    assert model.predict({"x": 1.0}).tolist() == [2.0]
    assert model.predict([{"x": 1.0}]).tolist() == [2.0]
    ints = pd.DataFrame({"x": np.array([1, 2], dtype="int32")})
    assert model.predict(ints).tolist() == [2.0, 4.0]  # int32 -> double: a safe upcast
    with pytest.raises(InvalidParameter, match=r"missing inputs \['x'\]"):
        model.predict(pd.DataFrame({"y": [1.0]}))
    with pytest.raises(InvalidParameter, match="mult"):
        model.predict(FRAME, params={"mult": "abc"})
    assert isinstance(model.unwrap_python_model(), Scale)
    assert model.metadata.signature == signature


def test_signature_inferred_from_input_example(tmp_path: Path) -> None:
    wayline.pyfunc.save_model(tmp_path / "m", python_model=Scale(2.0), input_example=FRAME)
    meta = Model.load(tmp_path / "m")
    assert meta.signature is not None
    assert (
        meta.signature.to_dict()["outputs"] == '[{"type": "double", "name": "x", "required": true}]'
    )
    assert meta.saved_input_example_info is not None
    assert (tmp_path / "m" / "serving_input_example.json").is_file()


def test_predict_without_context_and_ndarray_input(tmp_path: Path) -> None:
    wayline.pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    model = wayline.pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(np.zeros((3, 2))) == [3, None]


def test_artifacts_and_model_config(tmp_path: Path) -> None:
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("a b c")
    wayline.pyfunc.save_model(
        tmp_path / "m",
        python_model=ReadsArtifact(),
        artifacts={"vocab": str(vocab)},
        model_config={"k": 1},
    )
    flavor = Model.load(tmp_path / "m").flavors["python_function"]
    assert flavor["artifacts"] == {"vocab": {"path": "artifacts/vocab.txt", "uri": str(vocab)}}
    assert flavor["config"] == {"k": 1}
    vocab.unlink()  # the model holds its own copy
    model = wayline.pyfunc.load_model(str(tmp_path / "m"), model_config={"k": 2})
    assert model.predict("anything") == [["a", "b", "c"], {"k": 2}]


def test_code_paths_are_bundled_and_importable(tmp_path: Path) -> None:
    package = tmp_path / "src" / "wl_helper_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def triple(x):\n    return x * 3\n")
    (tmp_path / "src" / "wl_model_mod.py").write_text(
        textwrap.dedent(
            """
            import wayline.pyfunc
            from wl_helper_pkg import triple

            class Triple(wayline.pyfunc.PythonModel):
                def predict(self, context, model_input, params=None):
                    return triple(model_input)
            """
        )
    )
    import sys

    sys.path.insert(0, str(tmp_path / "src"))
    try:
        import wl_model_mod  # type: ignore[import-not-found]

        wayline.pyfunc.save_model(
            tmp_path / "m",
            python_model=wl_model_mod.Triple(),
            code_paths=[str(package), str(tmp_path / "src" / "wl_model_mod.py")],
        )
    finally:
        sys.path.remove(str(tmp_path / "src"))
        for name in ("wl_model_mod", "wl_helper_pkg"):
            sys.modules.pop(name, None)
    assert Model.load(tmp_path / "m").flavors["python_function"]["code"] == "code"
    assert (tmp_path / "m" / "code" / "wl_helper_pkg" / "__init__.py").is_file()
    model = wayline.pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict(2) == 6


def test_models_from_code(tmp_path: Path) -> None:
    code = tmp_path / "my_model.py"
    code.write_text(
        textwrap.dedent(
            """
            from wayline.models import set_model
            from wayline.pyfunc import PythonModel

            class Doubler(PythonModel):
                def predict(self, context, model_input, params=None):
                    return model_input * 2

            set_model(Doubler())
            """
        )
    )
    wayline.pyfunc.save_model(tmp_path / "m", python_model=str(code))
    flavor = Model.load(tmp_path / "m").flavors["python_function"]
    assert flavor["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert flavor["model_code_path"] == str(code)
    assert "python_model" not in flavor
    assert not (tmp_path / "m" / "python_model.pkl").exists()
    code.unlink()  # loading runs the copy saved with the model
    assert wayline.pyfunc.load_model(str(tmp_path / "m")).predict(21) == 42


def test_a_function_as_the_model(tmp_path: Path) -> None:
    wayline.pyfunc.save_model(tmp_path / "m", python_model=lambda x: x + 1)
    assert wayline.pyfunc.load_model(str(tmp_path / "m")).predict(1) == 2


def test_non_empty_target_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("")
    with pytest.raises(InvalidParameter, match="already exists"):
        wayline.pyfunc.save_model(tmp_path / "m", python_model=Scale(1.0))
