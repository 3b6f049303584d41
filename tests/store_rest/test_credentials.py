"""Credentials from ``~/.mlflow/credentials`` and the headers that identify the client."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from servers import live_server, recording
from wayline import __version__
from wayline.errors import WaylineError
from wayline.protocol.request import MLFLOW_PROTOCOL_VERSION
from wayline.server import ServerSettings, create_app
from wayline.store.rest import RestSettings, RestStore, rest_settings_from_env
from wayline.store.rest.client import client_headers


def _write_credentials(home: Path, body: str) -> None:
    folder = home / ".mlflow"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "credentials").write_text(body)


CREDENTIALS = """
[mlflow]
mlflow_tracking_username = alice
mlflow_tracking_password = s3cret%with%percent
"""


def test_credentials_file_is_read_when_the_environment_has_none(tmp_path: Path) -> None:
    _write_credentials(tmp_path, CREDENTIALS)
    settings = rest_settings_from_env({"HOME": str(tmp_path)})
    assert (settings.username, settings.password) == ("alice", "s3cret%with%percent")
    expected = base64.b64encode(b"alice:s3cret%with%percent").decode()
    assert client_headers(settings)["Authorization"] == f"Basic {expected}"


def test_environment_wins_field_by_field(tmp_path: Path) -> None:
    _write_credentials(tmp_path, CREDENTIALS)
    both = rest_settings_from_env(
        {
            "HOME": str(tmp_path),
            "MLFLOW_TRACKING_USERNAME": "bob",
            "MLFLOW_TRACKING_PASSWORD": "pw",
        }
    )
    assert (both.username, both.password) == ("bob", "pw")
    user_only = rest_settings_from_env({"HOME": str(tmp_path), "WAYLINE_TRACKING_USERNAME": "bob"})
    assert (user_only.username, user_only.password) == ("bob", "s3cret%with%percent")


@pytest.mark.parametrize(
    "body", ["", "[other]\nmlflow_tracking_username = x\n", "[mlflow]\nsomething = else\n"]
)
def test_files_without_credentials_give_none(tmp_path: Path, body: str) -> None:
    _write_credentials(tmp_path, body)
    settings = rest_settings_from_env({"HOME": str(tmp_path)})
    assert (settings.username, settings.password) == (None, None)


def test_missing_file_gives_none(tmp_path: Path) -> None:
    settings = rest_settings_from_env({"HOME": str(tmp_path / "nobody")})
    assert settings == RestSettings()


def test_malformed_file_is_reported(tmp_path: Path) -> None:
    _write_credentials(tmp_path, "this is not an ini file\n")
    with pytest.raises(WaylineError, match="credentials"):
        rest_settings_from_env({"HOME": str(tmp_path)})


def test_client_identifies_itself_to_a_live_server(tmp_path: Path) -> None:
    seen: list[httpx.Headers] = []
    app = create_app(ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'id.db'}"))

    _write_credentials(tmp_path, CREDENTIALS)
    with live_server(recording(app, seen)) as url:
        store = RestStore(url, rest_settings_from_env({"HOME": str(tmp_path)}))
        try:
            assert store.get_experiment("0").name == "Default"
        finally:
            store.close()
    headers = seen[-1]
    assert headers["user-agent"] == f"wayline-python-client/{__version__}"
    assert headers["x-mlflow-client-version"] == MLFLOW_PROTOCOL_VERSION
    assert headers["authorization"].startswith("Basic ")
