"""`nox -s e2e -- bench`: what Cilium's filters cost inside a real Envoy (issue 18).

Every figure is a ratio of two things measured in this one run (the machine may be noisy):

* **Latency and throughput.**  One Envoy (``--concurrency 2``) carries the Cilium listeners
  with ENDPOINTS endpoint policies whose HTTP rules hold MATCHERS header matchers each, and a
  router-only listener beside them (what ``filters=False`` gives: ``proxy_protocol`` then the
  HTTP connection manager with the router), to the same echo upstream.  wrk drives the same
  HTTP/1.1 load at each in turn: router only, the filters, the filters with the agent's
  access-log socket removed; ``--rounds`` rounds of that.  Each variant's turn is a latency
  run (one connection, the next request sent when the previous one is answered: the
  latency a request sees, nothing queued before it) and a throughput run (``--connections``
  connections, saturating the machine).  The medians of the runs' median latencies give
  ``overhead: R``, the last line printed.  One Envoy rather than two: with two, which CPU
  each Envoy's worker and the upstream land on differs from process to process and biased
  the ratio by up to +-30% on a 2-CPU machine; one Envoy serves both paths with the same
  workers.  wrk rather than h2load: its Lua ``done`` hook hands over the latency
  distribution (the median itself; h2load reports only min, max, mean and deviation), and
  it speaks the HTTP/1.1 most of the traffic Cilium redirects to its proxy speaks.
* **Policy pushes.**  In a second Envoy, fresh, NPDS responses of 1,000 then 10,000 endpoint
  policies (then the 10,000 again, unchanged, under a new version) go out through the
  stand-in agent, which times each from gRPC's Send of the already encoded response to
  Envoy's ACK; ``push_benchmark`` (bench/push_benchmark.cc) replays the very same responses, in the same order, through the
  engine alone: the protobuf parse floor and the update (parse included, as the module does).

The load generator connects without a PROXY header (wrk cannot send one): the listeners let
such connections through, so the endpoint and the remote are 127.0.0.1 and the port is the
listener's own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence, TextIO, Tuple

from tools.engine import e2e_config
from tools.engine.e2e_stack import Binaries, Stack
from tools.errors import ToolkitError
from tools.run import Services

NPDS = "type.googleapis.com/cilium.NetworkPolicy"
NPHDS = "type.googleapis.com/cilium.NetworkPolicyHosts"
#: The HTTP rule set of the latency runs.
ENDPOINTS = 50
MATCHERS = 8
HTTP_RULES = 4  # per port rule; the load matches the last one
LOAD_IDENTITY = 1001  # the identity NPHDS gives 127.0.0.1
#: The load: wrk's threads (Envoy has 2 workers on 2 cores), seconds of warm-up per variant.
WRK_THREADS = 1
WARMUP_SECONDS = 1
PATH = f"/api/v1/svc{HTTP_RULES - 1}/items/42"
HEADERS = (("Host", "svc.bench"), ("User-Agent", "wrk/4.1"), ("Accept", "application/json"),
           ("X-Tenant", "acme"), ("X-Version", "42"))  # fmt: skip
#: Policy pushes: sizes, and how often the sequence 1k, 10k, 10k unchanged is sent.
PUSH_SIZES = (1000, 10000)
PUSH_ROUNDS = 5
PUSH_TIMEOUT = 120.0
VARIANTS = ("router only", "Cilium filters", "filters, no access-log socket")


@dataclass(frozen=True)
class Settings:
    """What `bench` runs: rounds of alternating wrk runs, seconds each, and wrk's connections
    in the throughput runs (the latency runs have one)."""

    rounds: int = 8
    seconds: int = 2
    connections: int = 8


@dataclass(frozen=True)
class Run:
    """One wrk run: its median latency (µs), throughput (requests/s) and request count."""

    p50_us: float
    rps: float
    requests: int


@dataclass(frozen=True)
class Round:
    """One variant in one round: a latency run (one connection) and a throughput run."""

    latency: Run
    throughput: Run


# --- what is sent ------------------------------------------------------------------------


def http_rule(k: int) -> Dict[str, Any]:
    """HTTP rule k: MATCHERS header matchers of Envoy's kinds, as Cilium's agent writes them;
    only rule HTTP_RULES - 1 matches the load's path."""
    headers = [
        {"name": ":path", "safe_regex_match": {"google_re2": {}, "regex": f"/api/v1/svc{k}/.*"}},
        {"name": ":method", "exact_match": "GET"},
        {"name": ":authority", "exact_match": "svc.bench"},
        {"name": "user-agent", "prefix_match": "wrk/"},
        {"name": "accept", "string_match": {"suffix": "json"}},
        {"name": "x-tenant", "string_match": {"exact": "acme"}},
        {"name": "x-version", "range_match": {"start": 1, "end": 100}},
        {"name": "x-debug", "present_match": True, "invert_match": True},
    ]
    assert len(headers) == MATCHERS
    return {"headers": headers}


