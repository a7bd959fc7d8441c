"""What doctor finds out, gathered once before anything is judged.

:func:`gather` asks everything doctor's checks need: the same facts a build's plan
starts from (``tools.image.facts``, the docker CLI asked afresh), the engine through
the docker SDK, the builder the build would use (started when idle, as the build would),
the kernel's binfmt_misc table, the registry logins and the builder image, all through
``tools.image.docker``.  The result, :class:`Findings`, is what ``doctor_checks`` judges.
"""

from __future__ import annotations

import platform
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from tools import arches, repo
from tools.errors import ToolkitError
from tools.image import docker, facts, images, resources
from tools.image.answers import BuilderReport, DockerCli, Logins
from tools.image.plan import choose_builder
from tools.image.settings import Settings
from tools.image.spec import PLATFORMS, BuildSpec, build_spec, output_choices, session_arch

#: Seconds the engine may spend asking a registry about the builder image.
REGISTRY_TIMEOUT = 8.0
#: Seconds `docker buildx inspect --bootstrap` may take to start a builder.
BOOTSTRAP_TIMEOUT = 90.0
BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
#: ELF machine numbers as binfmt_misc's magic shows them, and QEMU's names (one table).
ELF_MACHINE = {name: a.binfmt_magic for name, a in arches.ARCHES.items()}
QEMU_NAME = {name: a.qemu for name, a in arches.ARCHES.items()}


@dataclass(frozen=True)
class Probes:
    """Where doctor looks; tests point these at recorded copies."""

    binfmt_dir: Path = BINFMT_DIR
    registry_timeout: float = REGISTRY_TIMEOUT
    bootstrap_timeout: float = BOOTSTRAP_TIMEOUT


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


# --- what doctor found out -----------------------------------------------------------------


@dataclass
class Findings:
    settings: Settings
    root: Path
    environ: Mapping[str, str]
    probes: Probes
    arch: str = ""
    spec: Optional[BuildSpec] = None
    spec_error: str = ""
    facts: Optional[repo.GitFacts] = None
    bazel_version: str = ""
    cli: Optional[DockerCli] = None
    cli_error: str = ""
    info: dict = field(default_factory=dict)
    endpoint: str = ""
    engine_error: str = ""
    builders: dict = field(default_factory=dict)  # `buildx inspect` answers (tools.image.facts)
    #: The builder the build would use, as inspected (started when idle) ...
    report: Optional[BuilderReport] = None
    builder_problem: str = ""  # ... or why it could not be inspected
    builder_bootstrap: str = ""  # "", "started" or "timeout"
    container_builder: bool = False  # the build's builder pulls images itself
    found: Optional[resources.Resources] = None  # the engine's memory and CPUs
    binfmt: Dict[str, Emulation] = field(default_factory=dict)  # by foreign architecture
    logins: Optional[Logins] = None  # for the registries the build pushes to
    #: The builder image: its reference (or why there is none), in the local store?, and
    #: what its registry said ("found", "missing", "denied", "unreachable"; "" not asked).
    builder_image: str = ""
    builder_image_error: str = ""
    builder_image_local: bool = False
    builder_image_lookup_error: str = ""
    registry: Tuple[str, str] = ("", "")
    engine_answered: bool = False  # a docker SDK client reached the engine
    cli_path: str = ""  # where the docker CLI is on PATH
    disk_free: Optional[int] = None  # bytes free where a local engine keeps its data ...
    disk_error: str = ""  # ... or why that could not be measured
    host_linux: bool = field(default_factory=lambda: sys.platform.startswith("linux"))

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
        return PLATFORMS.get(self.arch, (f"linux/{self.settings.host_arch}",))

    @property
    def foreign_arches(self) -> tuple[str, ...]:
        host = self.settings.host_arch
        return tuple(p.split("/")[1] for p in self.needed_platforms if p.split("/")[1] != host)

    @property
    def pushing(self) -> bool:
        if self.spec is None:
            return bool(self.settings.push) or self.arch == "multi"
        if self.spec.output is not None:
            return self.spec.output == "push"
        return any(c.kind == "push" for c in output_choices(self.spec.user_opts))

    @property
    def resources(self) -> resources.Resources:
        """The engine's figures, or this host's when the engine did not answer."""
        return self.found or resources.host_resources()

    @property
    def recommended_jobs(self) -> int:
        found = self.resources
        platforms = 2 if self.arch == "multi" else 1
        return resources.recommend_jobs(found.memory_bytes, found.cpus, platforms)

    @property
    def push_registries(self) -> list[str]:
        if self.spec is None or not self.pushing:
            return []
        registries = [images.registry_of(t) for t in self.spec.tags]
        if self.spec.cache_to and self.settings.cache_ref:
            registries.append(images.registry_of(self.settings.cache_ref))
        return sorted(set(registries))


