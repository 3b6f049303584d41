"""``wayline models``: serve a model, predict in batch, build Docker images.

Commands here deploy models; registry commands (list, describe, versions …) join the same
group with ``models.add_command``. Flags follow ``mlflow models``; the server's flags also read
``WAYLINE_SCORING_*`` environment variables (and MLflow's names), which is how a Docker image
built here is tuned at ``docker run -e``.

Nothing heavy is imported at module level: ``wayline --help`` must stay fast.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
from typing import Any

import click

from wayline.cli._common import reports_errors

ENV_MANAGERS = ["local", "virtualenv", "uv"]

model_uri_option = click.option(
    "-m",
    "--model-uri",
    required=True,
    metavar="URI",
    help="The model: a local path, runs:/<run>/<path>, models:/<name>/<version>, models:/m-<id> "
    "or any artifact URI.",
)
env_manager_option = click.option(
    "--env-manager",
    type=click.Choice(ENV_MANAGERS),
    default="local",
    show_default=True,
    help="local: use this Python environment. virtualenv / uv: install the model's recorded "
    "requirements into a cached environment (~/.cache/wayline/envs) first and run there; "
    "Wayline itself comes from this installation (its checkout or wheel), or from "
    "WAYLINE_INSTALL_SPEC (any pip requirement or path) when set.",
)


@click.group()
def models() -> None:
    """Registered models (list, describe, versions, alias, transition, history) and deployment
    (REST scoring server, batch prediction, Docker images)."""


def _check_local(model_uri: str) -> None:
    """A plain path that does not exist is a typo, not an artifact to look for in a store."""
    from wayline.errors import NotFound

    if "://" not in model_uri and ":/" not in model_uri and not os.path.exists(model_uri):
        raise NotFound(
            f"There is no model at {model_uri}: give a model directory, or a URI such as "
            "runs:/<run_id>/model or models:/<name>/<version>."
        )


def _local_model(model_uri: str) -> str:
    """The model's local directory (downloaded once, so workers and envs share it)."""
    from wayline.pyfunc.loading import download_model

    return download_model(model_uri)


def _reexec_in_env(model_dir: str, env_manager: str, argv: list[str]) -> None:
    """Run this command again inside the model's environment (never returns)."""
    from wayline.serving.envs import prepare_environment, serves_optimized

    python = prepare_environment(model_dir, env_manager)
    entry = "import gc; gc.disable(); from wayline.cli.main import cli; cli()"
    optimize = ["-OO"] if serves_optimized(model_dir) else []
    command = [str(python), *optimize, "-c", entry, *argv]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


