"""`nox -s e2e -- eval`: the JSON-lines protocol over a running stack (README, "nox -s e2e").

One JSON request per line on stdin, exactly one JSON reply per line on stdout:

* ``{"update": <DiscoveryResponse>}`` -> ``{"ok": true}`` once Envoy ACKed it, ``{"ok":
  false, "error": "<error_detail>"}`` once it NACKed it (the type_url decides NPDS/NPHDS).
* ``{"request": {"source", "destination", "port", "ingress", "headers"}}`` -> ``{"status",
  "upstream_headers", "access_log"}``: one HTTP/1.1 request through the HTTP listener of
  that direction, opened with a PROXY v2 header naming ``source`` (a port of our choosing)
  and ``destination:port``.
* ``{"connect": {"source", "destination", "port", "ingress", "data"}}`` -> ``{"connected",
  "access_log"}`` through the TCP listener of that direction.
* ``{"restart_agent": {}}`` -> ``{"ok": true}`` once the module subscribed again.
* anything else -> ``{"error": "..."}``, and the next line is read.

Access-log entries belong to a request when their ``source_address`` is the request's
source address and port (each request gets a port of its own).  After the reply arrived
(or the connection ended) they are collected until an HTTP request's Response entry came
(Cilium writes it last), else until none arrived for QUIET seconds; at most LOG_BOUND s.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import struct
import sys
from typing import Any, Dict, Iterable, List, Optional, TextIO, Tuple

from tools.engine.e2e_stack import Stack
from tools.errors import ToolkitError

#: Access-log collection: quiet period and upper bound, in seconds.
QUIET = 0.3
LOG_BOUND = 2.0
#: Seconds to wait for Envoy's answer to an update, and for the module to resubscribe.
UPDATE_TIMEOUT = 15.0
#: Seconds an HTTP exchange or a TCP echo may take before it counts as refused.
IO_TIMEOUT = 10.0
ECHO_TIMEOUT = 3.0

ANSWERS = ("update", "request", "connect", "restart_agent")
PSEUDO = (":method", ":path", ":authority")
_PROXY_V2 = b"\r\n\r\n\x00\r\nQUIT\n"


class BadRequest(Exception):
    """A request the protocol does not accept; its text is the reply's "error"."""


def proxy_v2_header(source: str, source_port: int, destination: str, port: int) -> bytes:
    """A PROXY protocol v2 header (PROXY command, TCP over IPv4 or IPv6)."""
    src, dst = ipaddress.ip_address(source), ipaddress.ip_address(destination)
    family = 0x11 if src.version == 4 else 0x21  # AF_INET/AF_INET6, STREAM
    body = src.packed + dst.packed + struct.pack("!HH", source_port, port)
    return _PROXY_V2 + bytes([0x21, family]) + struct.pack("!H", len(body)) + body


