"""`nox -s filters`, `sanitize` and `policy`: plans, inputs, and the build descriptions.

Real parts: the repository's CMakeLists.txt and BUILD files, the noxfile run by the real
nox, cmake, ninja, the compiler and the libraries (for the test that builds and runs the
tool). Where a test only checks the argv we would run, it says so and runs nothing.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from tools.engine import bench, builds, filters, policy
from tools.errors import HelpShown, ToolkitError
from tools.tests.toolkit_fixtures import nox_policy, skip_or_fail

REPO = Path(__file__).resolve().parents[2]


# --- one list of sources for CMake and Bazel: the folder ------------------------------------

FILTERS = REPO / "cilium-filters"
CMAKE = (FILTERS / "CMakeLists.txt").read_text()
# cilium_library(<target> <folder> [DEPS <library names>] [LIBS ...])
_CMAKE_LIBRARY = re.compile(r"^cilium_library\((\S+) (\S+)((?:\s[^)]*)?)\)", re.M)


def cmake_libraries() -> dict[str, tuple[str, list[str]]]:
    """folder -> (CMake target, the folders of the engine libraries it uses)."""
    out = {}
    for target, folder, rest in _CMAKE_LIBRARY.findall(CMAKE):
        words = rest.split()
        deps = words[words.index("DEPS") + 1 :] if "DEPS" in words else []
        if "LIBS" in deps:
            deps = deps[: deps.index("LIBS")]
        out[folder] = (target, [f"policy/{d}" for d in deps])
    return out


def bazel_calls(path: Path) -> dict[str, ast.Call]:
    """name -> the rule call of that name in a BUILD file."""
    calls: dict[str, ast.Call] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            for kw in node.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    calls[str(kw.value.value)] = node
    return calls


def keyword(call: ast.Call, name: str) -> ast.expr:
    return next(kw.value for kw in call.keywords if kw.arg == name)


def keyword_or(call: ast.Call, name: str) -> bool:
    return any(kw.arg == name for kw in call.keywords)


def glob_of(value: ast.expr) -> tuple[list[str], list[str]]:
    """The patterns and exclusions of a `glob(...)` expression."""
    assert isinstance(value, ast.Call) and getattr(value.func, "id", "") == "glob", ast.dump(value)
    excludes = [ast.literal_eval(kw.value) for kw in value.keywords if kw.arg == "exclude"]
    return ast.literal_eval(value.args[0]), excludes[0] if excludes else []


def library_rule(folder: str) -> ast.Call:
    name = folder.rsplit("/", 1)[-1]
    return bazel_calls(FILTERS / folder / "BUILD")[name]


def bazel_deps(folder: str) -> list[str]:
    rule = library_rule(folder)
    labels = ast.literal_eval(keyword(rule, "deps")) if keyword_or(rule, "deps") else []
    return sorted(
        label.removeprefix("//cilium-filters/")
        for label in labels
        if label.startswith("//cilium-filters/policy/")
    )


def test_each_library_is_one_folder_in_both_build_systems():
    """Every folder of the engine is one library, its files the sources for CMake and Bazel."""
    libraries = cmake_libraries()
    engine = {p.parent.relative_to(FILTERS).as_posix() for p in FILTERS.glob("policy/*/*.cc")}
    assert sorted(engine) == sorted(f for f in libraries if f.startswith("policy/"))
    assert not list((FILTERS / "policy").glob("*.*")), "sources belong in a library's folder"
    # CMake's cilium_library takes the folder's files ...
    globs = 'file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${folder}/*.cc")'
    assert globs in CMAKE
    assert 'list(FILTER sources EXCLUDE REGEX "/main\\\\.cc$")' in CMAKE
    # ... and so does Bazel's, which every folder's BUILD calls by the folder's name.
    macro = ast.parse((FILTERS / "bazel" / "library.bzl").read_text())
    rule = next(n for n in ast.walk(macro) if isinstance(n, ast.Call) and keyword_or(n, "srcs"))
    srcs = keyword(rule, "srcs")
    assert isinstance(srcs, ast.Call) and ast.unparse(srcs.func) == "native.glob"
    assert ast.literal_eval(srcs.args[0]) == ["*.cc"]
    assert ast.unparse(keyword(rule, "hdrs")) == "native.glob(['*.h'])"
    for folder, (target, _) in libraries.items():
        assert target == "cilium_policy_" + folder.rsplit("/", 1)[-1]
        call = library_rule(folder)
        assert getattr(call.func, "id", "") == "cilium_library", folder
        excluded = [kw.value for kw in call.keywords if kw.arg == "exclude"]
        assert [ast.literal_eval(e) for e in excluded] in ([], [["main.cc"]]), folder
    # The tool's main.cc is the binary in both.
    assert "add_executable(cilium-policy tool/main.cc)" in CMAKE
    binary = bazel_calls(FILTERS / "tool" / "BUILD")["cilium-policy"]
    assert ast.literal_eval(keyword(binary, "srcs")) == ["main.cc"]


def test_libraries_use_each_other_one_way_and_both_say_so():
    """DEPS in CMake and deps in Bazel agree, there is no cycle, and every #include of the
    engine's headers stays within a library's own dependencies."""
    libraries = cmake_libraries()
    for folder, (_, deps) in libraries.items():
        assert sorted(deps) == bazel_deps(folder), folder

    def closure(folder: str, seen: tuple[str, ...] = ()) -> set[str]:
        assert folder not in seen, f"a cycle: {' -> '.join(seen + (folder,))}"
        out = {folder}
        for dep in libraries[folder][1]:
            out |= closure(dep, seen + (folder,))
        return out

    include = re.compile(r'^#include "cilium-filters/(policy/\w+)/', re.M)
    for folder in libraries:
        allowed = closure(folder)
        for source in (FILTERS / folder).iterdir():
            if source.suffix in (".h", ".cc"):
                for used in include.findall(source.read_text()):
                    assert used in allowed, f"{source.relative_to(REPO)} includes {used}/"


def test_unit_tests_are_the_folder_for_both():
    assert 'file(GLOB TEST_SOURCES CONFIGURE_DEPENDS "${REPO_ROOT}/tests/policy/*.cc")' in CMAKE
    test = bazel_calls(REPO / "tests" / "BUILD")["policy_engine_test"]
    assert glob_of(keyword(test, "srcs")) == (["policy/*.cc", "policy/*.h"], [])


def test_api_protos_are_the_folder_for_both():
    assert (
        'file(GLOB API_PROTOS CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/api/*.proto")' in CMAKE
    )
    calls = bazel_calls(FILTERS / "api" / "BUILD")
    assert glob_of(keyword(calls["api_proto"], "srcs")) == (["*.proto"], [])
    assert ast.literal_eval(keyword(calls["api_proto"], "import_prefix")) == "cilium/api"
    assert "api_cc_validate" in calls  # and the validators, as Envoy's API has them
    tool = bazel_calls(FILTERS / "tool" / "BUILD")
    assert glob_of(keyword(tool["tool_proto"], "srcs")) == (["*.proto"], [])


# --- plans ------------------------------------------------------------------------------------


def plan_text(plan) -> str:
    return "\n".join(step.line() for step in plan.steps)


PGV = "github.com/envoyproxy/protoc-gen-validate@v1.3.3"


def cache(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A toolkit cache of its own, and where the pinned plugin goes in it."""
    environ = {"PATH": "", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return environ, filters.validators(environ).plugin


def test_validators_are_the_pinned_plugin(tmp_path):
    pin = filters.validators({}).pin
    assert pin.target == PGV  # tools/api/api_plugins.toml, as for the Go API
    environ, plugin = cache(tmp_path)
    assert plugin == tmp_path / f"cache/cilium-envoy-toolkit/go-plugins/{PGV.split('/')[-1]}" / (
        "protoc-gen-validate"
    )
    assert not filters.validators(environ).installed


def test_dev_plan_on_a_fresh_checkout(tmp_path):
    environ, plugin = cache(tmp_path)
    plan, lacking = filters.plan_filters(filters.Options(), tmp_path, environ=environ)
    lines = [step.line() for step in plan.steps]
    assert lines == [
        f"GOBIN={plugin.parent} go install {PGV}",
        "cmake -S cilium-filters -B build/filters/dev -G Ninja -DCMAKE_BUILD_TYPE=Debug "
        f"-DCILIUM_PGV_PLUGIN={plugin} -DCILIUM_PGV_MODULE={PGV}",
        "cmake --build build/filters/dev --target policy_engine_test cilium-policy cilium_module "
        "module_test",
        "build/filters/dev/policy_engine_test --gtest_brief=1",
        "build/filters/dev/module_test --gtest_brief=1",
    ]
    assert "dev" in lacking and "cmake" in lacking["dev"] and "go" in lacking["dev"]
    # The plugin is installed once, before the first of several builds.
    both, _ = filters.plan_filters(filters.Options(sanitize=True, bench=True), tmp_path, environ)
    assert sum("go install" in step.line() for step in both.steps) == 1


def configured(tmp_path: Path, name: str, *cache_lines: str) -> dict[str, str]:
    """A configured build folder, with the pinned plugin installed; returns the environment."""
    environ, plugin = cache(tmp_path)
    plugin.parent.mkdir(parents=True)
    plugin.write_text("#!/bin/sh\n")
    plugin.chmod(0o755)
    folder = tmp_path / "build/filters" / name
    folder.mkdir(parents=True)
    (folder / "build.ninja").write_text("")
    (folder / "CMakeCache.txt").write_text(
        "".join(f"{line}\n" for line in cache_lines)
        + f"CILIUM_PGV_PLUGIN:FILEPATH={plugin}\nCILIUM_PGV_MODULE:STRING={PGV}\n"
    )
    return environ


def test_configured_folder_is_only_built(tmp_path):
    environ = configured(tmp_path, "dev", "CMAKE_BUILD_TYPE:STRING=Debug")
    options = filters.Options(gtest_filter="RuleOrder*", jobs=3)
    plan, lacking = filters.plan_filters(options, tmp_path, environ=environ)
    assert [s.line() for s in plan.steps] == [
        "cmake --build build/filters/dev --target policy_engine_test cilium-policy cilium_module "
        "module_test --parallel 3",
        "build/filters/dev/policy_engine_test --gtest_brief=1 '--gtest_filter=RuleOrder*'",
        "build/filters/dev/module_test --gtest_brief=1 '--gtest_filter=RuleOrder*'",
    ]
    assert lacking == {}


def test_another_pin_configures_again(tmp_path):
    environ = configured(tmp_path, "dev", "CMAKE_BUILD_TYPE:STRING=Debug")
    cache_file = tmp_path / "build/filters/dev/CMakeCache.txt"
    cache_file.write_text(cache_file.read_text().replace(PGV.rsplit("@", 1)[1], "v1.0.4"))
    plan, _ = filters.plan_filters(filters.Options(), tmp_path, environ=environ)
    assert plan.steps[0].argv[:2] == ("cmake", "-S")


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
    environ = configured(
        tmp_path,
        "sanitize",
        "CMAKE_BUILD_TYPE:STRING=Debug",
        "CILIUM_SANITIZE:BOOL=ON",
        "CILIUM_FUZZ:BOOL=ON",
        "CMAKE_CXX_FLAGS_DEBUG:STRING=-O1 -g",
    )
    folder = tmp_path / "build/filters/sanitize"
    plan, _ = filters.plan_filters(filters.Options(sanitize=True), tmp_path, environ=environ)
    assert plan.steps[0].argv[:2] == ("cmake", "-S")  # CILIUM_TSAN is new
    (folder / "CMakeCache.txt").write_text(
        (folder / "CMakeCache.txt").read_text() + "CILIUM_TSAN:BOOL=ON\n"
    )
    plan, _ = filters.plan_filters(filters.Options(sanitize=True), tmp_path, environ=environ)
    assert plan.steps[0].argv[:2] == ("cmake", "--build")


def test_clean_configures_afresh(tmp_path):
    environ = configured(tmp_path, "dev", "CMAKE_BUILD_TYPE:STRING=Debug")
    plan, _ = filters.plan_filters(filters.Options(clean=True), tmp_path, environ=environ)
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


def test_policy_needs_a_command(tmp_path, capsys):
    for argv, words in (([], "Say which command"), (["evaluate"], "use one of check, explain")):
        with pytest.raises(SystemExit) as stopped:
            policy.main(argv, root=tmp_path)
        assert stopped.value.code == 2
        assert words in capsys.readouterr().err


def test_policy_help_lists_the_commands(tmp_path, capsys):
    with pytest.raises(HelpShown):
        policy.main(["--help"], root=tmp_path)
    out = capsys.readouterr().out
    for command in ("check", "explain", "lint", "eval", "--in-docker", "3  undecided"):
        assert command in out


def test_the_first_build_says_so_and_later_calls_say_nothing(tmp_path):
    """A recording stand-in runner (nothing is built or run): what the session says around it."""
    calls = []

    def runner(argv, **_):
        calls.append(list(argv))
        return 0

    lacking = builds.missing(builds.TOOL)
    if lacking:
        skip_or_fail(", ".join(lacking) + " to plan the policy tool's build")
    err = io.StringIO()
    argv = ["check", "--policy", "p.yaml"]
    policy.main(argv, str(tmp_path), root=tmp_path, environ=os.environ, runner=runner, err=err)
    said = err.getvalue().splitlines()
    assert said[0] == (
        "building cilium-policy for the first time (a few minutes); its output goes to "
        "build/filters/tool/build.log"
    )
    assert len(said) == 2 and said[1].endswith("later calls reuse it."), said
    assert calls[-1][0] == f"{tmp_path}/build/filters/tool/cilium-policy" and len(calls) > 1
    tool = tmp_path / "build/filters/tool/cilium-policy"
    tool.parent.mkdir(parents=True, exist_ok=True)
    tool.touch()
    err = io.StringIO()
    policy.main(argv, str(tmp_path), root=tmp_path, environ=os.environ, runner=runner, err=err)
    assert err.getvalue() == ""


def test_policy_dry_run(tmp_path, capsys):
    """The plan only (runs nothing): the tool's own variant, run from where nox was run."""
    where = tmp_path / "elsewhere"
    policy.main(["check", "--policy", "p.yaml", "--dry-run"], str(where), root=tmp_path, environ={})
    out = capsys.readouterr().out
    assert "cmake --build build/filters/tool --target cilium-policy" in out
    assert "-DCILIUM_TESTS=OFF -DCILIUM_MODULE=OFF" in out
    assert (
        f"(cd {where} && {tmp_path}/build/filters/tool/cilium-policy check --policy p.yaml)" in out
    )


def test_policy_session_speaks_json_lines_on_stdout():
    """The real nox, the real build (incremental) and the real tool, as a user runs them."""
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
    proc = nox_policy("eval", stdin=requests + "\n")
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r.get("l4", r.get("ok")) for r in replies[:3]] == [False, True, True]
    assert "error" in replies[3] and len(replies) == 4
    # Once built, nothing but the answers: no build lines, no nox framing, no uv line.
    again = nox_policy("eval", stdin="")
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


