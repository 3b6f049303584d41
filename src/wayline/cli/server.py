"""``wayline server`` (alias ``wayline ui``): run the tracking server under uvicorn.

Flags follow ``mlflow server``; each also reads an environment variable, ``WAYLINE_<NAME>``
first and then MLflow's own name (``MLFLOW_BACKEND_STORE_URI``, ``MLFLOW_SERVER_ALLOWED_HOSTS``,
``MLFLOW_SQLALCHEMYSTORE_POOL_SIZE`` …), so a deployment configured for MLflow keeps working.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

import click

from wayline.cli._common import reports_errors

if TYPE_CHECKING:
    from wayline.server.settings import ServerSettings

# The defaults repeat ServerSettings' on purpose: importing wayline.server loads FastAPI, which
# every other command would then pay for at start-up.
PROXY_ARTIFACT_ROOT = "mlflow-artifacts:/"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _env(name: str, mlflow_name: str | None = None) -> list[str]:
    return [f"WAYLINE_{name}", mlflow_name or f"MLFLOW_{name}"]


def _split_list(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    """A comma-separated list flag: None when absent (the server's defaults apply)."""
    if value is None:
        return None
    return tuple(item.strip() for item in value.split(",") if item.strip())


@click.command()
@click.option(
    "--backend-store-uri",
    default="sqlite:///wayline.db",
    show_default=True,
    envvar=_env("BACKEND_STORE_URI"),
    metavar="URI",
    help="Tracking store: sqlite:///path.db, postgresql://user@host/db or mysql://user@host/db.",
)
@click.option(
    "--registry-store-uri",
    default=None,
    envvar=_env("REGISTRY_STORE_URI"),
    metavar="URI",
    help="Model registry store. Defaults to the backend store.",
)
@click.option(
    "--default-artifact-root",
    default=None,
    envvar=_env("DEFAULT_ARTIFACT_ROOT"),
    metavar="URI",
    help="Where experiments created without an artifact location keep artifacts. Defaults to "
    f"{PROXY_ARTIFACT_ROOT} (the server's artifact proxy) when serving artifacts.",
)
@click.option(
    "--serve-artifacts/--no-serve-artifacts",
    default=True,
    show_default=True,
    envvar=_env("SERVE_ARTIFACTS"),
    help="Proxy artifact uploads and downloads through this server.",
)
@click.option(
    "--artifacts-destination",
    default="./wayline-artifacts",
    show_default=True,
    envvar=_env("ARTIFACTS_DESTINATION"),
    metavar="URI",
    help="Where the artifact proxy stores artifacts: a local path or s3://, gs:// … URI.",
)
@click.option(
    "--artifacts-only",
    is_flag=True,
    default=False,
    envvar=_env("ARTIFACTS_ONLY"),
    help="Serve only the artifact proxy; tracking requests answer 503.",
)
@click.option(
    "-h",
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar=_env("HOST"),
    help="Address to bind; 0.0.0.0 for every interface.",
)
@click.option(
    "-p",
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 65535),
    envvar=_env("PORT"),
)
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_env("WORKERS"),
    help="Worker processes serving requests.",
)
@click.option(
    "--allowed-hosts",
    default=None,
    callback=_split_list,
    envvar=_env("SERVER_ALLOWED_HOSTS"),
    metavar="LIST",
    help="Comma-separated Host header patterns to accept ('*.example.com', 'host:5000', '*'). "
    "Default: localhost, private addresses and the bound host.",
)
@click.option(
    "--cors-allowed-origins",
    default=None,
    callback=_split_list,
    envvar=_env("SERVER_CORS_ALLOWED_ORIGINS"),
    metavar="LIST",
    help="Comma-separated origins browsers may call the API from ('https://*.example.com', "
    "'*'). Default: any localhost origin.",
)
@click.option(
    "--x-frame-options",
    default="SAMEORIGIN",
    show_default=True,
    type=click.Choice(["SAMEORIGIN", "DENY", "NONE"], case_sensitive=False),
    envvar=_env("SERVER_X_FRAME_OPTIONS"),
    help="X-Frame-Options header on every response (NONE: send none).",
)
@click.option(
    "--max-request-body-bytes",
    default=100 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=_env("MAX_REQUEST_BODY_BYTES"),
    help="Largest request body accepted (artifact uploads are streamed and exempt).",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Log one line per request (logger wayline.access) to standard output.",
)
@click.option(
    "--graceful-shutdown-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="SECONDS",
    help="On SIGTERM or Ctrl-C, how long requests in flight may take to finish.",
)
@click.option(
    "--db-pool-size",
    default=None,
    type=click.IntRange(min=0),
    envvar=["WAYLINE_DB_POOL_SIZE", "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"],
    help="Database connections each worker keeps open. Default: 5, less with many workers.",
)
@click.option(
    "--db-max-overflow",
    default=None,
    type=click.IntRange(min=0),
    envvar=["WAYLINE_DB_MAX_OVERFLOW", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"],
    help="Extra connections each worker may open under load. Default: 10, less with many workers.",
)
@click.option(
    "--truncate-long-values/--no-truncate-long-values",
    default=True,
    show_default=True,
    envvar=_env("TRUNCATE_LONG_VALUES"),
    help="Cut run param/tag values over 6000/8000 characters instead of refusing them.",
)
@reports_errors
def server(**options: Any) -> None:
    """Run the tracking server: MLflow's REST API on Wayline's stores.

    Point MLflow or Wayline clients at it with MLFLOW_TRACKING_URI=http://HOST:PORT.
    Prometheus metrics are served at /metrics, health at /health.

    Examples:

    \b
        wayline server --backend-store-uri sqlite:///wayline.db --port 5000
        wayline server --backend-store-uri postgresql://wayline@db/wayline \\
            --host 0.0.0.0 --workers 4 --allowed-hosts "mlflow.example.com" \\
            --artifacts-destination s3://bucket/artifacts
        wayline server --artifacts-only --artifacts-destination s3://bucket/artifacts
    """
    import uvicorn

    settings = _settings(**options)
    if not settings.artifacts_only:
        _check_databases(settings)
    created_metrics_dir = None
    if settings.workers > 1:
        settings, created_metrics_dir = _with_shared_metrics(settings)
    # Workers are separate processes that import the app themselves: they find the settings
    # in the environment they inherit.
    os.environ.update(settings.to_env())
    try:
        uvicorn.run(
            "wayline.server.app:create_app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            # Our middleware writes the access log (with durations); uvicorn's would repeat it.
            access_log=False,
            log_config=log_config(),
            timeout_graceful_shutdown=int(settings.graceful_shutdown_s),
        )
    finally:
        if created_metrics_dir is not None:
            shutil.rmtree(created_metrics_dir, ignore_errors=True)


def _settings(
    *,
    default_artifact_root: str | None,
    serve_artifacts: bool,
    artifacts_only: bool,
    graceful_shutdown_timeout: int,
    **options: Any,
) -> ServerSettings:
    from wayline.server.settings import ServerSettings

    if artifacts_only and not serve_artifacts:
        raise click.UsageError(
            "--artifacts-only needs the artifact proxy: drop --no-serve-artifacts."
        )
    if default_artifact_root is None:
        default_artifact_root = PROXY_ARTIFACT_ROOT
    if not serve_artifacts and default_artifact_root.startswith("mlflow-artifacts:"):
        raise click.UsageError(
            f"With --no-serve-artifacts the default artifact root cannot be "
            f"{default_artifact_root!r}: clients could not reach it. Pass --default-artifact-root "
            "with a location clients can write to (s3://bucket/path, /shared/artifacts …)."
        )
    try:
        return ServerSettings(
            default_artifact_root=default_artifact_root,
            serve_artifacts=serve_artifacts,
            artifacts_only=artifacts_only,
            graceful_shutdown_s=float(graceful_shutdown_timeout),
            x_frame_options=options.pop("x_frame_options").upper(),
            **options,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _check_databases(settings: ServerSettings) -> None:
    """Create the schema in an empty database or refuse an outdated one, before serving.

    Done once here so that workers never race to set up an empty database, and so that a bad
    URI or an old schema ends the command with a message (naming ``wayline db upgrade``)
    instead of a worker failing at its first request.
    """
    from wayline.server.app import build_tracking_store
    from wayline.store.resolve import tracking_store

    build_tracking_store(settings).close()
    if settings.registry_uri != settings.backend_store_uri:
        tracking_store(settings.registry_uri, settings.default_artifact_root).close()


def _with_shared_metrics(settings: ServerSettings) -> tuple[ServerSettings, str | None]:
    """Settings whose workers count Prometheus metrics in one shared directory.

    prometheus_client picks its multiprocess mode from PROMETHEUS_MULTIPROC_DIR when first
    imported, so it is set here, before uvicorn starts the worker processes. A directory the
    user chose is kept; one made here is removed when the server stops.
    """
    from dataclasses import replace

    directory = os.environ.get(METRICS_DIR_ENV)
    created = None
    if not directory:
        directory = created = tempfile.mkdtemp(prefix="wayline-metrics-")
        os.environ[METRICS_DIR_ENV] = directory
    return replace(settings, metrics_dir=directory), created


def log_config() -> dict[str, Any]:
    """uvicorn's logging setup plus Wayline's loggers: access lines to stdout, errors to stderr.

    Each worker applies it when it starts.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        key: dict(value) if isinstance(value, dict) else value
        for key, value in LOGGING_CONFIG.items()
    }
    config["formatters"]["wayline"] = {
        "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
    }
    config["formatters"]["wayline_access"] = {
        "format": "ts=%(asctime)s %(message)s",
        "datefmt": "%Y-%m-%dT%H:%M:%S%z",
    }
    config["handlers"]["wayline"] = {
        "class": "logging.StreamHandler",
        "formatter": "wayline",
        "stream": "ext://sys.stderr",
    }
    config["handlers"]["wayline_access"] = {
        "class": "logging.StreamHandler",
        "formatter": "wayline_access",
        "stream": "ext://sys.stdout",
    }
    config["loggers"]["wayline"] = {"handlers": ["wayline"], "level": "INFO", "propagate": False}
    config["loggers"]["wayline.access"] = {
        "handlers": ["wayline_access"],
        "level": "INFO",
        "propagate": False,
    }
    return config


__all__ = ["log_config", "server"]
