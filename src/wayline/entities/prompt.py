"""Prompts (MLflow 3's prompt registry): ``Prompt`` and ``PromptVersion``, and their storage.

A prompt is a registered model tagged ``mlflow.prompt.is_prompt = "true"``; each prompt version is
a model version whose tags carry the template (spec rest-registry.md §3). ``version_tags`` writes
those tags and ``PromptVersion.from_model_version`` reads them back, so a prompt written by
Wayline loads in MLflow and one written by MLflow loads here.

Templates use double braces: ``{{ name }}`` or a dotted path ``{{ user.name }}``. A template
with Jinja2 control flow (``{% ... %}``) is rendered with Jinja2 (sandboxed by default), as
MLflow does.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wayline.entities.registry import PROMPT_TAG, ModelVersion, RegisteredModel
from wayline.errors import InvalidParameter

PROMPT_TEXT_TAG = "mlflow.prompt.text"
PROMPT_TYPE_TAG = "_mlflow_prompt_type"
RESPONSE_FORMAT_TAG = "_mlflow_prompt_response_format"
MODEL_CONFIG_TAG = "_mlflow_prompt_model_config"
EXPERIMENT_IDS_TAG = "_mlflow_experiment_ids"
# The run / logged-model / trace tag listing the prompt versions used: [{"name", "version"}].
LINKED_PROMPTS_TAG = "mlflow.linkedPrompts"
# CreateModelVersion needs a source; prompt versions have none (the value MLflow's client sends).
PROMPT_SOURCE = "dummy-source"

PROMPT_TYPE_TEXT = "text"
PROMPT_TYPE_CHAT = "chat"

PROMPT_NAME_RULE = re.compile(r"^[a-zA-Z0-9_.-]+$")
VARIABLE_PATTERN = re.compile(
    r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)\s*\}\}"
)

# Version tags that encode the prompt itself rather than describe it.
RESERVED_VERSION_TAGS = frozenset(
    {PROMPT_TAG, PROMPT_TEXT_TAG, PROMPT_TYPE_TAG, RESPONSE_FORMAT_TAG, MODEL_CONFIG_TAG}
)

Message = dict[str, Any]
Template = str | list[Message]


def validate_prompt_name(name: object) -> str:
    """``name`` if it is a valid prompt name, else InvalidParameter saying what is allowed."""
    if not isinstance(name, str) or not name:
        raise InvalidParameter("Prompt name must be a non-empty string.")
    if PROMPT_NAME_RULE.match(name) is None:
        raise InvalidParameter(
            f"Invalid prompt name {name!r}: prompt names can only contain alphanumeric "
            "characters, hyphens, underscores, and dots."
        )
    return name


def validate_template(template: object) -> Template:
    """A text template (str) or a chat template (a non-empty list of ``{role, content}``)."""
    if isinstance(template, str):
        return template
    if isinstance(template, list) and template:
        for message in template:
            if (
                not isinstance(message, Mapping)
                or not isinstance(message.get("role"), str)
                or "content" not in message
            ):
                raise InvalidParameter(
                    "A chat template must be a list of messages, each a dict with 'role' and "
                    f"'content' keys; got {message!r}."
                )
        return [dict(m) for m in template]
    raise InvalidParameter(
        "A prompt template must be a string (a text prompt) or a non-empty list of "
        f"{{'role': ..., 'content': ...}} messages (a chat prompt); got {type(template).__name__}."
    )


# MLflow's PromptModelConfig: known fields with their checks; anything else is a provider-specific
# parameter kept as given (``extra_params`` is merged into the top level, as MLflow stores it).
_FLOAT_FIELDS = {"temperature": (0.0, None), "top_p": (0.0, 1.0)}
_POSITIVE_INT_FIELDS = ("max_tokens", "top_k")


def normalize_model_config(model_config: Any) -> dict[str, Any]:
    """A model config (a dict, or MLflow's ``PromptModelConfig``) as the dict MLflow stores."""
    if hasattr(model_config, "to_dict") and callable(model_config.to_dict):
        model_config = model_config.to_dict()
    if not isinstance(model_config, Mapping):
        raise InvalidParameter(
            f"model_config must be a dict such as {{'model_name': 'gpt-4o', 'temperature': 0.2}}; "
            f"got {type(model_config).__name__}."
        )
    config: dict[str, Any] = {}
    for key, value in model_config.items():
        if key == "extra_params":
            config.update(dict(value or {}))
        elif value is not None:
            config[str(key)] = value
    for key, (low, high) in _FLOAT_FIELDS.items():
        value = config.get(key)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or value < low
            or (high is not None and value > high)
        ):
            bounds = f"between {low} and {high}" if high is not None else f">= {low}"
            raise InvalidParameter(f"model_config {key} must be a number {bounds}; got {value!r}.")
    for key in _POSITIVE_INT_FIELDS:
        value = config.get(key)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidParameter(f"model_config {key} must be a positive integer; got {value!r}.")
    stop = config.get("stop_sequences")
    if stop is not None and (
        not isinstance(stop, list) or not all(isinstance(s, str) for s in stop)
    ):
        raise InvalidParameter(
            f"model_config stop_sequences must be a list of strings; got {stop!r}."
        )
    return config


