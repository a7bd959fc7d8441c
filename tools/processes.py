"""The processes the toolkit started, and stopping them.

Every process started by tools.run (:func:`stream`, :func:`query`, :func:`start`, and
the background processes of :func:`spawn` and :class:`Services`) runs in a session and
process group of its own, registered for as long as it runs.  A signal sent to us alone
(``timeout``, a CI runner cancelling a job, ``kill -INT``) reaches it only through us, and
so does a terminal's Ctrl-C:

* :func:`handle_signals` (the noxfile calls it) makes SIGTERM and SIGHUP, like SIGINT,
  raise :class:`Stopped`, a KeyboardInterrupt, in the main thread.  A signal we inherited
  as ignored stays ignored (SIGINT of a background job without job control, SIGHUP under
  nohup).
* The moment one arrives, every registered process group gets SIGINT, what Ctrl-C in a
  terminal gives it (SIGTERM when our SIGINT is ignored: theirs is too), and nothing new
  starts.  Docker's buildx plugin, in the group of the docker CLI, cancels the build in
  BuildKit; ninja, pytest and Envoy stop their own children.
* :func:`stop_children` waits for them to be gone: SIGTERM INTERRUPT_GRACE seconds after
  the signal, SIGKILL TERMINATE_GRACE seconds later, both to every process they started
  (on Linux read from the process table: their sessions and all their descendants, even
  those that left); another signal meanwhile skips to the next step.  ``stream`` and
  ``query`` call it before passing the exception on; tools.entry calls it once more,
  prints one line saying what was stopped and exits with status 128 + the signal's
  number, which ends the whole nox run.
* Ctrl-Z (SIGTSTP) stops the groups with us; ``fg`` or ``bg`` continues them.

Long-lived background processes (the e2e stack: Envoy, the agent stand-in, the upstream)
use the same machinery: ``spawn(argv, name="envoy")`` starts one, ``stop_group(proc)``
stops it with everything it started (SIGTERM, SIGKILL after a grace), and a ``Services``
block stops all it started when it ends, however it ends.  A stop signal reaches them like
any other command, and tools.entry's line names them.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from tools.errors import ToolkitError

#: Seconds our commands get to stop after the signal passed on to them (docker cancelling
#: the build in BuildKit, ninja its compilers) before SIGTERM.
INTERRUPT_GRACE = 6.0
#: Seconds between SIGTERM and SIGKILL: a stopped session is gone within about 10 s.
TERMINATE_GRACE = 2.0
#: The signals that stop a session.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _not_found(argv: Sequence[str], missing: Optional[str] = None) -> ToolkitError:
    return ToolkitError(
        missing or f"`{argv[0]}` was not found; install it or put it on PATH.", status=127
    )


# --- the processes we started, and stopping them (see the module's docstring) ---------------


class Stopped(KeyboardInterrupt):
    """A stop signal arrived (SIGINT, SIGTERM or SIGHUP): raised in the main thread."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass(eq=False)
class _Child:
    proc: subprocess.Popen
    label: str
    sent: int = -1  # the last stop step it was sent (see _step_signal)
    orphan: bool = False  # nobody reads its pipes: closed when it ends
    #: pid -> start time of every process it started, seen while it was being stopped: its
    #: session and every descendant, wherever they moved (a test's own runner children).
    tree: Dict[int, int] = field(default_factory=dict)


@dataclass
class _State:
    children: List[_Child] = field(default_factory=list)
    signum: Optional[int] = None  # the signal that started the stop, once one did
    since: float = 0.0  # when it arrived (time.monotonic)
    step: int = -1  # 0: the polite signal is due, 1: SIGTERM, 2: SIGKILL
    stopping: bool = False  # stop_children is waiting: a signal only hurries it
    spawning: bool = False  # the main thread is starting a process: no exception there
    stopped: List[str] = field(default_factory=list)  # what the stop ended, in order


_STATE = _State()
_LOCK = threading.Lock()  # guards changes to _STATE.children (never taken in a handler)


