"""Envoy's API as a FileDescriptorSet, read from PyPI's ``xds-protos`` wheel.

Our protos (cilium-filters/api) import Envoy's API, protoc-gen-validate's rules,
udpa/xds annotations and googleapis.  ``xds-protos`` publishes all of them as
generated Python modules, and each ``*_pb2.py`` module carries its ``.proto``
file's serialized ``FileDescriptorProto`` as a bytes literal.  This module reads
those literals straight out of the wheel (it never imports them, so no protobuf
runtime is needed), keeps the import closure of the files asked for and writes it
as one ``FileDescriptorSet``; ``protoc --descriptor_set_in`` then compiles our
protos against the real messages and generates C++ or Go for Envoy's files.

The wheel is pinned by version and sha256 below and downloaded once, with pip,
into the toolkit cache.  No xds-protos release carries Envoy 1.38's API yet: 1.80.0
to 1.85.0 all carry the API just before it.  Compared message by message (fields,
numbers, types, options and validate rules) with the descriptors compiled into Envoy
1.38.3 itself, the closure of our protos differs only by what 1.38 added to messages
none of ours reach (README.md, "The Go API Cilium vendors", lists them).

Standard library only (Python 3.8+): the C++ build steps run it too.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from tools.errors import ToolkitError
from tools.files import cache_dir, sha256_of, write_atomic
from tools.run import query

XDS_PROTOS_VERSION = "1.85.0"
XDS_PROTOS_SHA256 = "e1e7bfd9936389936b2c85660d9db0dae380f12678a594b983da40dd472f1760"
WHEEL_NAME = f"xds_protos-{XDS_PROTOS_VERSION}-py3-none-any.whl"

#: Files protoc ships with its own include folder (and the C++ runtime compiles in):
#: never taken from the wheel, never generated.
PROTOBUF_PREFIX = "google/protobuf/"

_IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.MULTILINE)


def wheel_path(environ: Optional[Mapping[str, str]] = None) -> Path:
    """Where the pinned wheel is kept once downloaded."""
    return cache_dir(environ) / "xds-protos" / WHEEL_NAME


def download_argv(dest: Path) -> List[str]:
    """The pip command that fetches the pinned wheel into ``dest`` (never installs it)."""
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version=3.12",
        f"xds-protos=={XDS_PROTOS_VERSION}",
        "--dest",
        str(dest),
    ]


def ensure_wheel(environ: Optional[Mapping[str, str]] = None, log=None) -> Path:
    """The pinned wheel, downloaded and checked on first use."""
    target = wheel_path(environ)
    if target.is_file() and sha256_of(target) == XDS_PROTOS_SHA256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        argv = download_argv(Path(tmp))
        if log:
            log(f"downloading xds-protos {XDS_PROTOS_VERSION} (Envoy's API descriptors) once")
        proc = query(
            argv, timeout=None, missing=f"Could not run pip to fetch xds-protos: no {argv[0]}."
        )
        got = Path(tmp) / WHEEL_NAME
        if proc.returncode != 0 or not got.is_file():
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise ToolkitError(
                f"Could not download xds-protos {XDS_PROTOS_VERSION} with pip "
                f"({detail[-1] if detail else 'no output'}); check the network, or put the "
                f"wheel at {target}."
            )
        digest = sha256_of(got)
        if digest != XDS_PROTOS_SHA256:
            raise ToolkitError(
                f"The downloaded {WHEEL_NAME} has sha256 {digest}, not the pinned "
                f"{XDS_PROTOS_SHA256}; refusing to use it."
            )
        os.replace(got, target)
    return target


# --- reading the wheel ------------------------------------------------------------------


def _varint(data: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, pos


def _fields(data: bytes) -> Iterator[Tuple[int, Union[int, bytes]]]:
    """(field number, value) of a protobuf message: ints, or bytes for length-delimited."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: Union[int, bytes]
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, value


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Descriptor:
    """One serialized FileDescriptorProto: its name and its imports."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.name = ""
        self.imports: List[str] = []
        for number, value in _fields(data):
            if number == 1 and isinstance(value, bytes):
                self.name = value.decode()
            elif number == 3 and isinstance(value, bytes):
                self.imports.append(value.decode())


def _serialized_file(source: str) -> Optional[bytes]:
    """The bytes literal a generated module hands to ``AddSerializedFile``."""
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return node.args[0].value
    return None


class Wheel(Mapping[str, Descriptor]):
    """The .proto files an xds-protos wheel describes, by import name, read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: Dict[str, Optional[Descriptor]] = {}
        try:
            self._zip = zipfile.ZipFile(path)
            self._members = set(self._zip.namelist())
        except (OSError, zipfile.BadZipFile) as exc:
            raise ToolkitError(
                f"Could not read {path}: {exc}; delete it to download it again."
            ) from None

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> Wheel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @staticmethod
    def module_of(proto: str) -> str:
        return proto[: -len(".proto")] + "_pb2.py" if proto.endswith(".proto") else proto

    def _load(self, proto: str) -> Optional[Descriptor]:
        member = self.module_of(proto)
        if member not in self._members:
            return None
        try:
            data = _serialized_file(self._zip.read(member).decode("utf-8"))
        except (OSError, SyntaxError, ValueError, zipfile.BadZipFile) as exc:
            raise ToolkitError(f"Could not read {member} in {self.path}: {exc}.") from None
        if data is None:
            return None
        desc = Descriptor(data)
        return desc if desc.name == proto else None

    def __getitem__(self, proto: str) -> Descriptor:
        if proto not in self._cache:
            self._cache[proto] = self._load(proto)
        desc = self._cache[proto]
        if desc is None:
            raise KeyError(proto)
        return desc

    def __iter__(self) -> Iterator[str]:
        for member in sorted(self._members):
            if member.endswith("_pb2.py"):
                yield member[: -len("_pb2.py")] + ".proto"

    def __len__(self) -> int:
        return sum(1 for _ in self)


