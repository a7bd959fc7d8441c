"""Memory and CPUs the Docker engine can give a build, and the Bazel job count they allow.

Builds run inside the engine, so its figures count, not the host's: Docker Desktop,
Colima or OrbStack run the engine in a VM with its own, usually smaller, share.
When no engine answers (a dry run on a laptop with Docker stopped), the host's
figures stand in and say so.

Import-light on purpose: the docker SDK is imported only when the engine is asked.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, Mapping, Optional

GIB = 1024**3
#: What one C++ compile job of Envoy may take at its peak (compiler plus its share of
#: Bazel): the budget behind --jobs=auto.
JOB_MEMORY_GIB = 4
#: How long a question to the engine may take before we give up on it.
ENGINE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Resources:
    memory_bytes: int
    cpus: int
    source: str  # "engine" or "host"
    where: str = ""  # what the figures describe, e.g. "Docker Desktop VM"

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / GIB

    def describe(self) -> str:
        where = self.where or ("the engine" if self.source == "engine" else "this host")
        return f"{self.memory_gib:.1f} GiB and {self.cpus} CPUs ({where})"


def recommend_jobs(memory_bytes: int, cpus: int, platforms: int = 1) -> int:
    """Bazel --jobs for a build: about 4 GiB per compile job, never more jobs than CPUs.

    Memory is rounded to whole GiB first, because engines in VMs report a little
    less than their configured size (an 8 GiB Docker Desktop shows about 7.7 GiB).
    When ``platforms`` builds share the engine at once, each gets its share.
    """
    whole_gib = int(memory_bytes / GIB + 0.5)
    jobs = min(whole_gib // JOB_MEMORY_GIB, max(int(cpus), 1))
    return max(1, jobs // max(int(platforms), 1))


# --- the host ------------------------------------------------------------------------------


def host_resources() -> Resources:
    """This machine's memory and the CPUs this process may use."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 8 * GIB  # unknown: assume a small laptop rather than nothing
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return Resources(int(memory), cpus, "host")


# --- the engine ----------------------------------------------------------------------------


class EngineUnavailable(Exception):
    """No Docker engine answered; the message says why, in a few words."""


def engine_kind(info: Mapping[str, Any]) -> str:
    """A short name for where the engine runs, from its /info answer."""
    system = str(info.get("OperatingSystem") or "")
    for known in ("Docker Desktop", "OrbStack", "Rancher Desktop"):
        if known in system:
            return f"{known} VM"
    name = str(info.get("Name") or "")
    if name in ("colima", "lima-docker") or name.startswith(("colima-", "lima-")):
        return "Colima VM" if name.startswith("colima") else "Lima VM"
    return "the engine"


def is_desktop(info: Mapping[str, Any]) -> bool:
    return "Docker Desktop" in str(info.get("OperatingSystem") or "")


def resources_from_info(info: Mapping[str, Any]) -> Resources:
    """The engine's figures from its /info answer (``docker info`` as JSON)."""
    try:
        memory = int(info["MemTotal"])
        cpus = int(info["NCPU"])
    except (KeyError, TypeError, ValueError):
        raise EngineUnavailable("the engine's answer has no MemTotal/NCPU") from None
    if memory <= 0 or cpus <= 0:
        raise EngineUnavailable("the engine reports no memory or no CPUs")
    return Resources(memory, cpus, "engine", engine_kind(info))


def client_kwargs(environ: Optional[Mapping[str, str]] = None) -> Mapping[str, Any]:
    """Where the docker CLI would connect: DOCKER_HOST, else DOCKER_CONTEXT or the current context.

    The SDK's own ``from_env`` reads only DOCKER_HOST, but Docker Desktop and Colima
    point the CLI at their engine through a context.
    """
    environ = os.environ if environ is None else environ
    from docker.utils import kwargs_from_env

    if environ.get("DOCKER_HOST"):
        return kwargs_from_env(environment=dict(environ))
    try:
        from docker.context import ContextAPI
        from docker.context.config import get_current_context_name

        name = environ.get("DOCKER_CONTEXT") or get_current_context_name()
        if name and name != "default":
            context = ContextAPI.get_context(name)
            if context is not None and context.Host:
                kwargs: dict = {"base_url": context.Host}
                if context.TLSConfig:
                    kwargs["tls"] = context.TLSConfig
                if context.Host.startswith("ssh://"):
                    kwargs["use_ssh_client"] = True
                return kwargs
    except Exception:  # noqa: BLE001 - a broken context store: fall back to the default socket
        pass
    return kwargs_from_env(environment=dict(environ))


