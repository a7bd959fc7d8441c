"""`nox -s doctor`: what would make an hour-long build fail, found before it starts.

Takes the image sessions' options (``--arch``, ``--push``, ``--dev-account``,
``--builder`` ...), so it checks the build you are about to run.  Everything here
is read-only: it asks the docker CLI, the engine (docker SDK), the kernel's
binfmt_misc table and the docker client config, and changes nothing, except that
``docker buildx inspect --bootstrap`` starts a docker-container builder that is
not running (the build would start it anyway).

Each check ends as ok, warn (the build may still work; the line says what to
look at) or fail (the requested build would fail); any fail makes the session
fail.  ``--json`` prints one JSON document instead of the lines.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, TextIO

from tools import arches, repo
from tools.errors import ToolkitError
from tools.image import facts, images, resources
from tools.image import plan as buildx
from tools.image.settings import Settings, resolve
from tools.run import query

OK, WARN, FAIL = "ok", "warn", "fail"

#: Below this buildx lacks options the build relies on or fixed bugs it hits.
MIN_BUILDX = (0, 10)
#: Free disk where the engine keeps its data: an Envoy build with its builder and
#: Bazel cache images takes tens of GiB.  Below the first it will not fit.
DISK_FAIL_GIB = 10
DISK_WARN_GIB = 40
#: Engine memory: below one compile job's budget the compiler will be killed.
MEMORY_FAIL_GIB = resources.JOB_MEMORY_GIB
MEMORY_WARN_GIB = 8
#: Seconds the engine may spend asking a registry about the builder image.
REGISTRY_TIMEOUT = 8.0
#: Seconds `docker buildx inspect --bootstrap` may take to start a builder.
BOOTSTRAP_TIMEOUT = 90.0
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
#: ELF machine numbers as binfmt_misc's magic shows them, and QEMU's names (one table).
ELF_MACHINE = {name: a.binfmt_magic for name, a in arches.ARCHES.items()}
QEMU_NAME = {name: a.qemu for name, a in arches.ARCHES.items()}
registry_of = images.registry_of


def _emulation_fix(arch: str) -> str:
    return (
        f"register QEMU for {arch}: `docker run --privileged --rm tonistiigi/binfmt --install {arch}` "
        "(or install your distribution's qemu-user-static)"
    )


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.name}: {self.detail}"
        return f"{text} — {self.fix}" if self.fix and self.status != OK else text


@dataclass(frozen=True)
class Probes:
    """Where doctor looks; tests point these at recorded copies."""

    binfmt_dir: Path = BINFMT_DIR
    registry_timeout: float = REGISTRY_TIMEOUT
    bootstrap_timeout: float = BOOTSTRAP_TIMEOUT


# --- docker buildx inspect (one parser, shared with planning) ------------------------------

BuilderNode = buildx.BuilderNode
BuilderReport = buildx.BuilderReport
parse_inspect = buildx.parse_inspect


def _runs(platforms: Sequence[str], wanted: str) -> bool:
    """Does a platform list (linux/arm64, linux/amd64/v2 ...) include linux/<arch>?"""
    return any(p.split("/")[:2] == wanted.split("/")[:2] for p in platforms)


# --- binfmt_misc ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Emulation:
    """The kernel's binfmt_misc answer for one foreign architecture."""

    state: str  # registered | missing | no-fix-binary | disabled | unmounted
    entry: str = ""
    interpreter: str = ""


