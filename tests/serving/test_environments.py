"""Model environments (``--env-manager virtualenv``): requirements read from the model, Wayline
installed from this checkout, the environment cached by content and served from."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest
from sklearn.datasets import load_iris  # type: ignore[import-untyped, unused-ignore]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped, unused-ignore]

import wayline.sklearn
from serving._servers import serve_process
from wayline.serving.envs import (
    env_root,
    model_requirements,
    serves_optimized,
    wayline_install_spec,
)

PROJECT = Path(__file__).resolve().parents[2]


def test_requirements_leave_wayline_to_the_installer(iris_model: str, tmp_path: Path) -> None:
    python, requirements = model_requirements(iris_model)
    assert python.count(".") == 2
    assert not any(line.startswith("wayline") for line in requirements)
    assert any(line.startswith("scikit-learn==") for line in requirements)
    (tmp_path / "requirements.txt").write_text("wayline==0.1.0\n-c constraints.txt\nnumpy<3\n")
    (tmp_path / "constraints.txt").write_text("numpy<2.9\n")
    assert model_requirements(tmp_path)[1] == [f"-c {tmp_path / 'constraints.txt'}", "numpy<3"]


def test_wayline_is_installed_from_this_checkout() -> None:
    assert wayline_install_spec()[-1] == str(PROJECT)


def _mlmodel(folder: Path, flavors: str) -> Path:
    folder.mkdir()
    (folder / "MLmodel").write_text(f"flavors:\n{flavors}")
    return folder


@pytest.fixture(scope="module")
def sklearn_iris(tmp_path_factory: pytest.TempPathFactory, iris: pd.DataFrame) -> str:
    """A logistic regression saved by the sklearn flavor (skops, MLflow 3's default)."""
    _, target = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(iris, target)
    path = tmp_path_factory.mktemp("models") / "sklearn-iris"
    wayline.sklearn.save_model(estimator, path, input_example=iris.head(3))
    return str(path)


def test_only_models_without_code_of_their_own_run_optimized(
    sklearn_iris: str, iris_model: str, tmp_path: Path
) -> None:
    assert serves_optimized(sklearn_iris)
    assert not serves_optimized(iris_model)  # a custom pyfunc model: its code keeps asserts
    pyfunc = "  python_function:\n    loader_module: mlflow.sklearn\n"
    pickled = pyfunc + "  sklearn:\n    serialization_format: cloudpickle\n"
    with_code = (
        "  python_function:\n    loader_module: mlflow.sklearn\n    code: code\n"
        "  sklearn:\n    serialization_format: skops\n"
    )
    custom = "  python_function:\n    loader_module: mlflow.pyfunc.model\n"
    for name, flavors in (("pickled", pickled), ("code", with_code), ("custom", custom)):
        assert not serves_optimized(_mlmodel(tmp_path / name, flavors)), name
    assert not serves_optimized(tmp_path)  # no MLmodel at all


@pytest.mark.slow
@pytest.mark.parametrize("manager", ["virtualenv", "uv"])
def test_serve_in_a_model_environment(
    manager: str, sklearn_iris: str, iris: pd.DataFrame, tmp_path: Path
) -> None:
    """Cold, this installs scikit-learn and Wayline's dependencies (about a minute with pip's
    cache; uv, from the `uv` package of the dev extra, keeps a cache of its own); the
    environment is kept in ~/.cache/wayline/envs, so later runs start at once."""
    args = ["-m", sklearn_iris, "--env-manager", manager]
    with serve_process(args, tmp_path) as server:
        body = {"dataframe_split": iris.iloc[[0]].to_dict(orient="split", index=False)}
        assert httpx.post(f"{server.url}/invocations", json=body).json() == {"predictions": [0]}
        command = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
    assert command[0].decode().startswith(str(env_root()))
    assert command[1] == b"-OO"  # a skops scikit-learn model: see serves_optimized