def normalize_response_format(response_format: Any) -> dict[str, Any]:
    """A response format (a JSON-schema dict, or a pydantic model class) as a dict."""
    schema = getattr(response_format, "model_json_schema", None)
    if isinstance(response_format, type) and callable(schema):
        result = schema()
        if isinstance(result, dict):
            return result
    if isinstance(response_format, Mapping):
        return dict(response_format)
    raise InvalidParameter(
        "response_format must be a JSON-schema dict or a pydantic model class; "
        f"got {type(response_format).__name__}."
    )


def version_tags(
    template: Template,
    tags: Mapping[str, str] | None = None,
    response_format: Any = None,
    model_config: Any = None,
) -> dict[str, str]:
    """The tags of the model version that stores one prompt version (spec rest-registry.md §3):
    the user's tags, then the prompt marker, type, text and optional formats."""
    stored = {str(k): str(v) for k, v in (tags or {}).items()}
    stored[PROMPT_TAG] = "true"
    if isinstance(template, str):
        stored[PROMPT_TYPE_TAG] = PROMPT_TYPE_TEXT
        stored[PROMPT_TEXT_TAG] = template
    else:
        stored[PROMPT_TYPE_TAG] = PROMPT_TYPE_CHAT
        stored[PROMPT_TEXT_TAG] = json.dumps(template)
    if response_format:
        stored[RESPONSE_FORMAT_TAG] = json.dumps(normalize_response_format(response_format))
    if model_config:
        stored[MODEL_CONFIG_TAG] = json.dumps(normalize_model_config(model_config))
    return stored


def _json_tag(tags: Mapping[str, str], key: str) -> dict[str, Any] | None:
    raw = tags.get(key)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None  # written by hand; the template is still usable
    return value if isinstance(value, dict) else None


