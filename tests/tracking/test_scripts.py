"""User scripts run end to end in a fresh working directory, checked through a Client."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from wayline.tracking.client import Client

from ._support import ScriptRunner, clean_env, make_repo

MLFLOW_STYLE_SCRIPT = """
import wayline as mlflow

experiment = mlflow.set_experiment("drop-in")
assert mlflow.set_experiment("drop-in").experiment_id == experiment.experiment_id

with mlflow.start_run(run_name="parent", description="the parent run") as parent:
    mlflow.log_param("folds", 2)
    mlflow.log_params({"lr": 0.01, "model": "tree"})
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=4)
    mlflow.set_tags({"team": "vision", "stage": "dev"})
    mlflow.set_tag("stage", "prod")
    assert mlflow.active_run().info.run_id == parent.info.run_id
    for fold in range(2):
        with mlflow.start_run(run_name=f"fold-{fold}", nested=True) as child:
            mlflow.log_metric("fold_acc", 0.5 + fold / 10)
    try:
        mlflow.start_run()
    except mlflow.MlflowException as exc:
        assert "nested=True" in str(exc)
    else:
        raise AssertionError("a second top-level run must be refused")

assert mlflow.active_run() is None
assert mlflow.last_active_run().info.status == "FINISHED"

try:
    with mlflow.start_run(run_name="broken"):
        mlflow.log_param("x", 1)
        raise ValueError("boom")
except ValueError:
    pass

run = mlflow.start_run(run_name="plain")
mlflow.log_metric("m", 3.0)
mlflow.end_run()

df = mlflow.search_runs(order_by=["attributes.run_name ASC"])
print("ROWS", len(df))
print("COLUMNS", ",".join(df.columns))
assert list(df.columns[:6]) == [
    "run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"
]
assert str(df["start_time"].dt.tz) == "UTC"
statuses = dict(zip(df["tags.mlflow.runName"], df["status"]))
assert statuses == {
    "broken": "FAILED", "fold-0": "FINISHED", "fold-1": "FINISHED",
    "parent": "FINISHED", "plain": "FINISHED",
}, statuses
row = df[df["run_id"] == parent.info.run_id].iloc[0]
assert row["metrics.loss"] == 0.2 and row["params.lr"] == "0.01"
assert row["tags.stage"] == "prod"

