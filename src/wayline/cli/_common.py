"""Shared pieces of the CLI: the tracking-URI option, output, and error reporting."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click
from rich.console import Console

from wayline.errors import WaylineError

if TYPE_CHECKING:
    from wayline.tracking.client import Client

P = ParamSpec("P")
R = TypeVar("R")

console = Console(highlight=False)

tracking_uri_option = click.option(
    "--tracking-uri",
    default=None,
    metavar="URI",
    help="Tracking store, e.g. sqlite:///wayline.db or postgresql://host/db. "
    "Defaults to WAYLINE_TRACKING_URI, MLFLOW_TRACKING_URI, then sqlite:///wayline.db.",
)

view_option = click.option(
    "-v",
    "--view",
    type=click.Choice(["active_only", "deleted_only", "all"], case_sensitive=False),
    default="active_only",
    show_default=True,
    help="Which lifecycle stages to show.",
)


def reports_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a WaylineError into a one-line message and exit code 1 instead of a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except WaylineError as exc:
            raise click.ClickException(f"{exc.message} ({exc.error_code})") from exc

    return wrapper


def format_ms(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def client(tracking_uri: str | None) -> Client:
    """A Client on ``tracking_uri`` (or the default resolution when None)."""
    from wayline.tracking.client import Client

    return Client(tracking_uri=tracking_uri)
