"""`nox -s filters`, `sanitize` and `policy`: plans, inputs, and the build descriptions.

Real parts: the repository's CMakeLists.txt and BUILD files, the noxfile run by the real
nox, cmake, ninja, the compiler and the libraries (for the test that builds and runs the
tool). Where a test only checks the argv we would run, it says so and runs nothing.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from tools.engine import bench, filters, policy
from tools.errors import ToolkitError
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]


# --- one list of sources for CMake and Bazel ------------------------------------------------


def cmake_list(name: str) -> list[str]:
    text = (REPO / "cilium-filters" / "CMakeLists.txt").read_text()
    match = re.search(rf"set\({name}\s(.*?)\)", text, re.S)
    assert match, f"{name} not found in CMakeLists.txt"
    return sorted(match.group(1).split())


def bazel_rules(path: Path) -> dict[str, dict]:
    """name -> keyword arguments of every rule call in a BUILD file (literals only)."""
    rules = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            kwargs = {}
            for kw in node.keywords:
                try:
                    kwargs[kw.arg] = ast.literal_eval(kw.value)
                except ValueError:
                    kwargs[kw.arg] = None  # glob(...), select(...)
            if "name" in kwargs:
                rules[kwargs["name"]] = kwargs
    return rules


def test_cmake_and_bazel_list_the_same_engine_sources():
    rules = bazel_rules(REPO / "cilium-filters" / "BUILD")
    assert sorted(rules["policy_lib"]["srcs"]) == cmake_list("CILIUM_POLICY_SOURCES")
    assert sorted(rules["policy_tool_lib"]["srcs"]) == cmake_list("CILIUM_POLICY_TOOL_SOURCES")
    assert sorted(rules["cilium-policy"]["srcs"]) == cmake_list("CILIUM_POLICY_MAIN_SOURCES")


def test_every_source_file_is_built_by_both():
    rules = bazel_rules(REPO / "cilium-filters" / "BUILD")
    for folder, rule in (("policy", "policy_lib"), ("tool", "policy_tool_lib")):
        on_disk = sorted(
            p.relative_to(REPO / "cilium-filters").as_posix()
            for p in (REPO / "cilium-filters" / folder).iterdir()
        )
        declared = rules[rule]["srcs"] + rules[rule]["hdrs"]
        if rule == "policy_tool_lib":
            declared = declared + rules["cilium-policy"]["srcs"]
        assert sorted(declared) == on_disk, f"{folder}/ and the {rule} rule disagree"
        cmake = (
            cmake_list("CILIUM_POLICY_SOURCES")
            if folder == "policy"
            else cmake_list("CILIUM_POLICY_TOOL_SOURCES") + cmake_list("CILIUM_POLICY_MAIN_SOURCES")
        )
        assert sorted(cmake) == sorted(p for p in on_disk if p.endswith(".cc"))


def test_cmake_and_bazel_list_the_same_unit_tests():
    rules = bazel_rules(REPO / "tests" / "BUILD")
    bazel = sorted(s.removeprefix("policy/") for s in rules["policy_engine_test"]["srcs"])
    cmake = cmake_list("CILIUM_POLICY_TEST_SOURCES")
    assert [s for s in bazel if s.endswith(".cc")] == cmake
    on_disk = sorted(p.name for p in (REPO / "tests" / "policy").iterdir() if p.is_file())
    assert bazel == on_disk


def test_api_protos_the_engine_uses_are_declared_for_both():
    cmake = cmake_list("CILIUM_API_PROTOS")
    rules = bazel_rules(REPO / "cilium-filters" / "api" / "BUILD")
    for proto in cmake:
        stem = proto.removesuffix(".proto")
        assert rules[f"{stem}_proto"]["srcs"] == [proto]
        assert rules[f"{stem}_proto"]["import_prefix"] == "cilium/api"
        assert f"{stem}_cc_proto" in rules
        label = f"//cilium-filters/api:{stem}_cc_proto"
        assert label in bazel_rules(REPO / "cilium-filters" / "BUILD")["policy_lib"]["deps"]


# --- plans ------------------------------------------------------------------------------------


def plan_text(plan) -> str:
    return "\n".join(step.line() for step in plan.steps)


def test_dev_plan_on_a_fresh_checkout(tmp_path):
    plan, lacking = filters.plan_filters(filters.Options(), tmp_path, environ={"PATH": ""})
    lines = [step.line() for step in plan.steps]
    assert lines == [
        "cmake -S cilium-filters -B build/filters/dev -G Ninja -DCMAKE_BUILD_TYPE=Debug",
        "cmake --build build/filters/dev --target policy_engine_test cilium-policy cilium_module "
        "module_test",
        "build/filters/dev/policy_engine_test --gtest_brief=1",
        "build/filters/dev/module_test --gtest_brief=1",
    ]
    assert "dev" in lacking and "cmake" in lacking["dev"]


def test_configured_folder_is_only_built(tmp_path):
    folder = tmp_path / "build/filters/dev"
    folder.mkdir(parents=True)
    (folder / "build.ninja").write_text("")
    (folder / "CMakeCache.txt").write_text("CMAKE_BUILD_TYPE:STRING=Debug\n")
    options = filters.Options(gtest_filter="RuleOrder*", jobs=3)
    plan, lacking = filters.plan_filters(options, tmp_path, environ={})
    assert [s.line() for s in plan.steps] == [
        "cmake --build build/filters/dev --target policy_engine_test cilium-policy cilium_module "
        "module_test --parallel 3",
        "build/filters/dev/policy_engine_test --gtest_brief=1 '--gtest_filter=RuleOrder*'",
        "build/filters/dev/module_test --gtest_brief=1 '--gtest_filter=RuleOrder*'",
    ]
    assert lacking == {}


def test_sanitize_plan_uses_clang_and_fuzzes_briefly(tmp_path):
    plan, _ = filters.plan_filters(filters.Options(sanitize=True), tmp_path, environ={})
    text = plan_text(plan)
    assert (
        "-DCILIUM_SANITIZE=ON -DCILIUM_FUZZ=ON -DCILIUM_TSAN=ON -DCMAKE_CXX_COMPILER=clang++"
        in text
    )
    assert (
        "--target policy_engine_test policy_threads_test module_test module_threads_test "
        "update_fuzz eval_fuzz" in text
    )
    assert "build/filters/sanitize/policy_threads_test --gtest_brief=1" in text
    assert "build/filters/sanitize/module_threads_test --gtest_brief=1" in text
    for target in filters.FUZZ_TARGETS:
        assert (
            f"build/filters/sanitize/{target} -max_total_time={filters.SHORT_FUZZ_SECONDS} "
            f"-print_final_stats=1 -dict=tests/fuzz/eval.dict "
            f"-artifact_prefix=build/filters/sanitize/fuzz-artifacts/{target}- "
            f"build/filters/sanitize/fuzz-corpus/{target} tests/fuzz/corpus/{target}"
        ) in text
    assert "cmake -E make_directory build/filters/sanitize/fuzz-corpus/update_fuzz" in text
    # every seed folder and the dictionary exist in the repository
    for target in filters.FUZZ_TARGETS:
        assert any((REPO / filters.FUZZ_SEEDS / target).iterdir())
    assert (REPO / filters.FUZZ_DICT).is_file()


def test_longer_fuzz_and_benchmarks(tmp_path):
    plan, _ = filters.plan_filters(filters.Options(fuzz_seconds=600, bench=True), tmp_path, {})
    text = plan_text(plan)
    assert "-max_total_time=600" in text
    assert "-DCMAKE_BUILD_TYPE=Release -DCILIUM_BENCH=ON -DCILIUM_TESTS=OFF" in text
    assert "build/filters/release/policy_benchmark" in text
    bench_only, _ = filters.plan_filters(filters.Options(bench=True), tmp_path, {})
    assert "policy_engine_test" not in plan_text(bench_only)


def test_changed_options_configure_again(tmp_path):
    folder = tmp_path / "build/filters/sanitize"
    folder.mkdir(parents=True)
    (folder / "build.ninja").write_text("")
    (folder / "CMakeCache.txt").write_text(
        "CMAKE_BUILD_TYPE:STRING=Debug\nCILIUM_SANITIZE:BOOL=ON\nCILIUM_FUZZ:BOOL=ON\n"
        "CMAKE_CXX_FLAGS_DEBUG:STRING=-O1 -g\n"
    )
    plan, _ = filters.plan_filters(filters.Options(sanitize=True), tmp_path, environ={})
    assert plan.steps[0].argv[:2] == ("cmake", "-S")  # CILIUM_TSAN is new
    (folder / "CMakeCache.txt").write_text(
        (folder / "CMakeCache.txt").read_text() + "CILIUM_TSAN:BOOL=ON\n"
    )
    plan, _ = filters.plan_filters(filters.Options(sanitize=True), tmp_path, environ={})
    assert plan.steps[0].argv[:2] == ("cmake", "--build")


def test_clean_configures_afresh(tmp_path):
    folder = tmp_path / "build/filters/dev"
    folder.mkdir(parents=True)
    (folder / "build.ninja").write_text("")
    (folder / "CMakeCache.txt").write_text("")
    plan, _ = filters.plan_filters(filters.Options(clean=True), tmp_path, environ={})
    assert plan.steps[0].argv[-1] == "--fresh"


def _recording(calls: list[tuple]) -> Callable[..., int]:
    """A runner that records each command it is given and reports success."""

    def runner(*args: object, **kwargs: object) -> int:
        calls.append(args)
        return 0

    return runner


@pytest.mark.parametrize(
    "argv, sentence",
    [
        (["--fuzz", "-1"], "--fuzz takes a number of seconds"),
        (["--jobs", "0"], "--jobs takes a positive number"),
        (["--sanitise"], "did you mean --sanitize"),
    ],
)
def test_bad_options_stop_before_anything_runs(argv, sentence, tmp_path):
    calls: list[tuple] = []
    with pytest.raises(ToolkitError) as error:
        filters.main(argv, root=tmp_path, runner=_recording(calls))
    assert sentence in error.value.message
    assert calls == [] and not (tmp_path / "build").exists()


def test_missing_tools_name_what_to_install(tmp_path):
    """A recording runner stands in for cmake: nothing may run when tools are missing."""
    calls: list[tuple] = []
    with pytest.raises(ToolkitError) as error:
        filters.main([], root=tmp_path, environ={"PATH": ""}, runner=_recording(calls))
    assert "apt-get install cmake ninja-build" in error.value.message
    assert "brew install" in error.value.message
    assert calls == [] and not (tmp_path / "build").exists()


def test_dry_run_prints_the_plan_and_what_is_missing(tmp_path, capsys):
    filters.main(["--dry-run"], root=tmp_path, environ={"PATH": ""})
    out = capsys.readouterr().out
    assert "cmake -S cilium-filters -B build/filters/dev" in out
    assert "# this machine lacks cmake" in out
    assert not (tmp_path / "build").exists()


def test_bench_summary_states_the_goals(tmp_path):
    def run(name, ms, unit="ms"):
        return {"name": name, "run_name": name, "run_type": "iteration", "real_time": ms,
                "cpu_time": ms, "time_unit": unit}  # fmt: skip

    results = tmp_path / "benchmark.json"
    results.write_text(json.dumps({"benchmarks": [
        run("BM_Parse/1000", 4.0), run("BM_Update/1000", 10.0), run("BM_Update/1000", 9.0),
        run("BM_Parse/10000", 60.0), run("BM_Update/10000", 200.0),
        run("BM_BaselineHashAndBinarySearch", 15.0, "ns"), run("BM_CheckL4", 27.0, "ns"),
    ]}))  # fmt: skip
    text = bench.bench_summary(results)
    assert "BM_Update/1000 / BM_Parse/1000 = 2.25 (<= 3) ok" in text  # best of repetitions
    assert "BM_Update/10000 / BM_Parse/10000 = 3.33 (<= 3) OVER GOAL" in text
    assert "BM_CheckL4 / BM_BaselineHashAndBinarySearch = 1.80 (<= 2) ok" in text
    assert "BM_Update/10000 / BM_Update/1000 = 22.2" in text


# --- nox -s policy ----------------------------------------------------------------------------


def test_policy_needs_a_command(tmp_path):
    with pytest.raises(ToolkitError) as error:
        policy.main([], root=tmp_path)
    assert "nox -s policy -- eval" in error.value.message
    with pytest.raises(ToolkitError) as error:
        policy.main(["evaluate"], root=tmp_path)
    assert "use one of eval, check, explain" in error.value.message


def test_policy_dry_run(tmp_path, capsys):
    policy.main(["check", "--policy", "p.yaml", "--dry-run"], root=tmp_path, environ={})
    out = capsys.readouterr().out
    assert "cmake --build build/filters/dev --target cilium-policy" in out
    assert "build/filters/dev/cilium-policy check --policy p.yaml" in out


def test_policy_session_speaks_json_lines_on_stdout():
    """The real nox, the real build (incremental) and the real tool, as a user runs them."""
    lacking = filters.missing(filters.DEV)
    if lacking:
        skip_or_fail(", ".join(lacking) + " to build the policy engine")
    requests = "\n".join(
        [
            json.dumps({"check": {"endpoint_ip": "10.1.2.3", "ingress": True, "port": 80}}),
            json.dumps(
                {
                    "update": {
                        "resources": [
                            {
                                "@type": "type.googleapis.com/cilium.NetworkPolicy",
                                "endpoint_ips": ["10.1.2.3"],
                                "endpoint_id": 42,
                                "ingress_per_port_policies": [{"port": 80}],
                            }
                        ]
                    }
                }
            ),
            "",
            json.dumps({"check": {"endpoint_ip": "10.1.2.3", "ingress": True, "port": 80}}),
            "not json",
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py"), "-s", "policy", "--", "eval"],
        input=requests + "\n",
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r.get("l4", r.get("ok")) for r in replies[:3]] == [False, True, True]
    assert "error" in replies[3] and len(replies) == 4
    assert "Running session policy" in proc.stderr


def test_policy_check_exit_status_says_the_verdict(tmp_path):
    """check: the session succeeds when allowed, fails saying why otherwise (real nox)."""
    lacking = filters.missing(filters.DEV)
    if lacking:
        skip_or_fail(", ".join(lacking) + " to build the policy engine")
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "endpoint_ips: ['10.1.2.3']\nendpoint_id: 7\n"
        "ingress_per_port_policies:\n- port: 80\n  rules: [{remote_policies: [42]}]\n"
    )

    def check(*extra):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "nox",
                "-f",
                str(REPO / "noxfile.py"),
                "-s",
                "policy",
                "--",
                "check",
                "--policy",
                str(policy),
                "--endpoint-ip",
                "10.1.2.3",
                "--ingress",
                "--port",
                "80",
                *extra,
            ],  # fmt: skip
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )

    allowed = check("--remote-id", "42")
    assert allowed.returncode == 0 and allowed.stdout.startswith("ALLOWED"), allowed.stderr
    denied = check("--remote-id", "43")
    assert denied.returncode == 1 and denied.stdout.startswith("DENIED")
    assert "exited with status 1 (the flow is denied)" in denied.stderr
    bad = check("--remote-id", "x")
    assert bad.returncode == 1 and "--remote-id must be a number" in bad.stderr
    assert "exited with status 2" in bad.stderr and bad.stdout == ""


def test_which_tools_are_looked_for(monkeypatch, tmp_path):
    """`missing` asks PATH and pkg-config; a PATH with only some tools names the rest."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("cmake", "ninja"):
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    lacking = filters.missing(filters.SANITIZE, environ={"PATH": str(bin_dir)})
    assert lacking == ["protoc", "pkg-config", "grpc_cpp_plugin", "clang++"]
