"""Settings and facts -> the build plan: the exact `docker buildx build` (or fallback) command.

:func:`plan` is pure: every fact it needs (git, the docker CLI, builders, the engine)
was gathered before by ``tools.image.facts.gather``; the build command's parts come
from ``tools.image.spec``.  The plan is plain data: ``--dry-run`` prints it, tests
assert on it and the runner carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from tools.image import images, resources
from tools.image.answers import BuilderReport, DockerCli
from tools.image.facts import Facts
from tools.image.settings import Settings
from tools.image.spec import OWN_BUILDER, BuildSpec, build_spec, output_choices, session_arch
from tools.run import FileWrite, Plan, Step

#: Where buildx (or docker build) leaves the digest / image id for the summary.
RESULT_DIR = ".nox/cilium-envoy"


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
