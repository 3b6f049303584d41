"""``wayline artifacts``: upload, list and download a run's artifacts, with MLflow's command names.

Transfers draw a progress bar (bytes, speed, time left) when stdout is a terminal, fed by the
repositories through ``wayline.artifacts.progress``. Piped output and ``--quiet`` draw nothing,
so ``$(wayline artifacts download ...)`` captures just the path.
"""

from __future__ import annotations

import json
import os
import posixpath
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

import click

from wayline.cli._common import client, console, reports_errors, tracking_uri_option
from wayline.errors import WaylineError

if TYPE_CHECKING:
    from wayline.artifacts.repository import ArtifactRepository

quiet_option = click.option(
    "-q", "--quiet", is_flag=True, help="Draw no progress bar (none is drawn when piped either)."
)
artifact_path_option = click.option(
    "-a",
    "--artifact-path",
    default=None,
    metavar="PATH",
    help="Directory inside the run's artifacts (default: the run's artifact root).",
)
run_id_option = click.option("-r", "--run-id", required=True, help="The run's id.")


@click.group()
def artifacts() -> None:
    """Upload, list and download the artifacts of runs.

    The run is found through the tracking URI (--tracking-uri, else WAYLINE_TRACKING_URI or
    MLFLOW_TRACKING_URI); its artifacts move through the tracking server's proxy or straight to
    storage, whichever its artifact URI names.
    """


# ---------------------------------------------------------------- helpers
def _run_repository(tracking_uri: str | None, run_id: str) -> ArtifactRepository:
    from wayline.artifacts.resolve import artifact_repository

    tracking = client(tracking_uri)
    return artifact_repository(tracking.get_run(run_id).info.artifact_uri, tracking.tracking_uri)


def _shows_progress(quiet: bool) -> bool:
    # stdout itself, not rich's guess (FORCE_COLOR makes rich treat a pipe as a terminal): a
    # captured `$(wayline artifacts download ...)` must get the path and nothing else.
    return not quiet and sys.stdout.isatty()


@contextmanager
def _transfer(description: str, total: int | None, show: bool) -> Iterator[None]:
    """A progress bar over the bytes that transfers inside the block report (if ``show``)."""
    with ExitStack() as stack:
        if show:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            from wayline.artifacts.progress import listening

            bar = stack.enter_context(
                Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    DownloadColumn(),
                    TransferSpeedColumn(),
                    TimeRemainingColumn(),
                    console=console,
                )
            )
            task = bar.add_task(description, total=total)
            stack.enter_context(listening(lambda moved: bar.advance(task, moved)))
        yield


def _directory_size(local_dir: str) -> int:
    return sum(
        os.path.getsize(os.path.join(folder, name))
        for folder, _, names in os.walk(local_dir)
        for name in names
    )


def _tree_size(repo: ArtifactRepository, path: str) -> int:
    """Bytes under artifact ``path``: a directory's files, or one file found in its parent."""
    infos = repo.list_artifacts(path or None)
    if not infos and path:  # a file lists as nothing: its size is in its directory's listing
        siblings = repo.list_artifacts(posixpath.dirname(path) or None)
        return next((i.file_size or 0 for i in siblings if i.path == path), 0)
    return sum(_tree_size(repo, i.path) if i.is_dir else i.file_size or 0 for i in infos)


def _download_size(
    tracking_uri: str | None, run_id: str | None, path: str | None, artifact_uri: str | None
) -> int | None:
    """The bytes a download will move, for the progress bar; None when it cannot be told."""
    from wayline.artifacts.paths import safe_relative_path
    from wayline.artifacts.resolve import artifact_repository
    from wayline.artifacts.uris import resolve_artifact_uri
    from wayline.tracking.uri import get_tracking_uri

    tracking = tracking_uri or get_tracking_uri()
    try:
        if artifact_uri is None:
            relative = safe_relative_path(path)
            artifact_uri = f"runs:/{run_id}/{relative}" if relative else f"runs:/{run_id}"
        # Split as the download splits it: the directory holding the artifact, and its name.
        root, name = resolve_artifact_uri(artifact_uri, tracking)
        return _tree_size(artifact_repository(root, tracking), name) or None
    except WaylineError:
        return None  # the download itself reports what is wrong


