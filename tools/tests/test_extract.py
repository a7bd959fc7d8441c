"""`nox -s extract` against a real engine, with small images made here.

The images are imported from tars holding Debian's static busybox as
/usr/bin/cilium-envoy: a real ELF binary of this host's architecture.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from tools import elf
from tools.errors import ToolkitError
from tools.image import extract
from tools.image.settings import host_arch

BUSYBOX = "/bin/busybox"


def _import_image(engine: str, files: dict[str, bytes]) -> str:
    tag = f"cilium-envoy-extract-test:{uuid.uuid4().hex[:10]}"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    subprocess.run(
        [engine, "import", "-", tag], input=buf.getvalue(), check=True, capture_output=True
    )
    return tag


def _containers(engine: str, image: str) -> set[str]:
    """Containers made from ``image`` (tests run in parallel: count only our own)."""
    argv = [engine, "ps", "-aq", "--no-trunc", "--filter", f"ancestor={image}"]
    return set(subprocess.run(argv, capture_output=True, text=True, check=True).stdout.split())


@pytest.fixture
def busybox() -> bytes:
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox-static is not installed")
    return Path(BUSYBOX).read_bytes()


@pytest.fixture
def image(engine, busybox):
    tag = _import_image(
        engine,
        {
            "/usr/bin/cilium-envoy": busybox,
            "/usr/bin/cilium-envoy-starter": b"#!/bin/sh\n",
            "/usr/lib/cilium-envoy/libextra.so": b"\x7fELF-not-really",
            "/usr/bin/unrelated": b"x",
        },
    )
    yield tag
    subprocess.run([engine, "rmi", "-f", tag], capture_output=True, check=False)


@pytest.mark.engine
def test_extract_copies_the_proxy_and_leaves_no_container(engine, image, tmp_path, busybox):
    out = io.StringIO()
    written = extract.main(
        ["--image", image, "--output", str(tmp_path / "out")], root=tmp_path, out=out
    )
    arch = host_arch()
    target = tmp_path / "out" / arch
    assert sorted(p.relative_to(target).as_posix() for p in written) == [
        "cilium-envoy",
        "cilium-envoy-starter",
        "lib/cilium-envoy/libextra.so",
    ]
    binary = target / "cilium-envoy"
    assert binary.read_bytes() == busybox and elf.arch_of(binary) == arch
    assert subprocess.run(["true"], executable=str(binary), check=False).returncode == 0  # it runs
    assert _containers(engine, image) == set()
    assert f"extracted {binary} (linux/{arch})" in out.getvalue()


@pytest.mark.engine
def test_wrong_platform_is_caught_and_nothing_written(engine, image, tmp_path):
    other = "arm64" if host_arch() == "amd64" else "amd64"
    with pytest.raises(ToolkitError) as err:
        extract.main(
            ["--image", image, "--platform", f"linux/{other}", "--output", str(tmp_path / "o")],
            root=tmp_path,
        )
    message = err.value.message
    assert (
        f"is a linux/{host_arch()} image, not linux/{other}; pass --platform linux/{host_arch()}"
        in message
    )
    assert not (tmp_path / "o").exists()
    assert _containers(engine, image) == set()


@pytest.mark.engine
def test_image_without_the_proxy(engine, tmp_path):
    tag = _import_image(engine, {"/usr/bin/other": b"x"})
    try:
        with pytest.raises(ToolkitError, match=f"`{tag}` has no /usr/bin/cilium-envoy"):
            extract.main(["--image", tag, "--output", str(tmp_path / "o")], root=tmp_path)
    finally:
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, check=False)


@pytest.mark.engine
def test_missing_image(engine, tmp_path):
    with pytest.raises(ToolkitError, match="is not in the local image store"):
        extract.main(
            ["--image", "cilium-envoy-extract-test:absent", "--output", str(tmp_path / "o")],
            root=tmp_path,
        )


def test_bad_arguments(tmp_path):
    with pytest.raises(ToolkitError, match="--platform `linux/s390x` is not one we build"):
        extract.main(["--platform", "linux/s390x", "--image", "x:y"], root=tmp_path)
    with pytest.raises(ToolkitError, match="--image `Bad Ref`"):
        extract.main(["--image", "Bad Ref"], root=tmp_path)


def test_elf_machine_reader(tmp_path):
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 11 + (183).to_bytes(2, "little")
    (tmp_path / "a").write_bytes(header)
    assert elf.arch_of(tmp_path / "a") == "arm64"
    with pytest.raises(elf.NotElf):
        elf.e_machine(b"#!/bin/sh\n" + b"\0" * 20)


@pytest.mark.engine
def test_binary_of_another_architecture_is_caught(engine, tmp_path):
    """An image that claims this host's platform but holds a foreign binary (the old arm64 bug)."""
    other = 183 if host_arch() == "amd64" else 62
    foreign = b"\x7fELF\x02\x01\x01" + b"\0" * 11 + other.to_bytes(2, "little") + b"\0" * 100
    tag = _import_image(engine, {"/usr/bin/cilium-envoy": foreign})
    try:
        with pytest.raises(
            ToolkitError, match=f"is built for {elf.MACHINES[other]}, not {host_arch()}"
        ):
            extract.main(["--image", tag, "--output", str(tmp_path / "o")], root=tmp_path)
        assert not (tmp_path / "o").exists()
    finally:
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, check=False)


@pytest.mark.engine
def test_default_image_is_the_first_tag_build_gives(engine, checkout, tmp_path):
    from tools.image import build

    expected = build.default_image_ref(checkout.root, {})
    assert expected.startswith("quay.io/cilium/cilium-envoy:")
    assert expected.endswith(f"{checkout.head}-{host_arch()}")
    with pytest.raises(
        ToolkitError, match=f"The image `{expected}` is not in the local image store"
    ):
        extract.main(["--output", str(tmp_path / "o")], root=checkout.root, environ={})
