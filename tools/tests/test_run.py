"""The runner and plan execution, with real child processes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tools.errors import ToolkitError
from tools.files import write_atomic
from tools.run import FileWrite, Plan, Step, execute, query, redact, stream
from tools.tests.toolkit_fixtures import process_running

PY = sys.executable


def test_query_captures_and_never_raises_on_status():
    proc = query([PY, "-c", "import sys; print('out'); sys.stderr.write('err'); sys.exit(3)"])
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err")


def test_missing_program_is_one_sentence():
    with pytest.raises(ToolkitError, match="`/no/such/tool` was not found"):
        query(["/no/such/tool"])
    with pytest.raises(ToolkitError) as err:
        stream(["/no/such/tool"])
    assert err.value.status == 127


def test_stream_returns_exit_status():
    assert stream([PY, "-c", "raise SystemExit(7)"]) == 7


@pytest.fixture
def ctrl_c_raises(monkeypatch):
    """Python's own SIGINT handler, as in a terminal: a process started in the background by
    a shell without job control (some CI runners) inherits SIGINT ignored, and Python then
    never turns it into KeyboardInterrupt.  The runner's stop state is this test's own."""
    import tools.processes

    monkeypatch.setattr(tools.processes, "_STATE", tools.processes._State())
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_reaches_the_child_which_stops_cleanly(tmp_path):
    marker = tmp_path / "stopped"
    ready = tmp_path / "ready"
    child = (
        "import signal, sys, time, pathlib\n"
        f"def stop(*_): pathlib.Path({str(marker)!r}).write_text('clean'); sys.exit(0)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        f"pathlib.Path({str(ready)!r}).write_text('')\n"
        "time.sleep(30)\n"
    )

    def interrupt():
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        stream([PY, "-c", child], grace=5)
    assert marker.read_text() == "clean"
    assert time.monotonic() - started < 10


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_terminates_a_child_that_ignores_it(tmp_path):
    ready = tmp_path / "ready"
    child = (
        "import signal, time, pathlib\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        f"pathlib.Path({str(ready)!r}).write_text('')\n"
        "time.sleep(30)\n"
    )

    def interrupt():
        while not ready.exists():
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        stream([PY, "-c", child], grace=0.5)
    assert time.monotonic() - started < 8


def test_execute_writes_files_then_runs_steps_and_stops_at_failure(tmp_path):
    log = tmp_path / "log"
    plan = Plan(
        title="t",
        root=str(tmp_path),
        files=(FileWrite("gen/a.txt", "A\n"),),
        steps=(
            Step("first", (PY, "-c", f"open({str(log)!r}, 'a').write(open('gen/a.txt').read())")),
            Step("second", (PY, "-c", "raise SystemExit(4)"), env=(("X", "1"),)),
            Step("third", (PY, "-c", f"open({str(log)!r}, 'a').write('third')")),
        ),
    )
    out = io.StringIO()
    with pytest.raises(ToolkitError) as err:
        execute(plan, out=out)
    assert err.value.status == 4 and "second failed (exit status 4)" in err.value.message
    assert log.read_text() == "A\n"
    assert "X=1 " in out.getvalue()


def test_dry_run_prints_and_changes_nothing(tmp_path):
    plan = Plan(
        "t", str(tmp_path), files=(FileWrite("a", "x"),), steps=(Step("s", ("rm", "-rf", "/x y")),)
    )
    out = io.StringIO()
    execute(plan, dry_run=True, out=out)
    assert out.getvalue().splitlines() == [
        "# plan: t (a shell script; run it at the top of the checkout)",
        "# a (write)",
        "printf %s x > a",
        "# s",
        "rm -rf '/x y'",
    ]
    assert list(tmp_path.iterdir()) == []


def test_printed_plan_is_a_shell_script_that_does_what_execute_does(tmp_path):
    """Files (any content), folders, environment, guards: the script and execute() agree."""
    content = "line 'one'\n$HOME `two` \\ three\n"
    steps = (
        Step("skipped", ("sh", "-c", "echo no > skipped"), unless=("true",)),
        Step("runs", ("sh", "-c", 'echo "$X" > out/env'), env=(("X", "a b"),)),
    )
    plan = Plan("t", "", files=(FileWrite("f.txt", content), FileWrite("v", "abc\n")),
                dirs=("out",), steps=steps)  # fmt: skip
    by_script, by_execute = tmp_path / "script", tmp_path / "execute"
    for folder in (by_script, by_execute):
        folder.mkdir()
    out = io.StringIO()
    execute(Plan(**{**plan.__dict__, "root": str(by_script)}), dry_run=True, out=out)
    subprocess.run(["sh", "-c", out.getvalue()], cwd=by_script, check=True)
    execute(Plan(**{**plan.__dict__, "root": str(by_execute)}), out=io.StringIO())
    listing = lambda root: sorted(  # noqa: E731
        (str(p.relative_to(root)), p.read_bytes() if p.is_file() else b"") for p in root.rglob("*")
    )
    assert listing(by_script) == listing(by_execute)
    assert (by_script / "f.txt").read_text() == content and not (by_script / "skipped").exists()


def test_credentials_in_urls_are_never_printed():
    step = Step("s", ("docker", "build", "--build-arg", "B=--remote_cache=https://me:s3cret@c:9"))
    assert "s3cret" not in step.line() and "https://***@c:9" in step.line()
    # without a scheme too; an address without user info is left as it is
    assert redact("--remote_cache=me:s3cret@c:9 and git@github.com:x") == (
        "--remote_cache=***@c:9 and git@github.com:x"
    )


def test_write_atomic_keeps_unchanged_files(tmp_path: Path):
    target = tmp_path / "f"
    assert write_atomic(target, "one") is True
    stamp = target.stat().st_mtime_ns
    time.sleep(0.01)
    assert write_atomic(target, "one") is False
    assert target.stat().st_mtime_ns == stamp
    assert write_atomic(target, b"two") is True and target.read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_stream_keeps_the_error_output_it_passes_on(capfd):
    child = "import sys; sys.stderr.write('x' * 100000 + 'the end\\n'); sys.stdout.write('out\\n')"
    tail: list[str] = []
    assert stream([PY, "-c", child], tail=tail) == 0
    captured = capfd.readouterr()
    assert captured.err == "x" * 100000 + "the end\n"  # passed on whole
    assert captured.out == "out\n"  # stdout is not touched
    assert len(tail) == 1 and tail[0].endswith("the end\n")
    assert len(tail[0]) <= 64 * 1024  # only the end is kept


def test_stream_gives_a_terminal_to_a_child_when_ours_is_one(tmp_path, monkeypatch):
    """On a terminal the child must still see one (docker's live progress needs it)."""
    import tools.run

    class Terminal:
        def __init__(self, fd: int) -> None:
            self.fd = fd

        def isatty(self) -> bool:
            return True

        def fileno(self) -> int:
            return self.fd

    out = os.open(tmp_path / "terminal", os.O_WRONLY | os.O_CREAT)
    try:
        monkeypatch.setattr(tools.run.sys, "stderr", Terminal(out))
        child = "import os, sys; sys.stderr.write(f'tty={os.isatty(2)}\\n'); sys.exit(3)"
        tail: list[str] = []
        assert stream([PY, "-c", child], tail=tail) == 3
    finally:
        os.close(out)
    assert "tty=True" in tail[0]
    assert "tty=True" in (tmp_path / "terminal").read_text()


def test_a_step_can_explain_its_failure_from_its_output(tmp_path, capfd):
    said: list[tuple[int, str]] = []

    def explain(status: int, output: str):
        said.append((status, output))
        return "The image could not be pulled." if "denied" in output else None

    def failing(message: str) -> Step:
        code = f"import sys; sys.stderr.write({message!r}); sys.exit(2)"
        return Step("build", (PY, "-c", code), explain=explain)

    plan = Plan(title="t", root=str(tmp_path), steps=(failing("pull access denied\n"),))
    with pytest.raises(ToolkitError) as err:
        execute(plan, out=io.StringIO())
    assert err.value.message == "The image could not be pulled." and err.value.status == 2
    assert said == [(2, "pull access denied\n")]
    assert "pull access denied" in capfd.readouterr().err  # still shown as it happened
    plan = Plan(title="t", root=str(tmp_path), steps=(failing("compile error\n"),))
    with pytest.raises(ToolkitError) as err:
        execute(plan, out=io.StringIO())
    assert err.value.message == "build failed (exit status 2); see the output above."


def test_services_stop_their_whole_process_group(tmp_path):
    """A service and the child it started (same group) are both gone when the block ends;
    one that ignores SIGTERM is killed after the grace period."""
    from tools.run import Services

    pids = tmp_path / "pids"
    parent = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    with Services() as services:
        proc = services.start([PY, "-c", parent])
        while not pids.exists() or not pids.read_text():
            time.sleep(0.02)
        assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)  # a group of its own
        both = [int(p) for p in pids.read_text().split()]
        assert all(process_running(p) for p in both)
        services.stop(proc, grace=0.5)
        assert not any(process_running(p) for p in both)
        again = services.start([PY, "-c", "import time; time.sleep(60)"])
    assert not process_running(again.pid)
    assert time.monotonic() - started < 10


@pytest.mark.usefixtures("ctrl_c_raises")
def test_services_are_stopped_by_ctrl_c_in_the_block():
    from tools.run import Services

    with pytest.raises(KeyboardInterrupt):
        with Services() as services:
            proc = services.start([PY, "-c", "import time; time.sleep(60)"])
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
    assert proc.poll() is not None
