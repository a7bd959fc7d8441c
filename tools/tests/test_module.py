"""libcilium.so, Cilium's filters as one Envoy dynamic module (cilium-filters/module/).

- its symbols: it exports Envoy's hooks and nothing else, and every Envoy callback it
  imports is one the real Envoy 1.38.3 binary exports (`nm -D` on both);
- the listeners Cilium's agent writes, in the dynamic-module form, validate with Envoy 1.38.3
  with the module loaded (`envoy --mode validate`);
- a smoke test in a real Envoy 1.38.3: started before the agent, connections are refused;
  once a tiny agent (grpcio, on a Unix socket) has sent the policies, a real request is
  allowed, denied with 403 or refused at L4 as the policy says, header actions reach the
  upstream and the access log gets Cilium's entries. The full end-to-end suite is
  `nox -s e2e`'s.

Without the built module or Envoy 1.38.3 these skip on a laptop and fail in CI. The
compile check of our ABI declarations against Envoy's abi.h needs that header (ENVOY_ABI_HEADER,
or an ENVOY_SOURCE clone holding v1.38.0) and skips without it, in CI too.
"""

from __future__ import annotations

import ast
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from tools.tests import module_harness as mh
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = mh.REPO
MODULE = REPO / "cilium-filters" / "module"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "module" / "cilium-listeners.yaml"

#: The hooks Envoy 1.38's abi.h (v1.38.0, source/extensions/dynamic_modules/abi/abi.h) has for
#: the program and the three filter kinds; Envoy resolves them all and refuses a module
#: lacking one.
HOOKS = {
    "program_init",
    *(f"http_filter_{h}" for h in (
        "config_new", "config_destroy", "per_route_config_new", "per_route_config_destroy",
        "new", "request_headers", "request_body", "request_trailers", "response_headers",
        "response_body", "response_trailers", "stream_complete", "destroy", "http_callout_done",
        "http_stream_headers", "http_stream_data", "http_stream_trailers",
        "http_stream_complete", "http_stream_reset", "scheduled", "config_scheduled",
        "config_http_callout_done", "config_http_stream_headers", "config_http_stream_data",
        "config_http_stream_trailers", "config_http_stream_complete",
        "config_http_stream_reset", "downstream_above_write_buffer_high_watermark",
        "downstream_below_write_buffer_low_watermark", "local_reply")),
    *(f"network_filter_{h}" for h in (
        "config_new", "config_destroy", "new", "new_connection", "read", "write", "event",
        "destroy", "http_callout_done", "scheduled", "config_scheduled",
        "above_write_buffer_high_watermark", "below_write_buffer_low_watermark")),
    *(f"listener_filter_{h}" for h in (
        "config_new", "config_destroy", "new", "on_accept", "on_data", "on_close",
        "get_max_read_bytes", "destroy", "scheduled", "config_scheduled", "http_callout_done")),
}  # fmt: skip


# --- build descriptions --------------------------------------------------------------------


def srcs_glob(build: str, rule: str) -> tuple[list[str], list[str]]:
    """The patterns and exclusions of a rule's ``srcs = glob(...)`` in a BUILD file, read with
    Python's parser (Starlark's syntax is Python's), so buildifier's layout does not matter."""
    for call in ast.walk(ast.parse(build)):
        args = {kw.arg: kw.value for kw in getattr(call, "keywords", [])}
        if isinstance(call, ast.Call) and "name" in args and ast.literal_eval(args["name"]) == rule:
            glob = args["srcs"]
            assert isinstance(glob, ast.Call), ast.dump(glob)
            exclude = [ast.literal_eval(kw.value) for kw in glob.keywords if kw.arg == "exclude"]
            return ast.literal_eval(glob.args[0]), exclude[0] if exclude else []
    raise AssertionError(f"no rule named {rule}")


