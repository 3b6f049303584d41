"""The UI in headless Chromium against a live seeded server: every interaction by clicking or
typing, as a user would. Each test also checks (in the ``page`` fixture) that the page logged no
console error, opened no dialog and sent no request off localhost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ._seed import IMG, SCRIPT, Seeded

pytestmark = pytest.mark.ui

Server = tuple[str, Seeded]
Shoot = Callable[[Page, str], Path]


def names(page: Page) -> list[str]:
    return page.locator("#runs tbody tr:not(.is-hidden) a.row-link").all_inner_texts()


def test_experiments_page_create_rename_delete(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, _ = ui_server
    page.goto(url + "/")
    expect(page.locator("#experiments")).to_contain_text("plain")
    shoot(page, "experiments")
    page.fill("#new-experiment", "clicked-into-being")
    page.click("form.create button")
    expect(page.locator("h1")).to_have_text("clicked-into-being #" + page.url.rsplit("/", 1)[1])
    page.goto(url + "/experiments?q=clicked")
    row = page.locator("#experiments tbody tr", has_text="clicked-into-being")
    row.locator("summary", has_text="Rename").click()
    row.locator("input[name=name]").fill("clicked-and-renamed")
    row.locator("button", has_text="Save").click()
    expect(page.locator("#experiments")).to_contain_text("clicked-and-renamed")
    page.goto(url + "/experiments?q=clicked-and")
    row = page.locator("#experiments tbody tr", has_text="clicked-and-renamed")
    row.locator("summary", has_text="Delete").click()
    row.locator("button.danger").click()
    expect(page.locator("#experiments")).not_to_contain_text("clicked-and-renamed")


def test_runs_filter_and_bad_filter(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.plain}")
    shoot(page, "runs")
    page.fill("#run-filter", "metrics.acc >= 0.57")
    page.press("#run-filter", "Enter")
    expect(page.locator("#runs tbody tr")).to_have_count(3)
    assert "filter=metrics.acc" in page.url
    page.fill("#run-filter", "metrics.acc >>> 1")
    page.press("#run-filter", "Enter")
    expect(page.get_by_test_id("filter-error")).to_be_visible()
    shoot(page, "runs-bad-filter")
    page.go_back()
    expect(page.locator("#runs tbody tr")).to_have_count(3)


def test_runs_sort_by_clicking_headers(page: Page, ui_server: Server) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.plain}?per_page=25")
    page.click("th a[data-column='metrics.acc']")
    expect(page.locator("#runs tbody tr").first).to_contain_text("run-59")
    page.click("th a[data-column='metrics.acc']")
    expect(page.locator("#runs tbody tr").first).to_contain_text("run-00")
    page.click("th a[data-column='attributes.run_name']")
    expect(page.locator("#runs tbody tr").first).to_contain_text("run-59")
    page.go_back()
    expect(page.locator("#runs tbody tr").first).to_contain_text("run-00")


def test_runs_paging(page: Page, ui_server: Server) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.plain}?per_page=25")
    assert names(page)[0] == "run-59"
    page.get_by_test_id("next-page").click()
    expect(page.locator(".page-number")).to_have_text("Page 2")
    assert names(page)[0] == "run-34"
    page.get_by_test_id("next-page").click()
    expect(page.locator("#runs tbody tr")).to_have_count(10)
    page.get_by_test_id("previous-page").click()
    expect(page.locator(".page-number")).to_have_text("Page 2")
    assert names(page)[0] == "run-34"


def test_column_chooser(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.plain}")
    page.click("#column-chooser summary")
    shoot(page, "runs-column-chooser")
    page.uncheck("#column-chooser input[value='metrics.acc']")
    page.check("#column-chooser input[value='tags.team']")
    page.click("#column-chooser button[type=submit]")
    expect(page.locator("th a[data-column='tags.team']")).to_be_visible()
    expect(page.locator("th a[data-column='metrics.acc']")).to_have_count(0)
    assert "c=tags.team" in page.url
    # Sorting keeps the chosen columns.
    page.click("th a[data-column='tags.team']")
    expect(page.locator("th a[data-column='tags.team']")).to_contain_text("▼")
    expect(page.locator("th a[data-column='metrics.acc']")).to_have_count(0)


def test_nested_runs_collapse_and_expand(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.nested}")
    assert names(page) == ["parent", "child-2", "child-1", "child-0", "grandchild"]
    shoot(page, "runs-nested")
    toggle = page.locator(f"tr[data-run-id='{seeded.parent_id}'] button.toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert names(page) == ["parent"]
    toggle.click()
    assert names(page) == ["parent", "child-2", "child-1", "child-0", "grandchild"]


def test_keyboard_navigation_opens_a_run(page: Page, ui_server: Server) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.plain}")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("k")
    current = page.locator("#runs tr.is-current")
    expect(current).to_contain_text("run-58")
    page.keyboard.press("x")
    expect(current.locator("input[type=checkbox]")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("run-58")


def test_select_and_delete_runs(page: Page, ui_server: Server) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.nested}")
    action = page.locator("#selection-action")
    expect(action).to_be_disabled()
    page.check(f"input[value='{seeded.child_ids[2]}']")
    expect(page.locator("#selection-count")).to_have_text("1")
    action.click()
    expect(page.locator("#runs")).not_to_contain_text("child-2")
    page.goto(f"{url}/experiments/{seeded.nested}?view=deleted")
    page.check("#select-all")
    page.locator("#selection-action").click()
    page.goto(f"{url}/experiments/{seeded.nested}")
    expect(page.locator("#runs")).to_contain_text("child-2")


def test_hostile_values_render_as_text(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments")
    expect(page.get_by_role("link", name=f"exp {SCRIPT}")).to_be_visible()
    page.goto(f"{url}/experiments/{seeded.hostile}?c=&c=params.payload&c=tags.note")
    expect(page.get_by_role("link", name=f"{IMG} run")).to_be_visible()
    expect(page.locator("#runs td", has_text=SCRIPT).first).to_be_visible()
    expect(page.get_by_role("cell", name=IMG, exact=True)).to_be_visible()
    shoot(page, "runs-hostile")
    page.get_by_role("link", name=f"{IMG} run").click()
    expect(page.locator("main > h1")).to_contain_text(IMG)
    expect(page.get_by_test_id("description")).to_contain_text(SCRIPT)
    expect(page.locator("a[href^='javascript:']")).to_have_count(0)
    assert page.locator("img").count() == 0
    shoot(page, "run-hostile")


def test_run_page(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, seeded = ui_server
    page.goto(f"{url}/experiments/{seeded.nested}/runs/{seeded.child_ids[0]}")
    expect(page.get_by_test_id("parent-link")).to_have_text("parent")
    expect(page.get_by_test_id("children")).to_contain_text("grandchild")
    shoot(page, "run")
    page.get_by_test_id("parent-link").click()
    expect(page.locator("h1")).to_contain_text("parent")
    page.goto(f"{url}/experiments/{seeded.plain}")
    page.locator("a.row-link", has_text="run-07").click()
    expect(page.locator("#params")).to_contain_text("lr")
    expect(page.locator("#metrics")).to_contain_text("0.07")


def test_dark_mode_toggle_is_remembered(page: Page, ui_server: Server, shoot: Shoot) -> None:
    url, _ = ui_server
    page.emulate_media(color_scheme="light")
    page.goto(url + "/")
    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) == "rgb(255, 255, 255)"
    page.click("#theme-toggle")
    assert page.evaluate(background) != "rgb(255, 255, 255)"
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    shoot(page, "experiments-dark")
