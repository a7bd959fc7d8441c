"""`nox -s policy -- --in-docker ...`: build and run cilium-policy in a container.

For a machine with Docker and no C++ toolchain.  A small toolchain image of our own
(``cilium-filters/tool/docker/Dockerfile``: Debian 13's compiler, CMake, protobuf, RE2,
yaml-cpp, Go and Python) is built once, tagged by the hash of that file and its base image;
the checkout is mounted at its own path and the tool is built into ``build/filters/docker``
with the same CMake steps as the local ``tool`` variant, then run from the directory nox was
run from (mounted too, with the folders of the files the command names).  The toolkit's
cache is mounted as well (the xds-protos wheel, protoc-gen-validate, and the container's
Go module cache), so later runs download nothing.  Docker is asked through its one door,
``tools.image.docker``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from pathlib import Path
from typing import Callable, List, Mapping, Optional, Sequence, TextIO, Tuple

from tools.engine import builds
from tools.engine.builds import SOURCE_DIR, TOOL, _configured, validators
from tools.engine.quiet import Progress, Silent, build_lock
from tools.files import cache_dir
from tools.image.docker import local_image
from tools.run import Plan, Step, execute, stream

DOCKERFILE = "cilium-filters/tool/docker/Dockerfile"
DEFAULT_BASE = "debian:trixie"
IMAGE = "cilium-policy-toolchain"
#: The tool built in its container: the local ``tool`` variant's options, its own folder.
DOCKER_TOOL = dataclasses.replace(TOOL, name="docker", purpose="the cilium-policy tool, in Docker")
#: Passed on to the container when set here (proxies, a corporate CA, Go's module settings).
PASSED_ON = ("GOPROXY", "GOFLAGS", "GOSUMDB", "GONOSUMDB", "GOPRIVATE",
             "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")  # fmt: skip


def image_ref(root: Path, base: str) -> str:
    digest = hashlib.sha256((root / DOCKERFILE).read_bytes() + b"\0" + base.encode())
    return f"{IMAGE}:{digest.hexdigest()[:12]}"


@dataclasses.dataclass(frozen=True)
class Facts:
    docker: str
    image: str
    base: str
    has_image: bool
    configured: bool
    validators: builds.Validators
    cache: Path
    uid: int
    gid: int
    environ: Mapping[str, str]


def gather(options, root: Path, environ: Optional[Mapping[str, str]] = None) -> Facts:
    environ = os.environ if environ is None else environ
    docker = environ.get("DOCKER") or "docker"
    base = options.base_image or DEFAULT_BASE
    image = image_ref(root, base)
    found = validators(environ)
    return Facts(
        docker=docker,
        image=image,
        base=base,
        has_image=local_image(docker, image),
        configured=_configured(DOCKER_TOOL.folder(root), DOCKER_TOOL, found.cmake_options),
        validators=found,
        cache=cache_dir(environ),
        uid=os.getuid(),
        gid=os.getgid(),
        environ=dict(environ),
    )


def _mounts(root: Path, invoked_from: Path, args: Sequence[str], cache: Path) -> List[str]:
    """The checkout and the cache (read-write), and read-only the directory nox was run from
    and the folders of the files the command names, when they are elsewhere."""
    mounts = [f"{root}:{root}", f"{cache}:{cache}"]
    seen = [root, cache]

    def inside(path: Path) -> bool:
        return any(path == top or top in path.parents for top in seen)

    extra = [invoked_from]
    for arg in args:
        value = arg.split("=", 1)[1] if arg.startswith("--") and "=" in arg else arg
        path = Path(value) if os.path.isabs(value) else invoked_from / value
        if value and not value.startswith("-") and path.exists():
            extra.append(path.resolve().parent if path.is_file() else path.resolve())
    for folder in extra:
        if not inside(folder):
            mounts.append(f"{folder}:{folder}:ro")
            seen.append(folder)
    return mounts


def plan(options, root: Path, invoked_from: Path, facts: Facts) -> Plan:
    """The image (once), protoc-gen-validate (once), configure (once), build, run; no I/O."""
    folder = DOCKER_TOOL.folder(root)
    rel = os.path.relpath(folder, root)
    go_home = facts.cache / "docker-go"
    env = [("HOME", "/tmp"), ("XDG_CACHE_HOME", str(facts.cache.parent)),
           ("GOPATH", str(go_home)), ("GOCACHE", str(go_home / "cache"))]  # fmt: skip
    passed = [name for name in PASSED_ON if facts.environ.get(name)]
    cert = facts.environ.get("SSL_CERT_FILE")

    def container(argv: Sequence[str], workdir: Path, *, stdin: bool = False,
                  more_env: Sequence[Tuple[str, str]] = ()) -> Tuple[str, ...]:  # fmt: skip
        words = [facts.docker, "run", "--rm", *(["--interactive"] if stdin else [])]
        words += ["--user", f"{facts.uid}:{facts.gid}"]
        for mount in _mounts(root, invoked_from, options.args, facts.cache):
            words += ["--volume", mount]
        if cert:
            words += ["--volume", f"{cert}:{cert}:ro", "--env", f"SSL_CERT_FILE={cert}"]
        for name, value in (*env, *more_env):
            words += ["--env", f"{name}={value}"]
        for name in passed:
            words += ["--env", name]  # docker copies the value from its own environment
        return (*words, "--workdir", str(workdir), facts.image, *argv)

    steps: List[Step] = []
    if not facts.has_image:
        steps.append(Step(
            f"build the toolchain image {facts.image} from {DOCKERFILE} (once; base {facts.base})",
            (facts.docker, "build", "--tag", facts.image, "--build-arg", f"BASE={facts.base}",
             "--file", str(root / DOCKERFILE), str((root / DOCKERFILE).parent)),
        ))  # fmt: skip
    pin = facts.validators
    if not pin.installed:
        steps.append(Step(
            f"install {builds.VALIDATE_PLUGIN} {pin.pin.version} into the toolkit's cache",
            container(("go", "install", pin.pin.target), root,
                      more_env=(("GOBIN", str(pin.plugin.parent)),)),
        ))  # fmt: skip
    if not facts.configured:
        configure = ("cmake", "-S", SOURCE_DIR, "-B", rel, "-G", "Ninja",
                     *DOCKER_TOOL.cmake_options, *pin.cmake_options)  # fmt: skip
        steps.append(Step(f"configure {rel} in the container", container(configure, root)))
    build = ["cmake", "--build", rel, "--target", "cilium-policy"]
    if options.jobs:
        build += ["--parallel", str(options.jobs)]
    steps.append(Step(f"build cilium-policy in the container ({rel})", container(build, root)))
    tool = folder / "cilium-policy"
    steps.append(Step(
        f"run cilium-policy {options.command} in the container, from {invoked_from}",
        container((str(tool), options.command, *options.args), invoked_from,
                  stdin=options.command == "eval"),
    ))  # fmt: skip
    return Plan(title="policy --in-docker: the toolchain image, the tool, then the answer",
                root=str(root), steps=tuple(steps))  # fmt: skip


def main(
    options,
    root: Path,
    invoked_from: Path,
    environ: Optional[Mapping[str, str]],
    err: TextIO,
    runner: Optional[Callable[..., int]] = None,
) -> int:
    """Carry out the plan; returns the tool's exit status."""
    facts = gather(options, root, environ)
    planned = plan(options, root, invoked_from, facts)
    if options.dry_run:
        execute(planned, dry_run=True, out=sys.stdout)
        return 0
    log = DOCKER_TOOL.folder(root) / "build.log"
    with build_lock(DOCKER_TOOL.folder(root)):
        first = not (DOCKER_TOOL.folder(root) / "cilium-policy").exists()
        progress = Progress(log, err, first=first)
        if first:
            print("building cilium-policy for the first time (a few minutes), in Docker: the "
                  f"toolchain image, then the tool; its output goes to {os.path.relpath(log, root)}",
                  file=err, flush=True)  # fmt: skip
        if log.exists():
            log.unlink()
        build = Plan(title=planned.title, root=planned.root, steps=planned.steps[:-1])
        execute(build, out=Silent(), runner=runner or progress.runner)
        progress.finish()
    run = planned.steps[-1]
    return (runner or stream)(run.argv, cwd=invoked_from, env=None)
