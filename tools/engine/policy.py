"""`nox -s policy -- eval|check|explain ...`: ask the policy engine through its tool.

The tool is built first when needed (the dev build of ``tools.engine.filters``, its
output on stderr), then run with stdin and stdout passed through, so stdout carries
only the tool's answers.
"""

from __future__ import annotations

import functools
import io
import os
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from tools import repo
from tools.engine.filters import DEV, TOOL_BINARY, _require, build_steps, execute_plan, gather
from tools.errors import ToolkitError
from tools.run import Plan, Step, execute, stream

POLICY_COMMANDS = ("eval", "check", "explain")


def main(
    argv: Sequence[str],
    *,
    root: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    runner: Optional[Callable[..., int]] = None,
) -> None:
    """`nox -s policy -- eval|check|explain ...`: build the tool if needed, then run it.

    Build output goes to stderr, so stdout carries only the tool's answers.
    """
    root = root or repo.ROOT
    args = list(argv)
    if not args or args[0] in ("-h", "--help"):
        print(
            "usage: nox -s policy -- eval | check ... | explain ... [--dry-run]\n"
            "  eval     JSON requests on stdin, one JSON reply per line on stdout\n"
            "  check    one decision from flags (exit status 0 allowed, 1 denied)\n"
            "  explain  the decision and every rule that took part in it\n"
            "`nox -s policy -- check --help` shows the tool's own options.",
            file=sys.stderr if args else sys.stdout,
        )
        if not args:
            raise ToolkitError(
                "Say which command: nox -s policy -- eval (or check, explain).", status=2
            )
        return
    dry_run = "--dry-run" in args
    if dry_run:
        args.remove("--dry-run")
    if args[0] not in POLICY_COMMANDS:
        raise ToolkitError(
            f"Unknown command `{args[0]}`; use one of {', '.join(POLICY_COMMANDS)} "
            "(e.g. nox -s policy -- eval < requests.jsonl).",
            status=2,
        )
    facts = gather([DEV], root, environ)
    tool = DEV.folder(root) / TOOL_BINARY
    steps = build_steps(DEV, root, (TOOL_BINARY,), facts)
    run = Step(f"run {TOOL_BINARY} {args[0]}", (os.path.relpath(tool, root), *args))
    plan = Plan(
        title="policy: build the tool if needed, then run it",
        root=str(root),
        steps=tuple(steps) + (run,),
    )
    lacking = facts.lacking.get(DEV.name, [])
    if dry_run:
        execute(plan, dry_run=True, out=sys.stdout)
        if lacking:
            print(f"# this machine lacks {', '.join(lacking)} for the dev build", file=sys.stdout)
        return
    _require(DEV, lacking)
    build_plan = Plan(title=plan.title, root=plan.root, steps=plan.steps[:-1])
    quiet = functools.partial(runner or stream, stdout=sys.stderr)
    execute_plan(build_plan, environ, _Silent(), quiet)
    status = (runner or stream)(run.argv, cwd=root, env=None)
    if status != 0:
        what = "the flow is denied" if args[0] in ("check", "explain") and status == 1 else ""
        raise ToolkitError(
            f"{TOOL_BINARY} {args[0]} exited with status {status}"
            + (f" ({what})" if what else "")
            + ".",
            status=status,
        )


class _Silent(io.StringIO):
    """A text stream that drops what the plan runner says about each step."""

    def write(self, text: str) -> int:
        return len(text)
