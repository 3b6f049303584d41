"""The prompt registry's pages (``/prompts``, a prompt, a diff of two versions) against a live
seeded server: over HTTP (paging, templates and messages, escaping, the diff, alias forms) and in
headless Chromium (choosing versions to compare, aliases changed by clicking)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from markupsafe import escape
from playwright.sync_api import Page, expect

from servers import live_server
from wayline.genai import PromptRegistry
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore
from wayline.ui.prompt_pages import line_diff

from ._seed import IMG, SCRIPT

BULK_PROMPTS = 55
Shoot = Callable[[Page, str], Path]

QA_V1 = "Answer the question.\nQuestion: {{question}}\nBe brief."
QA_V2 = "Answer the question.\nQuestion: {{question}}\nBe brief.\nCite sources."
QA_V3 = f"Answer the question politely.\nQuestion: {{{{question}}}}\n{SCRIPT}\nCite sources."


def seed(store: SqlStore) -> None:
    """``qa`` (three text versions), ``assistant`` (a chat prompt), 55 ``bulk-prompt-NN``
    prompts and one registered model that is not a prompt."""
    registry = PromptRegistry(store)
    registry.register("qa", QA_V1, commit_message="first", tags={"team": "search"})
    registry.register("qa", QA_V2, commit_message=f"cite {IMG}")
    registry.register("qa", QA_V3, commit_message=SCRIPT)
    registry.set_alias("qa", "production", 2)
    registry.register(
        "assistant",
        [
            {"role": "system", "content": f"You are a {{{{style}}}} assistant. {SCRIPT}"},
            {"role": "user", "content": "{{question}}"},
        ],
        commit_message="chat",
        model_config={"model_name": "gpt-4o", "temperature": 0.2},
    )
    for i in range(BULK_PROMPTS):
        registry.register(f"bulk-prompt-{i:02d}", f"Template {i}")
    store.create_registered_model("not-a-prompt")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("prompts-ui")
    uri = f"sqlite:///{folder / 'ui.db'}"
    artifacts = str(folder / "artifacts")
    store = SqlStore(uri, artifacts)
    try:
        seed(store)
    finally:
        store.close()
    settings = ServerSettings(
        backend_store_uri=uri,
        default_artifact_root=artifacts,
        artifacts_destination=str(folder / "proxy"),
    )
    with live_server(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, follow_redirects=False) as client:
        yield client


def prompt_names(text: str) -> list[str]:
    return [html.unescape(n) for n in re.findall(r'class="row-link">([^<]*)</a>', text)]


def diff_rows(text: str) -> list[tuple[str, str]]:
    """(kind, line text) of each diff row."""
    rows = re.findall(
        r'<tr class="(same|added|removed)">.*?<td class="text">(.*?)</td>', text, re.S
    )
    return [(kind, html.unescape(line)) for kind, line in rows]


# ---------------------------------------------------------------------------- the diff itself
def test_line_diff_marks_added_and_removed_lines_with_their_numbers() -> None:
    lines = line_diff("a\nb\nc", "a\nB\nc\nd")
    assert [(line.kind, line.old, line.new, line.text) for line in lines] == [
        ("same", 1, 1, "a"),
        ("removed", 2, None, "b"),
        ("added", None, 2, "B"),
        ("same", 3, 3, "c"),
        ("added", None, 4, "d"),
    ]
    assert all(line.kind == "same" for line in line_diff("x\ny", "x\ny"))


# ---------------------------------------------------------------------------- over HTTP
def test_the_list_pages_and_leaves_models_out(http: httpx.Client) -> None:
    first = http.get("/prompts")
    assert first.status_code == 200
    assert "script-src 'self'" in first.headers["content-security-policy"]
    names = prompt_names(first.text)
    assert len(names) == 50
    assert "not-a-prompt" not in first.text
    following = re.search(r'href="([^"]*)" rel="next"', first.text)
    assert following is not None
    rest = prompt_names(http.get("/prompts" + html.unescape(following.group(1))).text)
    assert len(names) + len(rest) == BULK_PROMPTS + 2
    assert prompt_names(http.get("/prompts", params={"q": "qa"}).text) == ["qa"]
    by_tag = http.get("/prompts", params={"q": "tags.team = 'search'"})
    assert prompt_names(by_tag.text) == ["qa"]
    updated = prompt_names(http.get("/prompts?sort=updated&dir=desc").text)
    assert "bulk-prompt-54" in updated[:3]
    bad = http.get("/prompts", params={"q": "name LIKE"})
    assert bad.status_code == 400


def test_a_text_prompt_shows_its_versions_template_and_aliases(http: httpx.Client) -> None:
    page = http.get("/prompts/qa")
    assert page.status_code == 200
    text = page.text
    assert str(escape(QA_V3)) in text  # the latest version, as text
    assert SCRIPT not in text
    assert "<img src=x" not in text
    assert text.count('class="row-link">v') == 3
    assert "@production" in text
    first = http.get("/prompts/qa?version=1").text
    assert str(escape(QA_V1)) in first
    assert 'data-testid="commit-message">first<' in first
    assert http.get("/prompts/qa?version=7").status_code == 404
    assert http.get("/prompts/not-a-prompt").status_code == 404
    assert http.get("/prompts/missing").status_code == 404


def test_a_chat_prompt_shows_its_messages(http: httpx.Client) -> None:
    text = http.get("/prompts/assistant").text
    roles = re.findall(r'<span class="role">([^<]*)</span>', text)
    assert roles == ["system", "user"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert SCRIPT not in text
    assert "gpt-4o" in text


def test_the_diff_of_two_versions(http: httpx.Client) -> None:
    page = http.get("/prompts/qa/diff", params={"a": "1", "b": "3"})
    assert page.status_code == 200
    rows = diff_rows(page.text)
    assert ("removed", "Answer the question.") in rows
    assert ("added", "Answer the question politely.") in rows
    assert ("added", SCRIPT) in rows
    assert ("same", "Question: {{question}}") in rows
    assert SCRIPT not in page.text  # shown as text, never as markup
    same = diff_rows(http.get("/prompts/qa/diff?a=2&b=2").text)
    assert {kind for kind, _ in same} == {"same"}
    assert http.get("/prompts/qa/diff?a=1&b=9").status_code == 404
    assert http.get("/prompts/qa/diff?a=1&b=x").status_code == 400
    assert http.get("/prompts/qa/diff?a=1").status_code == 400


def test_alias_forms(http: httpx.Client) -> None:
    made = http.post("/prompts/qa/aliases/set", data={"alias": "staging", "version": "3"})
    assert made.status_code == 303
    assert made.headers["location"] == "/prompts/qa"
    assert "@staging" in http.get("/prompts/qa").text
    http.post("/prompts/qa/aliases/delete", data={"alias": "staging", "return_to": "//evil"})
    assert "@staging" not in http.get("/prompts/qa").text
    missing = http.post("/prompts/qa/aliases/set", data={"alias": "x", "version": "9"})
    assert missing.status_code == 404
    assert 'data-testid="error"' in missing.text
    hostile = http.post("/prompts/qa/aliases/set", data={"alias": SCRIPT, "version": "1"})
    assert hostile.status_code == 400
    assert SCRIPT not in hostile.text
    foreign = http.post(
        "/prompts/qa/aliases/set",
        data={"alias": "csrf", "version": "1"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


# ---------------------------------------------------------------------------- in Chromium
@pytest.mark.ui
def test_browse_prompts_and_their_versions(page: Page, server: str, shoot: Shoot) -> None:
    page.goto(server + "/prompts")
    expect(page.locator("#prompts")).to_contain_text("assistant")
    shoot(page, "prompts")
    page.fill("#prompt-search", "qa")
    page.press("#prompt-search", "Enter")
    page.click("#prompts a.row-link")
    expect(page.get_by_test_id("template")).to_contain_text(SCRIPT)
    shoot(page, "prompt")
    page.click("#versions a.row-link >> text=v1")
    expect(page.get_by_test_id("template")).to_have_text(QA_V1)
    page.go_back()
    expect(page.get_by_test_id("template")).to_contain_text("politely")
    page.goto(server + "/prompts/assistant")
    expect(page.locator(".message .role")).to_have_text(["system", "user"])
    shoot(page, "prompt-chat")


@pytest.mark.ui
def test_compare_two_versions_by_choosing_them(page: Page, server: str, shoot: Shoot) -> None:
    page.goto(server + "/prompts/qa")
    page.select_option("#diff-a", "1")
    page.select_option("#diff-b", "3")
    page.click("#diff-form button")
    assert "a=1" in page.url and "b=3" in page.url
    expect(page.locator("#diff tr.added")).to_have_count(3)
    expect(page.locator("#diff tr.removed")).to_have_count(2)
    expect(page.locator("#diff tr.added").nth(1)).to_contain_text(SCRIPT)
    assert page.locator("#diff script").count() == 0
    shoot(page, "prompt-diff")
    page.emulate_media(color_scheme="dark")
    shoot(page, "prompt-diff-dark")
    page.click("text=Swap")
    expect(page.locator("#diff tr.added")).to_have_count(2)


@pytest.mark.ui
def test_alias_set_and_delete_by_clicking(page: Page, server: str, shoot: Shoot) -> None:
    page.goto(server + "/prompts/qa?version=1")
    page.fill("#alias-name", "clicked")
    page.click("#set-alias button")
    row = page.locator("#aliases tbody tr", has_text="@clicked")
    expect(row).to_contain_text("v1")
    assert page.url.endswith("/prompts/qa?version=1")
    shoot(page, "prompt-alias")
    row.locator("button", has_text="Delete").click()
    expect(page.locator("#aliases")).not_to_contain_text("@clicked")


@pytest.mark.ui
def test_the_prompt_list_is_keyboard_navigable(page: Page, server: str) -> None:
    page.goto(server + "/prompts?q=assistant")
    page.keyboard.press("j")
    expect(page.locator("#prompts tr.is-current")).to_contain_text("assistant")
    page.keyboard.press("Enter")
    expect(page.locator("main > h1")).to_contain_text("assistant")
