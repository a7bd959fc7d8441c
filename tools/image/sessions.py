"""The one table of image sessions: what each builds and which options apply to it.

Planning, validation, ``--help``, ``nox --usage`` and README.md's tables all read it.
An option that is not in a session's ``options`` is refused when given as a flag,
and ignored (with a note in the plan) when it comes from the environment or the
settings file, which serve every session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Tuple

from tools import arches

#: Options every image session takes: where images go, how docker runs, the builder.
COMMON = frozenset(
    {
        "arch",
        "dev_account",
        "docker_build_opts",
        "no_cache",
        "cache_ref",
        "cache_push",
        "push",
        "builder_base_tag",
        "buildkit_image",
        "builder",
        "tag",
        "docker",
        "dry_run",
    }
)
#: Options of the sessions that run Bazel in the builder image.
BAZEL = frozenset(
    {
        "bazel_build_opts",
        "bazel_remote_cache",
        "jobs",
        "archive_image",
        "no_archive",
        "builder_base",
        "debug",
    }
)

#: Bazel options passed as written: Bazel evaluates HOST_CPUS and HOST_RAM on the machine
#: that builds (a remote builder, Docker Desktop's VM, a CI runner), never computed here.
#: build_multi's job count unless one is set (both platforms compile at once) ...
MULTI_JOBS = "--jobs=HOST_CPUS*.5"
#: ... and the Bazel test options of `tests` unless --bazel-test-opts is given.
DEFAULT_TEST_OPTS = (
    "--jobs=HOST_RAM*.0002",
    "--test_timeout=100",
    "--local_test_jobs=1",
    "--flaky_test_attempts=3",
)


@dataclass(frozen=True)
class ImageSession:
    name: str
    summary: str  # what it does, one sentence (--help's description)
    dockerfile: str
    target: Optional[str]  # the Dockerfile stage; None for the last one
    arches: Tuple[str, ...]  # what --arch may say; a single one is fixed (else: this host's)
    tag_rule: str  # how its tags are made, in words (README.md)
    options: FrozenSet[str]
    bazel_opts: str = ""  # Bazel options the session always adds
    archive_tag: Optional[str] = None  # which *_archive_tag option names its archive
    pushes: bool = True  # False: the result is always loaded locally

    @property
    def fixed_arch(self) -> Optional[str]:
        return self.arches[0] if len(self.arches) == 1 else None


_ANY = (*arches.ARCHES, "multi")
_RELEASE_TAGS = (
    "on main `<account>/cilium-envoy:<sha><suffix>` and `:latest<suffix>`; elsewhere "
    "`<account>/cilium-envoy-dev:<branch><suffix>` and `:<sha><suffix>`"
)

SESSIONS: Dict[str, ImageSession] = {
    s.name: s
    for s in (
        ImageSession(
            "build",
            "Build the release image from Dockerfile.",
            "Dockerfile",
            None,
            _ANY,
            _RELEASE_TAGS,
            COMMON | BAZEL | {"release_debug", "builder_archive_tag", "branch"},
            archive_tag="builder_archive_tag",
        ),
        ImageSession(
            "build_multi",
            "Build the release image for linux/arm64 and linux/amd64 and push it.",
            "Dockerfile",
            None,
            ("multi",),
            _RELEASE_TAGS,
            (COMMON - {"arch"}) | BAZEL | {"release_debug", "builder_archive_tag", "branch"},
            archive_tag="builder_archive_tag",
        ),
        ImageSession(
            "raspi",
            "Build the arm64 release image with --define tcmalloc=gperftools.",
            "Dockerfile",
            None,
            ("arm64",),
            _RELEASE_TAGS + " (suffix `-arm64-raspi`)",
            (COMMON - {"arch"}) | BAZEL | {"release_debug", "builder_archive_tag", "branch"},
            bazel_opts="--define tcmalloc=gperftools",
            archive_tag="builder_archive_tag",
        ),
        ImageSession(
            "builder",
            "Build the builder image from Dockerfile.builder.",
            "Dockerfile.builder",
            None,
            _ANY,
            "`<account>/cilium-envoy-builder:<builder-base-tag>`",
            COMMON,
        ),
        ImageSession(
            "archive",
            "Build the Bazel cache image (target builder-archive of Dockerfile).",
            "Dockerfile",
            "builder-archive",
            _ANY,
            "`<account>/cilium-envoy-builder:<builder-archive-tag>`",
            COMMON | BAZEL | {"release_debug", "builder_archive_tag"},
            archive_tag="builder_archive_tag",
        ),
        ImageSession(
            "tests",
            "Run the integration tests (Dockerfile.tests) and keep their logs.",
            "Dockerfile.tests",
            None,
            _ANY,  # validated: only this host's
            "on main `<account>/cilium-envoy:latest<suffix>-testlogs`; elsewhere "
            "`<account>/cilium-envoy-dev:<branch><suffix>-testlogs`",
            (COMMON - {"push", "cache_push"})
            | BAZEL
            | {"bazel_test_opts", "tests_archive_tag", "branch"},
            archive_tag="tests_archive_tag",
            pushes=False,
        ),
        ImageSession(
            "tests_archive",
            "Build the tests' Bazel cache image (target builder-archive of Dockerfile.tests).",
            "Dockerfile.tests",
            "builder-archive",
            _ANY,
            "`<account>/cilium-envoy-builder:<tests-archive-tag>`",
            COMMON | BAZEL | {"tests_archive_tag"},
            archive_tag="tests_archive_tag",
        ),
    )
}

#: doctor checks the build you are about to run: it takes `build`'s options.
DOCTOR_OPTIONS = SESSIONS["build"].options


def options_of(session: str) -> FrozenSet[str]:
    if session == "doctor":
        return DOCTOR_OPTIONS
    return SESSIONS[session].options


def sessions_with(option: str) -> Tuple[str, ...]:
    return tuple(name for name, s in SESSIONS.items() if option in s.options)
