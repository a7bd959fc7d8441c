"""`nox -s api`: generating go/ from cilium-filters/api/*.proto.

Real parts: protoc, protoc-gen-go and protoc-gen-go-grpc from Debian's packages
(the pinned versions), Go, the repository's own protos, pin file and
hand-written Go file, the file system.  Stand-ins, each labelled as such:

* tools/tests/fixtures/api/protos/: minimal copies of the Envoy API, validate
  and googleapis protos ours import (this machine has none of them);
* tools/tests/fixtures/api/protoc_gen_validate_standin.py: a protoc plugin that
  writes the files protoc-gen-validate would (which cannot be installed here);
* a recording stand-in for the bazel CLI, to check the exact argv we send and
  to answer its two queries (Bazel cannot run here).

Go builds use Debian's golang-google-protobuf-dev in GOPATH mode, because the
Go module proxy is out of reach here.

A missing tool skips a test on a laptop but fails it in CI (CI=true).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tools import api
from tools.errors import ToolkitError
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "api"
STANDIN_PROTOS = FIXTURES / "protos"
DEBIAN_GOPATH = "/usr/share/gocode"
#: The protos that import nothing at all: real protoc and plugins need no stand-in.
SELF_CONTAINED = ("accesslog", "l7policy", "network_filter", "tls_wrapper")
API = "go/cilium/api"


def need(*tools: str) -> None:
    """Skip on a laptop without these tools; in CI they must be installed."""
    missing = [t for t in tools if not (shutil.which(t) or os.path.exists(t))]
    if missing:
        skip_or_fail(f"{', '.join(missing)} installed (see the api notes in README)")


@pytest.fixture(autouse=True)
def _real_tools() -> None:
    need("protoc", "protoc-gen-go", "protoc-gen-go-grpc")


# --- a checkout in tmp_path -----------------------------------------------------


def make_tree(root: Path, protos=SELF_CONTAINED) -> Path:
    """The parts of a checkout `nox -s api` reads, with the repository's real files."""
    (root / api.PROTO_DIR).mkdir(parents=True)
    for name in protos:
        shutil.copy(REPO / api.PROTO_DIR / f"{name}.proto", root / api.PROTO_DIR)
    (root / "tools").mkdir()
    shutil.copy(REPO / api.PINS_FILE, root / api.PINS_FILE)
    (root / API).mkdir(parents=True)
    shutil.copy(REPO / "go/go.mod", root / "go/go.mod")
    shutil.copy(REPO / API / "accesslog.go", root / API / "accesslog.go")
    return root


def validate_standin(folder: Path) -> Path:
    """Put the labelled protoc-gen-validate stand-in into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "protoc-gen-validate"
    script.write_text(
        f"#!{sys.executable}\n" + (FIXTURES / "protoc_gen_validate_standin.py").read_text()
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def environment(tmp: Path, *path_dirs: Path, go: str = "none", without: tuple = ()) -> dict:
    """PATH = ``path_dirs`` + a folder linking the real protoc and Go plugins; empty GOBIN.

    go="none": Go is not on PATH (the build step is skipped); go="gopath":
    Debian's Go packages in GOPATH mode; go="offline": module mode with the module
    proxy turned off.  ``without``: real tools to leave out.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GO", "CGO"))}
    tools_bin = tmp / f"tools-bin-{go}-{'-'.join(without)}"
    tools_bin.mkdir(exist_ok=True)
    wanted = ["protoc", "protoc-gen-go", "protoc-gen-go-grpc"] + (["go"] if go != "none" else [])
    for tool in wanted:
        if tool not in without and not (tools_bin / tool).exists():
            (tools_bin / tool).symlink_to(shutil.which(tool))
    env["PATH"] = os.pathsep.join([*map(str, path_dirs), str(tools_bin)])
    env["GOBIN"] = str(tmp / "gobin")
    (tmp / "gobin").mkdir(exist_ok=True)
    env["GOCACHE"] = os.environ.get("GOCACHE", str(Path.home() / ".cache" / "go-build"))
    env["CGO_ENABLED"] = "0"
    if go == "gopath":
        env.update(GO111MODULE="off", GOPATH=DEBIAN_GOPATH)
    elif go == "offline":
        env.update(
            GO111MODULE="on",
            GOPROXY="off",
            GOFLAGS="-mod=readonly",
            GOPATH=str(tmp / "gopath"),
            GOMODCACHE=str(tmp / "gopath" / "pkg" / "mod"),
        )
    return env


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "repo")


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return environment(tmp_path, validate_standin(tmp_path / "bin").parent)


