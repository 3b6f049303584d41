"""One provider's autologging: its settings and the SDK methods it has patched.

Patches are installed once per (class, method): calling ``autolog()`` again only updates the
settings. ``uninstall`` puts every original back exactly as it was (an inherited method is
un-shadowed rather than copied onto the subclass).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from wayline.errors import WaylineError

_logger = logging.getLogger("wayline.autolog")

_MISSING = object()

Original = Callable[..., Any]
WrapperFactory = Callable[[Original], Original]


def require_sdk(module: str, package: str, what: str) -> ModuleType:
    """Import a provider SDK, or explain how to install it.

    Example::

        openai = require_sdk("openai", "openai", "OpenAI autologging")
        # WaylineError: ... Install it with: pip install openai  (when it is missing)
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not module.startswith(e.name):
            raise  # the SDK is there but one of its own dependencies is not
        raise WaylineError(
            f"{what} needs the {package!r} package, which is not installed. "
            f"Install it with: pip install {package}"
        ) from e


@dataclass
class Settings:
    log_traces: bool = True
    silent: bool = False


@dataclass(frozen=True)
class _Patch:
    owner: type
    name: str
    original: Any  # what ``owner.__dict__`` held, or _MISSING when the method was inherited
    wrapper: Any


class Integration:
    """The patches and settings of one provider (``openai``, ``anthropic``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.settings = Settings()
        self._patches: dict[tuple[type, str], _Patch] = {}
        self._lock = threading.Lock()

    @property
    def installed(self) -> bool:
        return bool(self._patches)

    @property
    def tracing(self) -> bool:
        """Whether a patched call should record a span now (checked on every call, so that a
        wrapper bound before ``autolog(disable=True)`` turns into a pass-through)."""
        return self.installed and self.settings.log_traces

    def patch(self, owner: type, name: str, make_wrapper: WrapperFactory) -> None:
        """Replace ``owner.name`` by ``make_wrapper(original)``, unless already patched."""
        with self._lock:
            if (owner, name) in self._patches:
                return
            own = owner.__dict__.get(name, _MISSING)
            original = getattr(owner, name)
            wrapper = make_wrapper(original)
            wrapper.__wrapped__ = original  # type: ignore[attr-defined]
            setattr(owner, name, wrapper)
            self._patches[(owner, name)] = _Patch(owner, name, own, wrapper)

    def uninstall(self) -> None:
        """Restore every patched method."""
        with self._lock:
            for patch in reversed(list(self._patches.values())):
                if patch.original is _MISSING:
                    delattr(patch.owner, patch.name)
                else:
                    setattr(patch.owner, patch.name, patch.original)
            self._patches.clear()

    def warn(self, message: str, *, exc_info: bool = True) -> None:
        """Report a failure of autologging itself (never of the user's call): a warning, or a
        debug line when the integration is ``silent``. Called from ``except`` blocks, it logs
        the exception too."""
        level = logging.DEBUG if self.settings.silent else logging.WARNING
        _logger.log(level, "%s autologging: %s", self.name, message, exc_info=exc_info)