def handle_signals() -> None:
    """Let SIGTERM and SIGHUP, like SIGINT, stop us; SIGTSTP suspend our commands with us.

    Idempotent; does nothing outside the main thread.  A signal inherited as ignored stays
    ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) not in (signal.SIG_IGN, _on_signal):
            signal.signal(signum, _on_signal)
    if hasattr(signal, "SIGTSTP") and signal.getsignal(signal.SIGTSTP) == signal.SIG_DFL:
        signal.signal(signal.SIGTSTP, _on_suspend)


def _on_signal(signum: int, frame: Any) -> None:
    state = _STATE
    if state.signum is None:
        state.signum, state.since = signum, time.monotonic()
        _advance(0)
        if not (state.stopping or state.spawning):
            raise Stopped(signum)
    else:  # again: the next step at once (the first signal's exception is on its way)
        _advance(min(state.step + 1, 2))


def _on_suspend(signum: int, frame: Any) -> None:
    # Our groups are orphaned (their own sessions): the kernel drops SIGTSTP for them.
    table = _table()
    running = [c for c in list(_STATE.children) if c.proc.returncode is None]
    for child in running:
        _signal_child(child, signal.SIGSTOP, table)
    os.kill(os.getpid(), signal.SIGSTOP)  # returns after SIGCONT (fg, bg)
    for child in running:
        _signal_child(child, signal.SIGCONT, table)


def _step_signal(step: int) -> int:
    if step == 0:
        ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        return signal.SIGTERM if ignored else signal.SIGINT
    return signal.SIGTERM if step == 1 else signal.SIGKILL


#: pid -> (parent, process group, session, start time) of every live process, zombies left out.
_Table = Dict[int, Tuple[int, int, int, int]]


def _table() -> Optional[_Table]:
    """The process table, read from Linux's /proc; None where there is none."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    table = {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # after "pid (comm) ": state, ppid, pgrp, session, ... start time (the 20th)
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] != b"Z":
            table[int(name)] = (int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]))
    return table


def _follow(child: _Child, table: _Table) -> None:
    """Add what the child's session and its descendants hold now to its tree; drop the dead."""
    leader = child.proc.pid
    tree = {
        pid: start for pid, start in child.tree.items() if pid in table and table[pid][3] == start
    }
    alive = child.proc.returncode is None  # (its number is not someone else's yet)
    if alive:
        tree.update(
            (pid, row[3]) for pid, row in table.items() if row[2] == leader and pid != leader
        )
    kids: Dict[int, List[int]] = {}
    for pid, row in table.items():
        kids.setdefault(row[0], []).append(pid)
    todo = [*tree, leader] if alive else list(tree)
    while todo:
        for pid in kids.get(todo.pop(), ()):
            if pid not in tree and pid != leader:
                tree[pid] = table[pid][3]
                todo.append(pid)
    child.tree = tree


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _signal_child(
    child: _Child, signum: int, table: Optional[_Table], everyone: bool = False
) -> None:
    """Signal the child's process group and the other groups of its session (ninja runs each
    compiler in one of its own); with ``everyone``, every process it started, wherever."""
    if table is None:  # no process table: its group is all we know of
        _signal_group(child.proc.pid, signum)
        return
    _follow(child, table)
    groups = {table[pid][1] for pid in child.tree if table[pid][2] == child.proc.pid}
    if child.proc.returncode is None:
        groups.add(child.proc.pid)
    for pgid in sorted(groups):
        _signal_group(pgid, signum)
    for pid in child.tree if everyone else ():
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _advance(step: int) -> None:
    """Make ``step`` due and send every child still running the signals it has not had."""
    state = _STATE
    state.step = max(state.step, step)
    table = _table()
    for child in list(state.children):
        _catch_up(child, table)


def _catch_up(child: _Child, table: Optional[_Table]) -> None:
    # Only a child still running when the stop began: a finished one's number may be
    # someone else's by now.
    while child.sent < _STATE.step and (child.sent >= 0 or child.proc.returncode is None):
        child.sent += 1
        _signal_child(child, _step_signal(child.sent), table, everyone=child.sent >= 1)