def read_binfmt(arch: str, directory: Path = BINFMT_DIR) -> Emulation:
    """Is an emulator for ``arch`` registered so that containers can use it?

    Entries are matched by the ELF machine in their magic (so QEMU under any name
    and Rosetta count); containers need the F (fix-binary) flag, because the
    interpreter's path does not exist inside the build's file system.
    """
    try:
        names = sorted(p.name for p in directory.iterdir())
    except OSError:
        names = []
    if "status" not in names and "register" not in names:
        return Emulation("unmounted")
    try:
        if (directory / "status").read_text().strip() == "disabled":
            return Emulation("disabled")
    except OSError:
        pass
    found = None
    for name in names:
        if name in ("status", "register"):
            continue
        try:
            fields = _binfmt_fields((directory / name).read_text())
        except OSError:
            continue
        magic = fields.get("magic", "")
        machine_matches = magic.startswith("7f454c4602") and magic[36:40] == ELF_MACHINE[arch]
        if not (machine_matches or QEMU_NAME[arch] in name):
            continue
        entry = Emulation(
            "registered" if "F" in fields.get("flags", "") else "no-fix-binary",
            name,
            fields.get("interpreter", ""),
        )
        if not fields.get("enabled"):
            entry = Emulation("disabled", name, entry.interpreter)
        if entry.state == "registered":
            return entry
        found = found or entry
    return found or Emulation("missing")


def _binfmt_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line in ("enabled", "disabled"):
            fields["enabled"] = "1" if line == "enabled" else ""
            continue
        key, _, value = line.partition(" ")
        fields[key.rstrip(":")] = value.strip()
    return fields


# --- registry credentials ------------------------------------------------------------------


def _normalise_server(key: str) -> str:
    return images.registry_host(re.sub(r"^[a-z]+://", "", key.strip()).split("/", 1)[0])


def _is_local_registry(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "[::1]") or name.startswith("127.")


def check_credentials(
    registries: Sequence[str], config_dir: Path, environ: Mapping[str, str]
) -> Check:
    """Does the docker client hold a login for every registry the build pushes to?

    The docker SDK reads the client config (``docker.auth``) and asks credential
    stores (``docker.credentials``), the way the docker CLI does.
    """
    name = "credentials"
    if not registries:
        return Check(name, OK, "not needed: nothing is pushed (the image is loaded locally)")
    path = config_dir / "config.json"
    try:
        raw = json.loads(path.read_text())
        if not isinstance(raw, dict):
            raise ValueError("not an object")
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        return Check(name, FAIL, f"{path} cannot be read ({exc})", f"fix or remove {path}")
    try:
        from docker import auth, credentials
    except ImportError:
        return Check(
            name, WARN, "not checked: the docker SDK for Python is missing", "run `nox -s doctor`"
        )
    config = auth.load_config(config_path=str(path), credstore_env=dict(environ))
    auths = {_normalise_server(k) for k in config.auths}
    helpers = {_normalise_server(k): v for k, v in config.cred_helpers.items()}
    listed: dict[str, set[str]] = {}
    found: list[str] = []
    missing: list[str] = []
    for registry in registries:
        if registry in auths:
            found.append(f"{registry} ({path.name})")
            continue
        if registry in helpers:
            found.append(f"{registry} (docker-credential-{helpers[registry]})")
            continue
        store = config.creds_store
        if store:
            if store not in listed:
                try:
                    answer = credentials.Store(store, environment=dict(environ)).list()
                    listed[store] = {_normalise_server(k) for k in answer}
                except (credentials.StoreError, ValueError, OSError) as exc:
                    return Check(
                        name,
                        FAIL,
                        f"the credential store docker-credential-{store} is not on PATH or did "
                        f"not answer ({str(exc).strip()[:120]})",
                        f"fix `credsStore` in {path}, then run `docker login {registry}`",
                    )
            if registry in listed[store]:
                found.append(f"{registry} (docker-credential-{store})")
                continue
        missing.append(registry)
    if not missing:
        return Check(name, OK, "logged in to " + ", ".join(found))
    hosts = " ".join(missing)
    login = "; ".join(f"`docker login {h}`" for h in missing)
    if all(_is_local_registry(h) for h in missing):
        return Check(
            name,
            WARN,
            f"no credentials for {hosts} (a local registry often needs none)",
            f"run {login} if it asks for them",
        )
    return Check(
        name, FAIL, f"no credentials for {hosts}, so the push would be refused", f"run {login}"
    )


