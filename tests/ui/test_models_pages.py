"""The model registry's pages (``/models``, a model, a version) against a live seeded server:
over HTTP (status, escaping, URL state, forms, the audit trail) and in headless Chromium (aliases,
stages, tags and descriptions changed by clicking)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from markupsafe import escape
from playwright.sync_api import Page, expect

from servers import live_server
from wayline.entities.registry import ModelVersionTag, RegisteredModelTag
from wayline.genai import PromptRegistry
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore

from ._seed import IMG, SCRIPT

START = 1_700_000_000_000
BULK_MODELS = 60
HOSTILE = IMG  # a model name may hold no '/' or ':', so the payload without a closing tag
Shoot = Callable[[Page, str], Path]


@dataclass(frozen=True)
class Registry:
    url: str
    experiment_id: str
    run_id: str
    model_id: str


def _write(folder: str, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        target = Path(folder) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def seed(store: SqlStore) -> tuple[str, str, str]:
    """``churn`` (three versions: a run's folder, a logged model, a ``runs:/`` URI), a hostile
    model, 60 ``bulk-NN`` models and one prompt; returns (experiment, run, logged model) ids."""
    experiment_id = store.create_experiment("registry-exp")
    run = store.create_run(experiment_id, "tester", START, [], "trainer")
    run_id = run.info.run_id
    _write(
        run.info.artifact_uri,
        {"model/MLmodel": b"flavors: {}\n", "model/data/weights.bin": b"\x00\x01"},
    )
    logged = store.create_logged_model(experiment_id, "clf", run_id)
    _write(logged.artifact_uri, {"MLmodel": b"logged: true\n"})

    store.create_registered_model(
        "churn", [RegisteredModelTag("team", "risk")], "# Churn model\nPredicts **churn**."
    )
    store.create_model_version("churn", f"{run.info.artifact_uri}/model", run_id)
    store.create_model_version("churn", f"models:/{logged.model_id}", model_id=logged.model_id)
    store.create_model_version("churn", f"runs:/{run_id}/model", run_id, description="third")
    store.set_registered_model_alias("churn", "champion", 1)
    store.transition_model_version_stage("churn", 1, "Staging")

    store.create_registered_model(
        HOSTILE,
        [RegisteredModelTag("note", SCRIPT)],
        f"# Notes\n{SCRIPT}\n[click](javascript:alert(1))",
    )
    store.create_model_version(
        HOSTILE,
        f"{run.info.artifact_uri}/model",
        run_id,
        tags=[ModelVersionTag("payload", IMG)],
        description=SCRIPT,
    )
    for i in range(BULK_MODELS):
        store.create_registered_model(f"bulk-{i:02d}")
    PromptRegistry(store).register("greeting-prompt", "Hello {{name}}", commit_message="first")
    return experiment_id, run_id, logged.model_id


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    folder = tmp_path_factory.mktemp("models-ui")
    uri = f"sqlite:///{folder / 'ui.db'}"
    artifacts = str(folder / "artifacts")
    store = SqlStore(uri, artifacts)
    try:
        experiment_id, run_id, model_id = seed(store)
    finally:
        store.close()
    settings = ServerSettings(
        backend_store_uri=uri,
        default_artifact_root=artifacts,
        artifacts_destination=str(folder / "proxy"),
    )
    with live_server(create_app(settings)) as url:
        yield Registry(url, experiment_id, run_id, model_id)


@pytest.fixture(scope="module")
def http(registry: Registry) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry.url, follow_redirects=False) as client:
        yield client


def model_names(text: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'class="row-link">([^<]*)</a>', text)]


def hostile_url() -> str:
    return "/models/" + quote(HOSTILE, safe="")


# ---------------------------------------------------------------------------- over HTTP
def test_the_list_pages_sorts_and_leaves_prompts_out(http: httpx.Client) -> None:
    first = http.get("/models")
    assert first.status_code == 200
    assert "script-src 'self'" in first.headers["content-security-policy"]
    names = model_names(first.text)
    assert len(names) == 50
    assert names == sorted(names)
    assert "greeting-prompt" not in first.text
    following = re.search(r'href="([^"]*)" rel="next"', first.text)
    assert following is not None
    second = http.get("/models" + html.unescape(following.group(1)))
    rest = model_names(second.text)
    assert len(names) + len(rest) == BULK_MODELS + 2
    assert 'rel="prev"' in second.text
    backwards = model_names(http.get("/models?sort=name&dir=desc").text)
    assert backwards[0] == "churn"


def test_search_takes_a_name_or_the_registry_filter_grammar(http: httpx.Client) -> None:
    assert model_names(http.get("/models", params={"q": "chur"}).text) == ["churn"]
    by_tag = http.get("/models", params={"q": "tags.team = 'risk'"})
    assert model_names(by_tag.text) == ["churn"]
    # Asking for prompts by their tag still finds no prompt on the models page.
    asked = http.get("/models", params={"q": "tags.`mlflow.prompt.is_prompt` = 'true'"})
    assert model_names(asked.text) == []
    bad = http.get("/models", params={"q": "name LIKE"})
    assert bad.status_code == 400
    assert 'data-testid="error"' in bad.text


def test_the_model_page_shows_versions_lineage_aliases_and_history(
    http: httpx.Client, registry: Registry
) -> None:
    page = http.get("/models/churn")
    assert page.status_code == 200
    text = page.text
    assert "<strong>churn</strong>" in text  # the description's Markdown
    assert f'href="/experiments/{registry.experiment_id}/runs/{registry.run_id}"' in text
    assert "@champion" in text
    assert text.count('class="row-link">v') == 3
    assert "registered_model.created" in text
    assert "model_version.stage_transitioned" in text
    assert "alias.set" in text
    assert http.get("/models/no-such-model").status_code == 404


def test_the_version_page_links_the_run_the_logged_model_and_the_files(
    http: httpx.Client, registry: Registry
) -> None:
    first = http.get("/models/churn/versions/1").text
    assert f'href="/experiments/{registry.experiment_id}/runs/{registry.run_id}"' in first
    link = "/model-versions/get-artifact?name=churn&amp;version=1&amp;path=MLmodel"
    assert link in first
    assert "data/weights.bin" in first
    served = http.get(html.unescape(link))
    assert served.status_code == 200
    assert served.text == "flavors: {}\n"
    second = http.get("/models/churn/versions/2").text
    assert registry.model_id in second
    assert ">clf<" in second
    assert (
        "logged: true"
        in http.get("/model-versions/get-artifact?name=churn&version=2&path=MLmodel").text
    )
    assert http.get("/models/churn/versions/9").status_code == 404
    assert http.get("/models/churn/versions/x").status_code == 400


def test_hostile_names_descriptions_and_tags_render_as_text(http: httpx.Client) -> None:
    for path in (hostile_url(), hostile_url() + "/versions/1", "/models?q=img"):
        text = http.get(path).text
        assert SCRIPT not in text
        assert "<img src=x" not in text
        assert 'href="javascript:' not in text
        assert str(escape(HOSTILE)) in text
    model_page = http.get(hostile_url()).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in model_page
    assert "<h1>Notes</h1>" in model_page  # the description is rendered Markdown


def test_model_forms_change_aliases_tags_and_the_description(http: httpx.Client) -> None:
    model = "/models/bulk-00"
    moved = http.post("/models/churn/aliases/set", data={"alias": "candidate", "version": "3"})
    assert moved.status_code == 303
    assert moved.headers["location"] == "/models/churn"
    assert "@candidate" in http.get("/models/churn").text
    http.post("/models/churn/aliases/delete", data={"alias": "candidate"})
    assert "@candidate" not in http.get("/models/churn").text
    reserved = http.post("/models/churn/aliases/set", data={"alias": "latest", "version": "1"})
    assert reserved.status_code == 400
    assert "reserved" in reserved.text
    assert 'action="/models/churn/aliases/set"' in reserved.text  # the model page again
    hostile = http.post("/models/churn/aliases/set", data={"alias": SCRIPT, "version": "1"})
    assert hostile.status_code == 400
    assert SCRIPT not in hostile.text

    tagged = http.post(f"{model}/tags/set", data={"key": "owner", "value": IMG, "return_to": model})
    assert tagged.headers["location"] == model
    assert str(escape(IMG)) in http.get(model).text
    http.post(f"{model}/tags/delete", data={"key": "owner"})
    assert '<td class="mono">owner</td>' not in http.get(model).text
    described = http.post(
        f"{model}/description",
        data={"description": "Now *described*", "return_to": "//evil.example"},
    )
    assert described.headers["location"] == model  # never off this server
    assert "<em>described</em>" in http.get(model).text


def test_version_forms_transition_stages_and_change_tags(http: httpx.Client) -> None:
    url = "/models/churn/versions/2"
    moved = http.post(f"{url}/stage", data={"stage": "Staging", "archive_existing": "on"})
    assert moved.status_code == 303
    assert 'data-testid="stage">Staging<' in http.get(url).text
    assert 'data-testid="stage">Archived<' in http.get("/models/churn/versions/1").text
    bad = http.post(f"{url}/stage", data={"stage": "Heaven"})
    assert bad.status_code == 400
    assert "Invalid Model Version stage" in bad.text
    http.post(f"{url}/tags/set", data={"key": "reviewed", "value": "yes"})
    assert '<td class="mono">reviewed</td>' in http.get(url).text
    http.post(f"{url}/tags/delete", data={"key": "reviewed"})
    assert '<td class="mono">reviewed</td>' not in http.get(url).text
    http.post(f"{url}/description", data={"description": "second **version**"})
    assert "<strong>version</strong>" in http.get(url).text
    history = http.get(url).text
    assert "model_version_tag.set" in history
    assert "model_version_tag.deleted" in history


def test_prompts_and_cross_site_posts_are_refused(http: httpx.Client) -> None:
    assert http.get("/models/greeting-prompt").status_code == 404
    refused = http.post("/models/greeting-prompt/tags/set", data={"key": "a", "value": "b"})
    assert refused.status_code >= 400
    foreign = http.post(
        "/models/churn/aliases/set",
        data={"alias": "csrf", "version": "1"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert "@csrf" not in http.get("/models/churn").text


# ---------------------------------------------------------------------------- in Chromium
@pytest.mark.ui
def test_browse_from_the_list_to_a_version(page: Page, registry: Registry, shoot: Shoot) -> None:
    page.goto(registry.url + "/models")
    expect(page.locator("#models")).to_contain_text("bulk-00")
    shoot(page, "models")
    page.fill("#model-search", "churn")
    page.press("#model-search", "Enter")
    expect(page.locator("#models tbody tr")).to_have_count(1)
    assert "q=churn" in page.url
    page.click("#models a.row-link")
    expect(page.locator("main > h1")).to_have_text("churn")
    shoot(page, "model")
    page.click("#versions a.row-link >> text=v1")
    expect(page.get_by_test_id("run-link")).to_have_text("trainer")
    shoot(page, "model-version")
    page.go_back()
    expect(page.locator("main > h1")).to_have_text("churn")
    page.go_back()
    expect(page.locator("#models tbody tr")).to_have_count(1)


@pytest.mark.ui
def test_alias_set_and_delete_by_clicking(page: Page, registry: Registry, shoot: Shoot) -> None:
    page.goto(registry.url + "/models/churn/versions/3")
    page.fill("#alias-name", "clicked")
    page.click("#set-alias button")
    expect(page.get_by_test_id("version-aliases")).to_contain_text("@clicked")
    shoot(page, "model-version-alias")
    page.goto(registry.url + "/models/churn")
    row = page.locator("#aliases tbody tr", has_text="@clicked")
    expect(row).to_contain_text("v3")
    row.locator("button", has_text="Delete").click()
    expect(page.locator("body")).not_to_contain_text("@clicked")
    page.fill("#alias-name", "latest")
    page.click("#set-alias button")
    expect(page.get_by_test_id("error")).to_contain_text("reserved")


@pytest.mark.ui
def test_stage_transition_by_clicking(page: Page, registry: Registry, shoot: Shoot) -> None:
    page.goto(registry.url + "/models/churn/versions/3")
    page.select_option("#stage-select", "Production")
    page.check("#archive-existing")
    page.click("#transition-stage button")
    expect(page.get_by_test_id("stage")).to_have_text("Production")
    shoot(page, "model-version-production")
    page.goto(registry.url + "/models/churn")
    expect(page.locator("#history-table")).to_contain_text("model_version.stage_transitioned")


@pytest.mark.ui
def test_tag_and_description_edits_by_clicking(
    page: Page, registry: Registry, shoot: Shoot
) -> None:
    page.goto(registry.url + "/models/bulk-01")
    page.fill("#tag-key", "stage-owner")
    page.fill("#tag-value", SCRIPT)
    page.click("#set-tag button")
    expect(page.locator("#tags")).to_contain_text(SCRIPT)
    page.locator("#tags tr", has_text="stage-owner").locator("button").click()
    expect(page.locator("#tags")).to_have_count(0)
    page.click("#edit-description summary")
    page.fill("#description-text", "Edited in the **browser**")
    page.click("#edit-description button")
    expect(page.get_by_test_id("description").locator("strong")).to_have_text("browser")
    shoot(page, "model-edited")


@pytest.mark.ui
def test_hostile_pages_stay_inert_in_dark_mode(
    page: Page, registry: Registry, shoot: Shoot
) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(registry.url + hostile_url())
    expect(page.locator("main > h1")).to_have_text(HOSTILE)
    expect(page.get_by_test_id("description")).to_contain_text(SCRIPT)
    assert page.locator("img").count() == 0
    shoot(page, "model-hostile-dark")
    page.goto(registry.url + hostile_url() + "/versions/1")
    expect(page.locator("#tags")).to_contain_text(IMG)
    shoot(page, "model-version-hostile-dark")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 25)"
