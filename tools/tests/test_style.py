"""`nox -s format` and `nox -s lint` (tools/style.py): the plans, bad input, and a real run.

The plan tests build the facts by hand and assert the exact argv of every command.  The real
test makes a git repository with a badly formatted .cc, .go, BUILD and .py file and runs the
real formatters: ruff, clang-format and mypy from the lint session's venv (`nox -s lint` makes
it; the test is skipped without it on a laptop and fails in CI), gofmt from Go, buildifier from
the toolkit's cache (installed with `go install` when missing).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tools import style
from tools.errors import HelpShown, ToolkitError
from tools.tests.toolkit_fixtures import git, skip_or_fail

REPO = Path(__file__).resolve().parents[2]
PIN = style.clang_format_pin()
BUILDIFIER = "/cache/buildifier/V/buildifier"
TRACKED = (
    "BUILD", "README.md", "WORKSPACE", "app.py", "bench/b.cc", "cilium-filters/a.cc",
    "cilium-filters/a.h", "cilium-filters/x.proto", "envoy/envoy.bzl", "envoy/x.cc",
    "go/api/x.pb.go", "go/api/y.go", "pkg/k.go", "tests/BUILD", "tests/t.cc", "tools/t.pyi",
)  # fmt: skip
PROGRAMS = {"ruff": "/v/bin/ruff", "clang-format": "/v/bin/clang-format",
            "gofmt": "/go/bin/gofmt", "go": "/go/bin/go", "mypy": "/v/bin/mypy"}  # fmt: skip


def facts(**changes) -> style.Facts:
    base = style.Facts(
        tracked=TRACKED, generated=frozenset({"go/api/x.pb.go"}), programs=PROGRAMS,
        clang_format=(PIN, PIN), buildifier=BUILDIFIER, buildifier_installed=True,
    )  # fmt: skip
    return style.Facts(**{**base.__dict__, **changes})


def argvs(plan: style.StylePlan) -> list[tuple[str, ...]]:
    return [action.step.argv for action in plan.actions]


CXX = ("bench/b.cc", "cilium-filters/a.cc", "cilium-filters/a.h", "tests/t.cc")
BAZEL = ("BUILD", "WORKSPACE", "envoy/envoy.bzl", "tests/BUILD")


def test_each_formatter_gets_the_files_it_owns():
    """C++ only below cilium-filters/, tests/ and bench/; no generated file; nothing else."""
    plan = style.make_plan("format", facts(), "/repo")
    assert plan.files == {
        "ruff": ("app.py", "tools/t.pyi"),
        "clang-format": CXX,
        "gofmt": ("go/api/y.go", "pkg/k.go"),
        "buildifier": BAZEL,
    }
    assert plan.notes[0] == "files: Python 2, C++ 4, Go 2, Bazel 4"
    assert plan.cannot_run is None and plan.install is None


def test_lint_checks_every_language_then_runs_mypy():
    plan = style.make_plan("lint", facts(), "/repo")
    assert argvs(plan) == [
        ("/v/bin/ruff", "check", "--force-exclude", "--output-format=concise", "app.py",
         "tools/t.pyi"),
        ("/v/bin/ruff", "format", "--check", "--force-exclude", "--output-format=concise", "app.py",
         "tools/t.pyi"),
        ("/v/bin/clang-format", "--style=file:.clang-format", "--dry-run", "--Werror",
         "--ferror-limit=1", *CXX),
        ("/go/bin/gofmt", "-l", "go/api/y.go", "pkg/k.go"),
        (BUILDIFIER, "-mode=check", "-lint=off", *BAZEL),
        ("/v/bin/mypy",),
    ]  # fmt: skip
    assert [a.tool for a in plan.actions] == [
        "ruff check", "ruff format", "clang-format", "gofmt", "buildifier", "mypy"
    ]  # fmt: skip


def test_format_rewrites_every_language():
    plan = style.make_plan("format", facts(), "/repo")
    assert argvs(plan) == [
        ("/v/bin/ruff", "check", "--force-exclude", "--select=I", "--fix", "--quiet", "app.py",
         "tools/t.pyi"),
        ("/v/bin/ruff", "format", "--force-exclude", "app.py", "tools/t.pyi"),
        ("/v/bin/clang-format", "--style=file:.clang-format", "-i", *CXX),
        ("/go/bin/gofmt", "-w", "go/api/y.go", "pkg/k.go"),
        (BUILDIFIER, "-mode=fix", "-lint=off", *BAZEL),
    ]  # fmt: skip
    assert all(a.check is None for a in plan.actions)


def test_named_files_and_folders_narrow_the_run():
    named = ("cilium-filters", "go/api/x.pb.go", "README.md", "new.cc", "app.py")
    plan = style.make_plan("format", facts(named=named), "/repo")
    assert plan.files == {"ruff": ("app.py",), "clang-format": ("cilium-filters/a.cc",
                                                                "cilium-filters/a.h")}  # fmt: skip
    assert plan.notes[1:] == (
        "left alone (git does not track it; `git add` it first): new.cc",
        "left alone (generated; its generator writes it): go/api/x.pb.go",
    )
    # The root itself is every file.
    assert (
        style.make_plan("lint", facts(named=("",)), "/r").files
        == style.make_plan("lint", facts(), "/r").files
    )


def test_no_file_of_ours_runs_no_formatter():
    plan = style.make_plan("format", facts(named=("README.md",)), "/repo")
    assert plan.actions == () and plan.install is None
    assert plan.notes[0] == "files: none of the named files is ours to format"


def test_buildifier_is_installed_into_the_cache_when_missing():
    plan = style.make_plan("lint", facts(buildifier_installed=False), "/repo")
    assert plan.install is not None
    assert plan.install.argv == ("/go/bin/go", "install", f"{style.BUILDIFIER_MODULE}@"
                                 f"{style.BUILDIFIER_VERSION}")  # fmt: skip
    assert plan.install.env == (("GOBIN", "/cache/buildifier/V"),)
    assert plan.as_plan().steps[0] == plan.install
    # Without a Bazel file to format it is not needed.
    narrow = style.make_plan("lint", facts(buildifier_installed=False, named=("app.py",)), "/r")
    assert narrow.install is None and narrow.cannot_run is None


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"clang_format": (PIN, "14.0.6")}, f"clang-format {PIN} (pyproject.toml's `format` group; "
                                            "found 14.0.6 at /v/bin/clang-format)"),
        ({"programs": {**PROGRAMS, "clang-format": None}, "clang_format": (PIN, None)},
         f"clang-format {PIN} (pyproject.toml's `format` group; none found)"),
        ({"programs": {**PROGRAMS, "gofmt": None}}, "gofmt (Go, https://go.dev/dl/)"),
        ({"programs": {**PROGRAMS, "go": None}, "buildifier_installed": False},
         "Go, to `go install` buildifier"),
        ({"programs": {**PROGRAMS, "mypy": None}}, "mypy (`nox -s lint` installs it"),
    ],
)  # fmt: skip
def test_what_is_missing_is_said_in_one_sentence(changes, says):
    plan = style.make_plan("lint", facts(**changes), "/repo")
    assert plan.cannot_run is not None and says in plan.cannot_run
    assert plan.cannot_run.startswith("Install ") and plan.cannot_run.count(".") >= 1


@pytest.mark.parametrize(
    ("head", "generated"),
    [
        (b"// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: a.proto\n", True),
        (b"// About it.\n\n// Code generated by protoc-gen-go-grpc. DO NOT EDIT.\npackage x\n", True),
        (b"// Generated by the protocol buffer compiler.  DO NOT EDIT!\n", True),
        (b"# Generated by the protocol buffer compiler.  DO NOT EDIT!\n", True),
        (b"/*\n * @generated by a tool\n */\n", True),
        (b'// Hand-written: it has no\n// "Code generated ... DO NOT EDIT." line.\n', False),
        (b'x = "// Code generated by MockGen. DO NOT EDIT."\n', False),
        (b"package main\n", False),
    ],
)  # fmt: skip
def test_generated_files_are_known_by_their_header(head, generated):
    assert bool(style.GENERATED.search(head)) is generated


def test_the_pins_and_the_style_file():
    assert re.fullmatch(r"\d+\.\d+\.\d+", PIN)
    assert re.fullmatch(r"v0\.0\.0-\d{14}-[0-9a-f]{12}", style.BUILDIFIER_VERSION)
    config = next(yaml.safe_load_all((REPO / ".clang-format").read_text()))
    assert config["BasedOnStyle"] == "Google" and config["ColumnLimit"] == 100


# --- through main: facts from a real git checkout --------------------------------------------


def make_repo(root: Path, files: dict[str, str], untracked: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for name, text in {**files, **(untracked or {})}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    git(root, "add", "--", *files)
    return root


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path):
    root = make_repo(tmp_path / "r", {"a.py": "x=1\n", "BUILD": "x( )\n"})
    out = io.StringIO()
    env = {"PATH": "", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    style.main(["--dry-run"], "lint", root=root, environ=env, out=out)
    text = out.getvalue()
    assert text.startswith("# plan: lint: check the files we own")
    assert "# files: Python 1, Bazel 1" in text
    assert "# cannot run here: Install ruff (`nox -s format` and `nox -s lint` install" in text
    assert "mypy (`nox -s lint` installs it in its venv); Go, to `go install` buildifier" in text
    assert f"go install {style.BUILDIFIER_MODULE}@{style.BUILDIFIER_VERSION}" in text
    assert "ruff check --force-exclude --output-format=concise a.py" in text
    assert (root / "a.py").read_text() == "x=1\n" and not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["missing.cc"], "missing.cc does not exist; name files or folders of the checkout."),
        (["/"], "/ is outside the checkout"),
        (["--check"], "unknown option --check"),
    ],
)
def test_bad_input_is_one_sentence(tmp_path, argv, says):
    root = make_repo(tmp_path / "r", {"a.py": "x=1\n"})
    with pytest.raises(ToolkitError, match=re.escape(says)):
        style.main(argv, "format", root=root, environ={"PATH": ""})
    assert (root / "a.py").read_text() == "x=1\n"


@pytest.mark.parametrize("mode", ["format", "lint"])
def test_help_says_what_the_session_does(mode, capsys):
    with pytest.raises(HelpShown):
        style.main(["--help"], mode)
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nox -s {mode} -- [-h] [--dry-run] [FILE ...]")
    assert "".join(style.DESCRIPTIONS[mode].split()) in "".join(out.split())  # as wrapped


def test_outside_a_git_checkout_says_so(tmp_path):
    with pytest.raises(ToolkitError, match="is not a git checkout"):
        style.main([], "format", root=tmp_path, environ={"PATH": os.environ["PATH"]})


# --- for real ----------------------------------------------------------------------------------

BAD = {
    "pyproject.toml": '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nselect = ["E", "F", "I"]\n'
    '[tool.mypy]\nfiles = ["app.py"]\n',
    "app.py": "import sys\nimport os\nx=[1,2]\nprint(os.sep, sys.argv, x)\n",
    "cilium-filters/bad.cc": "namespace Cilium {\nint  add( int a,int b ){return a+b;}\n}\n",
    "cmd/main.go": "package main\nfunc main(){\n}\n",
    "BUILD": 'cc_library(name="x",srcs=["bad.cc"])\n',
    "go/x.pb.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\nvar  X=1\n",
    "envoy/elsewhere.cc": "int  f( ){return 0;}\n",  # not in the C++ folders
}


def lint_venv() -> Path:
    """The lint session's venv: ruff, mypy and the pinned clang-format."""
    bin_dir = REPO / ".nox" / "lint" / "bin"
    if all((bin_dir / name).exists() for name in ("ruff", "mypy", "clang-format")):
        answer = subprocess.run(
            [bin_dir / "clang-format", "--version"], capture_output=True, text=True, check=False
        )
        if f"version {PIN}" in answer.stdout:
            return bin_dir
    skip_or_fail(f"the lint session's venv with clang-format {PIN} (run `nox -s lint` once)")


