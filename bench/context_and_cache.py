#!/usr/bin/env python3
"""Release build (`nox -s build`): context size, no-change rebuild time, what edits re-run.

Runs against a throwaway copy of this checkout's build files with the engine tests'
local base images (tools/tests/engine_images.py: a Bazel stand-in replaces the Envoy
build, so the numbers measure the Dockerfile, the context and BuildKit's cache, not
Envoy's compile).  For the release build it reports:

- the build context the Dockerfile reads (files its COPY instructions name, which is
  all BuildKit transfers to a cold engine) and what BuildKit reported transferring on
  the first build of this run (less when the engine already holds some of the files),
- the wall time of a rebuild with nothing changed (median of --runs),
- for each kind of edit, which build steps ran again (not CACHED) and, when the Bazel step
  did, how many entries its disk cache already held (the persistent cache mount at work).

    python bench/context_and_cache.py [--runs 5] [--docker /usr/bin/docker]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.tests import engine_images  # noqa: E402

EDITS = {
    "README.md": "README.md",
    "go/": "go/cilium/bench-touched.go",
    "noxfile.py": "noxfile.py",
    "Python tests": "tools/tests/test_bazel.py",
    "compat table": "envoy/cilium-compat.tsv",
    "cilium-filters/": "cilium-filters/BUILD",
    "envoy/": "envoy/bazelrc",
}
TAG = "cilium-envoy-bench:context-and-cache"
SIZE_UNITS = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}


def run_build(root: Path, images: engine_images.BaseImages, docker: str, cache: Path) -> str:
    """One `nox -s build` (the session's own code, in a child process); its whole output."""
    code = (
        "import sys; from pathlib import Path; from tools import build; "
        "build.main(sys.argv[3:], 'build', root=Path(sys.argv[1]), "
        "environ={'XDG_CACHE_HOME': sys.argv[2]})"
    )
    argv = [
        sys.executable, "-c", code, str(root), str(cache),
        "--docker", docker, "--builder-base", images.builder, "--no-archive",
        "--docker-build-opts", f"--build-arg RUNTIME_BASE={images.rootfs} --progress=plain",
        "--tag", TAG,
    ]  # fmt: skip
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"the build failed:\n{proc.stdout[-4000:]}{proc.stderr[-4000:]}")
    return proc.stdout + proc.stderr


def context_bytes(output: str) -> float:
    sizes = re.findall(r"transferring context: ([\d.]+)([kMG]?B)", output)
    return sum(float(n) * SIZE_UNITS[u] for n, u in sizes[-1:])


def dockerfile_context(root: Path, dockerfile: str = "Dockerfile") -> tuple[int, int]:
    """(files, bytes) the Dockerfile's COPY instructions take from the build context."""
    text = (root / dockerfile).read_text().replace("\\\n", " ")
    files: set[Path] = set()
    for line in re.findall(r"^COPY (.*)$", text, re.M):
        if "--from=" in line:
            continue
        for source in [w for w in line.split() if not w.startswith("--")][:-1]:
            for match in root.glob(source.rstrip("/")):
                found = match.rglob("*") if match.is_dir() else [match]
                files |= {p for p in found if p.is_file() and "__pycache__" not in p.parts}
    return len(files), sum(p.stat().st_size for p in files)


def rerun_steps(output: str) -> list[tuple[str, str]]:
    """(stage and step, instruction) of every RUN or COPY step BuildKit did not take from cache."""
    steps = {
        number: (label, instruction)
        for number, label, instruction in re.findall(
            r"^#(\d+) \[([^\]]+)\] ((?:RUN|COPY) .*)$", output, re.M
        )
    }
    cached = set(re.findall(r"^#(\d+) CACHED$", output, re.M))
    return [steps[n] for n in sorted(steps, key=int) if n not in cached]


def disk_cache_found(output: str) -> str:
    """What the Bazel stand-in found in its --disk_cache ("12 entries": the persistent cache
    mount kept the earlier builds' work; "empty": the build starts from nothing)."""
    found = re.findall(r"bazel stand-in: build .* disk_cache=\S* \(([^)]*)\)", output)
    return found[-1] if found else "not reported"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--docker", default=engine_images.DISTRO_DOCKER)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return measure(Path(tmp), args)
        finally:
            subprocess.run([args.docker, "rmi", "-f", TAG], capture_output=True, check=False)


def copy_checkout(dest: Path) -> Path:
    """This checkout's files (tracked and untracked, not ignored) as a fresh git checkout."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.email=bench@example.invalid", "-c", "user.name=bench",
                  "commit", "-q", "-m", "bench"]):  # fmt: skip
        subprocess.run(["git", "-C", str(dest), *args], capture_output=True, check=True)
    return dest


def measure(tmp: Path, args: argparse.Namespace) -> int:
    images = engine_images.build_base_images(tmp)
    root = copy_checkout(tmp / "repo")
    cache = tmp / "cache"
    first = run_build(root, images, args.docker, cache)
    count, size = dockerfile_context(root)
    print(
        f"context read by Dockerfile: {count} files, {size:,} bytes; BuildKit reported "
        f"transferring {context_bytes(first):,.0f} bytes on the first build of this run"
    )
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        run_build(root, images, args.docker, cache)
        times.append(time.perf_counter() - start)
    print(
        f"no-change rebuild: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f} s, {args.runs} runs; the whole session, nox start-up excluded)"
    )
    for kind, path in EDITS.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a") as handle:
            # A token of this run: BuildKit's cache is content-addressed, so an edit that
            # an earlier run made too would be found in it and measure nothing.
            token = uuid.uuid4().hex
            handle.write(
                f"package cilium // {token}\n" if path.endswith(".go") else f"\n# {token}\n"
            )
        output = run_build(root, images, args.docker, cache)
        ran = rerun_steps(output)
        bazel = any("tools.bazel prepare-cache build" in step for _, step in ran)
        print(f"edit {kind:<16} re-ran: {', '.join(label for label, _ in ran) or 'nothing'}")
        print(f"{'':21} Bazel build step re-ran: {'yes' if bazel else 'no'}")
        if bazel:
            print(f"{'':21} Bazel's disk cache when it started: {disk_cache_found(output)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
