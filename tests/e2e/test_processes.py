"""Everything a run starts is stopped when it ends: normally, on Ctrl-C, on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from tools.engine.e2e_stack import Stack
from tools.tests.toolkit_fixtures import process_running

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def children(pid: int) -> List[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
    return found


def test_a_stack_leaves_nothing_behind(router_binaries) -> None:
    with Stack(router_binaries) as stack:
        pids = stack.pids
        folder = Path(stack.sockets.xds).parent
        assert len(pids) == 3 and all(process_running(p) for p in pids)
        assert folder.is_dir()
    assert not any(process_running(p) for p in pids)
    assert not folder.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_eval_stops_everything_on_ctrl_c_or_sigterm(router_binaries, sig) -> None:
    """`nox -s e2e -- eval` as a terminal user runs it; Ctrl-C reaches nox (our code runs in
    its process) but not the services, which have their own process groups."""
    nox = [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py"), "-s", "e2e", "--",
           "eval", "--router-only", "--envoy", router_binaries.envoy]  # fmt: skip
    # As from a terminal: SIGINT handled by Python even if our own parent ignores it.
    reset = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); " \
            "os.execv(sys.argv[1], sys.argv[1:])"  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", reset, *nox], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    try:
        request = {"connect": {"source": "198.51.100.7", "destination": "203.0.113.10",
                               "port": 9000, "ingress": True}}  # fmt: skip
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["connected"] is True  # router only: passes
        started = children(proc.pid)
        assert len(started) >= 3, started  # upstream, agent, Envoy
        proc.send_signal(sig)
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
        proc.stdout.close()
    assert status != 0
    deadline = time.monotonic() + 5
    while any(process_running(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(process_running(p) for p in started), [p for p in started if process_running(p)]
