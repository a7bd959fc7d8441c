"""Local base images and checkouts for the engine tests of the real Dockerfiles.

No registry is reachable from the tests, so the images the Dockerfiles start from are
built here, once per machine and reused through a tag derived from the fixture files:

- a root file system (Debian bookworm with python3 and busybox, by mmdebstrap from the
  machine's Debian mirror) imported as an image; it is also the runtime base
  (build-arg RUNTIME_BASE) the proxy is installed into;
- the test builder image: that root file system plus tools/tests/fixtures/engine/bazel,
  a stand-in for Bazel.  **The stand-in replaces the hour-long Envoy build**: it writes a
  real ELF binary where Bazel would and leaves a file in the disk cache.  Everything
  else (Dockerfile, Dockerfile.tests, tools/envoy/bazel.py, the sessions, docker and BuildKit)
  is the real thing.

Under pytest-xdist the workers share one build through a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.tests.toolkit_fixtures import DISTRO_DOCKER, git, skip_or_fail

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "engine"
MMDEBSTRAP = ["mmdebstrap", "--variant=apt", "--include=python3,busybox-static", "bookworm"]
ROOTFS_IMAGE = "cilium-envoy-test-rootfs"
BUILDER_IMAGE = "cilium-envoy-test-builder"
ARM64_RUNTIME_IMAGE = "cilium-envoy-test-runtime-arm64"

#: What an engine checkout copies from this repository: everything the Dockerfiles read,
#: plus files whose edits must not re-run Bazel (README.md, go/, noxfile.py, Python tests).
CHECKOUT_PATHS = (
    "Dockerfile",
    "Dockerfile.builder",
    "Dockerfile.tests",
    ".bazelversion",
    "ENVOY_VERSION",
    "WORKSPACE",
    "BUILD",
    ".bazelrc",
    ".gitignore",
    "README.md",
    "noxfile.py",
    "envoy",
    "cilium-filters",
    "tests",
    "go",
    "tools/__init__.py",
    "tools/arches.py",
    "tools/envoy/__init__.py",
    "tools/envoy/bazel.py",
    "tools/envoy/bazel_config.py",
    "tools/envoy/cache.py",
    "tools/elf.py",
    "tools/tests/test_bazel.py",
)


@dataclass(frozen=True)
class BaseImages:
    rootfs: str  # also the runtime base
    builder: str  # rootfs + the Bazel stand-in
    #: A runtime base labelled linux/arm64 (scratch and one file: the runtime stage only
    #: copies into it, so nothing needs emulating), for cross-builds from amd64.
    arm64_runtime: str


def _docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DISTRO_DOCKER, *args], capture_output=True, text=True, check=False, **kwargs
    )


def content_tag() -> str:
    """Changes whenever a fixture file (or this module) changes."""
    digest = hashlib.sha256(" ".join(MMDEBSTRAP).encode())
    for path in sorted(FIXTURES.iterdir()) + [Path(__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _exists(ref: str) -> bool:
    return _docker("image", "inspect", ref).returncode == 0


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        pytest.fail(f"{what} failed:\n{proc.stdout}\n{proc.stderr}")


def build_base_images(workdir: Path) -> BaseImages:
    tag = content_tag()
    images = BaseImages(
        f"{ROOTFS_IMAGE}:{tag}", f"{BUILDER_IMAGE}:{tag}", f"{ARM64_RUNTIME_IMAGE}:{tag}"
    )
    if all(_exists(ref) for ref in (images.rootfs, images.builder, images.arm64_runtime)):
        return images
    if not _exists(images.rootfs):
        if not shutil.which("mmdebstrap"):
            skip_or_fail("mmdebstrap (apt-get install mmdebstrap)")
        tar = workdir / "rootfs.tar"
        proc = subprocess.run([*MMDEBSTRAP, str(tar)], capture_output=True, text=True, check=False)
        _check(proc, "mmdebstrap")
        _check(_docker("import", str(tar), images.rootfs), "docker import")
        tar.unlink()
    proc = subprocess.run(
        [DISTRO_DOCKER, "build", "-q", "-f", "builder.Dockerfile",
         "--build-arg", f"ROOTFS={images.rootfs}", "-t", images.builder, "."],
        cwd=FIXTURES, capture_output=True, text=True, check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )  # fmt: skip
    _check(proc, "building the test builder image")
    proc = subprocess.run(
        [DISTRO_DOCKER, "build", "-q", "--platform=linux/arm64", "-f", "arm64-runtime.Dockerfile",
         "-t", images.arm64_runtime, "."],
        cwd=FIXTURES, capture_output=True, text=True, check=False,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )  # fmt: skip
    _check(proc, "building the arm64 runtime base")
    _remove_older_tags(tag)
    return images


def _remove_older_tags(current: str) -> None:
    """Images of earlier fixture versions only take space: remove them."""
    for repo in (ROOTFS_IMAGE, BUILDER_IMAGE, ARM64_RUNTIME_IMAGE):
        listed = _docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo).stdout
        old = [ref for ref in listed.split() if ref != f"{repo}:{current}"]
        if old:
            _docker("rmi", *old)


@pytest.fixture(scope="session")
def base_images(engine: str) -> BaseImages:
    """The local base images, built once per machine (one xdist worker builds, others wait)."""
    shared = Path(tempfile.gettempdir()) / "cilium-envoy-engine-tests"
    shared.mkdir(exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return build_base_images(shared)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def make_engine_checkout(root: Path) -> Path:
    """A git checkout holding this repository's build files (committed: tags need a HEAD)."""
    root.mkdir(parents=True)
    for name in CHECKOUT_PATHS:
        source = REPO / name
        target = root / name
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "FAIL")
            )
        elif source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    # BuildKit's cache is shared by every build on the engine: a file of this run among the
    # proxy's sources makes the Bazel step of this checkout run at least once.
    (root / "cilium-filters" / "engine-test-run").write_text(uuid.uuid4().hex + "\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.invalid")
    git(root, "config", "user.name", "t")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "engine test checkout")
    return root
