"""``ServerSettings`` and the public surface of ``wayline.server``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import wayline.server
from wayline.server import ServerSettings


def test_public_names() -> None:
    assert sorted(wayline.server.__all__) == ["ServerSettings", "create_app"]


def test_defaults_match_mlflow_server() -> None:
    settings = ServerSettings()
    assert settings.backend_store_uri == "sqlite:///wayline.db"
    assert settings.default_artifact_root == "mlflow-artifacts:/"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 5000, 1)


def test_settings_travel_to_workers_through_the_environment() -> None:
    settings = ServerSettings(backend_store_uri="sqlite:////tmp/x.db", port=8080, workers=3)
    assert ServerSettings.from_env(settings.to_env()) == settings
    assert ServerSettings.from_env({}) == ServerSettings()


@pytest.mark.parametrize(
    "bad", [{"backend_store_uri": " "}, {"port": 70000}, {"workers": 0}], ids=str
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ServerSettings(**bad)  # type: ignore[arg-type]


def test_cli_import_does_not_load_the_web_stack() -> None:
    code = (
        "import sys, wayline, wayline.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn') or m.startswith('wayline.server')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