def _spawn(argv: Sequence[str], *, label: Optional[str] = None, **popen: Any) -> subprocess.Popen:
    """Popen in a new session and process group, registered until ``_forget``."""
    state = _STATE
    if state.signum is not None:  # stopping: nothing new starts (e.g. in a worker thread)
        raise Stopped(state.signum)
    main = threading.current_thread() is threading.main_thread()
    if main:
        state.spawning = True
    try:
        proc = subprocess.Popen(list(argv), start_new_session=True, **popen)
        child = _Child(proc, label or _label(argv))
        with _LOCK:
            state.children = [c for c in state.children if c.proc.returncode is None]
            state.children.append(child)
    except BaseException:
        if state.signum is not None:  # the stop is what matters, not a missing program
            raise Stopped(state.signum) from None
        raise
    finally:
        if main:
            state.spawning = False
    if state.signum is not None:  # a stop began while it started
        child.orphan = True
        _catch_up(child, _table())
        raise Stopped(state.signum)
    return proc


def _forget(proc: subprocess.Popen) -> None:
    """Its owner is done with it (reaped): no longer ours to stop, unless a stop is under
    way and some of what it started still runs (stop_children waits for those)."""
    child = next((c for c in list(_STATE.children) if c.proc is proc), None)
    if child is None:
        return
    if _STATE.signum is None or child.sent < 0 or _gone(child, _table()):
        _retire(child)


def _retire(child: _Child) -> None:
    with _LOCK:
        if child not in _STATE.children:
            return
        _STATE.children.remove(child)
    if _STATE.signum is not None and child.sent >= 0:
        _STATE.stopped.append(child.label + (" (killed)" if child.sent >= 2 else ""))
    if child.orphan:
        for pipe in (child.proc.stdin, child.proc.stdout, child.proc.stderr):
            if pipe is not None:
                pipe.close()


def _label(argv: Sequence[str]) -> str:
    """``docker buildx build``, ``ninja``, ``go install``, ``python3 -m pytest``: the program
    and its subcommands."""
    words = [os.path.basename(str(argv[0]))]
    if len(argv) > 2 and argv[1] == "-m":  # python -m pytest
        return " ".join([*words, "-m", str(argv[2])])
    for arg in argv[1:3]:
        if not re.fullmatch(r"[a-z][a-z-]*", str(arg)):
            break
        words.append(str(arg))
    return " ".join(words)


def _gone(child: _Child, table: Optional[_Table]) -> bool:
    """Whether the child and everything it started have ended (reaping the child)."""
    if table is not None:
        _follow(child, table)  # first: what it started keeps its session when it ends
    if child.proc.poll() is None:
        return False
    if table is not None:
        return not child.tree  # (an orphan's zombie may wait a while for init: not counted)
    try:
        os.killpg(child.proc.pid, 0)
        return False  # its leader ended, others of its group still run (docker's plugin)
    except (ProcessLookupError, PermissionError):
        return True


def stop_children(
    grace: Optional[float] = None, drain: Optional[Callable[[float], None]] = None
) -> List[str]:
    """Stop every child still running, with all it started; return what this stop ended.

    Called on the way out of a stop (a :class:`Stopped` or a plain KeyboardInterrupt): the
    children got the polite signal when it arrived; SIGTERM follows ``grace`` seconds after
    it (INTERRUPT_GRACE), SIGKILL TERMINATE_GRACE seconds later, both to every process they
    started.  ``drain(seconds)``, when given, is called instead of sleeping between checks.
    """
    state = _STATE
    if state.signum is None:  # Python's own Ctrl-C handler, not ours: nothing was sent yet
        state.signum, state.since = signal.SIGINT, time.monotonic()
    grace = INTERRUPT_GRACE if grace is None else grace
    state.stopping = True
    try:
        while True:
            table = _table()
            running = [c for c in list(state.children) if c.sent >= 0 or c.proc.returncode is None]
            for child in running:
                if _gone(child, table):
                    _retire(child)
            if not any(c in state.children for c in running):
                break
            elapsed = time.monotonic() - state.since
            if elapsed > grace + TERMINATE_GRACE + 2.0:
                break  # SIGKILL could not end it (a process in the kernel's hands): go on
            _advance(0 if elapsed < grace else 1 if elapsed < grace + TERMINATE_GRACE else 2)
            try:
                if drain is not None:
                    drain(0.1)
                else:
                    time.sleep(0.1)
            except KeyboardInterrupt:  # Ctrl-C again, through Python's own handler
                _advance(min(state.step + 1, 2))
    finally:
        state.stopping = False
    return list(state.stopped)


