"""Every directory's .gitignore -> one <Dockerfile>.dockerignore per build context.

Pure Python (standard library, 3.8+), so laptops, CI and containers generate the
same files, and a build sends the same context everywhere.  Files are written
atomically and only when their content changes (their mtimes feed caches).

    python -m tools.dockerignore [--check] [ROOT]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from tools.files import write_atomic

HEADER = "# Generated from the .gitignore files by the nox image sessions; do not edit.\n"

#: Left out of every context: version control, tool state, docs, the Dockerfiles and
#: ignore files themselves, and the toolkit's own developer files.
EVERY_CONTEXT = (
    ".git",
    ".nox",
    "**/.gitignore",
    ".dockerignore",
    "*.dockerignore",
    "Dockerfile",
    "Dockerfile.*",
    "docs",
    "**/*.md",
    "noxfile.py",
    "pyproject.toml",
    "nox-settings.toml",
    "bench",
    ".ci",
    "tools/tests",
    "**/__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    "out",
)
#: Only the tests or the Go API need these: the release build never sees them.
RELEASE_ONLY_LEAVES_OUT = ("go", "tests", "**/tests", "**/test")
#: The tests build needs its tests, but not the generated Go API.
TESTS_ONLY_LEAVES_OUT = ("go",)

#: Generated before each build for the build to read, though git ignores it.
ALWAYS_SENT = ("!SOURCE_VERSION",)

CONTEXTS = {
    "Dockerfile.dockerignore": RELEASE_ONLY_LEAVES_OUT,
    "Dockerfile.tests.dockerignore": TESTS_ONLY_LEAVES_OUT,
}
BUILDER_CONTEXT = "Dockerfile.builder.dockerignore"
BUILDER_RULES = ("*", "!.bazelversion")
SKIP_DIRS = {".git", ".nox"}


def _strip_trailing_spaces(line: str) -> str:
    # Git drops trailing spaces unless the last one is escaped with a backslash.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped[:-1] + " "
    return stripped


def translate(line: str, directory: str) -> str | None:
    """One .gitignore line of ``directory`` (relative, "" for the root) as a .dockerignore line.

    Git matches a pattern without a slash (a trailing one aside) at any depth below its
    directory; Docker anchors every pattern at the context root, so such a pattern gets
    ``**/`` in front.  A trailing ``/`` (directories only) has no Docker equivalent and is
    dropped: the pattern then also matches files of that name.
    """
    line = _strip_trailing_spaces(line.rstrip("\r\n"))
    if not line or line.startswith("#"):
        return None
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    line = line.rstrip("/") if line.rstrip("/") else line
    if not line or line == "/":
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    if not anchored and not line.startswith("**/"):
        line = "**/" + line
    pattern = f"{directory}/{line}" if directory else line
    return ("!" if negate else "") + pattern


def _gitignores(root: Path) -> List[Tuple[str, Path]]:
    found = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        if ".gitignore" in files:
            rel = Path(current).relative_to(root).as_posix()
            found.append(("" if rel == "." else rel, Path(current) / ".gitignore"))
    return found


def from_gitignores(root: Path) -> List[str]:
    patterns = []
    for directory, path in _gitignores(Path(root)):
        for line in path.read_text(errors="replace").splitlines():
            pattern = translate(line, directory)
            if pattern is not None:
                patterns.append(pattern)
    return patterns


def render(root: Path) -> Dict[str, str]:
    """File name -> content, for the three contexts."""
    base = from_gitignores(root)
    rendered = {}
    for name, extra in CONTEXTS.items():
        # The fixed rules come last so no `!` in a .gitignore can bring them back.
        lines = [*base, *EVERY_CONTEXT, *extra, *ALWAYS_SENT]
        rendered[name] = HEADER + "\n".join(lines) + "\n"
    rendered[BUILDER_CONTEXT] = (
        HEADER
        + "# The builder context holds only .bazelversion.\n"
        + "\n".join(BUILDER_RULES)
        + "\n"
    )
    return rendered


def plan_files(root: Path) -> tuple:
    from tools.run import FileWrite

    return tuple(FileWrite(name, content) for name, content in sorted(render(root).items()))


def write(root: Path) -> List[str]:
    return [
        name
        for name, content in sorted(render(root).items())
        if write_atomic(Path(root) / name, content)
    ]


def stale(root: Path) -> List[str]:
    stale_names = []
    for name, content in sorted(render(root).items()):
        try:
            if (Path(root) / name).read_text() != content:
                stale_names.append(name)
        except FileNotFoundError:
            stale_names.append(name)
    return stale_names


def main(argv: List[str]) -> int:
    check = "--check" in argv
    rest = [a for a in argv if a != "--check"]
    root = Path(rest[0]) if rest else Path(__file__).resolve().parent.parent
    if check:
        names = stale(root)
        if names:
            print(f"stale: {', '.join(names)}; run `python -m tools.dockerignore` to regenerate.")
            return 1
        return 0
    for name in write(root):
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
