"""Docker build contexts (``generate-dockerfile``) and ``build-docker``; no Docker engine runs
here, so the image is checked by its Dockerfile and context, and ``docker`` is a stand-in
script that records how it was called."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from wayline.cli.main import cli


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["models", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_generated_context_holds_everything_the_image_needs(
    iris_model: str, tmp_path: Path
) -> None:
    context = tmp_path / "image"
    run("generate-dockerfile", "-m", iris_model, "-d", str(context))
    dockerfile = (context / "Dockerfile").read_text()
    requirements = (Path(iris_model) / "requirements.txt").read_text().split()
    sklearn = next(r for r in requirements if r.startswith("scikit-learn"))
    assert "FROM python:3.11-slim" in dockerfile
    assert "COPY wayline/ /opt/wayline/wayline/" in dockerfile
    assert "COPY model/ /opt/ml/model/" in dockerfile
    assert "RUN pip install /opt/wayline/wayline 'cloudpickle==" in dockerfile
    assert f"'{sklearn}'" in dockerfile
    assert "'wayline==" not in dockerfile
    assert "EXPOSE 8080" in dockerfile
    assert '"models", "serve", "-m", "/opt/ml/model"' in dockerfile
    assert '"--host", "0.0.0.0", "--port", "8080"' in dockerfile
    for name in ("MLmodel", "python_model.pkl", "requirements.txt", "python_env.yaml"):
        assert (context / "model" / name).is_file()
    assert (context / "wayline" / "pyproject.toml").is_file()
    assert (context / "wayline" / "src" / "wayline" / "serving" / "app.py").is_file()
    assert not list((context / "wayline").rglob("__pycache__"))


def test_context_directory_must_be_new(iris_model: str, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    result = CliRunner().invoke(
        cli, ["models", "generate-dockerfile", "-m", iris_model, "-d", str(tmp_path / "taken")]
    )
    assert result.exit_code == 1
    assert "is not empty" in result.output


@pytest.fixture
def fake_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``docker`` on PATH that records its arguments and the build context's files."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "docker-call.txt"
    script = bin_dir / "docker"
    script.write_text(
        f'#!/bin/sh\necho "$@" > {record}\nls "$4" >> {record}\nls "$4/model" >> {record}\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_build_docker_runs_docker_build(iris_model: str, fake_docker: Path) -> None:
    output = run("build-docker", "-m", iris_model, "-n", "iris:1")
    assert "Built image iris:1" in output
    call = fake_docker.read_text().split("\n")
    assert call[0].startswith("build -t iris:1 ")
    assert {"Dockerfile", "model", "wayline", "MLmodel", "python_model.pkl"} <= set(call)


def test_build_docker_without_docker(
    iris_model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(cli, ["models", "build-docker", "-m", iris_model, "-n", "x"])
    assert result.exit_code == 1
    assert "docker is not installed" in result.output
