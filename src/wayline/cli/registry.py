"""``wayline models list|describe|versions|alias|transition|history``: the model registry.

These commands join the ``models`` group (next to serve and predict) through ``REGISTRY_COMMANDS``.
Each prints a Rich table, or JSON with ``--json``; errors are one line that says what to do.
Prompts live in the same registry but have their own commands (``wayline prompts``), so these
commands refuse a prompt's name and point there.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.table import Column, Table
from rich.text import Text

from wayline.cli._common import (
    client,
    console,
    format_ms,
    print_json,
    reports_errors,
    tracking_uri_option,
)
from wayline.entities.registry import ModelVersionStatus
from wayline.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from wayline.entities import PagedList
    from wayline.entities.registry import ModelVersion, RegisteredModel, RegistryChange
    from wayline.store.backend import Store

T = TypeVar("T")

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table."
)
# One page of the store at most; more are fetched page by page.
_PAGE = 1000


def registry(tracking_uri: str | None) -> Store:
    """The registry store of ``tracking_uri`` (the tracking store itself)."""
    from wayline.genai.registry import registry_store

    return registry_store(client(tracking_uri).store)


def as_dict(entity: Any) -> Any:
    """An entity as plain JSON-ready data (enums as their values)."""
    return json.loads(json.dumps(dataclasses.asdict(entity), default=str))


def collect(fetch: Callable[[int, str | None], PagedList[T]], max_results: int | None) -> list[T]:
    """Up to ``max_results`` items (all if None) from a paged store call ``fetch(n, token)``."""
    found: list[T] = []
    token: str | None = None
    while True:
        wanted = _PAGE if max_results is None else min(_PAGE, max_results - len(found))
        page = fetch(wanted, token)
        found.extend(page)
        token = page.token
        if not token or (max_results is not None and len(found) >= max_results):
            return found


def quoted(value: str) -> str:
    """``value`` as a filter string literal (the grammar has no escapes: use the other quote)."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise InvalidParameter(f"The name {value!r} has both quote characters and cannot be searched.")


def get_model(store: Store, name: str) -> RegisteredModel:
    """The registered model ``name``; a prompt or a missing name is an error with a hint."""
    try:
        model = store.get_registered_model(name)
    except NotFound as exc:
        raise NotFound(
            f"{exc.message}. `wayline models list` shows the registered models."
        ) from exc
    if model.is_prompt:
        raise InvalidParameter(
            f"'{name}' is a prompt, not a model: use `wayline prompts show {name}`."
        )
    return model


def _versions_of(store: Store, name: str, extra_filter: str | None) -> list[ModelVersion]:
    clause = f"name = {quoted(name)}"
    if extra_filter and extra_filter.strip():
        clause = f"{clause} AND {extra_filter.strip()}"
    return collect(
        lambda n, token: store.search_model_versions(clause, n, ["version_number DESC"], token),
        None,
    )


def _cell(value: object) -> Text:
    # Names and descriptions are user text: never read them as Rich markup.
    return Text("" if value is None else str(value))


def _versions_table(versions: Iterable[ModelVersion]) -> Table:
    # Fits 80 columns: the run id and other details are in --json (and in runs:/ sources).
    table = Table(
        Column("Version", justify="right", no_wrap=True),
        Column("Stage", no_wrap=True),
        "Aliases",
        Column("Created", no_wrap=True),
        "Source",
        "Description",
    )
    for mv in versions:
        stage = mv.current_stage
        if mv.status != ModelVersionStatus.READY:
            stage = f"{stage} ({mv.status})"
        table.add_row(
            mv.version,
            stage,
            _cell(", ".join(mv.aliases)),
            format_ms(mv.creation_timestamp),
            _cell(mv.source),
            _cell(mv.description),
        )
    return table


def _latest(model: RegisteredModel) -> str:
    ordered = sorted(model.latest_versions, key=lambda v: int(v.version))
    return ", ".join(f"{v.version} ({v.current_stage})" for v in ordered)


