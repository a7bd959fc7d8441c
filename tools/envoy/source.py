"""Envoy's own sources at the commit envoy/envoy.bzl pins, for the tests that check our build.

Some facts can only be checked against Envoy itself: that our patches apply, that the
pinned commit is the release it claims to be, which extensions the release has.  Those
tests read a git repository holding the pinned commit, named by ENVOY_SOURCE: any clone of
Envoy, bare or not, or one fetched shallowly at that commit alone (about 30 MB):

    git init -q --bare ~/src/envoy.git
    git -C ~/src/envoy.git fetch --depth=1 https://github.com/envoyproxy/envoy.git <ENVOY_COMMIT>
    ENVOY_SOURCE=~/src/envoy.git python -m pytest tools/tests/test_envoy_build.py

Without ENVOY_SOURCE they skip, in CI too: CI's machines reach package registries only,
and none serves Envoy's source (the Go module proxy does not serve github.com/envoyproxy/envoy).
Run them before changing envoy/ (the pin, patches or extensions).

Envoy's extension list is also written down in tools/tests/fixtures/envoy/ (so the
extension tests run everywhere); after moving to another Envoy release, rewrite it with

    ENVOY_SOURCE=~/src/envoy.git python -m tools.envoy.source

and a test fails while the file and the source disagree.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tools" / "tests" / "fixtures" / "envoy"

#: Where Envoy keeps its extension lists and their metadata, by kind.
BUILD_CONFIGS = {
    "extensions": "source/extensions/extensions_build_config.bzl",
    "contrib": "contrib/contrib_build_config.bzl",
}
METADATA = ("source/extensions/extensions_metadata.yaml", "contrib/extensions_metadata.yaml")


def pinned() -> tuple[str, str]:
    """(release, commit) as envoy/envoy.bzl pins them."""
    text = (REPO / "envoy" / "envoy.bzl").read_text()
    values = {}
    for name in ("ENVOY_VERSION", "ENVOY_COMMIT"):
        match = re.search(rf'^{name} = "([^"]*)"', text, re.M)
        if not match:
            raise ValueError(f"{name} is not set in envoy/envoy.bzl")
        values[name] = match.group(1)
    return values["ENVOY_VERSION"], values["ENVOY_COMMIT"]


def _git(source: Path, *args: str, binary: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(source), *args], capture_output=True, text=not binary, check=False
    )


def source_problem(
    environ: Mapping[str, str] | None = None, commit: str | None = None
) -> str | None:
    """Why no Envoy source at ``commit`` (default: the pinned one) is at hand, or None when
    ENVOY_SOURCE has it."""
    environ = os.environ if environ is None else environ
    source = environ.get("ENVOY_SOURCE")
    commit = commit or pinned()[1]
    if not source:
        return (
            f"ENVOY_SOURCE naming a git clone of Envoy that holds {commit} "
            "(see tools/envoy/source.py)"
        )
    if _git(Path(source), "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        return f"ENVOY_SOURCE={source} to hold Envoy commit {commit} (it does not)"
    return None


class EnvoySource:
    """Files of Envoy at one commit, read from a git repository."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.git_dir = git_dir
        self.commit = commit

    def read(self, path: str) -> str:
        proc = _git(self.git_dir, "show", f"{self.commit}:{path}")
        if proc.returncode != 0:
            raise FileNotFoundError(f"{path} at {self.commit}: {proc.stderr.strip()}")
        return proc.stdout

    def tags(self) -> list[str]:
        """Tags of this repository pointing at the commit (a shallow fetch has none)."""
        proc = _git(self.git_dir, "tag", "--points-at", self.commit)
        return proc.stdout.split() if proc.returncode == 0 else []

    def extract(self, paths: list[str], dest: Path) -> None:
        """Write ``paths`` (files or folders) of the commit under ``dest``."""
        proc = _git(self.git_dir, "archive", "--format=tar", self.commit, "--", *paths, binary=True)
        if proc.returncode != 0:
            raise FileNotFoundError(proc.stderr.decode(errors="replace").strip())
        with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as archive:
            for member in archive.getmembers():
                if not (member.isfile() or member.isdir()):
                    continue  # Envoy's tree has symlinks our checks never read
                target = dest / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = archive.extractfile(member)
                assert handle is not None
                target.write_bytes(handle.read())