def generate(root: Path, env: dict, *args: str, protoc: str = "/usr/bin/protoc", **kw):
    out = io.StringIO()
    argv = [f"--protoc={protoc}", *args]
    result = api.main(argv, root=root, environ=env, out=out, **kw)
    return result, out.getvalue()


def failure(root: Path, env: dict, *args: str, protoc: str = "/usr/bin/protoc") -> ToolkitError:
    with pytest.raises(ToolkitError) as err:
        generate(root, env, *args, protoc=protoc)
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


def protoc_by_hand(root: Path, out: Path, *flags: str) -> dict:
    """The same protos compiled with a protoc command written out here, not by tools.api."""
    out.mkdir(parents=True)
    protos = sorted(str(p) for p in (root / api.PROTO_DIR).glob("*.proto"))
    subprocess.run(
        ["protoc", f"-Icilium/api={root / api.PROTO_DIR}", *flags, *protos],
        check=True,
        capture_output=True,
        text=True,
    )
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


# --- generation ---------------------------------------------------------------


def test_output_matches_protoc_run_by_hand(tree: Path, env: dict, tmp_path: Path) -> None:
    result, log = generate(tree, env)
    module = "module=github.com/cilium/proxy/go"
    expected = protoc_by_hand(tree, tmp_path / "hand", f"--go_out={module}:{tmp_path / 'hand'}")
    assert sorted(expected) == [f"cilium/api/{n}.pb.go" for n in SELF_CONTAINED]
    for rel, content in expected.items():
        assert (tree / "go" / rel).read_bytes() == content, rel
    assert sorted(result.written) == sorted(
        [f"cilium/api/{n}.pb.go" for n in SELF_CONTAINED]
        + [f"cilium/api/{n}.pb.validate.go" for n in SELF_CONTAINED]
    )
    # The protos keep the name Cilium knows them by, whatever folder holds them here.
    assert "// source: cilium/api/accesslog.proto" in (tree / API / "accesslog.pb.go").read_text()
    assert "protoc-gen-go v1.28.1" in (tree / API / "accesslog.pb.go").read_text()
    assert "wrote go/cilium/api/l7policy.pb.go" in log


def test_services_get_grpc_code_and_every_import_resolves(tmp_path: Path, env: dict) -> None:
    """All nine real protos, their Envoy/validate/googleapis imports from the stand-ins."""
    root = make_tree(
        tmp_path / "repo", protos=[p.stem for p in (REPO / api.PROTO_DIR).glob("*.proto")]
    )
    result, _ = generate(root, env, f"--proto-path={STANDIN_PROTOS}")
    names = set(result.written)
    assert {"cilium/api/npds_grpc.pb.go", "cilium/api/nphds_grpc.pb.go"} <= names
    assert "cilium/api/accesslog_grpc.pb.go" not in names  # no service, no gRPC file
    assert len([n for n in names if n.endswith(".pb.validate.go")]) == 9
    grpc = (root / API / "npds_grpc.pb.go").read_text()
    assert '"/cilium.NetworkPolicyDiscoveryService/StreamNetworkPolicies"' in grpc
    assert "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3" in grpc


def test_committed_go_tree_is_what_generation_gives(tmp_path: Path, env: dict) -> None:
    """go/ in the repository matches the protos (protoc-gen-go and -go-grpc output).

    The stand-in Envoy protos give the same Go code as Envoy's real ones (same names,
    kinds and go_package); generator version lines are not compared, so a go/
    regenerated with Bazel's protoc still passes.  Validate files come from the
    stand-in plugin here and are not compared.
    """
    protos = [p.stem for p in (REPO / api.PROTO_DIR).glob("*.proto")]
    root = make_tree(tmp_path / "repo", protos=protos)
    generate(root, env, f"--proto-path={STANDIN_PROTOS}")
    fresh = {p.name: p.read_bytes() for p in (root / API).glob("*.pb.go")}  # .pb.go and _grpc.pb.go
    committed = {p.name: p.read_bytes() for p in (REPO / API).glob("*.pb.go")}
    assert sorted(committed) == sorted(fresh)
    for name, content in fresh.items():
        assert api.strip_versions(committed[name]) == api.strip_versions(content), name