def _aliases(aliases: dict[str, str]) -> str:
    return ", ".join(f"{alias}→{version}" for alias, version in sorted(aliases.items()))


# ---------------------------------------------------------------------- commands
@click.command("list")
@click.option("--filter", "filter_string", default=None, help="e.g. \"name LIKE 'churn%'\"")
@click.option("--max-results", type=int, default=None, help="Show at most this many.")
@json_option
@tracking_uri_option
@reports_errors
def list_models(
    filter_string: str | None, max_results: int | None, as_json: bool, tracking_uri: str | None
) -> None:
    """List registered models (prompts are listed by `wayline prompts list`).

    Example: wayline models list --filter "tags.team = 'fraud'"
    """
    store = registry(tracking_uri)
    found = collect(
        lambda n, token: store.search_registered_models(filter_string, n, None, token),
        max_results,
    )
    if as_json:
        print_json({"registered_models": [as_dict(m) for m in found]})
        return
    if not found:
        console.print("No registered models." if not filter_string else "No model matches.")
        return
    table = Table(
        Column("Name", no_wrap=True), "Latest Versions", "Aliases", "Description", "Updated"
    )
    for model in found:
        table.add_row(
            _cell(model.name),
            _latest(model),
            _cell(_aliases(model.aliases)),
            _cell(model.description),
            format_ms(model.last_updated_timestamp),
        )
    console.print(table)


@click.command()
@click.argument("name")
@json_option
@tracking_uri_option
@reports_errors
def describe(name: str, as_json: bool, tracking_uri: str | None) -> None:
    """Show a registered model: description, tags, aliases and every version.

    Example: wayline models describe churn-classifier
    """
    store = registry(tracking_uri)
    model = get_model(store, name)
    versions = _versions_of(store, name, None)
    if as_json:
        print_json(
            {"registered_model": as_dict(model), "model_versions": [as_dict(v) for v in versions]}
        )
        return
    console.print(Text.assemble(("Model: ", "bold"), model.name))
    if model.description:
        console.print(Text.assemble(("Description: ", "bold"), model.description))
    console.print(
        f"Created {format_ms(model.creation_timestamp)}, "
        f"updated {format_ms(model.last_updated_timestamp)}"
    )
    if model.tags:
        tags = ", ".join(f"{k}={v}" for k, v in sorted(model.tags.items()))
        console.print(Text.assemble(("Tags: ", "bold"), tags))
    if model.aliases:
        console.print(Text.assemble(("Aliases: ", "bold"), _aliases(model.aliases)))
    if versions:
        console.print(_versions_table(versions))
    else:
        console.print(
            "No versions yet: register one with wayline.register_model(model_uri, "
            f"{name!r}) or Client().create_model_version({name!r}, source)."
        )


@click.command()
@click.argument("name")
@click.option(
    "--filter", "filter_string", default=None, help="e.g. \"tags.validated = 'yes'\" (ANDed)."
)
@json_option
@tracking_uri_option
@reports_errors
def versions(name: str, filter_string: str | None, as_json: bool, tracking_uri: str | None) -> None:
    """List the versions of a registered model, newest first.

    Example: wayline models versions churn-classifier --filter "version_number >= 3"
    """
    store = registry(tracking_uri)
    get_model(store, name)
    found = _versions_of(store, name, filter_string)
    if as_json:
        print_json({"model_versions": [as_dict(v) for v in found]})
        return
    if not found:
        console.print(f"No version of '{name}' matches." if filter_string else "No versions yet.")
        return
    console.print(_versions_table(found))


