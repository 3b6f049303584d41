"""``wayline prompts list|show|register|alias``: the prompt registry from the command line.

Prompts are stored as MLflow 3 stores them, so what these commands register loads with
``mlflow.genai.load_prompt`` and the other way round. Tables by default, JSON with ``--json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from wayline.cli.registry import json_option
from wayline.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from wayline.entities.prompt import Prompt, PromptVersion, Template
    from wayline.genai.registry import PromptRegistry


def _registry(tracking_uri: str | None) -> PromptRegistry:
    from wayline.genai.registry import PromptRegistry

    return PromptRegistry(client(tracking_uri).store)


def _prompt_dict(prompt: Prompt) -> dict[str, Any]:
    return {
        "name": prompt.name,
        "description": prompt.description,
        "creation_timestamp": prompt.creation_timestamp,
        "last_updated_timestamp": prompt.last_updated_timestamp,
        "tags": prompt.tags,
        "aliases": prompt.aliases,
        "latest_version": prompt.latest_version,
    }


def _version_dict(version: PromptVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "uri": version.uri,
        "prompt_type": version.prompt_type,
        "template": version.template,
        "variables": sorted(version.variables),
        "commit_message": version.commit_message,
        "creation_timestamp": version.creation_timestamp,
        "user_id": version.user_id,
        "tags": version.tags,
        "aliases": version.aliases,
        "response_format": version.response_format,
        "model_config": version.model_config,
    }


def _json_option_value(text: str | None, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    source = Path(text[1:]) if text.startswith("@") else None
    try:
        value = json.loads(source.read_text() if source else text)
    except OSError as exc:
        raise InvalidParameter(f"Cannot read {what} from {source}: {exc.strerror}.") from exc
    except json.JSONDecodeError as exc:
        raise InvalidParameter(
            f"{what} must be a JSON object (or @file.json holding one): {exc.msg}."
        ) from exc
    if not isinstance(value, dict):
        raise InvalidParameter(f"{what} must be a JSON object, e.g. '{{\"temperature\": 0.2}}'.")
    return value


def _parse_template(text: str, kind: str) -> Template:
    """The template as registered: text as is; chat from a JSON list of messages. ``auto``
    takes a JSON list of {role, content} objects for chat and anything else for text."""
    if kind == "text":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if kind == "chat":
            raise InvalidParameter(
                "A chat template must be a JSON list of messages, e.g. "
                '[{"role": "user", "content": "{{question}}"}]: ' + exc.msg + "."
            ) from exc
        return text
    is_chat = isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value)
    if kind == "chat" or (is_chat and value):
        return value  # type: ignore[no-any-return]
    return text


def _tags(pairs: tuple[str, ...]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE.", param_hint="--tag")
        tags[key] = value
    return tags


@click.group()
def prompts() -> None:
    """Register, version, alias and inspect prompts (MLflow 3's prompt registry)."""


@prompts.command("list")
@click.option("--filter", "filter_string", default=None, help="e.g. \"name LIKE 'qa%'\"")
@click.option("--max-results", type=int, default=None, help="Show at most this many.")
@json_option
@tracking_uri_option
@reports_errors
def list_prompts(
    filter_string: str | None, max_results: int | None, as_json: bool, tracking_uri: str | None
) -> None:
    """List prompts with their latest version and aliases.

    Example: wayline prompts list --filter "tags.team = 'search'"
    """
    found = _registry(tracking_uri).search(filter_string, max_results)
    if as_json:
        print_json({"prompts": [_prompt_dict(p) for p in found]})
        return
    if not found:
        console.print(
            "No prompt matches."
            if filter_string
            else "No prompts yet: `wayline prompts register NAME --template TEXT` adds one."
        )
        return
    table = Table(
        Column("Name", no_wrap=True),
        Column("Latest", justify="right"),
        "Aliases",
        "Description",
        "Tags",
        "Updated",
    )
    for prompt in found:
        aliases = ", ".join(f"{a}→{v}" for a, v in sorted(prompt.aliases.items()))
        tags = ", ".join(f"{k}={v}" for k, v in sorted(prompt.tags.items()))
        table.add_row(
            Text(prompt.name),
            str(prompt.latest_version or ""),
            Text(aliases),
            Text(prompt.description or ""),
            Text(tags),
            format_ms(prompt.last_updated_timestamp),
        )
    console.print(table)


def _print_version(version: PromptVersion) -> None:
    console.print(Text.assemble(("Prompt: ", "bold"), version.uri, f"  ({version.prompt_type})"))
    if version.commit_message:
        console.print(Text.assemble(("Message: ", "bold"), version.commit_message))
    by = f" by {version.user_id}" if version.user_id else ""
    console.print(Text(f"Created {format_ms(version.creation_timestamp)}{by}"))
    if version.aliases:
        console.print(Text.assemble(("Aliases: ", "bold"), ", ".join(version.aliases)))
    if version.tags:
        tags = ", ".join(f"{k}={v}" for k, v in sorted(version.tags.items()))
        console.print(Text.assemble(("Tags: ", "bold"), tags))
    variables = ", ".join(sorted(version.variables)) or "-"
    console.print(Text.assemble(("Variables: ", "bold"), variables))
    if version.model_config:
        console.print(Text.assemble(("Model config: ", "bold"), json.dumps(version.model_config)))
    if version.response_format:
        fmt = json.dumps(version.response_format)
        console.print(Text.assemble(("Response format: ", "bold"), fmt))
    console.print(Text("Template:", style="bold"))
    if isinstance(version.template, str):
        console.print(Text(version.template))
        return
    for message in version.template:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content)
        console.print(Text.assemble((f"[{message.get('role')}] ", "cyan"), text))


