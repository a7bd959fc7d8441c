"""The Go module Cilium requires, taken the way Cilium takes it.

Real: Go, the Go module proxy (or the module cache it filled), golang.org/x/mod/zip
and this checkout.  The one stand-in is labelled: tests/go-consumer plays Cilium's
agent; it requires github.com/cilium/proxy at the version Cilium v1.15.19 does and
uses every identifier cilium/cilium v1.15.19 to v1.20.2 takes from the module (the
generated API and the Kafka policy package), the way the agent uses them.

A missing Go skips these tests on a laptop but fails them in CI (CI=true).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.api import generate as api
from tools.tests.test_api import need_go
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
CONSUMER = REPO / "tests" / "go-consumer"
MODZIP = REPO / "tests" / "go-modzip"
#: The module's packages, as Cilium imports them.
PACKAGES = ("github.com/cilium/proxy/go/cilium/api", "github.com/cilium/proxy/pkg/policy/api/kafka")
PACKAGE_DIRS = ("go/cilium/api", "pkg/policy/api/kafka")


@pytest.fixture(scope="module")
def go() -> str:
    return need_go()


def run(argv: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stdout}{proc.stderr}"
    return proc


def readme_replace_line() -> str:
    """The one line the README tells Cilium developers to add to Cilium's go.mod."""
    section = (REPO / "README.md").read_text().split("## The Go API Cilium vendors", 1)[1]
    lines = re.findall(r"^ {4}(replace github\.com/cilium/proxy => \S+)$", section, re.M)
    assert len(lines) == 1, lines
    return lines[0]


def test_readme_replace_line_vendors_the_module_into_a_consumer(go: str, tmp_path: Path) -> None:
    """README's line in a copy of the consumer, then tidy, vendor, build, vet and run."""
    line = readme_replace_line()
    assert line == "replace github.com/cilium/proxy => /path/to/proxy"
    consumer = tmp_path / "consumer"
    shutil.copytree(CONSUMER, consumer)
    go_mod = consumer / "go.mod"
    go_mod.write_text(go_mod.read_text() + "\n" + line.replace("/path/to/proxy", str(REPO)) + "\n")
    # -trimpath: the vendored packages compile to the same cache entries whatever folder
    # the copy is in, so only a machine's first run compiles gRPC and go-control-plane.
    for argv in (["mod", "tidy"], ["mod", "vendor"], ["build", "-trimpath", "-o", "consumer", "."],
                 ["vet", "-trimpath", "./..."]):  # fmt: skip
        run([go, *argv], consumer)
    assert run([str(consumer / "consumer")], consumer).stdout == "consumer: ok\n"

    # The checkout was used, and exactly the two packages were taken from it ...
    modules = (consumer / "vendor" / "modules.txt").read_text()
    block = modules.split("# github.com/cilium/proxy ", 1)[1].split("\n# ", 1)[0]
    assert block.splitlines()[0].endswith(f"=> {REPO}")
    taken = [p for p in block.splitlines()[1:] if not p.startswith("#")]
    assert taken == list(PACKAGES)
    # ... with their Go sources and nothing else: no tests, test data, protos, README,
    # Python or C++ from the checkout.
    vendored = consumer / "vendor" / "github.com" / "cilium" / "proxy"
    files = sorted(p.relative_to(vendored).as_posix() for p in vendored.rglob("*") if p.is_file())
    expected = sorted(
        p.relative_to(REPO).as_posix()
        for folder in PACKAGE_DIRS
        for p in (REPO / folder).glob("*.go")
        if not p.name.endswith("_test.go")
    )
    assert files == expected
    # The consumer's requirements are the module's own: nothing test-only came along.
    assert "golang.org/x/mod" not in (consumer / "go.mod").read_text()


def test_the_module_is_the_checkout_with_exactly_cilium_s_packages(go: str) -> None:
    packages = run([go, "list", "./..."], REPO / api.GO_MODULE_ROOT).stdout.split()
    assert packages == sorted(PACKAGES)
    module = run([go, "list", "-m"], REPO / api.GO_MODULE_ROOT).stdout.strip()
    assert module == api.GO_MODULE


def test_the_module_zip_holds_no_test_program(go: str) -> None:
    """What golang.org/x/mod/zip would put in a zip of the module (the files git knows of)."""
    if not (REPO / ".git").exists():
        skip_or_fail("a git checkout")
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], REPO).stdout
    report = json.loads(run([go, "run", ".", str(REPO)], MODZIP, input=files).stdout)
    assert report["invalid"] == {}
    # Test-only Go programs are modules of their own, left out of the zip.
    nested = {p.rsplit("/", 1)[0] for p in files.splitlines() if p.endswith("/go.mod")}
    assert {"tests/go-consumer", "tests/go-modzip"} <= nested
    for path, why in report["omitted"].items():
        assert any(path.startswith(folder + "/") for folder in nested), (path, why)
        assert why == "file is in another module"
    # The only Go files in it are the packages' own (and their tests).
    go_files = {p for p in report["valid"] if p.endswith(".go")}
    assert go_files and all(p.rsplit("/", 1)[0] in PACKAGE_DIRS for p in go_files), go_files
    assert "go.mod" in report["valid"] and "go.sum" in report["valid"]
    # The rest is the repository's other files, as in upstream's module: a small zip.
    assert report["zip_bytes"] < 5 << 20, report["zip_bytes"]
