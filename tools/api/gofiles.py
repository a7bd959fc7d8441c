"""The generated files in go/: which are ours, how they differ from a run's, writing them.

A file whose header (before its package clause) says one of our generators wrote it is
ours: written atomically when its content changes, removed when nothing generates it
any more.  Every other file in go/ is hand-written and never touched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, TextIO

from tools.api.generate import (
    _GENERATED_LINE,
    _SOURCE_LINE,
    _VERSION_LINE,
    GENERATED_SUFFIXES,
    GO_DIR,
    IMPORT_DIR,
    PLUGINS,
)
from tools.errors import ToolkitError
from tools.files import write_atomic


def generator_of(text: str) -> tuple[Optional[str], Optional[str]]:
    """(generator, source proto) named in a Go file's header, before its package clause."""
    generator = source = None
    for line in text.splitlines():
        if line.startswith("package "):
            break
        m = _GENERATED_LINE.match(line)
        if m:
            generator = m.group(1)
        m = _SOURCE_LINE.match(line)
        if m:
            source = m.group(1)
    return generator, source


def is_ours(path: Path) -> bool:
    """A file our generators wrote: never a hand-written one.

    It needs a generated-file name, one of our generators' "Code generated ...
    DO NOT EDIT." lines before the package clause and, when it names its
    source, a proto of ours.
    """
    if not path.name.endswith(GENERATED_SUFFIXES):
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(65536)
    except OSError:
        return False
    generator, source = generator_of(head)
    return generator is not None and (source is None or source.startswith(IMPORT_DIR + "/"))


def existing_generated(root: Path) -> set[str]:
    """Our generated files now in go/, relative to go/."""
    base = root / GO_DIR
    found = set()
    for folder, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if d not in ("vendor", "testdata") and not d.startswith(".")]
        for name in files:
            path = Path(folder) / name
            if is_ours(path):
                found.add(path.relative_to(base).as_posix())
    return found


def collect(tmp: Path) -> dict[str, bytes]:
    """Generated files, relative to go/, from every plugin's output folder."""
    files: dict[str, bytes] = {}
    for use in PLUGINS:
        folder = tmp / use.out
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                rel = path.relative_to(folder).as_posix()
                if rel in files:
                    raise ToolkitError(f"Two plugins both wrote {rel}; rename a proto.")
                files[rel] = path.read_bytes()
    return files


@dataclass
class Changes:
    write: list[str]  # relative to go/
    remove: list[str]
    unchanged: list[str]
    only_versions: bool  # every difference is in a generator-version header line


def compare(root: Path, generated: Mapping[str, bytes]) -> Changes:
    base = root / GO_DIR
    ours = existing_generated(root)
    write, unchanged, version_only = [], [], []
    for rel, content in sorted(generated.items()):
        target = base / rel
        if target.exists() and rel not in ours:
            raise ToolkitError(
                f"{GO_DIR}/{rel} is hand-written (no `Code generated ... DO NOT EDIT.` line) "
                "but generation would replace it; rename the hand-written file."
            )
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            current = None
        if current == content:
            unchanged.append(rel)
            continue
        write.append(rel)
        if current is not None and strip_versions(current) == strip_versions(content):
            version_only.append(rel)
    remove = sorted(ours - set(generated))
    only_versions = bool(write) and not remove and len(version_only) == len(write)
    return Changes(write, remove, unchanged, only_versions)


def strip_versions(data: bytes) -> str:
    """The text without the header lines naming protoc and plugin versions."""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(line for line in text.splitlines() if not _VERSION_LINE.match(line))


def apply(root: Path, generated: Mapping[str, bytes], changes: Changes, out: TextIO) -> None:
    base = root / GO_DIR
    for rel in changes.write:
        write_atomic(base / rel, generated[rel])
        print(f"wrote {GO_DIR}/{rel}", file=out)
    for rel in changes.remove:
        path = base / rel
        path.unlink()
        print(f"removed {GO_DIR}/{rel} (nothing generates it any more)", file=out)
        _prune_empty(path.parent, base)


def _prune_empty(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()  # only succeeds when empty
        except OSError:
            return
        folder = folder.parent
