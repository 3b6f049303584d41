"""A run's artifact browser (``…/runs/<id>/artifacts?path=``) against a live server whose runs
keep artifacts on the proxy (``mlflow-artifacts:/``, the server's default) and on a local path:
over HTTP (listing, paging, every kind of preview, downloads, the HTML frame's headers, path
traversal in every encoding, escaping) and in headless Chromium (clicking through, back and
forward, previews shown, the HTML artifact's scripts never run)."""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped, unused-ignore]
import pytest
from markupsafe import escape
from PIL import Image
from playwright.sync_api import Page, expect

from servers import live_server
from wayline.artifacts.proxy_repo import close_clients
from wayline.artifacts.resolve import artifact_repository
from wayline.server import ServerSettings, create_app
from wayline.store.sql.store import SqlStore
from wayline.ui.artifact_pages import format_size
from wayline.ui.artifact_previews import MAX_TABLE_ROWS, MAX_TEXT_BYTES

from ._seed import IMG, SCRIPT
from .conftest import PageLog

pytestmark = pytest.mark.ui

Shoot = Callable[[Page, str], Path]
HOSTILE_NAME = f"{IMG}.txt"  # a file name may hold no '/', so not SCRIPT itself
SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"
BULK_FILES = 230
CSV_ROWS = 150
PARQUET_ROWS = 120
REPORT = (
    "<!doctype html><html><head><title>Report</title>"
    "<style>h1 { color: rgb(200, 0, 0); }</style></head><body>"
    '<h1 id="title">Quarterly report</h1>'
    "<script>alert('html ran'); document.body.dataset.ran = 'yes';</script>"
    '<img src="x" onerror="alert(\'onerror ran\')">'
    "</body></html>"
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    '<rect width="40" height="20" fill="teal"/><script>alert("svg ran")</script></svg>'
)


@dataclass(frozen=True)
class Browser:
    url: str
    proxied: str  # the base page URL of the run on the proxy
    local: str  # … and of the run on a local path
    proxied_run: str
    local_run: str
    experiment_id: str


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 120, 220)).save(buffer, format="PNG")
    return buffer.getvalue()


def _parquet() -> bytes:
    table = pa.table(
        {"step": list(range(PARQUET_ROWS)), "loss": [1 / (i + 1) for i in range(PARQUET_ROWS)]}
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def artifact_files() -> dict[str, bytes]:
    """Every kind of file the browser previews, by path under the run's root."""
    csv_rows = "\n".join(f"{i},{i * i},{SCRIPT if i == 3 else 'row'}" for i in range(CSV_ROWS))
    return {
        "plots/roc.png": _png(),
        "plots/diagram.svg": SVG.encode(),
        "notes.txt": b"plain notes\n" + SCRIPT.encode(),
        "train.log": b"".join(b"step %06d loss 0.5\n" % i for i in range(10_000)),
        "train.py": b"print('hello')\n",
        "README.md": b"# Title\n\nSome *markdown*.\n",
        "metrics.json": json.dumps({"acc": 0.9, "layers": [1, 2], "note": SCRIPT}).encode(),
        "config.yaml": b"{lr: 0.1, layers: [1, 2], name: <b>bold</b>}\n",
        "bomb.yaml": b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n",
        "data/table.csv": f"id,square,label\n{csv_rows}\n".encode(),
        "data/table.tsv": b"a\tb\n1\t2\n3\t4\n",
        "data/frame.parquet": _parquet(),
        "report.html": REPORT.encode(),
        "model/MLmodel": b"flavors:\n  python_function:\n    loader_module: x\n",
        "weights.bin": bytes(range(256)) * 4,
        HOSTILE_NAME: SCRIPT.encode(),
        "nested/level1/level2/deep.txt": b"deep down",
    }


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    folder = tmp_path_factory.mktemp("artifact-browser")
    uri = f"sqlite:///{folder / 'ui.db'}"
    (folder / SECRET).write_text(SECRET)  # a file beside the roots, for traversal attempts
    store = SqlStore(uri, "mlflow-artifacts:/")
    try:
        experiment_id = store.create_experiment("artifacts-exp")
        proxied = store.create_run(experiment_id, "tester", 1_700_000_000_000, [], "proxied")
        local_exp = store.create_experiment("local-exp", str(folder / "local-root"))
        local = store.create_run(local_exp, "tester", 1_700_000_000_000, [], "local")
    finally:
        store.close()
    settings = ServerSettings(
        backend_store_uri=uri,
        default_artifact_root="mlflow-artifacts:/",
        artifacts_destination=str(folder / "proxy"),
    )
    source = folder / "source"
    _write(source, artifact_files())
    bulk = folder / "bulk"
    _write(bulk, {f"f{i:03d}.txt": b"x" for i in range(BULK_FILES)})
    with live_server(create_app(settings)) as url:
        # The proxied run's files go up through the server's proxy, as a client sends them.
        assert proxied.info.artifact_uri.startswith("mlflow-artifacts:/")
        artifact_repository(proxied.info.artifact_uri, url).log_artifacts(source)
        close_clients()
        local_repo = artifact_repository(local.info.artifact_uri)
        local_repo.log_artifacts(source)
        local_repo.log_artifacts(bulk, "many")
        (Path(local.info.artifact_uri) / "empty-dir").mkdir()
        yield Browser(
            url,
            f"/experiments/{experiment_id}/runs/{proxied.info.run_id}/artifacts",
            f"/experiments/{local_exp}/runs/{local.info.run_id}/artifacts",
            proxied.info.run_id,
            local.info.run_id,
            experiment_id,
        )


@pytest.fixture(scope="module")
def http(served: Browser) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, follow_redirects=False) as client:
        yield client