@prompts.command()
@click.argument("name_or_uri")
@click.option("--version", default=None, help="Version number (default: the latest).")
@json_option
@tracking_uri_option
@reports_errors
def show(name_or_uri: str, version: str | None, as_json: bool, tracking_uri: str | None) -> None:
    """Show one prompt version: its template, variables, tags and aliases.

    NAME_OR_URI is a name (with --version, or the latest) or a URI: prompts:/qa/2,
    prompts:/qa@production, prompts:/qa@latest.

    Example: wayline prompts show prompts:/qa@production
    """
    registry = _registry(tracking_uri)
    found = registry.load(name_or_uri, version)
    if found is None:  # pragma: no cover - load raises unless allow_missing
        raise NotFound(f"No prompt {name_or_uri}.")
    if as_json:
        print_json(_version_dict(found))
        return
    _print_version(found)


@prompts.command()
@click.argument("name")
@click.option("--template", "template_text", default=None, help="The template text.")
@click.option(
    "--file",
    "template_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Read the template from this file.",
)
@click.option(
    "--type",
    "kind",
    type=click.Choice(["auto", "text", "chat"]),
    default="auto",
    show_default=True,
    help="chat: the template is a JSON list of {role, content} messages; auto: chat if it "
    "parses as one, else text.",
)
@click.option("-m", "--message", default=None, help="Commit message of this version.")
@click.option("--tag", "tag_pairs", multiple=True, metavar="KEY=VALUE", help="Repeatable.")
@click.option("--model-config", default=None, help="JSON object (or @file), e.g. model_name.")
@click.option("--response-format", default=None, help="JSON schema object (or @file).")
@json_option
@tracking_uri_option
@reports_errors
def register(
    name: str,
    template_text: str | None,
    template_file: Path | None,
    kind: str,
    message: str | None,
    tag_pairs: tuple[str, ...],
    model_config: str | None,
    response_format: str | None,
    as_json: bool,
    tracking_uri: str | None,
) -> None:
    """Register a prompt, or a new version of it if NAME exists.

    Example: wayline prompts register qa --template "Answer {{question}} briefly." -m "first"
    """
    if template_file is not None and template_text is None:
        text = template_file.read_text()
    elif template_text is not None and template_file is None:
        text = template_text
    else:
        raise click.UsageError("Give the template with exactly one of --template and --file.")
    template = _parse_template(text, kind)
    created = _registry(tracking_uri).register(
        name,
        template,
        commit_message=message,
        tags=_tags(tag_pairs),
        response_format=_json_option_value(response_format, "--response-format"),
        model_config=_json_option_value(model_config, "--model-config"),
    )
    if as_json:
        print_json(_version_dict(created))
        return
    variables = ", ".join(sorted(created.variables)) or "none"
    console.print(
        Text(
            f"Registered {name} version {created.version} ({created.prompt_type} prompt, "
            f"variables: {variables}). Load it with "
            f"wayline.genai.load_prompt({created.uri!r})."
        )
    )


@prompts.command()
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
    """Point ALIAS at VERSION of a prompt, or remove it with --delete.

    Example: wayline prompts alias qa production 2
    """
    if delete == (version is not None):
        raise click.UsageError(
            "Give a VERSION to point the alias at, or --delete to remove it (not both)."
        )
    registry = _registry(tracking_uri)
    current = registry.get(name)
    if current is None:
        raise NotFound(f"There is no prompt '{name}': `wayline prompts list` shows the prompts.")
    before = current.aliases.get(alias)
    after: int | None = None
    if delete:
        if before is None:
            raise NotFound(
                f"Prompt '{name}' has no alias '{alias}'. "
                f"`wayline prompts list --filter \"name = '{name}'\"` shows its aliases."
            )
        registry.delete_alias(name, alias)
        text = f"Removed alias '{alias}' of prompt '{name}' (it pointed to version {before})."
    else:
        assert version is not None
        registry.set_alias(name, alias, version)
        after = int(version)
        moved = f" (it pointed to version {before})" if before and before != after else ""
        text = f"prompts:/{name}@{alias} now loads version {after}{moved}."
    if as_json:
        print_json({"name": name, "alias": alias, "before": before, "after": after})
    else:
        console.print(Text(text))


__all__ = ["prompts"]
