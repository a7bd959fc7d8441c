"""`nox -s filters` and `nox -s sanitize`: build the policy engine and the module, test them.

The engine in cilium-filters/ builds without Bazel, with CMake and Ninja and the machine's
compiler and libraries; ``tools.engine.builds`` holds the variants (``dev``, ``sanitize``,
``release``), what this machine has for them and the steps that configure and build one.
This module plans a session over them: the unit tests (``dev``), the sanitizers, the fuzz
targets and the threaded tests (``sanitize``), the benchmarks (``release``, ``--bench``).

Like the image sessions, each gathers its facts once (the build folders, the tools on
PATH), computes its plan without I/O, and ``--dry-run`` prints the plan a run carries
out.  ``tools.engine.policy`` is `nox -s policy`; ``tools.engine.bench`` reads the
benchmarks' results.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools import repo
from tools.cli import Parser
from tools.engine.bench import bench_summary
from tools.engine.builds import (  # noqa: F401 (the sessions' and tests' names for them)
    BUILD_ROOT,
    DEV,
    INSTALL_HINT,
    RELEASE,
    SANITIZE,
    SOURCE_DIR,
    VALIDATE_PLUGIN,
    Facts,
    Validators,
    Variant,
    _configured,
    _require,
    build_steps,
    execute_plan,
    gather,
    installed,
    missing,
    validators,
)
from tools.errors import ToolkitError
from tools.run import Plan, Step, execute, stream

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


@dataclass(frozen=True)
class Options:
    sanitize: bool = False
    fuzz_seconds: int = 0
    bench: bool = False
    gtest_filter: Optional[str] = None
    jobs: Optional[int] = None
    clean: bool = False
    dry_run: bool = False


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
            facts = installed(facts)
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
        facts = installed(facts)
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
    took = execute_plan(planned, environ, out, runner or stream)
    if options.bench:
        print(bench_summary(root / BUILD_ROOT / RELEASE.name / "benchmark.json"), file=out)
    print(f"filters: done in {took:.0f} s", file=out, flush=True)
    return planned
