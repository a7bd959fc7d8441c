"""README.md's set-up, for real: fresh virtualenvs holding nox, with and without the SDK.

README's set-up installs nox and, beside it, the docker SDK (`pipx install nox && pipx
inject nox docker`).  With it, doctor runs from nox's own environment; without it (nox
alone), `nox -l`, a dry run and `nox -s policy -- eval --dry-run` still work.  Either way
no session starts an installer (no pip output anywhere), and a session prints on stdout
exactly what it prints when it runs in-process: nothing of nox's own.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tools import repo
from tools.image import build
from tools.tests.toolkit_fixtures import skip_or_fail

#: What an installer prints; none of it may appear in any output of these sessions.
INSTALLER_NOISE = re.compile(
    r"Requirement already satisfied|Collecting |Installing collected|Successfully installed|"
    r"pip install|_nox_script_mode|Downloading ",
)


def _venv_with(tmp_path_factory, *requirements: str) -> tuple[Path, str]:
    """`nox` of a fresh venv holding ``requirements`` (pip's cache makes it quick), and
    what pip lists there."""
    folder = tmp_path_factory.mktemp("readme-setup") / "venv"
    venv.create(folder, with_pip=True)
    pip = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
         "-q", *requirements],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if pip.returncode != 0:
        skip_or_fail(
            f"pip install {' '.join(requirements)} into a fresh venv: {pip.stderr.strip()[-300:]}"
        )
    listed = subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return folder / "bin" / "nox", listed.lower()


@pytest.fixture(scope="module")
def nox_only(tmp_path_factory) -> Path:
    """`nox` of a fresh venv with only nox installed: a set-up without the SDK."""
    nox, listed = _venv_with(tmp_path_factory, "nox>=2026.10.20")
    assert "docker==" not in listed  # this one has no SDK
    return nox


@pytest.fixture(scope="module")
def nox_with_sdk(tmp_path_factory) -> Path:
    """`nox` of a fresh venv holding nox and the docker SDK, as README's set-up leaves it."""
    nox, listed = _venv_with(tmp_path_factory, "nox>=2026.10.20", "docker>=7")
    assert "docker==" in listed
    return nox


def _env() -> dict:
    """The caller's environment without a venv of its own or the toolkit's variables."""
    from tools.image.settings import OPTIONS

    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for opt in OPTIONS:
        env.pop(opt.env or "", None)
    return env


def _nox(nox: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(nox), *args], cwd=repo.ROOT, capture_output=True, text=True,
        env={**_env(), **(env or {})}, check=False, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _no_installer(proc: subprocess.CompletedProcess) -> None:
    for stream in (proc.stdout, proc.stderr):
        found = INSTALLER_NOISE.search(stream)
        assert found is None, f"installer output: {stream[max(0, found.start() - 200) :][:600]}"


def test_list_starts_no_installer(nox_only):
    proc = _nox(nox_only, "-l")
    assert proc.returncode == 0, proc.stderr
    _no_installer(proc)
    sessions = re.findall(r"^[*-] (\w+)", proc.stdout, re.M)
    assert {"build", "build_multi", "doctor", "compat", "extract", "policy"} <= set(sessions)


def test_dry_run_prints_exactly_the_plan(nox_only, fake_docker, tmp_path, git_checkout):
    env = {**fake_docker.env}
    proc = _nox(nox_only, "-s", "build", "--", "--dry-run", f"--docker={fake_docker.path}", env=env)
    assert proc.returncode == 0, proc.stderr
    _no_installer(proc)
    out = io.StringIO()
    build.main(["--dry-run", f"--docker={fake_docker.path}"], "build", root=repo.ROOT,
               environ={**_env(), **env}, out=out)  # fmt: skip
    assert proc.stdout == out.getvalue()
    assert proc.stdout.startswith("# plan: nox -s build")
    assert "nox >" in proc.stderr  # nox's own lines go to stderr


def test_policy_eval_dry_run_stdout_is_the_sessions_own(nox_only):
    proc = _nox(nox_only, "-s", "policy", "--", "eval", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    _no_installer(proc)
    direct = subprocess.run(
        [sys.executable, "-c",
         "from tools.engine.policy import main; main(['eval', '--dry-run'])"],
        cwd=repo.ROOT, capture_output=True, text=True, env=_env(), check=True,
    )  # fmt: skip
    assert proc.stdout == direct.stdout and proc.stdout.strip()


def test_everyday_sessions_need_no_sdk(nox_only):
    """compat and --help run from nox's own environment, which has no docker SDK."""
    proc = _nox(nox_only, "-s", "compat", "--", "1.19.3")
    assert (proc.returncode, proc.stdout) == (0, "v1.36.6\n"), proc.stderr
    _no_installer(proc)


def test_doctor_runs_from_nox_own_environment(nox_with_sdk, fake_docker, git_checkout):
    """With README's set-up, doctor asks the engine through the SDK beside nox."""
    proc = _nox(nox_with_sdk, "-s", "doctor", "--", "--json", f"--docker={fake_docker.path}",
                env=fake_docker.env)  # fmt: skip
    _no_installer(proc)
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert "docker SDK" not in checks["engine"]["detail"], checks["engine"]


def test_without_the_sdk_doctor_and_extract_say_how_to_add_it(nox_only, fake_docker):
    proc = _nox(nox_only, "-s", "extract", "--", "--image", "quay.io/cilium/cilium-envoy:v1")
    assert proc.returncode != 0
    _no_installer(proc)
    assert "pipx inject nox docker" in proc.stderr and "Traceback" not in proc.stderr
    proc = _nox(nox_only, "-s", "doctor", "--", f"--docker={fake_docker.path}",
                env=fake_docker.env)  # fmt: skip
    assert proc.returncode != 0
    _no_installer(proc)
    assert "pipx inject nox docker" in proc.stdout and "Traceback" not in proc.stderr
