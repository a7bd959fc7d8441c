"""Stop signals (SIGINT, SIGTERM, SIGHUP) stop what a session started: the runner's mechanism
in-process, then a real nox sent the signal alone or with its whole process group.

Every process is real: Python sleepers (tools/tests/stop_targets.py) that each have a
child in their process group and record the signal that stopped them.  The nox runs use
a small noxfile that calls those functions through tools.entry, as the real sessions do;
processes are found by a token in their environment.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools import entry, processes, run
from tools.tests import stop_targets as targets
from tools.tests.stop_targets import pids, running, sleeper, wait_for

REPO = Path(__file__).resolve().parents[2]
PROGRAM = os.path.basename(sys.executable)  # how the runner names a sleeper by default


@pytest.fixture
def stops(monkeypatch):
    """Our handlers as nox has them (SIGINT not ignored, as in a terminal), a fresh stop state,
    and the handlers and state this worker had back afterwards."""
    monkeypatch.setattr(processes, "_STATE", processes._State())
    saved = {s: signal.getsignal(s) for s in (*run.STOP_SIGNALS, signal.SIGTSTP)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run.handle_signals()
    yield processes._STATE
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    for child in list(processes._STATE.children):  # nothing a test started outlives it
        processes._kill(child.proc)
        child.proc.wait()


def signal_us(ready: Path | list[Path], *signums: int, gap: float = 0.3) -> None:
    """Once ``ready`` exists (all of them), send ourselves the signals, ``gap`` s apart."""

    def send() -> None:
        for path in ready if isinstance(ready, list) else [ready]:
            wait_for(path)
        for signum in signums:
            os.kill(os.getpid(), signum)
            time.sleep(gap)

    threading.Thread(target=send, daemon=True).start()


@pytest.mark.parametrize("signum", run.STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_stop_signal_stops_the_command_and_its_group(stops, tmp_path, signum):
    signal_us(tmp_path / "command.ready", signum)
    with pytest.raises(run.Stopped) as stopped:
        run.stream(sleeper(tmp_path, "command"), label="sleeper")
    assert stopped.value.signum == signum
    assert time.monotonic() - stops.since < 2
    # It got what Ctrl-C would have given it, and stopped by itself, its child too.
    assert (tmp_path / "command.signal").read_text() == "SIGINT"
    assert not any(running(pid) for pid in pids(tmp_path, "command"))
    assert stops.stopped == ["sleeper"] and stops.children == []


def test_what_a_command_started_elsewhere_is_stopped_too(stops, tmp_path):
    """A process in a session of its own, whose parent dies at once: SIGTERM reaches it."""
    signal_us(tmp_path / "escaped.ready", signal.SIGINT)
    with pytest.raises(run.Stopped):
        run.stream(targets.escaper(tmp_path, "escaped"), label="escaper", grace=0.3)
    assert (tmp_path / "escaped.signal").read_text() == "SIGTERM"
    assert not any(running(pid) for pid in pids(tmp_path, "escaped"))
    assert stops.stopped == ["escaper"]


def test_a_command_runs_in_a_session_of_its_own(stops, tmp_path):
    """So a terminal's Ctrl-C reaches it only through us, and no terminal stops it."""
    code = "import os; print(os.getsid(0) == os.getpid() == os.getpgid(0))"
    assert run.query([sys.executable, "-c", code]).stdout == "True\n"


def test_sigint_inherited_as_ignored_stays_ignored_and_sigterm_stops(monkeypatch, tmp_path):
    """A background job without job control: SIGINT is not ours to act on, SIGTERM is."""
    monkeypatch.setattr(processes, "_STATE", processes._State())
    saved = {s: signal.getsignal(s) for s in (*run.STOP_SIGNALS, signal.SIGTSTP)}
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run.handle_signals()
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        ready = tmp_path / "command.ready"
        signal_us(ready, signal.SIGINT, signal.SIGTERM, gap=1.0)
        with pytest.raises(run.Stopped) as stopped:
            run.stream(sleeper(tmp_path, "command"), label="sleeper")
        assert stopped.value.signum == signal.SIGTERM
        # Our commands inherited SIGINT ignored too: they got SIGTERM.
        assert (tmp_path / "command.signal").read_text() == "SIGTERM"
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def test_a_command_that_ignores_the_signals_is_killed_in_bounded_time(stops, tmp_path):
    signal_us(tmp_path / "command.ready", signal.SIGTERM)
    with pytest.raises(run.Stopped):
        run.stream(sleeper(tmp_path, "command", "ignore"), label="sleeper", grace=0.3)
    assert time.monotonic() - stops.since < 0.3 + run.TERMINATE_GRACE + 1.0  # since the signal
    assert not any(running(pid) for pid in pids(tmp_path, "command"))
    assert stops.stopped == ["sleeper (killed)"]