@pytest.fixture(params=["proxied", "local"])
def base(request: pytest.FixtureRequest, served: Browser) -> str:
    return str(getattr(served, request.param))


def at(base: str, path: str, **extra: str) -> str:
    return f"{base}?{urlencode({'path': path, **extra})}"


def listed(text: str) -> list[str]:
    return [
        html.unescape(n) for n in re.findall(r'class="row-link (?:file|folder)">([^<]*)</a>', text)
    ]


# ---------------------------------------------------------------- listing
def test_root_lists_folders_first_then_files(http: httpx.Client, base: str) -> None:
    response = http.get(base)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    names = listed(response.text)
    folders = [n for n in names if n.endswith("/")]
    assert names[: len(folders)] == folders
    assert {"data/", "model/", "nested/", "plots/"} <= set(folders)
    assert {"metrics.json", "report.html", "weights.bin", HOSTILE_NAME} <= set(names)
    assert 'data-testid="parent-folder"' not in response.text


def test_folder_listing_links_down_and_up(http: httpx.Client, base: str) -> None:
    response = http.get(at(base, "nested/level1"))
    assert response.status_code == 200
    assert listed(response.text) == ["level2/"]
    assert f'href="{html.escape(at(base, "nested/level1/level2"))}"' in response.text
    assert (
        f'href="{html.escape(at(base, "nested"))}" class="row-link" data-testid="parent-folder"'
        in (response.text)
    )


def test_empty_folder_and_missing_path(http: httpx.Client, served: Browser) -> None:
    empty = http.get(at(served.local, "empty-dir"))
    assert empty.status_code == 200
    assert "This folder is empty." in empty.text
    missing = http.get(at(served.local, "no/such/file.txt"))
    assert missing.status_code == 404
    assert "No artifact" in missing.text


def test_large_folder_is_paged(http: httpx.Client, served: Browser) -> None:
    first = http.get(at(served.local, "many"))
    assert len(listed(first.text)) == 100
    assert "Page 1 of 3 · 230 entries" in first.text
    last = http.get(at(served.local, "many", page="3"))
    assert listed(last.text) == [f"f{i:03d}.txt" for i in range(200, BULK_FILES)]
    # A file deep-linked lands on the page that lists it, selected.
    chosen = http.get(at(served.local, "many/f150.txt"))
    assert "Page 2 of 3" in chosen.text
    assert re.search(r'aria-current="true">\s*<td class="name"><a [^>]*>f150.txt<', chosen.text)
    assert http.get(at(served.local, "many", page="0")).status_code == 400
    assert http.get(at(served.local, "many", page="x")).status_code == 400
    beyond = http.get(at(served.local, "many", page="99"))
    assert "Page 3 of 3" in beyond.text


