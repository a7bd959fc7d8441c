"""Real builds against a real Docker engine: the buildx path, the plugin-less fallback,
and the printed plan pasted into a fresh clone.

The Dockerfile is a tiny throwaway one; the session, the plan, the generated files,
`docker buildx build` (the plugin built from source, docker driver) and
`DOCKER_BUILDKIT=1 docker build` are the real ones.  Which path runs is decided by the
docker client config folder each test points DOCKER_CONFIG at: with or without the
buildx plugin in its cli-plugins/.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tools.errors import ToolkitError
from tools.image import build
from tools.image.facts import SYSTEM_PLUGIN_DIRS
from tools.tests.toolkit_fixtures import DISTRO_DOCKER, git, make_checkout, skip_or_fail

TINY_DOCKERFILE = """\
FROM scratch
ARG BUILDER_BASE
ARG BAZEL_BUILD_OPTS
COPY SOURCE_VERSION /SOURCE_VERSION
"""


def _docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DISTRO_DOCKER, *args], capture_output=True, text=True, check=False)


def buildx_plugin() -> Path | None:
    """The buildx plugin on this machine (BUILDX_PLUGIN, ~/.docker/cli-plugins, system)."""
    candidates = [os.environ.get("BUILDX_PLUGIN", ""), str(Path.home() / ".docker/cli-plugins")]
    candidates += list(SYSTEM_PLUGIN_DIRS)
    for candidate in filter(None, candidates):
        path = Path(candidate)
        path = path / "docker-buildx" if path.is_dir() else path
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


@pytest.fixture
def without_buildx(tmp_path, monkeypatch):
    """A client config folder with no cli-plugins: the plugin-less fallback."""
    folder = tmp_path / "docker-config-plain"
    folder.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))


@pytest.fixture
def with_buildx(tmp_path, monkeypatch):
    """A client config folder whose cli-plugins/ holds the buildx plugin."""
    plugin = buildx_plugin()
    if plugin is None:
        skip_or_fail("the buildx plugin (.ci/run builds it from source with go install)")
    folder = tmp_path / "docker-config-buildx"
    (folder / "cli-plugins").mkdir(parents=True)
    (folder / "cli-plugins" / "docker-buildx").symlink_to(plugin)
    monkeypatch.setenv("DOCKER_CONFIG", str(folder))
    return plugin


@pytest.mark.engine
def test_fallback_build_loads_a_real_image(engine, tmp_path, without_buildx):
    checkout = make_checkout(tmp_path / "repo", dockerfile=TINY_DOCKERFILE)
    tag = f"cilium-envoy-toolkit-test:{uuid.uuid4().hex[:12]}"
    out = io.StringIO()
    try:
        bp = build.main(
            ["--docker", engine, "--tag", tag],
            "build",
            root=checkout.root,
            environ={"XDG_CACHE_HOME": str(tmp_path / "cache")},
            out=out,
        )
        assert bp.plan.steps[-1].env == (("DOCKER_BUILDKIT", "1"),)
        image_id = _docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
        assert image_id.startswith("sha256:")
        text = out.getvalue()
        # The summary names the tag, the image id as digest and the platform.
        assert (
            f"    {tag}\n" in text and f"digest: {image_id}" in text and "platforms: linux/" in text
        )
        # SOURCE_VERSION was written before the build and reached the image.
        container = _docker("create", tag, "none").stdout.strip()
        try:
            copied = tmp_path / "SOURCE_VERSION"
            assert _docker("cp", f"{container}:/SOURCE_VERSION", str(copied)).returncode == 0
            assert copied.read_text().strip() == checkout.head
        finally:
            _docker("rm", container)
        assert (checkout.root / "Dockerfile.dockerignore").exists()
        # A second run writes nothing new (unchanged files keep their mtime).
        stamp = (checkout.root / "SOURCE_VERSION").stat().st_mtime_ns
        build.main(
            ["--docker", engine, "--tag", tag],
            "build",
            root=checkout.root,
            environ={"XDG_CACHE_HOME": str(tmp_path / "cache")},
            out=io.StringIO(),
        )
        assert (checkout.root / "SOURCE_VERSION").stat().st_mtime_ns == stamp
    finally:
        _docker("rmi", "-f", tag)


@pytest.mark.engine
def test_failing_build_fails_with_docker_status(engine, tmp_path, without_buildx):
    checkout = make_checkout(tmp_path / "repo", dockerfile="FROM scratch\nCOPY does-not-exist /x\n")
    tag = f"cilium-envoy-toolkit-test:{uuid.uuid4().hex[:12]}"
    with pytest.raises(ToolkitError) as err:
        build.main(
            ["--docker", engine, "--tag", tag],
            "build",
            root=checkout.root,
            environ={"XDG_CACHE_HOME": str(tmp_path / "cache")},
            out=io.StringIO(),
        )
    assert err.value.status != 0
    assert "build: image from Dockerfile failed (exit status" in err.value.message
    assert _docker("image", "inspect", tag).returncode != 0


@pytest.mark.engine
def test_buildx_path_for_real(engine, tmp_path, with_buildx):
    """`docker buildx build` with the docker driver: metadata file, digest in the summary."""
    checkout = make_checkout(tmp_path / "repo", dockerfile=TINY_DOCKERFILE)
    tag = f"cilium-envoy-toolkit-test:{uuid.uuid4().hex[:12]}"
    out = io.StringIO()
    try:
        bp = build.main(["--docker", engine, "--tag", tag], "build", root=checkout.root,
                        environ={"XDG_CACHE_HOME": str(tmp_path / "cache")}, out=out)  # fmt: skip
        argv = list(bp.plan.steps[-1].argv)
        assert argv[1:3] == ["buildx", "build"] and bp.plan.steps[-1].env == ()
        assert "--load" in argv and "--metadata-file=.nox/cilium-envoy/build.metadata.json" in argv
        meta = json.loads((checkout.root / ".nox/cilium-envoy/build.metadata.json").read_text())
        digest = meta["containerimage.digest"]
        image_id = _docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
        assert digest == image_id  # the docker driver's digest is the image's id
        assert f"digest: {digest}" in out.getvalue() and "buildx" in bp.plan.notes[0]
    finally:
        _docker("rmi", "-f", tag)


@pytest.mark.engine
@pytest.mark.parametrize("path", ["buildx", "fallback"])
def test_pasted_plan_in_a_fresh_clone_gives_the_same_image(engine, tmp_path, request, path):
    """The dry run's script, run at the top of a fresh clone, builds what the session builds."""
    request.getfixturevalue("with_buildx" if path == "buildx" else "without_buildx")
    checkout = make_checkout(tmp_path / "repo", dockerfile=TINY_DOCKERFILE + "COPY . /context/\n")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(checkout.root), str(clone)], check=True)
    tag = f"cilium-envoy-toolkit-test:{uuid.uuid4().hex[:12]}"
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    argv = ["--docker", engine, "--tag", tag]
    try:
        out = io.StringIO()
        build.main([*argv, "--dry-run"], "build", root=checkout.root, environ=environ, out=out)
        script = out.getvalue()
        build.main(argv, "build", root=checkout.root, environ=environ, out=io.StringIO())
        by_session = _docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
        _docker("rmi", "-f", tag)
        # The clone has no generated files; the script writes them and builds.
        env = {**os.environ, "PYTHONPATH": str(Path(build.__file__).parents[2])}
        proc = subprocess.run(["sh", "-c", script], cwd=clone, capture_output=True, text=True,
                              env=env, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        by_script = _docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
        assert by_script.startswith("sha256:") and by_script == by_session
        for name in ("SOURCE_VERSION", "Dockerfile.dockerignore", "Dockerfile.tests.dockerignore",
                     "Dockerfile.builder.dockerignore"):  # fmt: skip
            assert (clone / name).read_bytes() == (checkout.root / name).read_bytes(), name
        assert git(clone, "rev-parse", "HEAD") == checkout.head
    finally:
        _docker("rmi", "-f", tag)
        shutil.rmtree(clone, ignore_errors=True)
