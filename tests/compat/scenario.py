# mypy: ignore-errors
# (Run by another interpreter: MLflow's venv, whose `mlflow` our venv does not have.)
"""One pass of tracking calls through a client against a live server, printed as comparable JSON.

Run as a script by the interpreter that has the client::

    MLFLOW_VENV_PYTHON tests/compat/scenario.py --client mlflow --tracking-uri http://127.0.0.1:5000
    .venv/bin/python tests/compat/scenario.py --client wayline --tracking-uri http://127.0.0.1:5000

``--client mlflow`` drives the real ``mlflow`` package; ``--client wayline`` drives ours through the
same MLflow-style API (``import wayline as mlflow``). Each section creates its own experiment, so
a failing section leaves the others intact, and records what the calls returned with server-made
values normalized away: ids become labels (``run:parent``), timestamps the server chose are
dropped, sets are sorted, non-finite floats are strings. A section that raises records the
exception's type and error code instead. The output is one JSON object ``{section: result}``;
two servers are compatible for a section when their results are equal.

The server must be fresh (no experiments but Default): ids and names are the scenario's own.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import os
import re
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from typing import Any

BASE_TS = 1_700_000_000_000  # timestamps the scenario chooses, so they are comparable
GENERATED_NAME = re.compile(r"^[a-z]+-[a-z]+-\d{1,3}$")  # MLflow's "adjective-animal-NNN"


# --------------------------------------------------------------------------- normalization
class Labels:
    """Stable names for server-made ids: run and model ids anywhere, experiment ids by field."""

    def __init__(self) -> None:
        self._long: dict[str, str] = {}  # run ids, model ids: unique enough to replace anywhere
        self._experiments: dict[str, str] = {}

    def run(self, run_id: str, label: str) -> None:
        self._long[run_id] = f"run:{label}"

    def model(self, model_id: str, label: str) -> None:
        self._long[model_id] = f"model:{label}"

    def experiment(self, experiment_id: str, label: str) -> None:
        self._experiments[str(experiment_id)] = f"exp:{label}"

    def exp(self, experiment_id: Any) -> str:
        return self._experiments.get(str(experiment_id), f"<unknown experiment {experiment_id}>")

    def sub(self, value: Any) -> Any:
        """``value`` with every known id replaced by its label (recursively)."""
        if isinstance(value, dict):
            return {self.sub(k): self.sub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.sub(v) for v in value]
        if not isinstance(value, str):
            return value
        if value in self._long:
            return self._long[value]
        for long_id, label in self._long.items():
            if long_id in value:
                value = value.replace(long_id, label)
        # mlflow-artifacts:/<experiment id>/... and the like
        match = re.match(r"^([a-z-]+:/+(?:[^/]+@)?)(\w+)(/.*)?$", value)
        if match and match.group(2) in self._experiments:
            value = f"{match.group(1)}{self._experiments[match.group(2)]}{match.group(3) or ''}"
        return value


def num(value: Any) -> Any:
    """A float as JSON can compare it: NaN and infinities as strings."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def name_label(name: str) -> str:
    return "<generated>" if GENERATED_NAME.match(name or "") else name


class Api:
    """The client under test: the ``mlflow`` or ``wayline`` module and its MlflowClient."""

    def __init__(self, client_name: str, tracking_uri: str) -> None:
        self.name = client_name
        self.tracking_uri = tracking_uri
        self.ml = importlib.import_module(client_name)
        self.ml.set_tracking_uri(tracking_uri)
        self.client = self.ml.MlflowClient()
        self.entities = importlib.import_module(f"{client_name}.entities")
        self.error = self.ml.MlflowException
        self.labels = Labels()

    def code(self, call: Callable[[], Any]) -> str:
        """``"ok"`` when ``call`` succeeds, else the error code it raised."""
        try:
            call()
        except self.error as exc:
            return str(exc.error_code)
        return "ok"

    def metric_page(self, run_id: str, key: str, max_results: int, token: str | None) -> Any:
        """One page of a metric's history through the client's REST store."""
        store = self.client._tracking_client.store if self.name == "mlflow" else self.client.store
        return store.get_metric_history(run_id, key, max_results=max_results, page_token=token)

    # ---------------------------------------------------------------- entity -> JSON
    def experiment_doc(self, exp: Any) -> dict[str, Any] | None:
        if exp is None:
            return None
        return {
            "id": self.labels.exp(exp.experiment_id),
            "name": exp.name,
            "lifecycle_stage": exp.lifecycle_stage,
            "artifact_location": self.labels.sub(exp.artifact_location),
            "tags": dict(sorted(exp.tags.items())),
        }

    def run_doc(self, run: Any) -> dict[str, Any]:
        info, data = run.info, run.data
        inputs = getattr(run, "inputs", None)
        datasets = list(getattr(inputs, "dataset_inputs", None) or [])
        return self.labels.sub(
            {
                "id": info.run_id,
                "experiment": self.labels.exp(info.experiment_id),
                "run_name": name_label(info.run_name),
                "status": str(info.status),
                "lifecycle_stage": info.lifecycle_stage,
                "has_end_time": info.end_time is not None,
                "artifact_uri": info.artifact_uri,
                "metrics": {k: num(v) for k, v in sorted(data.metrics.items())},
                "params": dict(sorted(data.params.items())),
                "tags": _run_tags(data.tags, info.run_name),
                "datasets": sorted((self.dataset_input_doc(d) for d in datasets), key=json.dumps),
            }
        )

    @staticmethod
    def dataset_input_doc(dataset_input: Any) -> dict[str, Any]:
        ds = dataset_input.dataset
        return {
            "name": ds.name,
            "digest": ds.digest,
            "source_type": ds.source_type,
            "source": ds.source,
            "schema": ds.schema or None,
            "profile": ds.profile or None,
            "tags": sorted([t.key, t.value] for t in dataset_input.tags),
        }

    def run_ids(self, runs: Any) -> list[str]:
        return [self.labels.sub(r.info.run_id) for r in runs]


