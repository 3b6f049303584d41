"""System tags that describe where a run was started: user, source file, source type, git commit.

They are computed once per process (the script, the user and the checkout do not change while it
runs) and merged under the user's own tags, which always win.
"""

from __future__ import annotations

import os
import sys
from functools import cache

USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
PARENT_RUN_ID = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"
NOTE = "mlflow.note.content"
DATASET_CONTEXT = "mlflow.data.context"


@cache
def current_user() -> str:
    """The login name, as ``getpass`` finds it; ``unknown`` when there is none (containers)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # getpass raises OSError or KeyError when no user database entry exists
        return "unknown"


def system_tags() -> dict[str, str]:
    """The tags the fluent API adds to every new run (a fresh dict the caller may change)."""
    return dict(_system_tags())


@cache
def _system_tags() -> tuple[tuple[str, str], ...]:
    source = _source_name()
    tags = [
        (USER, current_user()),
        (SOURCE_NAME, source),
        (SOURCE_TYPE, "NOTEBOOK" if _in_ipython() else "LOCAL"),
    ]
    folder = os.path.dirname(os.path.realpath(source)) if os.path.isfile(source) else os.getcwd()
    commit = git_commit(folder)
    if commit:
        tags.append((GIT_COMMIT, commit))
    return tuple(tags)


def _source_name() -> str:
    # MLflow records sys.argv[0] as given; `python -c` and interactive sessions have no file.
    main = sys.argv[0] if sys.argv else ""
    if main in ("", "-c"):
        return "<console>"
    return main


def _in_ipython() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython is not None and get_ipython() is not None


def git_commit(start: str) -> str | None:
    """The commit checked out in the git repository holding ``start``, or None.

    Reads ``.git/HEAD`` and the refs directly: no subprocess, no git library.
    """
    git_dir = _find_git_dir(start)
    if git_dir is None:
        return None
    head = _read(os.path.join(git_dir, "HEAD"))
    if head is None:
        return None
    if not head.startswith("ref:"):
        return head if _is_sha(head) else None
    return _resolve_ref(git_dir, head[4:].strip())


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def _find_git_dir(start: str) -> str | None:
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, ".git")
        if os.path.isdir(candidate):
            return candidate
        if os.path.isfile(candidate):
            # Worktrees and submodules: `.git` is a file holding "gitdir: <path>".
            text = _read(candidate) or ""
            if not text.startswith("gitdir:"):
                return None
            return os.path.normpath(os.path.join(folder, text[7:].strip()))
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _resolve_ref(git_dir: str, ref: str) -> str | None:
    # A linked worktree keeps HEAD locally but refs in the main repository ("commondir").
    dirs = [git_dir]
    common = _read(os.path.join(git_dir, "commondir"))
    if common:
        dirs.append(os.path.normpath(os.path.join(git_dir, common)))
    for folder in dirs:
        value = _read(os.path.join(folder, ref)) or _packed_ref(folder, ref)
        if value and _is_sha(value):
            return value
    return None


def _packed_ref(git_dir: str, ref: str) -> str | None:
    text = _read(os.path.join(git_dir, "packed-refs"))
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref:
            return parts[0]
    return None


def _is_sha(value: str) -> bool:
    return len(value) in (40, 64) and all(c in "0123456789abcdef" for c in value)
