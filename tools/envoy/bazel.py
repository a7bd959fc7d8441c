"""The steps the build containers run: ``python3 -m tools.envoy.bazel STEP [STEP ...]``.

Standard library only, Python 3.8+: the same code runs in Dockerfile, Dockerfile.tests
and on a developer's Linux host (run it from the top of the checkout).  What a step is told
comes from the environment (the Dockerfiles' build args), read by ``tools.envoy.bazel_config``.

Each step prints one line saying what it decided, prefixed with its name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

# Run as `python3 -m tools.envoy.bazel` from the top of the checkout.
from tools import elf
from tools.envoy.bazel_config import (  # noqa: F401 (tests and callers read these here)
    BINARY,
    MACHINE_ARCH,
    MODULE_BUILT,
    MODULE_INSTALLED,
    MODULE_TARGETS,
    PLATFORMS,
    TARGET,
    TEST_TARGETS,
    Config,
    StepError,
    build_argv,
    envoy_version,
    fetch_argv,
    source_version,
    test_argv,
    tree_stamp,
)
from tools.envoy.cache import (
    STAMP,
    dependency_hashes,
    empty,
    entries,
    read_stamp,
    rmtree,
    staleness,
)

# --- steps ---------------------------------------------------------------------------


def _say(step: str, text: str) -> None:
    print(f"tools.bazel {step}: {text}", flush=True)


def _run(argv: Sequence[str], cwd: Path, what: str) -> int:
    print("+ " + " ".join(shlex.quote(a) for a in argv), flush=True)
    try:
        return subprocess.run(list(argv), cwd=cwd, check=False).returncode
    except FileNotFoundError:
        raise StepError(f"`{argv[0]}` was not found; {what} needs Bazel on PATH.", 127) from None


def step_deps(cfg: Config) -> None:
    hashes = dependency_hashes(cfg.root)
    digest = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()[:16]
    _say("deps", f"{len(hashes)} dependency files, combined sha256 {digest}")
    for name, value in hashes.items():
        print(f"  {value}  {name}")


def step_fetch(cfg: Config) -> None:
    """Dependencies from scratch: fill the repository cache and stamp the cache."""
    for sub in ("disk", "repo"):
        (cfg.cache / sub).mkdir(parents=True, exist_ok=True)
    argv = fetch_argv(cfg)
    _say("fetch", f"dependencies of {envoy_version(cfg.root)} into {cfg.cache / 'repo'}")
    status = _run(argv, cfg.root, "fetch")
    if status != 0:
        raise StepError(f"bazel fetch failed (exit status {status}); see its output above.", status)
    _write_stamp(cfg.cache, cfg.root)


def _write_stamp(cache: Path, root: Path) -> None:
    (cache / STAMP).write_text(json.dumps(tree_stamp(root), indent=1, sort_keys=True) + "\n")


def _seed(cfg: Config) -> str:
    """The Bazel cache (a persistent cache mount) from the archive, unless it still fits."""
    cache, archive = cfg.cache, cfg.archive
    assert archive is not None
    tree = tree_stamp(cfg.root)
    held = cache.is_dir() and any(cache.iterdir())
    why = staleness(read_stamp(cache), tree) if held else "empty"
    if why is None:
        return (
            f"persistent cache matches {envoy_version(cfg.root)} and its dependency files; "
            f"reusing {entries(cache / 'disk')} disk cache entries"
        )
    empty(cache)
    if not archive.is_dir() or not any(archive.iterdir()):
        return f"no cache in {archive} yet; starting from an empty one"
    stale = staleness(read_stamp(archive), tree)
    if stale:
        return f"archive cache is stale ({stale}); cleared it instead of reusing it"
    for child in archive.iterdir():
        target = cache / child.name
        if child.is_dir() and not child.is_symlink():
            shutil.copytree(child, target, symlinks=True)
        else:
            shutil.copy2(child, target, follow_symlinks=False)
    return (
        f"archive cache matches {envoy_version(cfg.root)} and its dependency files; seeded the "
        f"persistent cache ({why} before) with {entries(cache / 'disk')} disk cache entries"
    )


def step_prepare_cache(cfg: Config) -> None:
    """Reuse the archive's cache when it fits the tree; otherwise clear it."""
    cache = cfg.cache
    if cfg.no_cache:
        empty(cache)
        decision = f"NO_CACHE={cfg.no_cache}: cleared the disk and repository caches in {cache}"
    elif cfg.archive is not None:
        decision = _seed(cfg)
    elif not cache.is_dir() or not any(cache.iterdir()):
        decision = f"no cache in {cache} yet; starting from an empty one"
    else:
        why = staleness(read_stamp(cache), tree_stamp(cfg.root))
        if why:
            empty(cache)
            decision = f"archive cache is stale ({why}); cleared it instead of reusing it"
        else:
            decision = (
                f"archive cache matches {envoy_version(cfg.root)} and its dependency files; "
                f"reusing {entries(cache / 'disk')} disk cache entries"
            )
    for sub in ("disk", "repo"):
        (cache / sub).mkdir(parents=True, exist_ok=True)
    if read_stamp(cache) is None:
        _write_stamp(cache, cfg.root)
    _say("prepare-cache", decision)