def address(ip: str, port: int) -> str:
    """How Cilium writes an address with its port: 1.2.3.4:80, [2001:db8::1]:80."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _same_address(text: Any, ip: str, port: int) -> bool:
    if not isinstance(text, str):
        return False
    host, _, port_text = text.rpartition(":")
    try:
        return (
            ipaddress.ip_address(host.strip("[]")) == ipaddress.ip_address(ip)
            and int(port_text) == port
        )
    except ValueError:
        return False


# --- validation ---------------------------------------------------------------------------


def _flow(body: Any, what: str, extra: Tuple[str, ...]) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest(f'"{what}" takes an object with "source", "destination", "port" and '
                         f'"ingress"')  # fmt: skip
    unknown = sorted(set(body) - {"source", "destination", "port", "ingress", *extra})
    if unknown:
        raise BadRequest(f'"{what}" has no field {", ".join(map(repr, unknown))}')
    for name in ("source", "destination", "port", "ingress"):
        if name not in body:
            raise BadRequest(f'"{what}" needs "{name}"')
    ips = []
    for name in ("source", "destination"):
        value = body[name]
        try:
            ips.append(ipaddress.ip_address(value if isinstance(value, str) else ""))
        except ValueError:
            raise BadRequest(f'"{name}" must be an IPv4 or IPv6 address, not {value!r}') from None
    if ips[0].version != ips[1].version:
        raise BadRequest('"source" and "destination" must both be IPv4 or both IPv6')
    port = body["port"]
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise BadRequest(f'"port" must be a number from 1 to 65535, not {port!r}')
    if not isinstance(body["ingress"], bool):
        raise BadRequest('"ingress" must be true or false')
    return body


def _headers(value: Any) -> List[Tuple[str, str]]:
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    ):
        raise BadRequest('"headers" must be a list of [name, value] string pairs')
    pairs = [(n, v) for n, v in value]
    for name, text in pairs:
        if not name or name.startswith(":") and name not in PSEUDO:
            raise BadRequest(f"header name {name!r} is not allowed (pseudo-headers: "
                             f"{', '.join(PSEUDO)})")  # fmt: skip
        if any(c in name for c in " \t\r\n:") and not name.startswith(":"):
            raise BadRequest(f"header name {name!r} is not a valid HTTP/1.1 name")
        if "\r" in text or "\n" in text:
            raise BadRequest(f"the value of header {name!r} holds a line break")
    names = [n for n, _ in pairs]
    values = dict(pairs)
    method, path = values.get(":method", ""), values.get(":path", "")
    if method and not all(33 <= ord(c) < 127 for c in method):
        raise BadRequest(f":method {method!r} is not an HTTP token")
    if path and not all(33 <= ord(c) < 127 for c in path):
        raise BadRequest(f":path {path!r} holds spaces or control characters")
    for pseudo in PSEUDO:
        if names.count(pseudo) > 1:
            raise BadRequest(f"{pseudo} is given twice")
    for needed in (":method", ":path"):
        if needed not in names:
            raise BadRequest(f'"headers" needs {needed}')
    return pairs


# --- the exchanges ------------------------------------------------------------------------


class Session:
    """The protocol over one stack; each request's source port is new."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._port = 20000

    def _source_port(self) -> int:
        self._port = 20000 + (self._port - 20000 + 1) % 40000
        return self._port

    def handle(self, line: str) -> Dict[str, Any]:
        try:
            request = json.loads(line)
        except ValueError as exc:
            return {"error": f"the request is not valid JSON: {exc}"}
        if not isinstance(request, dict) or len(request) != 1 or next(iter(request)) not in ANSWERS:
            return {"error": "a request is a JSON object with exactly one of "
                             + ", ".join(f'"{a}"' for a in ANSWERS)}  # fmt: skip
        ((kind, body),) = request.items()
        try:
            if kind == "update":
                return self.update(body)
            if kind == "request":
                return self.request(body)
            if kind == "connect":
                return self.connect(body)
            return self.restart_agent(body)
        except BadRequest as exc:
            return {"error": str(exc)}

    def update(self, body: Any) -> Dict[str, Any]:
        if not isinstance(body, dict):
            raise BadRequest('"update" takes a DiscoveryResponse as a JSON object')
        agent = self.stack.agent
        if agent is None:
            raise BadRequest("no agent is running")
        if not self.stack.filters:
            raise BadRequest("Envoy runs with the router only (--router-only): nothing "
                             "subscribes to NPDS or NPHDS")  # fmt: skip
        reply = agent.call("update", UPDATE_TIMEOUT, response=body)
        if reply is None:
            return {"error": f"Envoy did not answer the update within {UPDATE_TIMEOUT:g} s"}
        if "ok" in reply:
            return {"ok": True} if reply["ok"] else {"ok": False, "error": reply.get("error", "")}
        return {"error": reply.get("error", "the agent refused the update")}

    def restart_agent(self, body: Any) -> Dict[str, Any]:
        if body != {}:
            raise BadRequest('"restart_agent" takes an empty object: {"restart_agent": {}}')
        if not self.stack.restart_agent(UPDATE_TIMEOUT) and self.stack.filters:
            return {"error": f"the module did not subscribe again within {UPDATE_TIMEOUT:g} s"}
        return {"ok": True}

    def _open(self, body: Dict[str, Any], kind: str) -> Tuple[socket.socket, int, int]:
        port = self._source_port()
        mark = self.stack.agent.mark if self.stack.agent else 0
        sock = socket.create_connection(
            ("127.0.0.1", self.stack.port(body["ingress"], kind)), timeout=IO_TIMEOUT
        )
        sock.sendall(proxy_v2_header(body["source"], port, body["destination"], body["port"]))
        return sock, port, mark

    def _entries(self, body: Dict[str, Any], port: int, mark: int, http: bool) -> List[dict]:
        agent = self.stack.agent
        if agent is None:
            return []
        source = body["source"]
        return agent.wait_entries(
            lambda e: _same_address(e.get("source_address"), source, port),
            mark,
            QUIET,
            LOG_BOUND,
            complete=lambda found: http and any(e.get("entry_type") == "Response" for e in found),
        )

    def request(self, body: Any, logs: bool = True) -> Dict[str, Any]:
        body = _flow(body, "request", ("headers",))
        headers = _headers(body.get("headers"))
        sock, port, mark = self._open(body, "http")
        status, upstream = 0, None
        try:
            status, upstream = _exchange(sock, headers)
        finally:
            sock.close()
        return {
            "status": status,
            "upstream_headers": upstream,
            "access_log": self._entries(body, port, mark, http=True) if logs else [],
        }

    def connect(self, body: Any, logs: bool = True) -> Dict[str, Any]:
        body = _flow(body, "connect", ("data",))
        data = body.get("data", "ping")
        if not isinstance(data, str) or not data:
            raise BadRequest('"data" must be a non-empty string')
        payload = data.encode()
        sock, port, mark = self._open(body, "tcp")
        received = b""
        try:
            sock.sendall(payload)
            sock.settimeout(ECHO_TIMEOUT)
            while len(received) < len(payload):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
        finally:
            sock.close()
        entries = self._entries(body, port, mark, http=False) if logs else []
        return {"connected": received == payload, "access_log": entries}


