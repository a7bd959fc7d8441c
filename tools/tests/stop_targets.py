"""Session functions for the stop tests, and the helpers those tests share.

A real nox runs the functions through tools.entry.call ("tests.stop_targets:NAME"), with a
folder as their argument.  Each starts real processes the way a session does (a command in
the foreground as filters and policy do, protoc-like queries from worker threads as api
does, background services as e2e does), writes ``NAME.ready`` files once they run, and
waits to be stopped.  The processes are Python sleepers: each records the signal that
stopped it in ``NAME.signal`` and has a child of its own in its process group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Sequence

from tools import run
from tools.errors import ToolkitError

PY = sys.executable

#: argv: ready file, signal file, mode ("clean": stop on SIGINT or SIGTERM; "ignore": ignore
#: both, so only SIGKILL ends it).
SLEEPER = r"""
import os, signal, subprocess, sys, time
ready, record, mode = sys.argv[1:4]
def stop(signum, frame):
    with open(record, "w") as handle:
        handle.write(signal.Signals(signum).name)
    sys.exit(0)
for signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(signum, signal.SIG_IGN if mode == "ignore" else stop)
child = subprocess.Popen([sys.executable, "-S", "-c",
    "import signal, sys, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "open(sys.argv[1], 'w').close(); time.sleep(120)", ready + ".child"])
while not os.path.exists(ready + ".child"):  # both run, their handlers set
    time.sleep(0.01)
with open(ready + ".tmp", "w") as handle:
    handle.write(f"{os.getpid()} {child.pid}")
os.replace(ready + ".tmp", ready)
time.sleep(120)
"""


#: argv: a command to start in a session of its own (out of our reach but for its parent),
#: then sleep; SIGINT ends it at once.
ESCAPER = r"""
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
subprocess.Popen(sys.argv[1:], start_new_session=True)
time.sleep(120)
"""


def escaper(folder: Path, name: str) -> List[str]:
    """A command that starts a sleeper in a session of its own (as a test run by selftest
    starts its runner's commands), then dies at the first SIGINT, leaving it behind."""
    return [PY, "-c", ESCAPER, *sleeper(folder, name)]


def sleeper(folder: Path, name: str, mode: str = "clean") -> List[str]:
    return [PY, "-c", SLEEPER, str(folder / f"{name}.ready"), str(folder / f"{name}.signal"), mode]


def pids(folder: Path, name: str) -> List[int]:
    """The sleeper's pid and its child's, once it runs."""
    return [int(p) for p in (folder / f"{name}.ready").read_text().split()]


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} did not appear within {timeout:g} s")
        time.sleep(0.02)


def running(pid: int) -> bool:
    """Whether the process exists and is no zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def state(pid: int) -> str:
    """The process's state letter (R, S, T, ...), or "" when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return ""
    return stat[stat.rfind(b")") + 2 :].split()[0].decode()


def processes_with(token: str) -> Dict[int, str]:
    """Every live process whose command line or environment holds ``token``: pid -> command."""
    found = {}
    needle = token.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read()
            try:
                with open(f"/proc/{name}/environ", "rb") as handle:
                    environ = handle.read()
            except PermissionError:
                environ = b""
        except OSError:
            continue
        if (needle in cmdline or needle in environ) and running(int(name)):
            found[int(name)] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def send(proc: subprocess.Popen, signum: int, whole_group: bool) -> float:
    """Send the signal to a process alone, or to its whole process group (as a terminal's
    Ctrl-C does); return the seconds until it exited."""
    started = time.monotonic()
    if whole_group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    proc.wait(timeout=30)
    return time.monotonic() - started


def end(proc: subprocess.Popen, token: str) -> None:
    """The test's last resort: nothing it started outlives it, whatever went wrong."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    for pid in processes_with(token):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# --- the session functions ------------------------------------------------------------------


def command(argv: Sequence[str]) -> None:
    """filters, sanitize, policy: one command in the foreground (``stream``)."""
    folder = Path(argv[1])
    status = run.stream(sleeper(folder, "command", *argv[2:3]), label="sleeper")
    raise ToolkitError(f"The sleeper ended by itself (status {status}).")


def planning(argv: Sequence[str]) -> None:
    """Pure Python, like planning or gathering facts: nothing runs."""
    (Path(argv[1]) / "planning.ready").write_text("")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sum(range(10000))
    raise ToolkitError("Planning was not stopped.")


def threads(argv: Sequence[str]) -> None:
    """api: protoc runs at once from worker threads (``query``)."""
    folder = Path(argv[1])
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda name: run.query(sleeper(folder, name), timeout=None),
                      ["protoc-a", "protoc-b"]))  # fmt: skip
    raise ToolkitError("The queries ended by themselves.")


def services(argv: Sequence[str]) -> None:
    """e2e: background services (``Services``) and a command in the foreground."""
    folder = Path(argv[1])
    with run.Services() as started:
        started.start(sleeper(folder, "envoy"), name="envoy")
        started.start(sleeper(folder, "agent"), name="agent")
        run.stream(sleeper(folder, "command"), label="suite")
    raise ToolkitError("The suite ended by itself.")