got = mlflow.get_run(parent.info.run_id)
assert got.data.params == {"folds": "2", "lr": "0.01", "model": "tree"}
assert got.data.metrics["acc"] == 0.9
runs = mlflow.search_runs(filter_string="tags.mlflow.runName LIKE 'fold-%'", output_format="list")
assert {r.data.tags["mlflow.parentRunId"] for r in runs} == {parent.info.run_id}
print("PARENT", parent.info.run_id)
"""


def test_script_written_for_mlflow_runs_unchanged(
    run_script: ScriptRunner, workdir_client: Callable[[], Client], tmp_path: Path
) -> None:
    out = run_script(MLFLOW_STYLE_SCRIPT).stdout
    assert "ROWS 5" in out
    assert (tmp_path / "wayline.db").exists()
    parent_id = out.split("PARENT ")[1].split()[0]
    client = workdir_client()
    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED" and parent.info.end_time is not None
    assert parent.data.tags["mlflow.note.content"] == "the parent run"
    assert parent.data.tags["mlflow.source.type"] == "LOCAL"
    assert parent.data.tags["mlflow.source.name"] == "script.py"
    assert parent.data.tags["mlflow.user"] == parent.info.user_id
    assert [m.value for m in client.get_metric_history(parent_id, "loss")] == [
        1.0,
        0.5,
        1 / 3,
        0.25,
        0.2,
    ]
    experiment = client.get_experiment_by_name("drop-in")
    assert experiment is not None
    assert parent.info.experiment_id == experiment.experiment_id
    assert str(tmp_path / "wayline-artifacts") in parent.info.artifact_uri


def test_async_logging_loses_nothing(
    run_script: ScriptRunner, workdir_client: Callable[[], Client]
) -> None:
    out = run_script(
        """
        import time
        import wayline
        with wayline.start_run() as run:
            t0 = time.perf_counter()
            for step in range(3000):
                wayline.log_metric("loss", step / 10, step=step, synchronous=False)
                wayline.log_metric("acc", 1.0, step=step, synchronous=False)
            wayline.log_param("p", 1, synchronous=False)
            wayline.set_tag("t", "v", synchronous=False)
            print("QUEUED_S", time.perf_counter() - t0)
        print("RUN", run.info.run_id)
        """
    ).stdout
    run_id = out.split("RUN ")[1].split()[0]
    client = workdir_client()
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(3000))
    run = client.get_run(run_id)
    assert run.data.params == {"p": "1"} and run.data.tags["t"] == "v"
    assert run.data.metrics["acc"] == 1.0 and run.info.status == "FINISHED"


def test_async_failure_surfaces_at_flush(run_script: ScriptRunner) -> None:
    out = run_script(
        """
        import wayline
        wayline.start_run()
        wayline.log_metric("ok", 1.0, synchronous=False)
        wayline.log_metric("ok", "not-a-number", synchronous=False)
        try:
            wayline.flush_async_logging()
        except wayline.MlflowException as exc:
            print("RAISED", exc)
        wayline.flush_async_logging()  # reported once
        print("LATEST", wayline.get_run(wayline.active_run().info.run_id).data.metrics)
        wayline.end_run()
        """
    ).stdout
    assert "RAISED" in out and "not-a-number" in out
    assert "LATEST {'ok': 1.0}" in out


def test_async_logging_from_environment_flushed_at_exit(
    run_script: ScriptRunner, workdir_client: Callable[[], Client]
) -> None:
    run_script(
        """
        import wayline
        run = wayline.start_run(run_name="env-async")
        for step in range(500):
            wayline.log_metric("m", step, step=step)
        """,
        env=clean_env(MLFLOW_ENABLE_ASYNC_LOGGING="true"),
    )
    client = workdir_client()
    (run,) = client.search_runs(["0"], "attributes.run_name = 'env-async'")
    assert run.info.status == "FINISHED"
    assert len(client.get_metric_history(run.info.run_id, "m")) == 500


def test_uncaught_exception_marks_run_failed_at_exit(
    run_script: ScriptRunner, workdir_client: Callable[[], Client]
) -> None:
    run_script(
        """
        import wayline
        wayline.log_metric("before", 1.0)  # starts a run implicitly
        raise RuntimeError("crash")
        """,
        expect_rc=1,
    )
    (run,) = workdir_client().search_runs(["0"])
    assert run.info.status == "FAILED"
    assert run.data.metrics == {"before": 1.0}


def test_keyboard_interrupt_marks_run_killed(
    run_script: ScriptRunner, workdir_client: Callable[[], Client]
) -> None:
    run_script(
        """
        import wayline
        try:
            with wayline.start_run(run_name="interrupted"):
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            pass
        wayline.log_metric("implicit", 1.0)  # an implicit run, ended FINISHED at exit
        """
    )
    runs = workdir_client().search_runs(["0"])
    by_name = {r.info.run_name: r.info.status for r in runs}
    assert by_name.pop("interrupted") == "KILLED"
    assert list(by_name.values()) == ["FINISHED"]


def test_git_commit_tag_inside_a_repository(
    run_script: ScriptRunner, workdir_client: Callable[[], Client], tmp_path: Path
) -> None:
    sha = make_repo(tmp_path)
    run_script(
        """
        import wayline
        with wayline.start_run(tags={"mlflow.source.name": "custom.py"}):
            pass
        """,
        name="train.py",
    )
    (run,) = workdir_client().search_runs(["0"])
    assert run.data.tags["mlflow.source.git.commit"] == sha
    assert run.data.tags["mlflow.source.name"] == "custom.py"  # user tags win


def test_resume_sets_running_and_deleted_experiment_is_refused(
    run_script: ScriptRunner,
) -> None:
    out = run_script(
        """
        import wayline
        with wayline.start_run() as run:
            wayline.log_metric("m", 1.0)
        with wayline.start_run(run_id=run.info.run_id, tags={"resumed": "yes"}) as again:
            assert wayline.get_run(run.info.run_id).info.status == "RUNNING"
            assert again.data.tags["resumed"] == "yes"
        assert wayline.get_run(run.info.run_id).info.status == "FINISHED"

        exp = wayline.set_experiment("gone")
        wayline.delete_experiment(exp.experiment_id)
        try:
            wayline.set_experiment("gone")
        except wayline.MlflowException as exc:
            print("REFUSED", exc)
        """
    ).stdout
    assert "REFUSED" in out and "restore" in out.lower() and "another name" in out


def test_experiment_from_environment(
    run_script: ScriptRunner, workdir_client: Callable[[], Client]
) -> None:
    run_script(
        """
        import wayline
        with wayline.start_run():
            pass
        """,
        env=clean_env(MLFLOW_EXPERIMENT_NAME="from-env"),
    )
    client = workdir_client()
    experiment = client.get_experiment_by_name("from-env")
    assert experiment is not None
    assert len(client.search_runs([experiment.experiment_id])) == 1
