"""`nox -s doctor`: every check, both ways.

Engine checks run against the real engine (marked `engine`: skipped without one,
a failure in CI).  What CI cannot produce (no buildx plugin, QEMU registered or
not, Docker Desktop, little memory) comes from recorded answers in
fixtures/doctor/ (see its README): the docker CLI is then a stand-in that answers
from those files and logs the argv it got; git, the checkout, the kernel files'
parser, the docker SDK and our subprocess runner are the real ones.  The
builder-image look-ups use a small registry served by the test on localhost,
asked through the real engine.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import re
import shutil
import socketserver
import stat
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.errors import ToolkitError
from tools.image import answers, doctor, doctor_facts, doctor_machine, images, resources
from tools.image.doctor import FAIL, OK, WARN, Findings, Probes
from tools.image.resolve import resolve
from tools.tests.toolkit_fixtures import DISTRO_DOCKER, engine_problem, skip_or_fail

FIXTURES = Path(__file__).parent / "fixtures" / "doctor"
BINFMT = FIXTURES / "binfmt"


# --- the stand-in docker CLI ---------------------------------------------------------------


@dataclass
class Standin:
    path: Path
    config: dict

    def configure(self, **changes) -> None:
        self.config.update(changes)
        (self.path.parent / "standin.json").write_text(json.dumps(self.config))

    def builders(self, current: str = "default", **inspect_files) -> None:
        self.configure(
            current=current,
            builders={
                name.replace("_", "-"): (v if isinstance(v, dict) else {"inspect": v})
                for name, v in inspect_files.items()
            },
        )

    @property
    def calls(self) -> list[list[str]]:
        log = self.path.parent / "calls.jsonl"
        return [json.loads(x) for x in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def standin(tmp_path: Path) -> Standin:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "docker"
    source = (FIXTURES / "docker_standin.py").read_text()
    script.write_text(source.replace("#!/usr/bin/env python3", f"#!{sys.executable}", 1))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    fake = Standin(script, {"fixtures": str(FIXTURES), "version": "27.3.1"})
    fake.configure(buildx="buildx_version.txt")
    fake.builders(default="inspect_default_docker.txt")
    return fake


@pytest.fixture
def env(monkeypatch, tmp_path, clean_env):
    """No toolkit variables, an empty docker client config, the default engine address."""
    config = tmp_path / "docker-config"
    config.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    return config


@pytest.fixture
def no_engine(monkeypatch, tmp_path, env):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")


@pytest.fixture
def engine(env):
    problem = engine_problem()
    if problem:
        skip_or_fail(f"a Docker engine: {problem}")
    return DISTRO_DOCKER


@pytest.fixture
def amd64_host():
    from tools.image.settings import host_arch

    if host_arch() != "amd64":
        pytest.skip("the recorded emulation cases are written for an amd64 host")


def run_doctor(checkout, standin, *args, probes=None, docker=None):
    """Doctor's JSON document, and the ToolkitError it ended with (or None)."""
    out = io.StringIO()
    argv = ["--json", f"--docker={docker or standin.path}", *args]
    error = None
    try:
        doctor.main(argv, root=checkout.root, out=out, probes=probes or Probes())
    except ToolkitError as exc:
        error = exc
    return json.loads(out.getvalue()), error


def by_name(document) -> dict:
    return {c["name"]: c for c in document["checks"]}


def statuses(document) -> dict:
    return {c["name"]: c["status"] for c in document["checks"]}


def binfmt(case: str) -> Probes:
    return Probes(binfmt_dir=BINFMT / case)


# --- recorded `docker buildx inspect` ------------------------------------------------------


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text()


def inspected(name: str) -> answers.BuilderReport:
    """The report parsed from one recorded `docker buildx inspect`."""
    report = answers.parse_inspect(recorded(name))
    assert report is not None, name
    return report


def test_parse_inspect_docker_driver():
    report = inspected("inspect_default_docker.txt")
    assert (report.name, report.driver, report.running) == ("default", "docker", True)
    assert report.platforms == ("linux/amd64", "linux/amd64/v2", "linux/amd64/v3", "linux/386")


