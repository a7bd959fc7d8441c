"""The real Dockerfiles through the real image sessions, against a real Docker engine.

The sessions run in-process (tools.image.build.main) with Debian's docker CLI, so this is the
plugin-less path: `DOCKER_BUILDKIT=1 docker build`.  The base images are local (see
tools/tests/engine_images.py): **the builder image's `bazel` is a stand-in that replaces
the hour-long Envoy build**; Dockerfile, Dockerfile.tests, tools/envoy/bazel.py, the plans and
BuildKit are the real ones.  Cache behaviour is read from BuildKit's own plain output.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tools import elf
from tools.envoy import bazel
from tools.errors import ToolkitError
from tools.image import build, extract
from tools.tests.engine_images import (  # noqa: F401 (base_images is a fixture)
    BaseImages,
    base_images,
    make_engine_checkout,
)
from tools.tests.toolkit_fixtures import DISTRO_DOCKER

pytestmark = pytest.mark.engine

#: The release ENVOY_VERSION pins (the engine checkout is a copy of this tree).
PINNED = (Path(__file__).resolve().parents[2] / "ENVOY_VERSION").read_text().strip()


def _docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DISTRO_DOCKER, *args], capture_output=True, text=True, check=False)


class Sessions:
    """Runs image sessions on one engine checkout and remembers the tags to remove."""

    def __init__(self, root: Path, images: BaseImages, cache: Path, capfd) -> None:
        self.root, self.images, self.cache, self.capfd = root, images, cache, capfd
        self.tags: list[str] = []
        # Bazel's persistent cache mount of this checkout only: tests running side by side
        # on one engine must not see each other's caches.
        self.cache_id = f"engine-test-{uuid.uuid4().hex[:12]}"

    def tag(self, what: str) -> str:
        tag = f"cilium-envoy-engine-test/{what}:{uuid.uuid4().hex[:12]}"
        self.tags.append(tag)
        return tag

    def run(
        self,
        session: str,
        *args: str,
        tag: str | None = None,
        runtime: str | None = None,
        cache_id: str | None = None,
    ) -> str:
        """Run ``session``; return everything docker and the steps printed."""
        self.capfd.readouterr()
        argv = [
            "--docker", DISTRO_DOCKER,
            "--builder-base", self.images.builder,
            "--docker-build-opts",
            f"--build-arg RUNTIME_BASE={runtime or self.images.rootfs} --progress=plain "
            f"--build-arg BAZEL_CACHE_ID={cache_id or self.cache_id}",
            "--tag", tag or self.tag(session),
            *args,
        ]  # fmt: skip
        build.main(argv, session, root=self.root, environ={"XDG_CACHE_HOME": str(self.cache)},
                   out=io.StringIO())  # fmt: skip
        captured = self.capfd.readouterr()
        return captured.out + captured.err

    def file_from(self, image: str, path: str, dest: Path) -> Path:
        container = _docker("create", image, "none").stdout.strip()
        assert container, f"cannot create a container of {image}"
        try:
            proc = _docker("cp", f"{container}:{path}", str(dest))
            assert proc.returncode == 0, proc.stderr
        finally:
            _docker("rm", container)
        return dest


@pytest.fixture
def sessions(base_images, tmp_path, capfd, monkeypatch):  # noqa: F811
    # The plugin-less path, whatever this machine has installed: a client config folder
    # without cli-plugins (test_build_engine.py runs the buildx path).
    (tmp_path / "docker-config").mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    runner = Sessions(
        make_engine_checkout(tmp_path / "repo"), base_images, tmp_path / "cache", capfd
    )
    yield runner
    if runner.tags:
        _docker("rmi", "-f", *runner.tags)


def bazel_steps(output: str) -> dict[str, bool]:
    """For each BuildKit step that runs tools.envoy.bazel: its command -> whether it ran (not CACHED)."""
    names = {}
    for match in re.finditer(r"^#(\d+) \[[^\]]+\] RUN (.*tools\.envoy\.bazel.*)$", output, re.M):
        names[match.group(1)] = match.group(2).split("tools.envoy.bazel", 1)[1].strip()
    return {
        command: not re.search(rf"^#{number} CACHED$", output, re.M)
        for number, command in names.items()
    }


def stand_in_line(output: str, command: str) -> str:
    found = re.findall(rf"bazel stand-in: {command} .*", output)
    assert found, f"the Bazel stand-in did not run `{command}`:\n{output[-3000:]}"
    return found[-1]


def test_build_gives_an_image_whose_proxy_runs_and_extract_copies_it(sessions, tmp_path):
    tag = sessions.tag("build")
    output = sessions.run("build", "--no-archive", tag=tag)
    line = stand_in_line(output, "build")
    assert "mode=[--config=release]" in line
    assert re.search(r"platforms=//envoy/platforms:linux_(x86_64|aarch64) ", line)
    assert "tools.bazel install: /cilium/install/usr/bin/cilium-envoy" in output
    proc = _docker("run", "--rm", "--entrypoint", "/usr/bin/cilium-envoy", tag, "--version")
    assert proc.returncode == 0 and proc.stdout.startswith("Python"), proc.stderr

    # `nox -s extract` on what `build` made: the binary lands in DIR/<arch>/, no container stays.
    arch = bazel.MACHINE_ARCH[os.uname().machine]
    out = io.StringIO()
    written = extract.main(
        ["--image", tag, "--output", str(tmp_path / "out"), "--platform", f"linux/{arch}"],
        root=sessions.root, out=out,
    )  # fmt: skip
    binary = tmp_path / "out" / arch / "cilium-envoy"
    assert binary in written and elf.arch_of(binary) == arch
    assert binary.stat().st_mode & 0o111
    copied = sessions.file_from(tag, "/usr/bin/cilium-envoy", tmp_path / "copied")
    assert binary.read_bytes() == copied.read_bytes()
    assert f"(linux/{arch})" in out.getvalue()
    assert not _docker("ps", "-aq", "--filter", f"ancestor={tag}").stdout.strip()


amd64_host = pytest.mark.skipif(
    os.uname().machine != "x86_64", reason="cross-builds to arm64 start from an amd64 host"
)


@amd64_host
def test_arm64_cross_build_ships_an_arm64_proxy(sessions, tmp_path):
    tag = sessions.tag("build-arm64")
    output = sessions.run(
        "build", "--no-archive", "--arch", "arm64", tag=tag, runtime=sessions.images.arm64_runtime
    )
    assert "platforms=//envoy/platforms:linux_aarch64 " in stand_in_line(output, "build")
    assert "cross-compiled on linux/amd64" in output
    proxy = sessions.file_from(tag, "/usr/bin/cilium-envoy", tmp_path / "proxy")
    assert elf.arch_of(proxy) == "arm64"


@amd64_host
def test_wrong_architecture_is_caught_before_the_image_is_finished(sessions):
    # The stand-in now ignores --platforms, like a build that lost the platform.
    (sessions.root / "cilium-filters" / "standin-ignores-platforms").write_text("")
    tag = sessions.tag("build-arm64-wrong")
    with pytest.raises(ToolkitError):
        sessions.run(
            "build", "--no-archive", "--arch", "arm64", tag=tag,
            runtime=sessions.images.arm64_runtime,
        )  # fmt: skip
    captured = sessions.capfd.readouterr()
    assert "was built for amd64 but the image is for arm64" in captured.out + captured.err
    assert _docker("image", "inspect", tag).returncode != 0


def test_an_image_that_cannot_be_pulled_is_named_in_one_sentence(sessions):
    missing = "registry.invalid/cilium/envoy-archive:none"
    with pytest.raises(ToolkitError) as err:
        sessions.run("build", "--archive-image", missing)
    assert err.value.message.startswith(
        f"The build could not pull {missing} from registry.invalid (the error is above): "
    )
    assert "--archive-image IMAGE or --no-archive" in err.value.message
    assert "see the output above" not in err.value.message
    captured = sessions.capfd.readouterr()
    assert f"load metadata for {missing}" in captured.err  # docker's own error still shown


def test_debug_reaches_bazel(sessions):
    output = sessions.run("build", "--no-archive", "--debug")
    assert "mode=[-c dbg]" in stand_in_line(output, "build")
    assert "tools.bazel build: debug build" in output


def test_archive_holds_the_cache_and_a_build_starts_from_it(sessions, tmp_path):
    archive = sessions.tag("archive")
    output = sessions.run("archive", "--no-archive", tag=archive)
    assert "tools.bazel copy-cache: copied" in output
    stamp = json.loads(
        sessions.file_from(archive, "/cilium/bazel-cache/stamp.json", tmp_path / "s").read_text()
    )
    assert stamp["envoy_version"] == PINNED and "WORKSPACE" in stamp["dependencies"]
    disk = sessions.file_from(archive, "/cilium/bazel-cache/disk", tmp_path / "disk")
    assert any(p.is_file() for p in disk.rglob("*"))

    # A build whose persistent cache is still empty starts from the archive's cache.
    fresh = f"engine-test-{uuid.uuid4().hex[:12]}"
    output = sessions.run("build", f"--archive-image={archive}", cache_id=fresh)
    assert f"archive cache matches {PINNED}" in output
    assert "seeded the persistent cache (empty before)" in output
    assert re.search(r"disk_cache=\S+ \([1-9]\d* entries\)", stand_in_line(output, "build"))

    # NO_CACHE=1 clears what the archive brought.
    output = sessions.run("build", f"--archive-image={archive}", "--no-cache=1", cache_id=fresh)
    assert "NO_CACHE=1: cleared the disk and repository caches" in output
    assert stand_in_line(output, "build").endswith("(empty)")

    # An archive made for other dependencies is named stale and not reused.
    with open(sessions.root / "envoy" / "envoy.bzl", "a") as handle:
        handle.write("# another pin\n")
    output = sessions.run("build", f"--archive-image={archive}", cache_id=fresh)
    assert "stale (dependency files differ: envoy/envoy.bzl)" in output
    assert stand_in_line(output, "build").endswith("(empty)")


def test_a_rebuild_after_an_edit_keeps_the_bazel_cache(sessions):
    """The persistent cache mount outlives the build: the second build finds the first's work."""
    first = sessions.run("build", "--no-archive")
    assert stand_in_line(first, "build").endswith("(empty)")
    with open(sessions.root / "cilium-filters" / "BUILD", "a") as handle:
        handle.write("\n# a small edit\n")
    second = sessions.run("build", "--no-archive")
    assert f"persistent cache matches {PINNED} and its dependency files; reusing" in second
    assert re.search(r"disk_cache=\S+ \([1-9]\d* entries\)", stand_in_line(second, "build"))
    # Another mode has its own cache: a debug build does not see the release build's work.
    debug = sessions.run("build", "--no-archive", "--debug")
    assert stand_in_line(debug, "build").endswith("(empty)")


