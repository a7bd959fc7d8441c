"""The one subprocess runner, and carrying out a plan.

A :class:`Plan` is plain data: the files to write and the commands to run, each
with a one-line description.  ``--dry-run`` prints it, tests assert on it and
:func:`execute` carries it out.  Every command is an argv list; nothing here
uses a shell.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, List, Mapping, Optional, Sequence, TextIO, Tuple, Union

from tools.errors import ToolkitError
from tools.files import write_atomic

#: Seconds docker or bazel get to stop after Ctrl-C before they are terminated.
INTERRUPT_GRACE = 10.0


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
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
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
        return subprocess.run(
            list(argv),
            check=False,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise _not_found(argv, missing) from None
    except PermissionError:
        raise ToolkitError(f"`{argv[0]}` is not executable; fix its permissions or PATH.") from None
    except subprocess.TimeoutExpired:
        raise ToolkitError(f"`{quote(argv)}` did not answer within {timeout:g} s.") from None


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
) -> int:
    """Run a command with its output going straight to ours; return its exit status.

    ``stdout`` sends the command's standard output elsewhere (e.g. to stderr when ours
    is a protocol).  With ``tail``, the command's error output is also kept (its last
    TAIL_BYTES, appended to ``tail`` as one string) while it is passed on unchanged; on a
    terminal the command still sees one (a pseudo-terminal), so docker keeps its live
    progress display.  Ctrl-C is passed on as SIGINT so docker and bazel can stop cleanly;
    only if the child is still running ``grace`` seconds later is it terminated, then
    killed.
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
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=stdout,
            stderr=stderr,
        )
    except FileNotFoundError:
        raise _not_found(argv) from None
    finally:
        if slave is not None:
            os.close(slave)
    try:
        if master is not None and tail is not None:
            tail.append(_tee(master))
        return proc.wait()
    except KeyboardInterrupt:
        _stop(proc, grace)
        raise ToolkitError(f"Interrupted; `{argv[0]}` was stopped.", status=130) from None
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


def _tee(fd: int) -> str:
    """Copy everything from ``fd`` to our stderr until it closes; return the last part."""
    kept = bytearray()
    out = sys.stderr.fileno()
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # a pseudo-terminal whose last writer closed reads as EIO
            break
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            view = view[os.write(out, view) :]
        kept += chunk
        if len(kept) > 2 * TAIL_BYTES:
            del kept[:-TAIL_BYTES]
    return bytes(kept[-TAIL_BYTES:]).decode("utf-8", errors="replace")


def _stop(proc: subprocess.Popen, grace: float) -> None:
    # A Ctrl-C in a terminal reaches the child too (same process group): give it a
    # moment to stop by itself before passing SIGINT on, so it is not interrupted twice.
    for sig, wait in ((None, min(1.0, grace)), (signal.SIGINT, grace), (signal.SIGTERM, 3.0)):
        if proc.poll() is not None:
            return
        try:
            if sig is not None:
                proc.send_signal(sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                proc.wait(timeout=0.1)
                return
            except subprocess.TimeoutExpired:
                continue
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting politely
                break
    if proc.poll() is None:
        proc.kill()
        proc.wait()


# --- long-running services (the e2e harness's Envoy, agent and upstream) -----------------


def spawn(
    argv: Sequence[str],
    *,
    cwd: Optional[Path] = None,
    env: Optional[Mapping[str, str]] = None,
    stdin: Union[int, IO[Any], None] = subprocess.DEVNULL,
    stdout: Union[int, IO[Any], None] = None,
    stderr: Union[int, IO[Any], None] = None,
) -> subprocess.Popen:
    """Start a service in its own process group (a new session).

    A terminal's Ctrl-C then reaches only us, and :func:`stop_group` stops the service with
    everything it started.  Binary pipes: the caller decides how to read them.
    """
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise _not_found(argv) from None


def stop_group(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM to the process group of a service from :func:`spawn`; SIGKILL after `grace`.

    Safe to call twice and on a service that already ended (its group may still hold
    children).  A Ctrl-C while waiting skips straight to SIGKILL.
    """
    for stream in (proc.stdin,):
        if stream is not None and not stream.closed:
            try:
                stream.close()
            except OSError:
                pass
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break  # the group is gone
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:
                # The leader ended; anything left in its group gets the same fate.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            break
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:
            continue
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None and not stream.closed:
            stream.close()


class Services:
    """The services one run started: all stopped, newest first, when the block ends.

    However the block ends (an error, Ctrl-C, SIGTERM turned into SystemExit), nothing it
    started is left running.
    """

    def __init__(self) -> None:
        self._procs: List[subprocess.Popen] = []

    def start(self, argv: Sequence[str], **kwargs) -> subprocess.Popen:
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
