"""The .dockerignore generator: git's semantics in Docker's pattern language."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tools import dockerignore
from tools.dockerignore import translate


@pytest.mark.parametrize(
    "line,directory,expected",
    [
        ("*.log", "", "**/*.log"),
        ("*.log", "sub/dir", "sub/dir/**/*.log"),
        ("/out/", "", "out"),
        ("/build", "sub", "sub/build"),
        ("a/b", "", "a/b"),
        ("a/b/", "x", "x/a/b"),
        ("cache/", "", "**/cache"),
        ("**/tmp", "x", "x/**/tmp"),
        ("logs/**", "", "logs/**"),
        ("!keep.log", "", "!**/keep.log"),
        ("!/sub/keep", "d", "!d/sub/keep"),
        ("\\#hash", "", "**/#hash"),
        ("\\!bang", "", "**/!bang"),
        ("trailing   ", "", "**/trailing"),
        ("space\\ ", "", "**/space "),
        ("# comment", "", None),
        ("", "", None),
        ("   ", "", None),
        ("/", "", None),
    ],
)
def test_translate(line, directory, expected):
    assert translate(line, directory) == expected


def _tree(root: Path) -> None:
    files = {
        ".gitignore": "# top\n*.log\n!keep.log\n/out/\nbuild/\n/SOURCE_VERSION\n",
        "SOURCE_VERSION": "0123abcd\n",
        "cilium-filters/.gitignore": "gen-*\n/local.cc\n",
        "cilium-filters/policy.cc": "x",
        "cilium-filters/gen-1.cc": "x",
        "cilium-filters/local.cc": "x",
        "cilium-filters/deep/local.cc": "x",
        "cilium-filters/deep/gen-2.cc": "x",
        "envoy/a.log": "x",
        "envoy/keep.log": "x",
        "envoy/build/obj": "x",
        "envoy/bazelrc": "x",
        "out/cilium-envoy": "x",
        "tests/t.py": "x",
        "go/go.mod": "x",
        "README.md": "x",
        "docs/guide.txt": "x",
        "noxfile.py": "x",
        "tools/bazel.py": "x",
        "tools/tests/test_x.py": "x",
        ".bazelversion": "6.5.0\n",
        "Dockerfile": "FROM scratch\nCOPY . /ctx\n",
        "Dockerfile.tests": "FROM scratch\nCOPY . /ctx\n",
        "Dockerfile.builder": "FROM scratch\nCOPY . /ctx\n",
    }
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def test_render_whole_release_file(tmp_path):
    _tree(tmp_path)
    rendered = dockerignore.render(tmp_path)
    assert sorted(rendered) == [
        "Dockerfile.builder.dockerignore",
        "Dockerfile.dockerignore",
        "Dockerfile.tests.dockerignore",
    ]
    lines = rendered["Dockerfile.dockerignore"].splitlines()
    assert lines[0].startswith("# Generated")
    assert lines[1:9] == [
        "**/*.log",
        "!**/keep.log",
        "out",
        "**/build",
        "SOURCE_VERSION",
        "cilium-filters/**/gen-*",
        "cilium-filters/local.cc",
        ".git",
    ]
    assert lines[-5:] == ["go", "tests", "**/tests", "**/test", "!SOURCE_VERSION"]
    tests_lines = rendered["Dockerfile.tests.dockerignore"].splitlines()
    assert tests_lines[-2:] == ["go", "!SOURCE_VERSION"] and "tests" not in tests_lines
    assert rendered["Dockerfile.builder.dockerignore"].splitlines()[-2:] == ["*", "!.bazelversion"]


def test_write_is_atomic_and_leaves_unchanged_files_alone(tmp_path):
    _tree(tmp_path)
    assert dockerignore.write(tmp_path) == [
        "Dockerfile.builder.dockerignore",
        "Dockerfile.dockerignore",
        "Dockerfile.tests.dockerignore",
    ]
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.dockerignore")}
    assert dockerignore.write(tmp_path) == []
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.dockerignore")} == stamps
    assert not list(tmp_path.glob(".*.tmp"))
    assert dockerignore.main(["--check", str(tmp_path)]) == 0
    (tmp_path / "envoy" / ".gitignore").write_text("*.tmp\n")
    assert dockerignore.main(["--check", str(tmp_path)]) == 1
    assert dockerignore.stale(tmp_path) == [
        "Dockerfile.dockerignore",
        "Dockerfile.tests.dockerignore",
    ]


def _context_files(engine: str, root: Path, dockerfile: str, dest: Path) -> set[str]:
    proc = subprocess.run(
        [engine, "build", "-f", dockerfile, "--output", f"type=local,dest={dest}", "."],
        cwd=root, env=dict(os.environ, DOCKER_BUILDKIT="1"), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return {
        p.relative_to(dest / "ctx").as_posix() for p in (dest / "ctx").rglob("*") if p.is_file()
    }


@pytest.mark.engine
def test_docker_sends_what_git_keeps(engine, tmp_path):
    """Docker's own reading of the generated files agrees with git's reading of .gitignore."""
    root = tmp_path / "repo"
    _tree(root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    kept_by_git = set(
        subprocess.run(
            ["git", "-C", str(root), "ls-files", "--others", "--exclude-standard"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()  # fmt: skip
    )
    dockerignore.write(root)
    fixed_out = {"README.md", "noxfile.py", "docs/guide.txt", "tools/tests/test_x.py"}
    docker_files = {
        f for f in kept_by_git if not f.startswith("Dockerfile") and not f.endswith(".gitignore")
    }
    release = _context_files(engine, root, "Dockerfile", tmp_path / "release")
    # SOURCE_VERSION is git-ignored but generated for the build: it is always sent.
    assert release == docker_files - fixed_out - {"tests/t.py", "go/go.mod"} | {"SOURCE_VERSION"}
    tests = _context_files(engine, root, "Dockerfile.tests", tmp_path / "tests")
    assert tests == docker_files - fixed_out - {"go/go.mod"} | {"SOURCE_VERSION"}
    builder = _context_files(engine, root, "Dockerfile.builder", tmp_path / "builder")
    assert builder == {".bazelversion"}
