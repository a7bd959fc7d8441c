"""`nox -s format` and `nox -s lint`: every file we own formatted by its language's tool.

One table (:data:`FORMATTERS`) says which files each formatter owns and the commands that
check them (lint) or rewrite them (format): ruff for Python; clang-format for the C++ of
``cilium-filters/``, ``tests/`` and ``bench/`` (pinned in pyproject.toml's ``format`` group to
the clang release Envoy 1.38 builds with); gofmt for Go; buildifier for Bazel files (pinned
here, ``go install``-ed into the toolkit's cache).  The files come from ``git ls-files``, so
nothing untracked is touched, and a file whose head says it is generated (Go's ``// Code
generated ... DO NOT EDIT.`` line, protoc's ``DO NOT EDIT!``, ``@generated``) is left to its
generator.  ``-- FILE...`` (files or folders) narrows a run to those, for editors and
pre-commit.  Facts are gathered once, the plan is made without I/O (``--dry-run`` prints it),
then carried out: lint runs every check and mypy, then fails naming each file and its fix.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence, TextIO

from tools import repo
from tools.cli import Parser
from tools.errors import ToolkitError
from tools.files import cache_dir, load_toml
from tools.run import Plan, Step, execute, query, stream

#: buildifier by the version Go's module proxy knows (buildtools has only pseudo-versions
#: there): commit 04cf7de1434f of 2026-07-16, which follows the v8.5.1 release.
BUILDIFIER_MODULE = "github.com/bazelbuild/buildtools/buildifier"
BUILDIFIER_VERSION = "v0.0.0-20260716142318-04cf7de1434f"
#: pyproject.toml's group of the formatters the sessions install; it pins clang-format.
FORMAT_GROUP = "format"
TOOLKIT_ROOT = Path(__file__).resolve().parent.parent
FIX = "run `nox -s format` (or `nox -s format -- FILE...`) and commit the result"
DESCRIPTIONS = {
    "format": "Format the files git tracks that we own (or only FILE...) with ruff, "
    "clang-format, gofmt and buildifier.",
    "lint": "Check that `nox -s format` would change none of the files we own (or of FILE...), "
    "and ruff's lint rules, then run mypy.",
}


@dataclass(frozen=True)
class Check:
    """A command's arguments (the files go last) and, for lint, how its output names a file
    that fails (group 1 of a regular expression) and what fixes it."""

    args: tuple[str, ...]
    names: str = ""
    fix: str = FIX


@dataclass(frozen=True)
class Formatter:
    """A row of the table: which files a formatter owns, how lint checks and format writes."""

    program: str
    language: str
    suffixes: tuple[str, ...]
    checks: tuple[Check, ...]
    writes: tuple[Check, ...]
    basenames: tuple[str, ...] = ()  # whole file names it owns besides the suffixes
    folders: tuple[str, ...] = ()  # only below these (none: anywhere)

    def owns(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        if not (name.endswith(self.suffixes) or name in self.basenames):
            return False
        return not self.folders or path.startswith(self.folders)


FORMATTERS: tuple[Formatter, ...] = (
    Formatter(
        "ruff", "Python", (".py", ".pyi"),
        checks=(
            Check(("check", "--force-exclude", "--output-format=concise"), r"^(.+?):\d+:\d+: ",
                  "fix what it says by hand (`nox -s format` sorts imports)"),
            Check(("format", "--check", "--force-exclude", "--output-format=concise"),
                  r"^(.+?):\d+:\d+: unformatted"),
        ),
        # Of ruff check's rules, format applies import order (rule I) only.
        writes=(Check(("check", "--force-exclude", "--select=I", "--fix", "--quiet")),
                Check(("format", "--force-exclude"))),
    ),
    Formatter(
        "clang-format", "C++", (".cc", ".h"), folders=("cilium-filters/", "tests/", "bench/"),
        # One error a file: it names the file and the first line that differs.
        checks=(Check(("--style=file:.clang-format", "--dry-run", "--Werror", "--ferror-limit=1"),
                      r"^(.+?):\d+:\d+: (?:error|warning): code should be clang-formatted"),),
        writes=(Check(("--style=file:.clang-format", "-i")),),
    ),
    # gofmt -l lists the files that differ and still exits 0: a listed file is a failure.
    Formatter("gofmt", "Go", (".go",), checks=(Check(("-l",), r"^(.+\.go)$"),),
              writes=(Check(("-w",)),)),
    Formatter(
        "buildifier", "Bazel", (".bzl",),
        basenames=("BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "MODULE.bazel"),
        checks=(Check(("-mode=check", "-lint=off"), r"^(.+) # reformat$"),),
        writes=(Check(("-mode=fix", "-lint=off")),),
    ),
)  # fmt: skip

#: A generated file says so near its top: Go's convention (go.dev/s/generatedcode), protoc's
#: line in every language, or the `@generated` tag.  Its generator owns its format.
GENERATED = re.compile(
    rb"^[ \t]*(?://|#|/?\*+)[ \t]*(?:Code generated .* DO NOT EDIT\.[ \t]*\r?$"
    rb"|Generated by the protocol buffer compiler\. +DO NOT EDIT!|@generated\b)",
    re.M,
)
HEAD_BYTES = 16384


def formatter_of(path: str) -> Optional[Formatter]:
    return next((f for f in FORMATTERS if f.owns(path)), None)


@dataclass(frozen=True)
class Facts:
    """What the plan needs, gathered once (read-only)."""

    tracked: tuple[str, ...]  # what git tracks and exists (no links), relative to the root
    generated: frozenset[str]  # the tracked files a formatter owns that say they are generated
    programs: Mapping[str, Optional[str]]  # ruff, clang-format, gofmt, go, mypy -> path
    clang_format: tuple[str, Optional[str]]  # (the pinned version, the version found)
    buildifier: str  # its path in the toolkit's cache
    buildifier_installed: bool
    named: tuple[str, ...] = ()  # the files after `--`, relative to the root ("" the root)


@dataclass(frozen=True)
class Action:
    step: Step
    tool: str  # e.g. "ruff format", "gofmt"
    check: Optional[Check] = None  # lint: how to read its output


@dataclass(frozen=True)
class StylePlan:
    mode: str  # "format" or "lint"
    root: str
    files: Mapping[str, tuple[str, ...]]  # formatter -> its files
    actions: tuple[Action, ...]
    install: Optional[Step] = None  # buildifier into the toolkit's cache
    notes: tuple[str, ...] = ()
    cannot_run: Optional[str] = None

    def as_plan(self, with_install: bool = True) -> Plan:
        first = (self.install,) if self.install and with_install else ()
        title = f"{self.mode}: {'check' if self.mode == 'lint' else 'rewrite'} the files we own"
        steps = first + tuple(a.step for a in self.actions)
        return Plan(title, self.root, steps=steps, notes=self.notes, cannot_run=self.cannot_run)


def select(facts: Facts) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The files of each formatter, and notes on named files left alone."""
    chosen: list[str] = []
    notes: list[str] = []
    for name in facts.named or ("",):
        below = [t for t in facts.tracked if not name or t.startswith(name + "/")]
        if name in facts.tracked:
            chosen.append(name)
        elif below:
            chosen += below
        else:
            notes.append(f"left alone (git does not track it; `git add` it first): {name}")
    files: dict[str, list[str]] = {}
    for path in dict.fromkeys(chosen):
        formatter = formatter_of(path)
        if formatter is not None and path in facts.generated and facts.named:
            notes.append(f"left alone (generated; its generator writes it): {path}")
        elif formatter is not None and path not in facts.generated:
            files.setdefault(formatter.program, []).append(path)
    return {f.program: tuple(files[f.program]) for f in FORMATTERS if f.program in files}, notes