def latency_policies(port: int) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """NPHDS and NPDS responses: ENDPOINTS endpoints (the first is 127.0.0.1, where the load
    goes), each allowing two sets of identities HTTP_RULES rules on `port`."""
    hosts, policies = [], []
    for i in range(ENDPOINTS):
        ip = "127.0.0.1" if i == 0 else f"10.0.{i // 200}.{i % 200 + 1}"
        hosts.append({"@type": NPHDS, "policy": LOAD_IDENTITY + i, "host_addresses": [ip + "/32"]})
        rules = [{"remote_policies": [LOAD_IDENTITY + (i + r) % ENDPOINTS for r in range(3)],
                  "http_rules": {"http_rules": [http_rule(k) for k in range(HTTP_RULES)]}},
                 {"remote_policies": [2000 + i, 2100 + i],
                  "http_rules": {"http_rules": [http_rule(k) for k in range(HTTP_RULES)]}}]  # fmt: skip
        policies.append({"@type": NPDS, "endpoint_ips": [ip], "endpoint_id": i + 1,
                         "ingress_per_port_policies": [{"port": port, "rules": rules}]})  # fmt: skip
    return (
        {"version_info": "1", "type_url": NPHDS, "resources": hosts},
        {"version_info": "1", "type_url": NPDS, "resources": policies},
    )


def push_policy(i: int, variant: int) -> Dict[str, Any]:
    """Endpoint i as bench/policy_benchmark.cc's makePolicy shapes it (ports and ranges, a few
    rules of identity sets each, a deny tier, SNI, a wildcard port, egress), plus an HTTP rule
    of three matchers; `variant` changes every identity, so variants share no policy."""

    def remotes(base: int, count: int) -> List[int]:
        return [1000 + (base + r * 7 + i + variant) % 5000 for r in range(count)]

    http = {"http_rules": [{"headers": [
        {"name": ":path", "safe_regex_match": {"google_re2": {}, "regex": "/api/v1/items(/.*)?"}},
        {"name": ":method", "exact_match": "GET"},
        {"name": ":authority", "exact_match": "items.example.com"}]}]}  # fmt: skip
    ingress = [
        {"port": 80, "rules": [{"remote_policies": remotes(1, 6)},
                               {"remote_policies": remotes(2, 3), "http_rules": http}]},
        {"port": 8000, "end_port": 8999, "rules": [
            {"remote_policies": remotes(3, 4)},
            {"remote_policies": remotes(4, 2), "deny": True, "precedence": 10}]},
        {"port": 443, "rules": [{"remote_policies": remotes(5, 3),
                                 "server_names": ["api.example.com"]}]},
        {"port": 0, "rules": [{"remote_policies": remotes(6, 2)}]},
    ]  # fmt: skip
    egress = [{"port": 53, "rules": [{"remote_policies": remotes(7, 2)}]},
              {"port": 1024, "end_port": 65535, "rules": [{}]}]  # fmt: skip
    return {"@type": NPDS, "endpoint_ips": [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                                            f"f00d::{i:x}"],
            "endpoint_id": i + 1, "ingress_per_port_policies": ingress,
            "egress_per_port_policies": egress}  # fmt: skip