# --- what doctor found out -----------------------------------------------------------------


@dataclass
class Findings:
    settings: Settings
    root: Path
    environ: Mapping[str, str]
    probes: Probes
    arch: str = ""
    spec: Optional[buildx.BuildSpec] = None
    spec_error: str = ""
    facts: Optional[repo.GitFacts] = None
    bazel_version: str = ""
    cli: Optional[buildx.DockerCli] = None
    cli_error: str = ""
    client: Any = None
    info: dict = field(default_factory=dict)
    endpoint: str = ""
    engine_error: str = ""
    report: Optional[BuilderReport] = None  # the builder the build would use
    container_builder: bool = False  # the build's builder pulls images itself
    found: Optional[resources.Resources] = None  # the engine's memory and CPUs
    recommended_jobs: int = 1
    builders: dict = field(default_factory=dict)  # `buildx inspect` answers (tools.facts)

    def close(self) -> None:
        """Let go of the engine connection (the docker SDK client), if there is one."""
        if self.client is not None:
            self.client.close()
            self.client = None

    @property
    def engine_local(self) -> bool:
        """Does the engine share this machine's kernel and disks (no VM, no remote host)?"""
        return (
            bool(self.info)
            and sys.platform.startswith("linux")
            and self.endpoint.startswith("unix://")
            and not resources.is_desktop(self.info)
            and str(self.info.get("KernelVersion", "")) == platform.release()
        )

    @property
    def needed_platforms(self) -> tuple[str, ...]:
        return buildx.PLATFORMS.get(self.arch, (f"linux/{self.settings.host_arch}",))

    @property
    def pushing(self) -> bool:
        if self.spec is None:
            return bool(self.settings.push) or self.arch == "multi"
        if self.spec.output is not None:
            return self.spec.output == "push"
        return any(c.kind == "push" for c in buildx.output_choices(self.spec.user_opts))


def check_cli(f: Findings) -> Check:
    if f.cli is None:
        detail = f.cli_error
        if "was not found" in detail:
            detail = f"`{f.settings.docker}` was not found"
        return Check("cli", FAIL, detail, "install Docker or pass --docker=/path/to/docker")
    path = shutil.which(f.cli.path) or f.cli.path
    return Check("cli", OK, f"{path} (docker {f.cli.client_version})")


def check_engine(f: Findings) -> Check:
    if not f.info:
        fix = "start Docker (Docker Desktop, or `sudo systemctl start docker`), or set DOCKER_HOST"
        if "permission denied" in f.engine_error:
            fix = "add yourself to the `docker` group (`sudo usermod -aG docker $USER`, then log in again)"
        return Check("engine", FAIL, f"unreachable: {f.engine_error}", fix)
    info = f.info
    where = resources.engine_kind(info)
    kind = "" if where == "the engine" else f", {where}"
    machine = str(info.get("Architecture", "?"))
    arch = arches.normalise(machine) or machine
    return Check(
        "engine",
        OK,
        f"Docker Engine {info.get('ServerVersion', '?')} ({info.get('OSType', '?')}/{arch}{kind}) "
        f"at {f.endpoint}",
    )


def check_target(f: Findings) -> Check:
    host = f"linux/{f.settings.host_arch}"
    if f.spec_error:
        return Check("target", FAIL, f.spec_error)
    output = (
        f"pushed to {registry_of(f.spec.tags[0])}"
        if f.pushing and f.spec and f.spec.tags
        else "pushed"
        if f.pushing
        else "loaded into the local image store"
    )
    return Check("target", OK, f"{', '.join(f.needed_platforms)} on this {host} host; {output}")