def test_parse_inspect_container_builders():
    emulated = inspected("inspect_container_emulation.txt")
    assert (emulated.name, emulated.driver) == ("cilium-envoy", "docker-container")
    assert "linux/arm64" in emulated.platforms and emulated.running
    idle = inspected("inspect_container_inactive.txt")
    assert (idle.running, idle.platforms, idle.node_errors) == (False, (), ())
    broken = inspected("inspect_container_error.txt")
    assert broken.node_errors[0].startswith("Cannot connect to the Docker daemon")
    assert broken.nodes[0].status == "error"


def test_parse_inspect_two_nodes_and_manual_platforms():
    report = inspected("inspect_two_nodes.txt")
    assert [n.name for n in report.nodes] == ["elated_tesla0", "elated_tesla1"]
    # Labels and GC rules are indented: their keys do not leak into the nodes.
    assert report.platforms == ("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6")


def test_parse_inspect_rejects_other_text():
    assert answers.parse_inspect('ERROR: no builder "x" found\n') is None
    assert answers.parse_inspect("") is None


# --- recorded binfmt_misc ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "arch", "state", "entry"),
    [
        ("qemu-registered", "arm64", "registered", "qemu-aarch64"),
        ("qemu-registered", "amd64", "missing", ""),  # qemu-arm and python do not count
        ("qemu-without-f", "arm64", "no-fix-binary", "qemu-aarch64"),
        ("none", "arm64", "missing", ""),
        ("disabled", "arm64", "disabled", ""),
        ("rosetta", "amd64", "registered", "rosetta"),  # found by its ELF magic
        ("rosetta", "arm64", "missing", ""),
    ],
)
def test_read_binfmt(case, arch, state, entry):
    found = doctor_facts.read_binfmt(arch, BINFMT / case)
    assert (found.state, found.entry) == (state, entry)


def test_read_binfmt_unmounted(tmp_path):
    assert doctor_facts.read_binfmt("arm64", tmp_path).state == "unmounted"
    assert doctor_facts.read_binfmt("arm64", tmp_path / "absent").state == "unmounted"


# --- judging recorded engine figures -------------------------------------------------------


def findings(checkout, *args, info_fixture=None) -> Findings:
    settings = resolve("doctor", list(args), root=checkout.root, environ={}).settings
    f = Findings(settings=settings, root=checkout.root, environ={}, probes=Probes())
    f.arch = settings.target_arch
    if info_fixture:
        f.info = json.loads(recorded(f"{info_fixture}.json"))
        f.found = resources.resources_from_info(f.info)
        f.endpoint = "unix:///Users/me/.docker/run/docker.sock"
    return f


@pytest.mark.parametrize(
    ("fixture", "args", "status", "jobs", "words"),
    [
        ("info_desktop_2g", (), FAIL, 1, ["1.9 GiB and 2 CPUs (Docker Desktop VM)", "killed"]),
        ("info_colima_6g", (), WARN, 1, ["5.8 GiB and 4 CPUs (Colima VM)", "slow"]),
        ("info_desktop_8g", (), OK, 2, ["7.7 GiB and 8 CPUs (Docker Desktop VM)"]),
        ("info_linux_server", (), OK, 31, ["recommends --jobs=31", "4 GiB per C++ compile job"]),
        ("info_linux_server", ("--arch", "multi"), OK, 15, ["per platform: two build at once"]),
        ("info_linux_server", ("--jobs", "32"), WARN, 31, ["--jobs=32 asks for about 128 GiB"]),
        ("info_linux_server", ("--jobs", "16"), OK, 31, []),
    ],
)
def test_memory_on_recorded_engines(amd64_host, checkout, fixture, args, status, jobs, words):
    f = findings(checkout, *args, info_fixture=fixture)
    check = doctor_machine.check_memory(f)
    assert (check.status, f.recommended_jobs) == (status, jobs), check
    for word in words:
        assert word in check.line()
    if status != OK and "Desktop" in fixture:
        assert "Docker Desktop more memory" in check.fix


