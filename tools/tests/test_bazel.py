"""tools/envoy/bazel.py (the in-container steps) and the build files it relies on.

The steps run for real on this host, with tools/tests/fixtures/engine/bazel (the Bazel
stand-in of the engine tests) as BAZEL where a step calls Bazel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tools import elf
from tools.envoy import bazel

REPO = Path(__file__).resolve().parents[2]
STANDIN = Path(__file__).resolve().parent / "fixtures" / "engine" / "bazel"
#: The release ENVOY_VERSION pins (the steps stamp and compare it).
PINNED = (REPO / "ENVOY_VERSION").read_text().strip()
SESSION_BUILD_ARGS = {
    "BUILDER_BASE", "ARCHIVE_IMAGE", "BAZEL_BUILD_OPTS", "BAZEL_TEST_OPTS", "DEBUG",
    "RELEASE_DEBUG", "COPY_CACHE_EXT", "NO_CACHE", "TARGETARCH", "BUILDARCH",
}  # fmt: skip


def cfg(tmp_path: Path, root: Path = REPO, **env: str) -> bazel.Config:
    base = {
        "TARGETARCH": "amd64",
        "CILIUM_BAZEL_CACHE": str(tmp_path / "cache"),
        "CILIUM_OUTPUT_ROOT": str(tmp_path / "output"),
        "CILIUM_INSTALL_ROOT": str(tmp_path / "install"),
        "CILIUM_TESTLOGS": str(tmp_path / "testlogs"),
        "BAZEL": str(STANDIN),
    }
    return bazel.Config({**base, **env}, root)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the files the steps read (dependency files, sources, tests)."""
    root = tmp_path / "tree"
    root.mkdir()
    for name in (".bazelversion", "ENVOY_VERSION", "WORKSPACE", "BUILD", ".bazelrc"):
        shutil.copy2(REPO / name, root / name)
    for name in ("envoy", "cilium-filters", "tests"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("FAIL"))
    (root / "tools" / "envoy").mkdir(parents=True)
    for name in ("__init__.py", "arches.py", "envoy/__init__.py", "envoy/bazel.py",
                 "envoy/bazel_config.py", "envoy/cache.py", "elf.py"):  # fmt: skip
        shutil.copy2(REPO / "tools" / name, root / "tools" / name)
    return root


# --- the Bazel command -------------------------------------------------------------------


def test_release_build_command_in_order(tmp_path):
    argv = bazel.build_argv(cfg(tmp_path, BAZEL_BUILD_OPTS="--jobs=2 --define x=y"))
    assert argv[1:3] == [f"--output_user_root={tmp_path / 'output'}", "build"]
    assert argv[3:] == [
        "--config=release",
        "--platforms=//envoy/platforms:linux_x86_64",
        f"--disk_cache={tmp_path / 'cache' / 'disk'}",
        f"--repository_cache={tmp_path / 'cache' / 'repo'}",
        "--jobs=2",
        "--define",
        "x=y",
        "//:cilium-envoy",
        "//cilium-filters/module:libcilium.so",
        "//cilium-filters/module:abi_check",
    ]


@pytest.mark.parametrize(
    "env, mode",
    [
        ({"DEBUG": "1"}, ["-c", "dbg"]),
        ({"RELEASE_DEBUG": "1"}, ["--config=release_debug"]),
        ({"DEBUG": "0", "RELEASE_DEBUG": ""}, ["--config=release"]),
    ],
)
def test_debug_settings_pick_the_configuration(tmp_path, env, mode):
    argv = bazel.build_argv(cfg(tmp_path, **env))
    assert argv[3 : 3 + len(mode)] == mode
    assert ("--config=release" in argv) == (mode == ["--config=release"])


def test_target_architecture_names_the_platform(tmp_path):
    assert "--platforms=//envoy/platforms:linux_aarch64" in bazel.build_argv(
        cfg(tmp_path, TARGETARCH="arm64")
    )
    with pytest.raises(bazel.StepError, match="TARGETARCH `riscv64` is not supported"):
        cfg(tmp_path, TARGETARCH="riscv64")