def push_response(count: int, variant: int, version: int) -> Dict[str, Any]:
    return {"version_info": str(version), "type_url": NPDS,
            "resources": [push_policy(i, variant) for i in range(count)]}  # fmt: skip


# --- latency ------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "GET"
wrk.path = "%(path)s"
%(headers)s
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def wrk_script() -> str:
    """wrk's Lua: the request, and a JSON line of the results."""
    headers = "\n".join(f'wrk.headers["{n}"] = "{v}"' for n, v in HEADERS)
    return WRK_SCRIPT % {"path": PATH, "headers": headers}


def wrk_once(wrk: str, script: str, port: int, seconds: int, connections: int,
             what: str) -> Run:  # fmt: skip
    argv = [wrk, f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
            "-s", script, f"http://127.0.0.1:{port}/"]  # fmt: skip
    with Services() as services:
        proc = services.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = proc.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            raise ToolkitError(f"wrk did not finish a {seconds} s run ({what}).") from None
    lines = [line for line in out.decode(errors="replace").splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise ToolkitError(f"wrk failed ({what}): {err.decode(errors='replace').strip()[-500:]}")
    result = json.loads(lines[-1])
    if result["errors"] or result["non2xx"] or not result["requests"]:
        raise ToolkitError(
            f"The load through Envoy ({what}) got {result['non2xx']} non-2xx answers and "
            f"{result['errors']} socket errors in {result['requests']} requests; every request "
            "must pass for the latency to mean anything."
        )
    return Run(
        p50_us=float(result["p50_us"]),
        rps=result["requests"] / (result["duration_us"] / 1e6),
        requests=int(result["requests"]),
    )


def _ok(stack: Stack, response: Dict[str, Any], timeout: float = 30.0) -> Dict[str, Any]:
    assert stack.agent is not None
    reply = stack.agent.call("update", timeout, response=response)
    if reply is None or reply.get("ok") is not True:
        raise ToolkitError(f"Envoy did not accept the benchmark's policy: {reply}.")
    return reply


def _entries(stack: Stack) -> int:
    assert stack.agent is not None
    reply = stack.agent.call("access_log_entries", 5.0)
    return int(reply["entries"]) if reply else 0


def latency(binaries: Binaries, wrk: str, settings: Settings, folder: Path,
            out: TextIO) -> Dict[str, List[Round]]:  # fmt: skip
    """The alternating runs; each variant's rounds in order."""
    script = folder / "load.lua"
    script.write_text(wrk_script())
    stack = Stack(binaries, log_events=False, proxy_protocol_optional=True, baseline=True,
                  log_level="error")  # fmt: skip
    rounds: Dict[str, List[Round]] = {v: [] for v in VARIANTS}
    with stack:
        port = stack.port(True, "http")
        hosts, policies = latency_policies(port)
        _ok(stack, hosts)
        _ok(stack, policies)
        ports = {VARIANTS[0]: stack.ports[e2e_config.BASELINE], VARIANTS[1]: port,
                 VARIANTS[2]: port}  # fmt: skip
        logged, requests = _entries(stack), 0
        for number in range(settings.rounds + 1):  # round 0 warms up and is not counted
            line = []
            for variant in VARIANTS:
                seconds = WARMUP_SECONDS if number == 0 else settings.seconds
                if variant == VARIANTS[2]:
                    stack.set_access_log("closed")
                try:
                    runs = [wrk_once(wrk, str(script), ports[variant], seconds, connections,
                                     variant)
                            for connections in (1, settings.connections)]  # fmt: skip
                finally:
                    if variant == VARIANTS[2]:
                        stack.set_access_log("open")
                requests += sum(r.requests for r in runs) if variant == VARIANTS[1] else 0
                if number == 0:
                    continue
                rounds[variant].append(Round(*runs))
                line.append(f"{variant} {runs[0].p50_us:.0f} us, {runs[1].rps:.0f}/s")
            if number:
                print(f"  round {number}: " + "; ".join(line), file=out, flush=True)
        logged = _entries(stack) - logged
    print(f"  access log: the agent decoded {logged} entries for the {requests} requests of "
          "the filters' runs with its socket (a Request and a Response each)", file=out)  # fmt: skip
    return rounds


def latency_report(rounds: Dict[str, List[Round]], out: TextIO) -> float:
    """Prints the medians and ratios; returns the overhead."""
    p50 = {v: statistics.median(r.latency.p50_us for r in rounds[v]) for v in VARIANTS}
    steady = {v: statistics.median(r.latency.rps for r in rounds[v]) for v in VARIANTS}
    rps = {v: statistics.median(r.throughput.rps for r in rounds[v]) for v in VARIANTS}
    router, cilium, quiet = VARIANTS
    for variant in VARIANTS:
        print(f"  {variant + ':':32} median latency {p50[variant]:6.0f} us "
              f"({steady[variant]:.0f} requests/s one at a time), throughput "
              f"{rps[variant]:6.0f} requests/s", file=out)  # fmt: skip
    print(f"  throughput with the filters / without: {rps[cilium] / rps[router]:.2f} "
          f"(without the access-log socket: {rps[quiet] / rps[router]:.2f}); the access log's "
          f"share of the throughput lost: {share(rps[router], rps[cilium], rps[quiet])}",
          file=out)  # fmt: skip
    print(f"  latency without the access-log socket / router only: "
          f"{p50[quiet] / p50[router]:.2f}; the access log's share of the latency added: "
          f"{share(p50[router], p50[cilium], p50[quiet])}", file=out)  # fmt: skip
    return p50[cilium] / p50[router]


def share(router: float, cilium: float, quiet: float) -> str:
    """How much of what the filters change (router -> cilium) goes with the access log
    (quiet -> cilium), as a percentage; when the run without the socket is not between the
    two, this run's noise is larger than the access log's share and no figure is given."""
    if cilium == router or not min(router, cilium) <= quiet <= max(router, cilium):
        return "within this run's noise"
    return f"{(cilium - quiet) / (cilium - router):.0%}"


# --- policy pushes ------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pushes(binaries: Binaries, push_benchmark: str, folder: Path,
           out: TextIO) -> None:  # fmt: skip
    """The pushes through a fresh Envoy, then the engine's time for the same responses."""
    files: List[str] = []
    steps: List[Tuple[str, float, float, float]] = []  # (what, ACK, update, parse ms), in order
    rss: List[Tuple[str, float]] = []
    with Stack(binaries, log_events=False, log_level="error") as stack:
        assert stack.agent is not None
        if stack.agent.call("wait_subscribed", 15.0) is None:
            raise ToolkitError("The module did not subscribe to NPDS within 15 s.")
        pid = stack.envoy.pid
        rss.append(("before", rss_mb(pid)))
        version = 0
        response: Dict[str, Any] = {}
        for round_ in range(PUSH_ROUNDS):
            for what, count, variant in (("1k", 1000, 2 * round_), ("10k", 10000, 2 * round_ + 1),
                                         ("10k-again", 10000, 2 * round_ + 1)):  # fmt: skip
                version += 1
                if what == "10k-again":  # the same resources under a new version
                    response = {**response, "version_info": str(version)}
                else:
                    response = push_response(count, variant, version)
                path = folder / f"push-{version}.json"
                path.write_text(json.dumps(response))
                files.append(str(path))
                reply = _ok(stack, response, PUSH_TIMEOUT)
                steps.append((what, float(reply["took_ms"]), *_engine_time(push_benchmark, files)))
                if round_ == 0 and what != "10k-again":
                    rss.append((f"after {what}", rss_mb(pid)))
        rss.append(("at the end", rss_mb(pid)))
    report = {}
    for what in ("1k", "10k", "10k-again"):
        mine = [step for step in steps if step[0] == what]
        report[what] = (statistics.median(step[1] for step in mine),
                        statistics.median(step[2] for step in mine),
                        statistics.median(step[3] for step in mine))  # fmt: skip
    for what in ("1k", "10k"):
        ack, update, _ = report[what]
        print(
            f"update-{what}: {ack:.1f} ms, engine {update:.1f} ms, ratio {ack / update:.2f}",
            file=out,
        )
    (ack1, eng1, parse1), (ack10, eng10, parse10) = report["1k"], report["10k"]
    again, again_engine, _ = report["10k-again"]
    print(f"  protobuf parse floor: 1k {parse1:.1f} ms, 10k {parse10:.1f} ms; from 1k to 10k "
          f"the ACK time grows {ack10 / ack1:.1f}x, the engine's {eng10 / eng1:.1f}x "
          "(linear: 10x)", file=out)  # fmt: skip
    print(f"  re-push of the 10k unchanged (new version): ACK {again:.1f} ms = "
          f"{again / ack10:.2f} of a full push (goal < 0.10); engine {again_engine:.1f} ms",
          file=out)  # fmt: skip
    print("  Envoy's resident memory: " + ", ".join(f"{w} {mb:.0f} MB" for w, mb in rss), file=out)
    print(f"  (medians of {PUSH_ROUNDS} rounds of 1k, 10k, 10k unchanged; ACK: from the "
          "agent's gRPC Send of the encoded response to Envoy's ACK; engine: bench/push_benchmark.cc on the same "
          "response right after the ACK, parse and PolicyMap::update)", file=out)  # fmt: skip