def _exchange(
    sock: socket.socket, headers: List[Tuple[str, str]]
) -> Tuple[int, Optional[List[List[str]]]]:
    """Send one HTTP/1.1 request on `sock`: the status (0: closed without a response) and
    the headers the echo upstream received (None: the response did not come from it)."""
    values = dict((n, v) for n, v in headers if n in PSEUDO)
    conn = http.client.HTTPConnection("unused", timeout=IO_TIMEOUT)
    conn.sock = sock
    try:
        conn.putrequest(values[":method"], values[":path"], skip_host=True,
                        skip_accept_encoding=True)  # fmt: skip
        if ":authority" in values:
            conn.putheader("Host", values[":authority"])
        for name, value in headers:
            if name not in PSEUDO:
                conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        payload = response.read()
    except (http.client.HTTPException, OSError) as exc:
        print(f"e2e: no response ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 0, None
    finally:
        conn.sock = None  # the caller closes it
    if response.getheader("x-e2e-upstream") != "echo":
        return response.status, None
    try:
        echoed = json.loads(payload)
    except ValueError:
        return response.status, None
    return response.status, [[str(n), str(v)] for n, v in echoed]


def serve(stack: Stack, lines: Iterable[str], out: TextIO) -> int:
    """Answer every request line; the number of requests answered."""
    session = Session(stack)
    answered = 0
    for line in lines:
        if not line.strip():
            continue  # blank lines are not requests
        try:
            reply = session.handle(line)
        except ToolkitError as exc:  # the stack itself failed: say so, then stop
            print(json.dumps({"error": exc.message}), file=out, flush=True)
            raise
        print(json.dumps(reply, separators=(", ", ": ")), file=out, flush=True)
        answered += 1
    return answered
