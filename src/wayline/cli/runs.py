"""``wayline runs``: list, describe, delete and restore runs."""

from __future__ import annotations

import math

import click
from rich.table import Column, Table

from wayline.cli._common import (
    client,
    console,
    format_ms,
    print_json,
    reports_errors,
    tracking_uri_option,
    view_option,
)
from wayline.entities import Run, ViewType


@click.group()
def runs() -> None:
    """Inspect and manage runs."""


@runs.command(name="list")
@click.option("--experiment-id", required=True, help="Experiment whose runs to list.")
@view_option
@click.option("--filter", "filter_string", default="", help='e.g. "metrics.rmse < 1"')
@click.option("--order-by", multiple=True, help="e.g. 'metrics.rmse DESC' (repeatable).")
@click.option("--max-results", type=int, default=1000, show_default=True)
@tracking_uri_option
@reports_errors
def list_runs(
    experiment_id: str,
    view: str,
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
    tracking_uri: str | None,
) -> None:
    """List the runs of an experiment, newest first.

    Example: wayline runs list --experiment-id 1 --filter "params.model = 'xgb'"
    """
    found = client(tracking_uri).search_runs(
        [experiment_id],
        filter_string=filter_string,
        run_view_type=ViewType.from_string(view),
        max_results=max_results,
        order_by=list(order_by) or None,
    )
    # Ids are what users copy into other commands: never wrap or truncate them.
    run_id = Column("Run Id", no_wrap=True, min_width=32)
    table = Table(run_id, "Name", "Status", "Started", "Lifecycle")
    for run in found:
        info = run.info
        table.add_row(
            info.run_id,
            info.run_name,
            info.status,
            format_ms(info.start_time),
            info.lifecycle_stage,
        )
    console.print(table)


def _run_as_dict(run: Run) -> dict[str, object]:
    def number(value: float) -> float | str:
        return value if math.isfinite(value) else str(value)

    info = run.info
    return {
        "info": {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": str(info.status),
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": str(info.lifecycle_stage),
        },
        "data": {
            "metrics": {
                m.key: {"value": number(m.value), "step": m.step, "timestamp": m.timestamp}
                for m in run.data.latest_metrics
            },
            "params": run.data.params,
            "tags": run.data.tags,
        },
        "inputs": {
            "dataset_inputs": [
                {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "tags": {t.key: t.value for t in d.tags},
                }
                for d in run.inputs.dataset_inputs
            ]
        },
    }


@runs.command()
@click.option("--run-id", required=True)
@tracking_uri_option
@reports_errors
def describe(run_id: str, tracking_uri: str | None) -> None:
    """Print a run as JSON: info, latest metrics, params, tags and inputs.

    Example: wayline runs describe --run-id 5f0c...
    """
    print_json(_run_as_dict(client(tracking_uri).get_run(run_id)))


@runs.command()
@click.option("--run-id", required=True)
@tracking_uri_option
@reports_errors
def delete(run_id: str, tracking_uri: str | None) -> None:
    """Delete a run (restorable until `wayline gc`).

    Example: wayline runs delete --run-id 5f0c...
    """
    client(tracking_uri).delete_run(run_id)
    console.print(f"Run {run_id} deleted")


@runs.command()
@click.option("--run-id", required=True)
@tracking_uri_option
@reports_errors
def restore(run_id: str, tracking_uri: str | None) -> None:
    """Restore a deleted run.

    Example: wayline runs restore --run-id 5f0c...
    """
    client(tracking_uri).restore_run(run_id)
    console.print(f"Run {run_id} restored")