def test_memory_without_engine_uses_host_figures(checkout):
    f = findings(checkout)
    check = doctor_machine.check_memory(f)
    assert check.status == WARN and "the engine did not answer" in check.detail
    host = resources.host_resources()
    assert f.recommended_jobs == resources.recommend_jobs(host.memory_bytes, host.cpus)


@pytest.mark.parametrize(
    ("gib", "status"), [(5, FAIL), (9.9, FAIL), (10, WARN), (39, WARN), (40, OK), (300, OK)]
)
def test_disk_thresholds(gib, status):
    check = doctor_machine.judge_disk(int(gib * resources.GIB), "/var/lib/docker")
    assert check.status == status
    assert check.detail.startswith(f"{gib:.0f} GiB free at /var/lib/docker")


def test_disk_inside_a_vm_is_not_measured(checkout):
    check = doctor_machine.check_disk(findings(checkout, info_fixture="info_desktop_8g"))
    assert check.status == WARN
    assert "inside Docker Desktop VM" in check.detail and "disk limit" in check.fix


def test_emulation_on_docker_desktop(amd64_host, checkout):
    f = findings(checkout, "--arch", "multi", info_fixture="info_desktop_8g")
    f.report = answers.parse_inspect(recorded("inspect_desktop_docker.txt"))
    assert doctor_machine.check_emulation(f).status == OK


def test_emulation_on_a_remote_engine_cannot_be_told(amd64_host, checkout):
    f = findings(checkout, "--arch", "arm64", info_fixture="info_linux_server")
    f.endpoint = "tcp://buildhost:2376"
    check = doctor_machine.check_emulation(f)
    assert check.status == WARN and "exec format error" in check.fix


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        ("quay.io/cilium/cilium-envoy:v1", "quay.io"),
        ("cilium/cilium-envoy:v1", "docker.io"),
        ("ubuntu", "docker.io"),
        ("docker.io/me/envoy", "docker.io"),
        ("index.docker.io/me/envoy", "docker.io"),
        ("localhost:5000/envoy:x", "localhost:5000"),
        ("localhost/envoy", "localhost"),
        ("ghcr.io/me/envoy@sha256:" + "a" * 64, "ghcr.io"),
    ],
)
def test_registry_of(reference, registry):
    assert images.registry_of(reference) == registry


# --- end to end, no engine (the stand-in CLI answers) --------------------------------------


def test_no_engine(checkout, standin, no_engine):
    document, error = run_doctor(checkout, standin)
    checks = by_name(document)
    assert checks["engine"]["status"] == FAIL
    assert "nothing listens at unix://" in checks["engine"]["detail"]
    assert "start Docker" in checks["engine"]["fix"]
    # What depends on the engine says so instead of failing again.
    assert [checks[n]["status"] for n in ("memory", "disk", "builder-image")] == [WARN] * 3
    assert document["resources"]["source"] == "host"
    assert document["ok"] is False
    assert "(engine)" in error.message and error.message.startswith("doctor: 1 check(s) failed")


