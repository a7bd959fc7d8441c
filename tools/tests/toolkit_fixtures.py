"""Fixtures for the plan tests: a real git checkout and a recording docker stand-in.

The stand-in replaces only the `docker` CLI, so the exact argv we send can be
checked; git, the file system and our subprocess runner are the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

BAZEL_VERSION = "6.5.0"
ENVOY_VERSION = "envoy-1.32.3"

# Answers of real CLIs, written out.
BUILDX_VERSION_OUT = "github.com/docker/buildx v0.17.1 257815a6fb95e1b51fa6a7cc4f2d0cbbcc3d0f0c\n"
INSPECT_TEMPLATE = """Name:          {name}
Driver:        {driver}
Last Activity: 2026-11-20 10:00:00 +0000 UTC

Nodes:
Name:      {name}0
Endpoint:  unix:///var/run/docker.sock
Status:    running
Platforms: linux/amd64, linux/amd64/v2, linux/386
"""

STANDIN = r'''#!{python}
"""Recording stand-in for the docker CLI (tests only): logs argv, answers from config.json."""
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
cfg = json.load(open(os.path.join(here, "config.json")))
args = sys.argv[1:]
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps(args) + "\n")
if args == ["--version"]:
    print("Docker version %s, build 0000000" % cfg["version"]); sys.exit(0)
if args[:2] == ["buildx", "version"]:
    if cfg["buildx"] is None:
        sys.stderr.write("docker: 'buildx' is not a docker command.\n"); sys.exit(1)
    print(cfg["buildx"]); sys.exit(0)
if args[:2] == ["buildx", "inspect"]:
    if cfg["buildx"] is None:
        sys.exit(1)
    name = args[2] if len(args) > 2 else cfg["current"]
    driver = cfg["builders"].get(name)
    if driver is None:
        sys.stderr.write("ERROR: no builder %r found\n" % name); sys.exit(1)
    print(cfg["inspect"].format(name=name, driver=driver)); sys.exit(0)
if "build" in args[:2]:
    for a in args:
        if a.startswith("--metadata-file="):
            open(a.split("=", 1)[1], "w").write(json.dumps({{"containerimage.digest": "sha256:" + "ab" * 32}}))
        if a.startswith("--iidfile="):
            open(a.split("=", 1)[1], "w").write("sha256:" + "cd" * 32)
    print("building (stand-in)"); sys.stdout.flush()
    sys.exit(cfg.get("build_status", 0))
sys.exit(0)
'''


@dataclass
class FakeDocker:
    """A recording stand-in for the docker CLI; ``calls`` are the argv lists it got."""

    path: Path
    config: dict = field(default_factory=dict)

    def configure(self, **changes) -> None:
        self.config.update(changes)
        (self.path.parent / "config.json").write_text(json.dumps(self.config))
        # A reconfigured stand-in is a different CLI: change its stat as an upgrade would.
        self._generation = getattr(self, "_generation", 0) + 1
        stamp = 1_700_000_000 + self._generation
        os.utime(self.path, (stamp, stamp))

    @property
    def env(self) -> dict:
        """Environment for a session using this stand-in (its own CLI facts cache)."""
        return {"XDG_CACHE_HOME": str(self.path.parent / "cache")}

    @property
    def calls(self) -> list[list[str]]:
        log = self.path.parent / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def state_changing_calls(self) -> list[list[str]]:
        readonly = (["--version"], ["buildx", "version"])
        return [c for c in self.calls if c not in readonly and c[:2] != ["buildx", "inspect"]]


@pytest.fixture
def fake_docker(tmp_path: Path) -> FakeDocker:
    folder = tmp_path / "fakebin"
    folder.mkdir()
    script = folder / "docker"
    script.write_text(STANDIN.format(python=sys.executable))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    fake = FakeDocker(script)
    fake.configure(
        version="27.3.1",
        buildx=BUILDX_VERSION_OUT.strip(),
        current="default",
        builders={"default": "docker"},
        inspect=INSPECT_TEMPLATE,
    )
    return fake


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@dataclass
class Checkout:
    root: Path

    @property
    def head(self) -> str:
        return git(self.root, "rev-parse", "HEAD")

    @property
    def builder_blob(self) -> str:
        return git(self.root, "rev-parse", "HEAD:Dockerfile.builder")

    def switch(self, branch: str) -> None:
        git(self.root, "checkout", "-q", "-B", branch)

    def written(self) -> list[str]:
        """Files the toolkit may generate that exist now."""
        names = ["SOURCE_VERSION", "Dockerfile.dockerignore", "Dockerfile.tests.dockerignore",
                 "Dockerfile.builder.dockerignore"]  # fmt: skip
        return [n for n in names if (self.root / n).exists()]


def make_checkout(root: Path, dockerfile: str = "FROM scratch\n") -> Checkout:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.invalid")
    git(root, "config", "user.name", "t")
    (root / ".bazelversion").write_text(BAZEL_VERSION + "\n")
    (root / "ENVOY_VERSION").write_text(ENVOY_VERSION + "\n")
    (root / "Dockerfile").write_text(dockerfile)
    (root / "Dockerfile.builder").write_text("FROM scratch\n# builder\n")
    (root / "Dockerfile.tests").write_text("FROM scratch\n# tests\n")
    (root / ".gitignore").write_text("/out/\n*.log\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return Checkout(root)


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    return make_checkout(tmp_path / "repo")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> dict:
    """An environment without any of the toolkit's variables (the caller's may set some)."""
    from tools.image.settings import OPTIONS

    for opt in OPTIONS:
        if opt.env:
            monkeypatch.delenv(opt.env, raising=False)
    return {k: v for k, v in os.environ.items()}


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def skip_or_fail(need: str) -> NoReturn:
    """Something the test needs is missing: a skip on a laptop, a failure in CI."""
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {need}")
    pytest.skip(f"needs {need}")


def process_running(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


DISTRO_DOCKER = "/usr/bin/docker"  # Debian's CLI: built-in BuildKit, no buildx plugin


def engine_problem() -> str | None:
    """Why no Docker engine can be used, or None when one answers."""
    if not shutil.which(DISTRO_DOCKER):
        return f"{DISTRO_DOCKER} is not installed"
    proc = subprocess.run([DISTRO_DOCKER, "info", "--format", "{{.ServerVersion}}"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return None if proc.returncode == 0 else "no Docker engine answers"


@pytest.fixture(scope="session")
def git_checkout() -> Path:
    """This repository as a git checkout (for tests that ask git what is tracked): skipped in
    an exported copy without `.git`, a failure in CI."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode != 0 or Path(proc.stdout.strip()).resolve() != root:
        skip_or_fail(f"a git checkout of this repository ({root} is not one)")
    return root


@pytest.fixture(scope="session")
def engine() -> str:
    """The docker CLI of a real engine: skipped on a laptop without one, a failure in CI."""
    problem = engine_problem()
    if problem:
        skip_or_fail(f"a Docker engine: {problem}")
    return DISTRO_DOCKER


def nox_policy(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real `nox -s policy -- ARGS` (real build, real tool) run from `cwd` (the checkout
    by default), as a user runs it; a skip on a laptop that cannot build the tool."""
    from tools.engine import builds

    repo = Path(__file__).resolve().parents[2]
    lacking = builds.missing(builds.TOOL)
    if lacking:
        skip_or_fail(", ".join(lacking) + " to build the policy tool")
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(repo / "noxfile.py"), "-s", "policy", "--",
         *args],
        input=stdin, capture_output=True, text=True, timeout=1800, cwd=cwd or repo, check=False,
    )  # fmt: skip
