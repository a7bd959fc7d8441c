"""Settings and facts -> the build plan: the exact `docker buildx build` (or fallback) command.

:func:`plan` is pure: every fact it needs (git, the docker CLI, builders, the engine)
was gathered before by ``tools.facts.gather``, whose read-only queries of the docker
CLI (``--version``, ``buildx version``, ``buildx inspect``) live here too, with the one
parser of ``buildx inspect`` that doctor shares.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from tools.errors import ToolkitError
from tools.files import cache_dir, write_atomic
from tools.image import images, sessions
from tools.image.settings import Settings
from tools.repo import GitFacts
from tools.run import FileWrite, Plan, Step, query, start

if TYPE_CHECKING:  # tools.facts imports this module
    from tools.image.facts import Facts

#: The docker-container builder this toolkit creates when a build needs one.
OWN_BUILDER = "cilium-envoy"
#: Where buildx (or docker build) leaves the digest / image id for the summary.
RESULT_DIR = ".nox/cilium-envoy"

ARCHIVE_SESSIONS = ("archive", "tests_archive")
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


# --- docker CLI facts ----------------------------------------------------------------------


@dataclass(frozen=True)
class DockerCli:
    path: str
    buildx_version: str | None  # None: no buildx plugin
    client_version: str  # e.g. "20.10.24+dfsg1"

    @property
    def builtin_buildkit(self) -> bool:
        """Docker CLIs before 23.0 build with BuildKit themselves when DOCKER_BUILDKIT=1."""
        match = re.match(r"(\d+)\.", self.client_version)
        return match is not None and int(match.group(1)) < 23


def _no_docker(docker: str) -> str:
    return (
        f"The docker CLI `{docker}` was not found; install Docker or pass --docker=/path/to/docker."
    )


SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def _cli_fingerprint(docker: str, environ: Mapping[str, str]) -> list | None:
    """What the CLI facts depend on: the binary itself and where its plugins live.

    Installing, removing or upgrading the CLI or a plugin changes one of these stats.
    """
    path = shutil.which(docker, path=environ.get("PATH"))
    if path is None:
        return None
    config = Path(
        environ.get("DOCKER_CONFIG") or Path(environ.get("HOME", "~")).expanduser() / ".docker"
    )
    watched = [
        Path(path).resolve(),
        config / "config.json",
        config / "cli-plugins",
        *map(Path, SYSTEM_PLUGIN_DIRS),
    ]
    print_ = []
    for item in watched:
        try:
            st = item.stat()
        except OSError:
            continue
        print_.append([str(item), st.st_mtime_ns, st.st_size, st.st_ino])
    return print_


def _cache_file(environ: Mapping[str, str]) -> Path:
    return cache_dir(environ) / "docker-cli.json"


def docker_cli(docker: str, environ: Mapping[str, str] | None = None) -> DockerCli:
    """What the docker CLI can do; remembered per machine until the CLI or its plugins change."""
    environ = os.environ if environ is None else environ
    fingerprint = _cli_fingerprint(docker, environ)
    if fingerprint is None:
        raise ToolkitError(_no_docker(docker))
    cache = _cache_file(environ)
    key = json.dumps([docker, fingerprint])
    try:
        remembered = json.loads(cache.read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        remembered = None
    if remembered:
        return DockerCli(path=docker, buildx_version=remembered[0], client_version=remembered[1])
    cli = ask_cli(docker)
    try:
        write_atomic(cache, json.dumps({key: [cli.buildx_version, cli.client_version]}))
    except OSError:
        pass  # a read-only home only costs the next run two queries
    return cli


def ask_cli(docker: str) -> DockerCli:
    missing = _no_docker(docker)
    buildx = start([docker, "buildx", "version"], missing=missing)
    version = start([docker, "--version"], missing=missing)
    bx_out, _ = buildx.communicate()
    v_out, v_err = version.communicate()
    if version.returncode != 0:
        raise ToolkitError(
            f"`{docker} --version` failed ({v_err.strip()}); check the docker CLI or pass --docker."
        )
    match = re.search(r"version\s+([0-9][^\s,]*)", v_out)
    bx = None
    if buildx.returncode == 0:
        found = re.search(r"\bv?(\d+\.\d+[^\s]*)", bx_out)
        bx = found.group(1) if found else "unknown"
    return DockerCli(
        path=docker, buildx_version=bx, client_version=match.group(1) if match else "unknown"
    )


@dataclass(frozen=True)
class BuilderNode:
    name: str
    status: str  # running, inactive, stopped, error ...
    platforms: tuple[str, ...]
    error: str = ""


@dataclass(frozen=True)
class BuilderReport:
    """What `docker buildx inspect` says about one builder."""

    name: str
    driver: str
    nodes: tuple[BuilderNode, ...] = ()
    error: str = ""

    @property
    def running(self) -> bool:
        return any(n.status == "running" for n in self.nodes)

    @property
    def platforms(self) -> tuple[str, ...]:
        seen: list[str] = []
        for node in self.nodes:
            seen += [p for p in node.platforms if p not in seen]
        return tuple(seen)

    @property
    def node_errors(self) -> tuple[str, ...]:
        return tuple(e for e in [self.error] + [n.error for n in self.nodes] if e)


def parse_inspect(text: str) -> BuilderReport | None:
    """`docker buildx inspect` text -> report; None when it names no builder.

    Only unindented ``Key: value`` lines count: labels, GC rules and devices are
    indented and may repeat keys such as ``Name``.
    """
    top: dict[str, str] = {}
    nodes: list[dict[str, str]] = []
    in_nodes = False
    for line in text.splitlines():
        if not line.strip() or line[:1].isspace():
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Nodes" and not value:
            in_nodes = True
            continue
        if not in_nodes:
            top.setdefault(key, value)
        elif key == "Name":
            nodes.append({"Name": value})
        elif nodes:
            nodes[-1].setdefault(key, value)
    if "Name" not in top or "Driver" not in top:
        return None
    return BuilderReport(
        name=top["Name"],
        driver=top["Driver"],
        error=top.get("Error", ""),
        nodes=tuple(
            BuilderNode(
                name=n["Name"],
                status=n.get("Status", "error" if n.get("Error") else "unknown"),
                platforms=tuple(
                    p.strip().rstrip("*") for p in n.get("Platforms", "").split(",") if p.strip()
                ),
                error=n.get("Error", ""),
            )
            for n in nodes
        ),
    )


def inspect_builder(docker: str, name: str | None = None) -> BuilderReport | None:
    """`docker buildx inspect [NAME]`: None when there is no such builder."""
    argv = [docker, "buildx", "inspect"] + ([name] if name else [])
    proc = query(argv, missing=_no_docker(docker))
    if proc.returncode != 0:
        return None
    report = parse_inspect(proc.stdout)
    if report is None:
        raise ToolkitError(
            f"Could not read the builder from `{' '.join(argv)}`; pass --builder NAME to choose one."
        )
    return report


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


def bazel_build_opts(settings: Settings, jobs: int | None) -> str:
    opts = []
    extra = sessions.SESSIONS[_table_session(settings)].bazel_opts
    if extra:
        opts.append(extra)
    if settings.bazel_build_opts.strip():
        opts.append(settings.bazel_build_opts.strip())
    if settings.bazel_remote_cache:
        opts.append(f"--remote_cache={settings.bazel_remote_cache}")
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
    if settings.bazel_remote_cache:
        opts.append(f"--remote_cache={settings.bazel_remote_cache}")
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


def _table_session(settings: Settings) -> str:
    """doctor checks `build`."""
    return settings.session if settings.session in sessions.SESSIONS else "build"


def check_settings(settings: Settings) -> None:
    """Cross-field checks that hold for every image session."""
    s = settings
    if s.debug and s.release_debug:
        raise ToolkitError("--debug and --release-debug exclude each other; choose one.")
    if s.cache_push and not s.cache_ref:
        raise ToolkitError("--cache-push needs --cache-ref REF to say where the cache goes.")
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
    if s.session == "tests" and arch != s.host_arch:
        raise ToolkitError(
            f"tests run only on this host's platform (linux/{s.host_arch}); drop --arch {arch}"
            + (f" or run them on an {arch} host." if arch != "multi" else ".")
        )


def session_arch(settings: Settings) -> str:
    """The architecture the session builds, with build_multi and raspi's fixed choices."""
    fixed = sessions.SESSIONS[_table_session(settings)].fixed_arch
    return fixed or settings.target_arch