def _resolve(values: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """(found, value) of a variable: the literal key first, then a walk along the dotted path
    through mappings and attributes (``{{ user.name }}`` with ``user={"name": ...}``)."""
    if path in values:
        return True, values[path]
    head, *rest = path.split(".")
    if not rest or head not in values:
        return False, None
    current = values[head]
    for part in rest:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif not isinstance(current, Mapping) and hasattr(current, part):
            current = getattr(current, part)
        else:
            return False, None
    return True, current


def _substitute(text: str, values: Mapping[str, Any]) -> str:
    # One pass: text a value brings in is never taken for a placeholder itself.
    def replace(match: re.Match[str]) -> str:
        found, value = _resolve(values, match.group(1))
        return str(value) if found else match.group(0)

    return VARIABLE_PATTERN.sub(replace, text)


def _is_jinja(template: Template) -> bool:
    texts = [template] if isinstance(template, str) else [m.get("content") for m in template]
    return any(isinstance(t, str) and "{%" in t and "%}" in t for t in texts)


def _render_jinja(template: Template, values: Mapping[str, Any], sandbox: bool) -> Template:
    try:
        from jinja2 import Environment
        from jinja2.sandbox import SandboxedEnvironment
    except ImportError as exc:  # pragma: no cover - jinja2 ships with the server extras
        raise InvalidParameter(
            "This prompt is a Jinja2 template ({% ... %}); install Jinja2 to format it: "
            "pip install jinja2"
        ) from exc
    # Prompts are not HTML: no autoescaping, as MLflow renders them.
    env = SandboxedEnvironment() if sandbox else Environment()
    if isinstance(template, str):
        return env.from_string(template).render(**values)
    return [
        {**m, "content": env.from_string(m["content"]).render(**values)}
        if isinstance(m.get("content"), str)
        else dict(m)
        for m in template
    ]


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One immutable version of a prompt: its template and what describes it.

    ``template`` is a string (a text prompt) or a list of ``{"role", "content"}`` messages (a chat
    prompt); ``tags`` are the version's own tags (the storage tags left out); ``aliases`` the
    aliases pointing here.

    Example::

        prompt = wayline.genai.load_prompt("prompts:/qa/2")
        prompt.variables                            # {'question'}
        prompt.format(question="Why is the sky blue?")
    """

    name: str
    version: int
    template: Template
    commit_message: str | None = None
    creation_timestamp: int = 0
    last_updated_timestamp: int = 0
    user_id: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    response_format: dict[str, Any] | None = None
    model_config: dict[str, Any] | None = None

    @classmethod
    def from_model_version(cls, mv: ModelVersion) -> PromptVersion:
        """Read a prompt version from the model version that stores it."""
        if not mv.is_prompt:
            raise InvalidParameter(
                f"Name `{mv.name}` is registered as a model, not a prompt: load it with "
                f"wayline.pyfunc.load_model('models:/{mv.name}/{mv.version}')."
            )
        if PROMPT_TEXT_TAG not in mv.tags:
            raise InvalidParameter(f"Prompt `{mv.name}` version {mv.version} has no prompt text.")
        text = mv.tags[PROMPT_TEXT_TAG]
        template: Template = text
        if mv.tags.get(PROMPT_TYPE_TAG) == PROMPT_TYPE_CHAT:
            template = json.loads(text)
        return cls(
            name=mv.name,
            version=int(mv.version),
            template=template,
            commit_message=mv.description or None,
            creation_timestamp=mv.creation_timestamp,
            last_updated_timestamp=mv.last_updated_timestamp,
            user_id=mv.user_id,
            tags={k: v for k, v in mv.tags.items() if k not in RESERVED_VERSION_TAGS},
            aliases=list(mv.aliases),
            response_format=_json_tag(mv.tags, RESPONSE_FORMAT_TAG),
            model_config=_json_tag(mv.tags, MODEL_CONFIG_TAG),
        )

    @property
    def prompt_type(self) -> str:
        """``"text"`` or ``"chat"``."""
        return PROMPT_TYPE_TEXT if isinstance(self.template, str) else PROMPT_TYPE_CHAT

    @property
    def is_text_prompt(self) -> bool:
        return isinstance(self.template, str)

    @property
    def description(self) -> str | None:
        """MLflow's other name for ``commit_message``."""
        return self.commit_message

    @property
    def uri(self) -> str:
        """``prompts:/<name>/<version>``, which ``load_prompt`` takes."""
        return f"prompts:/{self.name}/{self.version}"

    @property
    def variables(self) -> set[str]:
        """The names of the template's ``{{ variables }}`` (dotted paths included)."""
        text = self.template if isinstance(self.template, str) else json.dumps(self.template)
        return set(VARIABLE_PATTERN.findall(text))

    def format(
        self, allow_partial: bool = False, use_jinja_sandbox: bool = True, **values: Any
    ) -> str | list[Message] | PromptVersion:
        """The template with its variables filled in: a string for a text prompt, a list of
        messages for a chat prompt.

        A variable without a value is an error naming it; with ``allow_partial=True`` the
        variables given are filled in and a PromptVersion whose template keeps the missing
        ones is returned, to format later (as MLflow does). A dotted variable ``{{ a.b }}``
        takes ``a.b`` or walks ``a``'s keys or attributes.

        Example::

            prompt.format(question="What is MLflow?")              # 'Answer: What is MLflow?'
            half = prompt.format(style="terse", allow_partial=True)
            half.format(question="Why?")
        """
        if _is_jinja(self.template):
            return _render_jinja(self.template, values, use_jinja_sandbox)
        formatted: Template
        if isinstance(self.template, str):
            formatted = _substitute(self.template, values)
        else:
            formatted = [
                {**m, "content": _substitute(m["content"], values)}
                if isinstance(m.get("content"), str)
                else dict(m)
                for m in self.template
            ]
        missing = sorted(v for v in self.variables if not _resolve(values, v)[0])
        if not missing:
            return formatted
        if not allow_partial:
            names = ", ".join(missing)
            raise InvalidParameter(
                f"Missing variables for prompt '{self.name}' version {self.version}: {names}. "
                f"Pass them to format() ({missing[0]}=...), or set allow_partial=True to leave "
                "them in place."
            )
        return dataclasses.replace(self, template=formatted)

    def to_single_brace_format(self) -> Template:
        """The template with ``{{ var }}`` turned into ``{var}`` (LangChain's placeholders)."""

        def single(text: str) -> str:
            return VARIABLE_PATTERN.sub(lambda m: "{" + m.group(1) + "}", text)

        if isinstance(self.template, str):
            return single(self.template)
        return [
            {**m, "content": single(m["content"])} if isinstance(m.get("content"), str) else m
            for m in self.template
        ]

    def __repr__(self) -> str:
        text = self.template if isinstance(self.template, str) else json.dumps(self.template)
        shown = text if len(text) <= 30 else text[:30] + "..."
        return f"PromptVersion(name={self.name}, version={self.version}, template={shown})"


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt: its name, description, tags and aliases (the versions hold the templates).

    ``tags`` leaves out the ``mlflow.prompt.is_prompt`` marker; ``aliases`` maps alias names to
    version numbers; ``latest_version`` is the highest version (None before the first).

    Example::

        for prompt in wayline.genai.search_prompts("tags.team = 'search'"):
            print(prompt.name, prompt.latest_version, prompt.aliases)
    """

    name: str
    description: str | None = None
    creation_timestamp: int = 0
    last_updated_timestamp: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None

    @classmethod
    def from_registered_model(cls, rm: RegisteredModel) -> Prompt:
        versions = [int(v.version) for v in rm.latest_versions]
        return cls(
            name=rm.name,
            description=rm.description or None,
            creation_timestamp=rm.creation_timestamp,
            last_updated_timestamp=rm.last_updated_timestamp,
            tags={k: v for k, v in rm.tags.items() if k != PROMPT_TAG},
            aliases={alias: int(version) for alias, version in rm.aliases.items()},
            latest_version=max(versions) if versions else None,
        )


__all__ = [
    "EXPERIMENT_IDS_TAG",
    "LINKED_PROMPTS_TAG",
    "MODEL_CONFIG_TAG",
    "PROMPT_NAME_RULE",
    "PROMPT_SOURCE",
    "PROMPT_TEXT_TAG",
    "PROMPT_TYPE_CHAT",
    "PROMPT_TYPE_TAG",
    "PROMPT_TYPE_TEXT",
    "RESPONSE_FORMAT_TAG",
    "VARIABLE_PATTERN",
    "Prompt",
    "PromptVersion",
    "normalize_model_config",
    "normalize_response_format",
    "validate_prompt_name",
    "validate_template",
    "version_tags",
]
