"""A real build through the plugin-less fallback, against a real Docker engine.

The Dockerfile is a tiny throwaway one; the session, the plan, the generated files
and `DOCKER_BUILDKIT=1 docker build` are the real ones.
"""

from __future__ import annotations

import io
import subprocess
import uuid

import pytest

from tools import build
from tools.errors import ToolkitError
from tools.tests.toolkit_fixtures import DISTRO_DOCKER, make_checkout

TINY_DOCKERFILE = """\
FROM scratch
ARG BUILDER_BASE
ARG BAZEL_BUILD_OPTS
COPY SOURCE_VERSION /SOURCE_VERSION
"""


def _docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DISTRO_DOCKER, *args], capture_output=True, text=True, check=False)


@pytest.mark.engine
def test_fallback_build_loads_a_real_image(engine, tmp_path):
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
def test_failing_build_fails_with_docker_status(engine, tmp_path):
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