def test_json_document_shape(checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin)
    assert set(document) == {
        "ok", "target", "checks", "recommended_jobs", "resources", "job_memory_gib",
    }  # fmt: skip
    assert [c["name"] for c in document["checks"]] == [
        "cli", "engine", "target", "buildx", "builder", "emulation", "memory", "disk",
        "credentials", "builder-image",
    ]  # fmt: skip
    for check in document["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in (OK, WARN, FAIL)
    assert document["target"]["platforms"] == [f"linux/{document['target']['host'][6:]}"]
    assert document["job_memory_gib"] == 4


def test_lines_for_people(checkout, standin, no_engine):
    out = io.StringIO()
    with pytest.raises(ToolkitError):
        doctor.main([f"--docker={standin.path}"], root=checkout.root, out=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    for line in lines[:-1]:
        assert re.match(r"^(ok  |warn|fail) [a-z-]+: \S", line), line
    engine_line = next(line for line in lines if line.startswith("fail engine:"))
    assert " — start Docker" in engine_line
    assert re.match(r"^doctor: \d+ ok, \d+ warn, 1 fail; --jobs=auto would choose \d+$", lines[-1])


def test_nox_session_prints_only_json(standin, no_engine):
    """Through nox: stdout is the JSON document alone, whatever nox and the SDK log."""
    from tools import repo

    nox = shutil.which("nox")
    if nox is None:
        pytest.skip("nox is not on PATH")
    proc = subprocess.run(
        [nox, "-s", "doctor", "--", "--json", f"--docker={standin.path}"],
        cwd=repo.ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    document = json.loads(proc.stdout)
    assert by_name(document)["engine"]["status"] == FAIL
    assert proc.returncode != 0
    assert "doctor: " in proc.stderr and "check(s) failed (" in proc.stderr


def test_missing_cli(checkout, standin, no_engine, tmp_path):
    document, error = run_doctor(checkout, standin, docker=str(tmp_path / "nope" / "docker"))
    checks = by_name(document)
    assert checks["cli"]["status"] == FAIL and "was not found" in checks["cli"]["detail"]
    assert (checks["buildx"]["status"], checks["builder"]["status"]) == (WARN, WARN)
    assert "cli" in error.message


def test_bad_options_fail_the_target_check(checkout, standin, no_engine):
    document, error = run_doctor(checkout, standin, "--arch", "multi", "--no-push")
    target = by_name(document)["target"]
    assert target["status"] == FAIL
    assert "cannot be loaded into the local image store" in target["detail"]
    assert "target" in error.message


def test_options_come_from_the_environment_too(
    amd64_host, checkout, standin, no_engine, monkeypatch
):
    monkeypatch.setenv("ARCH", "arm64")
    document, _ = run_doctor(checkout, standin, probes=binfmt("qemu-registered"))
    assert document["target"]["platforms"] == ["linux/arm64"]


@pytest.mark.parametrize(
    ("case", "status", "words"),
    [
        ("qemu-registered", OK, "through binfmt_misc: qemu-aarch64 (/usr/bin/qemu-aarch64)"),
        ("none", FAIL, "no emulator for linux/arm64 is registered"),
        ("qemu-without-f", FAIL, "without the F (fix-binary) flag"),
        ("disabled", FAIL, "emulation is disabled"),
    ],
)
def test_emulation_for_the_docker_driver_reads_binfmt(
    amd64_host, checkout, standin, no_engine, case, status, words
):
    document, error = run_doctor(checkout, standin, "--arch", "arm64", probes=binfmt(case))
    check = by_name(document)["emulation"]
    assert check["status"] == status and words in check["detail"]
    if status == FAIL:
        assert "tonistiigi/binfmt --install arm64" in check["fix"]
        assert "emulation" in error.message


def test_emulation_unmounted_binfmt_is_a_warning(
    amd64_host, checkout, standin, no_engine, tmp_path
):
    document, _ = run_doctor(checkout, standin, "--arch", "arm64", probes=Probes(tmp_path))
    assert by_name(document)["emulation"]["status"] == WARN


def test_host_platform_needs_no_emulation(checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin, probes=binfmt("none"))
    check = by_name(document)["emulation"]
    assert check["status"] == OK and check["detail"].startswith("not needed")


def test_container_builder_without_emulation_fails(amd64_host, checkout, standin, no_engine):
    standin.builders(
        default="inspect_default_docker.txt", cilium_envoy="inspect_container_native.txt"
    )
    document, error = run_doctor(
        checkout,
        standin,
        "--arch",
        "arm64",
        "--builder",
        "cilium-envoy",
        probes=binfmt("qemu-registered"),
    )
    checks = by_name(document)
    assert checks["builder"]["status"] == OK
    assert checks["builder"]["detail"] == "`cilium-envoy`, driver docker-container"
    # The builder's own list decides, whatever the kernel table says.
    assert checks["emulation"]["status"] == FAIL
    assert "builder `cilium-envoy` cannot run linux/arm64" in checks["emulation"]["detail"]
    assert "docker buildx stop cilium-envoy" in checks["emulation"]["fix"]
    assert "emulation" in error.message


def test_container_builder_with_emulation(amd64_host, checkout, standin, no_engine):
    standin.builders(current="cilium-envoy", cilium_envoy="inspect_container_emulation.txt")
    document, _ = run_doctor(checkout, standin, "--arch", "arm64", probes=binfmt("none"))
    checks = by_name(document)
    assert checks["builder"]["detail"] == "`cilium-envoy` (current), driver docker-container"
    assert checks["emulation"]["status"] == OK


def test_idle_builder_is_bootstrapped_to_see_its_platforms(
    amd64_host, checkout, standin, no_engine
):
    standin.builders(
        cilium_envoy={
            "inspect": "inspect_container_inactive.txt",
            "bootstrap": "inspect_container_emulation.txt",
        }
    )
    document, _ = run_doctor(checkout, standin, "--arch", "arm64", "--builder=cilium-envoy")
    assert ["buildx", "inspect", "--bootstrap", "cilium-envoy"] in standin.calls
    assert statuses(document)["emulation"] == OK


def test_builder_that_cannot_start_fails(checkout, standin, no_engine):
    standin.builders(
        cilium_envoy={
            "inspect": "inspect_container_inactive.txt",
            "bootstrap": "inspect_container_error.txt",
            "bootstrap_status": 1,
        }
    )
    document, error = run_doctor(checkout, standin, "--builder=cilium-envoy")
    builder = by_name(document)["builder"]
    assert builder["status"] == FAIL and "Cannot connect to the Docker daemon" in builder["detail"]
    assert "builder" in error.message


def test_named_builder_must_exist(checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin, "--builder=mine")
    builder = by_name(document)["builder"]
    assert builder["status"] == FAIL
    assert 'no builder "mine" found' in builder["detail"]
    assert "docker buildx create --name mine" in builder["fix"]


def test_named_kubernetes_builder_runs_both_platforms(amd64_host, checkout, standin, no_engine):
    """A builder on Kubernetes (buildx's kubernetes driver), one node per architecture."""
    standin.builders(k8s="inspect_kubernetes.txt")
    document, _ = run_doctor(
        checkout, standin, "--arch=multi", "--builder=k8s", probes=binfmt("none")
    )
    checks = by_name(document)
    assert checks["builder"]["status"] == OK
    assert checks["builder"]["detail"] == "`k8s`, driver kubernetes"
    # Its nodes' own platforms decide, not this machine's (empty) binfmt_misc table.
    assert checks["emulation"]["status"] == OK
    assert checks["emulation"]["detail"] == "builder `k8s` runs linux/arm64"
    assert not any("--bootstrap" in c for c in standin.calls)  # it runs already


def test_named_remote_buildkit_that_refuses_fails(checkout, standin, no_engine):
    """A BuildKit daemon of one's own (buildx's remote driver) that does not answer."""
    standin.builders(remote_bk="inspect_remote_error.txt")
    document, error = run_doctor(checkout, standin, "--builder=remote-bk")
    builder = by_name(document)["builder"]
    assert builder["status"] == FAIL
    assert builder["detail"].startswith("`remote-bk` (remote) does not work: listing workers:")
    assert "docker buildx rm remote-bk" in builder["fix"]
    assert "builder" in error.message


def test_docker_driver_cannot_build_two_platforms(amd64_host, checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin, "--arch=multi", "--builder=default")
    builder = by_name(document)["builder"]
    assert builder["status"] == FAIL
    assert "uses the docker driver, which cannot do a multi-platform build" in builder["detail"]


def test_multi_platform_build_would_create_its_builder(amd64_host, checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin, "--arch=multi", probes=binfmt("qemu-registered"))
    checks = by_name(document)
    assert checks["builder"]["status"] == OK
    assert "will create `cilium-envoy`" in checks["builder"]["detail"]
    assert checks["emulation"]["status"] == OK
    assert document["target"]["push"] is True
    # Doctor changes nothing: only read-only queries reached the CLI.
    assert all(
        c[:2] in (["--version"], ["buildx", "version"], ["buildx", "inspect"]) or c == ["--version"]
        for c in standin.calls
    )
    assert not any("--bootstrap" in c or "create" in c for c in standin.calls)


@pytest.mark.parametrize(
    ("version", "args", "buildx", "builder"),
    [
        ("20.10.24+dfsg1", (), WARN, OK),  # built-in BuildKit builds this one
        ("20.10.24+dfsg1", ("--arch", "multi"), FAIL, WARN),
        ("20.10.24+dfsg1", ("--push",), FAIL, WARN),
        ("28.2.2", (), FAIL, WARN),  # newer CLIs build with BuildKit only through buildx
    ],
)
def test_without_buildx(amd64_host, checkout, standin, no_engine, version, args, buildx, builder):
    standin.configure(version=version, buildx=None)
    document, _ = run_doctor(checkout, standin, *args, probes=binfmt("qemu-registered"))
    checks = by_name(document)
    assert (checks["buildx"]["status"], checks["builder"]["status"]) == (buildx, builder)
    assert "docker-buildx-plugin" in checks["buildx"]["fix"]


def test_old_buildx_is_a_warning(checkout, standin, no_engine):
    standin.configure(buildx="buildx_version_debian.txt")
    document, _ = run_doctor(checkout, standin)
    check = by_name(document)["buildx"]
    assert (check["status"], check["detail"]) == (WARN, "0.8.2+ds1 is older than 0.10")


def test_current_buildx_is_fine(checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin)
    assert by_name(document)["buildx"] == {
        "name": "buildx", "status": OK, "detail": "0.17.1", "fix": "",
    }  # fmt: skip


# --- credentials ---------------------------------------------------------------------------


def write_config(config_dir: Path, **config) -> None:
    (config_dir / "config.json").write_text(json.dumps(config))


def test_nothing_pushed_needs_no_login(checkout, standin, no_engine):
    check = by_name(run_doctor(checkout, standin)[0])["credentials"]
    assert check["status"] == OK and check["detail"].startswith("not needed")


def test_push_without_login_fails(checkout, standin, no_engine):
    document, error = run_doctor(checkout, standin, "--push")
    check = by_name(document)["credentials"]
    assert check["status"] == FAIL
    assert check["detail"] == "no credentials for quay.io, so the push would be refused"
    assert check["fix"] == "run `docker login quay.io`"
    assert "credentials" in error.message


def test_push_with_login(checkout, standin, no_engine, env):
    write_config(env, auths={"quay.io": {"auth": "bWU6c2VjcmV0"}})
    check = by_name(run_doctor(checkout, standin, "--push")[0])["credentials"]
    assert (check["status"], check["detail"]) == (OK, "logged in to quay.io (config.json)")


def test_docker_hub_login_under_its_legacy_address(checkout, standin, no_engine, env):
    write_config(env, auths={"https://index.docker.io/v1/": {"auth": "bWU6c2VjcmV0"}})
    document, _ = run_doctor(checkout, standin, "--push", "--dev-account=docker.io/me")
    assert by_name(document)["credentials"]["status"] == OK
    document, _ = run_doctor(checkout, standin, "--push", "--dev-account=ghcr.io/me")
    assert by_name(document)["credentials"]["detail"].startswith("no credentials for ghcr.io")


def test_cache_export_registry_needs_a_login_too(checkout, standin, no_engine, env):
    write_config(env, auths={"quay.io": {}})
    document, _ = run_doctor(
        checkout, standin, "--push", "--cache-ref=ghcr.io/me/cache:x", "--cache-push"
    )
    assert by_name(document)["credentials"]["detail"].startswith("no credentials for ghcr.io")


def test_credential_helpers(checkout, standin, no_engine, env, tmp_path, monkeypatch):
    helper_dir = tmp_path / "helpers"
    helper_dir.mkdir()
    helper = helper_dir / "docker-credential-standin"
    helper.write_text(
        f"#!{sys.executable}\n"
        "# Stand-in credential store (tests only): answers `list` from a recorded answer.\n"
        "import sys\n"
        f"sys.stdout.write(open({str(FIXTURES / 'credential_helper_list.json')!r}).read())\n"
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper_dir}{os.pathsep}{os.environ['PATH']}")
    write_config(env, credsStore="standin")
    check = by_name(run_doctor(checkout, standin, "--push")[0])["credentials"]
    assert (check["status"], check["detail"]) == (
        OK,
        "logged in to quay.io (docker-credential-standin)",
    )
    check = by_name(run_doctor(checkout, standin, "--push", "--dev-account=ghcr.io/me")[0])[
        "credentials"
    ]
    assert check["status"] == FAIL
    write_config(env, credsStore="missing")
    # The docker SDK warns as it builds the store; doctor reports the same as a failed check.
    with pytest.warns(UserWarning, match="^docker-credential-missing not installed"):
        check = by_name(run_doctor(checkout, standin, "--push")[0])["credentials"]
    assert check["status"] == FAIL and "docker-credential-missing" in check["detail"]
    write_config(env, credHelpers={"quay.io": "ecr-login"})
    check = by_name(run_doctor(checkout, standin, "--push")[0])["credentials"]
    assert (check["status"], check["detail"]) == (
        OK,
        "logged in to quay.io (docker-credential-ecr-login)",
    )


def test_local_registry_without_login_is_a_warning(checkout, standin, no_engine):
    document, _ = run_doctor(checkout, standin, "--push", "--dev-account=localhost:5000/me")
    assert by_name(document)["credentials"]["status"] == WARN


def test_unreadable_client_config(checkout, standin, no_engine, env):
    (env / "config.json").write_text("{not json")
    check = by_name(run_doctor(checkout, standin, "--push")[0])["credentials"]
    assert check["status"] == FAIL and "cannot be read" in check["detail"]


# --- the real engine -----------------------------------------------------------------------


class _Registry(http.server.BaseHTTPRequestHandler):
    """Just enough of the registry API for the engine's /distribution look-up."""

    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [],
        }
    ).encode()
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()

    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, code, body=b"", ctype="application/json", headers=()) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for key, value in headers:
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        if path == "/v2/":
            return self._send(200, b"{}")
        if path.endswith(("/manifests/present", f"/manifests/{self.manifest_digest}")):
            return self._send(
                200,
                self.manifest,
                "application/vnd.docker.distribution.manifest.v2+json",
                [("Docker-Content-Digest", self.manifest_digest)],
            )
        if path.endswith(f"/blobs/{self.config_digest}"):
            return self._send(200, self.config, "application/octet-stream")
        error = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
        return self._send(404, json.dumps(error).encode())

    do_HEAD = do_GET


