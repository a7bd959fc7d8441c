"""The Envoy extensions compiled into cilium-envoy: deliberately few.

Every extension costs build time, binary size and attack surface.  Each line says
why Cilium needs it; add one only with a reason of the same kind.
"""

EXTENSIONS = {
    # Listener filters: Cilium's listeners sit behind BPF redirection.
    "envoy.filters.listener.original_dst": "//source/extensions/filters/listener/original_dst:config",  # original destination of redirected connections, until cilium-filters has its BPF metadata listener filter
    "envoy.filters.listener.tls_inspector": "//source/extensions/filters/listener/tls_inspector:config",  # SNI and ALPN for TLS-aware L7 policy
    "envoy.filters.listener.proxy_protocol": "//source/extensions/filters/listener/proxy_protocol:config",  # Ingress/Gateway API behind load balancers that send PROXY headers

    # Network filters.
    "envoy.filters.network.http_connection_manager": "//source/extensions/filters/network/http_connection_manager:config",  # every HTTP policy, Ingress and Gateway API listener
    "envoy.filters.network.tcp_proxy": "//source/extensions/filters/network/tcp_proxy:config",  # L4 forwarding for TLS passthrough and non-HTTP policies

    # HTTP filters.
    "envoy.filters.http.router": "//source/extensions/filters/http/router:config",  # terminal HTTP filter of every chain
    "envoy.filters.http.grpc_web": "//source/extensions/filters/http/grpc_web:config",  # Gateway API GRPCRoute from browsers
    "envoy.filters.http.grpc_stats": "//source/extensions/filters/http/grpc_stats:config",  # per-method gRPC metrics in Hubble
    "envoy.filters.http.local_ratelimit": "//source/extensions/filters/http/local_ratelimit:config",  # CiliumEnvoyConfig rate limits without an external service
    "envoy.filters.http.ext_authz": "//source/extensions/filters/http/ext_authz:config",  # external authorization from CiliumEnvoyConfig

    # Clusters and load balancing.
    "envoy.clusters.original_dst": "//source/extensions/clusters/original_dst:original_dst_cluster_lib",  # forward to the destination the pod asked for
    "envoy.clusters.static": "//source/extensions/clusters/static:static_cluster_lib",  # the agent's xDS and access-log sockets
    "envoy.clusters.eds": "//source/extensions/clusters/eds:eds_lib",  # service backends from the Cilium agent
    "envoy.clusters.strict_dns": "//source/extensions/clusters/strict_dns:strict_dns_cluster_lib",  # external-name services
    "envoy.load_balancing_policies.round_robin": "//source/extensions/load_balancing_policies/round_robin:config",  # default service load balancing
    "envoy.load_balancing_policies.least_request": "//source/extensions/load_balancing_policies/least_request:config",  # Ingress `least_request` annotation
    "envoy.load_balancing_policies.maglev": "//source/extensions/load_balancing_policies/maglev:config",  # consistent hashing, as Cilium's own Maglev mode
    "envoy.load_balancing_policies.ring_hash": "//source/extensions/load_balancing_policies/ring_hash:config",  # session affinity by header or cookie
    "envoy.load_balancing_policies.cluster_provided": "//source/extensions/load_balancing_policies/cluster_provided:config",  # original_dst clusters pick their own host

    # Transport sockets and upstream protocols.
    "envoy.transport_sockets.tls": "//source/extensions/transport_sockets/tls:config",  # TLS origination and termination for TLS interception
    "envoy.transport_sockets.raw_buffer": "//source/extensions/transport_sockets/raw_buffer:config",  # plain connections
    "envoy.upstreams.http.http": "//source/extensions/upstreams/http/http:config",  # the router's HTTP/1 and HTTP/2 (gRPC) upstream connections

    # Observability.
    "envoy.access_loggers.file": "//source/extensions/access_loggers/file:config",  # proxy access logs on stdout for debugging
    "envoy.health_checkers.http": "//source/extensions/health_checkers/http:health_checker_lib",  # active health checks from CiliumEnvoyConfig

    # Service discovery and config.
    "envoy.config_subscription.grpc": "//source/extensions/config_subscription/grpc:grpc_subscription_lib",  # xDS (and Cilium's NPDS) from the agent over a Unix socket
    "envoy.network.dns_resolver.cares": "//source/extensions/network/dns_resolver/cares:config",  # the DNS resolver strict_dns clusters use
}

# Names Envoy's build reads from this file besides EXTENSIONS.  Public visibility lets
# cilium-filters depend on extension libraries directly.
EXTENSION_CONFIG_VISIBILITY = ["//visibility:public"]
EXTENSION_PACKAGE_VISIBILITY = ["//visibility:public"]
CONTRIB_EXTENSION_PACKAGE_VISIBILITY = ["//visibility:public"]

# Envoy Mobile is not built here.
MOBILE_PACKAGE_VISIBILITY = ["//:mobile_library"]

# Envoy's libraries keep alwayslink (its default), as its own build does.
LEGACY_ALWAYSLINK = 1
