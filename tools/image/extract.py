"""`nox -s extract`: copy the proxy out of an image, for a runtime of your own.

A container is created (never started) from the image, the files are read through
the engine's archive API, and the container is removed whatever happens.
"""

from __future__ import annotations

import io
import os
import sys
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any, Mapping, Sequence, TextIO

from tools import arches, elf, repo
from tools.cli import Parser
from tools.errors import ToolkitError
from tools.files import write_atomic

BINARY = "/usr/bin/cilium-envoy"
#: Installed beside the proxy when the image has them (a starter, its libraries).
COMPANIONS = ("/usr/bin/cilium-envoy-starter", "/usr/lib/cilium-envoy")
PLATFORMS = tuple(a.platform for a in arches.ARCHES.values())


def _parser() -> Parser:
    parser = Parser(
        "extract", description="Copy /usr/bin/cilium-envoy out of an image into DIR/<arch>/."
    )
    parser.add_argument(
        "--image", metavar="REF", help="image to read (default: the first tag `build` gives)"
    )
    parser.add_argument(
        "--output", metavar="DIR", default="out", help="where to put <arch>/ (default: out)"
    )
    parser.add_argument(
        "--platform", metavar="linux/ARCH", help="platform of the image (default: this host)"
    )
    parser.add_argument(
        "--docker",
        metavar="PATH",
        help="the docker CLI whose engine to read from (env DOCKER; default: docker)",
    )
    return parser


def _sdk_missing() -> ToolkitError:
    return ToolkitError(
        "extract needs the docker SDK for Python; run it as `nox -s extract` (its venv has it) "
        "or `pip install docker`."
    )


def _endpoint(docker: str) -> dict:
    """Where the named docker CLI connects (its current context), for the SDK."""
    from tools.run import query

    proc = query(
        [docker, "context", "inspect", "--format", "{{.Endpoints.docker.Host}}"],
        missing=f"The docker CLI `{docker}` was not found; install Docker or pass --docker=/path/to/docker.",
    )
    host = proc.stdout.strip()
    return {"DOCKER_HOST": host} if proc.returncode == 0 and host else {}


def _files_from_tar(data: bytes) -> dict[str, tuple[bytes, int]]:
    """Regular files of an archive-API tar (named relative to the copied path's parent)."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            path = PurePosixPath(member.name)
            if not member.isreg() or path.is_absolute() or ".." in path.parts:
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                files[str(path)] = (handle.read(), member.mode & 0o777)
    return files


def _read(container: Any, path: str) -> dict[str, tuple[bytes, int]] | None:
    """Files under ``path`` in the container, keyed by where they go below <arch>/."""
    from docker.errors import NotFound

    try:
        stream, _ = container.get_archive(path)
    except NotFound:
        return None
    prefix = "lib/" if path.startswith("/usr/lib/") else ""
    return {prefix + name: entry for name, entry in _files_from_tar(b"".join(stream)).items()}


def extract(
    image: str, output: Path, platform: str, *, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """Copy the proxy and its companions into ``output/<arch>/``; return what was written."""
    try:
        from docker.errors import APIError, ImageNotFound
    except ImportError:
        raise _sdk_missing() from None

    from tools.image import resources

    arch = platform.split("/", 1)[1]
    try:
        client = resources.connect(environ=environ)
    except resources.EngineUnavailable as exc:
        raise ToolkitError(
            f"No Docker engine to read the image from ({exc}); start Docker and retry."
        ) from None
    try:
        try:
            image_arch = client.images.get(image).attrs.get("Architecture")
        except ImageNotFound:
            raise ToolkitError(
                f"The image `{image}` is not in the local image store; build it or pass --image."
            ) from None
        if image_arch and image_arch != arch:
            raise ToolkitError(
                f"`{image}` is a linux/{image_arch} image, not {platform}; "
                f"pass --platform linux/{image_arch} or build with --arch {arch}."
            )
        try:
            container = client.containers.create(image, command=["none"], platform=platform)
        except APIError as exc:
            raise ToolkitError(
                f"The engine refused to open `{image}` for {platform}: {exc.explanation}."
            ) from None
        try:
            found = _read(container, BINARY)
            if not found:
                raise ToolkitError(
                    f"`{image}` has no {BINARY}; pass --image with a cilium-envoy release image."
                )
            for path in COMPANIONS:
                found.update(_read(container, path) or {})
        finally:
            container.remove(force=True)
    finally:
        client.close()

    binary = found[PurePosixPath(BINARY).name][0]
    try:
        machine = elf.e_machine(binary[:20])
    except elf.NotElf:
        raise ToolkitError(
            f"{BINARY} in `{image}` is not an ELF binary; the image is broken, rebuild it."
        ) from None
    built_for = elf.MACHINES.get(machine, f"machine {machine}")
    if built_for != arch:
        raise ToolkitError(
            f"{BINARY} in `{image}` is built for {built_for}, not {arch}; rebuild with --arch {arch} or pass "
            f"--platform linux/{built_for}."
        )
    target = output / arch
    written = []
    for name, (data, mode) in sorted(found.items()):
        dest = target / name
        write_atomic(dest, data, mode=mode or 0o755)
        written.append(dest)
    return written


def main(
    argv: Sequence[str],
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
) -> list[Path]:
    out = out or sys.stdout
    root = root or repo.ROOT
    environ = dict(os.environ if environ is None else environ)
    args = _parser().parse_args(list(argv))
    from tools.image.settings import host_arch

    platform = args.platform or f"linux/{host_arch()}"
    if platform not in PLATFORMS:
        raise ToolkitError(
            f"--platform `{platform}` is not one we build; use {' or '.join(PLATFORMS)}."
        )
    if args.image:
        from tools.image.images import check_reference

        image = check_reference(args.image, "--image")
    else:
        from tools.image.build import default_image_ref

        # The image `nox -s build -- --arch ARCH` gives for the platform asked for.
        image = default_image_ref(root, environ, platform.split("/", 1)[1])
    docker = args.docker or environ.get("DOCKER") or ""
    if docker and not environ.get("DOCKER_HOST"):
        environ.update(_endpoint(docker))
    output = Path(args.output)
    if not output.is_absolute():
        output = root / output
    if output.exists() and not output.is_dir():
        raise ToolkitError(f"--output `{args.output}` is a file; name a directory.")
    written = extract(image, output, platform, environ=environ)
    for path in written:
        shown = os.path.relpath(path, Path.cwd()) if path.is_relative_to(Path.cwd()) else str(path)
        print(f"extracted {shown} ({platform})", file=out)
    return written


if __name__ == "__main__":  # pragma: no cover - the session is the entry point
    try:
        main(sys.argv[1:])
    except ToolkitError as exc:
        sys.exit(exc.message)
