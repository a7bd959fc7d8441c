"""The bridge from a Nox session to a function in ``tools``.

Every session calls :func:`call`, which imports its module only when the session
runs (so ``nox -l`` and unrelated sessions stay fast), and turns the toolkit's
user-facing errors into ``session.error`` without a traceback.  A stop signal (SIGINT,
SIGTERM, SIGHUP; see tools.run) ends the session and the whole nox run: what it started
is stopped, one line says so, and nox exits with status 128 + the signal's number.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import signal
from typing import Any, Iterator, Optional

from tools import run
from tools.errors import HelpShown, ToolkitError


def resolve(target: str) -> Any:
    """The function a ``"module:function"`` name (module relative to ``tools``) names."""
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(f"tools.{module_name}"), func_name)


def call(session: Any, target: str, *args: Any) -> None:
    """Run ``module:function`` with the session's posargs, then any ``args``."""
    with stops(session):
        func = resolve(target)
        try:
            func(list(session.posargs), *args)
        except HelpShown:
            return
        except ToolkitError as exc:
            # nox ends the message with its own full stop.
            session.error(exc.message.rstrip("."))


def command(session: Any, *argv: str, label: Optional[str] = None) -> None:
    """Run a program as ``session.run`` would (the session's venv first on PATH), but through
    the toolkit's runner: in a process group of its own, so a stop signal sent to nox alone
    stops it and everything it started (pytest's xdist workers) too."""
    env = dict(os.environ)
    for key, value in session.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    if session.bin_paths:
        env["PATH"] = os.pathsep.join([*session.bin_paths, env.get("PATH", "")])
    program = shutil.which(argv[0], path=env.get("PATH")) or argv[0]
    session.log(run.quote(argv))
    with stops(session):
        try:
            status = run.stream([program, *argv[1:]], env=env, label=label)
        except ToolkitError as exc:
            session.error(exc.message.rstrip("."))
    if status != 0:
        session.error(f"`{run.quote(argv)}` failed with exit status {status}")


@contextlib.contextmanager
def stops(session: Any) -> Iterator[None]:
    """A stop signal or Ctrl-C inside the block: stop what runs, say so in one line, exit."""
    run.handle_signals()
    try:
        yield
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        ended = run.stop_children()
        what = f"stopped {', '.join(ended)}" if ended else "nothing was running"
        name = signal.Signals(signum).name
        logging.getLogger("nox").error(f"Session {session.name} stopped by {name}; {what}.")
        raise SystemExit(128 + signum) from None
