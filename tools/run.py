"""The one subprocess runner, and carrying out a plan.

A :class:`Plan` is plain data: the files to write and the commands to run, each
with a one-line description.  ``--dry-run`` prints it, tests assert on it and
:func:`execute` carries it out.  Every command is an argv list; nothing here
uses a shell.

Stopping: every process started here runs in a process group of its own, registered in
tools.processes, which stops them all when a stop signal arrives (see its docstring).
"""

from __future__ import annotations

import os
import re
import select
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools.errors import ToolkitError
from tools.files import write_atomic
from tools.processes import (  # noqa: F401 (the runner's stop API, re-exported)
    INTERRUPT_GRACE,
    STOP_SIGNALS,
    TERMINATE_GRACE,
    Services,
    Stopped,
    _forget,
    _kill,
    _not_found,
    _spawn,
    handle_signals,
    spawn,
    stop_children,
    stop_group,
)


def quote(argv: Sequence[str]) -> str:
    """The command as a line a person can paste into a POSIX shell."""
    return shlex.join(str(a) for a in argv)


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


# user info in a URL (`scheme://user:secret@`), or a bare `user:secret@` before a host
_CREDENTIALS = re.compile(
    r"(?a)\b([a-z][a-z0-9+.-]*://)[^/\s@'\"`]+@|(?<![\w.:/@-])[^\s/@'\"`:=]+:[^\s/@'\"`]+@(?=[\w\[])"
)


# the value of a header Bazel sends to a remote cache or executor (an API key, a token)
_HEADER = re.compile(r"(?a)(--remote(?:_[a-z]+)?_header=[^=\s'\"]+=)[^\s'\"]+")


def redact(text: str) -> str:
    """``scheme://user:secret@host`` -> ``scheme://***@host``, ``user:secret@host`` ->
    ``***@host`` and ``--remote_header=NAME=secret`` -> ``--remote_header=NAME=***``:
    credentials are never printed."""
    text = _CREDENTIALS.sub(lambda m: f"{m[1] or ''}***@", text)
    return _HEADER.sub(lambda m: f"{m[1]}***", text)


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
        cwd = root / step.cwd if step.cwd else root  # relative: to the checkout
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
