"""The prompt registry (``wayline.genai``) on a real SQLite store, through the fluent functions."""

from __future__ import annotations

import json
from typing import Any

import pytest

import wayline
from wayline import genai
from wayline.entities.prompt import PromptVersion
from wayline.entities.registry import ModelVersionTag, RegisteredModelTag
from wayline.errors import InvalidParameter, NotFound
from wayline.genai.registry import PromptRegistry, linked_prompts_value, parse_prompt_uri
from wayline.store.backend import Store
from wayline.tracking.client import Client


@pytest.fixture
def db(fluent_db: str) -> str:
    """The fluent API on a fresh SQLite database (tests/conftest.py)."""
    return fluent_db


def store(db: str) -> Store:
    found = Client(db).store
    assert isinstance(found, Store)
    return found


def test_register_text_prompt_is_stored_as_mlflow_stores_it(db: str) -> None:
    created = genai.register_prompt(
        "qa-prompt", "Answer {{question}} briefly.", commit_message="first", tags={"team": "x"}
    )
    assert created.name == "qa-prompt"
    assert created.version == 1
    assert created.uri == "prompts:/qa-prompt/1"
    assert created.prompt_type == "text"
    assert created.template == "Answer {{question}} briefly."
    assert created.variables == {"question"}
    assert created.commit_message == "first"
    assert created.tags == {"team": "x"}
    assert created.creation_timestamp > 0

    model = store(db).get_registered_model("qa-prompt")
    assert model.tags["mlflow.prompt.is_prompt"] == "true"
    assert model.tags["team"] == "x"
    assert model.tags["_mlflow_experiment_ids"] == ",0,"
    assert model.description == "first"
    version = store(db).get_model_version("qa-prompt", 1)
    assert version.source == "dummy-source"
    assert version.description == "first"
    assert version.tags == {
        "team": "x",
        "mlflow.prompt.is_prompt": "true",
        "_mlflow_prompt_type": "text",
        "mlflow.prompt.text": "Answer {{question}} briefly.",
    }


def test_versions_increase_and_load_by_version_alias_and_latest(db: str) -> None:
    genai.register_prompt("greet", "Hello {{name}}", commit_message="v1")
    second = genai.register_prompt("greet", "Hi {{ name }}!", commit_message="v2")
    assert second.version == 2

    by_uri = genai.load_prompt("prompts:/greet/1")
    assert by_uri is not None and by_uri.template == "Hello {{name}}"
    by_name = genai.load_prompt("greet", version=2)
    assert by_name is not None and by_name.commit_message == "v2"
    latest = genai.load_prompt("prompts:/greet@latest")
    assert latest is not None and latest.version == 2
    bare = genai.load_prompt("greet")
    assert bare is not None and bare.version == 2

    genai.set_prompt_alias("greet", alias="production", version=1)
    aliased = genai.load_prompt("prompts:/greet@production")
    assert aliased is not None
    assert (aliased.version, aliased.aliases) == (1, ["production"])
    genai.set_prompt_alias("greet", alias="production", version=2)  # moves it
    moved = genai.load_prompt("prompts:/greet@production")
    assert moved is not None and moved.version == 2
    prompt = genai.get_prompt("greet")
    assert prompt is not None
    assert (prompt.aliases, prompt.latest_version) == ({"production": 2}, 2)

    genai.delete_prompt_alias("greet", "production")
    with pytest.raises(InvalidParameter, match="production"):
        genai.load_prompt("prompts:/greet@production")
    assert genai.load_prompt("prompts:/greet@production", allow_missing=True) is None
    with pytest.raises(NotFound, match="version=9"):
        genai.set_prompt_alias("greet", alias="production", version=9)


def test_missing_prompts_and_versions(db: str) -> None:
    with pytest.raises(NotFound) as caught:
        genai.load_prompt("prompts:/nothing/1")
    assert "Prompt" in caught.value.message and "Registered Model" not in caught.value.message
    assert genai.load_prompt("nothing", allow_missing=True) is None
    genai.register_prompt("one", "x")
    with pytest.raises(NotFound):
        genai.load_prompt("one", version=5)
    assert genai.load_prompt("prompts:/one/5", allow_missing=True) is None
    assert genai.get_prompt("nothing") is None


def test_chat_prompt_round_trip_and_format(db: str) -> None:
    messages = [
        {"role": "system", "content": "You are a {{ style }} assistant."},
        {"role": "user", "content": "{{question}}"},
    ]
    created = genai.register_prompt("assistant", messages)
    assert created.prompt_type == "chat"
    assert created.variables == {"style", "question"}
    stored = store(db).get_model_version("assistant", 1).tags
    assert stored["_mlflow_prompt_type"] == "chat"
    assert json.loads(stored["mlflow.prompt.text"]) == messages

    loaded = genai.load_prompt("prompts:/assistant/1")
    assert loaded is not None and loaded.template == messages
    assert loaded.format(style="terse", question="Why?") == [
        {"role": "system", "content": "You are a terse assistant."},
        {"role": "user", "content": "Why?"},
    ]


