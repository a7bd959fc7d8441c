"""Everything a plan depends on, gathered once before planning.

:func:`gather` does all the reading: git, the checkout's version files, the docker
CLI (its version and buildx plugin, remembered per machine), the builders a build
may use, the engine (only for ``--jobs=auto``) and the generated files' content.
The result is one frozen :class:`Facts`; ``tools.buildx.plan(settings, facts)`` then
computes the plan without any I/O, and doctor judges the same facts.

Facts that cannot be had on this machine (no docker CLI, no engine) are recorded as
missing with the reason, so a dry run can still show the plan and say what is missing.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional, Tuple

from tools import repo
from tools.errors import ToolkitError
from tools.image import dockerignore
from tools.image import plan as buildx
from tools.image.settings import Settings
from tools.run import FileWrite

if TYPE_CHECKING:  # imported when --jobs=auto asks for it
    from tools.image.resources import Resources

#: How long the engine may take to answer a ping before a dry run says it is missing.
PING_TIMEOUT = 1.0


@dataclass(frozen=True)
class Facts:
    root: str
    git: repo.GitFacts
    bazel_version: str
    envoy_version: str
    docker: Optional[buildx.DockerCli]  # None: no docker CLI (``docker_problem`` says why)
    docker_problem: str = ""
    #: ``docker buildx inspect`` answers: "" is the current builder; None means no such
    #: builder; a missing key means it was not asked (not needed, or no buildx).
    builders: Mapping[str, Optional[buildx.BuilderReport]] = field(default_factory=dict)
    engine: Optional[str] = None  # "up", "down: <why>", or None when not checked
    #: The engine's memory and CPUs (only gathered for --jobs=auto).
    resources: Optional[Resources] = None
    generated: Tuple[FileWrite, ...] = ()  # the .dockerignore files, from the .gitignore files


def _container_driver_may_be_needed(settings: Settings) -> bool:
    """Could choosing the builder depend on the existing builders?  (Settings alone decide.)"""
    if settings.builder:
        return False
    multi = buildx.session_arch(settings) == "multi"
    return multi or settings.cache_push or bool(settings.buildkit_image)


def engine_state(environ: Mapping[str, str]) -> Optional[str]:
    """``up`` or ``down: <why>`` for an engine on a local socket; None when it cannot be told
    cheaply (TCP, SSH, a docker context): the build will find out."""
    host = environ.get("DOCKER_HOST", "")
    if environ.get("DOCKER_CONTEXT") or _current_context(environ) not in ("", "default"):
        return None
    if host and not host.startswith("unix://"):
        return None
    path = host[len("unix://") :] if host else "/var/run/docker.sock"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(PING_TIMEOUT)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = sock.recv(64)
    except FileNotFoundError:
        return f"down: nothing listens at unix://{path}"
    except PermissionError:
        return f"down: permission denied on unix://{path}"
    except OSError as exc:
        return f"down: unix://{path} does not answer ({exc.strerror or exc})"
    return "up" if answer.startswith(b"HTTP/1.") else f"down: unix://{path} is not an engine"


def docker_config_dir(environ: Mapping[str, str]) -> Path:
    """The docker client's config folder: ``$DOCKER_CONFIG``, else ``~/.docker``."""
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"])
    return Path(environ.get("HOME") or Path.home()) / ".docker"


def _current_context(environ: Mapping[str, str]) -> str:
    try:
        data = json.loads((docker_config_dir(environ) / "config.json").read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("currentContext") or "") if isinstance(data, dict) else ""


def gather(
    settings: Settings,
    root: Path,
    environ: Optional[Mapping[str, str]] = None,
    *,
    fresh_cli: bool = False,
    ask_engine: bool = True,
) -> Facts:
    """Read everything :func:`tools.buildx.plan` needs; fails only on the checkout's own facts.

    ``fresh_cli`` asks the docker CLI afresh instead of the per-machine memory, and
    ``ask_engine=False`` leaves the engine (its state and resources) unasked: doctor
    does both, and asks the engine itself.
    """
    environ = os.environ if environ is None else environ
    git_procs = repo.start_git_queries(root)
    try:
        bazel_version = repo.bazel_version(root)
        envoy_version = repo.envoy_version(root)
        docker: Optional[buildx.DockerCli] = None
        problem = ""
        try:
            docker = (
                buildx.ask_cli(settings.docker)
                if fresh_cli
                else buildx.docker_cli(settings.docker, environ)
            )
        except ToolkitError as exc:
            problem = exc.message
        builders: dict = {}
        if (
            docker is not None
            and docker.buildx_version
            and _container_driver_may_be_needed(settings)
        ):
            if not settings.buildkit_image:
                builders[""] = buildx.inspect_builder(settings.docker)
            builders[buildx.OWN_BUILDER] = buildx.inspect_builder(
                settings.docker, buildx.OWN_BUILDER
            )
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
        from tools.image import resources  # only when asked for: it asks the engine

        found = resources.engine_resources(settings.docker)
    return Facts(
        root=str(root),
        git=git,
        bazel_version=bazel_version,
        envoy_version=envoy_version,
        docker=docker,
        docker_problem=problem,
        builders=builders,
        engine=engine_state(environ) if ask_engine and docker is not None else None,
        resources=found,
        generated=dockerignore.plan_files(root),
    )
