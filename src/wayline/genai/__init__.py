"""GenAI tools: the prompt registry (MLflow 3's ``mlflow.genai`` prompt functions).

``import wayline`` loads this package on first use of ``wayline.genai``::

    import wayline

    wayline.genai.register_prompt("qa", "Answer {{question}} briefly.", commit_message="first")
    wayline.genai.set_prompt_alias("qa", alias="production", version=1)
    prompt = wayline.genai.load_prompt("prompts:/qa@production")
    prompt.format(question="What is a prompt registry?")
"""

from wayline.entities.prompt import Prompt, PromptVersion
from wayline.genai.prompts import (
    delete_prompt,
    delete_prompt_alias,
    delete_prompt_model_config,
    delete_prompt_tag,
    delete_prompt_version,
    delete_prompt_version_tag,
    get_prompt,
    get_prompt_tags,
    load_prompt,
    register_prompt,
    search_prompt_versions,
    search_prompts,
    set_prompt_alias,
    set_prompt_model_config,
    set_prompt_tag,
    set_prompt_version_tag,
)
from wayline.genai.registry import PromptRegistry

__all__ = [
    "Prompt",
    "PromptRegistry",
    "PromptVersion",
    "delete_prompt",
    "delete_prompt_alias",
    "delete_prompt_model_config",
    "delete_prompt_tag",
    "delete_prompt_version",
    "delete_prompt_version_tag",
    "get_prompt",
    "get_prompt_tags",
    "load_prompt",
    "register_prompt",
    "search_prompt_versions",
    "search_prompts",
    "set_prompt_alias",
    "set_prompt_model_config",
    "set_prompt_tag",
    "set_prompt_version_tag",
]