def connect(timeout: float = ENGINE_TIMEOUT, environ: Optional[Mapping[str, str]] = None) -> Any:
    """A docker SDK client that has reached the engine, or :class:`EngineUnavailable`."""
    try:
        import docker
    except ImportError:
        raise EngineUnavailable("the docker SDK for Python is not installed") from None
    # Nox logs at debug level; the SDK's and urllib3's request lines are noise there.
    for name in ("docker", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    kwargs = client_kwargs(environ)
    endpoint = kwargs.get("base_url") or "unix:///var/run/docker.sock"
    try:
        # version "auto" asks the engine at once, so an absent engine fails here.
        # types-docker says int; the SDK hands the timeout to requests, which takes a float.
        return docker.DockerClient(version="auto", timeout=timeout, **kwargs)  # type: ignore[arg-type]
    except docker.errors.DockerException as exc:
        _close_orphaned_sockets(exc)
        raise EngineUnavailable(explain_connect_error(str(exc), endpoint)) from None


def _close_orphaned_sockets(exc: BaseException) -> None:
    """Close the sockets left in the frames a failed connection attempt unwound.

    The SDK's unix-socket connection (docker 7.1 ``UnixHTTPConnection.connect``) does not
    close its socket when ``connect()`` fails (an open fix: docker/docker-py#3356), and the
    client that would own it was never built: only the exception's traceback still holds it.
    """
    seen: set[int] = set()
    pending: list[Optional[BaseException]] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        pending += [error.__cause__, error.__context__]
        tb = error.__traceback__
        while tb is not None:
            for value in tb.tb_frame.f_locals.values():
                if isinstance(value, socket.socket):
                    value.close()
            tb = tb.tb_next


def explain_connect_error(text: str, endpoint: str) -> str:
    if "PermissionError" in text or "Permission denied" in text:
        return f"permission denied on {endpoint}"
    if "FileNotFoundError" in text or "No such file" in text:
        return f"nothing listens at {endpoint}"
    if "Connection refused" in text or "ConnectionRefused" in text:
        return f"connection refused at {endpoint}"
    if "timed out" in text.lower() or "Timeout" in text:
        return f"no answer from {endpoint} in time"
    return f"no engine answers at {endpoint} ({text.splitlines()[0][:160]})"


def endpoint_of(client: Any) -> str:
    url = str(getattr(client.api, "base_url", "") or "")
    if url.startswith("http+docker://"):
        # The SDK rewrites unix sockets; show the address people know.
        adapter = client.api.get_adapter(url)
        socket_path = getattr(adapter, "socket_path", None)
        if socket_path:
            return f"unix://{socket_path}"
    return url


def engine_info(docker_cli: str = "docker", timeout: float = ENGINE_TIMEOUT) -> dict:
    """The engine's /info answer: through the SDK, or ``docker info`` without the SDK."""
    try:
        import docker  # noqa: F401
    except ImportError:
        return _cli_info(docker_cli, timeout)
    client = connect(timeout)
    try:
        return client.info()
    except Exception as exc:  # noqa: BLE001 - any failure means: no usable engine
        raise EngineUnavailable(f"the engine did not answer /info ({exc})") from None
    finally:
        client.close()


def _cli_info(docker_cli: str, timeout: float) -> dict:
    from tools.errors import ToolkitError
    from tools.run import query

    try:
        proc = query([docker_cli, "info", "--format", "{{json .}}"], timeout=timeout * 2)
    except ToolkitError as exc:
        raise EngineUnavailable(f"`{docker_cli} info` failed ({exc})") from None
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        info = None
    if proc.returncode != 0 or not isinstance(info, dict) or info.get("ServerErrors"):
        raise EngineUnavailable(f"`{docker_cli} info` found no engine")
    return info


def engine_resources(docker_cli: str = "docker") -> Resources:
    """The engine's memory and CPUs; the host's (source "host") when no engine answers."""
    try:
        return resources_from_info(engine_info(docker_cli))
    except EngineUnavailable:
        return host_resources()