def test_debug_and_release_debug_exclude_each_other(tmp_path, capsys):
    env = {"TARGETARCH": "amd64", "DEBUG": "1", "RELEASE_DEBUG": "1"}
    assert bazel.main(["build"], env, REPO) == 1
    assert "DEBUG and RELEASE_DEBUG exclude each other" in capsys.readouterr().err


def test_unknown_step_is_named(capsys):
    assert bazel.main(["biuld"], {"TARGETARCH": "amd64"}, REPO) == 2
    assert "unknown step biuld" in capsys.readouterr().err


def test_test_command_uses_test_options_and_host_platform(tmp_path):
    argv = bazel.test_argv(cfg(tmp_path, BAZEL_TEST_OPTS="--test_timeout=100 --test_output=errors"))
    assert argv[2] == "test"
    assert not any(a.startswith("--platforms") or a == "--config=release" for a in argv)
    assert argv[-3:] == ["--test_timeout=100", "--test_output=errors", "//tests/..."]


# --- the archive's cache -------------------------------------------------------------------


def _stamped_cache(c: bazel.Config, stamp: dict | None) -> None:
    (c.cache / "disk" / "ac").mkdir(parents=True)
    (c.cache / "disk" / "ac" / "entry").write_text("x")
    if stamp is not None:
        (c.cache / bazel.STAMP).write_text(json.dumps(stamp))


def test_matching_archive_is_reused(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree)
    _stamped_cache(c, bazel.tree_stamp(tree))
    bazel.step_prepare_cache(c)
    out = capsys.readouterr().out
    assert f"archive cache matches {PINNED}" in out and "reusing 1 disk cache entries" in out
    assert (c.cache / "disk" / "ac" / "entry").exists()


def test_archive_of_another_envoy_is_cleared(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree)
    stamp = bazel.tree_stamp(tree)
    stamp["envoy_version"] = "envoy-1.31.0"
    _stamped_cache(c, stamp)
    bazel.step_prepare_cache(c)
    out = capsys.readouterr().out
    assert f"stale (ENVOY_VERSION envoy-1.31.0 in the archive, {PINNED} here)" in out
    assert not (c.cache / "disk" / "ac").exists() and (c.cache / "disk").is_dir()
    assert bazel.read_stamp(c.cache) == bazel.tree_stamp(tree)


def test_changed_dependency_file_is_named_and_clears(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree)
    _stamped_cache(c, bazel.tree_stamp(tree))
    with open(tree / "envoy" / "envoy.bzl", "a") as handle:
        handle.write("# changed\n")
    bazel.step_prepare_cache(c)
    assert "dependency files differ: envoy/envoy.bzl" in capsys.readouterr().out
    assert not (c.cache / "disk" / "ac").exists()


def test_own_sources_are_not_dependencies(tree):
    before = bazel.dependency_hashes(tree)
    (tree / "cilium-filters" / "BUILD").write_text("# changed\n")
    (tree / "envoy" / "bazelrc").write_text("# changed\n")
    assert bazel.dependency_hashes(tree) == before
    (tree / "envoy" / "patches" / "0001-x.patch").write_text("patch\n")
    assert "envoy/patches/0001-x.patch" in bazel.dependency_hashes(tree)


def test_unstamped_archive_is_cleared(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree)
    _stamped_cache(c, None)
    bazel.step_prepare_cache(c)
    assert f"it has no {bazel.STAMP}" in capsys.readouterr().out
    assert not (c.cache / "disk" / "ac").exists()


def test_first_run_on_a_host_starts_empty(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree)
    bazel.step_prepare_cache(c)
    assert "no cache in" in capsys.readouterr().out
    assert bazel.read_stamp(c.cache) == bazel.tree_stamp(tree)
    assert (c.cache / "disk").is_dir() and (c.cache / "repo").is_dir()