def test_format_missing_variables_partial_and_paths(db: str) -> None:
    prompt = genai.register_prompt("fmt", "{{greeting}}, {{ user.name }}! Say {{ word }}.")
    with pytest.raises(InvalidParameter, match=r"user\.name, word") as caught:
        prompt.format(greeting="Hi")
    assert "allow_partial=True" in caught.value.message

    half = prompt.format(greeting="Hi", allow_partial=True)
    assert isinstance(half, PromptVersion)
    assert half.template == "Hi, {{ user.name }}! Say {{ word }}."
    assert half.variables == {"user.name", "word"}
    # A dotted variable takes a literal key or walks a mapping; inserted text is never re-read.
    literal: dict[str, Any] = {"user.name": "Ana", "word": "{{ greeting }}"}
    assert half.format(**literal) == "Hi, Ana! Say {{ greeting }}."
    assert half.format(user={"name": "Bo"}, word="yes") == "Hi, Bo! Say yes."
    assert prompt.to_single_brace_format() == "{greeting}, {user.name}! Say {word}."


def test_jinja_templates_render(db: str) -> None:
    prompt = genai.register_prompt(
        "jinja", "Hello {% if name %}{{ name }}{% else %}guest{% endif %}"
    )
    assert prompt.format(name="Ana") == "Hello Ana"
    assert prompt.format() == "Hello guest"


def test_response_format_and_model_config(db: str) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}}
    created = genai.register_prompt(
        "structured",
        "Q: {{q}}",
        response_format=schema,
        model_config={"model_name": "gpt-4o", "temperature": 0.2, "extra_params": {"seed": 3}},
    )
    assert created.response_format == schema
    assert created.model_config == {"model_name": "gpt-4o", "temperature": 0.2, "seed": 3}
    assert created.tags == {}  # the storage tags are not the version's tags
    loaded = genai.load_prompt("structured", version=1)
    assert loaded is not None and loaded.model_config == created.model_config

    with pytest.raises(InvalidParameter, match="temperature"):
        genai.register_prompt("bad-config", "x", model_config={"temperature": -1})
    assert genai.get_prompt("bad-config") is None  # refused before anything was written


def test_search_keeps_prompts_and_models_apart(db: str) -> None:
    registry = store(db)
    registry.create_registered_model("classifier", tags=[RegisteredModelTag("team", "x")])
    genai.register_prompt("qa-short", "a", tags={"team": "x"})
    genai.register_prompt("qa-long", "b")
    genai.register_prompt("other", "c")

    assert sorted(p.name for p in genai.search_prompts()) == ["other", "qa-long", "qa-short"]
    assert sorted(p.name for p in genai.search_prompts("name LIKE 'qa%'")) == [
        "qa-long",
        "qa-short",
    ]
    assert [p.name for p in genai.search_prompts("tags.team = 'x'")] == ["qa-short"]
    assert len(genai.search_prompts(max_results=2)) == 2
    assert [p.name for p in genai.search_prompts("experiment_id = '0'")] == [
        "other",
        "qa-long",
        "qa-short",
    ]
    assert genai.search_prompts("experiment_id = '7'") == []
    [found] = genai.search_prompts("name = 'qa-short'")
    assert "mlflow.prompt.is_prompt" not in found.tags
    assert found.latest_version == 1

    assert [m.name for m in registry.search_registered_models()] == ["classifier"]
    assert [m.name for m in registry.search_model_versions()] == []


def test_prompts_and_models_do_not_share_names(db: str) -> None:
    registry = store(db)
    registry.create_registered_model("shared")
    with pytest.raises(InvalidParameter, match="same name"):
        genai.register_prompt("shared", "x")
    with pytest.raises(InvalidParameter, match="not a prompt"):
        genai.load_prompt("shared", version=1)
    with pytest.raises(InvalidParameter, match="not a prompt"):
        genai.delete_prompt("shared")
    assert registry.get_registered_model("shared").name == "shared"  # untouched
    with pytest.raises(InvalidParameter, match="alphanumeric"):
        genai.register_prompt("bad name!", "x")
    with pytest.raises(InvalidParameter, match="chat template"):
        genai.register_prompt("bad-chat", [{"content": "no role"}])