# --- gathering -------------------------------------------------------------------------------


def gather(settings: Settings, root: Path, environ: Mapping[str, str], probes: Probes) -> Findings:
    """Ask the CLI, git, the engine, the builder, the kernel and the registry; no judging.

    The checkout, the docker CLI and the builders come from the same gathering as a
    build's plan (``tools.image.facts``), asked afresh: doctor is what people run when
    something changed.
    """
    f = Findings(settings=settings, root=root, environ=environ, probes=probes)
    f.arch = session_arch(settings)
    gathered = None
    try:
        gathered = facts.gather(settings, root, environ, fresh_cli=True, ask_engine=False)
    except ToolkitError as exc:  # git, .bazelversion or ENVOY_VERSION
        f.spec_error = exc.message
        try:
            f.cli = docker.ask_cli(settings.docker)
        except ToolkitError as cli_exc:
            f.cli_error = cli_exc.message
    if gathered is not None:
        f.facts, f.bazel_version = gathered.git, gathered.bazel_version
        f.cli, f.cli_error = gathered.docker, gathered.docker_problem
        f.builders = dict(gathered.builders)
        try:
            f.spec = build_spec(settings, gathered.git, gathered.bazel_version, None)
        except ToolkitError as exc:
            f.spec_error = exc.message
    if f.cli is not None:
        f.cli_path = shutil.which(f.cli.path) or f.cli.path
    client = _engine(f)
    _disk(f)
    try:
        _builder(f)
        if f.host_linux:
            f.binfmt = {a: read_binfmt(a, probes.binfmt_dir) for a in f.foreign_arches}
        f.logins = docker.find_logins(f.push_registries, docker.docker_config_dir(environ), environ)
        _builder_image(f, client)
    finally:
        if client is not None:
            client.close()
    return f


def _engine(f: Findings) -> Any:
    """Connect to the engine and read /info; the client, or None when no engine answered."""
    client = None
    try:
        client = docker.connect(docker.ENGINE_TIMEOUT, f.environ)
        f.endpoint = docker.endpoint_of(client)
        f.info = client.info()
    except resources.EngineUnavailable as exc:
        f.engine_error = str(exc)
        return None
    except Exception as exc:  # the engine answered /version but not /info
        if client is not None:
            client.close()
        f.engine_error = f"the engine did not answer /info ({exc})"
        return None
    try:
        f.found = resources.resources_from_info(f.info)
    except resources.EngineUnavailable:
        f.found = None
    f.engine_answered = True
    return client


def _disk(f: Findings) -> None:
    """Free space where a local engine keeps its data (an engine in a VM: not measured)."""
    root = str(f.info.get("DockerRootDir") or "")
    if not (f.engine_local and root):
        return
    try:
        f.disk_free = shutil.disk_usage(root).free
    except OSError as exc:
        f.disk_error = str(exc.strerror or exc)


def _builder(f: Findings) -> None:
    """Inspect the builder the build would use, unless the build creates its own."""
    s = f.settings
    if f.cli is None or f.cli.buildx_version is None:
        return
    name = s.builder
    if f.spec is not None:
        try:
            choice = choose_builder(s, f.spec, f.builders)
        except ToolkitError:
            return  # judged by doctor_checks.check_builder
        if choice.create is not None:
            f.container_builder = True
            return
        name = choice.flag
    answer = docker.ask_builder(s.docker, name, f.environ, f.probes.bootstrap_timeout)
    f.report, f.builder_problem, f.builder_bootstrap = (
        answer.report,
        answer.problem,
        answer.bootstrap,
    )
    f.container_builder = answer.report is not None and answer.report.driver != "docker"


def _builder_image(f: Findings, client: Any) -> None:
    """Where the builder image is: the local store, and the registry when that matters."""
    if f.facts is None or not f.bazel_version:
        return
    try:
        f.builder_image = images.builder_base(f.settings, f.facts, f.bazel_version)
    except ToolkitError as exc:
        f.builder_image_error = exc.message
        return
    if client is None:
        return
    f.builder_image_local, f.builder_image_lookup_error = docker.has_image(client, f.builder_image)
    if f.builder_image_lookup_error or (f.builder_image_local and not f.container_builder):
        return
    f.registry = docker.ask_registry(client, f.builder_image, f.probes.registry_timeout)
