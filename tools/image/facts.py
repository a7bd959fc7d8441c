"""Everything a plan depends on, gathered once before planning.

:func:`gather` does all the reading: git, the checkout's version files, the docker
CLI (its version and buildx plugin, remembered per machine), the builders a build
may use, the engine (only for ``--jobs=auto``) and the generated files' content.
Every question to Docker goes through ``tools.image.docker``.  The result is one
frozen :class:`Facts`; ``tools.image.plan.plan(settings, facts)`` then computes the
plan without any I/O, and doctor judges the same facts.

Facts that cannot be had on this machine (no docker CLI, no engine) are recorded as
missing with the reason, so a dry run can still show the plan and say what is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional, Tuple

from tools import repo
from tools.errors import ToolkitError
from tools.files import cache_dir, write_atomic
from tools.image import docker, dockerignore
from tools.image.answers import BuilderReport, DockerCli
from tools.image.resources import Resources
from tools.image.settings import Settings
from tools.image.spec import OWN_BUILDER, session_arch
from tools.run import FileWrite


@dataclass(frozen=True)
class Facts:
    root: str
    git: repo.GitFacts
    bazel_version: str
    envoy_version: str
    docker: Optional[DockerCli]  # None: no docker CLI (``docker_problem`` says why)
    docker_problem: str = ""
    #: ``docker buildx inspect`` answers: "" is the current builder; None means no such
    #: builder; a missing key means it was not asked (not needed, or no buildx).
    builders: Mapping[str, Optional[BuilderReport]] = field(default_factory=dict)
    engine: Optional[str] = None  # "up", "down: <why>", or None when not checked
    #: The engine's memory and CPUs (only gathered for --jobs=auto).
    resources: Optional[Resources] = None
    generated: Tuple[FileWrite, ...] = ()  # the .dockerignore files, from the .gitignore files


def _container_driver_may_be_needed(settings: Settings) -> bool:
    """Could choosing the builder depend on the existing builders?  (Settings alone decide.)"""
    if settings.builder:
        return False
    multi = session_arch(settings) == "multi"
    return multi or settings.cache_push or bool(settings.buildkit_image)


# --- the docker CLI, remembered per machine --------------------------------------------------


SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def _cli_fingerprint(cli: str, environ: Mapping[str, str]) -> list | None:
    """What the CLI facts depend on: the binary itself and where its plugins live.

    Installing, removing or upgrading the CLI or a plugin changes one of these stats.
    """
    path = shutil.which(cli, path=environ.get("PATH"))
    if path is None:
        return None
    config = docker.docker_config_dir(environ)
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


def docker_cli(cli: str, environ: Mapping[str, str] | None = None) -> DockerCli:
    """What the docker CLI can do; remembered per machine until the CLI or its plugins change."""
    environ = os.environ if environ is None else environ
    fingerprint = _cli_fingerprint(cli, environ)
    if fingerprint is None:
        raise ToolkitError(docker.no_docker(cli))
    cache = _cache_file(environ)
    key = json.dumps([cli, fingerprint])
    try:
        remembered = json.loads(cache.read_text()).get(key)
    except (OSError, ValueError, AttributeError):
        remembered = None
    if remembered:
        return DockerCli(path=cli, buildx_version=remembered[0], client_version=remembered[1])
    found = docker.ask_cli(cli)
    try:
        write_atomic(cache, json.dumps({key: [found.buildx_version, found.client_version]}))
    except OSError:
        pass  # a read-only home only costs the next run two queries
    return found


# --- gathering ---------------------------------------------------------------------------------


def gather(
    settings: Settings,
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    *,
    fresh_cli: bool = False,
    ask_engine: bool = True,
) -> Facts:
    """Read everything :func:`tools.image.plan.plan` needs; fails only on the checkout's own
    facts.

    ``fresh_cli`` asks the docker CLI afresh instead of the per-machine memory, and
    ``ask_engine=False`` leaves the engine (its state and resources) unasked: doctor
    does both, and asks the engine itself.
    """
    environ = os.environ if environ is None else environ
    git_procs = repo.start_git_queries(root)
    try:
        bazel_version = repo.bazel_version(root)
        envoy_version = repo.envoy_version(root)
        cli: Optional[DockerCli] = None
        problem = ""
        try:
            cli = (
                docker.ask_cli(settings.docker)
                if fresh_cli
                else docker_cli(settings.docker, environ)
            )
        except ToolkitError as exc:
            problem = exc.message
        builders: dict = {}
        if cli is not None and cli.buildx_version and _container_driver_may_be_needed(settings):
            if not settings.buildkit_image:
                builders[""] = docker.inspect_builder(settings.docker)
            builders[OWN_BUILDER] = docker.inspect_builder(settings.docker, OWN_BUILDER)
        git = repo.git_facts(root, git_procs)
    finally:  # a checkout fact may fail before git_facts read the answers
        for proc in git_procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
    found = None
    if ask_engine and settings.jobs == "auto":
        found = docker.engine_resources(settings.docker)
    return Facts(
        root=str(root),
        git=git,
        bazel_version=bazel_version,
        envoy_version=envoy_version,
        docker=cli,
        docker_problem=problem,
        builders=builders,
        engine=docker.engine_state(environ) if ask_engine and cli is not None else None,
        resources=found,
        generated=dockerignore.plan_files(root),
    )
