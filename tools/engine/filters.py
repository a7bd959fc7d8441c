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

Like the image sessions, each gathers its facts once (the build folders, the tools on
PATH), computes its plan without I/O, and ``--dry-run`` prints the plan a run carries
out.  ``tools.engine.policy`` is `nox -s policy`; ``tools.engine.bench`` reads the
benchmarks' results.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools import repo
from tools.cli import Parser
from tools.engine.bench import bench_summary
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


@dataclass(frozen=True)
class Facts:
    """What the plans depend on, per variant, gathered once (files and the tools on PATH)."""

    configured: Mapping[str, bool]  # its folder has been configured
    current: Mapping[str, bool]  # ... with the variant's options as they are now
    compilers: Mapping[str, Optional[str]]  # the C++ compiler it would configure with
    lacking: Mapping[str, List[str]]  # what it needs that this machine lacks (when asked)


def gather(
    variants: Sequence[Variant],
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    *,
    clean: bool = False,
) -> Facts:
    """Look at the build folders and the machine; what a variant lacks is asked only when
    it has to be configured."""
    environ = os.environ if environ is None else environ
    configured = {v.name: _configured(v.folder(root)) for v in variants}
    return Facts(
        configured=configured,
        current={v.name: _configured(v.folder(root), v) for v in variants},
        compilers={v.name: _compiler_for(v, environ) for v in variants},
        lacking={v.name: missing(v, environ) for v in variants if clean or not configured[v.name]},
    )


def build_steps(
    variant: Variant,
    root: Path,
    targets: Sequence[str],
    facts: Facts,
    *,
    jobs: Optional[int] = None,
    clean: bool = False,
) -> List[Step]:
    """Configure `variant` when its folder is new (or cleaned), then build `targets`."""
    folder = variant.folder(root)
    steps: List[Step] = []
    rel = os.path.relpath(folder, root)
    if clean or not facts.current[variant.name]:
        configure = ["cmake", "-S", SOURCE_DIR, "-B", rel, "-G", "Ninja", *variant.cmake_options]
        compiler = facts.compilers[variant.name]
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


def variants_of(options: Options) -> List[Variant]:
    variants: List[Variant] = [SANITIZE] if options.sanitize or options.fuzz_seconds else [DEV]
    if options.bench:
        variants = (
            [RELEASE] if not (options.sanitize or options.fuzz_seconds) else variants + [RELEASE]
        )
    return variants


def plan_filters(
    options: Options, root: Path, environ: Optional[Mapping[str, str]] = None
) -> Tuple[Plan, Dict[str, List[str]]]:
    """Gather the facts, then plan (:func:`plan`)."""
    facts = gather(variants_of(options), root, environ, clean=options.clean)
    return plan(options, root, facts)


def plan(options: Options, root: Path, facts: Facts) -> Tuple[Plan, Dict[str, List[str]]]:
    """The steps of `nox -s filters` and what each variant lacks on this machine; no I/O."""
    steps: List[Step] = []
    lacking: Dict[str, List[str]] = {}
    notes: List[str] = []
    for variant in variants_of(options):
        folder = variant.folder(root)
        rel = os.path.relpath(folder, root)
        if variant.name in facts.lacking:
            lacking[variant.name] = list(facts.lacking[variant.name])
        if variant is RELEASE:
            steps += build_steps(
                variant,
                root,
                (BENCH_BINARY, os.path.basename(SNAPSHOT_BENCH_BINARY)),
                facts,
                jobs=options.jobs,
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
        steps += build_steps(variant, root, targets, facts, jobs=options.jobs, clean=options.clean)
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
    planned = Plan(
        title="filters: build and test the policy engine",
        root=str(root),
        steps=tuple(steps),
        notes=tuple(notes),
    )
    return planned, lacking


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
    planned, lacking = plan_filters(options, root, environ)
    if options.dry_run:
        execute(planned, dry_run=True, out=out)
        return planned
    for name, what in lacking.items():
        _require({v.name: v for v in (DEV, SANITIZE, RELEASE)}[name], what)
    took = execute(planned, out=out, runner=runner or stream)
    if options.bench:
        print(bench_summary(root / BUILD_ROOT / RELEASE.name / "benchmark.json"), file=out)
    print(f"filters: done in {took:.0f} s", file=out, flush=True)
    return planned