def _run_tags(tags: dict[str, str], run_name: str) -> dict[str, str]:
    # Tags the client derives from where it runs, not from what the scenario asked for.
    skip = ("mlflow.source.git.", "mlflow.gitRepoURL")
    out = {k: v for k, v in tags.items() if not k.startswith(skip)}
    if "mlflow.runName" in out:
        out["mlflow.runName"] = name_label(out["mlflow.runName"])
    if "mlflow.source.name" in out:  # the script path: same file for both clients
        out["mlflow.source.name"] = os.path.basename(out["mlflow.source.name"])
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------- sections
def section_version(api: Api) -> dict[str, Any]:
    """GET /version as MLflow's client reads it (spans go over OTLP only for >= 3.4)."""
    with urllib.request.urlopen(f"{api.tracking_uri}/version", timeout=10) as response:
        out: dict[str, Any] = {"status": response.status}
    if api.name == "mlflow":
        from mlflow.store.tracking.rest_store import RestStore
        from mlflow.utils.rest_utils import MlflowHostCreds

        version = RestStore._get_server_version(MlflowHostCreds(api.tracking_uri))
        out["parsed"] = version is not None
        out["at_least_3_4"] = version is not None and version.release >= (3, 4)
    return out


def section_experiments(api: Api) -> dict[str, Any]:
    c, labels, out = api.client, api.labels, {}
    for name, tags in (
        ("compat-a", {"team": "vision", "prio": "1"}),
        ("compat-b", {"team": "nlp"}),
        ("compat-c", {}),
        ("other-d", {"team": "vision"}),
    ):
        labels.experiment(c.create_experiment(name, tags=tags), name)
        time.sleep(0.003)  # distinct creation times: the default order is by creation time
    a = c.get_experiment_by_name("compat-a")
    out["get"] = api.experiment_doc(c.get_experiment(a.experiment_id))
    out["get_by_name"] = api.experiment_doc(a)
    out["get_by_name_missing"] = api.experiment_doc(c.get_experiment_by_name("no-such-exp"))
    out["create_duplicate"] = api.code(lambda: c.create_experiment("compat-a"))
    out["get_unknown_id"] = api.code(lambda: c.get_experiment("999999"))

    def names(**kwargs: Any) -> list[str]:
        return [e.name for e in c.search_experiments(**kwargs)]

    out["search_like"] = names(filter_string="name LIKE 'compat-%'", order_by=["name ASC"])
    out["search_tag"] = names(filter_string="tags.team = 'vision'", order_by=["name DESC"])
    out["search_default_order"] = names()
    pages, token = [], None
    while True:
        page = c.search_experiments(max_results=2, page_token=token, order_by=["name ASC"])
        pages.append([e.name for e in page])
        token = page.token
        if not token or len(pages) > 10:
            break
    out["search_pages"] = pages

    b_id = c.get_experiment_by_name("compat-b").experiment_id
    c.rename_experiment(b_id, "compat-b2")
    out["renamed"] = api.experiment_doc(c.get_experiment(b_id))
    out["old_name_after_rename"] = api.experiment_doc(c.get_experiment_by_name("compat-b"))
    c.set_experiment_tag(b_id, "owner", "ana")
    c.set_experiment_tag(b_id, "team", "speech")
    c.delete_experiment_tag(b_id, "owner")
    out["tags_after_update"] = api.experiment_doc(c.get_experiment(b_id))["tags"]

    c_id = c.get_experiment_by_name("compat-c").experiment_id
    c.delete_experiment(c_id)
    out["deleted_by_name"] = api.experiment_doc(c.get_experiment_by_name("compat-c"))
    view = api.entities.ViewType
    out["search_active"] = names(filter_string="name LIKE 'compat%'", order_by=["name ASC"])
    out["search_deleted"] = names(view_type=view.DELETED_ONLY)
    out["search_all"] = names(view_type=view.ALL, order_by=["name ASC"])
    out["create_over_deleted"] = api.code(lambda: c.create_experiment("compat-c"))
    out["run_in_deleted"] = api.code(lambda: c.create_run(c_id))
    c.restore_experiment(c_id)
    out["restored"] = api.experiment_doc(c.get_experiment(c_id))
    out["bad_filter"] = api.code(lambda: c.search_experiments(filter_string="nme = 'x'"))
    return out


