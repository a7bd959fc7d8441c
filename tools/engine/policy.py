"""`nox -s policy -- eval|check|explain|lint ...`: ask the policy engine through its tool.

The tool is built when needed in a variant of its own (``tools.engine.builds.TOOL``: the
tool alone, optimised, no unit tests, no module), with its build output kept in
``build/filters/tool/build.log`` and shown (its end) only when the build fails; the first
build says so once and shows its progress.  Then the tool runs in the directory nox was run
from (``session.invoked_from``: relative paths are the user's), with stdin and stdout
passed through, and its exit status becomes nox's, without nox's "aborted" line:

    0  allowed (lint: Envoy would accept the file; explain and eval: answered)
    1  denied (lint: Envoy would refuse the file)
    2  a mistake in the command or its input
    3  undecided (the answer needs an SNI or a request; it names the rules that decide)

``--in-docker`` builds and runs the tool in a container instead (``policy_docker``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools import repo
from tools.engine.builds import TOOL, _require, build_steps, execute_plan, gather
from tools.engine.quiet import Progress, Silent, build_lock
from tools.errors import HelpShown, ToolkitError
from tools.run import Plan, Step, execute, stream

TOOL_BINARY = "cilium-policy"

#: The tool's commands, as `nox -s policy -- --help` lists them.
COMMANDS = {
    "check": "one decision from flags, answered in one line (exit status: the verdict)",
    "explain": "the decision, every rule of the port and why each did or did not decide",
    "lint": "every problem of a policy file, and each regex's RE2 program size and limit",
    "eval": "JSON requests on stdin, one JSON reply per line on stdout (for scripts)",
}

#: The exit statuses the session passes on as they are (nox exits with them).
STATUSES = {
    0: "allowed (lint: Envoy would accept the file; explain and eval: answered)",
    1: "denied (lint: Envoy would refuse the file)",
    2: "a mistake in the command or its input (the tool says which)",
    3: "undecided: the answer needs an SNI or a request, and names the rules that decide",
}

HELP = (
    "usage: nox -s policy -- COMMAND [OPTIONS] [--in-docker] [--jobs N] [--dry-run]\n"
    "Ask Cilium's policy engine, through the cilium-policy tool (built on first use).\n"
    "commands:\n"
    + "".join(f"  {name:<8} {text}\n" for name, text in COMMANDS.items())
    + "`nox -s policy -- COMMAND --help` shows a command's options, e.g.\n"
    "  nox -s policy -- check --help\n"
    "session options (anywhere after --):\n"
    "  --in-docker        build and run the tool in a container: needs Docker, no C++ toolchain\n"
    "  --base-image REF   with --in-docker: the Debian 13 image its toolchain starts from\n"
    "                     (default debian:trixie)\n"
    "  --jobs N           parallel compile jobs when the tool is built\n"
    "  --dry-run          print the build and run commands, run nothing\n"
    "exit status:\n"
    + "".join(f"  {status}  {text}\n" for status, text in STATUSES.items())
    + "Relative paths are read from the directory you ran nox in. Example policies, each with\n"
    'its questions and answers: examples/policies/ (README, "The policy engine").\n'
)


@dataclass(frozen=True)
class Options:
    command: str
    args: Tuple[str, ...]  # the tool's own, after the command
    dry_run: bool = False
    in_docker: bool = False
    base_image: Optional[str] = None
    jobs: Optional[int] = None


def parse(argv: Sequence[str]) -> Options:
    """The session's options (anywhere) and the tool's command line; --help alone shows the
    session's help (HelpShown)."""
    words = list(argv)
    flags = {"dry_run": False, "in_docker": False}
    values: dict = {"jobs": None, "base_image": None}
    rest: List[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        name, sep, inline = word.partition("=")
        if word in ("--dry-run", "--in-docker"):
            flags[word[2:].replace("-", "_")] = True
        elif name in ("--jobs", "--base-image"):
            if not sep:
                if i + 1 >= len(words):
                    raise ToolkitError(f"{name} needs a value (e.g. {name} 2).", status=2)
                i += 1
                inline = words[i]
            values[name[2:].replace("-", "_")] = inline
        else:
            rest.append(word)
        i += 1
    if rest and rest[0] in ("-h", "--help", "help"):
        print(HELP, end="")
        raise HelpShown()
    if not rest:
        raise ToolkitError(
            "Say which command: nox -s policy -- check (or explain, lint, eval); "
            "nox -s policy -- --help lists them.",
            status=2,
        )
    if rest[0] not in COMMANDS:
        raise ToolkitError(
            f"Unknown command `{rest[0]}`; use one of {', '.join(COMMANDS)} "
            "(nox -s policy -- --help lists them).",
            status=2,
        )
    jobs = None
    if values["jobs"] is not None:
        if not str(values["jobs"]).isdigit() or int(values["jobs"]) < 1:
            raise ToolkitError("--jobs takes a positive number (e.g. --jobs 2).", status=2)
        jobs = int(values["jobs"])
    if values["base_image"] and not flags["in_docker"]:
        raise ToolkitError("--base-image applies to --in-docker only; drop it.", status=2)
    return Options(rest[0], tuple(rest[1:]), flags["dry_run"], flags["in_docker"],
                   values["base_image"], jobs)  # fmt: skip


def plan(options: Options, root: Path, invoked_from: Path, facts) -> Plan:
    """Build the tool when needed, then run it from `invoked_from`; no I/O."""
    tool = TOOL.folder(root) / TOOL_BINARY
    steps = build_steps(TOOL, root, (TOOL_BINARY,), facts, jobs=options.jobs)
    run = Step(
        f"run {TOOL_BINARY} {options.command} in {invoked_from}",
        (str(tool), options.command, *options.args),
        cwd=str(invoked_from),
    )
    return Plan(
        title="policy: build the cilium-policy tool if needed, then run it",
        root=str(root),
        steps=(*steps, run),
    )


def announce(err: TextIO, log: Path, root: Path) -> None:
    print(
        f"building {TOOL_BINARY} for the first time (a few minutes); its output goes to "
        f"{os.path.relpath(log, root)}",
        file=err,
        flush=True,
    )


def finish(options: Options, status: int) -> None:
    """The tool's status becomes nox's: its own words already said what it means."""
    if status == 0:
        return
    if status in STATUSES:
        raise SystemExit(status)
    raise ToolkitError(f"{TOOL_BINARY} {options.command} stopped with status {status}.")


def main(
    argv: Sequence[str],
    invoked_from: Optional[str] = None,
    *,
    root: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    runner: Optional[Callable[..., int]] = None,
    err: Optional[TextIO] = None,
) -> None:
    """`nox -s policy -- COMMAND ...`: build the tool if needed, then run it."""
    root = root or repo.ROOT
    err = err or sys.stderr
    where = Path(invoked_from or os.getcwd())
    try:
        options = parse(argv)
    except ToolkitError as exc:
        if exc.status != 2:
            raise
        # A mistake in the command line: status 2, as the tool's own mistakes.
        print(f"nox -s policy: {exc.message}", file=err, flush=True)
        raise SystemExit(2) from None
    if options.in_docker:
        from tools.engine import policy_docker  # only then: it asks Docker

        finish(options, policy_docker.main(options, root, where, environ, err, runner))
        return
    facts = gather([TOOL], root, environ)
    planned = plan(options, root, where, facts)
    lacking = facts.lacking.get(TOOL.name, [])
    if options.dry_run:
        execute(planned, dry_run=True, out=sys.stdout)
        if lacking:
            print(f"# this machine lacks {', '.join(lacking)} to build the tool", file=sys.stdout)
        return
    _require(TOOL, lacking)
    tool = Path(planned.steps[-1].argv[0])
    log = TOOL.folder(root) / "build.log"
    with build_lock(TOOL.folder(root)):
        progress = Progress(log, err, first=not tool.exists())
        if progress.first:
            announce(err, log, root)
        if log.exists():
            log.unlink()  # the last build's output only
        build = Plan(title=planned.title, root=planned.root, steps=planned.steps[:-1])
        execute_plan(build, environ, Silent(), runner or progress.runner)
        progress.finish()
    run = planned.steps[-1]
    finish(options, (runner or stream)(run.argv, cwd=Path(run.cwd or root), env=None))
