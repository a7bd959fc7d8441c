"""The option table: one row per setting, and the frozen Settings built from it.

Each row produces its command-line flag, its environment fallback, its key in the
personal settings file and its line in the docs.  Precedence, highest first:
flag, environment variable, settings file (``nox-settings.toml`` at the top of the
checkout, git-ignored), default.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from tools.cli import Parser
from tools.errors import ToolkitError

SETTINGS_FILE = "nox-settings.toml"

IMAGE_SESSIONS = ("build", "build_multi", "raspi", "builder", "archive", "tests", "tests_archive")
ARCHES = ("amd64", "arm64", "multi")
ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "amd64": "amd64", "arm64": "arm64"}
FALSE_WORDS = ("", "0", "false", "no")


def _bool_from_text(value: str) -> bool:
    """Environment rule: on when set to anything but empty, 0, false or no."""
    return value.strip().lower() not in FALSE_WORDS


def _bool_flag(value: str) -> bool:
    """Flag rule: ``--push`` or ``--push=yes|no|1|0|true|false|on|off``; nothing else."""
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be one of 1, 0, true, false, yes, no, on, off")


def _arch(value: str) -> str:
    norm = ARCH_ALIASES.get(value.strip().lower(), value.strip().lower())
    if norm not in ARCHES:
        raise ValueError(f"must be one of {', '.join(ARCHES)} (x86_64 and aarch64 also work)")
    return norm


def _jobs(value: str) -> Any:
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if not text.isdigit() or int(text) < 1:
        raise ValueError("must be a positive whole number or `auto`")
    return int(text)


def _no_cache(value: str) -> int:
    text = str(value).strip().lower()
    if text in FALSE_WORDS:
        return 0
    if text in ("1", "2", "true", "yes"):
        return 2 if text == "2" else 1
    raise ValueError(
        "must be 1 (no registry cache, clear Bazel caches) or 2 (also docker --no-cache)"
    )


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

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS: Tuple[Option, ...] = (
    Option(
        "arch",
        "target platform(s): amd64, arm64 or multi (both; pushed)",
        "ARCH",
        metavar="ARCH",
        convert=_arch,
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
        "Bazel test options for `tests` (default: --jobs=HOST_RAM_MB*.0002 "
        "--test_timeout=100 --local_test_jobs=1 --flaky_test_attempts=3); "
        "--test_output=errors is always appended",
        "BAZEL_TEST_OPTS",
        metavar="OPTS",
        example="--bazel-test-opts='--test_timeout=300'",
    ),
    Option(
        "bazel_remote_cache",
        "append --remote_cache=URL to the Bazel options",
        "BAZEL_REMOTE_CACHE",
        metavar="URL",
        example="--bazel-remote-cache=grpc://cache:9092",
    ),
    Option(
        "jobs",
        "append --jobs=N to the Bazel options (the usual cure for compiler "
        "out-of-memory); `auto` sizes it from the engine's memory and CPUs",
        "JOBS",
        metavar="N|auto",
        convert=_jobs,
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
        convert=_no_cache,
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
    ),
    Option(
        "builder_base_tag",
        "tag of the builder image (default: <.bazelversion>-<git blob id of Dockerfile.builder>)",
        "BUILDER_BASE_TAG",
        metavar="TAG",
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

    @property
    def target_arch(self) -> str:
        """amd64, arm64 or multi: what is built, host included."""
        return self.arch or self.host_arch


def host_arch() -> str:
    machine = os.uname().machine.lower()
    if machine in ARCH_ALIASES:
        return ARCH_ALIASES[machine]
    raise ToolkitError(
        f"This host's architecture `{machine}` is not supported; pass --arch amd64 or arm64."
    )


def _load_file(root: Path) -> Dict[str, Any]:
    path = root / SETTINGS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        import tomllib  # type: ignore[import-not-found]
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(raw.decode())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ToolkitError(
            f"{SETTINGS_FILE} is not valid TOML ({exc}); fix or remove it."
        ) from None
    values: Dict[str, Any] = {}
    allowed = {o.name for o in OPTIONS if o.in_file}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in allowed:
            valid = ", ".join(sorted(o.flag[2:] for o in OPTIONS if o.in_file))
            raise ToolkitError(f"{SETTINGS_FILE} has an unknown key `{key}`; valid keys: {valid}.")
        values[name] = value
    return values


def _coerce(opt: Option, value: Any, where: str) -> Any:
    """Turn a flag, environment or file value into the option's type."""
    try:
        if opt.kind == "bool":
            if isinstance(value, bool):
                return value
            if where.startswith("--"):
                return _bool_flag(str(value))
            if where.startswith(SETTINGS_FILE):
                raise ValueError("must be true or false")
            return _bool_from_text(str(value))
        if opt.convert is not None:
            return opt.convert(str(value))
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    except ValueError as exc:
        raise ToolkitError(f"{where} `{value}` is not valid: it {exc}.") from None