def _engine_time(push_benchmark: str, files: Sequence[str]) -> Tuple[float, float]:
    """The engine's update and parse times (ms) for the last of `files`, on the state the one
    before it left, measured right after Envoy acknowledged the same response: both sides of
    a ratio come from the same seconds of a machine whose speed drifts over a run."""
    last = min(len(files), 2) - 1
    times = _engine_times(push_benchmark, files[-2:], rf"^BM_Push(Update|Parse)/{last}/")
    return times["update"][last], times["parse"][last]


def _engine_times(push_benchmark: str, files: Sequence[str],
                  only: str = "") -> Dict[str, List[float]]:  # fmt: skip
    """Per file, in order: the engine's update and parse times (ms) from push_benchmark (0 for
    a file whose benchmarks the regex `only` leaves out)."""
    argv = [push_benchmark, "--benchmark_format=json", "--benchmark_min_time=0.1"]
    argv += [f"--benchmark_filter={only}"] if only else []
    argv += files
    with Services() as services:
        proc = services.start(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        data, err = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise ToolkitError(f"{push_benchmark} failed: {err.decode(errors='replace')[-500:]}")
    times: Dict[str, List[float]] = {"update": [0.0] * len(files), "parse": [0.0] * len(files)}
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    for bench in json.loads(data)["benchmarks"]:
        name, index = bench["run_name"].split("/")[:2]
        kind = {"BM_PushUpdate": "update", "BM_PushParse": "parse"}[name]
        times[kind][int(index)] = float(bench["real_time"]) * scale[bench["time_unit"]]
    return times


# --- the whole bench ----------------------------------------------------------------------


def run(binaries: Binaries, wrk: str, push_benchmark: str, settings: Settings,
        out: TextIO) -> float:  # fmt: skip
    """Both parts; the last line printed is `overhead: R`. Returns R."""
    with tempfile.TemporaryDirectory(prefix="cilium-bench-") as folder:
        print(f"bench: wrk ({WRK_THREADS} thread, HTTP/1.1 keep-alive): latency with one "
              f"connection, throughput with {settings.connections}; {settings.seconds} s per "
              f"run; {settings.rounds} rounds of: " + ", ".join(VARIANTS)
              + f"; one Envoy --concurrency 2; {ENDPOINTS} endpoint policies, HTTP rules of "
              f"{MATCHERS} header matchers; {os.cpu_count()} CPUs", file=out, flush=True)  # fmt: skip
        rounds = latency(binaries, wrk, settings, Path(folder), out)
        overhead = latency_report(rounds, out)
        print("policy pushes through NPDS (stand-in agent -> Envoy's ACK):", file=out, flush=True)
        pushes(binaries, push_benchmark, Path(folder), out)
    print(f"overhead: {overhead:.2f}", file=out, flush=True)
    return overhead
