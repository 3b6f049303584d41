"""System tags: user, source, git commit read straight from the repository files."""

from __future__ import annotations

from pathlib import Path

from wayline.tracking import context

from ._support import git, make_repo


def test_commit_of_branch_checkout(tmp_path: Path) -> None:
    sha = make_repo(tmp_path / "repo")
    (tmp_path / "repo" / "sub").mkdir()
    assert context.git_commit(str(tmp_path / "repo" / "sub")) == sha


def test_commit_from_packed_refs(tmp_path: Path) -> None:
    sha = make_repo(tmp_path / "repo")
    git(tmp_path / "repo", "pack-refs", "--all", "--prune")
    assert context.git_commit(str(tmp_path / "repo")) == sha


def test_commit_of_detached_head(tmp_path: Path) -> None:
    sha = make_repo(tmp_path / "repo")
    git(tmp_path / "repo", "checkout", "-q", "--detach")
    assert context.git_commit(str(tmp_path / "repo")) == sha


def test_no_repository_means_no_commit(tmp_path: Path) -> None:
    assert context.git_commit(str(tmp_path)) is None


def test_system_tags_name_user_and_source() -> None:
    tags = context.system_tags()
    assert tags[context.USER] == context.current_user()
    assert tags[context.SOURCE_TYPE] == "LOCAL"
    assert context.SOURCE_NAME in tags
    tags["extra"] = "x"  # a fresh dict each time
    assert "extra" not in context.system_tags()