def test_no_cache_clears_a_matching_archive(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree, NO_CACHE="1")
    _stamped_cache(c, bazel.tree_stamp(tree))
    (c.cache / "repo").mkdir()
    (c.cache / "repo" / "blob").write_text("x")
    bazel.step_prepare_cache(c)
    assert "NO_CACHE=1: cleared the disk and repository caches" in capsys.readouterr().out
    assert not (c.cache / "disk" / "ac").exists() and not (c.cache / "repo" / "blob").exists()


def test_copy_cache_only_with_an_extension(tmp_path, tree, capsys):
    c = cfg(tmp_path, tree)
    _stamped_cache(c, bazel.tree_stamp(tree))
    bazel.step_copy_cache(c)
    assert "COPY_CACHE_EXT is not set" in capsys.readouterr().out
    assert not (tmp_path / "cache.new").exists()
    bazel.step_copy_cache(cfg(tmp_path, tree, COPY_CACHE_EXT=".new"))
    assert (tmp_path / "cache.new" / "disk" / "ac" / "entry").exists()
    assert bazel.read_stamp(tmp_path / "cache.new") == bazel.tree_stamp(tree)
    with pytest.raises(bazel.StepError, match="COPY_CACHE_EXT `/x`"):
        cfg(tmp_path, tree, COPY_CACHE_EXT="/x")


# --- build, install, test with the stand-in ------------------------------------------------


def _run_steps(tree: Path, tmp_path: Path, *steps: str, python: str = sys.executable, **env: str):
    base = {
        "TARGETARCH": bazel.MACHINE_ARCH[os.uname().machine],
        "CILIUM_BAZEL_CACHE": str(tmp_path / "cache"),
        "CILIUM_OUTPUT_ROOT": str(tmp_path / "output"),
        "CILIUM_INSTALL_ROOT": str(tmp_path / "install"),
        "CILIUM_TESTLOGS": str(tmp_path / "testlogs"),
        "BAZEL": str(STANDIN),
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        [python, "-m", "tools.envoy.bazel", *steps],
        cwd=tree, env={**base, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_build_and_install_on_a_host(tmp_path, tree):
    proc = _run_steps(tree, tmp_path, "prepare-cache", "build", "install", "cleanup")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.startswith("tools.bazel ")]
    assert [line.split(":")[0] for line in lines] == [
        "tools.bazel prepare-cache", "tools.bazel build", "tools.bazel install", "tools.bazel cleanup",
    ]  # fmt: skip
    installed = tmp_path / "install" / "usr" / "bin" / "cilium-envoy"
    assert installed.stat().st_mode & stat.S_IXUSR
    assert elf.arch_of(installed) == bazel.MACHINE_ARCH[os.uname().machine]
    module = tmp_path / "install" / "usr" / "lib" / "cilium" / "libcilium.so"
    assert elf.arch_of(module) == bazel.MACHINE_ARCH[os.uname().machine]
    assert str(module) in next(line for line in lines if line.startswith("tools.bazel install"))
    assert not (tmp_path / "output").exists() and not (tree / "bazel-bin").is_symlink()
    assert list((tmp_path / "cache" / "disk").rglob("*"))  # the stand-in used the disk cache


def test_wrong_architecture_binary_is_caught(tmp_path):
    built = tmp_path / "cilium-envoy"
    shutil.copyfile(os.path.realpath(sys.executable), built)
    host = bazel.MACHINE_ARCH[os.uname().machine]
    other = "arm64" if host == "amd64" else "amd64"
    assert bazel.check_machine(built, host) == host
    with pytest.raises(bazel.StepError) as err:
        bazel.check_machine(built, other)
    assert f"built for {host} but the image is for {other}" in str(err.value)
    built.write_text("#!/bin/sh\n")
    with pytest.raises(bazel.StepError, match="is not an ELF binary"):
        bazel.check_machine(built, host)


def test_install_refuses_a_binary_for_another_platform(tmp_path, tree):
    # The stand-in writes an AArch64 binary for linux_aarch64, as a real cross-build does;
    # asking to install it as amd64 must fail before anything is installed.
    proc = _run_steps(tree, tmp_path, "build", TARGETARCH="arm64")
    assert proc.returncode == 0, proc.stderr
    proc = _run_steps(tree, tmp_path, "install", TARGETARCH="amd64")
    assert proc.returncode == 1
    assert "was built for arm64 but the image is for amd64" in proc.stderr
    assert not (tmp_path / "install" / "usr" / "bin" / "cilium-envoy").exists()


def test_failing_test_shows_its_log_and_fails(tmp_path, tree):
    ok = _run_steps(tree, tmp_path, "test", BAZEL_TEST_OPTS="--test_output=errors")
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "testlogs" / "tests" / "version_test" / "test.log").exists()
    (tree / "tests" / "FAIL").write_text("")
    failed = _run_steps(tree, tmp_path, "test")
    assert failed.returncode == 3
    assert "===== tests/version_test/test.log =====" in failed.stdout
    assert "FAIL: tests/FAIL is present" in failed.stdout
    assert "bazel test failed (exit status 3)" in failed.stderr


