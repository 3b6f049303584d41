"""``wayline experiments``: create, search, rename, delete and restore experiments."""

from __future__ import annotations

import click
from rich.table import Table

from wayline.cli._common import (
    client,
    console,
    format_ms,
    reports_errors,
    tracking_uri_option,
    view_option,
)
from wayline.entities import ViewType


@click.group()
def experiments() -> None:
    """Manage experiments."""


@experiments.command()
@click.option("-n", "--experiment-name", required=True, help="Name of the new experiment.")
@click.option("-l", "--artifact-location", default=None, help="Where its runs store artifacts.")
@tracking_uri_option
@reports_errors
def create(experiment_name: str, artifact_location: str | None, tracking_uri: str | None) -> None:
    """Create an experiment and print its id.

    Example: wayline experiments create -n churn-model
    """
    experiment_id = client(tracking_uri).create_experiment(experiment_name, artifact_location)
    console.print(f"Created experiment '{experiment_name}' with id {experiment_id}")


@experiments.command()
@view_option
@click.option("--max-results", type=int, default=None, help="Show at most this many.")
@click.option("--filter", "filter_string", default=None, help="e.g. \"name LIKE 'churn%'\"")
@tracking_uri_option
@reports_errors
def search(
    view: str, max_results: int | None, filter_string: str | None, tracking_uri: str | None
) -> None:
    """List experiments, newest first.

    Example: wayline experiments search --view all
    """
    found = client(tracking_uri).search_experiments(
        view_type=ViewType.from_string(view),
        max_results=max_results or 1000,
        filter_string=filter_string,
    )
    table = Table("Experiment Id", "Name", "Lifecycle", "Created", "Artifact Location")
    for exp in found:
        table.add_row(
            exp.experiment_id,
            exp.name,
            exp.lifecycle_stage,
            format_ms(exp.creation_time),
            exp.artifact_location,
        )
    console.print(table)


@experiments.command()
@click.option("-x", "--experiment-id", required=True)
@click.option("--new-name", required=True)
@tracking_uri_option
@reports_errors
def rename(experiment_id: str, new_name: str, tracking_uri: str | None) -> None:
    """Rename an experiment.

    Example: wayline experiments rename -x 3 --new-name churn-v2
    """
    client(tracking_uri).rename_experiment(experiment_id, new_name)
    console.print(f"Experiment {experiment_id} renamed to '{new_name}'")


@experiments.command()
@click.option("-x", "--experiment-id", required=True)
@tracking_uri_option
@reports_errors
def delete(experiment_id: str, tracking_uri: str | None) -> None:
    """Delete an experiment and its runs (restorable until `wayline gc`).

    Example: wayline experiments delete -x 3
    """
    client(tracking_uri).delete_experiment(experiment_id)
    console.print(
        f"Experiment {experiment_id} deleted; `wayline experiments restore -x {experiment_id}` "
        "undoes this, `wayline gc` makes it permanent."
    )


@experiments.command()
@click.option("-x", "--experiment-id", required=True)
@tracking_uri_option
@reports_errors
def restore(experiment_id: str, tracking_uri: str | None) -> None:
    """Restore a deleted experiment and its runs.

    Example: wayline experiments restore -x 3
    """
    client(tracking_uri).restore_experiment(experiment_id)
    console.print(f"Experiment {experiment_id} restored")
