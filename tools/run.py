"""The one subprocess runner, and carrying out a plan.

A :class:`Plan` is plain data: the files to write and the commands to run, each
with a one-line description.  ``--dry-run`` prints it, tests assert on it and
:func:`execute` carries it out.  Every command is an argv list; nothing here
uses a shell.

Stopping.  Every process started here (:func:`stream`, :func:`query`, :func:`start`, and
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
import select
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple, Union

from tools.errors import ToolkitError
from tools.files import write_atomic

#: Seconds our commands get to stop after the signal passed on to them (docker cancelling
#: the build in BuildKit, ninja its compilers) before SIGTERM.
INTERRUPT_GRACE = 6.0
#: Seconds between SIGTERM and SIGKILL: a stopped session is gone within about 10 s.
TERMINATE_GRACE = 2.0
#: The signals that stop a session.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def quote(argv: Sequence[str]) -> str:
    """The command as a line a person can paste into a POSIX shell."""
    return shlex.join(str(a) for a in argv)


def _not_found(argv: Sequence[str], missing: Optional[str] = None) -> ToolkitError:
    return ToolkitError(
        missing or f"`{argv[0]}` was not found; install it or put it on PATH.", status=127
    )


def start(argv: Sequence[str], *, missing: Optional[str] = None) -> subprocess.Popen:
    """Start a read-only command in the background (text output captured).

    Several can run at once; read each with ``communicate()``.  ``missing`` is the
    sentence to show when the program does not exist.
    """
    try:
        return _spawn(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
    except (FileNotFoundError, PermissionError):
        raise _not_found(argv, missing) from None


def query(
    argv: Sequence[str],
    *,
    cwd: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    timeout: Optional[float] = 60,
    missing: Optional[str] = None,
) -> subprocess.CompletedProcess:
    """Run a read-only command and capture its text output (never raises on exit status)."""
    try:
        proc = _spawn(
            argv, cwd=cwd, env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    except FileNotFoundError:
        raise _not_found(argv, missing) from None
    except PermissionError:
        raise ToolkitError(f"`{argv[0]}` is not executable; fix its permissions or PATH.") from None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        proc.communicate()
        raise ToolkitError(f"`{quote(argv)}` did not answer within {timeout:g} s.") from None
    except KeyboardInterrupt:
        stop_children()
        raise
    finally:
        _forget(proc)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


#: How much of a command's error output ``stream(tail=...)`` keeps for diagnosis.
TAIL_BYTES = 64 * 1024


def stream(
    argv: Sequence[str],
    *,
    cwd: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    grace: float = INTERRUPT_GRACE,
    stdout: Optional[TextIO] = None,
    tail: Optional[List[str]] = None,
    label: Optional[str] = None,
) -> int:
    """Run a command with its output going straight to ours; return its exit status.

    ``stdout`` sends the command's standard output elsewhere (e.g. to stderr when ours
    is a protocol).  With ``tail``, the command's error output is also kept (its last
    TAIL_BYTES, appended to ``tail`` as one string) while it is passed on unchanged; on a
    terminal the command still sees one (a pseudo-terminal), so docker keeps its live
    progress display.  A stop signal (or Ctrl-C) stops it and everything it started (see
    the module's docstring; ``grace`` seconds before SIGTERM), then the KeyboardInterrupt
    goes on.  ``label`` names it in the line that says what was stopped.
    """
    master = slave = None
    stderr = None
    if tail is not None:
        if sys.stderr.isatty() and hasattr(os, "openpty"):
            master, slave = os.openpty()
            _copy_window_size(sys.stderr.fileno(), slave)
        else:
            master, slave = os.pipe()
        stderr = slave
    kept = bytearray()
    try:
        try:
            proc = _spawn(
                argv, label=label, cwd=cwd, env=dict(env) if env is not None else None,
                stdout=stdout, stderr=stderr,
            )  # fmt: skip
        except FileNotFoundError:
            raise _not_found(argv) from None
        finally:
            if slave is not None:
                os.close(slave)
        try:
            if master is not None and tail is not None:
                while _copy(master, kept):
                    pass
                tail.append(bytes(kept[-TAIL_BYTES:]).decode("utf-8", errors="replace"))
            return proc.wait()
        except KeyboardInterrupt:
            # What it prints while it stops (docker: CANCELED) still reaches the user, and
            # it never blocks on a full pipe.
            drain = None if master is None else lambda wait: _drain(master, kept, wait)
            stop_children(grace, drain)
            raise
        finally:
            _forget(proc)
    finally:
        if master is not None:
            os.close(master)


def _copy_window_size(source: int, target: int) -> None:
    """Give a pseudo-terminal our terminal's size, so progress displays fit (best effort)."""
    try:
        import fcntl
        import termios

        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)
    except (ImportError, OSError):
        pass


def _copy(fd: int, kept: bytearray) -> bool:
    """Copy one read of ``fd`` to our stderr, keeping its end in ``kept``; False at its end."""
    try:
        chunk = os.read(fd, 65536)
    except OSError:  # a pseudo-terminal whose last writer closed reads as EIO
        return False
    if not chunk:
        return False
    view = memoryview(chunk)
    out = sys.stderr.fileno()
    while view:
        view = view[os.write(out, view) :]
    kept += chunk
    if len(kept) > 2 * TAIL_BYTES:
        del kept[:-TAIL_BYTES]
    return True


def _drain(fd: int, kept: bytearray, wait: float) -> None:
    """Copy what ``fd`` has within ``wait`` seconds (while its writer is being stopped)."""
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([fd], [], [], left)
        if ready and not _copy(fd, kept):
            time.sleep(max(0.0, deadline - time.monotonic()))  # its end: nothing to copy
            return


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


