"""Settings -> the parts of the build command: Dockerfile, platforms, build args, tags,
output, caches and the user's own docker options.

Pure and total: every mistake a setting can make is found here (one sentence, nothing
written).  The session's row in the session table decides everything session-specific.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Sequence

from tools.errors import ToolkitError
from tools.image import images, sessions
from tools.image.settings import Settings
from tools.repo import GitFacts

#: The docker-container builder this toolkit creates when a build needs one.
OWN_BUILDER = "cilium-envoy"
PLATFORMS = {
    "amd64": ("linux/amd64",),
    "arm64": ("linux/arm64",),
    "multi": ("linux/arm64", "linux/amd64"),
}

# Options of ours that must not be smuggled in through --docker-build-opts.
_OWNED_OPTS = {
    "--platform": "--arch",
    "-f": "the session (it picks the Dockerfile)",
    "--file": "the session (it picks the Dockerfile)",
    "--target": "the session (it picks the target)",
    "--builder": "--builder",
    "-t": "--tag",
    "--tag": "--tag",
}


# --- --docker-build-opts -------------------------------------------------------------------


@dataclass(frozen=True)
class OutputChoice:
    kind: str  # "push", "load" or "export" (files, tar, oci, ...)
    spelled: str


def split_opts(text: str, what: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ToolkitError(
            f"{what} `{text}` cannot be split like a shell would ({exc}); fix its quoting."
        ) from None


def _output_kind(value: str) -> str:
    if "=" not in value and "," not in value:
        return "export"  # a plain directory, as with --output=out
    attrs = dict(part.partition("=")[::2] for part in value.split(","))
    kind = attrs.get("type", "local")
    if kind == "registry" or (kind == "image" and attrs.get("push", "false") in ("true", "1")):
        return "push"
    if kind in ("docker", "image"):
        return "load"
    return "export"


def output_choices(opts: Sequence[str]) -> list[OutputChoice]:
    """Every output choice in the user's options, whatever its spelling."""
    found = []
    args = list(opts)
    for i, arg in enumerate(args):
        value = None
        if arg in ("--push", "--load"):
            found.append(OutputChoice(arg[2:], arg))
            continue
        if arg in ("--output", "-o"):
            value = args[i + 1] if i + 1 < len(args) else ""
        elif arg.startswith("--output="):
            value = arg[len("--output=") :]
        elif arg.startswith("-o") and not arg.startswith("--"):
            value = arg[2:].lstrip("=")
        if value is not None:
            found.append(
                OutputChoice(
                    _output_kind(value), f"{arg} {value}" if arg in ("--output", "-o") else arg
                )
            )
    return found


def _check_owned(opts: Sequence[str]) -> None:
    for arg in opts:
        flag = arg.split("=", 1)[0]
        if flag in _OWNED_OPTS or (
            arg.startswith("-t") and not arg.startswith("--") and len(arg) > 2
        ):
            owner = _OWNED_OPTS.get(flag, "--tag")
            raise ToolkitError(
                f"--docker-build-opts must not contain `{arg}`; use {owner} instead."
            )


# --- Bazel options -------------------------------------------------------------------------


def _has_jobs(opts: str) -> bool:
    return bool(re.search(r"(^|\s)--jobs(=|\s)", opts))


def remote_opts(settings: Settings) -> list[str]:
    """Bazel's own options for a remote cache and remote execution, as Bazel spells them."""
    opts = []
    if settings.bazel_remote_cache:
        opts.append(f"--remote_cache={settings.bazel_remote_cache}")
    if settings.bazel_remote_executor:
        opts.append(f"--remote_executor={settings.bazel_remote_executor}")
    if settings.bazel_remote_instance_name:
        opts.append(f"--remote_instance_name={settings.bazel_remote_instance_name}")
    opts += [f"--remote_header={header}" for header in settings.bazel_remote_header]
    return opts


def bazel_build_opts(settings: Settings, jobs: int | None) -> str:
    opts = []
    extra = sessions.row(settings.session).bazel_opts
    if extra:
        opts.append(extra)
    if settings.bazel_build_opts.strip():
        opts.append(settings.bazel_build_opts.strip())
    opts += remote_opts(settings)
    if jobs:
        opts.append(f"--jobs={jobs}")
    text = " ".join(opts)
    if session_arch(settings) == "multi" and not _has_jobs(text):
        # Both platforms compile at once and share the builder's cores.
        text = (text + " " if text else "") + sessions.MULTI_JOBS
    split_opts(text, "--bazel-build-opts")
    return text


def bazel_test_opts(settings: Settings, jobs: int | None) -> str:
    if settings.bazel_test_opts is not None:
        opts = [settings.bazel_test_opts.strip()] if settings.bazel_test_opts.strip() else []
    else:
        opts = list(sessions.DEFAULT_TEST_OPTS)
    opts += remote_opts(settings)
    if jobs:
        opts.append(f"--jobs={jobs}")
    opts.append("--test_output=errors")
    text = " ".join(opts)
    split_opts(text, "--bazel-test-opts")
    return text


# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildSpec:
    """Everything about the build command except how the builder was chosen."""

    dockerfile: str
    target: str | None
    platforms: tuple[str, ...]
    build_args: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    output: str | None  # "push", "load" or None (the user's options choose)
    cache_from: str | None
    cache_to: str | None
    docker_no_cache: bool
    progress_plain: bool
    user_opts: tuple[str, ...]
    notes: tuple[str, ...]


