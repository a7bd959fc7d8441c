"""Facts about the checkout: git state, ENVOY_VERSION, .bazelversion."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.errors import ToolkitError
from tools.run import start

#: The top of the checkout (this file lives in tools/).
ROOT = Path(__file__).resolve().parent.parent

ENVOY_VERSION_RE = re.compile(r"^envoy-(\d+)\.(\d+)\.(\d+)$")
BAZEL_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(?:[-.][0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class GitFacts:
    head: str  # full sha of HEAD
    branch: str  # current branch, or "HEAD" when detached
    builder_blob: str  # git blob id of Dockerfile.builder at HEAD ("" when not committed)


def start_git_queries(root: Path) -> tuple[subprocess.Popen, subprocess.Popen]:
    """Start the two git calls :func:`git_facts` reads, so they run alongside other queries."""
    base = ["git", "-C", str(root)]
    missing = "git was not found; install git (the image tags come from it)."
    return (
        start(base + ["rev-parse", "HEAD", "HEAD:Dockerfile.builder"], missing=missing),
        start(base + ["symbolic-ref", "-q", "HEAD"], missing=missing),
    )


def git_facts(
    root: Path, procs: tuple[subprocess.Popen, subprocess.Popen] | None = None
) -> GitFacts:
    revs, symref = procs or start_git_queries(root)
    out, err = revs.communicate()
    ref, _ = symref.communicate()
    lines = out.split()
    if not lines or not _is_sha(lines[0]):
        if "not a git repository" in err:
            raise ToolkitError(f"{root} is not a git checkout; clone the repository with git.")
        if "unknown revision" in err or "ambiguous argument 'HEAD'" in err:
            raise ToolkitError(
                "This checkout has no commit yet; commit first (image tags use the HEAD sha)."
            )
        raise ToolkitError(
            f"git could not read HEAD ({err.strip() or 'no output'}); check the checkout."
        )
    blob = lines[1] if len(lines) > 1 and _is_sha(lines[1]) else ""
    ref = ref.strip()
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else "HEAD"
    return GitFacts(head=lines[0], branch=branch, builder_blob=blob)


def _is_sha(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text))


def read_one_line(root: Path, name: str, pattern: re.Pattern, example: str) -> str:
    path = root / name
    try:
        value = path.read_text().strip()
    except FileNotFoundError:
        raise ToolkitError(
            f"{name} is missing at the top of the checkout; restore it (e.g. `{example}`)."
        ) from None
    if not pattern.fullmatch(value):
        raise ToolkitError(f"{name} holds `{value}`; it must look like `{example}`.")
    return value


def bazel_version(root: Path) -> str:
    return read_one_line(root, ".bazelversion", BAZEL_VERSION_RE, "6.5.0")


def envoy_version(root: Path) -> str:
    return read_one_line(root, "ENVOY_VERSION", ENVOY_VERSION_RE, "envoy-1.32.3")
