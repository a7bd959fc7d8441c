"""A stop signal in the middle of a real build's Bazel step cancels the build in BuildKit.

A real nox runs `nox -s build` on an engine checkout (tools/tests/engine_images.py) against
the real engine, with the buildx plugin (Debian's docker CLI runs it as its own child) and
without it (`DOCKER_BUILDKIT=1 docker build`).  **The builder image's Bazel is a stand-in
that sleeps in `bazel build`** (a layer on the engine tests' builder image); Dockerfile,
tools/bazel.py, the session, docker, buildx and BuildKit are the real ones.  Once the
Bazel step sleeps, the signal goes to nox alone or to its whole process group; two
seconds after nox exits, no process holding the run's token (in its command line: nox,
docker, the plugin and the Bazel step inside BuildKit; or in its environment) may be left.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tools.tests.engine_images import (  # noqa: F401 (base_images is a fixture)
    BaseImages,
    base_images,
    make_engine_checkout,
)
from tools.tests.stop_targets import end, processes_with, send
from tools.tests.test_build_engine import buildx_plugin
from tools.tests.toolkit_fixtures import DISTRO_DOCKER, git, skip_or_fail

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
SLEEPY_IMAGE = "cilium-envoy-test-builder-sleepy"
MARKER = "bazel stand-in: sleeping in build"
SLEEPY_BAZEL = f'''#!/usr/bin/env python3
"""Bazel for the stop tests: sleeps in `build`, else runs the engine tests' stand-in."""
import os, sys, time
args = sys.argv[1:]
if next((a for a in args if not a.startswith("--")), "") == "build":
    print("{MARKER}", flush=True)
    time.sleep(600)
