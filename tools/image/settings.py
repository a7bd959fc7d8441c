"""The option table: one row per setting, and the frozen Settings built from it.

Each row produces its command-line flag, its environment fallback, its key in the
personal settings file and its line in the docs (``usage``); ``resolve`` turns flags,
environment and file into :class:`Settings`.  Precedence, highest first: flag,
environment variable, settings file (``nox-settings.toml`` at the top of the checkout,
git-ignored), default.  Adding a setting is one row here (its converter in ``values``)
plus its field in :class:`Settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from tools import arches
from tools.errors import ToolkitError
from tools.image import sessions, values

SETTINGS_FILE = "nox-settings.toml"
ARCHES = values.ARCHES


@dataclass(frozen=True)
class Option:
    """One setting: where it can come from and what it means."""

    name: str  # attribute of Settings; the flag is --name with dashes
    help: str
    env: Optional[str] = None  # environment variable fallback
    kind: str = "str"  # str | bool | list | or a custom parser name below
    default: Any = None
    metavar: Optional[str] = None
    example: Optional[str] = None
    convert: Optional[Callable[[str], Any]] = None
    in_file: bool = True  # may be set in the settings file
    #: The default as the docs show it, when it is not the value itself ("derived", ...).
    shown_default: Optional[str] = None
    secret: bool = False  # NAME=VALUE whose value is a credential: never shown

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS: Tuple[Option, ...] = (
    Option(
        "arch",
        "target platform(s): amd64, arm64 or multi (both; pushed)",
        "ARCH",
        metavar="ARCH",
        convert=values.arch,
        shown_default="this host",
        example="--arch arm64",
    ),
    Option(
        "bazel_build_opts",
        "extra Bazel options, passed as build-arg BAZEL_BUILD_OPTS",
        "BAZEL_BUILD_OPTS",
        default="",
        metavar="OPTS",
        example="--bazel-build-opts='--define tcmalloc=gperftools'",
    ),
    Option(
        "bazel_test_opts",
        f"Bazel test options for `tests` (default: {' '.join(sessions.DEFAULT_TEST_OPTS)}); "
        "--test_output=errors is always appended",
        "BAZEL_TEST_OPTS",
        metavar="OPTS",
        shown_default="derived",
        example="--bazel-test-opts='--test_timeout=300'",
    ),
    Option(
        "bazel_remote_cache",
        "append --remote_cache=URL to the Bazel options",
        "BAZEL_REMOTE_CACHE",
        metavar="URL",
        convert=values.remote_cache,
        example="--bazel-remote-cache=grpc://cache:9092",
    ),
    Option(
        "bazel_remote_executor",
        "append --remote_executor=URL: Bazel runs the build's actions on that remote execution "
        "service (BuildBuddy, Buildbarn, EngFlow ...)",
        "BAZEL_REMOTE_EXECUTOR",
        metavar="URL",
        convert=values.remote_executor,
        example="--bazel-remote-executor=grpcs://remote.buildbuddy.io",
    ),
    Option(
        "bazel_remote_instance_name",
        "append --remote_instance_name=NAME (the remote service's instance)",
        "BAZEL_REMOTE_INSTANCE_NAME",
        metavar="NAME",
        convert=values.remote_instance_name,
        example="--bazel-remote-instance-name=main",
    ),
    Option(
        "bazel_remote_header",
        "append --remote_header=NAME=VALUE (repeatable; the environment variable takes several, "
        "separated by spaces); values are shown as ***",
        "BAZEL_REMOTE_HEADER",
        kind="list",
        default=(),
        metavar="NAME=VALUE",
        convert=values.remote_header,
        secret=True,
        example="--bazel-remote-header=x-buildbuddy-api-key=KEY",
    ),
    Option(
        "jobs",
        "append --jobs=N to the Bazel options (the usual cure for compiler "
        "out-of-memory); `auto` sizes it from the engine's memory and CPUs",
        "JOBS",
        metavar="N|auto",
        convert=values.jobs,
        example="--jobs=2",
    ),
    Option(
        "dev_account",
        "registry/namespace of every image",
        "DOCKER_DEV_ACCOUNT",
        default="quay.io/cilium",
        metavar="REPO",
        example="--dev-account=docker.io/me",
    ),
    Option(
        "docker_build_opts",
        "extra `docker buildx build` options, split like a shell would",
        "DOCKER_BUILD_OPTS",
        default="",
        metavar="OPTS",
        example="--docker-build-opts=--output=out",
    ),
    Option(
        "archive_image",
        "pre-built Bazel cache image to start from (default derived)",
        "ARCHIVE_IMAGE",
        metavar="REF",
        shown_default="derived",
        example="--archive-image=docker.io/me/envoy-archive",
    ),
    Option(
        "no_archive", "start from an empty Bazel cache", "NO_ARCHIVE", kind="bool", default=False
    ),
    Option(
        "no_cache",
        "1: no registry cache import and build-arg NO_CACHE=1 (clears Bazel "
        "caches); 2: also docker --no-cache",
        "NO_CACHE",
        kind="level",
        default=0,
        metavar="1|2",
        convert=values.no_cache,
        example="--no-cache=2",
    ),
    Option(
        "cache_ref",
        "registry build cache to import",
        "CACHE_REF",
        metavar="REF",
        example="--cache-ref=docker.io/me/cilium-proxy:cache",
    ),
    Option(
        "cache_push",
        "also export the build cache to --cache-ref",
        "CACHE_PUSH",
        kind="bool",
        default=False,
    ),
    Option(
        "push",
        "push the result instead of loading it locally (default: on for multi)",
        "IMAGE_PUSH",
        kind="bool",
        shown_default="on for multi",
    ),
    Option(
        "builder_archive_tag",
        "tag of the build Bazel cache image",
        "BUILDER_ARCHIVE_TAG",
        default="main-archive-latest",
        metavar="TAG",
    ),
    Option(
        "tests_archive_tag",
        "tag of the tests Bazel cache image",
        "TESTS_ARCHIVE_TAG",
        default="test-main-archive-latest",
        metavar="TAG",
    ),
    Option(
        "builder_base",
        "builder image the builds run in (default derived)",
        "BUILDER_BASE",
        metavar="REF",
        shown_default="derived",
    ),
    Option(
        "builder_base_tag",
        "tag of the builder image (default: <.bazelversion>-<git blob id of Dockerfile.builder>)",
        "BUILDER_BASE_TAG",
        metavar="TAG",
        shown_default="derived",
    ),
    Option("debug", "debug build (-c dbg)", "DEBUG", kind="bool", default=False),
    Option(
        "release_debug",
        "optimized build with debug info",
        "RELEASE_DEBUG",
        kind="bool",
        default=False,
    ),
    Option(
        "branch",
        "branch name that picks release (main) or dev tags (default: current "
        "git branch, HEAD when detached)",
        "BRANCH_NAME",
        metavar="NAME",
        shown_default="derived",
    ),
    Option(
        "buildkit_image",
        "BuildKit image for a builder this toolkit creates",
        "DOCKER_BUILDKIT_IMAGE",
        metavar="REF",
    ),
    Option(
        "builder",
        "buildx builder to use (default: the current one, or `cilium-envoy` "
        "when the build needs a docker-container builder)",
        "BUILDX_BUILDER",
        metavar="NAME",
        shown_default="derived",
    ),
    Option(
        "tag",
        "use this tag instead of the computed ones (repeatable)",
        kind="list",
        default=(),
        metavar="REF",
        in_file=False,
        example="--tag=docker.io/me/envoy:try",
    ),
    Option(
        "docker",
        "the docker CLI to run",
        "DOCKER",
        default="docker",
        metavar="PATH",
        example="--docker=/usr/bin/docker",
    ),
    Option("dry_run", "print the plan, run nothing", kind="bool", default=False, in_file=False),
)

BY_NAME: Dict[str, Option] = {opt.name: opt for opt in OPTIONS}


@dataclass(frozen=True)
class Settings:
    """Resolved, type-checked settings; ``source`` says where each came from."""

    session: str
    arch: Optional[str]  # None: the host's platform, no --platform flag
    host_arch: str
    bazel_build_opts: str
    bazel_test_opts: Optional[str]
    bazel_remote_cache: Optional[str]
    bazel_remote_executor: Optional[str]
    bazel_remote_instance_name: Optional[str]
    bazel_remote_header: Tuple[str, ...]
    jobs: Any  # None, a positive int, or "auto"
    dev_account: str
    docker_build_opts: str
    archive_image: Optional[str]
    no_archive: bool
    no_cache: int
    cache_ref: Optional[str]
    cache_push: bool
    push: Optional[bool]
    builder_archive_tag: str
    tests_archive_tag: str
    builder_base: Optional[str]
    builder_base_tag: Optional[str]
    debug: bool
    release_debug: bool
    branch: Optional[str]
    buildkit_image: Optional[str]
    builder: Optional[str]
    tag: Tuple[str, ...]
    docker: str
    dry_run: bool
    source: Mapping[str, str] = field(default_factory=dict)
    notes: Tuple[str, ...] = ()  # where values came from, what was ignored (shown in plans)

    @property
    def target_arch(self) -> str:
        """amd64, arm64 or multi: what is built, host included."""
        return self.arch or self.host_arch


def host_arch() -> str:
    machine = os.uname().machine
    found = arches.normalise(machine)
    if found:
        return found
    raise ToolkitError(
        f"This host's architecture `{machine}` is not supported; build on an amd64 or arm64 host."
    )
