"""The shared flavor machinery: missing extras, flavor lookup errors, environment pins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wayline.errors import NotFound, WaylineError
from wayline.models.environment import FLAVOR_PACKAGES
from wayline.models.flavor import (
    FlavorData,
    flavor_conf,
    pinned_release,
    require,
    save_flavor_model,
)


def test_missing_library_names_the_extra() -> None:
    with pytest.raises(WaylineError, match=r"pip install 'wayline\[onnx\]'"):
        require("wayline_no_such_library", "onnx")


def test_every_flavor_pins_its_library() -> None:
    assert FLAVOR_PACKAGES["sklearn"] == ["scikit-learn"]
    assert FLAVOR_PACKAGES["pytorch"] == ["torch"]
    assert FLAVOR_PACKAGES["onnx"] == ["onnx", "onnxruntime"]
    assert {"xgboost", "lightgbm"} <= set(FLAVOR_PACKAGES)


def test_pins_drop_local_version_labels() -> None:
    assert pinned_release("torch").startswith("torch==")
    assert "+" not in pinned_release("torch")


def test_save_writes_both_blocks_and_environment(tmp_path: Path) -> None:
    def write(path: str) -> FlavorData:
        Path(path, "weights.txt").write_text("1.0")
        return FlavorData({"data": "weights.txt"}, {"loader_module": "x.y", "data": "weights.txt"})

    save_flavor_model(tmp_path / "m", "toy", write, extra_pip_requirements=["six"])
    conf = flavor_conf(str(tmp_path / "m"), "python_function")
    assert conf["loader_module"] == "x.y"
    assert "code" not in conf  # MLflow writes the pyfunc block's code only when there is code
    assert flavor_conf(str(tmp_path / "m"), "toy") == {"data": "weights.txt", "code": None}
    assert (tmp_path / "m" / "requirements.txt").read_text().splitlines()[-1] == "six"
    with pytest.raises(NotFound, match=r'"sklearn" flavor \(it has: python_function, toy\)'):
        flavor_conf(str(tmp_path / "m"), "sklearn")


def test_importing_flavors_loads_no_library() -> None:
    flavors = "wayline.sklearn, wayline.xgboost, wayline.lightgbm, wayline.pytorch, wayline.onnx"
    heavy = "'numpy', 'sklearn', 'xgboost', 'lightgbm', 'torch', 'onnx', 'pyspark'"
    code = f"import sys, {flavors}; print(sorted(m for m in ({heavy}) if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]"
