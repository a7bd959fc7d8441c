"""Instructions Envoy spends on a request with and without Cilium's filters (callgrind).

    python3 bench/module_profile.py [--requests 2000] [--envoy PATH] [--module DIR] [--keep DIR]

Wall-clock figures on a shared 2-CPU machine move by tens of percent from run to run; the
instructions a request costs do not.  This starts the bench's stack (tools/engine: one Envoy
with the Cilium listener, its 50 endpoint policies, and the router-only listener beside it;
Envoy under valgrind's callgrind, --concurrency 1), sends the same requests one at a time to
each listener with instrumentation on only meanwhile, and prints the instructions per request
of each, the ratio, and those in the module's hooks and in its access-log thread.  Needs
valgrind, the release module (`cmake --build build/filters/release --target cilium_module`)
and the Go programs of `nox -s e2e` (build/e2e/bin).  A script, not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.engine import e2e_bench, e2e_config, e2e_stack  # noqa: E402
from tools.engine.e2e_stack import Binaries, Stack  # noqa: E402
from tools.envoy import real  # noqa: E402

#: The module's entry points whose inclusive cost is its share of a request.
HOOKS = ("envoy_dynamic_module_on_http_filter_request_headers",
         "envoy_dynamic_module_on_http_filter_response_headers",
         "envoy_dynamic_module_on_http_filter_destroy",
         "Cilium::Module::AccessLogQueue::run()")  # fmt: skip


def requests(port: int, count: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = dict(e2e_bench.HEADERS)
    for _ in range(count):
        conn.request("GET", e2e_bench.PATH, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            sys.exit(f"module_profile: a request got {response.status}, not 200")
    conn.close()


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def inclusive(dump: Path) -> dict:
    """Total instructions and those of each hook, from callgrind_annotate --inclusive."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dump)],
                          check=True, capture_output=True, text=True).stdout  # fmt: skip
    totals = re.search(r"([\d,]+) \S+\s+PROGRAM TOTALS", text)
    if totals is None:
        sys.exit(f"module_profile: no totals in {dump}")
    found = {"total": int(totals[1].replace(",", ""))}
    for hook in HOOKS:
        match = re.search(r"^\s*([\d,]+) .*" + re.escape(hook), text, re.M)
        found[hook] = int(match[1].replace(",", "")) if match else 0
    return found


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 bench/module_profile.py", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--envoy", help="default: the Envoy tools.envoy.real finds")
    parser.add_argument("--module", default=str(ROOT / "build/filters/release/module"))
    parser.add_argument("--keep", metavar="DIR", help="keep callgrind's files in DIR")
    options = parser.parse_args()
    if not options.envoy:
        options.envoy, seen = real.find(os.environ, ROOT)
        if options.envoy is None:
            parser.error(f"needs {real.missing_text(seen)}")
    out = Path(options.keep or tempfile.mkdtemp(prefix="cilium-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    wrapper = out / "envoy-under-callgrind"
    wrapper.write_text("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no "
                       f"--callgrind-out-file={out}/callgrind.%p {options.envoy} \"$@\"\n")  # fmt: skip
    wrapper.chmod(0o755)
    e2e_stack.START_TIMEOUT = 600  # Envoy starts slowly under callgrind
    binaries = Binaries(envoy=str(wrapper), module_dir=options.module,
                        agent=str(ROOT / "build/e2e/bin/agent"),
                        upstream=str(ROOT / "build/e2e/bin/upstream"))  # fmt: skip
    stack = Stack(binaries, log_events=False, proxy_protocol_optional=True, baseline=True,
                  concurrency=1, log_level="error")  # fmt: skip
    with stack:
        port = stack.port(True, "http")
        for response in e2e_bench.latency_policies(port):
            assert stack.agent is not None
            reply = stack.agent.call("update", 300, response=response)
            if not reply or reply.get("ok") is not True:
                sys.exit(f"module_profile: the policy was not accepted: {reply}")
        pid = stack.envoy.pid
        for listener in (stack.ports[e2e_config.BASELINE], port):
            requests(listener, 200)  # warm
            control(pid, "-i", "on")
            requests(listener, options.requests)
            control(pid, "-i", "off")
            control(pid, "-d")
    dumps = sorted(out.glob("callgrind.*.[0-9]"), key=lambda p: int(p.suffix[1:]))
    router, cilium = (inclusive(d) for d in dumps[:2])
    n = options.requests
    print(f"instructions per request, {n} requests one at a time, Envoy --concurrency 1:")
    print(f"  router only:    {router['total'] / n:9.0f}")
    print(
        f"  Cilium filters: {cilium['total'] / n:9.0f}  (ratio {cilium['total'] / router['total']:.2f})"
    )
    for hook in HOOKS:
        print(f"    {hook}: {cilium[hook] / n:.0f}")
    print(f"callgrind's files: {out}")


if __name__ == "__main__":
    main()