def open_source(environ: Mapping[str, str] | None = None) -> EnvoySource:
    environ = os.environ if environ is None else environ
    problem = source_problem(environ)
    if problem:
        raise LookupError(f"needs {problem}")
    return EnvoySource(Path(environ["ENVOY_SOURCE"]), pinned()[1])


# --- Envoy's extension list ----------------------------------------------------------------


@dataclass(frozen=True)
class Extension:
    """One extension of the Envoy release: ``label`` is empty for the ones always built in."""

    name: str
    kind: str  # extensions | contrib | core
    label: str
    categories: tuple[str, ...]
    type_urls: tuple[str, ...]


_ENTRY = re.compile(r'^\s*#?\s*"(envoy\.[\w.]+)"\s*:\s*"(//[\w/.:-]+)"', re.M)


def parse_build_config(text: str) -> dict[str, str]:
    """Name -> label of an extensions_build_config.bzl, commented-out entries included
    (Envoy comments out the ones it does not build by default; they are extensions too)."""
    return dict(_ENTRY.findall(text))


def parse_metadata(text: str) -> dict[str, dict[str, list[str]]]:
    """Envoy's extensions_metadata.yaml, which is regular enough to read without a YAML
    library: extension name -> key -> values (lists, or one-element lists for scalars)."""
    found: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    key = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = re.fullmatch(r"(\S+):\s*", line)
        if top:
            current = found.setdefault(top.group(1), {})
            continue
        if current is None:
            raise ValueError(f"metadata line outside an extension: {line!r}")
        item = re.fullmatch(r"  - (.+)", line)
        if item:
            current.setdefault(key, []).append(item.group(1).strip())
            continue
        field = re.fullmatch(r"  (\w+):\s*(.*)", line)
        if not field:
            raise ValueError(f"unexpected metadata line: {line!r}")
        key = field.group(1)
        current[key] = [field.group(2)] if field.group(2) else []
    return found


def extensions_of(source: EnvoySource) -> list[Extension]:
    metadata: dict[str, dict[str, list[str]]] = {}
    for path in METADATA:
        metadata.update(parse_metadata(source.read(path)))
    labels = {kind: parse_build_config(source.read(path)) for kind, path in BUILD_CONFIGS.items()}
    rows = []
    for name in sorted(metadata):
        kind = next((k for k, entries in labels.items() if name in entries), "core")
        rows.append(
            Extension(
                name=name,
                kind=kind,
                label=labels.get(kind, {}).get(name, ""),
                categories=tuple(metadata[name].get("categories", [])),
                type_urls=tuple(metadata[name].get("type_urls", [])),
            )
        )
    missing = sorted({n for entries in labels.values() for n in entries} - set(metadata))
    if missing:
        raise ValueError(f"extensions without metadata: {', '.join(missing)}")
    return rows


def data_file(version: str | None = None) -> Path:
    return FIXTURES / f"extensions-v{version or pinned()[0]}.tsv"


HEADER = """\
# Envoy v{version}'s extensions: name, kind (extensions, contrib, or core: no label,
# built with Envoy's core or Envoy Mobile's), Bazel label, categories, type URLs of their
# configuration.  Derived from Envoy's extensions_build_config.bzl, contrib_build_config.bzl
# and extensions_metadata.yaml at {commit}
# by `python -m tools.envoy.source`; do not edit.
"""


def render(rows: list[Extension], version: str, commit: str) -> str:
    lines = [HEADER.format(version=version, commit=commit)]
    for row in rows:
        fields = (row.name, row.kind, row.label, ",".join(row.categories), ",".join(row.type_urls))
        lines.append("\t".join(fields) + "\n")
    return "".join(lines)


def load(path: Path | None = None) -> dict[str, Extension]:
    """The written-down extension list, by name."""
    rows = {}
    for line in (path or data_file()).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, kind, label, categories, type_urls = line.split("\t")
        rows[name] = Extension(
            name, kind, label, tuple(filter(None, categories.split(","))),
            tuple(filter(None, type_urls.split(","))),
        )  # fmt: skip
    return rows


def write_if_changed(path: Path, text: str) -> bool:
    """Atomically replace ``path`` with ``text``; leave it alone when it already says that."""
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return True


def main() -> int:
    try:
        source = open_source()
    except LookupError as exc:
        print(f"envoy_source: {exc}", file=sys.stderr)
        return 1
    version, commit = pinned()
    text = render(extensions_of(source), version, commit)
    path = data_file(version)
    changed = write_if_changed(path, text)
    print(f"{path.relative_to(REPO)}: {'rewritten' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