# --- long-lived background processes (the e2e stack) -------------------------------------------

PipeArg = Union[int, IO[Any], None]


def spawn(
    argv: Sequence[str],
    *,
    name: Optional[str] = None,
    cwd: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    stdin: PipeArg = subprocess.DEVNULL,
    stdout: PipeArg = None,
    stderr: PipeArg = None,
) -> subprocess.Popen:
    """Start a background process (a service) in its own process group; ``name`` names it
    in the line that says what a stop ended.  Pipes are binary: the caller reads them.

    A stop signal stops it like any command here; :func:`stop_group` stops it before.  The
    calling process gets :func:`handle_signals` (a pytest running the e2e suite then tears
    its stack down on SIGTERM too).
    """
    handle_signals()
    try:
        return _spawn(argv, label=name, cwd=cwd, env=dict(env) if env is not None else None,
                      stdin=stdin, stdout=stdout, stderr=stderr)  # fmt: skip
    except FileNotFoundError:
        raise _not_found(argv) from None


def stop_group(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """Stop a :func:`spawn`\\ ed process with everything it started: its stdin closed,
    SIGTERM, SIGKILL after ``grace`` seconds; its pipes closed.  Safe on one that already
    ended.  During a stop, waits for it as :func:`stop_children` does, with the others."""
    if proc.stdin is not None and not proc.stdin.closed:
        try:
            proc.stdin.close()
        except OSError:
            pass
    child = next((c for c in list(_STATE.children) if c.proc is proc), None)
    try:
        if child is None:  # already stopped, or never ours: a finished one's number is not
            if proc.poll() is not None:
                return
            child = _Child(proc, "")
        if _STATE.signum is not None:
            stop_children()
            return
        for signum, step, wait in ((signal.SIGTERM, 1, grace), (signal.SIGKILL, 2, 2.0)):
            if _gone(child, _table()):
                break
            child.sent = max(child.sent, step)
            _signal_child(child, signum, _table(), everyone=True)
            deadline = time.monotonic() + wait
            while not _gone(child, _table()) and time.monotonic() < deadline:
                time.sleep(0.05)
    except KeyboardInterrupt:  # Ctrl-C while waiting: no more patience
        _kill(proc)
        raise
    finally:
        _forget(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL to a child and everything it started."""
    child = next((c for c in list(_STATE.children) if c.proc is proc), None)
    _signal_child(child or _Child(proc, ""), signal.SIGKILL, _table(), everyone=True)


class Services:
    """The background processes one block started: all stopped, newest first, when the block
    ends, however it ends (an error, Ctrl-C, a stop signal)."""

    def __init__(self) -> None:
        self._procs: List[subprocess.Popen] = []

    def start(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        proc = spawn(argv, **kwargs)
        self._procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, grace: float = 3.0) -> None:
        if proc in self._procs:
            self._procs.remove(proc)
        stop_group(proc, grace)

    @property
    def pids(self) -> List[int]:
        return [p.pid for p in self._procs]

    def __enter__(self) -> "Services":
        return self

    def __exit__(self, *exc: object) -> None:
        while self._procs:
            stop_group(self._procs.pop())
