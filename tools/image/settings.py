"""The option table: one row per setting, and the frozen Settings built from it.

Each row produces its command-line flag, its environment fallback, its key in the
personal settings file and its line in the docs.  Precedence, highest first:
flag, environment variable, settings file (``nox-settings.toml`` at the top of the
checkout, git-ignored), default.
"""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from tools import arches
from tools.cli import Parser
from tools.errors import ToolkitError
from tools.image import sessions
from tools.run import redact

SETTINGS_FILE = "nox-settings.toml"

ARCHES = (*arches.ARCHES, "multi")
FALSE_WORDS = ("", "0", "false", "no")
#: URL schemes Bazel's --remote_cache accepts; a bare host:port means grpcs.
REMOTE_CACHE_SCHEMES = ("grpc", "grpcs", "http", "https", "unix")


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
    norm = arches.normalise(value) or value.strip().lower()
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


def _remote_cache_url_ok(text: str) -> bool:
    """A URL Bazel's --remote_cache takes: a known scheme, a host (a path for unix://), a
    port in range, and no white space."""
    if any(c.isspace() for c in text):
        return False
    try:
        url = urllib.parse.urlsplit(text)
        url.port  # noqa: B018 - raises ValueError when out of range or not a number
    except ValueError:
        return False
    if url.scheme.lower() not in REMOTE_CACHE_SCHEMES:
        return False
    if url.scheme.lower() == "unix":
        return bool(url.path.strip("/") or url.netloc)
    return bool(url.hostname)


def _remote_cache(value: str) -> str:
    text = value.strip()
    if "://" in text:
        ok = _remote_cache_url_ok(text)
    else:
        match = re.fullmatch(r"(?a)(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})", text)
        ok = match is not None and int(match[1]) <= 65535
    if not ok:
        raise ValueError(
            "is not a cache Bazel accepts; use a grpc://, grpcs://, http://, https:// or unix:// "
            "URL, or host:port (which Bazel reads as grpcs)"
        )
    return text


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
        f"Bazel test options for `tests` (default: {' '.join(sessions.DEFAULT_TEST_OPTS)}); "
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
        convert=_remote_cache,
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


def load_toml(text: str, what: str, fix: str = "fix or remove it") -> Dict[str, Any]:
    """The toolkit's one way to read TOML (tomllib, or tomli before Python 3.11)."""
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ToolkitError(f"{what} is not valid TOML ({exc}); {fix}.") from None


def _load_file(root: Path) -> Dict[str, Any]:
    """The settings file's values by option name; keys are spelled exactly as the flags."""
    path = root / SETTINGS_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise ToolkitError(f"{SETTINGS_FILE} is not UTF-8 text; fix or remove it.") from None
    data = load_toml(text, SETTINGS_FILE)
    keys = {opt.flag[2:]: opt for opt in OPTIONS}
    values: Dict[str, Any] = {}
    for key, value in data.items():
        opt = keys.get(key)
        if opt is None:
            import difflib  # only on this error path

            spelled = key.replace("_", "-").lower()
            close = [spelled] if spelled in keys else difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            valid = ", ".join(sorted(k for k, o in keys.items() if o.in_file))
            raise ToolkitError(
                f"{SETTINGS_FILE} has an unknown key `{key}`; {hint}keys are spelled as the flags: "
                f"{valid}."
            )
        if not opt.in_file:
            raise ToolkitError(
                f"{SETTINGS_FILE} cannot set `{key}`; pass {opt.flag} on the command line instead."
            )
        values[opt.name] = value
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
        if where.startswith(SETTINGS_FILE) and isinstance(value, bool):
            raise ValueError("must be a string or a number")
        if opt.convert is not None:
            return opt.convert(str(value))
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    except ValueError as exc:
        raise ToolkitError(f"{where} `{redact(str(value))}` is not valid: it {exc}.") from None


def _add_flags(parser: argparse.ArgumentParser, applies: Callable[[Option], bool]) -> None:
    """Every flag is known (so one that does not apply gets its own sentence); only the
    session's own are shown in --help."""
    for opt in OPTIONS:
        shown = opt.help if applies(opt) else argparse.SUPPRESS
        if opt.kind == "bool":
            parser.add_argument(
                opt.flag, dest=opt.name, nargs="?", const="1", metavar="BOOL", help=shown
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
                opt.flag, dest=opt.name, action="append", metavar=opt.metavar, help=shown
            )
        elif opt.kind == "level":
            parser.add_argument(
                opt.flag, dest=opt.name, nargs="?", const="1", metavar=opt.metavar, help=shown
            )
        else:
            parser.add_argument(opt.flag, dest=opt.name, metavar=opt.metavar, help=shown)


def applies_to(session: str, name: str) -> bool:
    return name in sessions.options_of(session)


def make_parser(
    session: str, extend: Optional[Callable[[argparse.ArgumentParser], object]] = None
) -> argparse.ArgumentParser:
    parser = Parser(session, description=_description(session))
    _add_flags(parser, lambda opt: applies_to(session, opt.name))
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


#: Options whose empty value means "not set" (their default is derived or absent).
_EMPTY_IS_UNSET = (
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
)


def _refuse(session: str, opt: Option, value: Any) -> ToolkitError:
    spec = sessions.SESSIONS.get(session)
    if opt.name == "arch" and spec is not None and spec.fixed_arch:
        if spec.fixed_arch == "multi":
            return ToolkitError(
                f"build_multi always builds both platforms; use `nox -s build -- --arch {value}`."
            )
        return ToolkitError(f"{session} always builds {spec.fixed_arch}; drop --arch {value}.")
    where = sessions.sessions_with(opt.name)
    elsewhere = f" (it applies to {', '.join(where)})" if where else ""
    return ToolkitError(
        f"{opt.flag} does not apply to `nox -s {session}`{elsewhere}; drop it.", status=2
    )