def step_build(cfg: Config) -> None:
    argv = build_argv(cfg)
    _say(
        "build",
        f"{cfg.mode_name} build of {TARGET} for linux/{cfg.arch} ({cfg.platform}"
        + (f", cross-compiled on linux/{cfg.build_arch}" if cfg.build_arch != cfg.arch else "")
        + "), "
        f"disk cache {cfg.cache / 'disk'}, source version {source_version(cfg.root)}"
        + (f", extra options: {' '.join(cfg.build_opts)}" if cfg.build_opts else ""),
    )
    status = _run(argv, cfg.root, "build")
    if status != 0:
        raise StepError(
            f"bazel build failed (exit status {status}); see its output above (a compiler killed "
            "for lack of memory is cured with fewer jobs: --jobs=2).",
            status,
        )


def check_machine(path: Path, arch: str) -> str:
    """The binary's architecture; fails unless it is ``arch``."""
    try:
        found = elf.arch_of(path)
    except elf.NotElf:
        raise StepError(
            f"{path} is not an ELF binary; the build produced something else."
        ) from None
    if found != arch:
        raise StepError(
            f"{path} was built for {found} but the image is for {arch}; the build did not "
            f"cross-compile (check that --platforms={PLATFORMS.get(arch, arch)} reached Bazel)."
        )
    return found


def step_install(cfg: Config) -> None:
    """The proxy and the dynamic module into the install root, both checked before either."""
    pieces = (
        (cfg.root / "bazel-bin" / BINARY, cfg.install_root / "usr" / "bin" / BINARY, 0o755),
        (cfg.root / "bazel-bin" / MODULE_BUILT, cfg.install_root / MODULE_INSTALLED, 0o644),
    )
    for built, _, _ in pieces:
        if not built.is_file():
            raise StepError(f"{built} does not exist; run the build step first.")
    arches = [check_machine(built, cfg.arch) for built, _, _ in pieces]
    said = []
    for (built, target, mode), arch in zip(pieces, arches):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)
        target.chmod(mode)
        said.append(f"{target} ({arch} ELF, {target.stat().st_size / 2**20:.1f} MiB)")
    _say("install", ", ".join(said))


def _failed_tests(testlogs: Path) -> List[Path]:
    """The test.log of every test whose test.xml records a failure or an error."""
    failed = []
    pattern = re.compile(r'(failures|errors)="[1-9]|<failure|<error')
    for xml in sorted(testlogs.rglob("test.xml")):
        if pattern.search(xml.read_text(errors="replace")):
            failed.append(xml.with_name("test.log"))
    return failed


def step_test(cfg: Config) -> None:
    argv = test_argv(cfg)
    _say(
        "test",
        f"{' '.join(TEST_TARGETS)} with {' '.join(cfg.test_opts) or 'default options'}",
    )
    status = _run(argv, cfg.root, "test")
    logs = cfg.root / "bazel-testlogs"
    if cfg.testlogs.exists():
        rmtree(cfg.testlogs)
    if logs.is_dir():
        shutil.copytree(logs, cfg.testlogs, symlinks=False)
    copied = entries(cfg.testlogs)
    if status == 0:
        _say("test", f"passed; {copied} log files copied to {cfg.testlogs}")
        return
    for log in _failed_tests(cfg.testlogs):
        print(f"===== {log.relative_to(cfg.testlogs)} =====")
        print(log.read_text(errors="replace") if log.exists() else "(no test.log)")
    raise StepError(
        f"bazel test failed (exit status {status}); the failing tests' logs are above.", status
    )


def step_copy_cache(cfg: Config) -> None:
    if not cfg.copy_cache_ext:
        _say("copy-cache", "COPY_CACHE_EXT is not set; the cache stays out of the image")
        return
    target = cfg.cache_home.with_name(cfg.cache_home.name + cfg.copy_cache_ext)
    if target.exists():
        rmtree(target)
    shutil.copytree(cfg.cache, target, symlinks=True)
    _write_stamp(target, cfg.root)
    _say("copy-cache", f"copied {entries(target)} cache files to {target}")


def step_cleanup(cfg: Config) -> None:
    if not cfg.output_root.exists():
        _say("cleanup", f"nothing to remove ({cfg.output_root} does not exist)")
        return
    subprocess.run(
        [*cfg.startup(), "shutdown"],
        cwd=cfg.root,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rmtree(cfg.output_root)
    for link in cfg.root.glob("bazel-*"):
        if link.is_symlink():
            link.unlink()
    _say("cleanup", f"removed Bazel's output root {cfg.output_root}")


STEPS: Dict[str, Callable[[Config], None]] = {
    "deps": step_deps,
    "fetch": step_fetch,
    "prepare-cache": step_prepare_cache,
    "build": step_build,
    "install": step_install,
    "test": step_test,
    "copy-cache": step_copy_cache,
    "cleanup": step_cleanup,
}


def main(
    argv: Sequence[str], environ: Optional[Mapping[str, str]] = None, root: Optional[Path] = None
) -> int:
    environ = os.environ if environ is None else environ
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        print("steps: " + ", ".join(STEPS))
        return 0 if argv else 2
    unknown = [a for a in argv if a not in STEPS]
    if unknown:
        print(
            f"tools.bazel: unknown step {', '.join(unknown)}; the steps are {', '.join(STEPS)}.",
            file=sys.stderr,
        )
        return 2
    try:
        cfg = Config(environ, Path(root or Path.cwd()))
        for name in argv:
            STEPS[name](cfg)
    except StepError as exc:
        print(f"tools.bazel: {exc}", file=sys.stderr, flush=True)
        return exc.status or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