def build_spec(
    settings: Settings, facts: GitFacts, bazel_version: str, jobs: int | None
) -> BuildSpec:
    """The build command's parts; pure, fails with one sentence on any mistake."""
    s = settings
    check_settings(s)
    session = _table_session(s)
    table = sessions.SESSIONS[session]
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
    if session != "builder":
        build_args.append(("BUILDER_BASE", images.builder_base(s, facts, bazel_version)))
        archive = images.archive_image(s)
        if archive:
            build_args.append(("ARCHIVE_IMAGE", archive))
        build_args.append(("BAZEL_BUILD_OPTS", bazel_build_opts(s, jobs)))
    if session == "tests":
        build_args.append(("BAZEL_TEST_OPTS", bazel_test_opts(s, jobs)))
    if s.debug:
        build_args.append(("DEBUG", "1"))
    if s.release_debug:
        build_args.append(("RELEASE_DEBUG", "1"))
    if session in ARCHIVE_SESSIONS:
        build_args.append(("COPY_CACHE_EXT", ".new"))
    if s.no_cache and session != "builder":
        build_args.append(("NO_CACHE", str(s.no_cache)))

    cache_from = f"type=registry,ref={s.cache_ref}" if s.cache_ref and not s.no_cache else None
    cache_to = f"type=registry,ref={s.cache_ref},mode=max" if s.cache_push else None
    docker_no_cache = bool(s.no_cache) and (session == "builder" or s.no_cache == 2)

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
        progress_plain=session == "tests"
        and not any(o.startswith("--progress") for o in user_opts),
        user_opts=user_opts,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class BuilderChoice:
    flag: str | None  # value of --builder, None for the current builder
    create: Step | None
    note: str