POLICY = (
    "endpoint_ips: ['10.1.2.3']\nendpoint_id: 7\n"
    "ingress_per_port_policies:\n- port: 80\n  rules: [{remote_policies: [42]}]\n"
    "- port: 8080\n  rules:\n  - remote_policies: [42]\n"
    "    http_rules: {http_rules: [{headers: [{name: ':path', exact_match: /a}]}]}\n"
)


def test_policy_check_exit_status_says_the_verdict(tmp_path):
    """check: one line and the verdict's status, without nox's "aborted" (real nox)."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    flow = ("--endpoint-ip", "10.1.2.3", "--ingress")

    def check(*extra: str) -> subprocess.CompletedProcess:
        # A relative --policy: read from the directory nox runs in, not the checkout.
        return nox_policy("check", "--policy", "policy.yaml", *flow, *extra, cwd=tmp_path)

    allowed = check("--port", "80", "--remote-id", "42")
    assert allowed.returncode == 0 and allowed.stdout.startswith("ALLOWED"), allowed.stderr
    denied = check("--port", "80", "--remote-id", "43")
    assert denied.returncode == 1 and denied.stdout.startswith("DENIED")
    assert denied.stdout.count("\n") == 1 and denied.stderr == "", denied.stderr
    undecided = check("--port", "8080", "--remote-id", "42")
    assert undecided.returncode == 3 and undecided.stdout.startswith("UNDECIDED"), undecided.stderr
    assert "the HTTP rules of rule #1 decide" in undecided.stdout
    decided = check("--port", "8080", "--remote-id", "42", "--header", ":path=/a")
    assert decided.returncode == 0 and decided.stdout.startswith("ALLOWED")
    joined = check("--port=8080", "--remote-id=42", "--header=:path=/a")  # --flag=value
    assert (joined.returncode, joined.stdout) == (decided.returncode, decided.stdout)
    bad = check("--port", "80", "--remote-id", "x")
    assert bad.returncode == 2 and "--remote-id must be a number" in bad.stderr
    assert "aborted" not in bad.stderr and bad.stdout == ""
    explained = nox_policy("explain", "--policy", "policy.yaml", *flow, "--port", "80",
                           "--remote-id", "43", cwd=tmp_path)  # fmt: skip
    assert explained.returncode == 0 and explained.stdout.startswith("DENIED"), explained.stderr
    assert "aborted" not in explained.stderr
    missing = nox_policy("check", "--policy", "nope.yaml", *flow, "--port", "80", cwd=tmp_path)
    assert missing.returncode == 2
    assert f"cannot read {tmp_path}/nope.yaml: No such file or directory" in missing.stderr


@pytest.mark.parametrize("command", ["check", "explain", "lint", "eval"])
def test_every_command_has_help(command):
    proc = nox_policy(command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: cilium-policy {command}"), proc.stdout
    # Each command's help gives its own exit statuses: explain's denied is an answer (0).
    if command == "explain":
        assert "1 denied" not in proc.stdout and "0 when it answered" in proc.stdout
    if command == "check":
        assert "0 allowed, 1 denied, 3 undecided" in proc.stdout


def test_lint_lists_every_problem(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "endpoint_ips: ['10.1.2.3']\nendpoint_id: 7\ningress_per_port_policies:\n"
        "- port: 80\n  rules:\n  - remote_policy: [42]\n"
        "- port: 81\n  rules:\n  - http_rules: {http_rules: [{headers: [{name: ':path',\n"
        "      safe_regex_match: {regex: '/(a|b|c|d|e|f|g|h)[0-9]{1,12}/(x|y|z)+/[a-z]{2,9}'}}]}]}\n"
    )
    proc = nox_policy("lint", "bad.yaml", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "bad.yaml:6: ingress_per_port_policies[0].rules[0]: unknown field" in proc.stdout
    assert 'did you mean "remote_policies"' in proc.stdout
    assert "Envoy would refuse the whole update" in proc.stdout
    (tmp_path / "bad.yaml").write_text(
        POLICY.replace("remote_policies: [42]}]", "remote_policie: [42]}]")
    )
    proc = nox_policy("lint", "bad.yaml", cwd=tmp_path)
    assert 'unknown field "remote_policie" in cilium.PortNetworkPolicyRule' in proc.stdout


def test_which_tools_are_looked_for(monkeypatch, tmp_path):
    """`missing` asks PATH and pkg-config; a PATH with only some tools names the rest."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("cmake", "ninja"):
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    lacking = filters.missing(filters.SANITIZE, environ={"PATH": str(bin_dir)})
    assert lacking == ["protoc", "pkg-config", "grpc_cpp_plugin", "go", "clang++"]
