"""The policy engine's CMake builds: the variants, what this machine has for them, and the
steps that configure and build one.

Each variant has its own folder under build/filters/, configured once and then built
incrementally (``dev``: unit tests, the tool and the module; ``sanitize``: clang with ASan,
UBSan, libFuzzer and the threaded tests under TSan; ``release``: optimised, for the
benchmarks and the e2e module).  Facts are gathered once (:func:`gather`); the steps are
computed from them without I/O.  The validators come from protoc-gen-validate at the version
tools/api/api_plugins.toml pins, installed into the toolkit's cache when missing, as
`nox -s api` does (:func:`execute_plan` runs that install the api's way).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional, Sequence, TextIO, Tuple

from tools.api import generate as api
from tools.api import session as api_session
from tools.errors import ToolkitError
from tools.run import Plan, Step, execute

SOURCE_DIR = "cilium-filters"
BUILD_ROOT = "build/filters"

#: The code generator of the validators, pinned in tools/api/api_plugins.toml.
VALIDATE_PLUGIN = "protoc-gen-validate"

#: What to install when something is missing, per platform.
INSTALL_HINT = (
    "install them (Debian/Ubuntu: `apt-get install cmake ninja-build g++ clang pkg-config "
    "protobuf-compiler libprotobuf-dev libre2-dev libyaml-cpp-dev libgtest-dev "
    "libbenchmark-dev libgrpc++-dev protobuf-compiler-grpc`; macOS: `brew install cmake ninja "
    "pkg-config protobuf re2 yaml-cpp googletest google-benchmark grpc`; Go "
    f"{'.'.join(map(str, api.MIN_GO))} or newer from https://go.dev/dl/)"
)


@dataclass(frozen=True)
class Variant:
    """One build folder: how it is configured and what it builds."""

    name: str
    purpose: str
    cmake_options: Tuple[str, ...]
    compiler: Optional[str]  # the C++ compiler it needs (None: CMake's default)
    libraries: Tuple[str, ...]  # pkg-config names

    def folder(self, root: Path) -> Path:
        return root / BUILD_ROOT / self.name


_LIBS = ("protobuf", "re2", "yaml-cpp", "grpc++")
DEV = Variant(
    "dev",
    "unit tests and the cilium-policy tool",
    ("-DCMAKE_BUILD_TYPE=Debug",),
    None,
    _LIBS + ("gtest",),
)
SANITIZE = Variant(
    "sanitize",
    "clang with ASan+UBSan and the libFuzzer targets; the threaded tests with TSan",
    (
        "-DCMAKE_BUILD_TYPE=Debug",
        "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g",
        "-DCILIUM_SANITIZE=ON",
        "-DCILIUM_FUZZ=ON",
        "-DCILIUM_TSAN=ON",
    ),
    "clang++",
    _LIBS + ("gtest",),
)
RELEASE = Variant(
    "release",
    "optimised, for the benchmarks",
    ("-DCMAKE_BUILD_TYPE=Release", "-DCILIUM_BENCH=ON", "-DCILIUM_TESTS=OFF"),
    None,
    _LIBS + ("benchmark",),
)


# --- what this machine has ---------------------------------------------------------------


def _compiler_for(variant: Variant, environ: Mapping[str, str]) -> Optional[str]:
    if variant.compiler:
        return variant.compiler
    path = environ.get("PATH", "")
    return environ.get("CXX") or next(
        (c for c in ("c++", "g++", "clang++") if shutil.which(c, path=path)), None
    )


def missing(variant: Variant, environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """What `variant` needs that this machine lacks (empty when it can build)."""
    environ = os.environ if environ is None else environ
    path = environ.get("PATH", "")

    def which(tool: str) -> Optional[str]:
        return shutil.which(tool, path=path)

    # Go fetches protoc-gen-validate's module when CMake configures (and installs the plugin).
    tools = ("cmake", "ninja", "protoc", "pkg-config", "grpc_cpp_plugin", "go")
    lacking = [tool for tool in tools if not which(tool)]
    compiler = _compiler_for(variant, environ)
    if compiler is None or not which(compiler):
        lacking.append(compiler or "a C++ compiler")
    pkg_config = which("pkg-config")
    if pkg_config:
        for library in variant.libraries:
            found = subprocess.run(
                [pkg_config, "--exists", library],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=dict(environ),
                check=False,
            )
            if found.returncode != 0:
                lacking.append(f"{library} (pkg-config)")
    return lacking


def _require(variant: Variant, lacking: Sequence[str]) -> None:
    if lacking:
        raise ToolkitError(
            f"The {variant.name} build of the policy engine needs {', '.join(lacking)}; "
            f"{INSTALL_HINT}."
        )


# --- plans --------------------------------------------------------------------------------


def _configured(folder: Path, variant: Optional[Variant] = None, extra: Sequence[str] = ()) -> bool:
    """The folder is configured, with the variant's options (and `extra`) as they are now."""
    cache = folder / "CMakeCache.txt"
    if not (folder / "build.ninja").is_file() or not cache.is_file():
        return False
    if variant is None:
        return True
    try:
        lines = cache.read_text(errors="replace").splitlines()
    except OSError:
        return False
    values = {}
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and not line.startswith(("#", "//")):
            values[name.split(":", 1)[0]] = value
    for option in (*variant.cmake_options, *extra):
        name, _, value = option[2:].partition("=")
        if values.get(name) != value:
            return False
    return True


