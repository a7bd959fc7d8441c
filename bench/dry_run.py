#!/usr/bin/env python3
"""Wall time of `nox -s build -- --dry-run` against a bare Nox session, in one run.

The bare session lives in a throwaway noxfile with one empty venv-less session, so
both measurements pay the same Nox start-up; the difference is what the toolkit
adds (imports, git and docker queries, planning).  Runs alternate to share noise.

    python bench/dry_run.py [--runs 15] [--docker /usr/bin/docker] [-- extra build args]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_NOXFILE = "import nox\n\n\n@nox.session(python=False)\ndef bare(session):\n    pass\n"
LIMIT = 1.5


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"`{' '.join(argv)}` failed:\n{proc.stdout}{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--docker", default=os.environ.get("DOCKER", "docker"))
    parser.add_argument("extra", nargs="*", help="extra build options, after --")
    args = parser.parse_args()
    nox = [sys.executable, "-m", "nox"]
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "noxfile.py").write_text(BARE_NOXFILE)
        bare_cmd = nox + ["-s", "bare"]
        build_cmd = nox + ["-s", "build", "--", "--dry-run", f"--docker={args.docker}", *args.extra]
        timed(bare_cmd, Path(tmp))  # warm caches once
        timed(build_cmd, ROOT)
        bare, build = [], []
        for _ in range(args.runs):
            bare.append(timed(bare_cmd, Path(tmp)))
            build.append(timed(build_cmd, ROOT))
    b, d = statistics.median(bare), statistics.median(build)
    ratio = d / b
    print(f"bare nox session        median {b * 1000:7.1f} ms  (min {min(bare) * 1000:.1f})")
    print(f"nox -s build --dry-run  median {d * 1000:7.1f} ms  (min {min(build) * 1000:.1f})")
    print(f"ratio {ratio:.2f} (limit {LIMIT}); {args.runs} runs each, alternating")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
