"""The bridge from a Nox session to a function in ``tools``.

Every session calls :func:`call`, which imports its module only when the session
runs (so ``nox -l`` and unrelated sessions stay fast), and turns the toolkit's
user-facing errors into ``session.error`` without a traceback.
"""

from __future__ import annotations

import importlib
from typing import Any

from tools.errors import HelpShown, ToolkitError


def resolve(target: str) -> Any:
    """The function a ``"module:function"`` name (module relative to ``tools``) names."""
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(f"tools.{module_name}"), func_name)


def call(session: Any, target: str, *args: Any) -> None:
    """Run ``module:function`` with the session's posargs, then any ``args``."""
    func = resolve(target)
    try:
        func(list(session.posargs), *args)
    except HelpShown:
        return
    except ToolkitError as exc:
        # nox ends the message with its own full stop.
        session.error(exc.message.rstrip("."))