def test_hand_written_files_survive_and_stale_generated_files_go(tree: Path, env: dict) -> None:
    generate(tree, env)
    hand = {
        # plain helper next to the generated code
        "accesslog.go": None,
        # a generated-looking name, but no generator line: hand-written
        "extra.pb.go": "// Helpers kept by hand.\n\npackage cilium\n",
        # another generator's output is not ours either
        "mock.pb.go": "// Code generated by MockGen. DO NOT EDIT.\n// source: cilium/api/l7policy.proto\n\npackage cilium\n",
        # the line must come before the package clause to count
        "late.pb.go": "package cilium\n\n// Code generated by protoc-gen-go. DO NOT EDIT.\n",
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
    path.write_text(path.read_text().replace("protoc        v3.21.12", "protoc        v5.29.3"))
    err = failure(tree, env, "--check")
    assert "only the generator version lines differ" in err.message


# --- plugins ----------------------------------------------------------------------


def test_missing_plugin_names_the_pinned_install_command(tree: Path, tmp_path: Path) -> None:
    env = environment(tmp_path)  # no protoc-gen-validate anywhere
    before = snapshot(tree / "go")
    err = failure(tree, env)
    assert err.status == 127
    assert "protoc-gen-validate was not found on PATH or in " + env["GOBIN"] in err.message
    assert "`go install github.com/envoyproxy/protoc-gen-validate@v1.1.0`" in err.message
    assert "tools/api_plugins.toml" in err.message
    assert "protoc-gen-go " not in err.message  # the others are there
    assert snapshot(tree / "go") == before


def test_wrong_plugin_version_is_refused(tree: Path, tmp_path: Path) -> None:
    bin_dir = validate_standin(tmp_path / "bin").parent
    impostor = bin_dir / "protoc-gen-go"
    impostor.write_text("#!/bin/sh\necho 'protoc-gen-go v1.36.0'\n")
    impostor.chmod(0o755)
    env = environment(tmp_path, bin_dir, without=("protoc-gen-go",))
    err = failure(tree, env)
    assert "protoc-gen-go is not the pinned v1.28.1" in err.message
    assert f"{impostor} reports `protoc-gen-go v1.36.0`" in err.message
    assert "`go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.28.1`" in err.message


def test_the_pinned_version_wins_over_an_earlier_wrong_one(tree: Path, tmp_path: Path) -> None:
    bin_dir = validate_standin(tmp_path / "bin").parent
    impostor = bin_dir / "protoc-gen-go"
    impostor.write_text("#!/bin/sh\necho 'protoc-gen-go v1.36.0'\n")
    impostor.chmod(0o755)
    env = environment(tmp_path, bin_dir)  # the real one comes later on PATH
    result, log = generate(tree, env, "--dry-run")
    assert f"--plugin=protoc-gen-go={tmp_path}/tools-bin-none-/protoc-gen-go" in log


def test_a_plugin_in_gobin_is_found(tree: Path, tmp_path: Path) -> None:
    env = environment(tmp_path)
    validate_standin(Path(env["GOBIN"]))
    result, _ = generate(tree, env)
    assert "cilium/api/tls_wrapper.pb.validate.go" in result.written


def test_pins_match_the_debian_plugins() -> None:
    pins = api.load_pins(REPO)
    for name in ("protoc-gen-go", "protoc-gen-go-grpc"):
        answer = subprocess.run([name, "--version"], capture_output=True, text=True, check=True)
        assert answer.stdout.strip() == pins[name].reports
    assert pins["protoc-gen-validate"].install == (
        "go install github.com/envoyproxy/protoc-gen-validate@v1.1.0"
    )


# --- protoc failures ---------------------------------------------------------------


def test_a_bad_proto_shows_protocs_error_and_leaves_go_alone(tree: Path, env: dict) -> None:
    generate(tree, env)
    proto = tree / api.PROTO_DIR / "network_filter.proto"
    proto.write_text(proto.read_text().replace("string proxylib = 1;", "strin proxylib = 1;"))
    before = snapshot(tree / "go")
    out = io.StringIO()
    with pytest.raises(ToolkitError) as err:
        api.main(["--protoc=/usr/bin/protoc"], root=tree, environ=env, out=out)
    assert "protoc failed (cilium/api/network_filter.proto:" in err.value.message
    assert '"strin" is not defined' in out.getvalue()
    assert out.getvalue().count('"strin" is not defined') == 1  # three runs, one report
    assert "go/ was not changed" in err.value.message
    assert snapshot(tree / "go") == before


def test_a_failing_plugin_leaves_go_alone(tree: Path, env: dict) -> None:
    env["STANDIN_VALIDATE_FAIL"] = "1"
    before = snapshot(tree / "go")
    err = failure(tree, env)
    assert "asked to fail" in err.message
    assert snapshot(tree / "go") == before


# --- Go build and vet ----------------------------------------------------------------


def test_go_build_and_vet_real_code(tree: Path, tmp_path: Path) -> None:
    """The generated code and the hand-written helper compile and vet (Debian's protobuf)."""
    need("go", f"{DEBIAN_GOPATH}/src/google.golang.org/protobuf")
    env = environment(tmp_path, validate_standin(tmp_path / "bin").parent, go="gopath")
    result, log = generate(tree, env)
    assert result.go == "built and vetted"
    assert "==> go vet the package" in log


def test_go_compile_error_fails_the_session(tree: Path, tmp_path: Path) -> None:
    need("go", f"{DEBIAN_GOPATH}/src/google.golang.org/protobuf")
    env = environment(tmp_path, validate_standin(tmp_path / "bin").parent, go="gopath")
    (tree / API / "broken.go").write_text("package cilium\n\nvar _ = undefinedThing\n")
    err = failure(tree, env)
    assert "go build the package failed" in err.message
    assert "undefinedThing" in err.message


def test_unresolvable_modules_skip_go_build_with_advice(tree: Path, tmp_path: Path) -> None:
    need("go")
    env = environment(tmp_path, validate_standin(tmp_path / "bin").parent, go="offline")
    result, log = generate(tree, env)
    assert result.go.startswith("skipped go build and go vet: Go could not resolve the modules")
    assert "run `go mod tidy` in go/" in log
    assert result.written  # generation itself went through


def test_without_go_the_build_is_skipped(tree: Path, env: dict) -> None:
    result, log = generate(tree, env)
    assert result.go == "skipped go build and go vet: Go is not installed"
    assert "note: skipped go build" in log


# --- the Bazel route ------------------------------------------------------------------

BAZEL_STANDIN = r'''#!{python}
"""Recording stand-in for the bazel CLI (tests only): logs argv, answers from config.json."""
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
cfg = json.load(open(os.path.join(here, "config.json")))
args = sys.argv[1:]
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps({{"argv": args, "cwd": os.getcwd()}}) + "\n")
if args[0] == "info":
    for key in args[1:]:
        print("%s: %s" % (key, cfg[key]))
elif args[0] == "cquery":
    print(cfg["protoc"])
elif args[0] == "build":
    sys.stderr.write("INFO: stand-in build done\n")
sys.exit(0)
'''


def fake_bazel(tmp: Path) -> tuple[Path, Path]:
    """A bazel stand-in whose output base holds the stand-in protos in external/."""
    folder = tmp / "fakebazel"
    folder.mkdir()
    script = folder / "bazel"
    script.write_text(BAZEL_STANDIN.format(python=sys.executable))
    script.chmod(0o755)
    execroot, output_base = tmp / "execroot", tmp / "output_base"
    protoc_rel = "bazel-out/k8-opt-exec-ST/bin/external/com_google_protobuf/protoc"
    (execroot / protoc_rel).parent.mkdir(parents=True)
    (execroot / protoc_rel).symlink_to(shutil.which("protoc"))
    external = output_base / "external"
    for repo_name, part in [
        ("envoy_api", "envoy"),
        ("com_envoyproxy_protoc_gen_validate", "validate"),
        ("com_google_googleapis", "google"),
    ]:
        (external / repo_name).mkdir(parents=True)
        shutil.copytree(STANDIN_PROTOS / part, external / repo_name / part)
    (external / "com_google_protobuf").mkdir()
    (external / "com_google_protobuf" / "src").symlink_to("/usr/include")
    config = {
        "execution_root": str(execroot),
        "output_base": str(output_base),
        "protoc": protoc_rel,
    }
    (folder / "config.json").write_text(json.dumps(config))
    return script, folder / "calls.jsonl"


def bazel_calls(log: Path) -> list[list[str]]:
    return (
        [json.loads(line)["argv"] for line in log.read_text().splitlines()] if log.exists() else []
    )


def test_bazel_route_builds_protoc_and_asks_bazel_where_things_are(
    tmp_path: Path, env: dict
) -> None:
    protos = [p.stem for p in (REPO / api.PROTO_DIR).glob("*.proto")]
    root = make_tree(tmp_path / "repo", protos=protos)
    bazel, log = fake_bazel(tmp_path)
    out = io.StringIO()
    result = api.main([f"--bazel={bazel}"], root=root, environ=env, out=out)
    assert bazel_calls(log) == [
        [
            "build",
            "@com_google_protobuf//:protoc",
            "@envoy_api//envoy/annotations:pkg",
            "@envoy_api//envoy/config/core/v3:pkg",
            "@envoy_api//envoy/config/route/v3:pkg",
            "@envoy_api//envoy/service/discovery/v3:pkg",
            "@envoy_api//envoy/type/matcher/v3:pkg",
        ],
        ["info", "execution_root", "output_base"],
        ["cquery", "--output=files", "@com_google_protobuf//:protoc"],
    ]
    text = out.getvalue()
    assert (
        f"{tmp_path}/execroot/bazel-out/k8-opt-exec-ST/bin/external/com_google_protobuf/protoc"
        in text
    )
    assert f"-I{tmp_path}/output_base/external/envoy_api" in text
    assert "bazel-repo" not in text and "bazel-bin" not in text  # no convenience symlinks
    assert "cilium/api/npds_grpc.pb.go" in result.written


def test_bazel_dry_run_prints_the_commands_and_runs_nothing(
    tree: Path, env: dict, tmp_path: Path
) -> None:
    bazel, log = fake_bazel(tmp_path)
    before = snapshot(tree / "go")
    out = io.StringIO()
    result = api.main([f"--bazel={bazel}", "--dry-run"], root=tree, environ=env, out=out)
    text = out.getvalue()
    assert bazel_calls(log) == []
    assert snapshot(tree / "go") == before
    assert text.startswith("# plan: api\n")
    assert (
        f"{bazel} build @com_google_protobuf//:protoc\n" in text
    )  # these protos import no Envoy API
    assert f"`{bazel} info execution_root output_base`" in text
    assert f"`{bazel} cquery --output=files @com_google_protobuf//:protoc`" in text
    steps = [s.argv for s in result.plan.steps]
    protoc_runs = [a for a in steps if a[0] == api.DRY_PROTOC]
    assert len(protoc_runs) == 3
    assert "-I<output_base>/external/envoy_api" in protoc_runs[0]
    assert "-Icilium/api=cilium-filters/api" in protoc_runs[0]
    assert "--go_out=module=github.com/cilium/proxy/go:<tmp>/go" in protoc_runs[0]
    assert "--go-grpc_out=module=github.com/cilium/proxy/go:<tmp>/go-grpc" in protoc_runs[1]
    assert (
        "--validate_out=lang=go,module=github.com/cilium/proxy/go:<tmp>/validate" in protoc_runs[2]
    )
    assert protoc_runs[0][-4:] == tuple(
        f"cilium-filters/api/{n}.proto" for n in sorted(SELF_CONTAINED)
    )


def test_dry_run_with_installed_protoc(tree: Path, env: dict) -> None:
    before = snapshot(tree / "go")
    result, log = generate(tree, env, "--dry-run", f"--proto-path={STANDIN_PROTOS}")
    assert snapshot(tree / "go") == before
    assert "# protoc: /usr/bin/protoc (libprotoc " in log
    assert f"-I{STANDIN_PROTOS}" in result.plan.steps[0].argv
    assert "build" not in " ".join(result.plan.steps[0].argv)


def test_missing_bazel_names_the_alternatives(tree: Path, env: dict) -> None:
    with pytest.raises(ToolkitError) as err:
        api.main(["--bazel=no-such-bazel"], root=tree, environ=env, out=io.StringIO())
    assert "`no-such-bazel` was not found" in err.value.message
    assert "--protoc PATH and --proto-path DIR" in err.value.message


# --- small pieces ---------------------------------------------------------------------


def test_bazel_targets_follow_the_envoy_imports() -> None:
    imported = [
        "envoy/config/core/v3/address.proto",
        "envoy/config/core/v3/config_source.proto",
        "google/api/annotations.proto",
        "validate/validate.proto",
    ]
    assert api.bazel_targets(imported) == (
        "@com_google_protobuf//:protoc",
        "@envoy_api//envoy/config/core/v3:pkg",
    )


def test_bazel_info_and_include_folders() -> None:
    info = api.parse_bazel_info("execution_root: /ob/execroot/proxy\noutput_base: /ob\n")
    assert info == {"execution_root": "/ob/execroot/proxy", "output_base": "/ob"}
    present = {"/ob/external/envoy_api", "/ob/external/xds", "/ob/external/dev_cel/proto"}
    assert api.bazel_include("/ob", present.__contains__) == (
        "/ob/external/envoy_api",
        "/ob/external/xds",
        "/ob/external/dev_cel/proto",
    )


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
    assert api.is_ours(path) is ours


def test_bad_arguments() -> None:
    with pytest.raises(ToolkitError) as err:
        api.parse(["--chek"])
    assert err.value.status == 2 and "did you mean --check?" in err.value.message


def test_missing_proto_path_folder(tree: Path, env: dict, tmp_path: Path) -> None:
    err = failure(tree, env, f"--proto-path={tmp_path / 'nowhere'}")
    assert "is not a folder" in err.message