def test_another_signal_skips_the_grace(stops, tmp_path):
    signal_us(tmp_path / "command.ready", signal.SIGINT, signal.SIGINT, signal.SIGINT)
    with pytest.raises(run.Stopped):
        run.stream(sleeper(tmp_path, "command", "ignore"), label="sleeper", grace=60)
    assert time.monotonic() - stops.since < 2  # not the 60 s grace
    assert stops.stopped == ["sleeper (killed)"]


class FakeSession:
    name = "fake"


def test_a_signal_while_nothing_runs_stops_at_once(stops, tmp_path, caplog):
    ready = tmp_path / "planning.ready"
    signal_us(ready, signal.SIGTERM)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="nox"), pytest.raises(SystemExit) as exit:
        with entry.stops(FakeSession()):
            ready.write_text("")
            while time.monotonic() - started < 30:
                sum(range(1000))
    assert exit.value.code == 128 + signal.SIGTERM
    assert time.monotonic() - started < 1
    assert caplog.messages == ["Session fake stopped by SIGTERM; nothing was running."]


def test_queries_from_threads_are_stopped_and_nothing_new_starts(stops, tmp_path):
    """api runs protoc from worker threads: the main thread's signal reaches them too."""
    signal_us([tmp_path / "protoc-a.ready", tmp_path / "protoc-b.ready"], signal.SIGHUP)
    started = time.monotonic()
    with pytest.raises(run.Stopped) as stopped:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda n: run.query(sleeper(tmp_path, n), timeout=None),
                          ["protoc-a", "protoc-b"]))  # fmt: skip
    assert stopped.value.signum == signal.SIGHUP
    assert time.monotonic() - started < 5
    for name in ("protoc-a", "protoc-b"):
        assert (tmp_path / f"{name}.signal").read_text() == "SIGINT"
        assert not any(running(pid) for pid in pids(tmp_path, name))
    assert stops.stopped == [PROGRAM, PROGRAM]
    with pytest.raises(run.Stopped):  # stopping: nothing new starts
        run.query(sleeper(tmp_path, "late"))
    assert not (tmp_path / "late.ready").exists()


def test_background_services_stop_with_the_session(stops, tmp_path, caplog):
    signal_us([tmp_path / f"{n}.ready" for n in ("envoy", "agent", "command")], signal.SIGTERM)
    with caplog.at_level(logging.ERROR, logger="nox"), pytest.raises(SystemExit) as exit:
        with entry.stops(FakeSession()):
            with run.Services() as services:
                services.start(sleeper(tmp_path, "envoy"), name="envoy")
                services.start(sleeper(tmp_path, "agent"), name="agent")
                run.stream(sleeper(tmp_path, "command"), label="suite")
    assert exit.value.code == 128 + signal.SIGTERM
    for name in ("envoy", "agent", "command"):
        assert (tmp_path / f"{name}.signal").read_text() == "SIGINT"
        assert not any(running(pid) for pid in pids(tmp_path, name))
    [line] = caplog.messages
    assert line.startswith("Session fake stopped by SIGTERM; stopped ")
    assert sorted(line[len("Session fake stopped by SIGTERM; stopped ") : -1].split(", ")) == [
        "agent", "envoy", "suite"]  # fmt: skip


def test_stop_group_ends_a_service_and_its_group(stops, tmp_path):
    """Without any signal: SIGTERM, and SIGKILL for one that ignores it."""
    polite = run.spawn(sleeper(tmp_path, "polite"), name="polite")
    stubborn = run.spawn(sleeper(tmp_path, "stubborn", "ignore"), name="stubborn")
    wait_for(tmp_path / "polite.ready")
    wait_for(tmp_path / "stubborn.ready")
    run.stop_group(polite)
    assert (tmp_path / "polite.signal").read_text() == "SIGTERM"
    started = time.monotonic()
    run.stop_group(stubborn, grace=0.3)
    assert time.monotonic() - started < 3
    for name in ("polite", "stubborn"):
        assert not any(running(pid) for pid in pids(tmp_path, name))
    assert stops.children == [] and stops.stopped == []  # no session stop: nothing to report
    run.stop_group(polite)  # again: nothing happens


# --- a real nox --------------------------------------------------------------------------------

