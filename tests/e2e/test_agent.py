"""The stand-in agent's own Go tests (xDS against a Go client, the access-log socket, the
echo upstream, the control channel), and its module kept tidy, vetted and formatted."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.engine import e2e
from tools.tests.toolkit_fixtures import skip_or_fail

pytestmark = pytest.mark.e2e
AGENT = Path(__file__).resolve().parents[2] / e2e.AGENT_SOURCE


def go(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("go")
    if binary is None:
        skip_or_fail("Go 1.22+ on PATH")
    return subprocess.run([binary, *args], cwd=AGENT, capture_output=True, text=True, check=False)


def test_go_tests_pass() -> None:
    proc = go("test", "-count=1", "./...")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_go_module_is_vetted_tidy_and_formatted() -> None:
    proc = go("vet", "./...")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = go("mod", "tidy", "-diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gofmt = os.path.join(os.path.dirname(os.path.realpath(shutil.which("go") or "go")), "gofmt")
    proc = subprocess.run(
        [gofmt, "-l", "."], cwd=AGENT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr
