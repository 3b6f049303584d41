"""`wayline prompts list|show|register|alias` on a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from wayline.cli.main import cli
from wayline.genai.registry import PromptRegistry, registry_store
from wayline.tracking.client import Client


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'prompts.db'}"


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


def as_json(*args: str) -> Any:
    return json.loads(run(*args, "--json").output)


def test_register_text_prompt_and_new_versions(store_uri: str) -> None:
    out = run(
        "prompts",
        "register",
        "qa",
        "--template",
        "Answer {{question}} briefly.",
        "-m",
        "first",
        "--tag",
        "team=search",
        "--tracking-uri",
        store_uri,
    ).output
    assert "prompts:/qa/1" in out
    second = as_json(
        "prompts",
        "register",
        "qa",
        "--template",
        "Answer {{ question }}.",
        "--tracking-uri",
        store_uri,
    )
    assert second["version"] == 2
    assert second["variables"] == ["question"]
    assert second["prompt_type"] == "text"

    loaded = PromptRegistry(Client(store_uri).store).load("prompts:/qa/1")
    assert loaded is not None
    assert (loaded.template, loaded.commit_message) == ("Answer {{question}} briefly.", "first")
    assert loaded.tags == {"team": "search"}


def test_register_chat_prompt_from_a_file(store_uri: str, tmp_path: Path) -> None:
    messages = [
        {"role": "system", "content": "You are [bold]{{style}}[/bold]."},
        {"role": "user", "content": "{{question}}"},
    ]
    path = tmp_path / "assistant.json"
    path.write_text(json.dumps(messages))
    created = as_json(
        "prompts",
        "register",
        "assistant",
        "--file",
        str(path),
        "--model-config",
        '{"model_name": "gpt-4o", "temperature": 0.1}',
        "--tracking-uri",
        store_uri,
    )
    assert created["prompt_type"] == "chat"
    assert created["template"] == messages
    assert created["model_config"] == {"model_name": "gpt-4o", "temperature": 0.1}

    shown = run("prompts", "show", "assistant", "--tracking-uri", store_uri).output
    assert "[bold]{{style}}[/bold]" in shown  # user text is printed, not read as markup
    assert "[user] {{question}}" in shown
    assert "question, style" in shown

    as_text = as_json(
        "prompts",
        "register",
        "literal",
        "--file",
        str(path),
        "--type",
        "text",
        "--tracking-uri",
        store_uri,
    )
    assert as_text["prompt_type"] == "text"


def test_show_by_uri_version_and_alias(store_uri: str) -> None:
    for text in ("one {{x}}", "two {{x}}"):
        run("prompts", "register", "p", "--template", text, "--tracking-uri", store_uri)
    assert as_json("prompts", "show", "p", "--tracking-uri", store_uri)["version"] == 2
    first = as_json("prompts", "show", "p", "--version", "1", "--tracking-uri", store_uri)
    assert first["template"] == "one {{x}}"
    by_uri = as_json("prompts", "show", "prompts:/p/1", "--tracking-uri", store_uri)
    assert by_uri["uri"] == "prompts:/p/1"

    out = run("prompts", "alias", "p", "production", "1", "--tracking-uri", store_uri).output
    assert "prompts:/p@production now loads version 1" in out
    aliased = as_json("prompts", "show", "prompts:/p@production", "--tracking-uri", store_uri)
    assert (aliased["version"], aliased["aliases"]) == (1, ["production"])
    moved = as_json("prompts", "alias", "p", "production", "2", "--tracking-uri", store_uri)
    assert moved == {"name": "p", "alias": "production", "before": 1, "after": 2}

    run("prompts", "alias", "p", "production", "--delete", "--tracking-uri", store_uri)
    gone = run("prompts", "show", "prompts:/p@production", "--tracking-uri", store_uri, code=1)
    assert "production" in gone.output
    again = run(
        "prompts", "alias", "p", "production", "--delete", "--tracking-uri", store_uri, code=1
    )
    assert "has no alias" in again.output


def test_list_prompts(store_uri: str) -> None:
    assert "No prompts yet" in run("prompts", "list", "--tracking-uri", store_uri).output
    run("prompts", "register", "qa-a", "--template", "a", "--tracking-uri", store_uri)
    run(
        "prompts",
        "register",
        "qa-b",
        "--template",
        "b",
        "--tag",
        "t=1",
        "--tracking-uri",
        store_uri,
    )
    run("prompts", "register", "zz", "--template", "c", "--tracking-uri", store_uri)
    run("prompts", "alias", "qa-b", "prod", "1", "--tracking-uri", store_uri)
    registry_store(Client(store_uri).store).create_registered_model("a-model")

    table = run("prompts", "list", "--tracking-uri", store_uri).output
    assert "qa-a" in table and "zz" in table and "a-model" not in table
    found = as_json("prompts", "list", "--filter", "name LIKE 'qa%'", "--tracking-uri", store_uri)
    assert [p["name"] for p in found["prompts"]] == ["qa-a", "qa-b"]
    assert found["prompts"][1]["aliases"] == {"prod": 1}
    assert found["prompts"][1]["tags"] == {"t": "1"}
    assert found["prompts"][1]["latest_version"] == 1
    limited = as_json("prompts", "list", "--max-results", "1", "--tracking-uri", store_uri)
    assert len(limited["prompts"]) == 1


def test_errors_say_what_to_do(store_uri: str, tmp_path: Path) -> None:
    neither = run("prompts", "register", "x", "--tracking-uri", store_uri, code=2)
    assert "exactly one of --template and --file" in neither.output
    path = tmp_path / "t.txt"
    path.write_text("hi")
    both = run("prompts", "register", "x", "--template", "a", "--file", str(path), code=2)
    assert "exactly one" in both.output
    bad_tag = run("prompts", "register", "x", "--template", "a", "--tag", "novalue", code=2)
    assert "KEY=VALUE" in bad_tag.output
    bad_name = run(
        "prompts", "register", "bad name", "--template", "a", "--tracking-uri", store_uri, code=1
    )
    assert "alphanumeric" in bad_name.output
    bad_chat = run(
        "prompts",
        "register",
        "c",
        "--template",
        "not json",
        "--type",
        "chat",
        "--tracking-uri",
        store_uri,
        code=1,
    )
    assert "JSON list of messages" in bad_chat.output
    bad_config = run(
        "prompts",
        "register",
        "c",
        "--template",
        "a",
        "--model-config",
        "[1]",
        "--tracking-uri",
        store_uri,
        code=1,
    )
    assert "JSON object" in bad_config.output

    missing = run("prompts", "show", "nothing", "--tracking-uri", store_uri, code=1).output
    assert "Prompt with name=nothing not found" in missing
    no_prompt = run("prompts", "alias", "nothing", "a", "1", "--tracking-uri", store_uri, code=1)
    assert "wayline prompts list" in no_prompt.output
    run("prompts", "register", "p", "--template", "a", "--tracking-uri", store_uri)
    no_version = run("prompts", "alias", "p", "a", "7", "--tracking-uri", store_uri, code=1)
    assert "RESOURCE_DOES_NOT_EXIST" in no_version.output
