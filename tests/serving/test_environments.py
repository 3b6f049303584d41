"""Model environments (``--env-manager virtualenv``): requirements read from the model, Wayline
installed from this checkout, the environment cached by content and served from."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from serving._servers import serve_process
from wayline.serving.envs import env_root, model_requirements, wayline_install_spec

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


@pytest.mark.slow
@pytest.mark.parametrize("manager", ["virtualenv", "uv"])
def test_serve_in_a_model_environment(
    manager: str, iris_model: str, iris: pd.DataFrame, tmp_path: Path
) -> None:
    """Cold, this installs scikit-learn and Wayline's dependencies (about a minute with pip's
    cache; uv, from the `uv` package of the dev extra, keeps a cache of its own); the
    environment is kept in ~/.cache/wayline/envs, so later runs start at once."""
    args = ["-m", iris_model, "--env-manager", manager]
    with serve_process(args, tmp_path) as server:
        body = {"dataframe_split": iris.iloc[[0]].to_dict(orient="split", index=False)}
        assert httpx.post(f"{server.url}/invocations", json=body).json() == {"predictions": [0]}
        executable = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")[0]
    assert executable.decode().startswith(str(env_root()))