IN_CONTAINER_MODULES = (
    "tools/envoy/bazel.py",
    "tools/envoy/bazel_config.py",
    "tools/envoy/cache.py",
    "tools/elf.py",
    "tools/tests/fixtures/engine/bazel",
)


@pytest.mark.parametrize("path", IN_CONTAINER_MODULES)
def test_in_container_code_is_python38_syntax(path):
    import ast

    ast.parse((REPO / path).read_text(), path, feature_version=(3, 8))


def _interpreter(name: str) -> str | None:
    """The absolute path of Python ``name`` when it runs here (through pyenv shims too)."""
    try:
        proc = subprocess.run([name, "-c", "import sys; print(sys.executable)"],
                              capture_output=True, text=True, check=False)  # fmt: skip
    except OSError:
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


PYTHON38 = _interpreter("python3.8")


@pytest.mark.skipif(PYTHON38 is None, reason="no python3.8 to run")
def test_steps_run_on_python38(tmp_path, tree):
    # The oldest Python the builder images may have; runs every step for real.
    env = {"COPY_CACHE_EXT": ".new", "BAZEL_TEST_OPTS": "--test_output=errors"}
    proc = _run_steps(tree, tmp_path, "deps", "prepare-cache", "build", "install", "test",
                      "copy-cache", "cleanup", python=str(PYTHON38), **env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    steps = [
        line.split(":")[0] for line in proc.stdout.splitlines() if line.startswith("tools.bazel ")
    ]
    assert steps == [f"tools.bazel {s}" for s in ("deps", "prepare-cache", "build", "install",
                     "test", "test", "copy-cache", "cleanup")]  # fmt: skip


def test_missing_bazel_is_one_sentence(tmp_path, tree):
    proc = _run_steps(tree, tmp_path, "build", BAZEL="no-such-bazel")
    assert proc.returncode == 127
    assert proc.stderr.strip() == (
        "tools.bazel: `no-such-bazel` was not found; build needs Bazel on PATH."
    )


# --- the pinned versions and build files ---------------------------------------------------


def _bzl_value(name: str) -> str:
    text = (REPO / "envoy" / "envoy.bzl").read_text()
    match = re.search(rf'^{name} = "([^"]*)"', text, re.M)
    assert match, f"{name} not found in envoy/envoy.bzl"
    return match.group(1)


def test_pinned_envoy_matches_envoy_version():
    assert f"envoy-{_bzl_value('ENVOY_VERSION')}" == (REPO / "ENVOY_VERSION").read_text().strip()


def test_envoy_is_fetched_by_its_full_commit():
    # The commit is the whole pin (tools/tests/test_envoy_build.py checks the rule and,
    # with an Envoy clone at hand, that the commit is the release).
    assert re.fullmatch(r"[0-9a-f]{40}", _bzl_value("ENVOY_COMMIT"))
    assert _bzl_value("ENVOY_REMOTE") == "https://github.com/envoyproxy/envoy.git"


def test_bazel_version_file():
    assert (REPO / ".bazelversion").read_text().strip() == "7.7.1"  # Envoy 1.38.3 builds with it


def test_patches_list_matches_the_folder():
    text = (REPO / "envoy" / "envoy.bzl").read_text()
    listed = re.findall(r'"([^"]+\.patch)"', text.split("ENVOY_PATCHES", 1)[1])
    on_disk = sorted(p.name for p in (REPO / "envoy" / "patches").glob("*.patch"))
    assert listed == on_disk


def test_platforms_exist_for_every_architecture():
    text = (REPO / "envoy" / "platforms" / "BUILD").read_text()
    for platform in bazel.PLATFORMS.values():
        assert f'name = "{platform}"' in text


def test_bazelrc_defines_the_configurations():
    text = (REPO / "envoy" / "bazelrc").read_text()
    for config in ("release", "release_debug"):
        assert re.search(rf"^build:{config} ", text, re.M), config
    assert "import %workspace%/envoy/bazelrc" in (REPO / ".bazelrc").read_text()
    # Envoy 1.38 is C++20 and needs its googleurl without ICU; the toolchains say C++20 too.
    assert "build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20" in text
    assert 'cxx_flags = ["-std=c++20"]' in (REPO / "envoy" / "toolchains" / "clang.bzl").read_text()


def test_files_the_bazelrc_names_exist():
    text = (REPO / "envoy" / "bazelrc").read_text()
    named = re.findall(
        r"--(?:platform_mappings|workspace_status_command)=\"?(?:sh )?([\w/.]+)", text
    )
    assert len(named) == 2
    for path in named:
        assert (REPO / path).is_file(), path


def _platform_cpus() -> dict[str, str]:
    """Platform name -> its @platforms//cpu constraint, from envoy/platforms/BUILD."""
    text = (REPO / "envoy" / "platforms" / "BUILD").read_text()
    return dict(re.findall(r'platform\(\s*name = "(\w+)",.*?"(@platforms//cpu:\w+)"', text, re.S))


def test_every_platform_has_its_own_cross_toolchain():
    cpus = _platform_cpus()
    assert set(cpus) == set(bazel.PLATFORMS.values())
    build = (REPO / "envoy" / "toolchains" / "BUILD").read_text()
    toolchains = {
        name: (cpu, triple)
        for name, cpu, triple in re.findall(
            r'clang_linux_toolchain\(\s*name = "(\w+)",.*?cpu = "(@platforms//cpu:\w+)",'
            r'\s*triple = "([\w-]+)"',
            build,
            re.S,
        )
    }
    assert set(toolchains) == set(cpus)
    for name, (cpu, triple) in toolchains.items():
        assert cpu == cpus[name], name
        assert triple.startswith(cpu.rsplit(":", 1)[1] + "-linux-gnu"), name
    assert 'register_toolchains("//envoy/toolchains:all")' in (REPO / "WORKSPACE").read_text()
    mappings = (REPO / "envoy" / "platforms" / "platform_mappings").read_text()
    for name in cpus:
        assert f"  //envoy/platforms:{name}\n" in mappings
        assert f"    //envoy/platforms:{name}\n" in mappings


def test_toolchain_llvm_is_the_builder_images():
    clang_bzl = (REPO / "envoy" / "toolchains" / "clang.bzl").read_text()
    match = re.search(r'^LLVM_MAJOR = "(\d+)"', clang_bzl, re.M)
    assert match is not None, "envoy/toolchains/clang.bzl sets no LLVM_MAJOR"
    major = match.group(1)
    builder = (REPO / "Dockerfile.builder").read_text()
    for package in ("clang", "lld", "llvm"):
        assert re.search(rf"\s{package}-{major}\s", builder), package
    assert f"llvm-toolchain-noble-{major} " in builder
    assert f"build --action_env=CC=clang-{major} " in (REPO / "envoy" / "bazelrc").read_text()


def test_extension_config_defines_what_envoy_reads():
    # The file is Starlark of the Python-compatible kind: run it and look at the names.
    names: dict = {}
    path = REPO / "envoy" / "build_config" / "extensions_build_config.bzl"
    exec(compile(path.read_text(), str(path), "exec"), names)  # noqa: S102 (our own file)
    for name in (
        "EXTENSION_CONFIG_VISIBILITY", "EXTENSION_PACKAGE_VISIBILITY",
        "CONTRIB_EXTENSION_PACKAGE_VISIBILITY", "MOBILE_PACKAGE_VISIBILITY",
    ):  # fmt: skip
        assert isinstance(names.get(name), list), name
    assert names.get("LEGACY_ALWAYSLINK") in (0, 1)
    extensions = names["EXTENSIONS"]
    for name, label in extensions.items():
        assert name.startswith("envoy.")
        assert re.fullmatch(r"//(source/extensions|contrib)/[\w/]+:\w+", label), label
    # What every cilium-envoy needs, whatever else is trimmed.
    for needed in ("envoy.filters.network.http_connection_manager", "envoy.filters.http.router",
                   "envoy.config_subscription.grpc", "envoy.transport_sockets.tls"):  # fmt: skip
        assert needed in extensions, needed


def test_workspace_status_reports_the_source_version(tmp_path):
    script = REPO / "envoy" / "workspace_status.sh"
    (tmp_path / "SOURCE_VERSION").write_text("0123abcd\n")
    proc = subprocess.run(["sh", str(script)], cwd=tmp_path, capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert proc.stdout.splitlines() == [
        "BUILD_SCM_REVISION 0123abcd",
        "BUILD_SCM_STATUS Distribution",
    ]
    (tmp_path / "SOURCE_VERSION").unlink()
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}
    proc = subprocess.run(["sh", str(script)], cwd=tmp_path, capture_output=True, text=True,
                          check=True, env=env)  # fmt: skip
    assert proc.stdout.splitlines()[0] == "BUILD_SCM_REVISION unknown"


def test_version_test_script_checks_the_release(tmp_path):
    fake = tmp_path / "proxy"
    version = tmp_path / "ENVOY_VERSION"
    version.write_text("envoy-1.32.3\n")
    script = REPO / "tests" / "version_test.sh"
    for reported, status in (("1.32.3", 0), ("1.31.0", 1)):
        fake.write_text(f"#!/bin/sh\necho 'envoy abc/{reported}/Clean/RELEASE/BoringSSL'\n")
        fake.chmod(0o755)
        proc = subprocess.run(
            ["sh", str(script), str(fake), str(version)], capture_output=True, check=False
        )
        assert proc.returncode == status


# --- the Dockerfiles -----------------------------------------------------------------------


def stages(path: Path) -> list[tuple[str, str]]:
    """(image, stage name) of every FROM, in order."""
    found = []
    for match in re.finditer(
        r"^FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", path.read_text(), re.M
    ):
        found.append((match.group(1), match.group(2) or ""))
    return found


def test_release_dockerfile_stages():
    text = (REPO / "Dockerfile").read_text()
    assert [name for _, name in stages(REPO / "Dockerfile")] == [
        "runtime-base", "builder-fresh", "builder-cache", "builder",
        "empty-builder-archive", "builder-archive", "",
    ]  # fmt: skip
    assert stages(REPO / "Dockerfile")[-1][0] == "${RUNTIME_BASE}"
    head = text.split("\nFROM ", 1)[0]
    for arg in (
        "ARG ARCHIVE_IMAGE=builder-fresh",
        "ARG RUNTIME_BASE=runtime-base",
        "ARG BUILDER_BASE=",
    ):
        assert arg in head
    for stage in ("builder-fresh", "builder"):
        assert re.search(
            rf"^FROM --platform=\$BUILDPLATFORM \$\{{BUILDER_BASE\}} AS {stage}$", text, re.M
        )
    assert "FROM ${ARCHIVE_IMAGE} AS builder-cache" in text


def test_tests_dockerfile_stages():
    names = [name for _, name in stages(REPO / "Dockerfile.tests")]
    assert names == [
        "builder-fresh", "builder-cache", "runner", "empty-builder-archive", "builder-archive",
        "testlogs",
    ]  # fmt: skip
    assert "BAZEL_TEST_OPTS" in (REPO / "Dockerfile.tests").read_text()


@pytest.mark.parametrize("name", ["Dockerfile", "Dockerfile.tests"])
def test_every_working_run_is_a_tools_bazel_step(name):
    text = (REPO / name).read_text().replace("\\\n", " ")
    runs = re.findall(r"^RUN (.*)$", text, re.M)
    work = [r for r in runs if "apt-get" not in r]
    assert work
    for run in work:
        assert re.search(r"python3 -m tools\.envoy\.bazel( [a-z-]+)+$", run), run
        assert all(s in bazel.STEPS for s in run.split("tools.envoy.bazel", 1)[1].split())


#: Files under envoy/ that Bazel never reads; they stay out of the build stages, so
#: editing them re-runs nothing.
NOT_BAZEL_INPUTS = {"envoy/cilium-compat.tsv"}


def stage_copies(path: Path, stage: str) -> list[str]:
    """Context sources of the COPY instructions of ``stage`` (not COPY --from)."""
    text = path.read_text().replace("\\\n", " ")
    body = re.split(rf"^FROM .* AS {stage}$", text, flags=re.M)[1].split("\nFROM ", 1)[0]
    sources = []
    for line in re.findall(r"^COPY (.*)$", body, re.M):
        words = [w for w in line.split() if not w.startswith("--")]
        if "--from=" not in line:
            sources += words[:-1]
    return sources


def copied_files(sources: list[str]) -> set[str]:
    files = set()
    for source in sources:
        for match in REPO.glob(source.rstrip("/")):
            found = match.rglob("*") if match.is_dir() else [match]
            files |= {p.relative_to(REPO).as_posix() for p in found if p.is_file()}
    return files


def _tracked(folder: str) -> set[str]:
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "--", folder],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    on_disk = {p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*") if p.is_file()}
    return (set(listed.split()) | on_disk) - {p for p in on_disk if "__pycache__" in p}


@pytest.mark.parametrize(
    "dockerfile, stage, folders",
    [
        ("Dockerfile", "builder-fresh", ["envoy"]),
        ("Dockerfile", "builder", ["envoy", "cilium-filters"]),
        ("Dockerfile.tests", "builder-fresh", ["envoy"]),
        ("Dockerfile.tests", "runner", ["envoy", "cilium-filters", "tests"]),
    ],
)
def test_build_stages_copy_every_bazel_input(dockerfile, stage, folders, git_checkout):
    copied = copied_files(stage_copies(REPO / dockerfile, stage))
    for folder in folders:
        missing = _tracked(folder) - NOT_BAZEL_INPUTS - copied
        assert not missing, f"{dockerfile} {stage} does not copy {sorted(missing)}"
    assert not copied & NOT_BAZEL_INPUTS
    for name in ("WORKSPACE", ".bazelrc", ".bazelversion", "ENVOY_VERSION", "tools/envoy/bazel.py"):
        assert name in copied, name


def test_the_session_build_args_are_consumed():
    declared = set()
    for name in ("Dockerfile", "Dockerfile.tests"):
        declared |= set(re.findall(r"^ARG (\w+)", (REPO / name).read_text(), re.M))
    assert SESSION_BUILD_ARGS <= declared


def test_builder_dockerfile_contract():
    text = (REPO / "Dockerfile.builder").read_text()
    assert re.findall(r"^COPY (\S+)", text, re.M) == [".bazelversion"]
    assert "ubuntu:24.04@sha256:" in text
    assert "useradd -u 1337 -g 1337" in text and "USER 1337:1337" in text
    assert "sha256sum -c" in text and "$(cat /tmp/.bazelversion)" in text
    assert "(18, 1, 8)" in text  # refuses a clang older than 18.1.8
    # The autotools, make, cmake and ninja: what Envoy's foreign_cc dependencies run.
    for package in ("clang-18", "lld-18", "python3", "git", "patch", "golang-go", "autoconf",
                    "automake", "libtool", "make", "cmake", "ninja-build", "pkg-config"):  # fmt: skip
        assert re.search(rf"\s{re.escape(package)}\s", text), package