# user info in a URL (`scheme://user:secret@`), or a bare `user:secret@` before a host
_CREDENTIALS = re.compile(
    r"(?a)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"`]+@|(?<![\w.:/@-])[^\s/@'\"`:=]+:[^\s/@'\"`]+@(?=[\w\[])"
)


def redact(text: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://***@host`` and ``user:secret@host`` ->
    ``***@host``: credentials are never printed."""
    return _CREDENTIALS.sub(lambda m: f"{m[1] or ''}***@", text)


@dataclass(frozen=True)
class Step:
    """One state-changing command of a plan."""

    description: str
    argv: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...] = ()  # variables set on top of the caller's environment
    cwd: Optional[str] = None
    #: A read-only command; when it succeeds the step is skipped (e.g. "the builder exists").
    unless: Optional[Tuple[str, ...]] = None
    #: Says why the step failed, from its exit status and the end of its error output, or
    #: None to fall back on "see the output above".  Setting it makes execute keep that output.
    explain: Optional[Callable[[int, str], Optional[str]]] = field(
        default=None, compare=False, repr=False
    )

    def line(self) -> str:
        """The step as one line of a POSIX shell script (credentials in URLs shown as ***)."""
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        cmd = quote(self.argv)
        if self.cwd:
            cmd = f"(cd {shlex.quote(self.cwd)} && {cmd})"
        if prefix:
            cmd = f"{prefix} {cmd}"
        if self.unless:
            cmd = f"{quote(self.unless)} >/dev/null 2>&1 || {cmd}"
        return redact(cmd)

    def announce(self, out: TextIO) -> None:
        """Say what is about to run: the description, then the command line."""
        print(f"==> {self.description}\n    {self.line()}", file=out, flush=True)


@dataclass(frozen=True)
class FileWrite:
    """A generated file: written atomically, left alone when unchanged."""

    path: str
    content: str
    #: The shell line that writes it in a pasted plan (default: printf of the content).
    writer: Optional[str] = None

    def pending(self, root: Path) -> bool:
        # Compared as bytes, exactly as write_atomic decides whether to write.
        try:
            return (root / self.path).read_bytes() != self.content.encode()
        except FileNotFoundError:
            return True

    def shell_line(self) -> str:
        if self.writer:
            return self.writer
        body = self.content
        if body.endswith("\n") and "\n" not in body[:-1]:
            return f"printf '%s\\n' {shlex.quote(body[:-1])} > {shlex.quote(self.path)}"
        return f"printf %s {shlex.quote(body)} > {shlex.quote(self.path)}"


@dataclass(frozen=True)
class Plan:
    """Everything a session will change, computed before anything is changed."""

    title: str
    root: str
    files: Tuple[FileWrite, ...] = ()
    steps: Tuple[Step, ...] = ()
    notes: Tuple[str, ...] = ()  # facts worth showing: chosen builder, tags, options
    extra: Mapping[str, object] = field(default_factory=dict)
    dirs: Tuple[str, ...] = ()  # folders the commands write into (relative to root)
    #: What this machine lacks to run the plan (a sentence naming the fix), or None.
    cannot_run: Optional[str] = None

    def render(self) -> str:
        """The plan as a POSIX shell script: pasted at the top of a fresh clone, it writes the
        same files and runs the same commands."""
        root = Path(self.root)
        lines = [f"# plan: {self.title} (a shell script; run it at the top of the checkout)"]
        lines += [f"# {redact(note)}" for note in self.notes]
        if self.cannot_run:
            lines.append(f"# cannot run here: {redact(self.cannot_run)}")
        done: list[str] = []
        for f in self.files:
            command = f.shell_line()
            if command in done:
                continue
            done.append(command)
            names = [g for g in self.files if g.shell_line() == command]
            state = ", ".join(
                f"{g.path} ({'write' if g.pending(root) else 'unchanged'})" for g in names
            )
            lines.append(f"# {state}")
            lines.append(command)
        if self.dirs:
            lines.append("mkdir -p " + " ".join(shlex.quote(d) for d in self.dirs))
        for step in self.steps:
            lines.append(f"# {step.description}")
            lines.append(step.line())
        return "\n".join(lines)


def execute(
    plan: Plan,
    *,
    dry_run: bool = False,
    out: TextIO = sys.stdout,
    runner: Callable[..., int] = stream,
) -> float:
    """Print (dry run) or carry out a plan; return the seconds it took.

    Fails with :class:`ToolkitError` carrying the failing command's exit status.
    """
    if dry_run:
        print(plan.render(), file=out, flush=True)
        return 0.0
    if plan.cannot_run:
        raise ToolkitError(plan.cannot_run)
    started = time.monotonic()
    root = Path(plan.root)
    for f in plan.files:
        if write_atomic(root / f.path, f.content):
            print(f"wrote {f.path}", file=out, flush=True)
    for folder in plan.dirs:
        (root / folder).mkdir(parents=True, exist_ok=True)
    for step in plan.steps:
        if step.unless and query(step.unless, cwd=root).returncode == 0:
            continue
        step.announce(out)
        env = None
        if step.env:
            env = dict(os.environ)
            env.update(step.env)
        cwd = Path(step.cwd) if step.cwd else root
        if step.explain is None:
            status = runner(step.argv, cwd=cwd, env=env)
        else:
            tail: List[str] = []
            status = runner(step.argv, cwd=cwd, env=env, tail=tail)
        if status != 0:
            why = step.explain(status, "".join(tail)) if step.explain else None
            raise ToolkitError(
                why or f"{step.description} failed (exit status {status}); see the output above.",
                status=status,
            )
    return time.monotonic() - started
