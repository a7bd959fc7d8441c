"""`nox -s extract`: copy the proxy out of an image, for a runtime of your own.

The engine reads the files (``tools.image.docker.read_paths``: a container created,
never started, read through the archive API, removed whatever happens); this module
checks what came out (the binary's ELF machine) and writes it atomically.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence, TextIO

from tools import arches, elf, repo
from tools.cli import Parser
from tools.errors import ToolkitError
from tools.files import write_atomic
from tools.image import docker
from tools.image.build import default_image_ref
from tools.image.images import check_reference
from tools.image.resources import EngineUnavailable
from tools.image.settings import host_arch

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
        f"extract reads the image through the engine, but {docker.SDK_MISSING}; install it and "
        "run `nox -s extract` again."
    )


def extract(
    image: str, output: Path, platform: str, *, environ: Mapping[str, str] | None = None
) -> list[Path]:
    """Copy the proxy and its companions into ``output/<arch>/``; return what was written."""
    try:
        import docker as _sdk  # noqa: F401 - only to say early that it is missing
    except ImportError:
        raise _sdk_missing() from None

    arch = platform.split("/", 1)[1]
    try:
        client = docker.connect(environ=environ)
    except EngineUnavailable as exc:
        raise ToolkitError(
            f"No Docker engine to read the image from ({exc}); start Docker and retry."
        ) from None
    try:
        present, image_arch = docker.image_architecture(client, image)
        if not present:
            raise ToolkitError(
                f"The image `{image}` is not in the local image store; build it or pass --image."
            )
        if image_arch and image_arch != arch:
            raise ToolkitError(
                f"`{image}` is a linux/{image_arch} image, not {platform}; "
                f"pass --platform linux/{image_arch} or build with --arch {arch}."
            )
        read = docker.read_paths(client, image, platform, (BINARY, *COMPANIONS))
    finally:
        client.close()
    if not read[BINARY]:
        raise ToolkitError(
            f"`{image}` has no {BINARY}; pass --image with a cilium-envoy release image."
        )
    found: dict[str, tuple[bytes, int]] = {}
    for path in (BINARY, *COMPANIONS):
        # Files keyed by where they go below <arch>/ (a folder under /usr/lib/ goes to lib/).
        prefix = "lib/" if path.startswith("/usr/lib/") else ""
        found.update({prefix + name: entry for name, entry in (read[path] or {}).items()})

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
    platform = args.platform or f"linux/{host_arch()}"
    if platform not in PLATFORMS:
        raise ToolkitError(
            f"--platform `{platform}` is not one we build; use {' or '.join(PLATFORMS)}."
        )
    if args.image:
        image = check_reference(args.image, "--image")
    else:
        # The image `nox -s build -- --arch ARCH` gives for the platform asked for.
        image = default_image_ref(root, environ, platform.split("/", 1)[1])
    cli = args.docker or environ.get("DOCKER") or ""
    if cli and not environ.get("DOCKER_HOST"):
        environ.update(docker.cli_endpoint(cli))
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
