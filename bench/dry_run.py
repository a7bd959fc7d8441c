#!/usr/bin/env python3
"""Wall time of `nox -s build -- --dry-run` against a bare Nox session, in README's set-up.

Both run with the `nox` of a virtualenv that holds nox and the docker SDK, as README's
`pipx install nox && pipx inject nox docker` leaves a new user (made once, from pip's
cache, in ~/.cache/cilium-envoy-toolkit/bench-nox-sdk; `--nox PATH` uses another): a dry
run must not pay for importing the SDK.  The
bare session lives in a throwaway noxfile with one empty venv-less session, so both
pay the same Nox start-up; the difference is what the toolkit adds (imports, git
and docker queries, planning).  Runs alternate to share noise.

Needs: git, pip able to install nox (network or pip's cache), and a docker CLI
(`--docker`; no engine needed).

    python bench/dry_run.py [--runs 15] [--docker /usr/bin/docker] [-- extra build args]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.files import cache_dir  # noqa: E402

BARE_NOXFILE = "import nox\n\n\n@nox.session(python=False)\ndef bare(session):\n    pass\n"
LIMIT = 1.5


def timed(argv: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"`{' '.join(argv)}` failed:\n{proc.stdout}{proc.stderr}")
    if "Requirement already satisfied" in proc.stdout + proc.stderr:
        sys.exit(f"`{' '.join(argv)}` ran pip: README's set-up must start no installer.")
    return elapsed


def readme_nox() -> Path:
    """`nox` of a venv holding nox and the docker SDK (README's set-up), made once."""
    folder = cache_dir() / "bench-nox-sdk"
    nox = folder / "bin" / "nox"
    if nox.exists():
        return nox
    shutil.rmtree(folder, ignore_errors=True)
    venv.create(folder, with_pip=True)
    proc = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", "nox>=2026.10.20", "docker>=7"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        sys.exit(
            "bench/dry_run.py needs pip to install nox and docker into a fresh venv (network or pip's "
            f"cache): {proc.stderr.strip()[-300:]}"
        )
    return nox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--docker", default=os.environ.get("DOCKER", "docker"))
    parser.add_argument("--nox", help="the nox to time (default: README's set-up, made once)")
    parser.add_argument("extra", nargs="*", help="extra build options, after --")
    args = parser.parse_args()
    if shutil.which(args.docker) is None:
        sys.exit(f"bench/dry_run.py needs a docker CLI (no engine): `{args.docker}` was not found.")
    if shutil.which("git") is None:
        sys.exit("bench/dry_run.py needs git on PATH.")
    nox = [args.nox or str(readme_nox())]
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    print(f"nox: {nox[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "noxfile.py").write_text(BARE_NOXFILE)
        bare_cmd = nox + ["-s", "bare"]
        build_cmd = nox + ["-s", "build", "--", "--dry-run", f"--docker={args.docker}", *args.extra]
        timed(bare_cmd, Path(tmp), env)  # warm caches once
        timed(build_cmd, ROOT, env)
        bare, build = [], []
        for _ in range(args.runs):
            bare.append(timed(bare_cmd, Path(tmp), env))
            build.append(timed(build_cmd, ROOT, env))
    b, d = statistics.median(bare), statistics.median(build)
    ratio = d / b
    print(f"bare nox session        median {b * 1000:7.1f} ms  (min {min(bare) * 1000:.1f})")
    print(f"nox -s build --dry-run  median {d * 1000:7.1f} ms  (min {min(build) * 1000:.1f})")
    print(f"ratio {ratio:.2f} (limit {LIMIT}); {args.runs} runs each, alternating")
    return 0 if ratio <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