def _add_flags(parser: argparse.ArgumentParser) -> None:
    for opt in OPTIONS:
        if opt.kind == "bool":
            parser.add_argument(
                opt.flag, dest=opt.name, nargs="?", const="1", metavar="BOOL", help=opt.help
            )
            if not opt.name.startswith("no_"):
                parser.add_argument(
                    "--no-" + opt.flag[2:],
                    dest=opt.name,
                    action="store_const",
                    const="0",
                    help=argparse.SUPPRESS,
                )
        elif opt.kind == "list":
            parser.add_argument(
                opt.flag, dest=opt.name, action="append", metavar=opt.metavar, help=opt.help
            )
        elif opt.kind == "level":
            parser.add_argument(
                opt.flag, dest=opt.name, nargs="?", const="1", metavar=opt.metavar, help=opt.help
            )
        else:
            parser.add_argument(opt.flag, dest=opt.name, metavar=opt.metavar, help=opt.help)


def make_parser(
    session: str, extend: Optional[Callable[[argparse.ArgumentParser], None]] = None
) -> argparse.ArgumentParser:
    parser = Parser(session, description=_DESCRIPTIONS.get(session))
    _add_flags(parser)
    if extend:
        extend(parser)
    return parser


def _join_opts_values(argv: Sequence[str]) -> list[str]:
    """Let `--docker-build-opts --load` mean what it says.

    argparse refuses a separate value that starts with `-`; options that carry other
    tools' options take the next word whatever it looks like.
    """
    takes_opts = {opt.flag for opt in OPTIONS if opt.metavar == "OPTS"}
    joined: list[str] = []
    words = list(argv)
    i = 0
    while i < len(words):
        if words[i] in takes_opts and i + 1 < len(words):
            joined.append(f"{words[i]}={words[i + 1]}")
            i += 2
        else:
            joined.append(words[i])
            i += 1
    return joined


@dataclass(frozen=True)
class Resolved:
    settings: Settings
    args: argparse.Namespace  # the raw namespace, for session-specific extra flags


