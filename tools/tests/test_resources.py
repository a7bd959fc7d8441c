"""--jobs=auto and the engine's memory/CPU figures.

The job rule is checked on figures from real machines (recorded `docker info`
answers in fixtures/doctor/); the engine figures come from the real engine, and
the fallback to the host's figures from a DOCKER_HOST or docker context nobody
listens at.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.image import docker, resources
from tools.image.resources import GIB, recommend_jobs
from tools.tests.toolkit_fixtures import DISTRO_DOCKER, engine_problem, skip_or_fail

FIXTURES = Path(__file__).parent / "fixtures" / "doctor"


def recorded_info(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.mark.parametrize(
    ("memory", "cpus", "platforms", "jobs"),
    [
        (32 * GIB, 16, 1, 8),  # memory decides: 32 / 4
        (64 * GIB, 4, 1, 4),  # CPUs decide
        (16 * GIB, 16, 1, 4),
        (int(15.6 * GIB), 8, 1, 4),  # a "16 GB" VM shows a little less
        (int(7.65 * GIB), 8, 1, 2),  # Docker Desktop's default 8 GB VM
        (int(5.79 * GIB), 4, 1, 1),  # Colima's 6 GB
        (3 * GIB, 8, 1, 1),  # never below one job
        (0, 0, 1, 1),
        (32 * GIB, 16, 2, 4),  # two platforms at once share the engine
        (8 * GIB, 8, 2, 1),
        (4 * GIB, 2, 2, 1),
        (126 * GIB, 32, 2, 15),
    ],
)
def test_recommend_jobs(memory, cpus, platforms, jobs):
    assert recommend_jobs(memory, cpus, platforms) == jobs


@pytest.mark.parametrize(
    ("fixture", "memory_gib", "cpus", "where", "jobs"),
    [
        ("info_desktop_8g", 7.65, 8, "Docker Desktop VM", 2),
        ("info_desktop_2g", 1.92, 2, "Docker Desktop VM", 1),
        ("info_linux_server", 125.81, 32, "the engine", 31),
        ("info_colima_6g", 5.79, 4, "Colima VM", 1),
    ],
)
def test_resources_from_recorded_info(fixture, memory_gib, cpus, where, jobs):
    found = resources.resources_from_info(recorded_info(fixture))
    assert (round(found.memory_gib, 2), found.cpus, found.source, found.where) == (
        memory_gib,
        cpus,
        "engine",
        where,
    )
    assert recommend_jobs(found.memory_bytes, found.cpus) == jobs
    assert found.describe().startswith(f"{memory_gib:.1f} GiB and {cpus} CPUs")


@pytest.mark.parametrize("info", [{}, {"MemTotal": 0, "NCPU": 4}, {"MemTotal": "x", "NCPU": 2}])
def test_resources_from_unusable_info(info):
    with pytest.raises(resources.EngineUnavailable):
        resources.resources_from_info(info)


def test_host_resources_are_this_machine():
    found = resources.host_resources()
    assert found.source == "host"
    assert found.memory_bytes == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert found.cpus == len(os.sched_getaffinity(0))


def test_no_engine_means_host_figures(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nobody.sock")
    assert docker.engine_resources("docker") == resources.host_resources()
    with pytest.raises(resources.EngineUnavailable, match="nothing listens at unix://"):
        docker.connect()


def test_module_does_not_import_the_sdk():
    code = "import sys, tools.image.docker; print('docker' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def _write_context(config_dir: Path, name: str, host: str) -> None:
    """A docker context as `docker context create` stores it."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text(json.dumps({"currentContext": name}))
    meta = config_dir / "contexts" / "meta" / hashlib.sha256(name.encode()).hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {
                "Name": name,
                "Metadata": {},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": False}},
            }
        )
    )


def test_current_context_is_honoured(monkeypatch, tmp_path):
    """Docker Desktop and Colima point the CLI at their engine through a context."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    _write_context(tmp_path / "cfg", "colima", f"unix://{tmp_path}/colima.sock")
    assert docker.client_kwargs()["base_url"] == f"unix://{tmp_path}/colima.sock"
    # DOCKER_HOST wins over the context, as with the CLI.
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.1:2375")
    assert docker.client_kwargs()["base_url"] == "tcp://10.0.0.1:2375"


# --- the real engine -----------------------------------------------------------------------


def _engine_or_skip() -> dict:
    problem = engine_problem()
    if problem:
        skip_or_fail(f"a Docker engine: {problem}")
    argv = [DISTRO_DOCKER, "info", "--format", "{{json .}}"]
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


@pytest.mark.engine
def test_engine_figures_come_from_the_engine(monkeypatch):
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    info = _engine_or_skip()
    found = docker.engine_resources(DISTRO_DOCKER)
    assert (found.source, found.memory_bytes, found.cpus) == (
        "engine",
        info["MemTotal"],
        info["NCPU"],
    )


@pytest.mark.engine
def test_context_naming_a_dead_socket_is_not_the_default_engine(monkeypatch, tmp_path):
    """With a working default socket, only a context that is honoured can make this fail."""
    _engine_or_skip()
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    _write_context(tmp_path / "cfg", "gone", f"unix://{tmp_path}/gone.sock")
    assert docker.engine_resources(DISTRO_DOCKER).source == "host"
    _write_context(tmp_path / "cfg2", "here", "unix:///var/run/docker.sock")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg2"))
    assert docker.engine_resources(DISTRO_DOCKER).source == "engine"


@pytest.mark.engine
def test_cli_fallback_without_the_sdk(monkeypatch):
    """Without the docker SDK, `docker info` gives the same figures."""
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    info = _engine_or_skip()
    monkeypatch.setitem(sys.modules, "docker", None)  # makes `import docker` fail
    found = docker.engine_resources(DISTRO_DOCKER)
    assert (found.source, found.memory_bytes, found.cpus) == (
        "engine",
        info["MemTotal"],
        info["NCPU"],
    )
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    assert docker.engine_resources(DISTRO_DOCKER).source == "host"