def check_buildx(f: Findings) -> Check:
    if f.cli is None:
        return Check("buildx", WARN, "not checked: no docker CLI", "see `cli`")
    install = (
        "install the buildx plugin (Docker's packages: docker-buildx-plugin; Debian: docker-buildx)"
    )
    if f.cli.buildx_version is None:
        blocker = ""
        if f.spec is not None:
            blocker = buildx.fallback_blocker(f.settings, f.spec, f.cli) or ""
        elif not f.cli.builtin_buildkit:
            blocker = f"docker {f.cli.client_version} builds with BuildKit only through buildx"
        if blocker:
            return Check("buildx", FAIL, f"not installed, and {blocker}", install)
        return Check(
            "buildx",
            WARN,
            f"not installed; docker {f.cli.client_version} will build with its built-in BuildKit "
            "(one platform, loaded locally)",
            install + " for multi-platform builds, pushes and registry caches",
        )
    version = tuple(int(x) for x in re.findall(r"\d+", f.cli.buildx_version)[:2])
    if version and version < MIN_BUILDX:
        return Check(
            "buildx",
            WARN,
            f"{f.cli.buildx_version} is older than {'.'.join(map(str, MIN_BUILDX))}",
            "update the buildx plugin",
        )
    return Check("buildx", OK, f"{f.cli.buildx_version}")


def check_builder(f: Findings, docker: Callable[..., Any] = query) -> Check:
    """Which builder the build would use, whether it exists, runs and has the right driver.

    Also fills ``f.report`` and ``f.container_builder`` for the later checks.
    """
    s = f.settings
    if f.cli is None:
        return Check("builder", WARN, "not checked: no docker CLI", "see `cli`")
    if f.cli.buildx_version is None:
        blocker = not f.cli.builtin_buildkit or (
            f.spec is not None and buildx.fallback_blocker(s, f.spec, f.cli)
        )
        if blocker:
            return Check("builder", WARN, "not checked: this build needs buildx", "see `buildx`")
        return Check(
            "builder", OK, f"none needed: docker {f.cli.client_version} with DOCKER_BUILDKIT=1"
        )
    spec = f.spec
    reason = buildx.needs_container_driver(s, spec) if spec else None
    try:
        choice = buildx.choose_builder(s, spec, f.builders) if spec else None
    except ToolkitError as exc:
        return Check("builder", FAIL, exc.message, "pass --builder NAME")
    if choice is not None and choice.create is not None:
        f.container_builder = True
        return Check(
            "builder",
            OK,
            f"the build will create `{buildx.OWN_BUILDER}` (docker-container driver, for {reason}); "
            "your current builder stays as it is",
        )
    name = choice.flag if choice is not None else s.builder
    argv = [s.docker, "buildx", "inspect"] + ([name] if name else [])
    proc = docker(argv, env=f.environ, timeout=30)
    report = parse_inspect(proc.stdout) if proc.returncode == 0 else None
    if report is None:
        shown = f"`{name}`" if name else "the current builder"
        problem = (proc.stderr or proc.stdout).strip().splitlines()
        return Check(
            "builder",
            FAIL,
            f"{shown} cannot be inspected ({problem[-1] if problem else 'no output'})",
            f"create it (`docker buildx create --name {name} --driver docker-container`) or drop "
            "--builder"
            if name
            else "check `docker buildx ls`",
        )
    if report.driver != "docker" and not report.running and not report.node_errors:
        # An idle docker-container builder lists no platforms until it is started.
        try:
            booted = docker(
                [s.docker, "buildx", "inspect", "--bootstrap", report.name],
                env=f.environ,
                timeout=f.probes.bootstrap_timeout,
            )
        except ToolkitError:
            booted = None
        if booted is None:
            f.report = report
            return Check(
                "builder",
                WARN,
                f"`{report.name}` ({report.driver}) did not start within "
                f"{f.probes.bootstrap_timeout:g} s, so its platforms are unknown",
                f"run `docker buildx inspect --bootstrap {report.name}` and look at its error",
            )
        report = parse_inspect(booted.stdout) or report
        if booted.returncode != 0 and not report.node_errors:
            error = (booted.stderr or booted.stdout).strip().splitlines()
            report = BuilderReport(
                report.name, report.driver, report.nodes, error[-1] if error else "boot failed"
            )
    f.report = report
    f.container_builder = report.driver != "docker"
    current = "" if name else " (current)"
    if report.node_errors:
        return Check(
            "builder",
            FAIL,
            f"`{report.name}`{current} ({report.driver}) does not work: {report.node_errors[0]}",
            f"fix or recreate it (`docker buildx rm {report.name}`)",
        )
    if reason and report.driver == "docker":
        return Check(
            "builder",
            FAIL,
            f"`{report.name}` uses the docker driver, which cannot do {reason}",
            "name a docker-container builder, or drop --builder so the build creates one",
        )
    return Check("builder", OK, f"`{report.name}`{current}, driver {report.driver}")