def resolve(
    session: str,
    argv: Sequence[str],
    *,
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    extend: Optional[Callable[[argparse.ArgumentParser], None]] = None,
) -> Resolved:
    """Parse ``argv`` and fill the rest from the environment, the settings file and defaults."""
    environ = os.environ if environ is None else environ
    args = make_parser(session, extend).parse_args(_join_opts_values(argv))
    from_file = _load_file(root)
    values: Dict[str, Any] = {}
    source: Dict[str, str] = {}
    for opt in OPTIONS:
        flag_value = getattr(args, opt.name)
        if opt.kind == "list":
            values[opt.name] = tuple(flag_value or ())
            source[opt.name] = "flag" if flag_value else "default"
            continue
        if flag_value is not None:
            values[opt.name] = _coerce(opt, flag_value, opt.flag)
            source[opt.name] = "flag"
        elif opt.env and opt.env in environ:
            values[opt.name] = _coerce(opt, environ[opt.env], opt.env)
            source[opt.name] = "env"
        elif opt.name in from_file:
            values[opt.name] = _coerce(
                opt, from_file[opt.name], f"{SETTINGS_FILE} key {opt.flag[2:]}"
            )
            source[opt.name] = "file"
        else:
            values[opt.name] = opt.default
            source[opt.name] = "default"
    # An empty ARCH (or BRANCH_NAME ...) in the environment means "not set".
    for name in (
        "arch",
        "bazel_test_opts",
        "bazel_remote_cache",
        "archive_image",
        "cache_ref",
        "builder_base",
        "builder_base_tag",
        "branch",
        "buildkit_image",
        "builder",
    ):
        if values[name] == "":
            values[name] = None
    if not values["docker"]:
        raise ToolkitError("--docker must name the docker CLI, e.g. --docker=/usr/bin/docker.")
    settings = Settings(session=session, host_arch=host_arch(), source=source, **values)
    return Resolved(settings, args)


# --- documentation -------------------------------------------------------------------------

_DESCRIPTIONS = {
    "build": "Build the release image from Dockerfile.",
    "doctor": "Check this machine for the build you are about to run; exits non-zero when it would fail.",
    "build_multi": "Build the release image for linux/arm64 and linux/amd64 and push it.",
    "raspi": "Build the arm64 release image with --define tcmalloc=gperftools.",
    "builder": "Build the builder image from Dockerfile.builder.",
    "archive": "Build the Bazel cache image (target builder-archive of Dockerfile).",
    "tests": "Run the integration tests (Dockerfile.tests) and keep their logs.",
    "tests_archive": "Build the tests' Bazel cache image (target builder-archive of Dockerfile.tests).",
}


def _default_text(opt: Option) -> str:
    if opt.name == "arch":
        return "this host"
    if opt.kind == "bool" or opt.name == "no_cache":
        return "on for multi" if opt.name == "push" else "off"
    if opt.default in (None, (), ""):
        return (
            "derived"
            if opt.name
            in (
                "archive_image",
                "builder_base",
                "builder_base_tag",
                "branch",
                "builder",
                "bazel_test_opts",
            )
            else "none"
        )
    return str(opt.default)


def _example(opt: Option) -> str:
    return opt.example or (
        opt.flag if opt.kind in ("bool", "level") else f"{opt.flag}={opt.metavar}"
    )


def usage(session: str) -> str:
    """The options block of a session's docstring (shown by `nox --usage SESSION`)."""
    lines = [
        "",
        f"Options go after `--`, e.g. `nox -s {session} -- --arch arm64`. An option not given",
        f"is read from its environment variable, then from {SETTINGS_FILE}, then its default.",
        "",
    ]
    for opt in OPTIONS:
        left = opt.flag + (f" {opt.metavar}" if opt.metavar and opt.kind != "bool" else "")
        env = f"env {opt.env}; " if opt.env else ""
        lines.append(f"  {left}  ({env}default: {_default_text(opt)})")
        lines.append(f"      {opt.help}.")
        lines.append(f"      e.g. nox -s {session} -- {_example(opt)}")
    return "\n".join(lines)


def document(session: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Append the generated options block to a session function's docstring."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func.__doc__ = (func.__doc__ or "").rstrip() + "\n" + usage(session)
        return func

    return decorate


def markdown_table() -> str:
    """The settings table for README.md."""
    rows = ["| flag | env var | default | effect |", "|---|---|---|---|"]
    for opt in OPTIONS:
        flag = opt.flag + (f" {opt.metavar}" if opt.metavar and opt.kind != "bool" else "")
        env = f"`{opt.env}`" if opt.env else "—"
        cells = (f"`{flag}`", env, _default_text(opt), opt.help)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
