"""`nox -s e2e -- bench`: what it sends, how it reads wrk and push_benchmark, what it prints.

The measuring itself needs a real Envoy and minutes of load: `nox -s e2e -- bench` runs it
(README, "Performance"); nothing here is timed.  The rule set is checked against the real
engine (the cilium-policy tool of `nox -s filters`) so that the load passes every matcher.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.engine import e2e_bench
from tools.engine.e2e_bench import Round, Run
from tools.tests.toolkit_fixtures import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "build" / "filters" / "dev" / "cilium-policy"


def test_the_rule_set_is_fifty_endpoints_with_eight_matchers_per_http_rule():
    hosts, policies = e2e_bench.latency_policies(4321)
    assert len(policies["resources"]) == e2e_bench.ENDPOINTS == 50
    assert policies["resources"][0]["endpoint_ips"] == ["127.0.0.1"]
    assert hosts["resources"][0] == {"@type": e2e_bench.NPHDS, "policy": e2e_bench.LOAD_IDENTITY,
                                     "host_addresses": ["127.0.0.1/32"]}  # fmt: skip
    ips = [p["endpoint_ips"][0] for p in policies["resources"]]
    assert len(set(ips)) == len(ips)
    for policy in policies["resources"]:
        (port_rule,) = policy["ingress_per_port_policies"]
        assert port_rule["port"] == 4321
        for rule in port_rule["rules"]:
            http_rules = rule["http_rules"]["http_rules"]
            assert len(http_rules) == e2e_bench.HTTP_RULES
            assert all(len(r["headers"]) == e2e_bench.MATCHERS == 8 for r in http_rules)


def _eval(lines):
    if not TOOL.is_file():
        skip_or_fail("the cilium-policy tool (`nox -s filters` builds it)")
    proc = subprocess.run([str(TOOL), "eval"], input="".join(json.dumps(x) + "\n" for x in lines),
                          capture_output=True, text=True, check=True)  # fmt: skip
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_the_load_passes_the_last_rule_and_nothing_else_does():
    _, policies = e2e_bench.latency_policies(4321)
    request = [[":method", "GET"], [":path", e2e_bench.PATH]] + [
        [":authority" if n == "Host" else n.lower(), v] for n, v in e2e_bench.HEADERS
    ]
    question = {"endpoint_ip": "127.0.0.1", "ingress": True, "remote_id": e2e_bench.LOAD_IDENTITY,
                "port": 4321}  # fmt: skip
    other_path = [[n, "/api/v1/svc9/items/42" if n == ":path" else v] for n, v in request]
    debug = request + [["x-debug", "1"]]
    replies = _eval([{"update": policies}] + [{"check": {**question, "headers": h}}
                                              for h in (request, other_path, debug)])  # fmt: skip
    assert replies[0] == {"ok": True}
    assert [r["allowed"] for r in replies[1:]] == [True, False, False]
    stranger = _eval([{"update": policies},
                      {"check": {**question, "remote_id": 9999, "headers": request}}])  # fmt: skip
    assert stranger[1]["allowed"] is False


def test_pushes_are_shaped_like_the_engine_benchmark_and_variants_share_nothing():
    small = e2e_bench.push_response(3, variant=0, version=7)
    assert small["version_info"] == "7" and len(small["resources"]) == 3
    assert len({json.dumps(r) for r in small["resources"]}) == 3
    other = e2e_bench.push_response(3, variant=1, version=8)
    assert not {json.dumps(r) for r in small["resources"]} & {
        json.dumps(r) for r in other["resources"]
    }
    assert e2e_bench.push_response(3, variant=0, version=9)["resources"] == small["resources"]


def test_the_engine_accepts_the_pushes():
    replies = _eval([{"update": e2e_bench.push_response(50, variant=1, version=1)}])
    assert replies == [{"ok": True}]


def test_wrk_script_sends_the_request_and_reports_json():
    script = e2e_bench.wrk_script()
    assert f'wrk.path = "{e2e_bench.PATH}"' in script
    assert 'wrk.headers["X-Tenant"] = "acme"' in script
    assert "latency:percentile(50)" in script and "function done" in script


def _round(p50, rps):
    return Round(Run(p50, 1000.0, 100), Run(p50 * 2, rps, 1000))


def test_report_gives_the_ratio_of_median_latencies_and_throughputs():
    rounds = {
        "router only": [_round(100, 1000), _round(300, 900), _round(200, 1100)],
        "Cilium filters": [_round(250, 800), _round(220, 700), _round(230, 900)],
        "filters, no access-log socket": [_round(210, 950)] * 3,
    }
    out = io.StringIO()
    assert e2e_bench.latency_report(rounds, out) == pytest.approx(230 / 200)
    text = out.getvalue()
    assert "throughput with the filters / without: 0.80" in text
    assert "the access log's share of the latency added: 67%" in text
    assert "share of the throughput lost: 75%" in text  # (800 - 950) / (800 - 1000)
    assert e2e_bench.share(200, 230, 240) == "within this run's noise"


def test_engine_times_are_read_from_push_benchmark_json(tmp_path):
    fake = tmp_path / "push_benchmark"
    report = {"benchmarks": [
        {"run_name": "BM_PushParse/0/real_time", "real_time": 2.5, "time_unit": "ms"},
        {"run_name": "BM_PushUpdate/0/real_time", "real_time": 7000, "time_unit": "us"},
        {"run_name": "BM_PushUpdate/1/real_time", "real_time": 0.09, "time_unit": "s"},
        {"run_name": "BM_PushParse/1/real_time", "real_time": 30, "time_unit": "ms"},
    ]}  # fmt: skip
    fake.write_text(f"#!{sys.executable}\nimport sys\nprint({json.dumps(json.dumps(report))})\n")
    fake.chmod(0o755)
    times = e2e_bench._engine_times(str(fake), ["a.json", "b.json"])
    assert times == {"update": [7.0, 90.0], "parse": [2.5, 30.0]}


def test_engine_time_is_the_last_response_on_the_state_before_it(tmp_path):
    """push_benchmark is a recording stand-in here: it notes its argv and prints a report."""
    fake = tmp_path / "push_benchmark"
    argv_file = tmp_path / "argv.json"
    report = {"benchmarks": [
        {"run_name": "BM_PushUpdate/1/iterations:5/real_time", "real_time": 80, "time_unit": "ms"},
        {"run_name": "BM_PushParse/1/real_time", "real_time": 50, "time_unit": "ms"},
    ]}  # fmt: skip
    fake.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(argv_file)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"print({json.dumps(json.dumps(report))})\n"
    )
    fake.chmod(0o755)
    assert e2e_bench._engine_time(str(fake), ["a.json", "b.json", "c.json"]) == (80.0, 50.0)
    argv = json.loads(argv_file.read_text())
    assert argv[-2:] == ["b.json", "c.json"]  # c, on the state b left
    assert r"--benchmark_filter=^BM_Push(Update|Parse)/1/" in argv