@models.command()
@model_uri_option
@click.option(
    "-p",
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar=["WAYLINE_SCORING_PORT"],
)
@click.option(
    "-h",
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar=["WAYLINE_SCORING_HOST"],
    help="Address to bind; 0.0.0.0 for every interface.",
)
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=["WAYLINE_SCORING_WORKERS", "MLFLOW_MODELS_WORKERS"],
    help="Worker processes, each with its own copy of the model.",
)
@click.option(
    "-t",
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    envvar=["WAYLINE_SCORING_TIMEOUT", "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT"],
    metavar="SECONDS",
    help="Longest time one request may take (reading, parsing, predicting); then 504.",
)
@click.option(
    "--max-request-bytes",
    default=100 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=["WAYLINE_SCORING_MAX_REQUEST_BYTES"],
    help="Largest request body accepted; larger ones get 413.",
)
@click.option(
    "--max-batch-rows",
    default=None,
    type=click.IntRange(min=1),
    envvar=["WAYLINE_SCORING_MAX_BATCH_ROWS"],
    help="Most rows one request may hold (default: no limit); more get 400.",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    envvar=["WAYLINE_SCORING_ACCESS_LOG"],
    help="Log one line per request (method, path, status, duration) to standard output.",
)
@env_manager_option
@reports_errors
def serve(
    model_uri: str,
    port: int,
    host: str,
    workers: int,
    timeout: float,
    max_request_bytes: int,
    max_batch_rows: int | None,
    access_log: bool,
    env_manager: str,
) -> None:
    """Serve a model over REST: POST /invocations, GET /ping, /health, /version.

    /invocations takes MLflow's JSON bodies (dataframe_split, dataframe_records, instances,
    inputs, with params), CSV (text/csv) and Parquet, and answers {"predictions": ...}.

    Examples:

    \b
        wayline models serve -m runs:/<run_id>/model -p 5001
        wayline models serve -m models:/churn@champion -h 0.0.0.0 -w 4 --env-manager uv
        curl http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\
            -d '{"dataframe_split": {"columns": ["x"], "data": [[1.0]]}}'
    """
    from wayline.serving.settings import ScoringSettings

    gc.disable()  # until the model is loaded: see serving.app.freeze_heap
    _check_local(model_uri)
    settings = ScoringSettings(
        timeout_s=timeout,
        max_request_bytes=max_request_bytes,
        max_batch_rows=max_batch_rows,
        access_log=access_log,
    )
    if env_manager != "local":
        model_dir = _local_model(model_uri)
        argv = ["models", "serve", "-m", model_dir, "--env-manager", "local"]
        argv += ["-p", str(port), "-h", host, "-w", str(workers), "-t", str(timeout)]
        argv += ["--max-request-bytes", str(max_request_bytes)]
        argv += ["--max-batch-rows", str(max_batch_rows)] if max_batch_rows else []
        argv += ["--access-log"] if access_log else []
        _reexec_in_env(model_dir, env_manager, argv)
    _run_server(model_uri, settings, host, port, workers)


def _run_server(model_uri: str, settings: Any, host: str, port: int, workers: int) -> None:
    import uvicorn

    from wayline.cli.server import log_config
    from wayline.serving.settings import MODEL_URI_ENV

    common: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,  # the app logs requests itself when asked (--access-log)
        "log_config": log_config(),
        "lifespan": "on",
    }
    if workers == 1:
        from wayline.serving.app import create_scoring_app, freeze_heap

        # Loaded before the port opens: the first /ping that connects is answered 200.
        app = create_scoring_app(model_uri, settings)
        freeze_heap()
        uvicorn.run(app, **common)
        return
    # Workers are separate processes building the app from the environment they inherit; the
    # model is downloaded once here rather than by each of them.
    gc.enable()  # this process only supervises: it loads no model
    os.environ[MODEL_URI_ENV] = _local_model(model_uri)
    os.environ.update(settings.to_env())
    uvicorn.run(
        "wayline.serving.app:create_scoring_app_from_env", factory=True, workers=workers, **common
    )


