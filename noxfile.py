# /// script
# dependencies = ["nox>=2026.10.20", "packaging>=23", "tomli>=2; python_version < '3.11'", "docker>=7"]
# ///
"""Build, test and release the Cilium proxy with Nox: `nox -l` lists the sessions."""

import os
import sys

import nox

# The nox console script does not put this folder on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tools.entry import call  # noqa: E402
from tools.settings import document  # noqa: E402

nox.needs_version = ">=2026.10.20"
nox.options.sessions = ["lint", "selftest"]

PYPROJECT = nox.project.load_toml(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyproject.toml")
)

# Image and helper sessions drive docker, bazel and protoc: no virtualenv needed.
tool_session = nox.session(python=False)


@tool_session
@document("build")
def build(session: nox.Session) -> None:
    """Build the release image (host architecture unless --arch)."""
    call(session, "build:main", "build")


@tool_session
@document("build_multi")
def build_multi(session: nox.Session) -> None:
    """Build and push the release image for linux/arm64 and linux/amd64."""
    call(session, "build:main", "build_multi")


@tool_session
@document("raspi")
def raspi(session: nox.Session) -> None:
    """Build the arm64 release image with gperftools, for Raspberry Pi kernels."""
    call(session, "build:main", "raspi")


@tool_session
@document("builder")
def builder(session: nox.Session) -> None:
    """Build the builder image (compilers and Bazel) from Dockerfile.builder."""
    call(session, "build:main", "builder")


@tool_session
@document("archive")
def archive(session: nox.Session) -> None:
    """Build the Bazel cache image (builder-archive) used to speed up builds."""
    call(session, "build:main", "archive")


@tool_session
@document("tests")
def tests(session: nox.Session) -> None:
    """Run the integration tests in Dockerfile.tests and keep their logs."""
    call(session, "build:main", "tests")


@tool_session
@document("tests_archive")
def tests_archive(session: nox.Session) -> None:
    """Build the Bazel cache image for the integration tests."""
    call(session, "build:main", "tests_archive")


@tool_session
def api(session: nox.Session) -> None:
    """Regenerate the Go API in go/ from cilium-filters/api/*.proto.

    Options go after `--`:
      --check            change nothing; fail when go/ is not what generation gives
                         e.g. nox -s api -- --check
      --dry-run          print the bazel and protoc commands, run nothing
                         e.g. nox -s api -- --dry-run
      --protoc PATH      use this protoc instead of building one with Bazel
                         e.g. nox -s api -- --protoc /usr/bin/protoc --proto-path ../envoy-api
      --proto-path DIR   folder of imported protos (Envoy's API, validate/); repeatable
      --bazel PATH       the Bazel (or bazelisk) to run; e.g. nox -s api -- --bazel bazelisk
    """
    call(session, "api:main")


@tool_session
@document("doctor")
def doctor(session: nox.Session) -> None:
    """Check docker, buildx, emulation, memory, disk and registry login before a long build.

    Add `-- --json` for one JSON document (checks, recommended --jobs) on stdout.
    """
    call(session, "doctor:main")


@tool_session
def compat(session: nox.Session) -> None:
    """Show which Envoy version each Cilium release ships (`-- 1.16.5`, `-- --envoy 1.29`).

    Options go after `--`:
      VERSION            the Envoy of one Cilium release; e.g. nox -s compat -- 1.16.5
      --envoy X.Y        the Cilium releases shipping an Envoy X.Y.z; e.g. nox -s compat -- --envoy 1.29
      --check            fail when README.md or ENVOY_VERSION disagree with the data
                         e.g. nox -s compat -- --check
    """
    call(session, "compat:main")


@tool_session
def extract(session: nox.Session) -> None:
    """Copy /usr/bin/cilium-envoy out of a built image into out/<arch>/.

    Options go after `--`:
      --image REF        image to read (default: the first tag `nox -s build` gives)
                         e.g. nox -s extract -- --image quay.io/cilium/cilium-envoy:latest
      --output DIR       where <arch>/ goes (default: out); e.g. nox -s extract -- --output /tmp/envoy
      --platform linux/ARCH  the image's platform (default: this host)
                         e.g. nox -s extract -- --platform linux/arm64
    """
    call(session, "extract:main")


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def selftest(session: nox.Session) -> None:
    """Run the toolkit's own test suite (pytest, in parallel); extra args go to pytest."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", "-n", "auto", *session.posargs)
