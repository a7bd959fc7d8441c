"""`nox -s filters`, `nox -s sanitize` and `nox -s policy`: the policy engine's local build.

The engine in cilium-filters/ (policy/ and tool/) builds without Bazel: CMake and Ninja
with the compiler, protobuf, RE2, yaml-cpp, GoogleTest and Google Benchmark of the
machine (Debian's packages in CI).  Each build variant has its own folder under
build/filters/, configured once and then built incrementally:

* ``dev``: the unit tests and the ``cilium-policy`` tool (`filters`, `policy`);
* ``sanitize``: clang with AddressSanitizer and UndefinedBehaviorSanitizer, the unit
  tests again and the libFuzzer targets, and the threaded tests (snapshot readers, a
  shared access-log client) under ThreadSanitizer (`filters -- --sanitize`, `sanitize`);
* ``release``: optimised, for Google Benchmark (`filters -- --bench`).

Like the image sessions, each computes its plan first; ``--dry-run`` prints it.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools import repo
from tools.cli import Parser
from tools.errors import ToolkitError
from tools.run import Plan, Step, execute, stream

SOURCE_DIR = "cilium-filters"
BUILD_ROOT = "build/filters"
FUZZ_TARGETS = ("update_fuzz", "eval_fuzz")
FUZZ_SEEDS = "tests/fuzz/corpus"
FUZZ_DICT = "tests/fuzz/eval.dict"
TEST_BINARY = "policy_engine_test"
TOOL_BINARY = "cilium-policy"
THREADS_BINARY = "policy_threads_test"
BENCH_BINARY = "policy_benchmark"
#: libcilium.so (cilium-filters/module), its unit tests and its ThreadSanitizer test.
MODULE_TARGET = "cilium_module"
MODULE_TEST_BINARY = "module_test"
MODULE_THREADS_BINARY = "module_threads_test"
SNAPSHOT_BENCH_BINARY = "module/snapshot_read_benchmark"
#: Each benchmark runs this often; the summary takes the best (machines are noisy).
BENCH_REPETITIONS = 5
#: Seconds each fuzz target runs in a `--sanitize` run (what CI runs).
SHORT_FUZZ_SECONDS = 15

#: What to install when something is missing, per platform.
INSTALL_HINT = (
    "install them (Debian/Ubuntu: `apt-get install cmake ninja-build g++ clang pkg-config "
    "protobuf-compiler libprotobuf-dev libre2-dev libyaml-cpp-dev libgtest-dev "
    "libbenchmark-dev libgrpc++-dev protobuf-compiler-grpc`; macOS: `brew install cmake ninja "
    "pkg-config protobuf re2 yaml-cpp googletest google-benchmark grpc`)"
)


@dataclass(frozen=True)
class Variant:
    """One build folder: how it is configured and what it builds."""

    name: str
    purpose: str
    cmake_options: Tuple[str, ...]
    compiler: Optional[str]  # the C++ compiler it needs (None: CMake's default)
    libraries: Tuple[str, ...]  # pkg-config names

    def folder(self, root: Path) -> Path:
        return root / BUILD_ROOT / self.name


_LIBS = ("protobuf", "re2", "yaml-cpp", "grpc++")
DEV = Variant(
    "dev",
    "unit tests and the cilium-policy tool",
    ("-DCMAKE_BUILD_TYPE=Debug",),
    None,
    _LIBS + ("gtest",),
)
SANITIZE = Variant(
    "sanitize",
    "clang with ASan+UBSan and the libFuzzer targets; the threaded tests with TSan",
    (
        "-DCMAKE_BUILD_TYPE=Debug",
        "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g",
        "-DCILIUM_SANITIZE=ON",
        "-DCILIUM_FUZZ=ON",
        "-DCILIUM_TSAN=ON",
    ),
    "clang++",
    _LIBS + ("gtest",),
)
RELEASE = Variant(
    "release",
    "optimised, for the benchmarks",
    ("-DCMAKE_BUILD_TYPE=Release", "-DCILIUM_BENCH=ON", "-DCILIUM_TESTS=OFF"),
    None,
    _LIBS + ("benchmark",),
)


@dataclass(frozen=True)
class Options:
    sanitize: bool = False
    fuzz_seconds: int = 0
    bench: bool = False
    gtest_filter: Optional[str] = None
    jobs: Optional[int] = None
    clean: bool = False
    dry_run: bool = False


# --- what this machine has ---------------------------------------------------------------


def _compiler_for(variant: Variant, environ: Mapping[str, str]) -> Optional[str]:
    if variant.compiler:
        return variant.compiler
    path = environ.get("PATH", "")
    return environ.get("CXX") or next(
        (c for c in ("c++", "g++", "clang++") if shutil.which(c, path=path)), None
    )


def missing(variant: Variant, environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """What `variant` needs that this machine lacks (empty when it can build)."""
    environ = os.environ if environ is None else environ
    path = environ.get("PATH", "")

    def which(tool: str) -> Optional[str]:
        return shutil.which(tool, path=path)

    tools = ("cmake", "ninja", "protoc", "pkg-config", "grpc_cpp_plugin")
    lacking = [tool for tool in tools if not which(tool)]
    compiler = _compiler_for(variant, environ)
    if compiler is None or not which(compiler):
        lacking.append(compiler or "a C++ compiler")
    pkg_config = which("pkg-config")
    if pkg_config:
        for library in variant.libraries:
            found = subprocess.run(
                [pkg_config, "--exists", library],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=dict(environ),
                check=False,
            )
            if found.returncode != 0:
                lacking.append(f"{library} (pkg-config)")
    return lacking


def _require(variant: Variant, lacking: Sequence[str]) -> None:
    if lacking:
        raise ToolkitError(
            f"The {variant.name} build of the policy engine needs {', '.join(lacking)}; "
            f"{INSTALL_HINT}."
        )


# --- plans --------------------------------------------------------------------------------


def _configured(folder: Path, variant: Optional[Variant] = None) -> bool:
    """The folder is configured, with the variant's options as they are now."""
    cache = folder / "CMakeCache.txt"
    if not (folder / "build.ninja").is_file() or not cache.is_file():
        return False
    if variant is None:
        return True
    try:
        lines = cache.read_text(errors="replace").splitlines()
    except OSError:
        return False
    values = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and not line.startswith(("#", "//")):
            values[name.split(":", 1)[0]] = value
    for option in variant.cmake_options:
        name, _, value = option[2:].partition("=")
        if values.get(name) != value:
            return False
    return True