def check_emulation(f: Findings) -> Check:
    """Can the builder run every platform the build needs?"""
    host = f.settings.host_arch
    foreign = [p for p in f.needed_platforms if p.split("/")[1] != host]
    if not foreign:
        return Check("emulation", OK, f"not needed: linux/{host} is this host's platform")
    archs = [p.split("/")[1] for p in foreign]
    wanted = ", ".join(foreign)
    report = f.report
    listed = report.platforms if report is not None else ()
    fix = _emulation_fix(archs[0])
    # A docker-container (or remote) builder says what its BuildKit detected.
    if report is not None and report.driver != "docker" and listed:
        missing = [p for p in foreign if not _runs(listed, p)]
        if not missing:
            return Check("emulation", OK, f"builder `{report.name}` runs {wanted}")
        return Check(
            "emulation",
            FAIL,
            f"builder `{report.name}` cannot run {', '.join(missing)} (it lists {', '.join(listed)})",
            f"{fix}, then restart the builder: `docker buildx stop {report.name}`",
        )
    if f.info and resources.is_desktop(f.info):
        return Check("emulation", OK, f"Docker Desktop runs {wanted} (emulation built in)")
    if f.engine_local or (not f.info and sys.platform.startswith("linux")):
        states = {arch: read_binfmt(arch, f.probes.binfmt_dir) for arch in archs}
        bad = {a: e for a, e in states.items() if e.state != "registered"}
        if not bad:
            shown = ", ".join(f"{e.entry} ({e.interpreter})" for e in states.values())
            return Check("emulation", OK, f"{wanted} through binfmt_misc: {shown}")
        arch, state = next(iter(bad.items()))
        fix = _emulation_fix(arch)
        if state.state == "unmounted":
            return Check(
                "emulation",
                WARN,
                f"{f.probes.binfmt_dir} is not mounted here, so emulation for linux/{arch} cannot be seen",
                fix,
            )
        detail = {
            "missing": f"no emulator for linux/{arch} is registered with binfmt_misc",
            "disabled": f"binfmt_misc emulation is disabled ({state.entry or 'status'})",
            "no-fix-binary": f"{state.entry} is registered without the F (fix-binary) flag, so "
            "containers cannot use it",
        }[state.state]
        return Check("emulation", FAIL, detail, fix)
    if report is not None and listed and _all_run(listed, foreign):
        return Check("emulation", OK, f"builder `{report.name}` lists {wanted}")
    return Check(
        "emulation",
        WARN,
        f"cannot tell whether the engine at {f.endpoint or 'its address'} runs {wanted}",
        f"if the build fails with `exec format error`, {fix} on the engine's host",
    )


