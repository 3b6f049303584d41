"""Path safety: every unsafe spelling is refused, safe paths keep their names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wayline.artifacts.paths import join_relative, resolve_inside, safe_relative_path
from wayline.errors import InvalidParameter

UNSAFE = [
    "..",
    "../secret",
    "a/../../b",
    "a/..",
    "%2e%2e/secret",
    "%2E%2E%2Fsecret",
    "%252e%252e/secret",  # decoded twice
    "%25252e%25252e/secret",  # decoded three times
    "a/%2e%2e%2f%2e%2e/b",
    "/etc/passwd",
    "%2fetc/passwd",
    "~/x",
    "C:/Windows",
    "c:secret",
    "a\x00b",
    "a%00b",
    "a%2500b",
    "a\\..\\b",
    "a%5cb",
    "a;b",
    "file.txt;jsessionid=1",
    "a#frag",
    "a%23b",
    "line\nbreak",
    "%ff%fe",  # bytes that are no UTF-8
]


@pytest.mark.parametrize("path", UNSAFE)
def test_unsafe_paths_are_refused(path: str) -> None:
    with pytest.raises(InvalidParameter, match=r"^Invalid path$"):
        safe_relative_path(path)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (None, ""),
        ("", ""),
        (".", ""),
        ("model.pkl", "model.pkl"),
        ("dir/sub/file.txt", "dir/sub/file.txt"),
        ("dir//./sub/", "dir/sub"),
        ("a..b/c...", "a..b/c..."),  # dots inside names are fine
        ("100%25.txt", "100%25.txt"),  # decoded only to check, kept as given
        ("with space/ünïcode.txt", "with space/ünïcode.txt"),
    ],
)
def test_safe_paths_are_normalised_but_keep_their_names(path: str | None, expected: str) -> None:
    assert safe_relative_path(path) == expected


def test_join_relative_skips_empty_parts() -> None:
    assert join_relative("", "a", None, "b/c") == "a/b/c"
    assert join_relative("", None) == ""


def test_resolve_inside_accepts_paths_under_the_root(tmp_path: Path) -> None:
    assert resolve_inside(str(tmp_path), "a/b") == os.path.join(
        os.path.realpath(tmp_path), "a", "b"
    )
    assert resolve_inside(str(tmp_path), "") == os.path.realpath(tmp_path)


def test_a_symlink_leading_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    (root / "escape").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.txt")
    for relative in ("escape", "escape/secret.txt", "escape/new.txt", "file-link"):
        with pytest.raises(InvalidParameter):
            resolve_inside(str(root), relative)


def test_a_symlink_staying_inside_the_root_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert resolve_inside(str(tmp_path), "alias/x").endswith("alias/x")


def test_a_symlinked_root_is_resolved_first(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "link-to-store").symlink_to(tmp_path / "store")
    assert resolve_inside(str(tmp_path / "link-to-store"), "a").endswith("store/a")
