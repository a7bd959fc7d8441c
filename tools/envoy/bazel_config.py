"""What the in-container steps are told, and the Bazel command lines they run.

Standard library only, Python 3.8+ (see tools.envoy.bazel).  Everything a step
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
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import List, Mapping

from tools.arches import ALIASES, ARCHES
from tools.envoy.cache import dependency_hashes

#: Bazel platform of each Docker architecture (envoy/platforms/BUILD).
PLATFORMS = {name: arch.bazel_platform for name, arch in ARCHES.items()}
MACHINE_ARCH = dict(ALIASES)
TARGET = "//:cilium-envoy"
#: Built with the proxy: Cilium's filters as an Envoy dynamic module, and the check of its ABI
#: declarations against Envoy's abi.h. The module is installed where the image's
#: ENVOY_DYNAMIC_MODULES_SEARCH_PATH points.
MODULE_TARGETS = ("//cilium-filters/module:libcilium.so", "//cilium-filters/module:abi_check")
MODULE_BUILT = "cilium-filters/module/libcilium.so"
MODULE_INSTALLED = "usr/lib/cilium/libcilium.so"
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
        *MODULE_TARGETS,
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