os.execv("/usr/local/bin/bazel-standin", ["bazel", *args])
'''
SLEEPY_DOCKERFILE = """\
ARG BUILDER
FROM ${BUILDER}
USER root
COPY bazel /usr/local/bin/bazel-sleepy
RUN mv /usr/local/bin/bazel /usr/local/bin/bazel-standin \\
 && mv /usr/local/bin/bazel-sleepy /usr/local/bin/bazel && chmod 755 /usr/local/bin/bazel
USER 1337:1337
"""


def _docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DISTRO_DOCKER, *args], capture_output=True, text=True, check=False, **kwargs
    )


@pytest.fixture(scope="session")
def sleepy_builder(base_images: BaseImages) -> str:  # noqa: F811
    """The engine tests' builder image with the sleeping Bazel, built once per machine."""
    digest = hashlib.sha256((base_images.builder + SLEEPY_BAZEL + SLEEPY_DOCKERFILE).encode())
    ref = f"{SLEEPY_IMAGE}:{digest.hexdigest()[:12]}"
    shared = Path(tempfile.gettempdir()) / "cilium-envoy-engine-tests"
    shared.mkdir(exist_ok=True)
    with open(shared / "sleepy.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _docker("image", "inspect", ref).returncode == 0:
            return ref
        with tempfile.TemporaryDirectory() as context:
            (Path(context) / "bazel").write_text(SLEEPY_BAZEL)
            (Path(context) / "Dockerfile").write_text(SLEEPY_DOCKERFILE)
            proc = _docker("build", "-q", "--build-arg", f"BUILDER={base_images.builder}",
                           "-t", ref, context, env={**os.environ, "DOCKER_BUILDKIT": "1"})  # fmt: skip
        if proc.returncode != 0:
            pytest.fail(f"building {ref} failed:\n{proc.stdout}\n{proc.stderr}")
        listed = _docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", SLEEPY_IMAGE)
        older = [r for r in listed.stdout.split() if r != ref]
        if older:
            _docker("rmi", *older)
    return ref


def engine_checkout(root: Path) -> Path:
    """An engine checkout that nox can run: the whole toolkit and pyproject.toml too."""
    make_engine_checkout(root)
    shutil.copytree(REPO / "tools", root / "tools", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
    shutil.copy2(REPO / "pyproject.toml", root / "pyproject.toml")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the toolkit")
    return root


class Build:
    """`nox -s build` on a checkout of its own, in a process group of its own (as a shell
    would start it), its output in a file, its processes marked by a token."""

    def __init__(self, tmp_path: Path, images: BaseImages, builder: str, config: Path) -> None:
        self.root = engine_checkout(tmp_path / "repo")
        self.token = f"stop-test-{uuid.uuid4().hex}"
        self.tag = f"cilium-envoy-engine-test/stop:{self.token[-12:]}"
        self.builder = builder
        argv = [
            sys.executable, "-m", "nox", "--no-color", "-s", "build", "--",
            "--docker", DISTRO_DOCKER, "--builder-base", builder, "--no-archive",
            "--tag", self.tag, f"--bazel-build-opts=--standin_token={self.token}",
            "--docker-build-opts", f"--build-arg RUNTIME_BASE={images.rootfs} --progress=plain "
            f"--build-arg BAZEL_CACHE_ID={self.token}",
        ]  # fmt: skip
        env = {**os.environ, "DOCKER_CONFIG": str(config), "STOP_TEST_TOKEN": self.token,
               "XDG_CACHE_HOME": str(tmp_path / "cache")}  # fmt: skip
        env.pop("CI", None)
        self.log = tmp_path / "nox.log"
        with open(self.log, "w") as out:
            self.nox = subprocess.Popen(
                argv, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            )  # fmt: skip
        self.took = 0.0

    def output(self) -> str:
        return self.log.read_text()

    def in_bazel_step(self) -> bool:
        assert self.nox.poll() is None, self.output()[-3000:]
        return MARKER in self.output()

    def stop(self, signum: int, whole_group: bool) -> None:
        self.took = send(self.nox, signum, whole_group)

    def close(self) -> None:
        end(self.nox, self.token)
        _docker("rmi", "-f", self.tag)


SIGNALS: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@pytest.mark.parametrize("whole_group", [False, True], ids=["nox alone", "whole group"])
@pytest.mark.parametrize("path", ["buildx", "fallback"])
def test_a_stop_signal_cancels_the_build_in_buildkit(
    base_images, sleepy_builder, tmp_path, path, whole_group  # noqa: F811
):  # fmt: skip
    """One build per stop signal, side by side (the time is the Bazel step's wait)."""
    config = tmp_path / "docker-config"
    config.mkdir()
    if path == "buildx":
        plugin = buildx_plugin()
        if plugin is None:
            skip_or_fail("the buildx plugin (.ci/run builds it from source with go install)")
        (config / "cli-plugins").mkdir()
        (config / "cli-plugins" / "docker-buildx").symlink_to(plugin)
    builds: dict[int, Build] = {}
    try:
        for signum in SIGNALS:
            folder = tmp_path / signal.Signals(signum).name
            builds[signum] = Build(folder, base_images, sleepy_builder, config)
        deadline = time.monotonic() + 180
        while not all(b.in_bazel_step() for b in builds.values()):
            assert time.monotonic() < deadline, "no build reached its Bazel step"
            time.sleep(0.1)
        for build in builds.values():
            running = processes_with(build.token)
            assert any("/usr/local/bin/bazel" in cmd for cmd in running.values()), running
        for signum, build in builds.items():
            build.stop(signum, whole_group)
        time.sleep(2)
        left = {signum: processes_with(b.token) for signum, b in builds.items()}
    finally:
        for build in builds.values():
            build.close()
    command = "docker buildx build" if path == "buildx" else "docker build"
    for signum, build in builds.items():
        name = signal.Signals(signum).name
        output = build.output()
        print(f"{path} {name} {'group' if whole_group else 'alone'}: nox exited "
              f"{build.took:.2f} s after the signal")  # fmt: skip
        assert left[signum] == {}, name
        assert build.took < 10, name
        assert build.nox.returncode == 128 + signum, output[-3000:]
        lines = [line for line in output.splitlines() if "stopped by" in line]
        assert lines == [f"nox > Session build stopped by {name}; stopped {command}."], output
        assert "Traceback" not in output
        assert "CANCELED" in output  # BuildKit's word for a cancelled step
        # Nothing half-written: no image, no metadata, no temporary file of an atomic write.
        assert _docker("image", "inspect", build.tag).returncode != 0
        assert not (build.root / ".nox" / "cilium-envoy" / "build.metadata.json").exists()
        assert not [p for p in build.root.rglob("*.tmp") if ".git" not in p.parts]
    assert not _docker("ps", "-aq", "--filter", f"ancestor={sleepy_builder}").stdout.strip()