def make_plan(mode: str, facts: Facts, root: str) -> StylePlan:
    """The commands of `nox -s format` (mode "format") or `nox -s lint` ("lint"); no I/O."""
    files, notes = select(facts)
    languages = {f.program: f.language for f in FORMATTERS}
    counts = ", ".join(f"{languages[p]} {len(v)}" for p, v in files.items())
    notes.insert(0, f"files: {counts or 'none of the named files is ours to format'}")
    actions: list[Action] = []
    lacking: list[str] = []
    for formatter in FORMATTERS:
        paths = files.get(formatter.program, ())
        if not paths:
            continue
        program, missing = _program(formatter.program, facts)
        lacking += [missing] if missing else []
        what = f"{len(paths)} {formatter.language} file{'s' if len(paths) > 1 else ''}"
        for check in formatter.checks if mode == "lint" else formatter.writes:
            tool = formatter.program + ("" if check.args[0][0] == "-" else f" {check.args[0]}")
            verb = "check" if mode == "lint" else "format"
            step = Step(f"{verb} {what} with {tool}", (program, *check.args, *paths))
            actions.append(Action(step, tool, check if mode == "lint" else None))
    if mode == "lint":
        mypy = facts.programs.get("mypy")
        lacking += [] if mypy else ["mypy (`nox -s lint` installs it in its venv)"]
        what = "type-check with mypy (files and settings: [tool.mypy] in pyproject.toml)"
        actions.append(Action(Step(what, (mypy or "mypy",)), "mypy"))
    install = None
    if "buildifier" in files and not facts.buildifier_installed:
        go = facts.programs.get("go")
        lacking += [] if go else ["Go, to `go install` buildifier (https://go.dev/dl/)"]
        install = Step(
            f"install buildifier {BUILDIFIER_VERSION} (pinned in tools/style.py)",
            (go or "go", "install", f"{BUILDIFIER_MODULE}@{BUILDIFIER_VERSION}"),
            env=(("GOBIN", os.path.dirname(facts.buildifier)),),
        )
    cannot_run = f"Install {'; '.join(lacking)}." if lacking else None
    return StylePlan(mode, root, files, tuple(actions), install, tuple(notes), cannot_run)