def check_settings(settings: Settings) -> None:
    """Cross-field checks that hold for every image session."""
    s = settings
    if s.debug and s.release_debug:
        raise ToolkitError("--debug and --release-debug exclude each other; choose one.")
    if s.cache_push and not s.cache_ref:
        raise ToolkitError("--cache-push needs --cache-ref REF to say where the cache goes.")
    remote = s.bazel_remote_executor or s.bazel_remote_cache
    for name, given in (("instance-name", s.bazel_remote_instance_name),
                        ("header", s.bazel_remote_header)):  # fmt: skip
        if given and not remote:
            raise ToolkitError(
                f"--bazel-remote-{name} needs --bazel-remote-executor URL or "
                "--bazel-remote-cache URL to say which service it is for."
            )
    images.check_reference(s.dev_account, "--dev-account", tagged=False)
    for name in ("cache_ref", "buildkit_image", "archive_image", "builder_base"):
        value = getattr(s, name)
        if value:
            images.check_reference(value, "--" + name.replace("_", "-"))
    for tag in s.tag:
        images.check_reference(tag, "--tag")
    for name in ("builder_archive_tag", "tests_archive_tag", "builder_base_tag"):
        if getattr(s, name):
            images.check_tag(getattr(s, name), "--" + name.replace("_", "-"))
    arch = session_arch(s)
    if s.host_arch == "arm64" and arch in ("amd64", "multi"):
        raise ToolkitError(
            f"--arch {arch} cannot be built on an arm64 host (the builder cannot cross-compile to "
            "amd64); build on an amd64 host or use --arch arm64."
        )
    if sessions.row(s.session).host_only and arch != s.host_arch:
        raise ToolkitError(
            f"tests run only on this host's platform (linux/{s.host_arch}); drop --arch {arch}"
            + (f" or run them on an {arch} host." if arch != "multi" else ".")
        )


def session_arch(settings: Settings) -> str:
    """The architecture the session builds, with build_multi and raspi's fixed choices."""
    fixed = sessions.row(settings.session).fixed_arch
    return fixed or settings.target_arch


def build_spec(
    settings: Settings, facts: GitFacts, bazel_version: str, jobs: int | None
) -> BuildSpec:
    """The build command's parts; pure, fails with one sentence on any mistake."""
    s = settings
    check_settings(s)
    table = sessions.row(s.session)
    session = table.name
    arch = session_arch(s)
    user_opts = tuple(split_opts(s.docker_build_opts, "--docker-build-opts"))
    _check_owned(user_opts)
    notes: list[str] = []

    # Output: the user's choice wins; else push for --push or multi, else load.
    choices = output_choices(user_opts)
    kinds = {c.kind for c in choices}
    multi = arch == "multi"
    push = s.push if s.push is not None else multi
    if choices:
        spelled = ", ".join(c.spelled for c in choices)
        if s.push and kinds - {"push"}:
            raise ToolkitError(
                f"--push contradicts `{spelled}` in --docker-build-opts; drop one of them."
            )
        if s.push is False and "push" in kinds:
            raise ToolkitError(
                f"--no-push contradicts `{spelled}` in --docker-build-opts; drop one of them."
            )
        if not table.pushes and "push" in kinds:
            raise ToolkitError(
                f"`{spelled}` would push, but {session} always loads its result locally; drop it."
            )
        if multi and "load" in kinds:
            raise ToolkitError(
                f"`{spelled}` cannot load a multi-platform image into the local image store; push it or "
                "build one --arch."
            )
        output = None
    else:
        if multi and not push:
            raise ToolkitError(
                "A multi-platform image cannot be loaded into the local image store; drop --no-push, or "
                "pass --docker-build-opts=--output=DIR to export it."
            )
        output = "push" if push else "load"

    build_args = []
    if table.runs_bazel:
        build_args.append(("BUILDER_BASE", images.builder_base(s, facts, bazel_version)))
        archive = images.archive_image(s)
        if archive:
            build_args.append(("ARCHIVE_IMAGE", archive))
        build_args.append(("BAZEL_BUILD_OPTS", bazel_build_opts(s, jobs)))
    if table.runs_tests:
        build_args.append(("BAZEL_TEST_OPTS", bazel_test_opts(s, jobs)))
    if s.debug:
        build_args.append(("DEBUG", "1"))
    if s.release_debug:
        build_args.append(("RELEASE_DEBUG", "1"))
    if table.keeps_cache:
        build_args.append(("COPY_CACHE_EXT", ".new"))
    if s.no_cache and table.runs_bazel:
        build_args.append(("NO_CACHE", str(s.no_cache)))

    cache_from = f"type=registry,ref={s.cache_ref}" if s.cache_ref and not s.no_cache else None
    cache_to = f"type=registry,ref={s.cache_ref},mode=max" if s.cache_push else None
    # Without Bazel there are no Bazel caches to clear: level 1 already means docker's.
    docker_no_cache = bool(s.no_cache) and (not table.runs_bazel or s.no_cache == 2)

    return BuildSpec(
        dockerfile=table.dockerfile,
        target=table.target,
        platforms=PLATFORMS[arch] if (s.arch or table.fixed_arch) else (),
        build_args=tuple(build_args),
        tags=images.tags(s, facts, bazel_version),
        output=output,
        cache_from=cache_from,
        cache_to=cache_to,
        docker_no_cache=docker_no_cache,
        progress_plain=table.plain_progress
        and not any(o.startswith("--progress") for o in user_opts),
        user_opts=user_opts,
        notes=tuple(notes),
    )
