"""Prompts cross between Wayline and the real MLflow 3.18 through a live ``wayline server``.

A prompt registered with ``wayline.genai`` loads with ``mlflow.genai.load_prompt`` (by version,
alias and ``@latest``, text and chat, with its tags, response format and model config), and one
registered by MLflow loads in Wayline. MLflow runs as a subprocess of its cached venv (built by
``mlflow_venv.sh``); without it these tests skip, or fail under CI.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import server_process
from tracking._support import TRACKING_ENV
from wayline import genai
from wayline.store import resolve
from wayline.tracking import fluent, uri

pytestmark = pytest.mark.compat

VENV_SCRIPT = Path(__file__).resolve().parent / "mlflow_venv.sh"

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}}
CHAT = [
    {"role": "system", "content": "You are a {{ style }} assistant."},
    {"role": "user", "content": "{{question}}"},
]


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    """The python of the cached MLflow 3.18 venv."""
    done = subprocess.run(
        ["bash", str(VENV_SCRIPT)], capture_output=True, text=True, timeout=1800, check=False
    )
    python = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode != 0 or not Path(python).exists():
        message = f"no MLflow 3.18 venv ({done.stderr.strip()[-500:]})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("prompt-server")
    args = ["--backend-store-uri", f"sqlite:///{root / 'wayline.db'}"]
    args += ["--artifacts-destination", str(root / "artifacts")]
    with server_process(args, root) as running:
        yield running.url
    resolve.clear_cache()  # close the REST store's connections to the server now gone


@pytest.fixture
def wayline_on(server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fluent API (and so ``wayline.genai``) pointed at the server."""
    for name in TRACKING_ENV:
        monkeypatch.delenv(name, raising=False)
    uri.set_tracking_uri(server)
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    try:
        yield server
    finally:
        uri.set_tracking_uri(None)


def run_mlflow(python: str, source: str, url: str, cwd: Path) -> Any:
    """Run ``source`` with MLflow's python against ``url``; the JSON its last line prints."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "WAYLINE_"))}
    env.pop("PYTHONPATH", None)
    env["MLFLOW_TRACKING_URI"] = url
    env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    done = subprocess.run(
        [python, "-c", textwrap.dedent(source)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


LOAD_IN_MLFLOW = """
import json
import mlflow
from mlflow import MlflowClient

def described(p):
    return {
        "name": p.name, "version": p.version, "template": p.template,
        "variables": sorted(p.variables), "commit_message": p.commit_message, "tags": p.tags,
        "aliases": list(p.aliases), "response_format": p.response_format,
        "model_config": p.model_config, "is_text": p.is_text_prompt,
    }

uris = ["prompts:/wl-text/1", "prompts:/wl-text@production", "prompts:/wl-text@latest",
        "prompts:/wl-chat/1"]
out = {u: described(mlflow.genai.load_prompt(u)) for u in uris}
out["by_name"] = described(mlflow.genai.load_prompt("wl-text", version=2))
out["formatted"] = mlflow.genai.load_prompt("prompts:/wl-text/1").format(question="Why?")
out["chat"] = mlflow.genai.load_prompt("prompts:/wl-chat/1").format(style="terse", question="Q")
out["search"] = sorted(p.name for p in mlflow.genai.search_prompts("name LIKE 'wl-%'"))
out["models"] = [m.name for m in MlflowClient().search_registered_models()]
print(json.dumps(out))
"""


def test_wayline_prompts_load_in_mlflow(
    wayline_on: str, mlflow_python: str, tmp_path: Path
) -> None:
    first = genai.register_prompt(
        "wl-text",
        "Answer {{question}} briefly.",
        commit_message="first",
        tags={"team": "search"},
        response_format=SCHEMA,
        model_config={"model_name": "gpt-4o", "temperature": 0.2},
    )
    genai.register_prompt("wl-text", "Answer {{ question }} at length.", commit_message="second")
    genai.set_prompt_alias("wl-text", "production", first.version)
    genai.register_prompt("wl-chat", CHAT, commit_message="chat")

    got = run_mlflow(mlflow_python, LOAD_IN_MLFLOW, wayline_on, tmp_path)

    v1 = got["prompts:/wl-text/1"]
    assert v1 == {
        "name": "wl-text",
        "version": 1,
        "template": "Answer {{question}} briefly.",
        "variables": ["question"],
        "commit_message": "first",
        "tags": {"team": "search"},
        "aliases": ["production"],
        "response_format": SCHEMA,
        "model_config": {"model_name": "gpt-4o", "temperature": 0.2},
        "is_text": True,
    }
    assert got["prompts:/wl-text@production"]["version"] == 1
    assert got["prompts:/wl-text@latest"]["version"] == 2
    assert got["by_name"]["commit_message"] == "second"
    chat = got["prompts:/wl-chat/1"]
    assert (chat["template"], chat["is_text"]) == (CHAT, False)
    assert got["formatted"] == "Answer Why? briefly."
    assert got["chat"] == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Q"},
    ]
    assert got["search"] == ["wl-chat", "wl-text"]
    assert got["models"] == []  # prompts are not models, for MLflow's client either


REGISTER_IN_MLFLOW = """
import json
import mlflow

chat = [{"role": "system", "content": "Be {{ tone }}."}, {"role": "user", "content": "{{q}}"}]
mlflow.genai.register_prompt(
    name="ml-chat", template=chat, commit_message="from mlflow", tags={"team": "ml"},
    response_format={"type": "object", "properties": {"label": {"type": "string"}}},
    model_config={"model_name": "gpt-4o-mini", "temperature": 0.3},
)
mlflow.genai.register_prompt(name="ml-chat", template="Plain {{q}}", commit_message="text now")
mlflow.genai.set_prompt_alias("ml-chat", alias="champion", version=1)
print(json.dumps({"done": True}))
"""


def test_mlflow_prompts_load_in_wayline(
    wayline_on: str, mlflow_python: str, tmp_path: Path
) -> None:
    assert run_mlflow(mlflow_python, REGISTER_IN_MLFLOW, wayline_on, tmp_path) == {"done": True}

    champion = genai.load_prompt("prompts:/ml-chat@champion")
    assert champion is not None
    assert champion.version == 1
    assert champion.prompt_type == "chat"
    assert champion.commit_message == "from mlflow"
    assert champion.tags == {"team": "ml"}
    assert champion.aliases == ["champion"]
    assert champion.response_format == {
        "type": "object",
        "properties": {"label": {"type": "string"}},
    }
    assert champion.model_config == {"model_name": "gpt-4o-mini", "temperature": 0.3}
    assert champion.format(tone="brief", q="Hi?") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi?"},
    ]
    latest = genai.load_prompt("ml-chat")
    assert latest is not None
    assert (latest.version, latest.template) == (2, "Plain {{q}}")
    found = genai.get_prompt("ml-chat")
    assert found is not None and found.tags["team"] == "ml"
    assert [p.name for p in genai.search_prompts("name = 'ml-chat'")] == ["ml-chat"]