@click.command()
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False)
@click.option("--delete", is_flag=True, help="Remove the alias instead of setting it.")
@json_option
@tracking_uri_option
@reports_errors
def alias(
    name: str,
    alias: str,
    version: str | None,
    delete: bool,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """Point ALIAS at VERSION of a model (moving it if it is set), or remove it with --delete.

    Example: wayline models alias churn-classifier champion 3
    """
    if delete == (version is not None):
        raise click.UsageError(
            "Give a VERSION to point the alias at, or --delete to remove it (not both)."
        )
    store = registry(tracking_uri)
    before = get_model(store, name).aliases.get(alias)
    if delete:
        if before is None:
            raise NotFound(
                f"Model '{name}' has no alias '{alias}'. "
                f"`wayline models describe {name}` lists its aliases."
            )
        store.delete_registered_model_alias(name, alias)
        message = f"Removed alias '{alias}' of '{name}' (it pointed to version {before})."
    else:
        assert version is not None
        store.set_registered_model_alias(name, alias, version)
        moved = f" (it pointed to version {before})" if before and before != version else ""
        message = f"Alias '{alias}' of '{name}' now points to version {version}{moved}."
    if as_json:
        after = None if delete else version
        print_json({"name": name, "alias": alias, "before": before, "after": after})
    else:
        console.print(Text(message))


@click.command()
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@click.option(
    "--archive-existing",
    is_flag=True,
    help="Move the other versions now in STAGE to Archived (Staging and Production only).",
)
@json_option
@tracking_uri_option
@reports_errors
def transition(
    name: str,
    version: str,
    stage: str,
    archive_existing: bool,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """Move VERSION of a model to STAGE (None, Staging, Production or Archived).

    Example: wayline models transition churn-classifier 3 Production --archive-existing
    """
    from wayline.entities.registry import Stage

    target = Stage.parse(stage)
    store = registry(tracking_uri)
    get_model(store, name)
    before = store.get_model_version(name, version)
    archived: list[str] = []
    if archive_existing:
        archived = [
            v.version
            for v in _versions_of(store, name, None)
            if v.current_stage == target.value and v.version != before.version
        ]
    after = store.transition_model_version_stage(name, version, target, archive_existing)
    if as_json:
        print_json(
            {"model_version": as_dict(after), "before": before.current_stage, "archived": archived}
        )
        return
    console.print(
        Text(f"Version {after.version} of '{name}': {before.current_stage} → {after.current_stage}")
    )
    if archived:
        console.print(f"Archived versions {', '.join(sorted(archived, key=int))}.")


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def change_text(change: RegistryChange) -> str:
    """One audit entry's change, a line per field: ``key: before → after`` for what changed,
    ``key=value`` for what was set where there was nothing (empty values left out)."""
    lines: list[str] = []
    for key in sorted(set(change.before) | set(change.after)):
        before, after = change.before.get(key), change.after.get(key)
        if key in change.before:
            lines.append(f"{key}: {_value(before)} → {_value(after)}")
        elif after not in (None, "", {}, []):
            lines.append(f"{key}={_value(after)}")
    return "\n".join(lines)


@click.command()
@click.argument("name")
@click.option("--max-results", type=int, default=None, help="Show at most this many changes.")
@json_option
@tracking_uri_option
@reports_errors
def history(name: str, max_results: int | None, as_json: bool, tracking_uri: str | None) -> None:
    """The audit trail of a model, newest first: when, who, what, and before → after.

    The trail outlives the model, so a deleted model's history still shows.

    Example: wayline models history churn-classifier --max-results 20
    """
    store = registry(tracking_uri)
    found = collect(
        lambda n, token: store.get_registry_history(name, n, token),
        max_results,
    )
    if as_json:
        print_json({"changes": [as_dict(c) for c in found]})
        return
    if not found:
        console.print(
            Text(f"No recorded changes for '{name}'. `wayline models list` shows the models.")
        )
        return
    # Fits 80 columns: the date over the time, the version under the action.
    table = Table("When", "Who", Column("Action", no_wrap=True), "Change")
    for change in found:
        when = format_ms(change.timestamp).replace(" ", "\n")
        action = change.action + (f"\nversion {change.version}" if change.version else "")
        table.add_row(when, _cell(change.user), action, _cell(change_text(change)))
    console.print(table)


REGISTRY_COMMANDS: list[click.Command] = [
    list_models,
    describe,
    versions,
    alias,
    transition,
    history,
]

__all__ = ["REGISTRY_COMMANDS", "as_dict", "collect", "json_option", "registry"]
