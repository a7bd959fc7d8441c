"""What Docker answers, as values: the CLI, buildx builders, logins, errors in a few words.

Pure: ``tools.image.docker`` asks, this module says what the answers mean.  The SDK has
no buildx, so a builder is known from `docker buildx inspect`'s text (the one reader of
it; only its unindented ``Key: value`` lines are read).
"""

from __future__ import annotations

import io
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Dict, Optional, Tuple


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


def network_error(text: str) -> str:
    """The gist of a Go or Python network error: `lookup quay.io: no such host`."""
    host = re.search(r"https?://([^/\s\"]+)", text)
    where = f"{host.group(1)}: " if host else ""
    for gist in ("no such host", "connection refused", "i/o timeout", "network is unreachable",
                 "certificate", "server gave HTTP response to HTTPS client"):  # fmt: skip
        if gist in text:
            return where + gist
    return text.splitlines()[0][:160] if text else "no answer"


@dataclass(frozen=True)
class BuilderAnswer:
    """What `docker buildx inspect` said about the builder a build would use."""

    report: Optional[BuilderReport]  # None: it could not be inspected (``problem`` says why)
    problem: str = ""
    #: An idle non-docker builder was started to learn its platforms: "" (not needed),
    #: "started", or "timeout" (it did not start in time; its platforms are unknown).
    bootstrap: str = ""


@dataclass(frozen=True)
class Logins:
    """Where the docker client holds a login for each registry asked about."""

    config: Path  # config.json
    found: Tuple[str, ...] = ()  # "quay.io (config.json)", "ghcr.io (docker-credential-x)"
    missing: Tuple[str, ...] = ()
    config_error: str = ""  # config.json cannot be read
    store_error: str = ""  # a credential store did not answer
    store: str = ""  # ... which one
    store_registry: str = ""  # ... asked for which registry
    sdk_missing: bool = False


def files_from_tar(data: bytes) -> Dict[str, Tuple[bytes, int]]:
    """Regular files of an archive-API tar (named relative to the copied path's parent)."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            if not member.isreg() or path.is_absolute() or ".." in path.parts:
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                files[str(path)] = (handle.read(), member.mode & 0o777)
    return files


#: How the docker SDK gets beside nox (README's set-up).
SDK_MISSING = (
    "the docker SDK for Python is not installed beside nox (`pipx inject nox docker`, or the "
    "`docker` package in nox's own environment)"
)