class _QuietServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # the engine tries TLS first on localhost; that handshake is not HTTP


@pytest.fixture
def registry():
    server = _QuietServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"localhost:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_image(engine, tmp_path):
    """A real image in the engine's store (imported from an empty tar), removed afterwards."""
    import tarfile

    empty = tmp_path / "empty.tar"
    tarfile.open(empty, "w").close()
    tag = f"localhost/cilium-envoy-doctor-test:{uuid.uuid4().hex[:12]}"
    subprocess.run([engine, "import", str(empty), tag], check=True, capture_output=True)
    yield tag
    subprocess.run([engine, "rmi", "-f", tag], check=False, capture_output=True)


@pytest.mark.engine
def test_engine_checks_on_the_real_engine(checkout, standin, engine, local_image):
    document, error = run_doctor(checkout, standin, f"--builder-base={local_image}")
    info = json.loads(
        subprocess.run(
            [engine, "info", "--format", "{{json .}}"], capture_output=True, text=True, check=True
        ).stdout
    )
    checks = by_name(document)
    assert checks["engine"]["status"] == OK
    assert checks["engine"]["detail"].startswith(f"Docker Engine {info['ServerVersion']} (linux/")
    assert document["resources"] == {
        "memory_bytes": info["MemTotal"], "cpus": info["NCPU"], "source": "engine",
        "where": resources.engine_kind(info),
    }  # fmt: skip
    assert document["recommended_jobs"] == resources.recommend_jobs(info["MemTotal"], info["NCPU"])
    free = shutil.disk_usage(info["DockerRootDir"]).free
    expected = doctor_machine.judge_disk(free, info["DockerRootDir"])
    shown = re.match(r"(\d+) GiB free at (\S+)", checks["disk"]["detail"])
    assert shown is not None, checks["disk"]["detail"]
    assert (checks["disk"]["status"], shown.group(2)) == (expected.status, info["DockerRootDir"])
    assert abs(int(shown.group(1)) - free / resources.GIB) < 2  # other tests write meanwhile
    assert checks["builder-image"] == {
        "name": "builder-image", "status": OK,
        "detail": f"{local_image} is in the local image store", "fix": "",
    }  # fmt: skip
    expected_ok = {"cli", "engine", "target", "buildx", "builder", "emulation", "credentials"}
    assert {n for n, c in checks.items() if c["status"] == OK} >= expected_ok
    assert (error is None) == (document["ok"] is True)