def _all_run(listed: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(_runs(listed, p) for p in wanted)


def check_memory(f: Findings) -> Check:
    found = f.found or resources.host_resources()
    platforms = 2 if f.arch == "multi" else 1
    jobs = resources.recommend_jobs(found.memory_bytes, found.cpus, platforms)
    f.found, f.recommended_jobs = found, jobs
    share = ", per platform: two build at once" if platforms > 1 else ""
    detail = (
        f"{found.describe()}: recommends --jobs={jobs} "
        f"(about {resources.JOB_MEMORY_GIB} GiB per C++ compile job{share})"
    )
    whole_gib = int(found.memory_gib + 0.5)
    more = (
        "give Docker Desktop more memory (Settings > Resources > Memory)"
        if f.info and resources.is_desktop(f.info)
        else "build on a machine (or VM) with more memory"
    )
    if found.source == "host":
        return Check(
            "memory",
            WARN,
            f"the engine did not answer; this host has {found.describe()}, and would get "
            f"--jobs={jobs}",
            "start the engine and run doctor again",
        )
    if whole_gib < MEMORY_FAIL_GIB:
        return Check(
            "memory",
            FAIL,
            f"{detail}; less than the {resources.JOB_MEMORY_GIB} GiB one compile job needs, so the "
            "compiler will be killed",
            f"{more}: at least {MEMORY_WARN_GIB} GiB",
        )
    if whole_gib < MEMORY_WARN_GIB:
        return Check("memory", WARN, f"{detail}; the build will be slow", f"{more}: 8 GiB or more")
    asked = f.settings.jobs
    if isinstance(asked, int) and asked > jobs:
        return Check(
            "memory",
            WARN,
            f"{detail}; --jobs={asked} asks for about {asked * resources.JOB_MEMORY_GIB} GiB",
            f"use --jobs=auto (or --jobs={jobs}) so the compiler is not killed",
        )
    return Check("memory", OK, detail)


def check_disk(f: Findings) -> Check:
    if not f.info:
        return Check("disk", WARN, "not checked: the engine did not answer", "start the engine")
    root = str(f.info.get("DockerRootDir") or "")
    if not f.engine_local:
        where = resources.engine_kind(f.info)
        fix = (
            "check Docker Desktop's disk limit (Settings > Resources > Advanced)"
            if resources.is_desktop(f.info)
            else "check the free space on the engine's host"
        )
        return Check(
            "disk",
            WARN,
            f"not measured: {root or 'the data directory'} is inside {where}, not on this machine",
            f"{fix}: a build needs about {DISK_WARN_GIB} GiB free",
        )
    if not root:
        return Check(
            "disk", WARN, "the engine does not say where it keeps its data", "check `docker info`"
        )
    try:
        free = shutil.disk_usage(root).free
    except OSError as exc:
        return Check(
            "disk",
            WARN,
            f"cannot measure {root} ({exc.strerror or exc})",
            f"make sure {DISK_WARN_GIB} GiB are free there",
        )
    return judge_disk(free, root)


def judge_disk(free: int, where: str) -> Check:
    gib = free / resources.GIB
    detail = f"{gib:.0f} GiB free at {where}"
    prune = "free space (`docker system prune`, `docker builder prune`)"
    if gib < DISK_FAIL_GIB:
        return Check(
            "disk",
            FAIL,
            f"{detail}; the build will not fit",
            f"{prune}: {DISK_WARN_GIB} GiB or more",
        )
    if gib < DISK_WARN_GIB:
        return Check(
            "disk",
            WARN,
            f"{detail}; a build from scratch may not fit",
            f"{prune} to have {DISK_WARN_GIB} GiB",
        )
    return Check("disk", OK, detail)


def push_registries(f: Findings) -> list[str]:
    if f.spec is None or not f.pushing:
        return []
    registries = [registry_of(t) for t in f.spec.tags]
    if f.spec.cache_to and f.settings.cache_ref:
        registries.append(registry_of(f.settings.cache_ref))
    return sorted(set(registries))


def check_builder_image(f: Findings) -> Check:
    name = "builder-image"
    if f.facts is None or not f.bazel_version:
        return Check(name, WARN, "not checked: the checkout's facts are missing", "see `target`")
    try:
        ref = images.builder_base(f.settings, f.facts, f.bazel_version)
    except ToolkitError as exc:
        return Check(name, FAIL, exc.message, "pass --builder-base or --builder-base-tag")
    build_it = (
        "build it with `nox -s builder` (add `-- --push` so docker-container builders and CI find "
        "it), or pass --builder-base"
    )
    if f.client is None:
        return Check(
            name, WARN, f"{ref} not checked: the engine did not answer", "start the engine"
        )
    import docker

    local = False
    try:
        f.client.images.get(ref)
        local = True
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.DockerException as exc:
        return Check(
            name, WARN, f"{ref}: the engine could not look it up ({exc})", "run doctor again"
        )
    if local and not f.container_builder:
        return Check(name, OK, f"{ref} is in the local image store")
    answer, why = _ask_registry(f.client, ref, f.probes.registry_timeout)
    builder = f"`{f.report.name}`" if f.report is not None else f"`{buildx.OWN_BUILDER}`"
    if answer == "found":
        return Check(name, OK, f"{ref} is in the registry")
    local_note = (
        f"; a local copy exists, but builder {builder} (docker-container) pulls from the registry"
        if local
        else ""
    )
    if answer == "missing":
        return Check(
            name,
            FAIL,
            f"{ref} is neither in the local image store nor in the registry{local_note}",
            build_it,
        )
    # Neither here nor pullable: the build fails at once, so this is a failure.
    status = WARN if local else FAIL
    if answer == "denied":
        return Check(
            name,
            status,
            f"the registry refused to show {ref} ({why}){local_note}",
            f"run `docker login {registry_of(ref)}` if the image is private, or " + build_it,
        )
    return Check(
        name,
        status,
        f"{ref} is not in the local image store and the registry could not be reached "
        f"({why}){local_note}",
        "check the network, or " + build_it,
    )


def _network_error(text: str) -> str:
    """The gist of a Go or Python network error: `lookup quay.io: no such host`."""
    host = re.search(r"https?://([^/\s\"]+)", text)
    where = f"{host.group(1)}: " if host else ""
    for gist in ("no such host", "connection refused", "i/o timeout", "network is unreachable",
                 "certificate", "server gave HTTP response to HTTPS client"):  # fmt: skip
        if gist in text:
            return where + gist
    return text.splitlines()[0][:160] if text else "no answer"


def _ask_registry(client: Any, ref: str, timeout: float) -> tuple[str, str]:
    """found | missing | denied | unreachable, and why; the engine asks the registry."""
    import docker

    before = client.api.timeout
    client.api.timeout = timeout
    try:
        client.images.get_registry_data(ref)
        return "found", ""
    except docker.errors.NotFound as exc:
        return "missing", str(exc.explanation or exc)
    except docker.errors.APIError as exc:
        text = str(exc.explanation or exc)
        if exc.status_code in (401, 403) or "unauthorized" in text or "denied" in text:
            return "denied", text
        if "manifest unknown" in text or "not found" in text.lower():
            return "missing", text
        return "unreachable", _network_error(text) if text else f"HTTP {exc.status_code}"
    except Exception as exc:  # timeouts and connection errors of the SDK's transport
        text = str(exc)
        if "timed out" in text.lower():
            return "unreachable", f"no answer within {timeout:g} s"
        return "unreachable", _network_error(text)
    finally:
        client.api.timeout = before


# --- running it ----------------------------------------------------------------------------


def gather(settings: Settings, root: Path, environ: Mapping[str, str], probes: Probes) -> Findings:
    """Ask the CLI, git and the engine what doctor needs; no judging yet.

    The checkout, the docker CLI and the builders come from the same gathering as a
    build's plan (``tools.facts``), asked afresh: doctor is what people run when
    something changed.
    """
    f = Findings(settings=settings, root=root, environ=environ, probes=probes)
    f.arch = buildx.session_arch(settings)
    gathered = None
    try:
        gathered = facts.gather(settings, root, environ, fresh_cli=True, ask_engine=False)
    except ToolkitError as exc:  # git, .bazelversion or ENVOY_VERSION
        f.spec_error = exc.message
        try:
            f.cli = buildx.ask_cli(settings.docker)
        except ToolkitError as cli_exc:
            f.cli_error = cli_exc.message
    if gathered is not None:
        f.facts, f.bazel_version = gathered.git, gathered.bazel_version
        f.cli, f.cli_error = gathered.docker, gathered.docker_problem
        f.builders = dict(gathered.builders)
        try:
            f.spec = buildx.build_spec(settings, gathered.git, gathered.bazel_version, None)
        except ToolkitError as exc:
            f.spec_error = exc.message
    try:
        f.client = resources.connect(resources.ENGINE_TIMEOUT, environ)
        f.endpoint = resources.endpoint_of(f.client)
        f.info = f.client.info()
    except resources.EngineUnavailable as exc:
        f.engine_error = str(exc)
    except Exception as exc:  # the engine answered /version but not /info
        f.close()
        f.engine_error = f"the engine did not answer /info ({exc})"
    if f.info:
        try:
            f.found = resources.resources_from_info(f.info)
        except resources.EngineUnavailable:
            f.found = None
    return f


def run_checks(f: Findings, docker: Callable[..., Any] = query) -> list[Check]:
    checks = [check_cli(f), check_engine(f), check_target(f), check_buildx(f)]
    checks.append(check_builder(f, docker))
    checks.append(check_emulation(f))
    checks.append(check_memory(f))
    checks.append(check_disk(f))
    checks.append(
        check_credentials(push_registries(f), facts.docker_config_dir(f.environ), f.environ)
    )
    checks.append(check_builder_image(f))
    return checks


def report_json(f: Findings, checks: Sequence[Check]) -> str:
    found = f.found
    document = {
        "ok": all(c.status != FAIL for c in checks),
        "target": {
            "arch": f.arch,
            "platforms": list(f.needed_platforms),
            "host": f"linux/{f.settings.host_arch}",
            "push": f.pushing,
        },
        "checks": [asdict(c) for c in checks],
        "recommended_jobs": f.recommended_jobs,
        "resources": asdict(found) if found else None,
        "job_memory_gib": resources.JOB_MEMORY_GIB,
    }
    return json.dumps(document, indent=2)


def summary_line(f: Findings, checks: Sequence[Check]) -> str:
    counts = {s: sum(1 for c in checks if c.status == s) for s in (OK, WARN, FAIL)}
    return (
        f"doctor: {counts[OK]} ok, {counts[WARN]} warn, {counts[FAIL]} fail; "
        f"--jobs=auto would choose {f.recommended_jobs}"
    )


def main(
    argv: Sequence[str],
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    probes: Probes | None = None,
) -> list[Check]:
    out = out or sys.stdout
    root = root or repo.ROOT
    environ = dict(os.environ if environ is None else environ)
    resolved = resolve(
        "doctor",
        argv,
        root=root,
        environ=environ,
        extend=lambda p: p.add_argument(
            "--json", action="store_true", help="print one JSON document instead of the lines"
        ),
    )
    f = gather(resolved.settings, root, environ, probes or Probes())
    try:
        checks = run_checks(f)
    finally:
        f.close()
    if resolved.args.json:
        print(report_json(f, checks), file=out, flush=True)
    else:
        for check in checks:
            print(check.line(), file=out, flush=True)
        print(summary_line(f, checks), file=out, flush=True)
    failed = [c.name for c in checks if c.status == FAIL]
    if failed:
        raise ToolkitError(
            f"doctor: {len(failed)} check(s) failed ({', '.join(failed)}); fix them before building."
        )
    return checks
