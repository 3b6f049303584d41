"""Entry point of the ``wayline`` command."""

from __future__ import annotations

import click

from wayline import __version__
from wayline.cli.artifacts import artifacts
from wayline.cli.db import db, gc
from wayline.cli.experiments import experiments
from wayline.cli.models import models
from wayline.cli.prompts import prompts
from wayline.cli.registry import REGISTRY_COMMANDS
from wayline.cli.runs import runs
from wayline.cli.server import server
from wayline.cli.traces import traces


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wayline")
def cli() -> None:
    """Wayline: MLflow-compatible experiment tracking.

    With no configuration everything lives in ./wayline.db and ./wayline-artifacts; set
    WAYLINE_TRACKING_URI (or MLFLOW_TRACKING_URI) or pass --tracking-uri to use another store.
    """


cli.add_command(experiments)
cli.add_command(runs)
cli.add_command(artifacts)
cli.add_command(db)
cli.add_command(gc)
cli.add_command(server)
cli.add_command(server, name="ui")
cli.add_command(models)
for _command in REGISTRY_COMMANDS:  # the registry commands join `wayline models`
    models.add_command(_command)
cli.add_command(prompts)
cli.add_command(traces)