def test_lint_names_each_file_format_fixes_them_then_lint_passes(tmp_path):
    bin_dir = lint_venv()
    if not shutil.which("gofmt") or not shutil.which("go"):
        skip_or_fail("Go (gofmt, and go to install buildifier)")
    untracked = {"cilium-filters/new.cc": "int  g( ){return 0;}\n"}
    root = make_repo(tmp_path / "r", BAD, untracked)
    shutil.copy(REPO / ".clang-format", root / ".clang-format")
    git(root, "add", ".clang-format")
    left_alone = ("go/x.pb.go", "envoy/elsewhere.cc", "cilium-filters/new.cc")
    before = {name: (root / name).read_text() for name in left_alone}

    def run(mode: str, *files: str) -> str:
        out = io.StringIO()
        style.main(list(files), mode, str(bin_dir), root=root, out=out)
        return out.getvalue()

    with pytest.raises(ToolkitError) as failed:
        run("lint")
    for named in ("app.py (ruff check)", "app.py (ruff format)", "cilium-filters/bad.cc "
                  "(clang-format)", "cmd/main.go (gofmt)", "BUILD (buildifier)"):  # fmt: skip
        assert named in failed.value.message
    assert style.FIX in failed.value.message and "by hand" in failed.value.message
    assert not any(name in failed.value.message for name in left_alone)

    run("format", "app.py", "cmd")  # only those
    assert (root / "cmd/main.go").read_text() == "package main\n\nfunc main() {\n}\n"
    with pytest.raises(ToolkitError) as failed:
        run("lint")
    assert "app.py" not in failed.value.message and "main.go" not in failed.value.message
    assert "cilium-filters/bad.cc (clang-format), BUILD (buildifier)" in failed.value.message

    assert "changed 2 of 4 files: cilium-filters/bad.cc, BUILD" in run("format")
    assert (root / "app.py").read_text() == (
        "import os\nimport sys\n\nx = [1, 2]\nprint(os.sep, sys.argv, x)\n"
    )
    assert (root / "cilium-filters/bad.cc").read_text() == (
        "namespace Cilium {\nint add(int a, int b) { return a + b; }\n}  // namespace Cilium\n"
    )
    assert (
        root / "BUILD"
    ).read_text() == 'cc_library(\n    name = "x",\n    srcs = ["bad.cc"],\n)\n'
    assert {name: (root / name).read_text() for name in left_alone} == before
    assert "==> type-check with mypy" in run("lint")  # and no failure


# --- pre-commit ----------------------------------------------------------------------------


def test_pre_commit_runs_nox_format_on_the_staged_files_style_owns():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]  # no hook repository is fetched
    hooks = config["repos"][0]["hooks"]
    assert [(h["id"], h["language"], h["entry"]) for h in hooks] == [
        ("format", "system", "nox -R -s format --")  # the files follow, as `-- FILE...`
    ]
    assert hooks[0]["require_serial"] is True and hooks[0].get("pass_filenames", True)
    assert 'name="format"' in (REPO / "noxfile.py").read_text()
    # pre-commit passes the staged files its pattern matches: exactly those style formats.
    pattern = re.compile(hooks[0]["files"])
    samples = ["x/BUILD", "BUILD.bazel", "MODULE.bazel", "a/WORKSPACE", "x.bzl", "tests/a/b.h",
               "envoy/x.cc", "x.cc", "cilium-filters/x.proto", "BUILDING.md", "x.pyc", "a.go.txt"]  # fmt: skip
    tracked = git(REPO, "ls-files").splitlines()
    for name in tracked + samples:
        assert bool(pattern.search(name)) == (style.formatter_of(name) is not None), name
    assert "pre-commit install" in (REPO / "README.md").read_text()
