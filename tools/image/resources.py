"""Memory and CPUs the Docker engine can give a build, and the Bazel job count they allow.

Pure judgements over figures ``tools.image.docker`` gathered (the engine's /info answer)
or this host's own.

Builds run inside the engine, so its figures count, not the host's: Docker Desktop,
Colima or OrbStack run the engine in a VM with its own, usually smaller, share.
When no engine answers (a dry run on a laptop with Docker stopped), the host's
figures stand in and say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

GIB = 1024**3
#: What one C++ compile job of Envoy may take at its peak (compiler plus its share of
#: Bazel): the budget behind --jobs=auto.
JOB_MEMORY_GIB = 4


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