def build_steps(
    variant: Variant,
    root: Path,
    targets: Sequence[str],
    *,
    jobs: Optional[int] = None,
    environ: Optional[Mapping[str, str]] = None,
    clean: bool = False,
) -> List[Step]:
    """Configure `variant` when its folder is new (or cleaned), then build `targets`."""
    environ = os.environ if environ is None else environ
    folder = variant.folder(root)
    steps: List[Step] = []
    rel = os.path.relpath(folder, root)
    if clean or not _configured(folder, variant):
        configure = ["cmake", "-S", SOURCE_DIR, "-B", rel, "-G", "Ninja", *variant.cmake_options]
        compiler = _compiler_for(variant, environ)
        if variant.compiler and compiler:
            configure.append(f"-DCMAKE_CXX_COMPILER={compiler}")
        if clean:
            configure.append("--fresh")
        steps.append(
            Step(f"configure the {variant.name} build ({variant.purpose})", tuple(configure))
        )
    build = ["cmake", "--build", rel, "--target", *targets]
    if jobs:
        build += ["--parallel", str(jobs)]
    steps.append(Step(f"build {', '.join(targets)} ({variant.name})", tuple(build)))
    return steps


def plan_filters(
    options: Options, root: Path, environ: Optional[Mapping[str, str]] = None
) -> Tuple[Plan, Dict[str, List[str]]]:
    """The steps of `nox -s filters` and what each variant lacks on this machine."""
    variants: List[Variant] = [SANITIZE] if options.sanitize or options.fuzz_seconds else [DEV]
    if options.bench:
        variants = (
            [RELEASE] if not (options.sanitize or options.fuzz_seconds) else variants + [RELEASE]
        )
    steps: List[Step] = []
    lacking: Dict[str, List[str]] = {}
    notes: List[str] = []
    for variant in variants:
        folder = variant.folder(root)
        rel = os.path.relpath(folder, root)
        if not _configured(folder) or options.clean:
            lacking[variant.name] = missing(variant, environ)
        if variant is RELEASE:
            steps += build_steps(
                variant,
                root,
                (BENCH_BINARY, os.path.basename(SNAPSHOT_BENCH_BINARY)),
                jobs=options.jobs,
                environ=environ,
                clean=options.clean,
            )
            bench_json = f"{rel}/benchmark.json"
            steps.append(
                Step(
                    "run the benchmarks (numbers and ratios also in " + bench_json + ")",
                    (
                        f"{rel}/{BENCH_BINARY}",
                        f"--benchmark_repetitions={BENCH_REPETITIONS}",
                        "--benchmark_display_aggregates_only=true",
                        f"--benchmark_out={bench_json}",
                        "--benchmark_out_format=json",
                    ),
                )
            )
            steps.append(
                Step(
                    "run the module's snapshot-read benchmark (compare CPU times at equal threads)",
                    (
                        f"{rel}/{SNAPSHOT_BENCH_BINARY}",
                        f"--benchmark_repetitions={BENCH_REPETITIONS}",
                        "--benchmark_report_aggregates_only=true",
                    ),
                )
            )
            continue
        targets = (
            [TEST_BINARY, TOOL_BINARY, MODULE_TARGET, MODULE_TEST_BINARY]
            if variant is DEV
            else [
                TEST_BINARY,
                THREADS_BINARY,
                MODULE_TEST_BINARY,
                MODULE_THREADS_BINARY,
                *FUZZ_TARGETS,
            ]  # fmt: skip
        )
        steps += build_steps(
            variant, root, targets, jobs=options.jobs, environ=environ, clean=options.clean
        )
        test = [f"{rel}/{TEST_BINARY}", "--gtest_brief=1"]
        if options.gtest_filter:
            test.append(f"--gtest_filter={options.gtest_filter}")
        steps.append(Step(f"run the unit tests ({variant.name})", tuple(test)))
        module_test = [f"{rel}/{MODULE_TEST_BINARY}", "--gtest_brief=1"]
        if options.gtest_filter:
            module_test.append(f"--gtest_filter={options.gtest_filter}")
        steps.append(Step(f"run the module's unit tests ({variant.name})", tuple(module_test)))
        if variant is SANITIZE:
            for binary in (THREADS_BINARY, MODULE_THREADS_BINARY):
                steps.append(
                    Step(
                        "run the threaded tests under ThreadSanitizer",
                        (f"{rel}/{binary}", "--gtest_brief=1"),
                    )
                )
            seconds = options.fuzz_seconds or SHORT_FUZZ_SECONDS
            corpora = [f"{rel}/fuzz-corpus/{target}" for target in FUZZ_TARGETS]
            steps.append(
                Step(
                    "make the fuzzers' working folders",
                    ("cmake", "-E", "make_directory", *corpora, f"{rel}/fuzz-artifacts"),
                )
            )
            for target, corpus in zip(FUZZ_TARGETS, corpora):
                steps.append(
                    Step(
                        f"fuzz {target} for {seconds} s (seeds in {FUZZ_SEEDS}/{target})",
                        (
                            f"{rel}/{target}",
                            f"-max_total_time={seconds}",
                            "-print_final_stats=1",
                            f"-dict={FUZZ_DICT}",
                            f"-artifact_prefix={rel}/fuzz-artifacts/{target}-",
                            corpus,
                            f"{FUZZ_SEEDS}/{target}",
                        ),
                    )
                )
            notes.append(
                f"fuzz findings are written to {rel}/fuzz-artifacts/; replay one with "
                f"`{rel}/<target> <file>`"
            )
    for name, what in lacking.items():
        if what:
            notes.append(f"this machine lacks {', '.join(what)} for the {name} build")
    plan = Plan(
        title="filters: build and test the policy engine",
        root=str(root),
        steps=tuple(steps),
        notes=tuple(notes),
    )
    return plan, lacking


