"""What a trace learns from the fluent API's state: where it goes and who made it.

``capture`` runs on the caller's thread when a root span starts (the active run is per thread);
the rest runs on the export thread.
"""

from __future__ import annotations

from functools import cache

from wayline.tracking import context, fluent, fluent_models
from wayline.tracking.uri import get_tracking_uri


def capture() -> tuple[str, str | None, str | None, str | None]:
    """``(tracking URI, experiment id or None, active run id, active model id)`` now.

    A trace started inside a run goes to the run's experiment and is linked to it
    (``mlflow.sourceRun``); otherwise to the active experiment, or to the default one, resolved
    at export (``None`` here)."""
    run = fluent.active_run()
    if run is None:
        run = _latest_run_of_any_thread()
    if run is not None:
        experiment_id: str | None = run.info.experiment_id
        run_id: str | None = run.info.run_id
    else:
        experiment_id = fluent._active_experiment_id
        run_id = None
    return get_tracking_uri(), experiment_id, run_id, fluent_models._active_model_id


def _latest_run_of_any_thread() -> fluent.ActiveRun | None:
    # As MLflow does: traces made in worker threads (a thread pool inside a model's predict)
    # still belong to the run the main thread started.
    if not fluent._open_stacks:
        return None
    with fluent._stacks_lock:
        stacks = [stack for stack in fluent._open_stacks.values() if stack]
    return stacks[-1][-1] if stacks else None


def default_experiment_id(uri: str) -> str:
    """The experiment of a trace started outside any run and active experiment."""
    from wayline.tracking.client import Client

    return fluent.default_experiment_id(Client(uri))


@cache
def _base() -> tuple[tuple[str, str], ...]:
    return tuple(context.system_tags().items())


def base_metadata() -> dict[str, str]:
    """User, source name and type, git commit: the same for every trace of this process."""
    return dict(_base())


__all__ = ["base_metadata", "capture", "default_experiment_id"]
