"""Faults that must hold (issue 17, item 4), each against a stack of its own.

The requests go through the eval protocol's own code (tools/engine/e2e_eval.Session), in
this process, so a test can also reach into the stack: restart the agent, stall or close
its access-log socket, start Envoy before it.  "Denied" is what a client sees of a refusal
(a 403 or a closed connection) with nothing reaching the upstream.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List

import pytest

from tools.engine.e2e_eval import Session
from tools.engine.e2e_stack import Stack

pytestmark = pytest.mark.e2e

NPDS = "type.googleapis.com/cilium.NetworkPolicy"
NPHDS = "type.googleapis.com/cilium.NetworkPolicyHosts"
ENDPOINT, REMOTE, STRANGER, NOBODY = "203.0.113.10", "198.51.100.7", "198.51.100.99", "203.0.113.99"
#: What a request may cost at most while the access log is missing, full or closed (s).
REQUEST_BOUND = 1.0


def hosts(version: str, remote: str = REMOTE) -> Dict[str, Any]:
    return {"version_info": version, "type_url": NPHDS,
            "resources": [{"@type": NPHDS, "policy": 1001, "host_addresses": [remote + "/32"]}]}  # fmt: skip


def policy(version: str, path: str = "/allowed", endpoint: str = ENDPOINT) -> Dict[str, Any]:
    """Ingress and egress port 80 for identity 1001 with one path; TCP port 9000 for it."""
    http = [{"port": 80, "rules": [{"remote_policies": [1001], "http_rules": {
        "http_rules": [{"headers": [{"name": ":path", "exact_match": path}]}]}}]},
        {"port": 9000, "rules": [{"remote_policies": [1001]}]}]  # fmt: skip
    return {"version_info": version, "type_url": NPDS, "resources": [
        {"@type": NPDS, "endpoint_ips": [endpoint], "endpoint_id": 7,
         "ingress_per_port_policies": http, "egress_per_port_policies": http}]}  # fmt: skip


def get(session: Session, path: str, source: str = REMOTE, destination: str = ENDPOINT,
        ingress: bool = True, logs: bool = True) -> Dict[str, Any]:  # fmt: skip
    body = {"source": source, "destination": destination, "port": 80, "ingress": ingress,
            "headers": [[":method", "GET"], [":path", path], [":authority", "svc"]]}  # fmt: skip
    return session.request(body, logs=logs)


def connect(session: Session, source: str = REMOTE, destination: str = ENDPOINT,
            ingress: bool = True) -> bool:  # fmt: skip
    body = {"source": source, "destination": destination, "port": 9000, "ingress": ingress}
    return bool(session.connect(body)["connected"])


def allowed(reply: Dict[str, Any]) -> bool:
    return reply["status"] == 200 and reply["upstream_headers"] is not None


def denied(reply: Dict[str, Any]) -> bool:
    return reply["status"] in (0, 403) and reply["upstream_headers"] is None


def ok(session: Session, response: Dict[str, Any]) -> None:
    assert session.update(response) == {"ok": True}


def enforce_basics(session: Session) -> None:
    ok(session, hosts("1"))
    ok(session, policy("1"))
    assert allowed(get(session, "/allowed"))
    assert denied(get(session, "/other"))


def test_nack_keeps_every_policy_and_host_entry(stack: Stack) -> None:
    session = Session(stack)
    enforce_basics(session)
    bad_policy = policy("2", path="/other")
    rules = bad_policy["resources"][0]["ingress_per_port_policies"][0]["rules"][0]
    rules["http_rules"]["http_rules"][0]["headers"] = [
        {"name": ":path", "safe_regex_match": {"google_re2": {}, "regex": "(unclosed"}}
    ]
    reply = session.update(bad_policy)
    assert reply["ok"] is False and reply["error"], reply
    bad_hosts = hosts("2", remote="198.51.100.7/33")
    reply = session.update(bad_hosts)
    assert reply["ok"] is False and reply["error"], reply
    # Each answer as the contract says: an ACK names the version, a NACK the last accepted.
    assert stack.agent is not None
    answers = [
        e for e in stack.agent.streams if e.get("kind") == "request" and e.get("response_nonce")
    ]
    assert [(e["type_url"], e.get("version_info"), bool(e.get("error_detail"))) for e in answers] == [
        (NPHDS, "1", False), (NPDS, "1", False), (NPDS, "1", True), (NPHDS, "1", True)
    ]  # fmt: skip
    # Both maps as last accepted: the old path, the old identity of the remote.
    assert allowed(get(session, "/allowed"))
    assert denied(get(session, "/other"))
    assert connect(session)
    # Egress too: the endpoint is the source, the remote keeps identity 1001.
    assert allowed(get(session, "/allowed", source=ENDPOINT, destination=REMOTE, ingress=False))


def test_agent_restart_keeps_the_last_accepted_state(stack: Stack) -> None:
    session = Session(stack)
    enforce_basics(session)
    assert stack.agent is not None
    old = stack.agent
    assert session.restart_agent({}) == {"ok": True}
    assert stack.agent is not old
    # The module came back with what it last accepted, and no nonce (MODULE_CONTRACT).
    first = {}
    for event in stack.agent.streams:
        if event.get("kind") == "request" and event["type_url"] not in first:
            first[event["type_url"]] = event
    assert first[NPDS].get("version_info") == "1" and not first[NPDS].get("response_nonce")
    assert first[NPHDS].get("version_info") == "1" and not first[NPHDS].get("response_nonce")
    # The new agent served nothing, yet the policy is enforced as before.
    assert allowed(get(session, "/allowed"))
    assert denied(get(session, "/other"))
    assert connect(session)
    # And the new agent's updates are taken.
    ok(session, policy("2", path="/other"))
    assert allowed(get(session, "/other"))
    assert denied(get(session, "/allowed"))


def test_unknown_endpoint_and_remote_are_denied(stack: Stack) -> None:
    session = Session(stack)
    enforce_basics(session)
    # Ingress: an endpoint without policy; a remote without host entry (WORLD, not 1001).
    assert denied(get(session, "/allowed", destination=NOBODY))
    assert denied(get(session, "/allowed", source=STRANGER))
    assert not connect(session, destination=NOBODY)
    assert not connect(session, source=STRANGER)
    # Egress: the source without policy; a destination without host entry.
    assert denied(get(session, "/allowed", source=NOBODY, destination=REMOTE, ingress=False))
    assert denied(get(session, "/allowed", source=ENDPOINT, destination=STRANGER, ingress=False))
    assert not connect(session, source=NOBODY, destination=REMOTE, ingress=False)
    assert not connect(session, source=ENDPOINT, destination=STRANGER, ingress=False)
    # The same flows pass when they are the known ones.
    assert allowed(get(session, "/allowed", source=ENDPOINT, destination=REMOTE, ingress=False))
    assert connect(session, source=ENDPOINT, destination=REMOTE, ingress=False)


def timed(session: Session, count: int) -> List[float]:
    took = []
    for _ in range(count):
        started = time.monotonic()
        assert allowed(get(session, "/allowed", logs=False))
        assert denied(get(session, "/other", logs=False))
        took.append(time.monotonic() - started)
    return took


@pytest.mark.parametrize("state", ["closed", "stalled"])
def test_access_log_missing_or_full_from_the_start(binaries, state: str) -> None:
    """No socket file at all (closed), or one nobody reads (stalled: it fills up after a
    few entries): every request still gets its verdict, each within REQUEST_BOUND."""
    with Stack(binaries, access_log_state=state) as stack:
        session = Session(stack)
        enforce_basics(session)
        took = timed(session, 40)
        assert max(took) < 2 * REQUEST_BOUND, took
        assert stack.agent is not None and stack.agent.mark == 0  # nothing was read


def test_access_log_closed_or_stalled_mid_run(stack: Stack) -> None:
    session = Session(stack)
    enforce_basics(session)
    reply = get(session, "/allowed")
    assert [e["entry_type"] for e in reply["access_log"]] == ["Request", "Response"]
    stack.set_access_log("stalled")
    took = timed(session, 40)
    stack.set_access_log("closed")
    took += timed(session, 10)
    assert max(took) < 2 * REQUEST_BOUND, took
    assert connect(session)


def test_envoy_before_the_agent_waits_then_enforces(binaries) -> None:
    with Stack(binaries, agent_first=False) as stack:
        session = Session(stack)
        # No agent, no policy: nothing gets through.
        assert denied(get(session, "/allowed", logs=False))
        assert not connect(session)
        agent = stack.start_agent()
        reply = agent.call("wait_subscribed", 15)
        assert reply is not None and reply.get("ok") is True, reply
        assert denied(get(session, "/allowed", logs=False))  # subscribed, still no policy
        enforce_basics(session)
        assert connect(session)


#: MODULE_CONTRACT: reconnect with backoff, first retry within ~100 ms, capped at ~1 s
#: (gRPC adds up to 20% jitter); the rest is room for a busy machine.
RECONNECT_BOUND = 2.0


def test_module_resubscribes_at_once_after_an_agent_restart(stack: Stack) -> None:
    assert stack.agent is not None
    assert stack.agent.call("wait_subscribed", 15) is not None
    for _ in range(3):
        started = time.monotonic()
        assert stack.restart_agent(15)
        assert time.monotonic() - started < RECONNECT_BOUND


def test_module_subscribes_within_the_backoff_cap_once_the_agent_appears(binaries) -> None:
    """Seconds without the agent's socket put the module's retries at their cap; once the
    agent listens, the module subscribes within that cap (not gRPC's default backoff)."""
    with Stack(binaries, agent_first=False) as stack:
        time.sleep(3)  # no socket at all meanwhile
        agent = stack.start_agent()  # returns once the agent listens
        started = time.monotonic()
        reply = agent.call("wait_subscribed", 15)
        assert reply is not None and reply.get("ok") is True
        assert time.monotonic() - started < RECONNECT_BOUND