def needs_container_driver(settings: Settings, spec: BuildSpec) -> str | None:
    """Why the build needs a docker-container builder, or None."""
    if len(spec.platforms) > 1:
        return "a multi-platform build"
    if spec.cache_to:
        return "--cache-push"
    if settings.buildkit_image:
        return "--buildkit-image"
    return None


def choose_builder(
    settings: Settings, spec: BuildSpec, builders: Mapping[str, BuilderReport | None] | None
) -> BuilderChoice:
    """Which builder the build names, from the builders gathered before (None: unknown)."""
    docker = settings.docker
    if settings.builder:
        return BuilderChoice(settings.builder, None, f"builder: {settings.builder} (chosen)")
    reason = needs_container_driver(settings, spec)
    if reason is None:
        return BuilderChoice(None, None, "builder: the current buildx builder")
    argv = [docker, "buildx", "create", "--name", OWN_BUILDER, "--driver", "docker-container"]
    if settings.buildkit_image:
        argv += ["--driver-opt", f"image={settings.buildkit_image}"]
    if builders is None:
        # Not known on this machine (a dry run without buildx): create it unless it exists.
        step = Step(
            f"create the {OWN_BUILDER} builder unless it exists ({reason} needs the "
            "docker-container driver)",
            tuple(argv),
            unless=(docker, "buildx", "inspect", OWN_BUILDER),
        )
        return BuilderChoice(OWN_BUILDER, step, f"builder: {OWN_BUILDER} (docker-container)")
    if not settings.buildkit_image:
        current = builders.get("")
        if current and current.driver != "docker":
            return BuilderChoice(
                current.name, None, f"builder: {current.name} (current, driver {current.driver})"
            )
    if builders.get(OWN_BUILDER):
        note = f"builder: {OWN_BUILDER} (exists; {reason} needs the docker-container driver)"
        if settings.buildkit_image:
            note += f"; to change its BuildKit image run `docker buildx rm {OWN_BUILDER}` first"
        return BuilderChoice(OWN_BUILDER, None, note)
    step = Step(
        f"create the {OWN_BUILDER} builder ({reason} needs the docker-container driver)",
        tuple(argv),
    )
    return BuilderChoice(
        OWN_BUILDER,
        step,
        f"builder: {OWN_BUILDER} (created once; your current builder is unchanged)",
    )