def test_the_module_folder_is_its_source_list_for_cmake_and_bazel():
    """Both build systems take the folder's files by the same globs: *_filter.cc and abi/*.cc
    (but abi_check.cc) make the shared object, the other *.cc its Envoy-free core."""
    cmake = (MODULE / "CMakeLists.txt").read_text()
    build = (MODULE / "BUILD").read_text()
    assert (
        'file(GLOB CILIUM_MODULE_CORE_SOURCES CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")'
        in cmake
    )
    assert 'list(FILTER CILIUM_MODULE_CORE_SOURCES EXCLUDE REGEX "_filter\\\\.cc$")' in cmake
    assert (
        '"${CMAKE_CURRENT_SOURCE_DIR}/*_filter.cc"\n     "${CMAKE_CURRENT_SOURCE_DIR}/abi/*.cc")'
        in cmake
    )
    assert 'list(FILTER CILIUM_MODULE_FILTER_SOURCES EXCLUDE REGEX "/abi_check\\\\.cc$")' in cmake
    assert srcs_glob(build, "module_core") == (["*.cc"], ["*_filter.cc"])
    assert srcs_glob(build, "libcilium.so") == (["*_filter.cc", "abi/*.cc"], ["abi/abi_check.cc"])
    # Every source is one of the two kinds, or the ABI check.
    for source in MODULE.rglob("*.cc"):
        rel = source.relative_to(MODULE).as_posix()
        assert "/" not in rel or rel.startswith("abi/"), rel


def test_our_abi_header_declares_every_hook():
    header = (MODULE / "abi" / "envoy_abi.h").read_text()
    declared = set(re.findall(r"\benvoy_dynamic_module_on_(\w+)\(", header))
    assert declared == HOOKS


# --- the built module ------------------------------------------------------------------------


def _symbols(path: str, *flags: str) -> set[str]:
    nm = shutil.which("nm")
    if not nm:
        skip_or_fail("nm (binutils)")
    out = subprocess.run([nm, "-D", *flags, path], capture_output=True, text=True, check=True)
    return {line.split()[-1].split("@")[0] for line in out.stdout.splitlines() if line.strip()}


def test_module_exports_only_envoys_hooks():
    exported = _symbols(str(mh.built_module()), "--defined-only")
    hooks = {s for s in exported if s.startswith("envoy_dynamic_module_on_")}
    assert hooks == {f"envoy_dynamic_module_on_{h}" for h in HOOKS}
    assert not {s for s in exported - hooks if not s.startswith("_")}, "exports more than hooks"


def test_every_callback_the_module_imports_is_exported_by_envoy_1_38_3():
    module = mh.built_module()
    imported = {s for s in _symbols(str(module), "--undefined-only")
                if s.startswith("envoy_dynamic_module_callback_")}  # fmt: skip
    assert imported, "the module calls into Envoy"
    exported = _symbols(mh.envoy_138(), "--defined-only")
    assert imported <= exported, f"Envoy 1.38.3 lacks {sorted(imported - exported)}"


# --- a real Envoy ------------------------------------------------------------------------------


def _envoy_env(module: Path) -> Dict[str, str]:
    return {"ENVOY_DYNAMIC_MODULES_SEARCH_PATH": str(module.parent), "PATH": "/usr/bin:/bin"}


