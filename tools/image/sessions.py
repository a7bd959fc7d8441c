"""The one table of image sessions: what each builds and which options apply to it.

A row says everything about a session: its Dockerfile and target, the architectures it
may build, its tag rule, the Bazel options it adds, the options that apply, and its help
text.  The noxfile makes the sessions from it; planning, validation, ``--help``,
``nox --usage``, doctor and README.md's tables read it, and nothing else branches on a
session's name.  An option that is not in a session's ``options`` is refused when given
as a flag, and ignored (with a note in the plan) when it comes from the environment or
the settings file, which serve every session.  Adding an image session is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, FrozenSet, Optional, Tuple

from tools import arches
from tools.image import tags

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
        "bazel_remote_executor",
        "bazel_remote_instance_name",
        "bazel_remote_header",
        "jobs",
        "archive_image",
        "no_archive",
        "builder_base",
        "debug",
    }
)
RELEASE_BUILD = BAZEL | {"release_debug", "builder_archive_tag", "branch"}

#: Bazel options passed as written: Bazel evaluates HOST_CPUS and HOST_RAM on the machine
#: that builds (a remote builder, Docker Desktop's VM, a CI runner), never computed here.
#: A two-platform build's job count unless one is set (both platforms compile at once) ...
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
    summary: str  # `nox -l`: one imperative sentence
    description: str  # `--help`: what it does, one sentence
    dockerfile: str
    target: Optional[str]  # the Dockerfile stage; None for the last one
    arches: Tuple[str, ...]  # what --arch may say; a single one is fixed (else: this host's)
    tag_rule: tags.TagRule
    options: FrozenSet[str]
    bazel_opts: str = ""  # Bazel options the session always adds
    archive_tag: Optional[str] = None  # which *_archive_tag option names its archive
    pushes: bool = True  # False: the result is always loaded locally
    host_only: bool = False  # runs what it built: only this host's platform
    keeps_cache: bool = False  # an archive: the stage keeps Bazel's cache (COPY_CACHE_EXT)
    plain_progress: bool = False  # its output is a log to read (test results)
    flavour: str = ""  # a word the tag suffix carries after the architecture

    @property
    def fixed_arch(self) -> Optional[str]:
        return self.arches[0] if len(self.arches) == 1 else None

    @property
    def runs_bazel(self) -> bool:
        """It builds in the builder image: Bazel's options and caches apply."""
        return "bazel_build_opts" in self.options

    @property
    def runs_tests(self) -> bool:
        return "bazel_test_opts" in self.options

    @property
    def arches_text(self) -> str:
        if self.fixed_arch:
            return "linux/arm64 and linux/amd64" if self.fixed_arch == "multi" else self.fixed_arch
        return "this host's only" if self.host_only else "this host's, or `--arch`"


_ANY = (*arches.ARCHES, "multi")

SESSIONS: Dict[str, ImageSession] = {
    s.name: s
    for s in (
        ImageSession(
            "build",
            "Build the release image (host architecture unless --arch).",
            "Build the release image from Dockerfile.",
            "Dockerfile",
            None,
            _ANY,
            tags.RELEASE,
            COMMON | RELEASE_BUILD,
            archive_tag="builder_archive_tag",
        ),
        ImageSession(
            "build_multi",
            "Build and push the release image for linux/arm64 and linux/amd64.",
            "Build the release image for linux/arm64 and linux/amd64 and push it.",
            "Dockerfile",
            None,
            ("multi",),
            tags.RELEASE,
            (COMMON - {"arch"}) | RELEASE_BUILD,
            archive_tag="builder_archive_tag",
        ),
        ImageSession(
            "raspi",
            "Build the arm64 release image with gperftools, for Raspberry Pi kernels.",
            "Build the arm64 release image with --define tcmalloc=gperftools.",
            "Dockerfile",
            None,
            ("arm64",),
            tags.with_note(tags.RELEASE, "(suffix `-arm64-raspi`)"),
            (COMMON - {"arch"}) | RELEASE_BUILD,
            bazel_opts="--define tcmalloc=gperftools",
            archive_tag="builder_archive_tag",
            flavour="raspi",
        ),
        ImageSession(
            "builder",
            "Build the builder image (compilers and Bazel) from Dockerfile.builder.",
            "Build the builder image from Dockerfile.builder.",
            "Dockerfile.builder",
            None,
            _ANY,
            tags.BUILDER,
            COMMON,
        ),
        ImageSession(
            "archive",
            "Build the Bazel cache image (builder-archive) used to speed up builds.",
            "Build the Bazel cache image (target builder-archive of Dockerfile).",
            "Dockerfile",
            "builder-archive",
            _ANY,
            tags.BUILDER_ARCHIVE,
            COMMON | BAZEL | {"release_debug", "builder_archive_tag"},
            archive_tag="builder_archive_tag",
            keeps_cache=True,
        ),
        ImageSession(
            "tests",
            "Run the integration tests in Dockerfile.tests and keep their logs.",
            "Run the integration tests (Dockerfile.tests) and keep their logs.",
            "Dockerfile.tests",
            None,
            _ANY,  # validated: only this host's (host_only)
            tags.TESTLOGS,
            (COMMON - {"push", "cache_push"})
            | BAZEL
            | {"bazel_test_opts", "tests_archive_tag", "branch"},
            archive_tag="tests_archive_tag",
            pushes=False,
            host_only=True,
            plain_progress=True,
        ),
        ImageSession(
            "tests_archive",
            "Build the Bazel cache image for the integration tests.",
            "Build the tests' Bazel cache image (target builder-archive of Dockerfile.tests).",
            "Dockerfile.tests",
            "builder-archive",
            _ANY,
            tags.TESTS_ARCHIVE,
            COMMON | BAZEL | {"tests_archive_tag"},
            archive_tag="tests_archive_tag",
            keeps_cache=True,
        ),
    )
}

#: doctor checks the build you are about to run: it takes this session's options.
DOCTOR_CHECKS = "build"


def row(session: str) -> ImageSession:
    """The session's row; doctor's is the row of the build it checks."""
    return SESSIONS[DOCTOR_CHECKS if session == "doctor" else session]


def options_of(session: str) -> FrozenSet[str]:
    return row(session).options


def sessions_with(option: str) -> Tuple[str, ...]:
    return tuple(name for name, s in SESSIONS.items() if option in s.options)
