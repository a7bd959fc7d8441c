"""The steps the build containers run: ``python3 -m tools.envoy.bazel STEP [STEP ...]``.

Standard library only, Python 3.8+: the same code runs in Dockerfile, Dockerfile.tests
and on a developer's Linux host (run it from the top of the checkout).  Everything it
needs comes from the environment, i.e. the Dockerfiles' build args:

    TARGETARCH        amd64 | arm64 (default: this machine); picks --platforms
    BUILDARCH         the build machine's architecture (reported; default: this machine)
    DEBUG=1           -c dbg instead of --config=release
    RELEASE_DEBUG=1   --config=release_debug instead of --config=release
    BAZEL_BUILD_OPTS  extra Bazel options of build and test
    BAZEL_TEST_OPTS   options of `bazel test`
    COPY_CACHE_EXT    copy-cache copies the Bazel cache to <cache dir><ext>
    NO_CACHE=1|2      prepare-cache empties the disk and repository caches

and where things live (defaults under ~/.cache/cilium-envoy on a host):

    CILIUM_BAZEL_CACHE   the Bazel cache: disk/, repo/ and stamp.json
    CILIUM_ARCHIVE_CACHE the archive's cache (read only): prepare-cache seeds the Bazel
                         cache from it when the Bazel cache is empty or stale
    CILIUM_PERSISTENT_CACHES  a folder that outlives builds (a cache mount): the Bazel
                         cache is its <BAZEL_CACHE_ID>-<arch>-<mode> folder, and
                         copy-cache still copies to CILIUM_BAZEL_CACHE<ext>
    CILIUM_OUTPUT_ROOT   Bazel's --output_user_root (removed by cleanup)
    CILIUM_INSTALL_ROOT  staging root the proxy is installed into
    CILIUM_TESTLOGS      where test copies bazel-testlogs
    BAZEL                the Bazel binary (default: bazel on PATH, e.g. bazelisk's)

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
from tools.arches import ALIASES, ARCHES
from tools.envoy.cache import (
    STAMP,
    dependency_hashes,
    empty,
    entries,
    read_stamp,
    rmtree,
    staleness,
)

#: Bazel platform of each Docker architecture (envoy/platforms/BUILD).
PLATFORMS = {name: arch.bazel_platform for name, arch in ARCHES.items()}
MACHINE_ARCH = dict(ALIASES)
TARGET = "//:cilium-envoy"
TEST_TARGETS = ("//tests/...",)
#: What `fetch` downloads before any of our own sources are copied in.
FETCH_TARGETS = ("@envoy//source/exe:envoy_main_entry_lib",)
BINARY = "cilium-envoy"
FALSE_WORDS = ("", "0", "false", "no")


class StepError(Exception):
    """A step failed; the message is one sentence saying what to do."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# --- configuration -------------------------------------------------------------------


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() not in FALSE_WORDS


def _split(environ: Mapping[str, str], name: str) -> List[str]:
    try:
        return shlex.split(environ.get(name, ""))
    except ValueError as exc:
        raise StepError(
            f"{name} cannot be split like a shell would ({exc}); fix its quoting."
        ) from None