def test_loading_or_registering_in_a_run_links_it(db: str) -> None:
    genai.register_prompt("linked", "one")
    genai.register_prompt("linked", "two")
    with wayline.start_run() as run:
        genai.load_prompt("prompts:/linked/1")
        genai.load_prompt("prompts:/linked/1")  # no duplicate
        genai.load_prompt("linked")
        genai.register_prompt("fresh", "three")
    tag = wayline.get_run(run.info.run_id).data.tags["mlflow.linkedPrompts"]
    assert json.loads(tag) == [
        {"name": "linked", "version": "1"},
        {"name": "linked", "version": "2"},
        {"name": "fresh", "version": "1"},
    ]


def test_loading_inside_a_trace_links_it_and_search_finds_it(db: str) -> None:
    genai.register_prompt("traced", "one")
    genai.register_prompt("traced", "two")

    @wayline.trace
    def answer() -> str:
        genai.load_prompt("prompts:/traced/1")
        genai.load_prompt("prompts:/traced/1")  # no duplicate
        prompt = genai.load_prompt("traced")
        assert prompt is not None
        return str(prompt.template)

    answer()
    trace_id = wayline.get_last_active_trace_id()
    assert trace_id is not None
    genai.load_prompt("traced")  # outside the trace: no link, no error
    trace = wayline.get_trace(trace_id)
    assert trace is not None
    assert json.loads(trace.info.tags["mlflow.linkedPrompts"]) == [
        {"name": "traced", "version": "1"},
        {"name": "traced", "version": "2"},
    ]
    found = wayline.search_traces(filter_string="trace.prompt = 'traced/2'", return_type="list")
    assert [t.info.trace_id for t in found] == [trace_id]
    assert wayline.search_traces(filter_string="trace.prompt = 'x/1'", return_type="list") == []


def test_load_links_the_active_experiment_and_model(db: str) -> None:
    genai.register_prompt("exp", "x")
    experiment = wayline.set_experiment("prompt-work")
    model = wayline.set_active_model(name="agent")
    genai.load_prompt("exp")
    tags = store(db).get_registered_model("exp").tags
    assert tags["_mlflow_experiment_ids"] == f",0,{experiment.experiment_id},"
    linked = store(db).get_logged_model(model.model_id).tags["mlflow.linkedPrompts"]
    assert json.loads(linked) == [{"name": "exp", "version": "1"}]


def test_tags_on_prompts_and_versions(db: str) -> None:
    genai.register_prompt("tagged", "x", tags={"author": "ana"})
    genai.register_prompt("tagged", "y", tags={"author": "bo"})
    prompt = genai.get_prompt("tagged")
    assert prompt is not None and prompt.tags["author"] == "bo"  # later versions overwrite

    genai.set_prompt_tag("tagged", "owner", "search")
    genai.delete_prompt_tag("tagged", "author")
    prompt = genai.get_prompt("tagged")
    assert prompt is not None
    assert prompt.tags == {"owner": "search", "_mlflow_experiment_ids": ",0,"}

    genai.set_prompt_version_tag("tagged", 1, "reviewed", "yes")
    first = genai.load_prompt("tagged", version=1)
    assert first is not None and first.tags == {"author": "ana", "reviewed": "yes"}
    genai.delete_prompt_version_tag("tagged", "1", "reviewed")
    first = genai.load_prompt("tagged", version=1)
    assert first is not None and first.tags == {"author": "ana"}


def test_delete_versions_and_prompts(db: str) -> None:
    for text in ("a", "b", "c"):
        genai.register_prompt("gone", text)
    genai.set_prompt_alias("gone", "stable", 2)
    genai.delete_prompt_version("gone", 2)
    assert [v.version for v in genai.search_prompt_versions("gone")] == [3, 1]
    prompt = genai.get_prompt("gone")
    assert prompt is not None and prompt.aliases == {}
    assert genai.register_prompt("gone", "d").version == 4  # numbers are never reused
    genai.delete_prompt("gone")
    assert genai.get_prompt("gone") is None
    with pytest.raises(NotFound):
        genai.delete_prompt("gone")


def test_prompt_registry_on_an_explicit_store(db: str) -> None:
    """``PromptRegistry`` does not touch the fluent context (the CLI uses it)."""
    registry = PromptRegistry(Client(db).store)
    registry.register("plain", "x")
    assert "_mlflow_experiment_ids" not in store(db).get_registered_model("plain").tags
    loaded = registry.load("prompts:/plain/1")
    assert loaded is not None and loaded.template == "x"
    registry.store.set_model_version_tag("plain", 1, ModelVersionTag("k", "v"))
    assert [v.tags for v in registry.versions("plain")] == [{"k": "v"}]


