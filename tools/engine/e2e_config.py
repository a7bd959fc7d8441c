"""The Envoy bootstrap the e2e harness runs: Cilium's listeners in the dynamic-module form.

Cilium's agent writes one listener per proxy port (cilium/cilium pkg/envoy/xds_server.go,
``getListenerConf``): listener filters ``tls_inspector`` then ``cilium.bpf_metadata``; an
HTTP filter chain of ``cilium.network`` (an empty ``NetworkFilter``) then the HTTP
connection manager (stat prefix ``proxy``, ``use_remote_address``, ``skip_xff_append``,
Cilium's internal address ranges, no stream idle timeout, HTTP filters ``cilium.l7policy``
then the router, two routes to the direction's cluster, the first for gRPC, with a timeout
and retries on 5xx); a TCP chain of ``cilium.network`` (with the access-log path) then
``tcp_proxy``.  Here, per the module contract (/work/notes/MODULE_CONTRACT.md), each Cilium
filter is the matching Envoy dynamic-module filter of module ``cilium`` with Cilium's own
config message as proto3 JSON in a ``StringValue``; ``proxy_protocol`` replaces
``tls_inspector`` so the client names the connection's source and destination.

What differs on purpose: every listener binds 127.0.0.1 on a port the system picks, and the
clusters are STATIC, pointing at the local echo upstream (Cilium's are ORIGINAL_DST: the
destinations the harness sends are documentation addresses nobody listens on).  The admin
interface listens on a Unix socket.  ``filters=False`` gives the same listeners with only
``proxy_protocol`` and the router; ``baseline`` adds such a router-only HTTP listener
(BASELINE) beside the filtered ones, so that ``nox -s e2e -- bench`` compares both paths
through one Envoy; ``proxy_protocol_optional`` lets clients that send no PROXY header
through (a load generator cannot send one): the connection's own addresses then stand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, List

#: Cilium's defaults (pkg/option): request timeout 3600 s, 3 retries, no per-try timeout.
REQUEST_TIMEOUT = "3600s"
RETRIES = 3
#: The module's name: Envoy loads lib<name>.so from ENVOY_DYNAMIC_MODULES_SEARCH_PATH.
MODULE = "cilium"
#: Listener names: (direction, kind) -> name; the harness looks their ports up by name.
LISTENERS = {
    (True, "http"): "ingress-http",
    (False, "http"): "egress-http",
    (True, "tcp"): "ingress-tcp",
    (False, "tcp"): "egress-tcp",
}
#: The router-only ingress HTTP listener a ``baseline`` bootstrap adds.
BASELINE = "baseline-http"
HTTP_CLUSTER = "upstream-http"
TCP_CLUSTER = "upstream-tcp"

_TYPE = "type.googleapis.com/"
_INTERNAL_RANGES = (("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16),
                    ("127.0.0.1", 32), ("::1", 128))  # fmt: skip


@dataclass(frozen=True)
class Sockets:
    """Where the agent's sockets and Envoy's admin are (Unix socket paths)."""

    xds: str
    access_log: str
    admin: str


def _module_filter(kind: str, name: str, config: Dict[str, Any]) -> Dict[str, Any]:
    """A dynamic-module filter of kind listener/network/http running filter `name`."""
    message = {
        "listener": "envoy.extensions.filters.listener.dynamic_modules.v3.DynamicModuleListenerFilter",
        "network": "envoy.extensions.filters.network.dynamic_modules.v3.DynamicModuleNetworkFilter",
        "http": "envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter",
    }[kind]  # fmt: skip
    return {
        "name": f"envoy.filters.{kind}.dynamic_modules",
        "typed_config": {
            "@type": _TYPE + message,
            "dynamic_module_config": {"name": MODULE},
            "filter_name": name,
            "filter_config": {
                "@type": _TYPE + "google.protobuf.StringValue",
                "value": json.dumps(config, separators=(",", ":"), sort_keys=True),
            },
        },
    }


def bpf_metadata(is_ingress: bool, sockets: Sockets) -> Dict[str, Any]:
    """cilium.BpfMetadata as Cilium's agent fills it, plus where the agent's xDS is."""
    return {
        "is_ingress": is_ingress,
        "cilium_config_source": {
            "api_config_source": {
                "api_type": "GRPC",
                "transport_api_version": "V3",
                "grpc_services": [
                    {"google_grpc": {"target_uri": f"unix:{sockets.xds}", "stat_prefix": "xds"}}
                ],
            },
        },
    }


def _route(cluster: str, grpc: bool) -> Dict[str, Any]:
    match: Dict[str, Any] = {"prefix": "/"}
    action: Dict[str, Any] = {
        "cluster": cluster,
        "timeout": REQUEST_TIMEOUT,
        "retry_policy": {"retry_on": "5xx", "num_retries": RETRIES, "per_try_timeout": "0s"},
    }
    if grpc:
        match["grpc"] = {}
        action["max_stream_duration"] = {"grpc_timeout_header_max": "0s"}
    return {"match": match, "route": action}


def _listener(name: str, listener_filters: List[dict], filters: List[dict]) -> Dict[str, Any]:
    return {
        "name": name,
        "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
        "listener_filters": listener_filters,
        "filter_chains": [{"filters": filters}],
    }


def http_listener(
    is_ingress: bool, sockets: Sockets, filters: bool, proxy_protocol_optional: bool = False
) -> Dict[str, Any]:
    http_filters = [
        {
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": _TYPE + "envoy.extensions.filters.http.router.v3.Router"},
        }
    ]
    if filters:
        l7policy = {"access_log_path": sockets.access_log}
        http_filters.insert(0, _module_filter("http", "cilium.l7policy", l7policy))
    hcm = {
        "@type": _TYPE
        + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "proxy",
        "use_remote_address": True,
        "skip_xff_append": True,
        "http_filters": http_filters,
        "internal_address_config": {
            "unix_sockets": False,
            "cidr_ranges": [{"address_prefix": a, "prefix_len": n} for a, n in _INTERNAL_RANGES],
        },
        "stream_idle_timeout": "0s",
        "route_config": {
            "virtual_hosts": [
                {
                    "name": "default_route",
                    "domains": ["*"],
                    "routes": [_route(HTTP_CLUSTER, True), _route(HTTP_CLUSTER, False)],
                }
            ]
        },
    }
    chain = [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]
    if filters:
        chain.insert(0, _module_filter("network", "cilium.network", {}))
    return _listener(
        LISTENERS[(is_ingress, "http")],
        _listener_filters(is_ingress, sockets, filters, proxy_protocol_optional),
        chain,
    )


def tcp_listener(
    is_ingress: bool, sockets: Sockets, filters: bool, proxy_protocol_optional: bool = False
) -> Dict[str, Any]:
    tcp_proxy = {
        "name": "envoy.filters.network.tcp_proxy",
        "typed_config": {
            "@type": _TYPE + "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
            "stat_prefix": "tcp_proxy",
            "cluster": TCP_CLUSTER,
        },
    }
    chain = [tcp_proxy]
    if filters:
        network = {"access_log_path": sockets.access_log}
        chain.insert(0, _module_filter("network", "cilium.network", network))
    return _listener(
        LISTENERS[(is_ingress, "tcp")],
        _listener_filters(is_ingress, sockets, filters, proxy_protocol_optional),
        chain,
    )


def _listener_filters(
    is_ingress: bool, sockets: Sockets, filters: bool, proxy_protocol_optional: bool
) -> List[dict]:
    proxy_protocol: Dict[str, Any] = {
        "name": "envoy.filters.listener.proxy_protocol",
        "typed_config": {
            "@type": _TYPE + "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol"
        },
    }
    if proxy_protocol_optional:
        proxy_protocol["typed_config"]["allow_requests_without_proxy_protocol"] = True
    if not filters:
        return [proxy_protocol]
    return [
        proxy_protocol,
        _module_filter("listener", "cilium.bpf_metadata", bpf_metadata(is_ingress, sockets)),
    ]


def _cluster(name: str, port: int) -> Dict[str, Any]:
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": {"address": "127.0.0.1", "port_value": port}
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }


def bootstrap(
    sockets: Sockets,
    http_port: int,
    tcp_port: int,
    filters: bool = True,
    proxy_protocol_optional: bool = False,
    baseline: bool = False,
) -> Dict[str, Any]:
    """The whole bootstrap: four listeners (five with the baseline), the two upstream
    clusters, admin on a socket."""
    optional = proxy_protocol_optional
    listeners = [
        http_listener(True, sockets, filters, optional),
        http_listener(False, sockets, filters, optional),
        tcp_listener(True, sockets, filters, optional),
        tcp_listener(False, sockets, filters, optional),
    ]
    if baseline:
        listeners.append({**http_listener(True, sockets, False, optional), "name": BASELINE})
    return {
        # Cilium's node: "host~127.0.0.1~no-id~localdomain" in cluster ingress-cluster.
        "node": {"id": "host~127.0.0.1~no-id~localdomain", "cluster": "ingress-cluster"},
        "admin": {"address": {"pipe": {"path": sockets.admin}}},
        # A limit, so Envoy does not warn at every start that there is none.
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": _TYPE + "envoy.extensions.resource_monitors.downstream_connections"
                        ".v3.DownstreamConnectionsConfig",
                        "max_active_downstream_connections": 50000,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": listeners,
            "clusters": [_cluster(HTTP_CLUSTER, http_port), _cluster(TCP_CLUSTER, tcp_port)],
        },
    }
