"""The UI's pages over HTTP against a live seeded server: status, escaping, URL state, forms."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from wayline.ui.templating import static_version

from ._seed import PLAIN_RUNS, SCRIPT, Seeded

Server = tuple[str, Seeded]


@pytest.fixture(scope="module")
def http(ui_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_server[0], follow_redirects=False) as client:
        yield client


def run_names(html: str) -> list[str]:
    return re.findall(r'class="row-link">([^<]*)</a>', html)


def test_pages_render_with_a_strict_content_security_policy(http: httpx.Client) -> None:
    for path in ("/", "/experiments"):
        response = http.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "plain" in response.text


def test_the_api_and_service_routes_still_answer(http: httpx.Client) -> None:
    assert http.get("/health").text == "OK"
    assert http.get("/version").status_code == 200
    assert http.get("/metrics").status_code == 200
    searched = http.get("/api/2.0/mlflow/experiments/search", params={"max_results": 10})
    assert searched.status_code == 200
    assert http.get("/ajax-api/2.0/mlflow/experiments/search?max_results=1").status_code == 200


def test_static_files_and_plotly_are_served_locally(http: httpx.Client) -> None:
    css = http.get("/static-files/wayline.css")
    assert css.status_code == 200
    assert "prefers-color-scheme: dark" in css.text
    module = http.get("/static-files/ui.js")
    assert module.headers["content-type"].startswith("text/javascript")
    plotly = http.get("/static-files/vendor/plotly.min.js")
    assert plotly.status_code == 200
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert len(plotly.content) > 1_000_000


def test_pages_name_static_files_by_content_so_they_cache(http: httpx.Client) -> None:
    page = http.get("/experiments").text
    found = re.search(r'/static-files/wayline\.css\?v=([0-9a-f]{12})"', page)
    assert found is not None and found.group(1) == static_version()
    versioned = http.get(f"/static-files/wayline.css?v={found.group(1)}")
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = http.get("/static-files/keyboard-table.js")  # imported by ui.js without ?v=
    assert plain.headers["cache-control"] == "no-cache"
    again = http.get(
        "/static-files/keyboard-table.js", headers={"if-none-match": plain.headers["etag"]}
    )
    assert again.status_code == 304


def test_hostile_values_are_escaped_everywhere(http: httpx.Client, ui_server: Server) -> None:
    seeded = ui_server[1]
    pages = [
        http.get("/experiments").text,
        http.get(f"/experiments/{seeded.hostile}?c=&c=tags.note&c=params.payload").text,
        http.get(f"/experiments/{seeded.hostile}/runs/{seeded.hostile_run_id}").text,
    ]
    for html in pages:
        assert SCRIPT not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    run_page = pages[2]
    assert 'href="javascript:' not in run_page
    assert "<h1>Notes</h1>" in run_page  # the description is rendered Markdown


def test_runs_are_paged_with_tokens_and_previous_links(
    http: httpx.Client, ui_server: Server
) -> None:
    experiment = ui_server[1].plain
    first = http.get(f"/experiments/{experiment}?per_page=25")
    assert run_names(first.text)[:2] == ["run-59", "run-58"]
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link is not None
    second = http.get(f"/experiments/{experiment}" + next_link.group(1).replace("&amp;", "&"))
    assert run_names(second.text)[0] == "run-34"
    assert "Page 2" in second.text
    previous = re.search(r'href="([^"]+)" rel="prev"', second.text)
    assert previous is not None
    back = http.get(f"/experiments/{experiment}" + previous.group(1).replace("&amp;", "&"))
    assert run_names(back.text) == run_names(first.text)


@pytest.mark.parametrize(
    ("sort", "direction", "first"),
    [
        ("metrics.acc", "asc", "run-00"),
        ("metrics.acc", "desc", "run-59"),
        ("attributes.run_name", "asc", "run-00"),
        # Ties (equal lr) fall back to the newest run first.
        ("params.lr", "desc", "run-55"),
    ],
)
def test_runs_sort_on_any_column(
    http: httpx.Client, ui_server: Server, sort: str, direction: str, first: str
) -> None:
    response = http.get(
        f"/experiments/{ui_server[1].plain}", params={"sort": sort, "dir": direction}
    )
    assert response.status_code == 200
    assert run_names(response.text)[0] == first


def test_a_filter_narrows_the_runs(http: httpx.Client, ui_server: Server) -> None:
    response = http.get(
        f"/experiments/{ui_server[1].plain}", params={"filter": "metrics.acc >= 0.55"}
    )
    assert sorted(run_names(response.text)) == [f"run-{i}" for i in range(55, PLAIN_RUNS)]


def test_a_bad_filter_is_shown_inline_not_a_500(http: httpx.Client, ui_server: Server) -> None:
    response = http.get(f"/experiments/{ui_server[1].plain}", params={"filter": "metrics.acc >"})
    assert response.status_code == 400
    assert 'data-testid="filter-error"' in response.text
    assert 'value="metrics.acc &gt;"' in response.text  # the filter stays editable


def test_chosen_columns_come_from_the_url(http: httpx.Client, ui_server: Server) -> None:
    url = f"/experiments/{ui_server[1].plain}"
    default = http.get(url).text
    assert 'data-column="metrics.acc"' in default
    assert 'data-column="params.lr"' in default
    assert 'data-column="tags.team"' not in default
    chosen = http.get(f"{url}?c=&c=tags.team").text
    assert 'data-column="tags.team"' in chosen
    assert 'data-column="metrics.acc"' not in chosen
    # Sort links keep the chosen columns.
    link = re.search(r'href="([^"]+)" data-column="tags.team"', chosen)
    assert link is not None
    assert parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query, keep_blank_values=True)[
        "c"
    ] == ["", "tags.team"]


def test_children_are_nested_under_their_parent(http: httpx.Client, ui_server: Server) -> None:
    seeded = ui_server[1]
    html = http.get(f"/experiments/{seeded.nested}").text
    assert run_names(html) == ["parent", "child-2", "child-1", "child-0", "grandchild"]
    assert f'data-parent="{seeded.child_ids[0]}"' in html
    assert html.count(f'data-parent="{seeded.parent_id}"') == 3


def test_the_run_page_links_parent_and_children(http: httpx.Client, ui_server: Server) -> None:
    seeded = ui_server[1]
    child = http.get(f"/experiments/{seeded.nested}/runs/{seeded.child_ids[0]}").text
    assert f"/runs/{seeded.parent_id}" in child
    assert f"/runs/{seeded.grandchild_id}" in child
    # A run asked for under another experiment moves to its own.
    moved = http.get(f"/experiments/{seeded.plain}/runs/{seeded.parent_id}")
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/experiments/{seeded.nested}/runs/{seeded.parent_id}"


def test_missing_things_are_html_404s(http: httpx.Client, ui_server: Server) -> None:
    for path in ("/experiments/987654", f"/experiments/{ui_server[1].plain}/runs/" + "0" * 32):
        response = http.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")


def test_experiment_forms_create_rename_and_delete(http: httpx.Client) -> None:
    created = http.post("/experiments/create", data={"name": "made-by-form"})
    assert created.status_code == 303
    experiment_page = created.headers["location"]
    experiment_id = experiment_page.rsplit("/", 1)[1]
    taken = http.post("/experiments/create", data={"name": "made-by-form"})
    assert taken.status_code == 400
    assert "already exists" in taken.text
    renamed = http.post(
        f"/experiments/{experiment_id}/rename",
        data={"name": "renamed-by-form", "return_to": "//evil.example/"},
    )
    assert renamed.headers["location"] == "/experiments"  # never off this server
    assert "renamed-by-form" in http.get("/experiments?q=renamed-by").text
    deleted = http.post(f"/experiments/{experiment_id}/delete", data={"return_to": "/"})
    assert deleted.headers["location"] == "/"
    assert "renamed-by-form" not in http.get("/experiments").text


def test_run_forms_delete_and_restore(http: httpx.Client, ui_server: Server) -> None:
    seeded = ui_server[1]
    url = f"/experiments/{seeded.nested}"
    grandchild = seeded.grandchild_id
    deleted = http.post(f"{url}/runs/delete", data={"run_id": [grandchild], "return_to": url})
    assert deleted.status_code == 303
    assert "grandchild" not in run_names(http.get(url).text)
    assert "grandchild" in run_names(http.get(f"{url}?view=deleted").text)
    http.post(f"{url}/runs/restore", data={"run_id": [grandchild]})
    assert "grandchild" in run_names(http.get(url).text)
    # A run of another experiment cannot be deleted through this one's form.
    foreign = http.post(f"/experiments/{seeded.plain}/runs/delete", data={"run_id": [grandchild]})
    assert foreign.status_code == 400


def test_a_form_post_from_another_site_is_refused(http: httpx.Client) -> None:
    response = http.post(
        "/experiments/create", data={"name": "csrf"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_importing_wayline_does_not_load_the_ui() -> None:
    code = "import sys, wayline; print('jinja2' in sys.modules, 'wayline.ui' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert output.split() == ["False", "False"]