def test_tests_and_tests_archive(sessions, tmp_path):
    logs = sessions.tag("testlogs")
    output = sessions.run("tests", "--no-archive", tag=logs)
    assert "//tests:version_test PASSED" in output
    log = sessions.file_from(logs, "/testlogs/tests/version_test/test.log", tmp_path / "log")
    assert "PASS" in log.read_text()

    archive = sessions.tag("tests-archive")
    output = sessions.run("tests_archive", "--no-archive", tag=archive)
    assert "tools.bazel copy-cache: copied" in output
    stamp = sessions.file_from(archive, "/cilium/bazel-cache/stamp.json", tmp_path / "s")
    assert json.loads(stamp.read_text())["envoy_version"] == PINNED


def test_a_failing_test_fails_the_session_with_its_log(sessions):
    (sessions.root / "tests" / "FAIL").write_text("make the stand-in's test fail\n")
    with pytest.raises(ToolkitError) as err:
        sessions.run("tests", "--no-archive")
    output = sessions.capfd.readouterr()
    text = output.out + output.err
    assert "tests: image from Dockerfile.tests failed" in err.value.message
    assert "===== tests/version_test/test.log =====" in text
    assert "FAIL: tests/FAIL is present" in text


UNRELATED = {
    "README.md": "README.md",
    "go": "go/cilium/touched.go",
    "noxfile": "noxfile.py",
    "python tests": "tools/tests/test_bazel.py",
    "compat table": "envoy/cilium-compat.tsv",
}
RELATED = {"cilium-filters": "cilium-filters/BUILD", "envoy": "envoy/bazelrc"}


@pytest.mark.parametrize(
    "path, reruns",
    [(p, False) for p in UNRELATED.values()] + [(p, True) for p in RELATED.values()],
    ids=[*UNRELATED, *RELATED],
)
def test_which_edits_rerun_bazel(sessions, path, reruns):
    sessions.run("build", "--no-archive")
    target = sessions.root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a") as handle:
        handle.write(
            "\n# touched by the cache test\n" if not path.endswith(".go") else "package x\n"
        )
    steps = bazel_steps(sessions.run("build", "--no-archive"))
    build_step = [ran for command, ran in steps.items() if " build " in f" {command} "]
    assert build_step == [reruns], steps