def test_cilium_listeners_validate_with_the_module_loaded(tmp_path):
    envoy, module = mh.envoy_138(), mh.built_module()
    proc = subprocess.run(
        [envoy, "--mode", "validate", "-c", str(FIXTURE), "--log-level", "info"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=_envoy_env(module),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # A configuration the module refuses fails validation, naming the field.
    broken = FIXTURE.read_text().replace('"is_ingress": false', '"is_ingres": false')
    (tmp_path / "broken.yaml").write_text(broken)
    proc = subprocess.run(
        [envoy, "--mode", "validate", "-c", "broken.yaml"],
        capture_output=True, text=True, check=False, cwd=tmp_path, env=_envoy_env(module),
    )  # fmt: skip
    assert proc.returncode != 0
    assert "is_ingres" in proc.stdout + proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Echo(http.server.BaseHTTPRequestHandler):
    """The upstream: 200 with the request headers it received, as JSON."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = json.dumps([[k.lower(), v] for k, v in self.headers.items()]).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _module_filter(kind: str, name: str, config: Dict[str, Any]) -> Dict[str, Any]:
    types = {
        "listener": "listener.dynamic_modules.v3.DynamicModuleListenerFilter",
        "network": "network.dynamic_modules.v3.DynamicModuleNetworkFilter",
        "http": "http.dynamic_modules.v3.DynamicModuleFilter",
    }
    return {"name": name, "typed_config": {
        "@type": f"type.googleapis.com/envoy.extensions.filters.{types[kind]}",
        "dynamic_module_config": {"name": "cilium"}, "filter_name": name,
        "filter_config": {"@type": "type.googleapis.com/google.protobuf.StringValue",
                          "value": json.dumps(config)}}}  # fmt: skip


def _bootstrap(tmp: Path, port: int, admin: int, upstream: int) -> Dict[str, Any]:
    proxy_protocol = {"name": "envoy.filters.listener.proxy_protocol", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol"}}  # fmt: skip
    metadata = {"is_ingress": True, "proxy_id": 7, "cilium_config_source": {"api_config_source": {
        "api_type": "GRPC", "grpc_services": [{"google_grpc": {
            "target_uri": f"unix:{tmp}/xds.sock", "stat_prefix": "xds"}}]}}}  # fmt: skip
    hcm = {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "proxy",
        "http_filters": [
            _module_filter("http", "cilium.l7policy", {"access_log_path": f"{tmp}/access.sock"}),
            {"name": "envoy.filters.http.router", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
        "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
            {"match": {"prefix": "/"}, "route": {"cluster": "upstream"}}]}]}}}  # fmt: skip
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin}}},
        "static_resources": {
            "listeners": [{
                "name": "ingress-http",
                "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
                "listener_filters": [proxy_protocol,
                                     _module_filter("listener", "cilium.bpf_metadata", metadata)],
                "filter_chains": [{"filters": [
                    _module_filter("network", "cilium.network",
                                   {"access_log_path": f"{tmp}/access.sock"}),
                    hcm]}]}],
            "clusters": [{"name": "upstream", "type": "STATIC", "connect_timeout": "2s",
                          "load_assignment": {"cluster_name": "upstream", "endpoints": [{
                              "lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                                  "address": "127.0.0.1", "port_value": upstream}}}}]}]}}],
        },
    }  # fmt: skip


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Dict[str, Any]]:
    """Envoy 1.38.3 with the module at all three levels, an upstream, no agent yet."""
    envoy, module = mh.envoy_138(), mh.built_module()
    api = mh.Api(module.parent.parent, tmp_path)
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port, admin = _free_port(), _free_port()
    config = tmp_path / "envoy.json"
    config.write_text(json.dumps(_bootstrap(tmp_path, port, admin, upstream.server_address[1])))
    access_log = mh.AccessLog(api, tmp_path / "access.sock")
    log = (tmp_path / "envoy.log").open("w")
    proc = subprocess.Popen(
        [envoy, "-c", str(config), "--concurrency", "2", "--log-level", "warning",
         "--base-id", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=_envoy_env(module), cwd=tmp_path,
    )  # fmt: skip
    agent = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("Envoy did not start:\n" + (tmp_path / "envoy.log").read_text())
                time.sleep(0.1)
        agent = mh.Agent(api, tmp_path / "xds.sock")
        yield {"api": api, "port": port, "agent": agent, "log": access_log, "tmp": tmp_path}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        if agent is not None:
            agent.stop()
        access_log.close()
        upstream.shutdown()
        upstream.server_close()


POLICY = {
    "endpoint_ips": ["203.0.113.10", "2001:db8::10"], "endpoint_id": 9,
    "ingress_per_port_policies": [{"port": 80, "rules": [{"remote_policies": [42], "http_rules": {
        "http_rules": [{"headers": [{"name": ":path", "string_match": {"exact": "/allowed"}}],
                        "header_matches": [{"name": "x-cilium", "value": "yes",
                                            "mismatch_action": "REPLACE_ON_MISMATCH"}]}]}}]}],
}  # fmt: skip
HOSTS = [{"policy": 42, "host_addresses": ["198.51.100.0/24", "2001:db8:1::/64"]}]


def test_a_real_request_is_allowed_or_denied_by_policy(running):
    api, port, agent, log = running["api"], running["port"], running["agent"], running["log"]
    ok4 = mh.proxy_v2("198.51.100.7", 40000, "203.0.113.10", 80)
    # Started before the agent: no policy yet, the connection is refused at L4.
    assert mh.http_request(port, ok4, "/allowed") is None
    assert log.take(1)[0]["entry_type"] == "Denied"

    agent.policies.pending.put(api.response(mh.POLICY_TYPE, "1", [POLICY]))
    agent.hosts.pending.put(api.response(mh.HOSTS_TYPE, "1", HOSTS))
    agent.start()
    for feed in (agent.policies, agent.hosts):
        assert feed.next_request().version_info == ""
        ack = feed.next_request()
        assert (ack.version_info, ack.response_nonce) == ("1", "n-1")
        assert not ack.HasField("error_detail")

    response = mh.http_request(port, ok4, "/allowed", "x-cilium: no\r\n")
    assert response is not None and response.startswith(b"HTTP/1.1 200"), response
    upstream_headers = json.loads(response.split(b"\r\n\r\n", 1)[1])
    assert ["x-cilium", "yes"] in upstream_headers  # the header action reached the upstream
    request, answer = log.take(2)
    assert request["entry_type"] == "Request" and answer["entry_type"] == "Response"
    assert request["source_security_id"] == 42 and request["policy_name"] == "203.0.113.10"
    assert request["source_address"] == "198.51.100.7:40000"
    assert request["destination_address"] == "203.0.113.10:80"
    assert {"key": "x-cilium", "value": "yes"} in request["http"]["headers"]
    assert request["http"]["missing_headers"] == [{"key": "x-cilium", "value": "yes"}]

    response = mh.http_request(port, ok4, "/other")
    assert response is not None and response.startswith(b"HTTP/1.1 403"), response
    assert response.endswith(b"\r\n\r\nAccess denied\r\n")
    denied = log.take(1)[0]
    assert denied["entry_type"] == "Denied", denied
    answer = log.take(1)[0]
    assert answer["entry_type"] == "Response" and answer["http"]["status"] == 403, answer

    def request_id(entry: Dict[str, Any]) -> List[str]:
        return [h["value"] for h in entry["http"]["headers"] if h["key"] == "x-request-id"]

    # The agent pairs a Response with its request by x-request-id, as in Cilium's own tests.
    assert request_id(denied) and request_id(denied) == request_id(answer)

    # IPv6, and a remote with no host entry (WORLD) refused at L4.
    ok6 = mh.proxy_v2("2001:db8:1::7", 40000, "2001:db8::10", 80)
    response = mh.http_request(port, ok6, "/allowed")
    assert response is not None and response.startswith(b"HTTP/1.1 200"), response
    assert log.take(2)[0]["source_address"] == "[2001:db8:1::7]:40000"
    world = mh.proxy_v2("192.0.2.1", 40000, "203.0.113.10", 80)
    assert mh.http_request(port, world, "/allowed") is None
    assert log.take(1)[0]["source_security_id"] == 2

    # A refused update is NACKed and the policy stays in force.
    agent.policies.pending.put(api.response(mh.POLICY_TYPE, "2", [{"endpoint_ips": ["10.0.0.1"]}]))
    nack = agent.policies.next_request()
    assert (nack.version_info, nack.response_nonce) == ("1", "n-2")
    assert nack.error_detail.message
    response = mh.http_request(port, ok4, "/allowed")
    assert response is not None and response.startswith(b"HTTP/1.1 200"), response


# --- the release image ---------------------------------------------------------------------


def test_release_build_compiles_the_module_with_envoys_dependencies():
    from tools.envoy import bazel

    build = (MODULE / "BUILD").read_text()
    for target in bazel.MODULE_TARGETS:
        package, name = target.split(":")
        assert package == "//cilium-filters/module"
        assert f'name = "{name}"' in build, name
    assert re.search(r'cc_binary\(\s*name = "libcilium.so",.*?linkshared = True', build, re.S)
    assert bazel.MODULE_BUILT == "cilium-filters/module/libcilium.so"
    # The same engine as cilium-envoy, Envoy's own gRPC, protobuf and RE2 (Envoy 1.38's names).
    for dep in ('"//cilium-filters/policy/decide"', '"//cilium-filters/policy/hosts"',
                '"//cilium-filters/policy/access_log"', '"@com_github_grpc_grpc//:grpc++"',
                '"@com_google_protobuf//:protobuf"', '"@com_googlesource_code_re2//:re2"',
                '"@envoy//source/extensions/dynamic_modules/abi"'):  # fmt: skip
        assert dep in build, dep
    assert "--version-script=$(location exports.map)" in build


def test_runtime_image_finds_the_module_by_name():
    from tools.envoy import bazel

    text = (REPO / "Dockerfile").read_text()
    runtime = text.rsplit("\nFROM ", 1)[1]
    assert runtime.startswith("${RUNTIME_BASE}")
    assert "COPY --from=builder /cilium/install/ /" in runtime
    match = re.search(r"^ENV ENVOY_DYNAMIC_MODULES_SEARCH_PATH=(\S+)$", runtime, re.M)
    assert match, "the runtime image sets ENVOY_DYNAMIC_MODULES_SEARCH_PATH"
    assert "/" + bazel.MODULE_INSTALLED == f"{match[1]}/libcilium.so"


def test_install_refuses_a_build_without_the_module(tmp_path):
    """tools.bazel install, run for real on a tree whose build produced no module."""
    from tools.envoy import bazel

    root = tmp_path / "tree"
    (root / "bazel-bin").mkdir(parents=True)
    shutil.copyfile(Path(shutil.which("python3") or "/usr/bin/python3").resolve(),
                    root / "bazel-bin" / "cilium-envoy")  # fmt: skip
    env = {"CILIUM_INSTALL_ROOT": str(tmp_path / "install"), "HOME": str(tmp_path)}
    assert bazel.main(["install"], env, root) == 1
    assert not (tmp_path / "install").exists()  # nothing installed, the binary neither


# --- our ABI declarations against Envoy's abi.h ----------------------------------------------

#: Envoy's v1.38.0 tag; abi.h there is the ABI Envoy 1.38.3 has (ABI version v0.1.0).
ENVOY_138_REFS = ("v1.38.0", "f1dd21b16c244bda00edfb5ffce577e12d0d2ec2")
ABI_PATH = "source/extensions/dynamic_modules/abi/abi.h"


def _envoy_abi_header() -> bytes:
    """Envoy 1.38's abi.h: ENVOY_ABI_HEADER (a file), else from the ENVOY_SOURCE clone."""
    path = os.environ.get("ENVOY_ABI_HEADER")
    if path:
        return Path(path).read_bytes()
    clone = os.environ.get("ENVOY_SOURCE")
    if clone:
        for ref in ENVOY_138_REFS:
            shown = subprocess.run(["git", "-C", clone, "show", f"{ref}:{ABI_PATH}"],
                                   capture_output=True, check=False)  # fmt: skip
            if shown.returncode == 0:
                return shown.stdout
    # No registry serves Envoy's source: this skips in CI too, like the other ENVOY_SOURCE tests.
    pytest.skip("needs Envoy 1.38's abi.h: ENVOY_ABI_HEADER, or ENVOY_SOURCE holding v1.38.0")


def _compile_check(tmp: Path, ours: Path) -> subprocess.CompletedProcess:
    compiler = shutil.which("g++") or shutil.which("clang++")
    if not compiler:
        skip_or_fail("a C++ compiler")
    return subprocess.run(
        [compiler, "-std=c++20", "-fsyntax-only", f"-I{ours}", f"-I{tmp / 'envoy'}",
         str(MODULE / "abi" / "abi_check.cc")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_our_abi_declarations_compile_against_envoys_header(tmp_path):
    header = tmp_path / "envoy" / ABI_PATH
    header.parent.mkdir(parents=True)
    header.write_bytes(_envoy_abi_header())
    proc = _compile_check(tmp_path, REPO)
    assert proc.returncode == 0, proc.stderr
    # A drifted signature in our header fails the same check.
    copy = tmp_path / "ours" / "cilium-filters" / "module" / "abi"
    shutil.copytree(MODULE / "abi", copy)
    text = (copy / "envoy_abi.h").read_text()
    drifted = text.replace("size_t envoy_dynamic_module_callback_http_get_headers_size(",
                           "uint32_t envoy_dynamic_module_callback_http_get_headers_size(")  # fmt: skip
    assert drifted != text
    (copy / "envoy_abi.h").write_text(drifted)
    proc = _compile_check(tmp_path, tmp_path / "ours")
    assert proc.returncode != 0 and "get_headers_size" in proc.stderr
