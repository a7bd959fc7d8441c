"""Build, test and release the Cilium proxy with Nox: `nox -l` lists the sessions."""

import os
import sys

import nox

# The nox console script does not put this folder on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tools.entry import call, use_sdk  # noqa: E402
from tools.settings import document  # noqa: E402

nox.needs_version = ">=2026.10.20"
nox.options.sessions = ["lint", "filters", "sanitize", "selftest"]

PYPROJECT = nox.project.load_toml(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyproject.toml")
)

# Image and helper sessions drive docker, bazel and protoc: no virtualenv needed, so
# they start without any installer.
tool_session = nox.session(python=False)
# doctor and extract ask the engine through the docker SDK: it lives in their own venv,
# made once and reused (nothing is installed on later calls).
sdk_session = nox.session(reuse_venv=True)


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

    Envoy's API comes from the pinned xds-protos descriptors; protoc and the plugins pinned
    in tools/api_plugins.toml are installed into the toolkit's cache when missing (pip, go).
    Options go after `--`:
      --check            change nothing; fail when go/ is not what generation gives
                         e.g. nox -s api -- --check
      --dry-run          print the commands and, on one line, what is missing to run them
                         e.g. nox -s api -- --dry-run
      --install-plugins  only install the pinned protoc and plugins that are missing
                         e.g. nox -s api -- --install-plugins
      --protoc PATH      the protoc to run (default: the pinned one in the toolkit's cache)
                         e.g. nox -s api -- --protoc /opt/protobuf/bin/protoc --proto-path ../api
      --proto-path DIR   folder of imported protos instead of the descriptors; repeatable
    """
    call(session, "api:main")


@tool_session
def filters(session: nox.Session) -> None:
    """Build the policy engine (CMake, Ninja) and run its unit tests.

    Options go after `--`:
      --sanitize         build with clang, ASan and UBSan; unit tests, then a short fuzz run
                         e.g. nox -s filters -- --sanitize
      --fuzz SECONDS     fuzz each libFuzzer target this long (sanitizer build)
                         e.g. nox -s filters -- --fuzz 600
      --bench            build optimised and run the benchmarks, with the goals' ratios
                         e.g. nox -s filters -- --bench
      --gtest-filter P   run only the unit tests matching P
                         e.g. nox -s filters -- --gtest-filter 'RuleOrder*'
      --jobs N           parallel compile jobs; e.g. nox -s filters -- --jobs 2
      --clean            configure the build folder afresh; e.g. nox -s filters -- --clean
      --dry-run          print the cmake and test commands, run nothing
                         e.g. nox -s filters -- --sanitize --dry-run
    """
    call(session, "filters:main", "filters")


@tool_session
def sanitize(session: nox.Session) -> None:
    """Build the policy engine with ASan+UBSan, run its unit tests and fuzz it briefly.

    The same as `nox -s filters -- --sanitize` (CI runs it); takes the same options.
    """
    call(session, "filters:main", "sanitize")


@tool_session
def policy(session: nox.Session) -> None:
    """Ask the policy engine: `-- eval` (JSON lines on stdin), `-- check ...`, `-- explain ...`.

    Builds the cilium-policy tool first when needed (build output on stderr), then runs it
    with stdin and stdout passed through.
      eval               one JSON request per line on stdin, one JSON reply per line
                         e.g. nox -s policy -- eval < requests.jsonl
      check ...          one decision from flags; the session fails when it is denied
                         e.g. nox -s policy -- check --ingress --port 80 --endpoint-ip
                              10.1.2.3 --remote-id 42 --policy p.yaml --header :path=/public
      explain ...        the same, with every rule of the port and why it did (not) decide
      --dry-run          print the build and run commands, run nothing
                         e.g. nox -s policy -- eval --dry-run
    """
    call(session, "filters:policy_main")


@sdk_session
@document("doctor")
def doctor(session: nox.Session) -> None:
    """Check docker, buildx, emulation, memory, disk and registry login before a long build.

    Add `-- --json` for one JSON document (checks, recommended --jobs) on stdout:
      --json             print one JSON document instead of the lines
                         e.g. nox -s doctor -- --json
    """
    use_sdk(session)
    call(session, "doctor:main")


@tool_session
def compat(session: nox.Session) -> None:
    """Show which Envoy version each Cilium release ships (`-- 1.19.3`, `-- --envoy 1.36`).

    Options go after `--`:
      VERSION            the Envoy of one Cilium release; e.g. nox -s compat -- 1.19.3
      --envoy X.Y        the Cilium releases shipping an Envoy X.Y.z; e.g. nox -s compat -- --envoy 1.36
      --check            fail when README.md or ENVOY_VERSION disagree with the data
                         e.g. nox -s compat -- --check
      --update           read, for every patch release of Cilium's supported minors, the Envoy
                         its images carry, and rewrite the data and README.md's table
                         e.g. nox -s compat -- --update --dry-run
      --dry-run          with --update: print the new rows, change nothing
                         e.g. nox -s compat -- --update --dry-run
    """
    call(session, "compat:main")


@sdk_session
def extract(session: nox.Session) -> None:
    """Copy /usr/bin/cilium-envoy out of a built image into out/<arch>/.

    Options go after `--`:
      --image REF        image to read (default: the first tag `nox -s build -- --arch ARCH`
                         gives for the --platform below)
                         e.g. nox -s extract -- --image quay.io/cilium/cilium-envoy:latest
      --output DIR       where <arch>/ goes (default: out); e.g. nox -s extract -- --output /tmp/envoy
      --platform linux/ARCH  the image's platform (default: this host)
                         e.g. nox -s extract -- --platform linux/arm64
      --docker PATH      the docker CLI whose engine and context to use (env DOCKER)
                         e.g. nox -s extract -- --docker /usr/bin/docker
    """
    use_sdk(session)
    call(session, "extract:main")


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff, then type-check with mypy."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")  # files and settings: [tool.mypy] in pyproject.toml


@nox.session
def selftest(session: nox.Session) -> None:
    """Run the toolkit's own test suite (pytest, in parallel); extra args go to pytest."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", "-n", "auto", *session.posargs)