def test_run_of_another_experiment_redirects(http: httpx.Client, served: Browser) -> None:
    wrong = f"/experiments/{served.experiment_id}/runs/{served.local_run}/artifacts?path=notes.txt"
    response = http.get(wrong)
    assert response.status_code == 303
    assert response.headers["location"] == f"{served.local}?path=notes.txt"


# ---------------------------------------------------------------- previews
def preview_text(page_html: str) -> str:
    found = re.search(
        r'<pre class="artifact-text" data-testid="preview-text">(.*?)</pre>', page_html, re.S
    )
    assert found, "no text preview"
    return html.unescape(found.group(1))


def table_rows(page_html: str) -> list[list[str]]:
    body = re.search(r'data-testid="preview-table">.*?<tbody>(.*?)</tbody>', page_html, re.S)
    assert body, "no table preview"
    return [
        [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def test_json_and_yaml_are_pretty_printed(http: httpx.Client, base: str) -> None:
    shown = preview_text(http.get(at(base, "metrics.json")).text)
    assert json.loads(shown)["note"] == SCRIPT
    assert '\n  "layers": [\n    1,' in shown
    yaml_text = preview_text(http.get(at(base, "config.yaml")).text)
    assert yaml_text == "lr: 0.1\nlayers:\n- 1\n- 2\nname: <b>bold</b>\n"
    bomb = http.get(at(base, "bomb.yaml")).text
    assert "*a" in preview_text(bomb)  # aliases are not expanded: shown as written
    assert "Not valid YAML" in bomb


def test_text_files_and_mlmodel_show_as_text(http: httpx.Client, base: str) -> None:
    for path, expected in [
        ("train.py", "print('hello')\n"),
        ("README.md", "# Title\n\nSome *markdown*.\n"),
        ("model/MLmodel", "flavors:\n  python_function:\n    loader_module: x\n"),
        ("nested/level1/level2/deep.txt", "deep down"),
    ]:
        page_html = http.get(at(base, path)).text
        assert preview_text(page_html) == expected, path
        assert 'data-testid="truncated"' not in page_html
    notes = http.get(at(base, "notes.txt")).text
    assert preview_text(notes).endswith(SCRIPT)
    assert SCRIPT not in notes  # only its escaped form is in the page


def test_long_log_is_truncated_with_a_note(http: httpx.Client, base: str) -> None:
    page_html = http.get(at(base, "train.log")).text
    shown = preview_text(page_html)
    assert len(shown.encode()) == MAX_TEXT_BYTES
    assert shown.startswith("step 000000 loss 0.5\n")
    size = format_size(len(artifact_files()["train.log"]))
    assert f"Truncated: the first 128.0 KB of {size}." in page_html


def test_csv_tsv_and_parquet_show_as_tables(http: httpx.Client, base: str) -> None:
    csv_page = http.get(at(base, "data/table.csv")).text
    rows = table_rows(csv_page)
    assert len(rows) == MAX_TABLE_ROWS
    assert rows[3] == ["3", "9", SCRIPT]
    assert re.search(r"<th scope=\"col\">id</th><th scope=\"col\">square</th>", csv_page)
    assert "Truncated: the first 100 rows" in csv_page
    assert table_rows(http.get(at(base, "data/table.tsv")).text) == [["1", "2"], ["3", "4"]]
    parquet = http.get(at(base, "data/frame.parquet")).text
    rows = table_rows(parquet)
    assert len(rows) == MAX_TABLE_ROWS
    assert rows[1] == ["1", "0.5"]
    assert f"{PARQUET_ROWS} rows in all." in parquet


def test_binary_file_has_no_preview_but_a_download(
    http: httpx.Client, base: str, served: Browser
) -> None:
    page_html = http.get(at(base, "weights.bin")).text
    assert "No preview for this kind of file" in page_html
    run_id = served.proxied_run if base == served.proxied else served.local_run
    link = "/get-artifact?" + urlencode({"path": "weights.bin", "run_uuid": run_id})
    assert f'href="{html.escape(link)}" download data-testid="download"' in page_html
    download = http.get(link)
    assert download.status_code == 200
    assert download.content == artifact_files()["weights.bin"]
    assert download.headers["content-disposition"].startswith("attachment")


def test_image_preview_links_the_artifact_route(
    http: httpx.Client, base: str, served: Browser
) -> None:
    run_id = served.proxied_run if base == served.proxied else served.local_run
    for path in ("plots/roc.png", "plots/diagram.svg"):
        page_html = http.get(at(base, path)).text
        src = "/get-artifact?" + urlencode({"path": path, "run_uuid": run_id})
        assert f'<img src="{html.escape(src)}"' in page_html
        image = http.get(src)
        assert image.content == artifact_files()[path]
        assert image.headers["x-content-type-options"] == "nosniff"
    assert "<svg" not in http.get(at(base, "plots/diagram.svg")).text  # never inline


def test_html_is_framed_sandboxed_from_a_locked_down_route(http: httpx.Client, base: str) -> None:
    page_html = http.get(at(base, "report.html")).text
    frame = re.search(r"<iframe [^>]*>", page_html)
    assert frame
    assert 'sandbox=""' in frame.group(0)
    assert "allow-" not in frame.group(0)
    src = html.unescape(re.search(r'src="([^"]*)"', frame.group(0)).group(1))  # type: ignore[union-attr]
    assert src == f"{base}/frame?path=report.html"
    response = http.get(src)
    assert response.status_code == 200
    assert response.text == REPORT
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-disposition"] == "inline"
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy and "allow-scripts" not in policy
    # Only HTML is served inline, and never a folder.
    assert http.get(f"{base}/frame?path=notes.txt").status_code == 400
    assert http.get(f"{base}/frame?path=plots/diagram.svg").status_code == 400
    assert http.get(f"{base}/frame?path=missing.html").status_code == 404


def test_hostile_file_name_is_text(http: httpx.Client, base: str) -> None:
    listing = http.get(base).text
    selected = http.get(at(base, HOSTILE_NAME))
    assert selected.status_code == 200
    for page_html in (listing, selected.text):
        assert IMG not in page_html
        assert SCRIPT not in page_html
    assert f'<h2 id="preview-heading">{escape(HOSTILE_NAME)}</h2>' in selected.text
    assert preview_text(selected.text) == SCRIPT


# ---------------------------------------------------------------- path safety
TRAVERSALS = [
    f"../../../../{SECRET}",
    f"..%2f..%2f..%2f..%2f{SECRET}",
    f"%2e%2e/%2e%2e/%2e%2e/%2e%2e/{SECRET}",
    f"%252e%252e/%252e%252e/%252e%252e/%252e%252e/{SECRET}",
    f"notes.txt/../../../../../{SECRET}",
    "/etc/passwd",
    f"..\\..\\{SECRET}",
    "plots/../../x.txt",
]


@pytest.mark.parametrize("attempt", TRAVERSALS)
def test_path_traversal_is_refused(http: httpx.Client, served: Browser, attempt: str) -> None:
    for base in (served.local, served.proxied):
        for url in (f"{base}?path={quote(attempt, safe='%/')}", at(base, attempt)):
            for target in (url, url.replace("/artifacts?", "/artifacts/frame?")):
                response = http.get(target)
                assert response.status_code in (400, 404), target
                assert SECRET not in response.text.replace(html.escape(attempt), "")
                assert "root:" not in response.text


# ---------------------------------------------------------------- in the browser
def test_click_through_folders_and_back(page: Page, served: Browser, shoot: Shoot) -> None:
    page.goto(served.url + served.proxied)
    files = page.locator("#artifact-files")
    files.get_by_role("link", name="data/", exact=True).click()
    expect(page.get_by_test_id("artifact-path")).to_contain_text("artifacts / data")
    files.get_by_role("link", name="table.csv", exact=True).click()
    expect(page.get_by_test_id("preview-table").locator("tbody tr")).to_have_count(MAX_TABLE_ROWS)
    expect(page.get_by_test_id("preview-table")).to_contain_text(SCRIPT)
    assert "path=data%2Ftable.csv" in page.url
    shoot(page, "artifacts-csv")
    files.get_by_role("link", name="frame.parquet", exact=True).click()
    expect(page.get_by_test_id("preview-table").locator("tbody tr")).to_have_count(MAX_TABLE_ROWS)
    page.go_back()
    expect(page.locator("#preview-heading")).to_have_text("table.csv")
    page.go_back()
    expect(page.get_by_test_id("preview")).to_have_count(0)
    page.go_forward()
    expect(page.locator("#preview-heading")).to_have_text("table.csv")
    page.get_by_test_id("parent-folder").click()
    expect(page.locator("#artifact-files")).to_contain_text("model/")
    expect(page.get_by_test_id("artifact-path")).to_have_text("artifacts")
    files.get_by_role("link", name="metrics.json", exact=True).click()
    expect(page.get_by_test_id("preview-text")).to_contain_text('"acc": 0.9')
    shoot(page, "artifacts-json")


def test_keyboard_moves_through_the_listing(page: Page, served: Browser) -> None:
    page.goto(served.url + at(served.local, "nested/level1"))
    page.keyboard.press("ArrowDown")  # the '..' row
    page.keyboard.press("ArrowDown")  # level2/
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("artifact-path")).to_contain_text("level2")
    page.wait_for_load_state("domcontentloaded")  # the table's key handler is set up by then
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("preview-text")).to_have_text("deep down")


