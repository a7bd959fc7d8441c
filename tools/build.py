"""The image sessions: settings -> plan -> (dry run | execution) -> summary."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence, TextIO

from tools import buildx, dockerignore, images, repo
from tools.errors import ToolkitError
from tools.run import FileWrite, Plan, Step, execute
from tools.settings import Settings, resolve


@dataclass(frozen=True)
class BuildPlan:
    plan: Plan
    settings: Settings
    tags: tuple[str, ...]
    platforms: tuple[str, ...]
    bazel_opts: str
    result_file: str
    output: str  # what happens to the result: "pushed", "loaded", "exported"
    jobs_note: str | None


def _resolve_jobs(settings: Settings, platforms: int) -> tuple[int | None, str | None]:
    if settings.jobs != "auto":
        return settings.jobs, None
    from tools import resources  # only when asked for: it may ask the engine

    found = resources.engine_resources(settings.docker)
    jobs = resources.recommend_jobs(found.memory_bytes, found.cpus, platforms)
    return jobs, f"--jobs=auto chose {jobs} for {found.describe()}, about 4 GiB per compile job"


def make_plan(
    settings: Settings, root: Path, environ: Mapping[str, str] | None = None
) -> BuildPlan:
    """Compute everything the session will do; changes nothing."""
    # Start the git queries at once; they run while we validate.
    git_procs = repo.start_git_queries(root)
    try:
        bazel_version = repo.bazel_version(root)
        repo.envoy_version(root)
        facts = repo.git_facts(root, git_procs)
        arch = buildx.session_arch(settings)
        jobs, jobs_note = _resolve_jobs(settings, 2 if arch == "multi" else 1)
        spec = buildx.build_spec(settings, facts, bazel_version, jobs, root)
        cli = buildx.docker_cli(settings.docker, environ)
    finally:
        for proc in git_procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    notes = list(spec.notes)
    steps: list[Step] = []
    if cli.buildx_version:
        choice = buildx.choose_builder(settings, spec)
        notes.append(f"buildx {cli.buildx_version}; {choice.note}")
        if choice.create:
            steps.append(choice.create)
        argv = buildx.buildx_argv(settings, spec, choice.flag)
        env: tuple[tuple[str, str], ...] = ()
        result = buildx.result_file(settings.session, False)
    else:
        blocker = buildx.fallback_blocker(settings, spec, cli)
        if blocker:
            raise ToolkitError(
                f"The docker CLI `{settings.docker}` has no buildx plugin ({blocker}); install the buildx "
                "plugin (Debian: docker-buildx, Docker's packages: docker-buildx-plugin) or pass --docker with "
                "a CLI that has it."
            )
        notes.append(
            f"no buildx plugin: docker {cli.client_version} builds with its built-in BuildKit"
        )
        argv = buildx.fallback_argv(settings, spec)
        env = (("DOCKER_BUILDKIT", "1"),)
        result = buildx.result_file(settings.session, True)
    if jobs_note:
        notes.append(jobs_note)
    bazel_opts = dict(spec.build_args).get("BAZEL_BUILD_OPTS", "")
    what = spec.target or "image"
    steps.append(Step(f"{settings.session}: {what} from {spec.dockerfile}", tuple(argv), env))
    files = (FileWrite("SOURCE_VERSION", facts.head + "\n"), *dockerignore.plan_files(root))
    output = {"push": "pushed", "load": "loaded"}.get(spec.output or "", "exported")
    plan = Plan(
        title=f"nox -s {settings.session}",
        root=str(root),
        files=files,
        steps=tuple(steps),
        notes=tuple(notes),
    )
    return BuildPlan(
        plan=plan,
        settings=settings,
        tags=spec.tags,
        platforms=spec.platforms or (f"linux/{settings.host_arch}",),
        bazel_opts=bazel_opts,
        result_file=result,
        output=output,
        jobs_note=jobs_note,
    )


def _digest(root: Path, result_file: str) -> str | None:
    path = root / result_file
    try:
        text = path.read_text().strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    if result_file.endswith(".iid"):
        return text or None
    try:
        meta = json.loads(text)
    except ValueError:
        return None
    return meta.get("containerimage.digest") or meta.get("containerimage.config.digest")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{seconds:.1f}s"


def summary(bp: BuildPlan, seconds: float, digest: str | None) -> str:
    lines = [
        f"==> {bp.settings.session} finished in {_duration(seconds)}; image {bp.output}:",
        *(f"    {tag}" for tag in bp.tags),
        f"    digest: {digest or 'unknown'}",
        f"    platforms: {', '.join(bp.platforms)}",
        f"    Bazel options: {bp.bazel_opts or '(none)'}",
    ]
    if bp.jobs_note:
        lines.append(f"    {bp.jobs_note}")
    return "\n".join(lines)


def main(
    argv: Sequence[str],
    session: str,
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> BuildPlan:
    out = out or sys.stdout
    root = root or repo.ROOT
    settings = resolve(session, argv, root=root, environ=environ).settings
    bp = make_plan(settings, root, environ)
    if settings.dry_run:
        execute(bp.plan, dry_run=True, out=out)
        return bp
    (root / buildx.RESULT_DIR).mkdir(parents=True, exist_ok=True)
    result = root / bp.result_file
    result.unlink(missing_ok=True)
    started = time.monotonic()
    execute(bp.plan, out=out)
    print(
        summary(bp, time.monotonic() - started, _digest(root, bp.result_file)), file=out, flush=True
    )
    return bp


def default_image_ref(root: Path | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The first tag `nox -s build` would give its image on this host (for extract)."""
    root = root or repo.ROOT
    settings = resolve("build", [], root=root, environ=environ).settings
    facts = repo.git_facts(root)
    return images.tags(settings, facts, repo.bazel_version(root))[0]
