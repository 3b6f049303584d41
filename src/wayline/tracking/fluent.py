"""The fluent API's state: the active experiment, the active-run stack, runs' start and end.

Each thread has its own stack of active runs (as in MLflow 3), so worker threads can track their
own runs; the active experiment and the tracking URI are process-wide. Runs still active when the
interpreter exits are ended: FINISHED, or FAILED/KILLED when the script died of an exception.
"""

from __future__ import annotations

import atexit
import sys
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from wayline.entities import Experiment, LifecycleStage, Run, RunStatus, RunTag, ViewType
from wayline.errors import InvalidParameter, InvalidState
from wayline.store.tracking import DEFAULT_EXPERIMENT_ID, SEARCH_MAX_RESULTS_LIMIT
from wayline.tracking import context
from wayline.tracking.client import Client
from wayline.tracking.uri import (
    EXPERIMENT_ID_VAR,
    EXPERIMENT_NAME_VAR,
    RUN_ID_VAR,
    env,
    get_tracking_uri,
)
from wayline.tracking.values import tag_value


class ActiveRun(Run):
    """The run returned by ``start_run``; use it as a context manager to end it.

    On leaving the ``with`` block the run ends FINISHED, FAILED if an exception escaped, or
    KILLED on KeyboardInterrupt. ``info``/``data`` are a snapshot from when it started.
    """

    def __init__(self, run: Run) -> None:
        Run.__init__(self, run.info, run.data, run.inputs, run.outputs)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _end_through(self.info.run_id, _status_for(exc_type))


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


# Stacks that hold runs, by thread, so that runs left open in any thread are ended at exit.
_open_stacks: dict[int, list[ActiveRun]] = {}
_stacks_lock = threading.Lock()
_state = _ThreadState()
_clients: dict[str, Client] = {}
_run_clients: dict[str, Client] = {}  # the client each active run was started with
_active_experiment_id: str | None = None
_last_active_run_id: str | None = None
_atexit_registered = False


def client() -> Client:
    """The Client for the current tracking URI (one per URI, reused by every fluent call)."""
    uri = get_tracking_uri()
    found = _clients.get(uri)
    if found is None:
        found = _clients[uri] = Client(uri)
    return found


def active_run_id() -> str:
    """The id of this thread's active run, starting one (as MLflow does) if there is none."""
    stack = _state.stack
    if stack:
        return stack[-1].info.run_id
    return start_run().info.run_id


# ---------------------------------------------------------------------- experiments
def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active for later runs, creating it (by name) if it does not exist.

    Example::

        import wayline
        wayline.set_experiment("churn-model")
        with wayline.start_run():
            wayline.log_metric("auc", 0.91)
    """
    global _active_experiment_id  # noqa: PLW0603 - process-wide, as in MLflow
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameter("Give exactly one of experiment_name and experiment_id.")
    c = client()
    if experiment_id is not None:
        experiment = c.get_experiment(str(experiment_id))
        label = f"with ID {experiment_id}"
    else:
        assert experiment_name is not None
        found = c.get_experiment_by_name(experiment_name)
        if found is None:
            experiment = c.get_experiment(c.create_experiment(experiment_name))
        else:
            experiment = found
        label = f"'{experiment_name}'"
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidParameter(
            f"Cannot set the deleted experiment {label} as the active experiment. Restore it "
            "(Client().restore_experiment) or choose another name: a deleted experiment keeps "
            "its name until it is permanently removed."
        )
    _active_experiment_id = experiment.experiment_id
    return experiment


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    """Create an experiment and return its id.

    Example::

        exp_id = wayline.create_experiment("ablation", tags={"team": "nlp"})
    """
    return client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """The experiment with this id.

    Example::

        print(wayline.get_experiment("0").name)
    """
    return client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment with this name, or None.

    Example::

        exp = wayline.get_experiment_by_name("churn-model")
    """
    return client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    """Soft-delete an experiment and its runs.

    Example::

        wayline.delete_experiment(exp_id)
    """
    client().delete_experiment(experiment_id)