def resolve(
    session: str,
    argv: Sequence[str],
    *,
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    extend: Optional[Callable[[argparse.ArgumentParser], object]] = None,
) -> Resolved:
    """Parse ``argv`` and fill the rest from the environment, the settings file and defaults.

    An empty environment variable counts as not set.  Options that do not apply to the
    session are refused as flags and ignored (with a note) from the environment or file.
    """
    environ = os.environ if environ is None else environ
    args = make_parser(session, extend).parse_args(_join_opts_values(argv))
    from_file = _load_file(root)
    spec = sessions.SESSIONS.get(session)
    values: Dict[str, Any] = {}
    source: Dict[str, str] = {}
    notes: list[str] = []
    for opt in OPTIONS:
        flag_value = getattr(args, opt.name)
        env_value = environ.get(opt.env, "") if opt.env else ""
        if not applies_to(session, opt.name):
            if flag_value and not (
                opt.name == "arch"
                and spec is not None
                and _coerce(opt, flag_value, opt.flag) == spec.fixed_arch
            ):
                raise _refuse(session, opt, flag_value)
            ignored = [opt.env] if env_value and opt.env and opt.name != "arch" else []
            if opt.name in from_file:
                ignored.append(f"{SETTINGS_FILE} key {opt.flag[2:]}")
            if ignored:
                notes.append(f"ignored {' and '.join(ignored)}: does not apply to {session}")
            values[opt.name] = tuple(opt.default or ()) if opt.kind == "list" else opt.default
            source[opt.name] = "default"
            continue
        if opt.kind == "list":
            values[opt.name] = tuple(flag_value or ())
            source[opt.name] = "flag" if flag_value else "default"
            continue
        if flag_value is not None:
            values[opt.name] = _coerce(opt, flag_value, opt.flag)
            source[opt.name] = "flag"
        elif env_value != "":
            values[opt.name] = _coerce(opt, env_value, opt.env or opt.flag)
            source[opt.name] = "env"
        elif opt.name in from_file:
            values[opt.name] = _coerce(
                opt, from_file[opt.name], f"{SETTINGS_FILE} key {opt.flag[2:]}"
            )
            source[opt.name] = "file"
        else:
            values[opt.name] = opt.default
            source[opt.name] = "default"
    for name in _EMPTY_IS_UNSET:
        if values[name] == "":
            values[name] = None
    if spec is not None and spec.fixed_arch:
        values["arch"] = spec.fixed_arch
    if not values["docker"]:
        raise ToolkitError("--docker must name the docker CLI, e.g. --docker=/usr/bin/docker.")
    from_file_names = [BY_NAME[n].flag[2:] for n, where in source.items() if where == "file"]
    if from_file_names:
        notes.insert(0, f"from {SETTINGS_FILE}: {', '.join(from_file_names)}")
    settings = Settings(
        session=session, host_arch=host_arch(), source=source, notes=tuple(notes), **values
    )
    return Resolved(settings, args)


# --- documentation -------------------------------------------------------------------------


def _description(session: str) -> Optional[str]:
    if session == "doctor":
        return (
            "Check this machine for the build you are about to run (it takes `build`'s options); "
            "exits non-zero when it would fail."
        )
    spec = sessions.SESSIONS.get(session)
    return spec.summary if spec else None


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
        f"Options go after `--`, e.g. `nox -s {session} -- --dry-run`. An option not given",
        f"is read from its environment variable, then from {SETTINGS_FILE}, then its default.",
        "",
    ]
    for opt in OPTIONS:
        if not applies_to(session, opt.name):
            continue
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


def _applies_text(opt: Option) -> str:
    where = sessions.sessions_with(opt.name)
    if len(where) == len(sessions.SESSIONS):
        return "all"
    return ", ".join(where)


def markdown_table() -> str:
    """The settings table for README.md."""
    rows = [
        "| flag | env var | default | sessions | effect |",
        "|---|---|---|---|---|",
    ]
    for opt in OPTIONS:
        flag = opt.flag + (f" {opt.metavar}" if opt.metavar and opt.kind != "bool" else "")
        env = f"`{opt.env}`" if opt.env else "—"
        cells = (f"`{flag}`", env, _default_text(opt), _applies_text(opt), opt.help)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def sessions_markdown_table() -> str:
    """The image sessions table for README.md."""
    rows = [
        "| session | Dockerfile (target) | architectures | tags | Bazel options it adds |",
        "|---|---|---|---|---|",
    ]
    for spec in sessions.SESSIONS.values():
        dockerfile = f"`{spec.dockerfile}`" + (f" (`{spec.target}`)" if spec.target else "")
        if spec.fixed_arch:
            arch = "linux/arm64 and linux/amd64" if spec.fixed_arch == "multi" else spec.fixed_arch
        elif spec.name == "tests":
            arch = "this host's only"
        else:
            arch = "this host's, or `--arch`"
        bazel = f"`{spec.bazel_opts}`" if spec.bazel_opts else "—"
        if spec.fixed_arch == "multi":
            bazel = f"`{sessions.MULTI_JOBS}` unless you set a job count"
        cells = (f"`{spec.name}`", dockerfile, arch, spec.tag_rule, bazel)
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
