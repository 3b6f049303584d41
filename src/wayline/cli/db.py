"""``wayline db upgrade`` and ``wayline gc``: schema migrations, permanent deletion, trace
retention."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import click

from wayline.cli._common import console, reports_errors
from wayline.errors import InvalidParameter

if TYPE_CHECKING:
    from wayline.store.sql.store import SqlStore

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration_ms(text: str) -> int:
    """Milliseconds in a duration like ``1d2h3m4s`` (any part optional, at least one present)."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise InvalidParameter(
            f"Could not parse duration {text!r}: use days, hours, minutes and seconds, "
            "e.g. '30d', '1d2h' or '45m'."
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000


def _split_ids(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _local_path(uri: str) -> Path | None:
    """The local folder behind an artifact URI, or None when it is remote."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and uri[1:3] in (":\\", ":/")):
        return Path(uri)
    return None


@click.group()
def db() -> None:
    """Manage the tracking database schema."""


@db.command()
@click.argument("url")
@reports_errors
def upgrade(url: str) -> None:
    """Migrate the database at URL to the latest schema. Back it up first.

    Example: wayline db upgrade postgresql://user@host/wayline
    """
    from wayline.store.sql.migrate import upgrade as run_upgrade

    run_upgrade(url)
    console.print(f"Database at {url} is up to date.")


@click.command()
@click.option(
    "--backend-store-uri",
    "--tracking-uri",
    "store_uri",
    default=None,
    help="SQL store to clean (default: the tracking URI in effect).",
)
@click.option(
    "--older-than",
    default=None,
    help="Only what was deleted longer ago, e.g. 30d (with --traces: traces requested longer ago).",
)
@click.option("--run-ids", default=None, help="Comma-separated deleted runs to remove.")
@click.option(
    "--experiment-ids",
    default=None,
    help="Comma-separated deleted experiments (with --traces: the experiments to sweep).",
)
@click.option(
    "--traces",
    "traces",
    is_flag=True,
    default=False,
    help="Delete traces by age (--older-than) or count (--keep-last) instead.",
)
@click.option(
    "--keep-last",
    type=click.IntRange(min=0),
    default=None,
    help="With --traces: keep only the newest N traces of each experiment.",
)
@reports_errors
def gc(
    store_uri: str | None,
    older_than: str | None,
    run_ids: str | None,
    experiment_ids: str | None,
    traces: bool,
    keep_last: int | None,
) -> None:
    """Permanently remove deleted runs and experiments, with their local artifacts.

    With no ids, removes every deleted run and experiment (older than --older-than if given).
    With --traces, deletes traces instead (with their spans and assessments): those requested
    longer ago than --older-than and those beyond the newest --keep-last of each experiment.

    Examples: wayline gc --older-than 30d; wayline gc --traces --older-than 30d;
    wayline gc --traces --keep-last 1000 --experiment-ids 3,4
    """
    from wayline.store.resolve import tracking_store
    from wayline.store.sql.gc import purge_deleted
    from wayline.store.sql.store import SqlStore
    from wayline.tracking.uri import get_tracking_uri

    if keep_last is not None and not traces:
        raise click.UsageError("--keep-last applies to traces: add --traces.")
    if traces and run_ids:
        raise click.UsageError("--run-ids cannot be combined with --traces.")
    if traces and older_than is None and keep_last is None:
        raise click.UsageError("With --traces, give --older-than, --keep-last or both.")
    uri = store_uri or get_tracking_uri()
    store = tracking_store(uri)
    if not isinstance(store, SqlStore):
        raise click.ClickException(f"`wayline gc` needs a SQL store; {uri} is not one.")
    older_than_ms = None if older_than is None else parse_duration_ms(older_than)
    if traces:
        _purge_traces(store, older_than_ms, keep_last, _split_ids(experiment_ids))
        return
    with console.status("Removing deleted runs and experiments..."):
        removed = purge_deleted(
            store,
            older_than_ms=older_than_ms,
            run_ids=_split_ids(run_ids),
            experiment_ids=_split_ids(experiment_ids),
        )
    _remove_local_folders(removed.artifact_uris)
    console.print(
        f"Removed {len(removed.run_ids)} run(s) and {len(removed.experiment_ids)} experiment(s)."
    )


def _remove_local_folders(uris: list[str]) -> None:
    folders = [path for uri in uris if (path := _local_path(uri)) is not None]
    from rich.progress import Progress  # only this command draws progress: keep start-up light

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Removing artifacts", total=len(folders))
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
            progress.advance(task)


def _purge_traces(
    store: SqlStore, older_than_ms: int | None, keep_last: int | None, experiment_ids: list[str]
) -> None:
    from rich.table import Table

    from wayline.store.sql.gc import purge_traces

    with console.status("Removing traces..."):
        purged = purge_traces(
            store, older_than_ms=older_than_ms, keep_last=keep_last, experiment_ids=experiment_ids
        )
    # A trace's files live in <experiment>/traces/<trace id>/artifacts: remove the trace's folder.
    _remove_local_folders(
        [uri.rstrip("/").removesuffix("/artifacts") for uri in purged.artifact_uris]
    )
    if purged.deleted:
        table = Table("Experiment Id", "Traces removed")
        for experiment_id, count in purged.deleted.items():
            table.add_row(experiment_id, str(count))
        console.print(table)
    console.print(f"Removed {purged.total} trace(s) from {len(purged.deleted)} experiment(s).")
