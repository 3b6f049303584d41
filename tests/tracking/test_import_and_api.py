"""The package surface: what ``import wayline`` costs and exposes."""

from __future__ import annotations

import subprocess
import sys

import pytest

import wayline

EXPECTED_PUBLIC = {
    "ActiveRun",
    "Client",
    "MlflowClient",
    "MlflowException",
    "RunOperations",
    "RunStatus",
    "ViewType",
    "WaylineError",
    "__version__",
    "active_run",
    "artifacts",
    "create_experiment",
    "create_external_model",
    "data",
    "delete_experiment",
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "entities",
    "finalize_logged_model",
    "flush_async_logging",
    "get_active_model_id",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_run",
    "get_tracking_uri",
    "initialize_logged_model",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "search_experiments",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "search_runs",
    "set_active_model",
    "set_experiment",
    "set_logged_model_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
    # Tracing (MLflow 3's names), loaded on first use.
    "add_trace",
    "delete_assessment",
    "delete_trace_tag",
    "flush_trace_async_logging",
    "get_active_trace_id",
    "get_assessment",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_trace",
    "log_assessment",
    "log_expectation",
    "log_feedback",
    "log_trace",
    "override_feedback",
    "search_traces",
    "set_trace_tag",
    "start_span",
    "start_span_no_context",
    "trace",
    "update_assessment",
    "update_current_trace",
}


def test_public_names_are_exactly_the_curated_list() -> None:
    assert set(wayline.__all__) == EXPECTED_PUBLIC
    for name in wayline.__all__:
        assert getattr(wayline, name) is not None
    assert wayline.__version__ == "0.1.0"
    assert wayline.MlflowClient is wayline.Client


def test_public_functions_document_an_example() -> None:
    for name in wayline.__all__:
        obj = getattr(wayline, name)
        if callable(obj) and not isinstance(obj, type):
            assert "Example::" in (obj.__doc__ or ""), name
    # The Client's methods, its mixins' (artifacts, logged models) included.
    for name in dir(wayline.Client):
        member = getattr(wayline.Client, name)
        if callable(member) and not name.startswith("_"):
            assert "Example::" in (member.__doc__ or ""), f"Client.{name}"
    for name in wayline.artifacts.__all__:
        obj = getattr(wayline.artifacts, name)
        if callable(obj) and not isinstance(obj, type):
            assert "Example::" in (obj.__doc__ or ""), f"wayline.artifacts.{name}"


ARTIFACTS_PUBLIC = {
    "ArtifactRepository",
    "ArtifactSink",
    "artifact_repository",
    "download_artifacts",
    "list_artifacts",
    "load_dict",
    "load_image",
    "load_text",
    "safe_relative_path",
}


def test_artifacts_public_names_are_the_curated_list() -> None:
    assert set(wayline.artifacts.__all__) == ARTIFACTS_PUBLIC
    for name in wayline.artifacts.__all__:
        assert getattr(wayline.artifacts, name) is not None


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import sys, wayline\n"
        "heavy = ('pandas', 'numpy', 'sqlalchemy', 'alembic', 'opentelemetry')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_model_packages_load_on_first_use() -> None:
    # As with mlflow.pyfunc after `import mlflow`: no import statement of its own needed.
    code = (
        "import sys, wayline\n"
        "assert 'wayline.pyfunc' not in sys.modules\n"
        "print(wayline.pyfunc.__name__, wayline.sklearn.__name__, wayline.types.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["wayline.pyfunc", "wayline.sklearn", "wayline.types"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        wayline.nope  # noqa: B018


def test_importing_wayline_artifacts_stays_light() -> None:
    # mlflow.artifacts users import it first thing: storage, HTTP and media libraries wait
    # for a call that needs them.
    code = (
        "import sys, wayline.artifacts\n"
        "heavy = ('pandas', 'numpy', 'sqlalchemy', 'httpx', 'fsspec', 'PIL', 'matplotlib',\n"
        "         'plotly', 'yaml')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_benchmark_style_loading_finds_client_and_entities() -> None:
    import importlib

    mod = importlib.import_module("wayline")
    ents = importlib.import_module("wayline.entities")
    assert mod.MlflowClient is wayline.Client
    assert ents.Metric("k", 1.0, 0, 0).value == 1.0
    assert ents.Param("k", "v").value == "v"