@pytest.mark.engine
def test_builder_image_in_the_registry(checkout, standin, engine, registry):
    document, _ = run_doctor(
        checkout, standin, f"--builder-base={registry}/cilium/cilium-envoy-builder:present"
    )
    check = by_name(document)["builder-image"]
    assert (check["status"], check["detail"]) == (
        OK,
        f"{registry}/cilium/cilium-envoy-builder:present is in the registry",
    )


@pytest.mark.engine
def test_builder_image_missing_everywhere_fails(checkout, standin, engine, registry):
    """The default reference: <dev account>/cilium-envoy-builder:<.bazelversion>-<blob>."""
    document, error = run_doctor(checkout, standin, f"--dev-account={registry}/cilium")
    check = by_name(document)["builder-image"]
    expected = f"{registry}/cilium/cilium-envoy-builder:6.5.0-{checkout.builder_blob}"
    assert check["status"] == FAIL
    assert check["detail"] == f"{expected} is neither in the local image store nor in the registry"
    assert "nox -s builder" in check["fix"]
    assert "builder-image" in error.message


@pytest.mark.engine
def test_local_builder_image_is_not_enough_for_a_container_builder(
    checkout, standin, engine, local_image
):
    standin.builders(current="cilium-envoy", cilium_envoy="inspect_container_emulation.txt")
    document, _ = run_doctor(checkout, standin, f"--builder-base={local_image}")
    check = by_name(document)["builder-image"]
    # localhost has no registry listening: the look-up fails fast and says so.
    assert check["status"] == WARN
    assert "a local copy exists, but builder `cilium-envoy` (docker-container)" in check["detail"]


@pytest.mark.engine
def test_image_neither_local_nor_pullable_fails(checkout, standin, engine):
    """An unreachable registry and no local copy: the build would fail at once."""
    port = _free_port()
    document, error = run_doctor(checkout, standin, f"--dev-account=localhost:{port}/cilium")
    check = by_name(document)["builder-image"]
    assert check["status"] == FAIL and "builder-image" in error.message
    assert f"could not be reached (localhost:{port}: connection refused)" in check["detail"]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.engine
def test_emulation_on_the_local_engine_reads_binfmt(amd64_host, checkout, standin, engine):
    """The real engine runs on this kernel, so the kernel's table is what counts."""
    for case, status in (("qemu-registered", OK), ("none", FAIL)):
        document, _ = run_doctor(checkout, standin, "--arch", "arm64", probes=binfmt(case))
        assert by_name(document)["emulation"]["status"] == status, case
