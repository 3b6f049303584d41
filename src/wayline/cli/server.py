"""``wayline server`` (alias ``wayline ui``): run the tracking server under uvicorn."""

from __future__ import annotations

import os

import click

from wayline.cli._common import reports_errors


# The defaults repeat ServerSettings' on purpose: importing wayline.server loads FastAPI, which
# every other command would then pay for at start-up.
@click.command()
@click.option(
    "--backend-store-uri",
    default="sqlite:///wayline.db",
    show_default=True,
    metavar="URI",
    help="Tracking store: sqlite:///path.db, postgresql://user@host/db or mysql://user@host/db.",
)
@click.option(
    "--default-artifact-root",
    default="mlflow-artifacts:/",
    show_default=True,
    metavar="URI",
    help="Where experiments created without an artifact location keep artifacts.",
)
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("-p", "--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes serving requests.",
)
@reports_errors
def server(
    backend_store_uri: str, default_artifact_root: str, host: str, port: int, workers: int
) -> None:
    """Run the tracking server: MLflow's REST API on Wayline's stores.

    Point MLflow or Wayline clients at it with MLFLOW_TRACKING_URI=http://HOST:PORT.

    Example: wayline server --backend-store-uri sqlite:///wayline.db --port 5000
    """
    import uvicorn

    from wayline.server.settings import ServerSettings
    from wayline.store.resolve import tracking_store

    settings = ServerSettings(
        backend_store_uri=backend_store_uri,
        default_artifact_root=default_artifact_root,
        host=host,
        port=port,
        workers=workers,
    )
    # Create or check the schema once here, so workers never race to set up an empty database
    # and a bad URI fails with a message before the server starts.
    tracking_store(settings.backend_store_uri, settings.default_artifact_root).close()
    # Workers are separate processes that import the app themselves: they find the settings
    # in the environment they inherit.
    os.environ.update(settings.to_env())
    uvicorn.run(
        "wayline.server.app:create_app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
    )


__all__ = ["server"]