NOXFILE = """
import sys
sys.path.insert(0, {repo!r})
import nox
from tools.entry import call, command
from tools.run import handle_signals
handle_signals()

@nox.session(python=False)
def stoppable(session):
    call(session, "tests.stop_targets:" + session.posargs[0])

@nox.session(python=False)
def after(session):
    open(session.posargs[1] + "/after.ran", "w").close()

@nox.session(python=False)
def tests(session):
    command(session, sys.executable, "-m", "pytest", *session.posargs)
"""

SLEEPY_TESTS = """
import os, time
def test_sleeps(worker_id):
    open(os.path.join({folder!r}, worker_id + ".ready"), "w").write(str(os.getpid()))
    time.sleep(120)
"""


class Nox:
    """A real nox in a process group of its own, as a terminal's shell would start it."""

    def __init__(self, tmp_path: Path, *args: str, sigint: object = signal.SIG_DFL) -> None:
        self.folder = tmp_path
        self.token = f"stop-test-{uuid.uuid4().hex}"
        noxfile = tmp_path / "noxfile.py"
        noxfile.write_text(NOXFILE.format(repo=str(REPO)))
        env = {**os.environ, "STOP_TEST_TOKEN": self.token}
        env.pop("CI", None)  # nox's own CI behaviour is not what is tested here
        self.log = tmp_path / "nox.log"
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "nox", "--no-color", "-f", str(noxfile), *args],
                cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                # SIGINT as a terminal's shell leaves it, or inherited as ignored.
                preexec_fn=lambda: signal.signal(signal.SIGINT, sigint),  # type: ignore[arg-type]
            )  # fmt: skip

    def send(self, signum: int, whole_group: bool) -> float:
        """Send the signal; return the seconds until nox exited."""
        took = targets.send(self.proc, signum, whole_group)
        self.output = self.log.read_text()
        return took

    def left(self) -> dict:
        return targets.processes_with(self.token)

    def close(self) -> None:
        targets.end(self.proc, self.token)


@pytest.fixture
def nox_run(tmp_path):
    started: list[Nox] = []

    def start(*args: str, **kwargs) -> Nox:
        started.append(Nox(tmp_path, *args, **kwargs))
        return started[-1]

    yield start
    for one in started:
        one.close()


def stop_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if " stopped by SIG" in line]


