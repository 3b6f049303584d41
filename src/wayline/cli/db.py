"""``wayline db upgrade`` and ``wayline gc``: schema migrations and permanent deletion."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import click

from wayline.cli._common import console, reports_errors
from wayline.errors import InvalidParameter

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
@click.option("--older-than", default=None, help="Only what was deleted longer ago, e.g. 30d.")
@click.option("--run-ids", default=None, help="Comma-separated deleted runs to remove.")
@click.option("--experiment-ids", default=None, help="Comma-separated deleted experiments.")
@reports_errors
def gc(
    store_uri: str | None,
    older_than: str | None,
    run_ids: str | None,
    experiment_ids: str | None,
) -> None:
    """Permanently remove deleted runs and experiments, with their local artifacts.

    With no ids, removes every deleted run and experiment (older than --older-than if given).

    Example: wayline gc --older-than 30d
    """
    from wayline.store.resolve import tracking_store
    from wayline.store.sql.gc import purge_deleted
    from wayline.store.sql.store import SqlStore
    from wayline.tracking.uri import get_tracking_uri

    uri = store_uri or get_tracking_uri()
    store = tracking_store(uri)
    if not isinstance(store, SqlStore):
        raise click.ClickException(f"`wayline gc` needs a SQL store; {uri} is not one.")
    older_than_ms = None if older_than is None else parse_duration_ms(older_than)
    with console.status("Removing deleted runs and experiments..."):
        removed = purge_deleted(
            store,
            older_than_ms=older_than_ms,
            run_ids=_split_ids(run_ids),
            experiment_ids=_split_ids(experiment_ids),
        )
    folders = [path for uri in removed.artifact_uris if (path := _local_path(uri)) is not None]
    from rich.progress import Progress  # only this command draws progress: keep start-up light

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Removing artifacts", total=len(folders))
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
            progress.advance(task)
    console.print(
        f"Removed {len(removed.run_ids)} run(s) and {len(removed.experiment_ids)} experiment(s)."
    )
