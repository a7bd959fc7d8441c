"""The Bazel cache folder: which dependency files it was made from, and emptying it.

Standard library only, Python 3.8+: the build containers run it (``tools.envoy.bazel``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

#: The files that decide which external dependencies Bazel fetches.  When any of them
#: differs from the archive's copy, the archive is stale.
DEPENDENCY_FILES = (".bazelversion", "ENVOY_VERSION", "WORKSPACE")
DEPENDENCY_GLOBS = ("envoy/*.bzl", "envoy/patches/*.patch")
STAMP = "stamp.json"


def dependency_files(root: Path) -> List[str]:
    names = [n for n in DEPENDENCY_FILES if (root / n).is_file()]
    for pattern in DEPENDENCY_GLOBS:
        names += sorted(p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file())
    return names


def dependency_hashes(root: Path) -> Dict[str, str]:
    """sha256 of every file that decides what Bazel fetches, by path."""
    return {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in dependency_files(root)
    }


def read_stamp(cache: Path) -> Optional[dict]:
    try:
        stamp = json.loads((cache / STAMP).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def staleness(archived: Optional[dict], tree: dict) -> Optional[str]:
    """Why the archived cache does not fit the tree, or None when it does."""
    if archived is None:
        return f"it has no {STAMP}"
    reasons = []
    if archived.get("envoy_version") != tree["envoy_version"]:
        reasons.append(
            f"ENVOY_VERSION {archived.get('envoy_version')} in the archive, "
            f"{tree['envoy_version']} here"
        )
    old = archived.get("dependencies") or {}
    new = tree["dependencies"]
    changed = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
    if changed:
        reasons.append("dependency files differ: " + ", ".join(changed))
    return "; ".join(reasons) or None


def entries(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    return sum(len(files) for _, _, files in os.walk(folder))


def empty(folder: Path) -> None:
    """Remove what is inside ``folder`` (which may be a mount point) and keep it."""
    folder.mkdir(parents=True, exist_ok=True)
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            rmtree(child)
        else:
            child.unlink()


def rmtree(path: Path) -> None:
    def retry_writable(func: Callable, name: str, _exc: object) -> None:
        # Bazel leaves read-only directories behind; make them writable and retry.
        os.chmod(os.path.dirname(name), 0o755)
        if os.path.isdir(name) and not os.path.islink(name):
            os.chmod(name, 0o755)
        func(name)

    if sys.version_info >= (3, 12):  # onerror is deprecated from 3.12 on
        shutil.rmtree(path, onexc=retry_writable)
    else:
        shutil.rmtree(path, onerror=retry_writable)