def test_parse_prompt_uri() -> None:
    assert parse_prompt_uri("prompts:/qa/3") == ("qa", 3)
    assert parse_prompt_uri("prompts:/qa@prod") == ("qa", "prod")
    assert parse_prompt_uri("prompts:/qa@latest") == ("qa", "latest")
    assert parse_prompt_uri("prompts:/qa") == ("qa", "latest")
    assert parse_prompt_uri("qa") == ("qa", "latest")
    assert parse_prompt_uri("qa", "2") == ("qa", 2)
    with pytest.raises(InvalidParameter, match="version"):
        parse_prompt_uri("prompts:/qa/1", version=1)
    with pytest.raises(InvalidParameter, match="positive integer"):
        parse_prompt_uri("prompts:/qa/abc")
    with pytest.raises(InvalidParameter, match="prompts:/<name>"):
        parse_prompt_uri("prompts:/@x")


def test_linked_prompts_value() -> None:
    one = PromptVersion("a", 1, "x")
    assert linked_prompts_value(None, [one, one]) == '[{"name": "a", "version": "1"}]'
    current = '[{"name": "a", "version": "1"}]'
    assert linked_prompts_value(current, [one]) is current
    with pytest.raises(InvalidParameter, match="JSON list"):
        linked_prompts_value("{oops", [one])


def test_wayline_genai_loads_lazily() -> None:
    assert wayline.genai.register_prompt is genai.register_prompt


def test_model_config_can_change_after_registration(db: str) -> None:
    genai.register_prompt("cfg", "x", tags={"owner": "ana"})
    genai.set_prompt_model_config("cfg", 1, {"model_name": "gpt-4o", "max_tokens": 100})
    loaded = genai.load_prompt("cfg", version=1)
    assert loaded is not None and loaded.model_config == {"model_name": "gpt-4o", "max_tokens": 100}
    with pytest.raises(InvalidParameter, match="max_tokens"):
        genai.set_prompt_model_config("cfg", 1, {"max_tokens": 0})
    genai.delete_prompt_model_config("cfg", 1)
    loaded = genai.load_prompt("cfg", version=1, cache_ttl_seconds=0)
    assert loaded is not None and loaded.model_config is None
    assert genai.get_prompt_tags("cfg")["owner"] == "ana"
    with pytest.raises(NotFound, match="nope"):
        genai.get_prompt_tags("nope")
    with pytest.raises(InvalidParameter, match="cache_ttl_seconds"):
        genai.load_prompt("cfg", cache_ttl_seconds=-1)


GENAI_PUBLIC = {
    "Prompt",
    "PromptRegistry",
    "PromptVersion",
    "delete_prompt",
    "delete_prompt_alias",
    "delete_prompt_model_config",
    "delete_prompt_tag",
    "delete_prompt_version",
    "delete_prompt_version_tag",
    "get_prompt",
    "get_prompt_tags",
    "load_prompt",
    "register_prompt",
    "search_prompt_versions",
    "search_prompts",
    "set_prompt_alias",
    "set_prompt_model_config",
    "set_prompt_tag",
    "set_prompt_version_tag",
}


def test_genai_public_names_are_curated_and_documented() -> None:
    assert set(genai.__all__) == GENAI_PUBLIC
    for name in genai.__all__:
        obj = getattr(genai, name)
        assert "Example::" in (obj.__doc__ or ""), f"wayline.genai.{name}"


def test_the_client_has_mlflow_client_prompt_methods(db: str) -> None:
    client = Client(db)
    first = client.register_prompt("greet", "Hello {{name}}!", commit_message="v1")
    client.register_prompt("greet", "Hi {{name}}!", commit_message="v2", tags={"lang": "en"})
    client.set_prompt_alias("greet", "production", first.version)

    production = client.load_prompt("prompts:/greet@production")
    assert production is not None
    assert production.format(name="Ada") == "Hello Ada!"
    latest = client.load_prompt("greet", version=2)
    assert latest is not None and latest.tags == {"lang": "en"}
    assert [p.name for p in client.search_prompts("name LIKE 'gr%'")] == ["greet"]
    assert [v.version for v in client.search_prompt_versions("greet")] == [2, 1]

    with wayline.start_run() as run:
        client.link_prompt_versions_to_run(run.info.run_id, [first, first])
    linked = Client(db).get_run(run.info.run_id).data.tags["mlflow.linkedPrompts"]
    assert json.loads(linked) == [{"name": "greet", "version": "1"}]

    client.delete_prompt_alias("greet", "production")
    assert client.load_prompt("prompts:/greet@production", allow_missing=True) is None
    client.delete_prompt_version("greet", 2)
    client.delete_prompt_version("greet", 1)
    client.delete_prompt("greet")
    assert client.get_prompt("greet") is None