def test_images_are_shown(page: Page, served: Browser, shoot: Shoot) -> None:
    for path, width in (("plots/roc.png", 48), ("plots/diagram.svg", 40)):
        page.goto(served.url + at(served.proxied, path))
        image = page.get_by_test_id("preview-image")
        expect(image).to_be_visible()
        page.wait_for_function("document.querySelector('[data-testid=preview-image]').complete")
        assert image.evaluate("img => img.naturalWidth") == width
        expect(page.get_by_test_id("image-error")).to_be_hidden()
    shoot(page, "artifacts-svg")


def _blocked_script(message: str) -> bool:
    return "Blocked script execution" in message or "Content Security Policy" in message


def test_html_preview_runs_no_script(
    page: Page, page_log: PageLog, served: Browser, shoot: Shoot
) -> None:
    for base in (served.proxied, served.local):
        page.goto(served.url + at(base, "report.html"))
        frame = page.frame_locator("[data-testid=preview-frame]")
        expect(frame.locator("h1")).to_have_text("Quarterly report")
        expect(frame.locator("h1")).to_have_css("color", "rgb(200, 0, 0)")  # its own styles apply
        assert frame.locator("body").get_attribute("data-ran") is None
    page.wait_for_timeout(300)  # an onerror handler would fire once the broken image failed
    shoot(page, "artifacts-html")
    assert page_log.dialogs == []
    # The browser reports each refused script as a console error: proof that it was refused,
    # and the only errors allowed on this page.
    assert any(_blocked_script(m) for m in page_log.console_errors), page_log.console_errors
    page_log.console_errors[:] = [m for m in page_log.console_errors if not _blocked_script(m)]


def test_hostile_name_in_the_browser(page: Page, served: Browser, shoot: Shoot) -> None:
    page.goto(served.url + served.local)
    page.locator("#artifact-files").get_by_role("link", name=HOSTILE_NAME, exact=True).click()
    expect(page.locator("#preview-heading")).to_have_text(HOSTILE_NAME)
    expect(page.get_by_test_id("preview-text")).to_have_text(SCRIPT)
    assert page.locator("main img").count() == 0
    shoot(page, "artifacts-hostile")


def test_dark_mode_and_paging(page: Page, served: Browser, shoot: Shoot) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(served.url + at(served.local, "many"))
    expect(page.locator("#artifact-files tbody tr")).to_have_count(101)  # with the '..' row
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("page-count")).to_contain_text("Page 2 of 3")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 20, 25)"
    page.goto(served.url + at(served.local, "data/table.csv"))
    shoot(page, "artifacts-dark")