def proto_imports(path: Path) -> List[str]:
    """The files a .proto source imports."""
    return _IMPORT.findall(path.read_text(encoding="utf-8"))


def closure(roots: Iterable[str], available: Mapping[str, Descriptor]) -> List[str]:
    """The files ``roots`` need, dependencies before dependents, protobuf's own left out."""
    order: List[str] = []
    seen = set()
    missing: List[str] = []

    def visit(name: str, chain: Tuple[str, ...]) -> None:
        if name in seen or name.startswith(PROTOBUF_PREFIX):
            return
        seen.add(name)
        desc = available.get(name)
        if desc is None:
            missing.append(f"{name} (imported by {chain[-1]})" if chain else name)
            return
        for dep in desc.imports:
            visit(dep, chain + (name,))
        order.append(name)

    for root in roots:
        visit(root, ())
    if missing:
        raise ToolkitError(
            f"xds-protos {XDS_PROTOS_VERSION} lacks {', '.join(missing)}; "
            "import only what Envoy's API publishes."
        )
    return order


def descriptor_set(files: Sequence[str], available: Mapping[str, Descriptor]) -> bytes:
    """A serialized FileDescriptorSet (field 1, repeated FileDescriptorProto)."""
    out = bytearray()
    for name in files:
        data = available[name].data
        out += b"\x0a" + _encode_varint(len(data)) + data
    return bytes(out)


def build(protos: Sequence[Path], out: Path, listing: Optional[Path] = None, log=None) -> List[str]:
    """Write the set for what ``protos`` import; return (and list) the files it holds."""
    roots: List[str] = []
    for proto in protos:
        roots.extend(proto_imports(proto))
    with Wheel(ensure_wheel(log=log)) as available:
        files = closure(sorted(set(roots)), available)
        write_atomic(out, descriptor_set(files, available))
    if listing is not None:
        write_atomic(listing, "".join(f"{name}\n" for name in files))
    return files


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.api.descriptors",
        description="Write the FileDescriptorSet of Envoy's API that the given protos import.",
    )
    parser.add_argument("protos", nargs="+", type=Path, help="our .proto files")
    parser.add_argument("--out", required=True, type=Path, help="the FileDescriptorSet to write")
    parser.add_argument("--list", type=Path, help="also write the files it holds, one per line")
    ns = parser.parse_args(argv)
    try:
        files = build(ns.protos, ns.out, ns.list, log=lambda m: print(m, file=sys.stderr))
    except ToolkitError as exc:
        print(f"descriptors: {exc}", file=sys.stderr)
        return exc.status
    print(f"descriptors: {len(files)} files of xds-protos {XDS_PROTOS_VERSION} in {ns.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