@pytest.mark.parametrize("whole_group", [False, True], ids=["nox alone", "whole group"])
@pytest.mark.parametrize("signum", run.STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_nox_stops_a_session_command(nox_run, tmp_path, signum, whole_group):
    nox = nox_run("-s", "stoppable", "after", "--", "command", str(tmp_path))
    wait_for(tmp_path / "command.ready")
    assert len(nox.left()) == 3  # nox, the sleeper and its child
    took = nox.send(signum, whole_group)
    assert took < 5, nox.output
    assert nox.proc.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert stop_lines(nox.output) == [
        f"nox > Session stoppable stopped by {name}; stopped sleeper."
    ]
    assert "Traceback" not in nox.output
    assert (tmp_path / "command.signal").read_text() == "SIGINT"
    assert not (tmp_path / "after.ran").exists()  # the whole run ended
    time.sleep(0.5)
    assert nox.left() == {}


def test_nox_stops_at_once_while_nothing_runs(nox_run, tmp_path):
    nox = nox_run("-s", "stoppable", "--", "planning", str(tmp_path))
    wait_for(tmp_path / "planning.ready")
    assert nox.send(signal.SIGTERM, whole_group=False) < 1.5
    assert nox.proc.returncode == 128 + signal.SIGTERM
    assert stop_lines(nox.output) == [
        "nox > Session stoppable stopped by SIGTERM; nothing was running."
    ]


def test_nox_with_sigint_ignored_ignores_it_and_stops_on_sigterm(nox_run, tmp_path):
    nox = nox_run("-s", "stoppable", "--", "command", str(tmp_path), sigint=signal.SIG_IGN)
    wait_for(tmp_path / "command.ready")
    os.kill(nox.proc.pid, signal.SIGINT)
    time.sleep(1)
    assert nox.proc.poll() is None and not (tmp_path / "command.signal").exists()
    assert nox.send(signal.SIGTERM, whole_group=False) < 5
    assert nox.proc.returncode == 128 + signal.SIGTERM
    assert (tmp_path / "command.signal").read_text() == "SIGTERM"
    assert stop_lines(nox.output) == [
        "nox > Session stoppable stopped by SIGTERM; stopped sleeper."
    ]
    time.sleep(0.5)
    assert nox.left() == {}


@pytest.mark.parametrize("target", ["threads", "services"])
def test_nox_stops_threads_and_services(nox_run, tmp_path, target):
    nox = nox_run("-s", "stoppable", "--", target, str(tmp_path))
    names = ["protoc-a", "protoc-b"] if target == "threads" else ["envoy", "agent", "command"]
    for name in names:
        wait_for(tmp_path / f"{name}.ready")
    assert nox.send(signal.SIGINT, whole_group=False) < 5
    assert nox.proc.returncode == 128 + signal.SIGINT
    [line] = stop_lines(nox.output)
    stopped = line.split("; stopped ", 1)[1].rstrip(".").split(", ")
    assert sorted(stopped) == (
        [PROGRAM] * 2 if target == "threads" else ["agent", "envoy", "suite"]
    )
    time.sleep(0.5)
    assert nox.left() == {}


def test_nox_stops_pytest_and_its_workers(nox_run, tmp_path):
    """selftest: pytest runs through tools.entry.command, its xdist workers stop with it."""
    (tmp_path / "test_sleepy.py").write_text(SLEEPY_TESTS.format(folder=str(tmp_path)))
    nox = nox_run("-s", "tests", "--", "-n", "2", "--dist", "each", "-p", "no:cacheprovider",
                  "test_sleepy.py")  # fmt: skip
    for worker in ("gw0", "gw1"):
        wait_for(tmp_path / f"{worker}.ready", timeout=60)
    assert len(nox.left()) >= 4  # nox, pytest, two workers
    assert nox.send(signal.SIGTERM, whole_group=False) < 8
    assert nox.proc.returncode == 128 + signal.SIGTERM
    assert stop_lines(nox.output) == [
        f"nox > Session tests stopped by SIGTERM; stopped {PROGRAM} -m pytest."
    ]
    time.sleep(0.5)
    assert nox.left() == {}


def test_ctrl_c_in_a_terminal(tmp_path):
    """A real terminal (a pseudo-terminal whose foreground process group is nox's): Ctrl-C
    stops the session's commands and nox as before, and the commands could read it."""
    import fcntl
    import termios

    token = f"stop-test-{uuid.uuid4().hex}"
    (tmp_path / "noxfile.py").write_text(NOXFILE.format(repo=str(REPO)))
    master, slave = os.openpty()

    def terminal() -> None:  # in the child: the pseudo-terminal is its controlling terminal
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    env = {**os.environ, "STOP_TEST_TOKEN": token}
    argv = [sys.executable, "-m", "nox", "--no-color", "-f", str(tmp_path / "noxfile.py"),
            "-s", "stoppable", "--", "command", str(tmp_path)]  # fmt: skip
    nox = subprocess.Popen(argv, cwd=tmp_path, env=env, stdin=slave, stdout=slave, stderr=slave,
                           start_new_session=True, preexec_fn=terminal)  # fmt: skip
    os.close(slave)
    output = b""
    try:
        wait_for(tmp_path / "command.ready")
        os.write(master, b"\x03")  # Ctrl-C
        nox.wait(timeout=10)
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last writer is gone
                break
            if not chunk:
                break
            output += chunk
    finally:
        targets.end(nox, token)
        os.close(master)
    assert nox.returncode == 128 + signal.SIGINT
    assert "Session stoppable stopped by SIGINT; stopped sleeper." in output.decode()
    assert (tmp_path / "command.signal").read_text() == "SIGINT"
    assert targets.processes_with(token) == {}


def test_ctrl_z_suspends_the_commands_with_nox(nox_run, tmp_path):
    nox = nox_run("-s", "stoppable", "--", "command", str(tmp_path))
    wait_for(tmp_path / "command.ready")
    sleeper_pid, child_pid = pids(tmp_path, "command")
    os.killpg(nox.proc.pid, signal.SIGTSTP)  # what the terminal sends on Ctrl-Z

    def states() -> list[str]:
        return [targets.state(pid) for pid in (nox.proc.pid, sleeper_pid, child_pid)]

    deadline = time.monotonic() + 5
    while states() != ["T", "T", "T"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert states() == ["T", "T", "T"]
    os.killpg(nox.proc.pid, signal.SIGCONT)  # fg
    deadline = time.monotonic() + 5
    while "T" in states() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "T" not in states()
    assert nox.send(signal.SIGINT, whole_group=True) < 5
    assert nox.proc.returncode == 128 + signal.SIGINT