@dataclass(frozen=True)
class Facts:
    """What the plans depend on, per variant, gathered once (files and the tools on PATH)."""

    configured: Mapping[str, bool]  # its folder has been configured
    current: Mapping[str, bool]  # ... with the variant's options as they are now
    compilers: Mapping[str, Optional[str]]  # the C++ compiler it would configure with
    lacking: Mapping[str, List[str]]  # what it needs that this machine lacks (when asked)
    validators: "Validators"  # the pinned protoc-gen-validate, and whether it is installed


def gather(
    variants: Sequence[Variant],
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    *,
    clean: bool = False,
) -> Facts:
    """Look at the build folders and the machine; what a variant lacks is asked only when
    it has to be configured."""
    environ = os.environ if environ is None else environ
    found = validators(environ)
    configured = {v.name: _configured(v.folder(root)) for v in variants}
    return Facts(
        configured=configured,
        current={v.name: _configured(v.folder(root), v, found.cmake_options) for v in variants},
        compilers={v.name: _compiler_for(v, environ) for v in variants},
        lacking={v.name: missing(v, environ) for v in variants if clean or not configured[v.name]},
        validators=found,
    )


@dataclass(frozen=True)
class Validators:
    """protoc-gen-validate as tools/api/api_plugins.toml pins it: where the toolkit keeps the
    plugin (shared with `nox -s api`), and whether it is there."""

    pin: api.Pin
    plugin: Path
    installed: bool
    go: str  # the go that installs it

    @property
    def cmake_options(self) -> Tuple[str, ...]:
        return (f"-DCILIUM_PGV_PLUGIN={self.plugin}", f"-DCILIUM_PGV_MODULE={self.pin.target}")

    def install_step(self) -> Step:
        """`go install` of the pinned plugin into the toolkit's cache (see api's install)."""
        return Step(
            f"install {VALIDATE_PLUGIN} {self.pin.version} (pinned in {api.PINS_FILE})",
            (self.go, "install", self.pin.target),
            env=(("GOBIN", str(self.plugin.parent)),),
        )


def validators(environ: Mapping[str, str]) -> Validators:
    """The pinned plugin and whether this machine's toolkit cache holds it (read-only)."""
    pin = api.load_pins(api.TOOLKIT_ROOT).plugins[VALIDATE_PLUGIN]
    plugin = pin.path(environ)
    go = shutil.which("go", path=environ.get("PATH", "")) or "go"
    return Validators(pin, plugin, os.access(plugin, os.X_OK), go)


def build_steps(
    variant: Variant,
    root: Path,
    targets: Sequence[str],
    facts: Facts,
    *,
    jobs: Optional[int] = None,
    clean: bool = False,
) -> List[Step]:
    """Install the pinned protoc-gen-validate when missing; configure `variant` when its
    folder is new (or cleaned, or configured with other options), then build `targets`."""
    folder = variant.folder(root)
    steps: List[Step] = []
    rel = os.path.relpath(folder, root)
    if not facts.validators.installed:
        steps.append(facts.validators.install_step())
    if clean or not facts.current[variant.name]:
        configure = ["cmake", "-S", SOURCE_DIR, "-B", rel, "-G", "Ninja", *variant.cmake_options]
        compiler = facts.compilers[variant.name]
        if variant.compiler and compiler:
            configure.append(f"-DCMAKE_CXX_COMPILER={compiler}")
        configure += facts.validators.cmake_options
        if clean:
            configure.append("--fresh")
        steps.append(
            Step(f"configure the {variant.name} build ({variant.purpose})", tuple(configure))
        )
    build = ["cmake", "--build", rel, "--target", *targets]
    if jobs:
        build += ["--parallel", str(jobs)]
    steps.append(Step(f"build {', '.join(targets)} ({variant.name})", tuple(build)))
    return steps


def installed(facts: Facts) -> Facts:
    """The facts once an earlier step of the plan installed protoc-gen-validate."""
    return dataclasses.replace(
        facts, validators=dataclasses.replace(facts.validators, installed=True)
    )


def execute_plan(plan: Plan, environ: Optional[Mapping[str, str]], out: TextIO, runner) -> float:
    """Carry out `plan`: the plugin's install the way `nox -s api` installs it (into a
    private GOBIN, then one rename), every other step by `execute`."""
    installs = tuple(step for step in plan.steps if dict(step.env).get("GOBIN"))
    if installs:
        api_session.install(installs, dict(os.environ if environ is None else environ), out)
    rest = dataclasses.replace(plan, steps=tuple(s for s in plan.steps if s not in installs))
    return execute(rest, out=out, runner=runner)