def section_runs(api: Api) -> dict[str, Any]:
    ml, c, labels, out = api.ml, api.client, api.labels, {}
    exp = ml.set_experiment("compat-runs")
    labels.experiment(exp.experiment_id, "compat-runs")
    with ml.start_run(run_name="parent", tags={"stage": "dev"}) as parent:
        labels.run(parent.info.run_id, "parent")
        ml.log_param("lr", 0.01)
        ml.log_params({"layers": 3, "opt": "adam"})
        for step, loss in enumerate([0.9, 0.5, 0.3]):
            ml.log_metric("loss", loss, step=step)
        ml.log_metrics({"acc": 0.7, "f1": 0.6}, step=2)
        ml.set_tag("phase", "train")
        ml.set_tags({"a": "1", "b": "2"})
        ml.delete_tag("b")
        with ml.start_run(run_name="child-1", nested=True) as child:
            labels.run(child.info.run_id, "child-1")
            ml.log_metric("fold_acc", 0.8)
        with ml.start_run(run_name="child-2", nested=True) as child:
            labels.run(child.info.run_id, "child-2")
            ml.log_metric("fold_acc", 0.75)
        running = c.get_run(parent.info.run_id)
        out["parent_while_running"] = api.run_doc(running)
    ids = {name: _only(c, exp.experiment_id, name) for name in ("parent", "child-1", "child-2")}
    for name, run_id in ids.items():
        out[name] = api.run_doc(c.get_run(run_id))
    out["children"] = sorted(
        api.run_ids(
            c.search_runs([exp.experiment_id], f"tags.`mlflow.parentRunId` = '{ids['parent']}'")
        )
    )
    try:
        with ml.start_run(run_name="failing"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    failing = _only(c, exp.experiment_id, "failing")
    labels.run(failing, "failing")
    out["failing"] = api.run_doc(c.get_run(failing))
    out.update(_client_runs(api, exp.experiment_id))
    out["all_runs"] = sorted(api.run_ids(c.search_runs([exp.experiment_id])))
    return out


def _client_runs(api: Api, experiment_id: str) -> dict[str, Any]:
    """MlflowClient calls on runs: create, log_batch, edge values, terminate, rename, delete."""
    c, labels, ents, out = api.client, api.labels, api.entities, {}
    M, P, T = ents.Metric, ents.Param, ents.RunTag
    manual = c.create_run(experiment_id, tags={"source": "client"}, run_name="manual")
    rid = manual.info.run_id
    labels.run(rid, "manual")
    out["created"] = api.run_doc(manual)
    c.log_batch(
        rid,
        metrics=[M("m", 1.0, BASE_TS, 5), M("m", 2.0, BASE_TS + 1, 3), M("z", 0.0, BASE_TS, 0)],
        params=[P("p1", "v1"), P("p2", "v2")],
        tags=[T("t1", "x"), T("t2", "y")],
    )
    c.log_metric(rid, "nan", float("nan"), timestamp=BASE_TS, step=0)
    c.log_metric(rid, "pinf", float("inf"), timestamp=BASE_TS, step=0)
    c.log_metric(rid, "ninf", float("-inf"), timestamp=BASE_TS, step=0)
    c.log_metric(rid, "same", 1.0, timestamp=BASE_TS + 5, step=1)
    c.log_metric(rid, "same", 3.0, timestamp=BASE_TS + 5, step=1)
    c.log_metric(rid, "same", 2.0, timestamp=BASE_TS + 4, step=1)
    c.log_param(rid, "p1", "v1")  # the same value again: allowed
    c.set_tag(rid, "t1", "x2")
    c.delete_tag(rid, "t2")
    c.set_terminated(rid, status="KILLED")
    c.update_run(rid, name="manual-renamed")
    out["manual"] = api.run_doc(c.get_run(rid))
    c.update_run(rid, status="FINISHED")
    out["manual_finished"] = c.get_run(rid).info.status

    generated = c.create_run(experiment_id)
    labels.run(generated.info.run_id, "generated")
    out["generated_name"] = name_label(generated.info.run_name)
    out["generated"] = api.run_doc(generated)

    out["non_finite_history"] = {
        key: [[m.step, num(m.value)] for m in c.get_metric_history(rid, key)]
        for key in ("nan", "pinf", "ninf")
    }
    c.delete_run(rid)
    out["after_delete"] = c.get_run(rid).info.lifecycle_stage
    view = ents.ViewType
    out["search_deleted"] = api.run_ids(
        c.search_runs([experiment_id], run_view_type=view.DELETED_ONLY)
    )
    out["log_to_deleted"] = api.code(lambda: c.log_param(rid, "late", "1"))
    c.restore_run(rid)
    out["after_restore"] = c.get_run(rid).info.lifecycle_stage
    return out


def _only(c: Any, experiment_id: str, run_name: str) -> str:
    runs = c.search_runs([experiment_id], f"attributes.run_name = '{run_name}'")
    if len(runs) != 1:
        raise AssertionError(f"{len(runs)} runs named {run_name!r}")
    return runs[0].info.run_id


def section_errors(api: Api) -> dict[str, Any]:
    c, out = api.client, {}
    exp_id = c.create_experiment("compat-errors")
    api.labels.experiment(exp_id, "compat-errors")
    run = c.create_run(exp_id, run_name="err")
    rid = run.info.run_id
    api.labels.run(rid, "err")
    c.log_param(rid, "k", "v")
    M, P = api.entities.Metric, api.entities.Param
    out["param_change"] = api.code(lambda: c.log_param(rid, "k", "other"))
    out["param_same"] = api.code(lambda: c.log_param(rid, "k", "v"))
    out["batch_param_change"] = api.code(lambda: c.log_batch(rid, params=[P("k", "w")]))
    out["batch_duplicate_params"] = api.code(
        lambda: c.log_batch(rid, params=[P("d", "1"), P("d", "2")])
    )
    out["unknown_run"] = api.code(lambda: c.get_run("0" * 32))
    out["unknown_run_log"] = api.code(lambda: c.log_metric("0" * 32, "m", 1.0))
    out["unknown_experiment_run"] = api.code(lambda: c.create_run("999999"))
    out["bad_metric_key"] = api.code(lambda: c.log_metric(rid, "../up", 1.0))
    out["bad_param_key"] = api.code(lambda: c.log_param(rid, "/abs", "1"))
    out["long_param_value"] = api.code(lambda: c.log_param(rid, "long", "x" * 6001))
    out["long_tag_value"] = api.code(lambda: c.set_tag(rid, "long", "y" * 8001))
    stored = c.get_run(rid).data
    out["long_values_stored"] = [
        len(stored.params.get("long", "")),
        len(stored.tags.get("long", "")),
    ]
    out["too_many_metrics"] = api.code(
        lambda: (
            api.client._tracking_client.store.log_batch(
                rid, metrics=[M("m", 1.0, BASE_TS, i) for i in range(1001)], params=[], tags=[]
            )
            if api.name == "mlflow"
            else api.client.store.log_batch(
                rid, metrics=[M("m", 1.0, BASE_TS, i) for i in range(1001)]
            )
        )
    )
    out["bad_search_filter"] = api.code(lambda: c.search_runs([exp_id], "metrics.acc >>> 1"))
    out["status_in_list"] = api.code(
        lambda: c.search_runs([exp_id], "attributes.status IN ('FINISHED')")
    )
    out["bad_order_by"] = api.code(lambda: c.search_runs([exp_id], order_by=["nope.x ASC"]))
    out["missing_history"] = [m.value for m in c.get_metric_history(rid, "nothing")]
    return out


def section_metric_history(api: Api) -> dict[str, Any]:
    c, out = api.client, {}
    exp_id = c.create_experiment("compat-history")
    api.labels.experiment(exp_id, "compat-history")
    rid = c.create_run(exp_id, run_name="hist").info.run_id
    api.labels.run(rid, "hist")
    M = api.entities.Metric
    n = 3000
    for start in range(0, n, 1000):
        c.log_batch(
            rid, metrics=[M("long", s * 0.5, BASE_TS + s, s) for s in range(start, start + 1000)]
        )
    for value, ts, step in ((1.0, 10, 3), (2.0, 11, 1), (3.0, 12, 2), (4.0, 13, 1), (5.0, 9, 3)):
        c.log_metric(rid, "loss", value, timestamp=BASE_TS + ts, step=step)

    def points(history: Any) -> list[list[Any]]:
        return [[m.step, num(m.value), m.timestamp - BASE_TS] for m in history]

    long_points = points(c.get_metric_history(rid, "long"))
    out["long_count"] = len(long_points)
    out["long_head_tail"] = long_points[:3] + long_points[-3:]
    out["long_digest"] = hashlib.sha256(json.dumps(long_points).encode()).hexdigest()[:16]
    out["long_sorted_by_step"] = long_points == sorted(long_points, key=lambda p: (p[0], p[2]))
    out["loss"] = sorted(points(c.get_metric_history(rid, "loss")))
    out["latest"] = api.run_doc(c.get_run(rid))["metrics"]

    pages, token, collected = [], None, []
    while len(pages) < 10:
        page = api.metric_page(rid, "long", 1000, token)
        pages.append(len(page))
        collected.extend(points(page))
        token = page.token
        if not token:
            break
    out["paged_sizes"] = pages
    out["paged_equals_full"] = sorted(collected) == sorted(long_points)
    out["bad_max_results"] = api.code(lambda: api.metric_page(rid, "long", 0, None))
    return out


def section_bulk_interval(api: Api) -> dict[str, Any]:
    """The UI's sampled history endpoint, over plain HTTP (no client has a method for it)."""
    c = api.client
    exp_id = c.create_experiment("compat-bulk")
    api.labels.experiment(exp_id, "compat-bulk")
    M = api.entities.Metric
    rids = []
    for name, count in (("b1", 500), ("b2", 50)):
        rid = c.create_run(exp_id, run_name=name).info.run_id
        api.labels.run(rid, name)
        rids.append(rid)
        c.log_batch(rid, metrics=[M("acc", s / count, BASE_TS + s, s) for s in range(count)])
    out = {}
    for label, query in (
        ("two_runs_max_20", f"run_ids={rids[0]}&run_ids={rids[1]}&metric_key=acc&max_results=20"),
        ("window", f"run_ids={rids[0]}&metric_key=acc&start_step=100&end_step=200&max_results=5"),
        ("one_run_default", f"run_ids={rids[1]}&metric_key=acc"),
    ):
        status, body = _get_json(api, f"/api/2.0/mlflow/metrics/get-history-bulk-interval?{query}")
        if status != 200:
            out[label] = {"status": status, "error_code": body.get("error_code")}
            continue
        steps: dict[str, list[int]] = {}
        for m in body.get("metrics", []):
            run_label = api.labels.sub(m["run_id"])
            count = 500 if run_label == "run:b1" else 50
            if num(m["value"]) != int(m["step"]) / count or m["key"] != "acc":
                steps.setdefault("wrong_values", []).append(int(m["step"]))
            steps.setdefault(run_label, []).append(int(m["step"]))
        out[label] = {"status": status, "steps": {k: sorted(v) for k, v in steps.items()}}
        continue
    return out


def _get_json(api: Api, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(api.tracking_uri + path, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read() or b"{}")
        except ValueError:
            return exc.code, {}


def section_search_runs(api: Api) -> dict[str, Any]:
    c, labels, out = api.client, api.labels, {}
    M, P = api.entities.Metric, api.entities.Param
    exp_id = c.create_experiment("compat-search")
    labels.experiment(exp_id, "compat-search")
    ids = {}
    for i in range(12):
        name = f"r-{i:02d}"
        run = c.create_run(
            exp_id, start_time=BASE_TS + i * 1000, tags={"team": f"team-{i % 3}"}, run_name=name
        )
        ids[name] = run.info.run_id
        labels.run(run.info.run_id, name)
        acc = float("nan") if i == 10 else i / 10
        metrics = [] if i == 11 else [M("acc", acc, BASE_TS, 0), M("loss", 1 - i / 10, BASE_TS, 0)]
        params = [P("model", "x" if i % 2 else "y"), P("depth", str(i % 4))]
        c.log_batch(run.info.run_id, metrics=metrics, params=params)
        if i % 4:
            c.set_terminated(run.info.run_id)
    queries = {
        "default_order": ("", None),
        "acc_gt": ("metrics.acc > 0.5", ["metrics.acc DESC"]),
        "param_and_metric": ("params.model = 'x' and metrics.acc >= 0.25", ["metrics.acc ASC"]),
        "tag_like": ("tags.team LIKE 'team-1%'", ["attributes.start_time ASC"]),
        "tag_ilike": ("tags.team ILIKE 'TEAM-2'", None),
        "status": ("attributes.status = 'FINISHED'", ["attributes.run_name ASC"]),
        "status_running": ("attributes.status != 'FINISHED'", ["attributes.run_name ASC"]),
        "run_name_eq": ("attributes.run_name = 'r-03'", None),
        "run_name_like": ("run_name LIKE 'r-0%'", ["attributes.run_name DESC"]),
        "param_ne": ("params.depth != '0'", ["params.depth ASC", "attributes.run_name ASC"]),
        "acc_desc_nan_missing": ("", ["metrics.acc DESC"]),
        "acc_asc_nan_missing": ("", ["metrics.acc ASC"]),
        "loss_and_tag": ("metrics.loss <= 0.5 and tags.team = 'team-0'", None),
        "run_id_in": (f"attributes.run_id IN ('{ids['r-02']}', '{ids['r-07']}')", None),
        "backtick_tag": ("tags.`mlflow.runName` = 'r-05'", None),
        "tag_then_metric": ("", ["tags.team ASC", "metrics.acc DESC"]),
        "missing_param": ("params.missing = 'z'", None),
        "start_time": (f"attributes.start_time >= {BASE_TS + 6000}", ["start_time ASC"]),
        "param_in_ne_metric": ("params.model != 'x' and metrics.acc != 0.4", None),
        # NaN (r-10) compares as IEEE says: false for every comparator but "!="
        "nan_eq_zero": ("metrics.acc = 0", None),
        "nan_lt": ("metrics.acc < 0.15", None),
        "end_time_order": ("attributes.status = 'FINISHED'", ["attributes.end_time DESC"]),
    }
    for label, (filter_string, order_by) in queries.items():
        runs = c.search_runs([exp_id], filter_string, order_by=order_by, max_results=1000)
        runs_list = api.run_ids(runs)
        if label == "end_time_order":
            runs_list = sorted(runs_list)  # end times are the server's clock: only the set
        out[label] = runs_list
    pages, token, active = [], None, api.entities.ViewType.ACTIVE_ONLY
    while len(pages) < 10:
        page = c.search_runs([exp_id], "", active, 5, ["run_name ASC"], token)
        pages.append(api.run_ids(page))
        token = page.token
        if not token:
            break
    out["pages"] = pages
    out["one_run"] = api.run_doc(c.search_runs([exp_id], "attributes.run_name = 'r-05'")[0])
    c.delete_run(ids["r-01"])
    view = api.entities.ViewType
    out["deleted_only"] = api.run_ids(c.search_runs([exp_id], run_view_type=view.DELETED_ONLY))
    out["all_count"] = len(c.search_runs([exp_id], run_view_type=view.ALL))
    out["active_count"] = len(c.search_runs([exp_id]))
    c.restore_run(ids["r-01"])
    frame = api.ml.search_runs(
        experiment_ids=[exp_id], filter_string="metrics.acc > 0.3", order_by=["metrics.acc DESC"]
    )
    out["dataframe_columns"] = sorted(
        col for col in frame.columns if col not in ("tags.mlflow.source.git.commit",)
    )
    out["dataframe_rows"] = [
        [
            labels.sub(row["run_id"]),
            row["tags.mlflow.runName"],
            num(row["metrics.acc"]),
            row["params.model"],
            row["status"],
        ]
        for _, row in frame.iterrows()
    ]
    listed = api.ml.search_runs(
        experiment_ids=[exp_id], filter_string="params.depth = '1'", output_format="list"
    )
    out["fluent_list"] = api.run_ids(listed)
    return out


def section_datasets(api: Api) -> dict[str, Any]:
    c, ents, out = api.client, api.entities, {}
    exp_id = c.create_experiment("compat-datasets")
    api.labels.experiment(exp_id, "compat-datasets")
    train = ents.Dataset(
        name="train",
        digest="d1g3st01",
        source_type="s3",
        source='{"uri": "s3://bucket/train.csv"}',
        schema='{"mlflow_colspec": [{"type": "double", "name": "x", "required": true}]}',
        profile='{"num_rows": 3, "num_elements": 3}',
    )
    evaluation = ents.Dataset(
        name="eval", digest="d1g3st02", source_type="local", source='{"uri": "/tmp/eval.csv"}'
    )
    tag = ents.InputTag
    runs = {}
    for name in ("ds-1", "ds-2"):
        rid = c.create_run(exp_id, run_name=name).info.run_id
        api.labels.run(rid, name)
        runs[name] = rid
    training = [tag("mlflow.data.context", "training")]
    evaluating = [tag("mlflow.data.context", "eval")]
    c.log_inputs(runs["ds-1"], [ents.DatasetInput(train, training)])
    c.log_inputs(runs["ds-1"], [ents.DatasetInput(train, training)])  # twice: no duplicate
    c.log_inputs(runs["ds-1"], [ents.DatasetInput(evaluation, evaluating)])
    c.log_inputs(runs["ds-2"], [ents.DatasetInput(evaluation, evaluating)])
    out["ds-1"] = api.run_doc(c.get_run(runs["ds-1"]))["datasets"]
    out["ds-2"] = api.run_doc(c.get_run(runs["ds-2"]))["datasets"]
    for label, filter_string in (
        ("by_name", "dataset.name = 'train'"),
        ("by_context", "dataset.context = 'eval'"),
        ("by_digest_in", "datasets.digest IN ('d1g3st01', 'zzz')"),
        ("by_name_and_context", "dataset.name = 'eval' AND dataset.context = 'eval'"),
    ):
        out[label] = sorted(api.run_ids(c.search_runs([exp_id], filter_string)))
    return out


def section_datasets_pandas(api: Api) -> dict[str, Any]:
    """mlflow.data.from_pandas + log_input: MLflow's own digest, schema and profile."""
    import pandas as pd

    ml = api.ml
    exp = ml.set_experiment("compat-datasets-pandas")
    api.labels.experiment(exp.experiment_id, "compat-datasets-pandas")
    df = pd.DataFrame({"x": [1, 2, 3], "y": [0.1, 0.2, 0.3], "label": ["a", "b", "a"]})
    with ml.start_run(run_name="pandas") as run:
        api.labels.run(run.info.run_id, "pandas")
        dataset = ml.data.from_pandas(df, source="s3://bucket/data.csv", name="frame")
        ml.log_input(dataset, context="training")
        ml.log_input(dataset, context="training")
    return {"datasets": api.run_doc(api.client.get_run(run.info.run_id))["datasets"]}


def section_logged_models(api: Api) -> dict[str, Any]:
    ml, c, labels, out = api.ml, api.client, api.labels, {}
    exp = ml.set_experiment("compat-models")
    labels.experiment(exp.experiment_id, "compat-models")

    def doc(model: Any) -> dict[str, Any]:
        return labels.sub(
            {
                "id": model.model_id,
                "name": model.name,
                "experiment": labels.exp(model.experiment_id),
                "status": str(model.status),
                "model_type": model.model_type,
                "source_run_id": model.source_run_id,
                "artifact_location": model.artifact_location,
                "tags": _run_tags(model.tags, ""),
                "params": dict(sorted(model.params.items())),
                "metrics": sorted(
                    [m.key, num(m.value), m.step, m.run_id, m.dataset_name, m.dataset_digest]
                    for m in (model.metrics or [])
                ),
            }
        )

    with ml.start_run(run_name="trainer") as run:
        labels.run(run.info.run_id, "trainer")
        pending = ml.initialize_logged_model(
            name="lm-a",
            source_run_id=run.info.run_id,
            tags={"k": "v"},
            params={"alpha": "1"},
            model_type="agent",
        )
        labels.model(pending.model_id, "lm-a")
        out["initialized"] = doc(pending)
        ml.log_metric("score", 0.9, step=1, model_id=pending.model_id, timestamp=BASE_TS)
    external = ml.create_external_model(name="ext-b", tags={"kind": "external"})
    labels.model(external.model_id, "ext-b")
    out["external"] = doc(external)
    c.set_logged_model_tags(pending.model_id, {"stage": "candidate", "k": "v2"})
    c.delete_logged_model_tag(pending.model_id, "stage")
    c.log_model_params(pending.model_id, {"beta": "2"})
    finalized = ml.finalize_logged_model(pending.model_id, "READY")
    out["finalized_status"] = str(finalized.status)
    out["get"] = doc(ml.get_logged_model(pending.model_id))
    for i in range(3):
        model = ml.initialize_logged_model(name=f"lm-page-{i}", model_type="page")
        labels.model(model.model_id, f"lm-page-{i}")

    def search(**kwargs: Any) -> list[str]:
        found = c.search_logged_models(experiment_ids=[exp.experiment_id], **kwargs)
        return [labels.sub(m.model_id) for m in found]

    out["search_all_by_name"] = search(order_by=[{"field_name": "name", "ascending": True}])
    out["search_name_filter"] = search(filter_string="name = 'lm-a'")
    out["search_tag_filter"] = search(filter_string="tags.k = 'v2'")
    out["search_metric_filter"] = search(filter_string="metrics.score > 0.5")
    out["search_param_filter"] = search(filter_string="params.beta = '2'")
    out["search_status"] = sorted(search(filter_string="status = 'READY'"))
    out["search_nothing"] = search(filter_string="name = 'no-such-model'")
    pages, token = [], None
    while len(pages) < 10:
        page = c.search_logged_models(
            experiment_ids=[exp.experiment_id],
            max_results=2,
            page_token=token,
            order_by=[{"field_name": "name", "ascending": False}],
        )
        pages.append([labels.sub(m.model_id) for m in page])
        token = page.token
        if not token:
            break
    out["search_pages"] = pages
    frame = ml.search_logged_models(experiment_ids=[exp.experiment_id], output_format="list")
    out["fluent_search_count"] = len(frame)
    out["run_outputs"] = _run_outputs(api, run.info.run_id)
    c.delete_logged_model(external.model_id)
    out["get_deleted"] = api.code(lambda: c.get_logged_model(external.model_id))
    out["get_unknown"] = api.code(lambda: c.get_logged_model("m-" + "0" * 32))
    return out


def _run_outputs(api: Api, run_id: str) -> Any:
    outputs = getattr(api.client.get_run(run_id), "outputs", None)
    models = getattr(outputs, "model_outputs", None) or []
    return sorted([api.labels.sub(m.model_id), m.step] for m in models)


def section_artifacts(api: Api) -> dict[str, Any]:
    """Artifacts through the server's proxy (mlflow-artifacts:/ URIs)."""
    ml, c, out = api.ml, api.client, {}
    exp = ml.set_experiment("compat-artifacts")
    api.labels.experiment(exp.experiment_id, "compat-artifacts")
    with ml.start_run(run_name="art") as run:
        rid = run.info.run_id
        api.labels.run(rid, "art")
        ml.log_text("hello", "dir/hello.txt")
        ml.log_dict({"a": 1}, "dir/conf.json")
        ml.log_text("top", "top.txt")
    out["artifact_uri"] = api.labels.sub(c.get_run(rid).info.artifact_uri)
    out["load_text"] = ml.artifacts.load_text(f"runs:/{rid}/dir/hello.txt")
    out["load_dict"] = ml.artifacts.load_dict(f"runs:/{rid}/dir/conf.json")
    out["list_root"] = sorted([f.path, f.is_dir, f.file_size] for f in c.list_artifacts(rid))
    listed = ml.artifacts.list_artifacts(run_id=rid, artifact_path="dir")
    out["list_dir"] = sorted([f.path, f.is_dir, f.file_size] for f in listed)
    with tempfile.TemporaryDirectory() as tmp:
        local = ml.artifacts.download_artifacts(run_id=rid, artifact_path="dir", dst_path=tmp)
        out["downloaded"] = sorted(os.listdir(local))
    out["missing"] = api.code(lambda: ml.artifacts.load_text(f"runs:/{rid}/nope.txt"))
    return out


SECTIONS: dict[str, Callable[[Api], dict[str, Any]]] = {
    "version": section_version,
    "experiments": section_experiments,
    "runs": section_runs,
    "errors": section_errors,
    "metric_history": section_metric_history,
    "bulk_interval": section_bulk_interval,
    "search_runs": section_search_runs,
    "datasets": section_datasets,
    "datasets_pandas": section_datasets_pandas,
    "logged_models": section_logged_models,
    "artifacts": section_artifacts,
}


def run_section(api: Api, name: str) -> Any:
    try:
        return SECTIONS[name](api)
    except Exception as exc:  # recorded, so one broken section does not hide the others
        print(f"section {name} failed:", file=sys.stderr)
        import traceback

        traceback.print_exc()
        return {"failed": type(exc).__name__, "error_code": getattr(exc, "error_code", None)}
    finally:
        if api.ml.active_run() is not None:
            api.ml.end_run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=["mlflow", "wayline"], required=True)
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--out", required=True, help="file for the JSON result")
    args = parser.parse_args()
    api = Api(args.client, args.tracking_uri)
    result = {}
    for name in args.sections.split(","):
        started = time.monotonic()
        result[name] = run_section(api, name)
        print(f"section {name}: {time.monotonic() - started:.1f}s", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, sort_keys=True, indent=1)


if __name__ == "__main__":
    main()