# --- nox -s filters ---------------------------------------------------------------------------


def _filters_parser(session: str) -> Parser:
    parser = Parser(
        session,
        description="Build the policy engine with CMake and Ninja and run its unit tests.",
    )
    parser.add_argument(
        "--sanitize",
        action="store_true",
        help="build with clang, ASan and UBSan; run the unit tests and a short fuzz run",
    )
    parser.add_argument(
        "--fuzz",
        type=int,
        metavar="SECONDS",
        default=0,
        help="fuzz each libFuzzer target this long (implies the sanitizer build)",
    )
    parser.add_argument(
        "--bench", action="store_true", help="build optimised and run the benchmarks"
    )
    parser.add_argument("--gtest-filter", metavar="PATTERN", help="run only these unit tests")
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="parallel compile jobs (default: CPUs)"
    )
    parser.add_argument(
        "--clean", action="store_true", help="configure the build folder afresh first"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    return parser


def _options(argv: Sequence[str], session: str, sanitize: bool = False) -> Options:
    ns = _filters_parser(session).parse_args(list(argv))
    if ns.fuzz < 0:
        raise ToolkitError("--fuzz takes a number of seconds (0 or more).")
    if ns.jobs is not None and ns.jobs < 1:
        raise ToolkitError("--jobs takes a positive number.")
    return Options(
        sanitize=ns.sanitize or sanitize,
        fuzz_seconds=ns.fuzz,
        bench=ns.bench,
        gtest_filter=ns.gtest_filter,
        jobs=ns.jobs,
        clean=ns.clean,
        dry_run=ns.dry_run,
    )


def main(
    argv: Sequence[str],
    session: str = "filters",
    *,
    root: Optional[Path] = None,
    environ: Optional[Mapping[str, str]] = None,
    out: Optional[TextIO] = None,
    runner: Optional[Callable[..., int]] = None,
) -> Plan:
    """`nox -s filters` (and `nox -s sanitize`, which is `filters -- --sanitize`)."""
    out = out or sys.stdout
    root = root or repo.ROOT
    options = _options(argv, session, sanitize=session == "sanitize")
    plan, lacking = plan_filters(options, root, environ)
    if options.dry_run:
        execute(plan, dry_run=True, out=out)
        return plan
    for name, what in lacking.items():
        _require({v.name: v for v in (DEV, SANITIZE, RELEASE)}[name], what)
    took = execute(plan, out=out, runner=runner or stream)
    if options.bench:
        print(bench_summary(root / BUILD_ROOT / RELEASE.name / "benchmark.json"), file=out)
    print(f"filters: done in {took:.0f} s", file=out, flush=True)
    return plan


# --- benchmark summary ----------------------------------------------------------------------

#: (name of the measured benchmark, name of its baseline, goal: at most this ratio)
BENCH_RATIOS = (
    ("BM_Update/1000", "BM_Parse/1000", 3.0),
    ("BM_Update/10000", "BM_Parse/10000", 3.0),
    ("BM_CheckL4", "BM_BaselineHashAndBinarySearch", 2.0),
    ("BM_HostsUpdate", "BM_HostsParse", 2.0),
)
#: Reported next to each other, without a goal.
BENCH_COMPARISONS = (
    ("BM_HostsLookup", "BM_HostsLookupBaseline"),
    ("BM_UpdateUnchanged/10000", "BM_Update/10000"),
)


def bench_summary(path: Path) -> str:
    """The goals of the issue, measured: ratios from Google Benchmark's JSON output."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ToolkitError(f"Could not read the benchmark results {path}: {exc}.") from None
    # The best of the repetitions: the least disturbed by whatever else the machine ran.
    times: Dict[str, float] = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        value = float(b["cpu_time"]) * _UNIT[b.get("time_unit", "ns")]
        times[name] = min(value, times.get(name, value))
    lines = ["benchmark ratios, best of the repetitions (goal):"]
    for name, base, goal in BENCH_RATIOS:
        if name in times and base in times:
            ratio = times[name] / times[base]
            verdict = "ok" if ratio <= goal else "OVER GOAL"
            lines.append(f"  {name} / {base} = {ratio:.2f} (<= {goal:g}) {verdict}")
    for name, base in BENCH_COMPARISONS:
        if name in times and base in times:
            lines.append(f"  {name} / {base} = {times[name] / times[base]:.2f}")
    small, large = times.get("BM_Update/1000"), times.get("BM_Update/10000")
    if small and large:
        lines.append(f"  BM_Update/10000 / BM_Update/1000 = {large / small:.1f} (linear: about 10)")
    return "\n".join(lines)


_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


# --- nox -s policy ----------------------------------------------------------------------------

POLICY_COMMANDS = ("eval", "check", "explain")


def policy_main(
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
    folder = DEV.folder(root)
    tool = folder / TOOL_BINARY
    steps = build_steps(DEV, root, (TOOL_BINARY,), environ=environ)
    run = Step(f"run {TOOL_BINARY} {args[0]}", (os.path.relpath(tool, root), *args))
    plan = Plan(
        title="policy: build the tool if needed, then run it",
        root=str(root),
        steps=tuple(steps) + (run,),
    )
    if dry_run:
        lacking = missing(DEV, environ) if not _configured(folder) else []
        execute(plan, dry_run=True, out=sys.stdout)
        if lacking:
            print(f"# this machine lacks {', '.join(lacking)} for the dev build", file=sys.stdout)
        return
    if not _configured(folder):
        _require(DEV, missing(DEV, environ))
    build_plan = Plan(title=plan.title, root=plan.root, steps=tuple(steps))
    quiet = functools.partial(runner or stream, stdout=sys.stderr)
    execute(build_plan, out=_Silent(), runner=quiet)
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