# ---------------------------------------------------------------- commands
@artifacts.command("log-artifact")
@click.option(
    "-l",
    "--local-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The file to upload.",
)
@run_id_option
@artifact_path_option
@tracking_uri_option
@quiet_option
@reports_errors
def log_artifact(
    local_file: str,
    run_id: str,
    artifact_path: str | None,
    tracking_uri: str | None,
    quiet: bool,
) -> None:
    """Upload one file into a run's artifacts.

    The file keeps its name, under --artifact-path if given.

    Example: wayline artifacts log-artifact --local-file model.pkl --run-id 5f0c... -a model
    """
    repo = _run_repository(tracking_uri, run_id)
    name = os.path.basename(local_file)
    with _transfer(f"Uploading {name}", os.path.getsize(local_file), _shows_progress(quiet)):
        repo.log_artifact(local_file, artifact_path)
    target = posixpath.join(artifact_path or "", name)
    click.echo(f"Logged {local_file} as {target} in run {run_id}")


@artifacts.command("log-artifacts")
@click.option(
    "-l",
    "--local-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="The directory whose files to upload.",
)
@run_id_option
@artifact_path_option
@tracking_uri_option
@quiet_option
@reports_errors
def log_artifacts(
    local_dir: str,
    run_id: str,
    artifact_path: str | None,
    tracking_uri: str | None,
    quiet: bool,
) -> None:
    """Upload a directory into a run's artifacts.

    Every file under --local-dir keeps its place in the tree, under --artifact-path if given.

    Example: wayline artifacts log-artifacts --local-dir outputs/ --run-id 5f0c... -a outputs
    """
    repo = _run_repository(tracking_uri, run_id)
    show = _shows_progress(quiet)
    total = _directory_size(local_dir) if show else None
    with _transfer(f"Uploading {local_dir}", total, show):
        repo.log_artifacts(local_dir, artifact_path)
    click.echo(f"Logged {local_dir} under {artifact_path or 'the artifact root'} in run {run_id}")


@artifacts.command("list")
@run_id_option
@artifact_path_option
@click.option("--json", "as_json", is_flag=True, help="Print MLflow's JSON list instead.")
@tracking_uri_option
@reports_errors
def list_artifacts(
    run_id: str, artifact_path: str | None, as_json: bool, tracking_uri: str | None
) -> None:
    """List a run's artifacts.

    The files and directories directly under --artifact-path (default: the artifact root).

    Example: wayline artifacts list --run-id 5f0c... --artifact-path model
    """
    from wayline.artifacts.codec import encode_file_info

    infos = _run_repository(tracking_uri, run_id).list_artifacts(artifact_path)
    if as_json:
        click.echo(json.dumps([encode_file_info(info) for info in infos], indent=2))
        return
    if not infos:
        click.echo(f"No artifacts under {artifact_path or 'the artifact root'} of run {run_id}")
        return
    from rich.filesize import decimal
    from rich.table import Column, Table

    table = Table(Column("Path", overflow="fold"), Column("Size", justify="right"))
    for info in infos:
        if info.is_dir:
            table.add_row(f"{info.path}/", "")
        else:
            table.add_row(info.path, decimal(info.file_size or 0))
    console.print(table, markup=False)


@artifacts.command("download")
@click.option("-r", "--run-id", default=None, help="The run to download from.")
@click.option(
    "-a",
    "--artifact-path",
    default=None,
    metavar="PATH",
    help="With --run-id: the file or directory to download (default: all of the run's).",
)
@click.option(
    "-u",
    "--artifact-uri",
    default=None,
    metavar="URI",
    help="Instead of --run-id: runs:/<run_id>/<path>, mlflow-artifacts:/..., s3://..., a path.",
)
@click.option(
    "-d",
    "--dst-path",
    default=None,
    type=click.Path(file_okay=False),
    help="Local directory to download into (created if missing; default: a new temporary one).",
)
@tracking_uri_option
@quiet_option
@reports_errors
def download(
    run_id: str | None,
    artifact_path: str | None,
    artifact_uri: str | None,
    dst_path: str | None,
    tracking_uri: str | None,
    quiet: bool,
) -> None:
    """Download artifacts; print their local path.

    Give --run-id (with --artifact-path for part of the run) or --artifact-uri; as in MLflow,
    --artifact-uri wins when both are given.

    Example: wayline artifacts download --artifact-uri runs:/5f0c.../model --dst-path ./model
    """
    if artifact_uri is None and run_id is None:
        raise click.UsageError("Give --run-id (and optionally --artifact-path) or --artifact-uri.")
    if artifact_uri is not None:
        run_id = artifact_path = None
    from wayline.artifacts.api import download_artifacts

    show = _shows_progress(quiet)
    total = _download_size(tracking_uri, run_id, artifact_path, artifact_uri) if show else None
    with _transfer("Downloading", total, show):
        local = download_artifacts(
            artifact_uri=artifact_uri,
            run_id=run_id,
            artifact_path=artifact_path,
            dst_path=dst_path,
            tracking_uri=tracking_uri,
        )
    click.echo(local)