def _program(name: str, facts: Facts) -> tuple[str, Optional[str]]:
    """The program to run for a formatter, and what is missing to run it (None: nothing)."""
    if name == "buildifier":
        return facts.buildifier, None
    path = facts.programs.get(name)
    pin, found = facts.clang_format
    if name == "clang-format" and found != pin:
        seen = f"found {found or 'another version'} at {path}" if path else "none found"
        return path or name, (
            f"clang-format {pin} (pyproject.toml's `{FORMAT_GROUP}` group; {seen}): "
            "`nox -s format` and `nox -s lint` install it in their venvs"
        )
    if path is None:
        venvs = "`nox -s format` and `nox -s lint` install it in their venvs"
        return name, f"{name} ({'Go, https://go.dev/dl/' if name == 'gofmt' else venvs})"
    return path, None


# --- facts -------------------------------------------------------------------------------


def clang_format_pin(root: Path = TOOLKIT_ROOT) -> str:
    """The version pyproject.toml's format group pins (``clang-format==X.Y.Z``)."""
    from packaging.requirements import Requirement

    pyproject = load_toml((root / "pyproject.toml").read_text(), "pyproject.toml")
    for item in pyproject.get("dependency-groups", {}).get(FORMAT_GROUP, []):
        req = Requirement(item) if isinstance(item, str) else None
        pins = [s.version for s in req.specifier if s.operator == "=="] if req else []
        if req and req.name == "clang-format" and pins:
            return pins[0]
    raise ToolkitError(f"pyproject.toml's `{FORMAT_GROUP}` group must pin clang-format==X.Y.Z.")


def gather(
    root: Path, named: Sequence[str], environ: Mapping[str, str], bin_dir: Optional[str] = None
) -> Facts:
    """Ask git for the files, read the heads of ours, find the programs (read-only)."""
    named = tuple(_relative(root, n) for n in named)
    missing = "git was not found; install git (the files to format come from it)."
    answer = query(["git", "-C", str(root), "ls-files", "-z", "--cached"], missing=missing)
    if answer.returncode != 0:
        raise ToolkitError(f"{root} is not a git checkout; the files to format come from git.")
    tracked = [
        p
        for p in dict.fromkeys(answer.stdout.split("\0"))
        if p and (root / p).is_file() and not (root / p).is_symlink()
    ]
    generated = set()
    for path in filter(formatter_of, tracked):
        with open(root / path, "rb") as handle:
            if GENERATED.search(handle.read(HEAD_BYTES)):
                generated.add(path)
    search = os.pathsep.join(p for p in (bin_dir, environ.get("PATH", "")) if p)
    names = ("ruff", "clang-format", "gofmt", "go", "mypy")
    programs = {n: shutil.which(n, path=search) for n in names}
    if programs["gofmt"] is None and programs["go"]:  # beside go, in its GOROOT/bin
        beside = Path(os.path.realpath(programs["go"])).parent / "gofmt"
        programs["gofmt"] = str(beside) if os.access(beside, os.X_OK) else None
    found = None
    if programs["clang-format"]:
        out = query([programs["clang-format"], "--version"], env=environ).stdout
        version = re.search(r"version (\d+\.\d+\.\d+)", out)
        found = version.group(1) if version else None
    buildifier = cache_dir(environ) / "buildifier" / BUILDIFIER_VERSION / "buildifier"
    return Facts(
        tuple(tracked), frozenset(generated), programs, (clang_format_pin(), found),
        str(buildifier), os.access(buildifier, os.X_OK), named,
    )  # fmt: skip