def result_file(session: str, fallback: bool) -> str:
    return f"{RESULT_DIR}/{session}.{'iid' if fallback else 'metadata.json'}"


def buildx_argv(settings: Settings, spec: BuildSpec, builder: str | None) -> list[str]:
    argv = [settings.docker, "buildx", "build"]
    if builder:
        argv += ["--builder", builder]
    argv += _common_args(spec)
    if spec.cache_from:
        argv.append(f"--cache-from={spec.cache_from}")
    if spec.cache_to:
        argv.append(f"--cache-to={spec.cache_to}")
    if spec.output:
        argv.append(f"--{spec.output}")
    argv.append(f"--metadata-file={result_file(settings.session, False)}")
    return argv + list(spec.user_opts) + ["."]


def fallback_argv(settings: Settings, spec: BuildSpec) -> list[str]:
    """`docker build` with built-in BuildKit: the same build, loaded locally."""
    argv = [settings.docker, "build"] + _common_args(spec)
    if spec.cache_from:
        argv.append(f"--cache-from={settings.cache_ref}")
    argv.append(f"--iidfile={result_file(settings.session, True)}")
    return argv + [o for o in spec.user_opts if o != "--load"] + ["."]


def _common_args(spec: BuildSpec) -> list[str]:
    argv = []
    if spec.dockerfile != "Dockerfile":
        argv += ["-f", spec.dockerfile]
    if spec.target:
        argv += ["--target", spec.target]
    if spec.progress_plain:
        argv.append("--progress=plain")
    if spec.platforms:
        argv.append("--platform=" + ",".join(spec.platforms))
    for key, value in spec.build_args:
        argv += ["--build-arg", f"{key}={value}"]
    if spec.docker_no_cache:
        argv.append("--no-cache")
    for tag in spec.tags:
        argv += ["-t", tag]
    return argv


def fallback_blocker(settings: Settings, spec: BuildSpec, cli: DockerCli) -> str | None:
    """Why the plugin-less fallback cannot do this build, or None when it can."""
    if not cli.builtin_buildkit:
        return f"docker {cli.client_version} builds with BuildKit only through the buildx plugin"
    if len(spec.platforms) > 1:
        return "a multi-platform build needs it"
    if spec.output != "load" and not (
        spec.output is None and {c.kind for c in output_choices(spec.user_opts)} == {"load"}
    ):
        return "only a build loaded into the local image store can run without it"
    if settings.builder:
        return "--builder needs it"
    if spec.cache_to or settings.buildkit_image:
        return "the build needs a docker-container builder"
    return None


# --- settings + facts -> plan ----------------------------------------------------------------


@dataclass(frozen=True)
class BuildPlan:
    plan: Plan
    settings: Settings
    tags: tuple[str, ...]
    platforms: tuple[str, ...]
    bazel_opts: str
    test_opts: str | None
    result_file: str
    output: str  # what happens to the result: "pushed", "loaded", "exported"
    jobs_note: str | None
    #: What this machine lacks to run the plan (one sentence naming the fix), or None.
    blocker: str | None