@models.command()
@model_uri_option
@click.option("-i", "--input-path", default=None, help="Input file (default: standard input).")
@click.option("-o", "--output-path", default=None, help="Output file (default: standard output).")
@click.option(
    "-t",
    "--content-type",
    type=click.Choice(["json", "jsonl", "csv", "parquet"], case_sensitive=False),
    default=None,
    help="Input format. Default: from the input's extension, else json (an /invocations body).",
)
@click.option(
    "--output-format",
    type=click.Choice(["json", "jsonl", "csv", "parquet"], case_sensitive=False),
    default=None,
    help='Output format. Default: from the output\'s extension, else json ({"predictions": ...}).',
)
@click.option(
    "--chunk-size",
    default=10_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Rows read, predicted and written at a time.",
)
@click.option(
    "--params",
    default=None,
    metavar="JSON",
    help="Inference params as a JSON object, e.g. '{\"temperature\": 0.5}'.",
)
@env_manager_option
@reports_errors
def predict(
    model_uri: str,
    input_path: str | None,
    output_path: str | None,
    content_type: str | None,
    output_format: str | None,
    chunk_size: int,
    params: str | None,
    env_manager: str,
) -> None:
    """Predict a file in batch, streaming it in chunks (inputs larger than memory work).

    CSV, Parquet and JSON lines are read --chunk-size rows at a time; a JSON document in the
    /invocations format is read whole. Predictions are written as each chunk is done.

    Examples:

    \b
        wayline models predict -m runs:/<run_id>/model -i data.csv -o predictions.csv
        wayline models predict -m models:/churn/3 -i big.parquet -o out.parquet --chunk-size 50000
        echo '{"inputs": [[1.0, 2.0]]}' | wayline models predict -m ./model
    """
    import json

    from wayline.errors import InvalidParameter
    from wayline.serving.batch import format_of

    _check_local(model_uri)
    in_format = format_of(input_path, content_type)
    out_format = format_of(output_path, output_format)
    try:
        parsed_params = json.loads(params) if params else None
    except json.JSONDecodeError as e:
        raise InvalidParameter(f"--params is not a JSON object: {e}") from None
    if env_manager != "local":
        model_dir = _local_model(model_uri)
        argv = ["models", "predict", "-m", model_dir, "--env-manager", "local"]
        argv += ["-t", in_format, "--output-format", out_format, "--chunk-size", str(chunk_size)]
        argv += ["-i", os.path.abspath(input_path)] if input_path else []
        argv += ["-o", os.path.abspath(output_path)] if output_path else []
        argv += ["--params", params] if params else []
        _reexec_in_env(model_dir, env_manager, argv)
    from wayline.serving.batch import predict_file

    predict_file(
        model_uri, input_path, output_path, in_format, out_format, chunk_size, parsed_params
    )


@models.command("generate-dockerfile")
@model_uri_option
@click.option(
    "-d",
    "--output-directory",
    default="wayline-dockerfile",
    show_default=True,
    help="New directory for the Docker build context (Dockerfile, model, Wayline).",
)
@click.option(
    "--wayline-home",
    default=None,
    metavar="PATH",
    help="Install Wayline in the image from this checkout or wheel (default: the running "
    "installation's source when it is one, else wayline==<version> from the index).",
)
@reports_errors
def generate_dockerfile(model_uri: str, output_directory: str, wayline_home: str | None) -> None:
    """Write a Docker build context that serves the model on port 8080.

    Examples:

    \b
        wayline models generate-dockerfile -m runs:/<run_id>/model -d image/
        docker build -t my-model image/ && docker run -p 8080:8080 my-model
    """
    from wayline.serving.docker import generate_dockerfile as generate

    dockerfile = generate(_local_model(model_uri), output_directory, wayline_home)
    click.echo(f"Wrote {dockerfile}; build it with: docker build -t NAME {output_directory}")


@models.command("build-docker")
@model_uri_option
@click.option(
    "-n",
    "--name",
    default="wayline-pyfunc-servable",
    show_default=True,
    help="Image name (and optional :tag).",
)
@click.option(
    "--wayline-home",
    default=None,
    metavar="PATH",
    help="Install Wayline in the image from this checkout or wheel.",
)
@reports_errors
def build_docker(model_uri: str, name: str, wayline_home: str | None) -> None:
    """Build a Docker image serving the model on port 8080 (needs Docker).

    Examples:

    \b
        wayline models build-docker -m models:/churn/3 -n churn:3
        docker run -p 8080:8080 -e WAYLINE_SCORING_WORKERS=4 churn:3
    """
    from wayline.serving.docker import build_image
    from wayline.serving.docker import generate_dockerfile as generate

    with tempfile.TemporaryDirectory(prefix="wayline-docker-") as context:
        generate(_local_model(model_uri), os.path.join(context, "build"), wayline_home)
        build_image(os.path.join(context, "build"), name)
    click.echo(f"Built image {name}; run it with: docker run -p 8080:8080 {name}")


__all__ = ["models"]