def _relative(root: Path, name: str) -> str:
    """A file or folder named after `--`, relative to the checkout, which must hold it."""
    path = Path(name) if os.path.isabs(name) else root / name
    if not path.exists():
        raise ToolkitError(f"{name} does not exist; name files or folders of the checkout.")
    rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()
    if rel == ".." or rel.startswith("../"):
        raise ToolkitError(f"{name} is outside the checkout ({root}); name its files only.")
    return "" if rel == "." else rel


# --- running it --------------------------------------------------------------------------


def install_buildifier(step: Step, environ: Mapping[str, str], out: TextIO) -> None:
    """`go install` into a private GOBIN, then one rename: two runs at once both succeed and
    nobody runs a half-written program."""
    target = Path(dict(step.env)["GOBIN"])
    target.mkdir(parents=True, exist_ok=True)
    step.announce(out)
    with tempfile.TemporaryDirectory(prefix=".go-install-", dir=target) as tmp:
        status = stream(step.argv, cwd=Path(tmp), env={**environ, "GOBIN": tmp})
        built = Path(tmp) / "buildifier"
        if status != 0 or not built.is_file():
            raise ToolkitError(
                f"`{step.argv[-1]}` could not be installed (exit status {status}, Go's output is "
                "above); check that the Go module proxy is reachable."
            )
        os.replace(built, target / "buildifier")


def run_checks(plan: StylePlan, environ: Mapping[str, str], out: TextIO) -> None:
    """Run every check (each prints its findings), then fail naming every file and its fix."""
    bad: dict[str, list[str]] = {}
    failed: list[str] = []
    for action in plan.actions:
        action.step.announce(out)
        if action.check is None:  # mypy: its own output, its own verdict
            if stream(action.step.argv, cwd=Path(plan.root), env=environ) != 0:
                failed.append("mypy found type errors (listed above); fix them")
            continue
        answer = query(action.step.argv, cwd=Path(plan.root), env=environ, timeout=None)
        text = (answer.stdout + answer.stderr).rstrip()
        if text:
            print(text, file=out, flush=True)
        named = list(dict.fromkeys(re.findall(action.check.names, text, re.M)))
        fix = action.check.fix
        if named:
            exact = f"run `nox -s format -- {' '.join(named)}`" if fix == FIX else fix
            print(f"--> {action.tool}: {', '.join(named)}: {exact}", file=out, flush=True)
            bad.setdefault(fix, []).extend(f"{n} ({action.tool})" for n in named)
        elif answer.returncode != 0:
            failed.append(f"{action.tool} failed (exit status {answer.returncode}, output above)")
    failed[:0] = [f"{', '.join(names)}: {fix}" for fix, names in bad.items()]
    if failed:
        raise ToolkitError("; ".join(failed) + ".")


def format_files(plan: StylePlan, out: TextIO) -> None:
    """Run the formatters, then say which files they changed."""
    root = Path(plan.root)
    paths = [p for files in plan.files.values() for p in files]
    before = {p: (root / p).read_bytes() for p in paths}
    execute(plan.as_plan(with_install=False), out=out)
    changed = [p for p in paths if (root / p).read_bytes() != before[p]]
    listed = f": {', '.join(changed)}" if changed else ""
    print(f"format: changed {len(changed)} of {len(paths)} files{listed}", file=out, flush=True)


def main(
    argv: Sequence[str],
    mode: str,
    bin_dir: Optional[str] = None,
    *,
    root: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    out: TextIO = sys.stdout,
) -> None:
    """`nox -s format|lint -- [--dry-run] [FILE...]`; ``bin_dir`` is the session's venv."""
    parser = Parser(mode, description=DESCRIPTIONS[mode])
    parser.add_argument("files", nargs="*", metavar="FILE", help="only these (files or folders)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    opts = parser.parse_args(list(argv))
    root = root or repo.ROOT
    environ = dict(os.environ if environ is None else environ)
    if bin_dir:  # the session's venv first, as nox's session.run has it
        environ["PATH"] = os.pathsep.join((bin_dir, environ.get("PATH", "")))
    plan = make_plan(mode, gather(root, opts.files, environ, bin_dir), str(root))
    if opts.dry_run:
        execute(plan.as_plan(), dry_run=True, out=out)
        return
    if plan.cannot_run:
        raise ToolkitError(plan.cannot_run)
    for note in plan.notes:
        print(f"{mode}: {note}", file=out, flush=True)
    if plan.install:
        install_buildifier(plan.install, environ, out)
    if mode == "lint":
        run_checks(plan, environ, out)
    else:
        format_files(plan, out)