class Config:
    """The build as the environment describes it."""

    def __init__(self, environ: Mapping[str, str], root: Path) -> None:
        self.root = root
        arch = environ.get("TARGETARCH") or MACHINE_ARCH.get(os.uname().machine, "")
        if arch not in PLATFORMS:
            raise StepError(
                f"TARGETARCH `{arch}` is not supported; use one of {', '.join(PLATFORMS)}."
            )
        self.arch = arch
        self.build_arch = environ.get("BUILDARCH") or MACHINE_ARCH.get(os.uname().machine, "")
        self.debug = _flag(environ, "DEBUG")
        self.release_debug = _flag(environ, "RELEASE_DEBUG")
        if self.debug and self.release_debug:
            raise StepError("DEBUG and RELEASE_DEBUG exclude each other; set one of them.")
        self.build_opts = _split(environ, "BAZEL_BUILD_OPTS")
        self.test_opts = _split(environ, "BAZEL_TEST_OPTS")
        self.copy_cache_ext = environ.get("COPY_CACHE_EXT", "")
        if "/" in self.copy_cache_ext:
            raise StepError(
                f"COPY_CACHE_EXT `{self.copy_cache_ext}` must be a file name suffix such as `.new`."
            )
        no_cache = environ.get("NO_CACHE", "").strip().lower()
        self.no_cache = 0 if no_cache in FALSE_WORDS else (2 if no_cache == "2" else 1)
        home = Path(environ.get("HOME") or "~").expanduser() / ".cache" / "cilium-envoy"
        self.cache_home = Path(environ.get("CILIUM_BAZEL_CACHE") or home / "bazel-cache")
        self.cache = self.cache_home
        persistent = environ.get("CILIUM_PERSISTENT_CACHES")
        if persistent:
            family = environ.get("BAZEL_CACHE_ID") or "cilium-envoy"
            self.cache = Path(persistent) / f"{family}-{self.arch}-{self.mode_name}"
        archive = environ.get("CILIUM_ARCHIVE_CACHE")
        self.archive = Path(archive) if archive else None
        self.output_root = Path(environ.get("CILIUM_OUTPUT_ROOT") or home / "output")
        self.install_root = Path(environ.get("CILIUM_INSTALL_ROOT") or root / "out" / "install")
        self.testlogs = Path(environ.get("CILIUM_TESTLOGS") or root / "out" / "testlogs")
        self.bazel = environ.get("BAZEL", "bazel")

    @property
    def platform(self) -> str:
        return f"//envoy/platforms:{PLATFORMS[self.arch]}"

    @property
    def mode(self) -> List[str]:
        if self.debug:
            return ["-c", "dbg"]
        if self.release_debug:
            return ["--config=release_debug"]
        return ["--config=release"]

    @property
    def mode_name(self) -> str:
        return "debug" if self.debug else "release_debug" if self.release_debug else "release"

    def startup(self) -> List[str]:
        return [self.bazel, f"--output_user_root={self.output_root}"]

    def caches(self) -> List[str]:
        return [
            f"--disk_cache={self.cache / 'disk'}",
            f"--repository_cache={self.cache / 'repo'}",
        ]


def build_argv(cfg: Config) -> List[str]:
    """`bazel build`: configuration, platform, caches, then the user's options."""
    return [
        *cfg.startup(),
        "build",
        *cfg.mode,
        f"--platforms={cfg.platform}",
        *cfg.caches(),
        *cfg.build_opts,
        TARGET,
    ]


def test_argv(cfg: Config) -> List[str]:
    """`bazel test` runs on the build machine's own platform."""
    mode = ["-c", "dbg"] if cfg.debug else []
    return [
        *cfg.startup(),
        "test",
        *mode,
        *cfg.caches(),
        *cfg.build_opts,
        *cfg.test_opts,
        *TEST_TARGETS,
    ]


def fetch_argv(cfg: Config) -> List[str]:
    return [*cfg.startup(), "fetch", *cfg.caches()[1:], *FETCH_TARGETS]


# --- the tree's stamp -------------------------------------------------------------------


def envoy_version(root: Path) -> str:
    try:
        return (root / "ENVOY_VERSION").read_text().strip()
    except FileNotFoundError:
        raise StepError("ENVOY_VERSION is missing; run from the top of the checkout.") from None


def source_version(root: Path) -> str:
    try:
        return (root / "SOURCE_VERSION").read_text().strip() or "unknown"
    except FileNotFoundError:
        return "unknown (no SOURCE_VERSION)"


def tree_stamp(root: Path) -> dict:
    return {"envoy_version": envoy_version(root), "dependencies": dependency_hashes(root)}


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
    built = cfg.root / "bazel-bin" / BINARY
    if not built.is_file():
        raise StepError(f"{built} does not exist; run the build step first.")
    arch = check_machine(built, cfg.arch)
    target = cfg.install_root / "usr" / "bin" / BINARY
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)
    target.chmod(0o755)
    size = target.stat().st_size / 2**20
    _say("install", f"{target} ({arch} ELF, {size:.1f} MiB)")


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
