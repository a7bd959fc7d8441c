"""The bridge from a Nox session to a function in ``tools``.

Every session calls :func:`call`, which imports its module only when the session
runs (so ``nox -l`` and unrelated sessions stay fast), and turns the toolkit's
user-facing errors into ``session.error`` without a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
import sysconfig
from pathlib import Path
from typing import Any

from tools.errors import HelpShown, ToolkitError


def call(session: Any, target: str, *args: Any) -> None:
    """Run ``module:function`` with the session's posargs, then any ``args``."""
    module_name, func_name = target.split(":")
    func = getattr(importlib.import_module(f"tools.{module_name}"), func_name)
    try:
        func(list(session.posargs), *args)
    except HelpShown:
        return
    except ToolkitError as exc:
        # nox ends the message with its own full stop.
        session.error(exc.message.rstrip("."))


#: What the sessions that talk to the engine through the docker SDK install in their venv.
SDK_REQUIREMENT = "docker>=7"


def use_sdk(session: Any) -> None:
    """Make the docker SDK importable here, from the session's own reused virtualenv.

    The venv is made and filled once (pip runs silently, its output only shown when it
    fails); later calls find the marker and start no installer.  The session's code
    still runs in this process, with the venv's packages added to ``sys.path``.
    """
    location = Path(session.virtualenv.location)
    marker = location / "cilium-envoy-toolkit.requirements"
    if not marker.is_file() or marker.read_text() != SDK_REQUIREMENT:
        session.install(SDK_REQUIREMENT, silent=True)
        marker.write_text(SDK_REQUIREMENT)
    paths = sysconfig.get_paths(vars={"base": str(location), "platbase": str(location)})
    for key in ("purelib", "platlib"):
        folder = paths[key]
        if os.path.isdir(folder) and folder not in sys.path:
            sys.path.append(folder)  # after ours: the venv only adds what we lack