def search_experiments(
    view_type: ViewType | int | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[Experiment]:
    """All matching experiments (every page), or at most ``max_results``.

    Example::

        names = [e.name for e in wayline.search_experiments(filter_string="name LIKE 'churn%'")]
    """
    c = client()
    found: list[Experiment] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = SEARCH_MAX_RESULTS_LIMIT if max_results is None else max_results - len(found)
        page = c.search_experiments(
            view_type, min(want, SEARCH_MAX_RESULTS_LIMIT), filter_string, order_by, token
        )
        found.extend(page)
        token = page.token
        if not token:
            break
    return found


def default_experiment_id(c: Client) -> str:
    if _active_experiment_id is not None:
        return _active_experiment_id
    name, experiment_id = env(EXPERIMENT_NAME_VAR), env(EXPERIMENT_ID_VAR)
    if name is not None:
        experiment = c.get_experiment_by_name(name)
        if experiment is None:
            return c.create_experiment(name)
        if experiment_id is not None and experiment_id != experiment.experiment_id:
            raise InvalidParameter(
                f"{EXPERIMENT_NAME_VAR}={name!r} and {EXPERIMENT_ID_VAR}={experiment_id!r} "
                "name different experiments."
            )
        return experiment.experiment_id
    if experiment_id is not None:
        return c.get_experiment(experiment_id).experiment_id
    return DEFAULT_EXPERIMENT_ID


# ---------------------------------------------------------------------- runs
def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run (or resume ``run_id``) and make it active; use it as a context manager.

    ``nested=True`` starts a child of the active run (tag ``mlflow.parentRunId``); without it,
    starting a run while one is active raises. ``description`` becomes the run's note.
    ``log_system_metrics`` is accepted for compatibility; system metrics are not collected yet.

    Example::

        with wayline.start_run(run_name="parent"):
            wayline.log_param("folds", 3)
            with wayline.start_run(run_name="fold-0", nested=True):
                wayline.log_metric("acc", 0.8)
    """
    global _atexit_registered  # noqa: PLW0603 - register the exit hook once
    stack = _state.stack
    if stack and not nested:
        raise InvalidState(
            f"Run with UUID {stack[-1].info.run_id} is already active. To start a new run, end "
            "the current one with wayline.end_run() first; to start a nested run, call "
            "start_run(nested=True)."
        )
    c = client()
    parent = _parent_for(c, stack, nested, parent_run_id)
    run_id = run_id or env(RUN_ID_VAR)
    if run_id:
        run = _resume(c, run_id, experiment_id, run_name, tags, description)
    else:
        merged = context.system_tags()
        merged.update((str(k), tag_value(v)) for k, v in (tags or {}).items())
        if parent is not None:
            merged[context.PARENT_RUN_ID] = parent
        if description is not None:
            merged[context.NOTE] = description
        exp_id = str(experiment_id) if experiment_id is not None else default_experiment_id(c)
        run = c.create_run(exp_id, tags=merged, run_name=run_name)
    active = ActiveRun(run)
    stack.append(active)
    _run_clients[run.info.run_id] = c
    with _stacks_lock:
        _open_stacks[threading.get_ident()] = stack
    if not _atexit_registered:
        atexit.register(_end_runs_at_exit)
        _atexit_registered = True
    return active


def _parent_for(
    c: Client, stack: list[ActiveRun], nested: bool, parent_run_id: str | None
) -> str | None:
    if parent_run_id is None:
        return stack[-1].info.run_id if nested and stack else None
    if stack and stack[-1].info.run_id != parent_run_id:
        raise InvalidParameter(
            f"The active run {stack[-1].info.run_id} is not the given parent_run_id "
            f"{parent_run_id}."
        )
    if c.get_run(parent_run_id).info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidParameter(f"The parent run {parent_run_id} is deleted.")
    return parent_run_id


def _resume(
    c: Client,
    run_id: str,
    experiment_id: str | None,
    run_name: str | None,
    tags: Mapping[str, Any] | None,
    description: str | None,
) -> Run:
    run = c.get_run(run_id)
    if experiment_id is not None and str(experiment_id) != run.info.experiment_id:
        raise InvalidParameter(
            f"Run {run_id} belongs to experiment {run.info.experiment_id}, not {experiment_id}."
        )
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidParameter(f"Cannot resume run {run_id}: it is deleted. Restore it first.")
    if run.info.status != RunStatus.RUNNING or run_name:
        c.store.update_run_info(run_id, RunStatus.RUNNING, None, run_name)
    extra = {str(k): tag_value(v) for k, v in (tags or {}).items()}
    if description is not None:
        extra[context.NOTE] = description
    if extra:
        c.log_batch(run_id, tags=[RunTag(k, v) for k, v in extra.items()])
    return c.get_run(run_id)


def end_run(status: str | RunStatus = RunStatus.FINISHED) -> None:
    """End this thread's active run (no-op without one); queued async values are written first.

    Example::

        wayline.start_run()
        wayline.log_metric("loss", 0.3)
        wayline.end_run()              # or end_run("FAILED")
    """
    stack = _state.stack
    if stack:
        _terminate(stack[-1], RunStatus.from_string(status))


def _terminate(run: ActiveRun, status: RunStatus) -> None:
    global _last_active_run_id  # noqa: PLW0603 - remembered for last_active_run()
    run_id = run.info.run_id
    # End the run where it lives, even if the tracking URI changed since it started.
    c = _run_clients.get(run_id) or client()
    failure: Exception | None = None
    try:
        c.flush_async(run_id)
    except Exception as exc:  # still end the run; the failure is raised below
        failure = exc
    try:
        c.set_terminated(run_id, status)
    finally:
        stack = _state.stack
        if run in stack:
            stack.remove(run)
        if not stack:
            with _stacks_lock:
                _open_stacks.pop(threading.get_ident(), None)
        if not any(r.info.run_id == run_id for r in stack):
            _run_clients.pop(run_id, None)
        _last_active_run_id = run_id
    if failure is not None:
        raise failure


def _end_through(run_id: str, status: RunStatus) -> None:
    """End the runs above ``run_id`` on this thread's stack, then it (a ``with`` block exit)."""
    stack = _state.stack
    if not any(r.info.run_id == run_id for r in stack):
        return  # already ended inside the block
    while stack:
        top = stack[-1]
        _terminate(top, status)
        if top.info.run_id == run_id:
            return


def _status_for(exc_type: type[BaseException] | None) -> RunStatus:
    if exc_type is None:
        return RunStatus.FINISHED
    if issubclass(exc_type, KeyboardInterrupt):
        return RunStatus.KILLED
    return RunStatus.FAILED


def _end_runs_at_exit() -> None:
    # An uncaught exception is recorded in sys.last_value before atexit hooks run.
    died = getattr(sys, "last_value", None)
    status = _status_for(type(died) if died is not None else None)
    with _stacks_lock:
        stacks = list(_open_stacks.values())
    for stack in stacks:
        while stack:
            run = stack.pop()
            try:
                (_run_clients.get(run.info.run_id) or client()).set_terminated(
                    run.info.run_id, status
                )
            except Exception as exc:  # at exit there is no caller to raise to
                sys.stderr.write(f"wayline: could not end run {run.info.run_id}: {exc!r}\n")


def active_run() -> ActiveRun | None:
    """This thread's active run, or None.

    Example::

        run = wayline.active_run()
        print(run.info.run_id if run else "no run")
    """
    stack = _state.stack
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run most recently ended, fetched fresh from the store.

    Example::

        with wayline.start_run():
            wayline.log_metric("acc", 0.9)
        print(wayline.last_active_run().data.metrics)
    """
    current = active_run()
    run_id = current.info.run_id if current is not None else _last_active_run_id
    return None if run_id is None else client().get_run(run_id)


def get_run(run_id: str) -> Run:
    """A run with its latest metrics, params and tags.

    Example::

        run = wayline.get_run(run_id)
    """
    return client().get_run(run_id)


def delete_run(run_id: str) -> None:
    """Soft-delete a run.

    Example::

        wayline.delete_run(run_id)
    """
    client().delete_run(run_id)
