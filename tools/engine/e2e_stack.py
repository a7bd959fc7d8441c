"""One running e2e stack: the echo upstream, the stand-in agent and Envoy.

Everything listens on 127.0.0.1 or on Unix sockets in a temporary folder; every process is
started in its own process group through :class:`tools.run.Services` and stopped when the
stack's block ends, however it ends.  The agent and the upstream also end by themselves
when our end of their stdin closes.

The agent is driven over its stdin/stdout (tests/e2e/agent/control): commands carry an
"id" and get one reply with that "id"; events (streams, access-log entries) arrive in
between and are kept here, each with the time it arrived.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from tools.engine import e2e_config
from tools.errors import ToolkitError
from tools.files import write_atomic
from tools.run import Services

#: Seconds a process gets to say it is ready.
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Binaries:
    """What a stack runs: Envoy, the module's folder (None: Envoy with the router only) and
    the two Go programs."""

    envoy: str
    module_dir: Optional[str]
    agent: str
    upstream: str


class _UnixHTTP(http.client.HTTPConnection):
    """HTTP over a Unix socket (Envoy's admin interface listens on one)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def admin_get(path: str, query: str, timeout: float = 5.0) -> Tuple[int, bytes]:
    """GET `query` from the Envoy admin interface listening on Unix socket `path`."""
    conn = _UnixHTTP(path, timeout)
    try:
        conn.request("GET", query)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Agent:
    """The stand-in agent: its process, its control channel and what it reported."""

    def __init__(self, services: Services, binary: str, sockets: e2e_config.Sockets,
                 access_log_state: str = "open", log_events: bool = True) -> None:  # fmt: skip
        self._services = services
        self._cond = threading.Condition()
        self._replies: Dict[int, dict] = {}
        self._next_id = 0
        self.entries: List[Tuple[float, dict]] = []  # (arrival, cilium.LogEntry as JSON)
        self.streams: List[dict] = []  # stream events (xds.Event)
        self.errors: List[str] = []
        self.alive = True
        self._proc = services.start(
            [binary, "-xds", sockets.xds, "-access-log", sockets.access_log,
             "-access-log-state", access_log_state,
             f"-access-log-events={'true' if log_events else 'false'}"],
            stdin=-1, stdout=-1,  # pipes
        )  # fmt: skip
        self._ready = False
        self._reader = threading.Thread(target=self._read, name="agent-events", daemon=True)
        self._reader.start()
        self._wait(lambda: self._ready or not self.alive, START_TIMEOUT)
        if not self._ready:
            raise ToolkitError(
                f"The stand-in agent did not start ({binary}); see its output above."
            )

    def _read(self) -> None:
        try:
            self._read_events()
        except (ValueError, OSError):  # stop() closed the pipe while a read was under way
            pass
        with self._cond:
            self.alive = False
            self._cond.notify_all()

    def _read_events(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                print(f"agent: {raw.decode(errors='replace').rstrip()}", file=sys.stderr)
                continue
            with self._cond:
                event = message.get("event")
                if event is None:
                    self._replies[message.get("id")] = message
                elif event == "log":
                    self.entries.append((time.monotonic(), message["entry"]))
                elif event == "stream":
                    self.streams.append(message)
                elif event == "ready":
                    self._ready = True
                elif event == "error":
                    self.errors.append(message.get("error", ""))
                    print(f"agent: {message.get('error')}", file=sys.stderr)
                self._cond.notify_all()

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(done, timeout)

    def call(self, op: str, timeout: float, **fields: Any) -> Optional[dict]:
        """Send one command; its reply, or None when none came within `timeout` seconds."""
        with self._cond:
            self._next_id += 1
            ident = self._next_id
        line = json.dumps({"id": ident, "op": op, **fields}) + "\n"
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(line.encode())
            self._proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise ToolkitError("The stand-in agent ended unexpectedly.") from None
        if not self._wait(lambda: ident in self._replies or not self.alive, timeout):
            return None
        with self._cond:
            reply = self._replies.pop(ident, None)
        if reply is None:
            raise ToolkitError("The stand-in agent ended unexpectedly.")
        return reply

    def wait_entries(
        self,
        match: Callable[[dict], bool],
        start: int,
        quiet: float,
        bound: float,
        complete: Callable[[List[dict]], bool] = lambda found: False,
    ) -> List[dict]:
        """The entries from index `start` on that `match`: once `complete` says they are all
        there, or none arrived for `quiet` seconds (counted from now or from the last match),
        or `bound` seconds passed."""
        began = time.monotonic()
        deadline = began + bound
        with self._cond:
            while True:
                found = [(t, e) for t, e in self.entries[start:] if match(e)]
                now = time.monotonic()
                last = max([began] + [t for t, _ in found])
                entries = [e for _, e in found]
                if complete(entries) or now >= deadline or now - last >= quiet:
                    return entries
                self._cond.wait(min(deadline, last + quiet) - now)

    @property
    def mark(self) -> int:
        """Where the entries received so far end (for :meth:`wait_entries`)."""
        with self._cond:
            return len(self.entries)

    def stop(self) -> None:
        self._services.stop(self._proc)
        self._reader.join(timeout=5)


class Stack:
    """Upstream, agent and Envoy for one run (a `with` block)."""

    def __init__(self, binaries: Binaries, *, agent_first: bool = True,
                 access_log_state: str = "open", concurrency: int = 2,
                 log_level: str = "warning", log_events: bool = True,
                 proxy_protocol_optional: bool = False, baseline: bool = False) -> None:  # fmt: skip
        self.binaries = binaries
        self.filters = binaries.module_dir is not None
        self.agent_first = agent_first
        self.access_log_state = access_log_state
        self.concurrency = concurrency
        self.log_level = log_level
        # False: the agent only decodes and counts access-log entries (a benchmark's load).
        self.log_events = log_events
        self.proxy_protocol_optional = proxy_protocol_optional
        self.baseline = baseline  # a router-only HTTP listener beside the others (bench)
        self.agent: Optional[Agent] = None
        self.ports: Dict[str, int] = {}
        self._services = Services()
        self._folder: Optional[Path] = None

    def __enter__(self) -> "Stack":
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._services.__exit__()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    @property
    def pids(self) -> List[int]:
        return self._services.pids

    def _start(self) -> None:
        # Short: Unix socket paths must stay under 108 bytes.
        self._folder = Path(tempfile.mkdtemp(prefix="cilium-e2e-", dir="/tmp"))
        self.sockets = e2e_config.Sockets(
            xds=str(self._folder / "xds.sock"),
            access_log=str(self._folder / "access_log.sock"),
            admin=str(self._folder / "admin.sock"),
        )
        upstream = self._services.start([self.binaries.upstream], stdin=-1, stdout=-1)
        assert upstream.stdout is not None
        line = _readline(upstream.stdout, START_TIMEOUT)
        try:
            upstream_ports = json.loads(line)
        except ValueError:
            raise ToolkitError("The echo upstream did not start; see its output above.") from None
        if self.agent_first:
            self.start_agent()
        config = e2e_config.bootstrap(
            self.sockets, upstream_ports["http"], upstream_ports["tcp"], filters=self.filters,
            proxy_protocol_optional=self.proxy_protocol_optional, baseline=self.baseline,
        )  # fmt: skip
        bootstrap = self._folder / "envoy.json"
        write_atomic(bootstrap, json.dumps(config, indent=1))
        env = None
        if self.binaries.module_dir:
            env = {**os.environ, "ENVOY_DYNAMIC_MODULES_SEARCH_PATH": self.binaries.module_dir}
        self.envoy = self._services.start(
            [self.binaries.envoy, "-c", str(bootstrap), "--disable-hot-restart",
             "--concurrency", str(self.concurrency), "-l", self.log_level],
            env=env,
        )  # fmt: skip
        self.ports = self._listener_ports()

    def _listener_ports(self) -> Dict[str, int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.envoy.poll() is not None:
                raise ToolkitError(
                    f"Envoy exited with status {self.envoy.returncode} at start; "
                    "see its output above."
                )
            try:
                status, body = admin_get(self.sockets.admin, "/listeners?format=json")
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                found = {
                    item["name"]: item["local_address"]["socket_address"]["port_value"]
                    for item in json.loads(body).get("listener_statuses", [])
                    if "socket_address" in item.get("local_address", {})
                }
                names = [*e2e_config.LISTENERS.values()]
                names += [e2e_config.BASELINE] if self.baseline else []
                if all(found.get(n) for n in names):
                    return found
            time.sleep(0.05)
        raise ToolkitError(f"Envoy's listeners did not come up within {START_TIMEOUT:g} s.")

    def port(self, ingress: bool, kind: str) -> int:
        return self.ports[e2e_config.LISTENERS[(ingress, kind)]]

    def start_agent(self) -> Agent:
        self.agent = Agent(self._services, self.binaries.agent, self.sockets,
                           self.access_log_state, self.log_events)  # fmt: skip
        return self.agent

    def restart_agent(self, timeout: float) -> bool:
        """Stop the agent (every xDS stream breaks), start a new one with nothing to serve;
        True once the module subscribed again to both NPDS and NPHDS."""
        if self.agent is not None:
            self.agent.stop()
        agent = self.start_agent()
        return self.filters and agent.call("wait_subscribed", timeout) is not None

    def set_access_log(self, state: str, timeout: float = 5.0) -> None:
        """Put the agent's access-log socket in `state` (open, closed, stalled); a restarted
        agent starts in the same state."""
        assert self.agent is not None
        reply = self.agent.call("access_log", timeout, state=state)
        if reply is None or "error" in reply:
            raise ToolkitError(f"The agent could not set its access log {state}: {reply}.")
        self.access_log_state = state


def _readline(stream: Any, timeout: float) -> bytes:
    """One line from a child's pipe, or b"" when none came within `timeout` seconds."""
    box: List[bytes] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else b""
