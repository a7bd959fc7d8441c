"""Builds whose output stays out of the way: kept in a log file, its end shown when a step
fails, and on a terminal one line saying how far the compiling is (gone once it is done).
`nox -s policy` builds its tool this way, locally and in Docker."""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import re
import time
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, TextIO

from tools.run import watch

#: How much of a failed step's output is shown.
TAIL_LINES = 40
_NINJA_STATUS = re.compile(r"^\[(\d+)/(\d+)\]")
TOOL_BINARY = "cilium-policy"


class Progress:
    """Build output into a log file, shown only when a step fails; on a terminal one line
    that says how far the build is (and nothing once it is done)."""

    def __init__(self, log: Path, err: TextIO, first: bool) -> None:
        self.log = log
        self.err = err
        self.first = first
        self.live = err.isatty()
        self.shown = False
        self.started = time.monotonic()

    def runner(self, argv: Sequence[str], cwd: Optional[Path] = None, env=None, **_) -> int:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        kept: List[str] = []
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(argv)}\n")

            def line(text: str) -> None:
                log.write(text)
                kept.append(text)
                del kept[:-TAIL_LINES]
                found = _NINJA_STATUS.match(text)
                if found and self.live and int(found.group(1)) > 0:
                    done, total = int(found.group(1)), int(found.group(2))
                    self.err.write(
                        f"\r\033[K{TOOL_BINARY}: compiling {done}/{total} "
                        f"({100 * done // max(total, 1)}%)"
                    )
                    self.err.flush()
                    self.shown = True

            status = watch(argv, on_line=line, cwd=cwd, env=env, label=os.path.basename(argv[0]))
        self.clear()
        if status != 0:
            print(
                "".join(kept).rstrip("\n")
                + f"\n(the end of its output; all of it is in {self.log})",
                file=self.err,
                flush=True,
            )
        return status

    def clear(self) -> None:
        if self.shown:
            self.err.write("\r\033[K")
            self.err.flush()
            self.shown = False

    def finish(self) -> None:
        """After the build: on the first one, say that it is done and took how long."""
        if self.first:
            took = time.monotonic() - self.started
            print(f"{TOOL_BINARY} is built ({took / 60:.0f} min {took % 60:.0f} s); "
                  "later calls reuse it.", file=self.err, flush=True)  # fmt: skip


@contextlib.contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """One build of `folder` at a time: two sessions at once (two terminals, pytest-xdist)
    would otherwise run the tool while the other relinks it ("Text file busy")."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Silent(io.StringIO):
    """A text stream that drops what the plan runner says about each step."""

    def write(self, text: str) -> int:
        return len(text)