def _install_buildx(docker: str, why: str) -> str:
    return (
        f"The docker CLI `{docker}` has no buildx plugin ({why}); install the buildx plugin "
        "(Debian: docker-buildx, Docker's packages: docker-buildx-plugin) or pass --docker with a "
        "CLI that has it."
    )


def plan(settings: Settings, facts: Facts) -> BuildPlan:
    """The whole plan of an image session from settings and gathered facts; no I/O."""
    jobs: int | None = None
    jobs_note = None
    if settings.jobs == "auto":
        from tools.image import resources

        # The host's figures stand in when none were gathered, as when no engine answers.
        found = facts.resources or resources.host_resources()
        jobs = resources.recommend_jobs(
            found.memory_bytes, found.cpus, 2 if session_arch(settings) == "multi" else 1
        )
        jobs_note = f"--jobs=auto chose {jobs} for {found.describe()}, about 4 GiB per compile job"
    elif settings.jobs:
        jobs = settings.jobs
    spec = build_spec(settings, facts.git, facts.bazel_version, jobs)

    notes = list(settings.notes) + list(spec.notes)
    steps: list[Step] = []
    blocker = None
    cli = facts.docker
    fallback = None
    if cli is None:
        blocker = facts.docker_problem
    elif not cli.buildx_version:
        why = fallback_blocker(settings, spec, cli)
        if why:
            blocker = _install_buildx(settings.docker, why)
        else:
            fallback = cli
    if fallback is not None:
        notes.append(
            f"no buildx plugin: docker {fallback.client_version} builds with its built-in BuildKit"
        )
        argv = fallback_argv(settings, spec)
        env: tuple[tuple[str, str], ...] = (("DOCKER_BUILDKIT", "1"),)
        result = result_file(settings.session, True)
    else:
        version = cli.buildx_version if cli is not None else None
        choice = choose_builder(settings, spec, facts.builders if version is not None else None)
        notes.append((f"buildx {version}; " if version is not None else "") + choice.note)
        if choice.create:
            steps.append(choice.create)
        argv = buildx_argv(settings, spec, choice.flag)
        env = ()
        result = result_file(settings.session, False)
    if blocker is None and facts.engine and facts.engine.startswith("down"):
        blocker = (
            f"No Docker engine answers ({facts.engine[len('down: ') :]}); start Docker (Docker "
            "Desktop, or `sudo systemctl start docker`) or set DOCKER_HOST."
        )
    if jobs_note:
        notes.append(jobs_note)
    args = dict(spec.build_args)
    what = spec.target or "image"
    steps.append(
        Step(
            f"{settings.session}: {what} from {spec.dockerfile}",
            tuple(argv),
            env,
            explain=lambda status, output: images.pull_failure(settings.session, output),
        )
    )
    files = (FileWrite("SOURCE_VERSION", facts.git.head + "\n"), *facts.generated)
    output = {"push": "pushed", "load": "loaded"}.get(spec.output or "", "exported")
    if spec.output is None:
        kinds = {c.kind for c in output_choices(spec.user_opts)}
        output = "pushed" if kinds == {"push"} else "loaded" if kinds == {"load"} else "exported"
    the_plan = Plan(
        title=f"nox -s {settings.session}",
        root=facts.root,
        files=files,
        dirs=(RESULT_DIR,),
        steps=tuple(steps),
        notes=tuple(notes),
        cannot_run=blocker,
    )
    return BuildPlan(
        plan=the_plan,
        settings=settings,
        tags=spec.tags,
        platforms=spec.platforms or (f"linux/{settings.host_arch}",),
        bazel_opts=args.get("BAZEL_BUILD_OPTS", ""),
        test_opts=args.get("BAZEL_TEST_OPTS"),
        result_file=result,
        output=output,
        jobs_note=jobs_note,
        blocker=blocker,
    )
