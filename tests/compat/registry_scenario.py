# mypy: ignore-errors
# (Run by another interpreter: MLflow's venv, whose `mlflow` our venv does not have.)
"""The model and prompt registry through MLflow's own client against a live server, as JSON.

Run as a script by MLflow's venv python (``scenario.py`` beside it lends the normalisation)::

    MLFLOW_VENV_PYTHON tests/compat/registry_scenario.py --tracking-uri http://127.0.0.1:5000 \
        --out result.json

Each section records what the client's calls returned, with server-made values normalised away
(run and logged-model ids become labels, timestamps are dropped, lists whose order the API does
not define are sorted). A section that raises records the exception instead. Two servers are
compatible for a section when their results are equal. The server must be fresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from typing import Any

from scenario import Api

PROMPT_TAG = "mlflow.prompt.is_prompt"


def _python_model() -> Any:
    """A pyfunc model that doubles column ``x`` into ``y`` (pickled by value with the script)."""
    import mlflow.pyfunc

    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            out = model_input.copy()
            out["y"] = out["x"] * 2
            return out

    return Doubler()


# --------------------------------------------------------------------------- entity -> JSON
def version_doc(api: Api, mv: Any) -> dict[str, Any]:
    return api.labels.sub(
        {
            "name": mv.name,
            "version": str(mv.version),
            "stage": mv.current_stage,
            "description": mv.description,
            "source": mv.source,
            "run_id": mv.run_id,
            "status": mv.status,
            "status_message": mv.status_message,
            "run_link": mv.run_link,
            "user_id": mv.user_id,
            "tags": dict(sorted(mv.tags.items())),
            "aliases": sorted(mv.aliases),
        }
    )


def model_doc(api: Api, rm: Any) -> dict[str, Any]:
    return api.labels.sub(
        {
            "name": rm.name,
            "description": rm.description,
            "tags": dict(sorted(rm.tags.items())),
            "aliases": dict(sorted(rm.aliases.items())),
            "latest_versions": sorted(
                [str(v.version), v.current_stage] for v in rm.latest_versions or []
            ),
        }
    )


def error_doc(api: Api, call: Callable[[], Any], *, message: bool = True) -> dict[str, Any]:
    """``{"code", "message"}`` of the MlflowException ``call`` raises, or ``{"code": "ok"}``.

    ``message=False`` keeps the code only: for errors whose text the spec does not fix (MLflow's
    carry its own parser's or SQLAlchemy's wording there).
    """
    try:
        call()
    except api.error as exc:
        doc = {"code": str(exc.error_code)}
        if message:
            doc["message"] = api.labels.sub(str(exc.message))
        return doc
    return {"code": "ok"}


# --------------------------------------------------------------------------- sections
def section_register(api: Api) -> dict[str, Any]:
    """log_model(registered_model_name=...), register_model from runs:/ and models:/ URIs."""
    ml, c, labels, out = api.ml, api.client, api.labels, {}
    exp = ml.set_experiment("compat-registry")
    labels.experiment(exp.experiment_id, "compat-registry")
    with ml.start_run(run_name="trainer") as run:
        labels.run(run.info.run_id, "trainer")
        info = ml.pyfunc.log_model(
            name="model", python_model=_python_model(), registered_model_name="reg-logged"
        )
    labels.model(info.model_id, "logged")
    out["model_info_version"] = info.registered_model_version
    out["logged_version"] = version_doc(api, c.get_model_version("reg-logged", "1"))
    out["logged_model"] = model_doc(api, c.get_registered_model("reg-logged"))

    by_run = ml.register_model(f"runs:/{run.info.run_id}/model", "reg-runs")
    out["register_runs_uri"] = version_doc(api, by_run)
    by_model = ml.register_model(f"models:/{info.model_id}", "reg-models")
    out["register_models_uri"] = version_doc(api, by_model)
    again = ml.register_model(f"models:/{info.model_id}", "reg-models")  # existing model
    out["register_again"] = version_doc(api, again)
    tags = c.get_logged_model(info.model_id).tags
    out["model_versions_tag"] = json.loads(tags.get("mlflow.modelVersions", "null"))
    out["download_uri"] = labels.sub(c.get_model_version_download_uri("reg-models", "1"))

    frame = __import__("pandas").DataFrame({"x": [1, 2]})
    loaded = ml.pyfunc.load_model("models:/reg-models/2")
    out["predict_by_version"] = loaded.predict(frame)["y"].tolist()
    c.set_registered_model_alias("reg-models", "champion", "1")
    by_alias = ml.pyfunc.load_model("models:/reg-models@champion")
    out["predict_by_alias"] = by_alias.predict(frame)["y"].tolist()
    return out


def section_crud(api: Api) -> dict[str, Any]:
    """MlflowClient calls on registered models and versions, errors included."""
    ml, c, labels, out = api.ml, api.client, api.labels, {}
    exp = ml.set_experiment("compat-registry-crud")
    labels.experiment(exp.experiment_id, "compat-registry-crud")
    with ml.start_run(run_name="crud") as run:
        run_id = run.info.run_id
        labels.run(run_id, "crud")
        ml.log_text("not a model", "model/notes.txt")
    created = c.create_registered_model("crud", tags={"team": "a", "k": "v"}, description="first")
    out["created"] = model_doc(api, created)
    v1 = c.create_model_version(
        "crud", f"runs:/{run_id}/model", run_id=run_id, tags={"t": "1"}, description="d1"
    )
    out["v1"] = version_doc(api, v1)
    v2 = c.create_model_version("crud", "s3://bucket/crud/2", run_link="http://link")
    out["v2"] = version_doc(api, v2)
    c.create_model_version("crud", "s3://bucket/crud/3")

    c.set_registered_model_tag("crud", "added", "x")
    c.delete_registered_model_tag("crud", "k")
    c.set_model_version_tag("crud", "1", "u", "2")
    c.delete_model_version_tag("crud", "1", "t")
    out["updated_model"] = model_doc(api, c.update_registered_model("crud", description="second"))
    out["updated_version"] = version_doc(api, c.update_model_version("crud", "2", "new d2"))

    c.set_registered_model_alias("crud", "champion", "1")
    c.set_registered_model_alias("crud", "challenger", 2)
    c.set_registered_model_alias("crud", "champion", "3")  # moves
    out["by_alias"] = version_doc(api, c.get_model_version_by_alias("crud", "champion"))
    out["model_aliases"] = model_doc(api, c.get_registered_model("crud"))["aliases"]
    c.delete_registered_model_alias("crud", "challenger")
    out["after_alias_delete"] = model_doc(api, c.get_registered_model("crud"))["aliases"]
    out["latest_alias"] = version_doc(api, c.get_model_version_by_alias("crud", "latest"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stages are deprecated in MLflow 3, still supported
        c.transition_model_version_stage("crud", "1", "Production")
        c.transition_model_version_stage("crud", "2", "staging")
        moved = c.transition_model_version_stage(
            "crud", "3", "Production", archive_existing_versions=True
        )
        out["transitioned"] = version_doc(api, moved)
        out["stages"] = [c.get_model_version("crud", v).current_stage for v in ("1", "2", "3")]
        out["latest_all"] = sorted(
            [v.version, v.current_stage] for v in c.get_latest_versions("crud")
        )
        out["latest_production"] = [
            v.version for v in c.get_latest_versions("crud", ["Production"])
        ]
        out["latest_none"] = [v.version for v in c.get_latest_versions("crud", ["None"])]
        out["bad_stage"] = error_doc(
            api, lambda: c.transition_model_version_stage("crud", "1", "Shipped")
        )
    out["model_latest_versions"] = model_doc(api, c.get_registered_model("crud"))["latest_versions"]
    out["download_runs"] = labels.sub(c.get_model_version_download_uri("crud", "1"))
    out["download_s3"] = c.get_model_version_download_uri("crud", "2")

    c.rename_registered_model("crud", "crud-renamed")
    out["renamed"] = model_doc(api, c.get_registered_model("crud-renamed"))
    out["renamed_version"] = version_doc(api, c.get_model_version("crud-renamed", "1"))
    out["old_name"] = error_doc(api, lambda: c.get_registered_model("crud"))

    c.delete_model_version("crud-renamed", "3")
    out["deleted_version"] = error_doc(api, lambda: c.get_model_version("crud-renamed", "3"))
    out["aliases_after_version_delete"] = model_doc(api, c.get_registered_model("crud-renamed"))[
        "aliases"
    ]
    v4 = c.create_model_version("crud-renamed", "s3://bucket/crud/4")
    out["number_after_delete"] = v4.version
    c.delete_registered_model("crud-renamed")
    out["deleted_model"] = error_doc(api, lambda: c.get_registered_model("crud-renamed"))

    c.create_registered_model("crud-errors")
    c.create_model_version("crud-errors", "s3://bucket/e/1")
    out["errors"] = {
        "duplicate": error_doc(api, lambda: c.create_registered_model("crud-errors")),
        "unknown_model": error_doc(api, lambda: c.get_registered_model("no-such-model")),
        "unknown_version": error_doc(api, lambda: c.get_model_version("crud-errors", "9")),
        "version_not_int": error_doc(api, lambda: c.get_model_version("crud-errors", "abc")),
        "unknown_alias": error_doc(api, lambda: c.get_model_version_by_alias("crud-errors", "z")),
        "reserved_alias": error_doc(
            api, lambda: c.set_registered_model_alias("crud-errors", "v1", "1")
        ),
        "alias_unknown_version": error_doc(
            api, lambda: c.set_registered_model_alias("crud-errors", "a", "7")
        ),
        "version_of_unknown_model": error_doc(
            api, lambda: c.create_model_version("no-such-model", "s3://b/x")
        ),
        "rename_to_existing": error_doc(
            api,
            lambda: (
                c.create_registered_model("crud-other"),
                c.rename_registered_model("crud-errors", "crud-other"),
            ),
            message=False,
        ),
    }
    return out


def section_search(api: Api) -> dict[str, Any]:
    """search_registered_models / search_model_versions: filters, order, paging."""
    c, out = api.client, {}
    for i, team in enumerate(("red", "blue", "red", "green")):
        name = f"search-{i}"
        c.create_registered_model(name, tags={"team": team})
        for j in range(i % 3 + 1):
            c.create_model_version(name, f"s3://bucket/{name}/{j}", tags={"j": str(j)})

    def models(**kwargs: Any) -> list[str]:
        return [m.name for m in c.search_registered_models(**kwargs)]

    def versions(**kwargs: Any) -> list[list[str]]:
        return [[v.name, str(v.version)] for v in c.search_model_versions(**kwargs)]

    out["all_search"] = models(filter_string="name LIKE 'search-%'")
    out["by_tag"] = models(filter_string="name LIKE 'search-%' AND tags.team = 'red'")
    out["ilike"] = models(filter_string="name ILIKE 'SEARCH-1%'")
    out["name_desc"] = models(filter_string="name LIKE 'search-%'", order_by=["name DESC"])
    out["no_match"] = models(filter_string="name = 'nothing'")
    pages, token = [], None
    while len(pages) < 10:
        page = c.search_registered_models(
            filter_string="name LIKE 'search-%'", max_results=3, page_token=token
        )
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    out["model_pages"] = pages
    out["versions_of_one"] = versions(
        filter_string="name = 'search-2'", order_by=["version_number ASC"]
    )
    out["versions_number"] = sorted(
        versions(filter_string="name LIKE 'search-%' AND version_number > 1")
    )
    out["versions_tag"] = sorted(versions(filter_string="name LIKE 'search-%' AND tags.j = '2'"))
    out["versions_in"] = sorted(versions(filter_string="name IN ('search-0', 'search-3')"))
    out["versions_source"] = versions(filter_string="source_path = 's3://bucket/search-1/1'")
    vpages, token = [], None
    while len(vpages) < 10:
        page = c.search_model_versions(
            filter_string="name LIKE 'search-%'",
            max_results=2,
            order_by=["name ASC", "version_number DESC"],
            page_token=token,
        )
        vpages.append([[v.name, str(v.version)] for v in page])
        token = page.token
        if not token:
            break
    out["version_pages"] = vpages
    out["bad_order"] = error_doc(
        api, lambda: c.search_registered_models(order_by=["bogus"]), message=False
    )
    out["bad_filter"] = error_doc(
        api, lambda: c.search_registered_models(filter_string="name >< 'x'"), message=False
    )
    return out


def section_prompts(api: Api) -> dict[str, Any]:
    """The prompt registry: prompts are registered models tagged as prompts."""
    ml, c, out = api.ml, api.client, {}
    genai = ml.genai

    def prompt_doc(p: Any) -> dict[str, Any]:
        return {
            "name": p.name,
            "version": p.version,
            "template": p.template,
            "commit_message": p.commit_message,
            "tags": dict(sorted(p.tags.items())),
            "aliases": sorted(p.aliases or []),
        }

    first = genai.register_prompt(
        name="qa-prompt",
        template="Answer {{question}} briefly.",
        commit_message="first",
        tags={"team": "x"},
    )
    out["first"] = prompt_doc(first)
    second = genai.register_prompt(
        name="qa-prompt",
        template=[{"role": "user", "content": "Hi {{name}}"}],
        commit_message="chat",
    )
    out["second"] = prompt_doc(second)
    out["latest"] = prompt_doc(genai.load_prompt("prompts:/qa-prompt@latest"))
    out["by_version"] = prompt_doc(genai.load_prompt("prompts:/qa-prompt/1"))
    genai.set_prompt_alias("qa-prompt", alias="prod", version=1)
    out["by_alias"] = prompt_doc(genai.load_prompt("prompts:/qa-prompt@prod"))
    out["formatted"] = genai.load_prompt("prompts:/qa-prompt@prod").format(question="why")
    genai.delete_prompt_alias("qa-prompt", alias="prod")
    out["deleted_alias"] = error_doc(api, lambda: genai.load_prompt("prompts:/qa-prompt@prod"))
    genai.register_prompt(name="qb-prompt", template="Other {{x}}")
    out["search_prompts"] = sorted(p.name for p in genai.search_prompts("name LIKE 'q%'"))
    c.create_registered_model("q-model")
    out["search_models_excludes_prompts"] = [
        m.name for m in c.search_registered_models(filter_string="name LIKE 'q%'")
    ]
    out["search_versions_excludes_prompts"] = [
        [v.name, str(v.version)] for v in c.search_model_versions(filter_string="name LIKE 'q%'")
    ]
    prompts = c.search_registered_models(filter_string=f"tags.`{PROMPT_TAG}` = 'true'")
    out["prompts_as_models"] = sorted(
        [m.name, dict(sorted(m.tags.items())), m.description] for m in prompts
    )
    prompt_versions = c.search_model_versions(
        filter_string=f"name = 'qa-prompt' AND tags.`{PROMPT_TAG}` = 'true'"
    )
    out["prompt_versions_as_versions"] = sorted(
        [v.version, v.source, dict(sorted(v.tags.items())), v.description] for v in prompt_versions
    )
    # The client checks the prompt tag (GET registered-models/get) and refuses to mix them.
    out["model_api_refuses_prompt"] = error_doc(api, lambda: c.get_registered_model("qa-prompt"))
    out["prompt_api_refuses_model"] = error_doc(
        api, lambda: genai.load_prompt("prompts:/q-model/1"), message=False
    )
    return out


SECTIONS: dict[str, Callable[[Api], dict[str, Any]]] = {
    "register": section_register,
    "crud": section_crud,
    "search": section_search,
    "prompts": section_prompts,
}


def run_section(api: Api, name: str) -> Any:
    try:
        return SECTIONS[name](api)
    except Exception as exc:  # recorded, so one broken section does not hide the others
        print(f"section {name} failed:", file=sys.stderr)
        traceback.print_exc()
        return {"failed": type(exc).__name__, "error_code": getattr(exc, "error_code", None)}
    finally:
        if api.ml.active_run() is not None:
            api.ml.end_run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--out", required=True, help="file for the JSON result")
    args = parser.parse_args()
    api = Api("mlflow", args.tracking_uri)
    api.ml.set_registry_uri(args.tracking_uri)
    result = {}
    for name in args.sections.split(","):
        started = time.monotonic()
        result[name] = run_section(api, name)
        print(f"section {name}: {time.monotonic() - started:.1f}s", file=sys.stderr)
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(result, out, sort_keys=True, indent=1)


if __name__ == "__main__":
    main()
