"""The Envoy extensions compiled into cilium-envoy, each with the Cilium feature that needs it.

"Minimal" means minimal for what Cilium configures, not a minimal Envoy: besides its own
listeners, Cilium hands Envoy configuration written by its operator (Ingress, Gateway API)
and by users (CiliumEnvoyConfig) to this binary, and a name that is not compiled in makes
Envoy reject the whole resource.  The list starts from what the Cilium proxy compiled for
the same Envoy release; LEFT_OUT says why each of its extensions that is missing here is
missing.  README.md ("Which extensions are compiled in") says how to add one; the tests in
tools/tests/test_envoy_build.py check every name and label against Envoy's own list.

This file is Starlark that is also valid Python (the tests read it by running it).
"""

# Who configures an extension: the FEATURE column of EXTENSION_TABLE.
CILIUM_FEATURES = {
    "bootstrap": "the bootstrap Cilium starts the proxy with (written by the agent, or the Helm chart's ConfigMap for the cilium-envoy DaemonSet)",
    "policy": "L7 network policy: the listeners, filter chains and clusters the agent writes for CiliumNetworkPolicy L7 rules and TLS interception",
    "ingress": "Ingress and Gateway API: the listeners, routes and clusters Cilium's operator writes",
    "l7lb": "L7 service load balancing: Services annotated service.cilium.io/lb-l7, with the algorithm of service.cilium.io/lb-l7-algorithm",
    "cec": "CiliumEnvoyConfig and CiliumClusterwideEnvoyConfig: Envoy resources users write, handed to the proxy as they are",
    "cilium": "Cilium's own filters (cilium-filters/module): one Envoy dynamic module that Envoy loads at the listener, network and HTTP levels through these extensions",
}

# (name, Envoy's label for it, FEATURE, what it is used for), grouped as Envoy groups them.
EXTENSION_TABLE = [
    # Listener filters.
    ("envoy.filters.listener.original_dst", "//source/extensions/filters/listener/original_dst:config", "policy", "original destination of redirected connections until cilium-filters brings Cilium's BPF metadata listener filter; listeners with use_original_dst load it implicitly"),
    ("envoy.filters.listener.tls_inspector", "//source/extensions/filters/listener/tls_inspector:config", "ingress", "SNI and ALPN pick the filter chain of HTTPS and TLS passthrough listeners"),
    ("envoy.filters.listener.proxy_protocol", "//source/extensions/filters/listener/proxy_protocol:config", "ingress", "listeners behind a load balancer that sends PROXY protocol headers"),
    ("envoy.filters.listener.http_inspector", "//source/extensions/filters/listener/http_inspector:config", "cec", "filter chains chosen by HTTP version"),
    ("envoy.filters.listener.local_ratelimit", "//source/extensions/filters/listener/local_ratelimit:config", "cec", "rate limits on new connections of a listener"),
    ("envoy.filters.listener.dynamic_modules", "//source/extensions/filters/listener/dynamic_modules:config", "cilium", "Cilium's listener filter (the BPF metadata of redirected connections) from the cilium-filters module"),

    # Network filters.
    ("envoy.filters.network.http_connection_manager", "//source/extensions/filters/network/http_connection_manager:config", "policy", "every HTTP listener: L7 policy, Ingress, Gateway API, the metrics and health listeners of the bootstrap"),
    ("envoy.filters.network.tcp_proxy", "//source/extensions/filters/network/tcp_proxy:config", "ingress", "TLS passthrough (TLSRoute) and TCP forwarding"),
    ("envoy.filters.network.connection_limit", "//source/extensions/filters/network/connection_limit:config", "cec", "caps on concurrent connections per filter chain"),
    ("envoy.filters.network.ext_authz", "//source/extensions/filters/network/ext_authz:config", "cec", "external authorization of TCP connections"),
    ("envoy.filters.network.local_ratelimit", "//source/extensions/filters/network/local_ratelimit:config", "cec", "token-bucket rate limits on TCP connections"),
    ("envoy.filters.network.ratelimit", "//source/extensions/filters/network/ratelimit:config", "cec", "global rate limits on TCP connections through a rate limit service"),
    ("envoy.filters.network.rbac", "//source/extensions/filters/network/rbac:config", "cec", "role-based access control of TCP connections"),
    ("envoy.filters.network.set_filter_state", "//source/extensions/filters/network/set_filter_state:config", "cec", "connection filter state for upstream selection and logging"),
    ("envoy.filters.network.sni_cluster", "//source/extensions/filters/network/sni_cluster:config", "cec", "TLS connections routed to the cluster their SNI names"),
    ("envoy.filters.network.sni_dynamic_forward_proxy", "//source/extensions/filters/network/sni_dynamic_forward_proxy:config", "cec", "TLS egress to the host the SNI names, resolved on demand"),
    ("envoy.filters.network.wasm", "//source/extensions/filters/network/wasm:config", "cec", "Wasm network filters"),
    ("envoy.filters.network.mongo_proxy", "//source/extensions/filters/network/mongo_proxy:config", "cec", "MongoDB protocol statistics and access logs"),
    ("envoy.filters.network.mysql_proxy", "//contrib/mysql_proxy/filters/network/source:config", "cec", "MySQL protocol statistics"),
    ("envoy.filters.network.dynamic_modules", "//source/extensions/filters/network/dynamic_modules:config", "cilium", "Cilium's network filter (L3/L4 policy, Kafka and other L7 parsers) from the cilium-filters module"),

    # UDP listener and session filters.
    ("envoy.filters.udp_listener.udp_proxy", "//source/extensions/filters/udp/udp_proxy:config", "cec", "UDP forwarding"),
    ("envoy.filters.udp.session.http_capsule", "//source/extensions/filters/udp/udp_proxy/session_filters/http_capsule:config", "cec", "UDP datagrams carried over HTTP (CONNECT-UDP) by udp_proxy"),
    ("envoy.filters.udp.session.dynamic_forward_proxy", "//source/extensions/filters/udp/udp_proxy/session_filters/dynamic_forward_proxy:config", "cec", "UDP sessions to hosts resolved on demand"),

    # HTTP filters.
    ("envoy.filters.http.router", "//source/extensions/filters/http/router:config", "policy", "terminal filter of every HTTP filter chain"),
    ("envoy.filters.http.grpc_web", "//source/extensions/filters/http/grpc_web:config", "ingress", "in every Ingress and Gateway API filter chain: gRPC-Web clients of GRPCRoute backends"),
    ("envoy.filters.http.grpc_stats", "//source/extensions/filters/http/grpc_stats:config", "ingress", "in every Ingress and Gateway API filter chain: per-method gRPC statistics"),
    ("envoy.filters.http.local_ratelimit", "//source/extensions/filters/http/local_ratelimit:config", "cec", "rate limits without an external service"),
    ("envoy.filters.http.ratelimit", "//source/extensions/filters/http/ratelimit:config", "cec", "global rate limits through a rate limit service"),
    ("envoy.filters.http.rate_limit_quota", "//source/extensions/filters/http/rate_limit_quota:config", "cec", "rate limit quotas assigned by a quota service"),
    ("envoy.filters.http.ext_authz", "//source/extensions/filters/http/ext_authz:config", "cec", "external authorization of requests"),
    ("envoy.filters.http.rbac", "//source/extensions/filters/http/rbac:config", "cec", "role-based access control of requests"),
    ("envoy.filters.http.jwt_authn", "//source/extensions/filters/http/jwt_authn:config", "cec", "JWT validation"),
    ("envoy.filters.http.oauth2", "//source/extensions/filters/http/oauth2:config", "cec", "OAuth2 login in front of applications"),
    ("envoy.filters.http.basic_auth", "//source/extensions/filters/http/basic_auth:config", "cec", "HTTP basic authentication"),
    ("envoy.filters.http.cors", "//source/extensions/filters/http/cors:config", "cec", "CORS policies: routes' cors settings take effect only with this filter in the chain"),
    ("envoy.filters.http.compressor", "//source/extensions/filters/http/compressor:config", "cec", "response compression"),
    ("envoy.filters.http.health_check", "//source/extensions/filters/http/health_check:config", "cec", "health-check answers from the proxy itself"),
    ("envoy.filters.http.dynamic_forward_proxy", "//source/extensions/filters/http/dynamic_forward_proxy:config", "cec", "HTTP egress to the host a request names, resolved on demand"),
    ("envoy.filters.http.set_filter_state", "//source/extensions/filters/http/set_filter_state:config", "cec", "request filter state for upstream selection and logging"),
    ("envoy.filters.http.set_metadata", "//source/extensions/filters/http/set_metadata:config", "cec", "dynamic metadata for later filters, routes and logs"),
    ("envoy.filters.http.wasm", "//source/extensions/filters/http/wasm:config", "cec", "Wasm HTTP filters"),
    ("envoy.filters.http.buffer", "//source/extensions/filters/http/buffer:config", "cec", "whole requests buffered before they are forwarded"),
    ("envoy.filters.http.ext_proc", "//source/extensions/filters/http/ext_proc:config", "cec", "requests and responses handed to an external processing service"),
    ("envoy.filters.http.stateful_session", "//source/extensions/filters/http/stateful_session:config", "cec", "session persistence: a client keeps the backend it was sent to first"),
    ("envoy.filters.http.dynamic_modules", "//source/extensions/filters/http/dynamic_modules:factory_registration", "cilium", "Cilium's HTTP filter (L7 policy: header rules, access logs) from the cilium-filters module"),

    # Compression libraries of the compressor filter.
    ("envoy.compression.gzip.compressor", "//source/extensions/compression/gzip/compressor:config", "cec", "gzip for the compressor filter"),
    ("envoy.compression.brotli.compressor", "//source/extensions/compression/brotli/compressor:config", "cec", "brotli for the compressor filter"),
    ("envoy.compression.zstd.compressor", "//source/extensions/compression/zstd/compressor:config", "cec", "zstd for the compressor filter"),

    # Clusters.
    ("envoy.clusters.original_dst", "//source/extensions/clusters/original_dst:original_dst_cluster_lib", "bootstrap", "ingress-cluster and egress-cluster: forward to the destination the redirected connection asked for"),
    ("envoy.clusters.static", "//source/extensions/clusters/static:static_cluster_lib", "bootstrap", "xds-grpc-cilium and /envoy-admin: the agent's xDS socket and the admin socket"),
    ("envoy.clusters.eds", "//source/extensions/clusters/eds:eds_lib", "l7lb", "Service backends the agent sends over EDS (also Ingress and Gateway API backends)"),
    ("envoy.clusters.strict_dns", "//source/extensions/clusters/strict_dns:strict_dns_cluster_lib", "cec", "backends named by DNS, every address used"),
    ("envoy.clusters.logical_dns", "//source/extensions/clusters/logical_dns:logical_dns_cluster_lib", "cec", "backends named by DNS, one address at a time"),
    ("envoy.clusters.dynamic_forward_proxy", "//source/extensions/clusters/dynamic_forward_proxy:cluster", "cec", "the cluster of the dynamic forward proxy filters"),
    ("envoy.clusters.dns", "//source/extensions/clusters/dns:dns_cluster_lib", "cec", "backends named by DNS, configured through the DnsCluster extension type"),

    # Load balancing policies.
    ("envoy.load_balancing_policies.cluster_provided", "//source/extensions/load_balancing_policies/cluster_provided:config", "bootstrap", "the CLUSTER_PROVIDED policy of the bootstrap's original destination clusters"),
    ("envoy.load_balancing_policies.round_robin", "//source/extensions/load_balancing_policies/round_robin:config", "l7lb", "the default algorithm (lb-l7-algorithm round_robin) and every cluster that names none"),
    ("envoy.load_balancing_policies.least_request", "//source/extensions/load_balancing_policies/least_request:config", "l7lb", "lb-l7-algorithm least_request"),
    ("envoy.load_balancing_policies.random", "//source/extensions/load_balancing_policies/random:config", "l7lb", "lb-l7-algorithm random"),
    ("envoy.load_balancing_policies.maglev", "//source/extensions/load_balancing_policies/maglev:config", "cec", "consistent hashing by Maglev"),
    ("envoy.load_balancing_policies.ring_hash", "//source/extensions/load_balancing_policies/ring_hash:config", "cec", "consistent hashing by ring hash (session affinity)"),
    ("envoy.load_balancing_policies.subset", "//source/extensions/load_balancing_policies/subset:config", "cec", "load balancing over endpoint subsets chosen by metadata"),
    ("envoy.load_balancing_policies.client_side_weighted_round_robin", "//source/extensions/load_balancing_policies/client_side_weighted_round_robin:config", "cec", "weights reported by the backends"),
    ("envoy.load_balancing_policies.override_host", "//source/extensions/load_balancing_policies/override_host:config", "cec", "the backend a request or its metadata names, before any other policy"),

    # Transport sockets and upstream protocols.
    ("envoy.transport_sockets.raw_buffer", "//source/extensions/transport_sockets/raw_buffer:config", "bootstrap", "plain connections: the transport socket of every cluster and filter chain that names none"),
    ("envoy.transport_sockets.tls", "//source/extensions/transport_sockets/tls:config", "ingress", "HTTPS listeners with certificates from the agent's SDS, and TLS origination"),
    ("envoy.transport_sockets.internal_upstream", "//source/extensions/transport_sockets/internal_upstream:config", "cec", "connections to internal listeners that carry metadata along"),
    ("envoy.transport_sockets.upstream_proxy_protocol", "//source/extensions/transport_sockets/proxy_protocol:upstream_config", "cec", "PROXY protocol headers towards backends"),
    ("envoy.upstreams.http.http", "//source/extensions/upstreams/http/http:config", "policy", "the router's HTTP/1 and HTTP/2 upstream connections"),
    ("envoy.upstreams.http.tcp", "//source/extensions/upstreams/http/tcp:config", "cec", "CONNECT requests terminated at the proxy"),
    ("envoy.upstreams.http.udp", "//source/extensions/upstreams/http/udp:config", "cec", "CONNECT-UDP requests terminated at the proxy"),

    # Access loggers.
    ("envoy.access_loggers.file", "//source/extensions/access_loggers/file:config", "cec", "access logs to a file"),
    ("envoy.access_loggers.stdout", "//source/extensions/access_loggers/stream:config", "cec", "access logs to the proxy's standard output"),
    ("envoy.access_loggers.stderr", "//source/extensions/access_loggers/stream:config", "cec", "access logs to the proxy's standard error"),
    ("envoy.access_loggers.http_grpc", "//source/extensions/access_loggers/grpc:http_config", "cec", "HTTP access logs to a gRPC access log service"),
    ("envoy.access_loggers.tcp_grpc", "//source/extensions/access_loggers/grpc:tcp_config", "cec", "TCP access logs to a gRPC access log service"),
    ("envoy.access_loggers.open_telemetry", "//source/extensions/access_loggers/open_telemetry:config", "cec", "access logs to an OpenTelemetry collector"),
    ("envoy.access_loggers.fluentd", "//source/extensions/access_loggers/fluentd:config", "cec", "access logs to Fluentd"),
    ("envoy.access_loggers.wasm", "//source/extensions/access_loggers/wasm:config", "cec", "Wasm access loggers"),
    ("envoy.access_loggers.extension_filters.cel", "//source/extensions/access_loggers/filters/cel:config", "cec", "access log filters written as CEL expressions"),

    # Health checks.
    ("envoy.health_checkers.http", "//source/extensions/health_checkers/http:health_checker_lib", "cec", "active HTTP health checks"),
    ("envoy.health_checkers.tcp", "//source/extensions/health_checkers/tcp:health_checker_lib", "cec", "active TCP health checks"),
    ("envoy.health_checkers.grpc", "//source/extensions/health_checkers/grpc:health_checker_lib", "cec", "active gRPC health checks"),
    ("envoy.health_checkers.redis", "//source/extensions/health_checkers/redis:config", "cec", "active Redis health checks"),
    ("envoy.health_checkers.thrift", "//source/extensions/health_checkers/thrift:config", "cec", "active Thrift health checks"),
    ("envoy.health_check.event_sinks.file", "//source/extensions/health_check/event_sinks/file:file_sink_lib", "cec", "health check events written to a file"),

    # Configuration sources.
    ("envoy.config_subscription.grpc", "//source/extensions/config_subscription/grpc:grpc_subscription_lib", "bootstrap", "LDS and CDS from the agent over xds-grpc-cilium (and Cilium's own NPDS and NPHDS)"),
    ("envoy.config_subscription.delta_grpc", "//source/extensions/config_subscription/grpc:grpc_subscription_lib", "cec", "incremental xDS from a management server"),
    ("envoy.config_subscription.ads", "//source/extensions/config_subscription/grpc:grpc_subscription_lib", "cec", "aggregated xDS from a management server"),
    ("envoy.config_subscription.aggregated_grpc_collection", "//source/extensions/config_subscription/grpc:grpc_collection_subscription_lib", "cec", "xDS collections over aggregated gRPC"),
    ("envoy.config_subscription.aggregated_delta_grpc_collection", "//source/extensions/config_subscription/grpc:grpc_collection_subscription_lib", "cec", "xDS collections over aggregated incremental gRPC"),
    ("envoy.config_subscription.ads_collection", "//source/extensions/config_subscription/grpc:grpc_collection_subscription_lib", "cec", "xDS collections over ADS"),
    ("envoy.config_subscription.filesystem", "//source/extensions/config_subscription/filesystem:filesystem_subscription_lib", "cec", "xDS resources read from files"),
    ("envoy.config_mux.sotw_grpc_mux_factory", "//source/extensions/config_subscription/grpc/xds_mux:grpc_mux_lib", "bootstrap", "the gRPC mux behind the agent's xDS stream when Envoy's unified_mux runtime feature is on"),
    ("envoy.config_mux.delta_grpc_mux_factory", "//source/extensions/config_subscription/grpc/xds_mux:grpc_mux_lib", "cec", "the incremental gRPC mux when Envoy's unified_mux runtime feature is on"),

    # Bootstrap extensions, resource monitors, stats sinks.
    ("envoy.bootstrap.internal_listener", "//source/extensions/bootstrap/internal_listener:config", "bootstrap", "Cilium's bootstrap enables internal listeners; Envoy refuses the bootstrap without it"),
    ("envoy.resource_monitors.global_downstream_max_connections", "//source/extensions/resource_monitors/downstream_connections:config", "bootstrap", "the overload manager's cap on downstream connections; Envoy refuses the bootstrap without it"),
    ("envoy.resource_monitors.cpu_utilization", "//source/extensions/resource_monitors/cpu_utilization:config", "bootstrap", "overload actions on CPU use in a bootstrap operators extend"),
    ("envoy.resource_monitors.cgroup_memory", "//source/extensions/resource_monitors/cgroup_memory:config", "bootstrap", "overload actions on the container's memory limit in a bootstrap operators extend"),
    ("envoy.stat_sinks.metrics_service", "//source/extensions/stat_sinks/metrics_service:config", "bootstrap", "statistics pushed to a gRPC metrics service from a bootstrap operators extend"),
    ("envoy.stat_sinks.open_telemetry", "//source/extensions/stat_sinks/open_telemetry:config", "bootstrap", "statistics pushed to an OpenTelemetry collector from a bootstrap operators extend"),
    ("envoy.stat_sinks.wasm", "//source/extensions/stat_sinks/wasm:config", "bootstrap", "Wasm statistics sinks"),
    ("envoy.bootstrap.wasm", "//source/extensions/bootstrap/wasm:config", "bootstrap", "Wasm services started with the proxy"),

    # Wasm runtimes: V8 is Envoy's default runtime (envoy/bazelrc leaves --define=wasm unset).
    ("envoy.wasm.runtime.v8", "//source/extensions/wasm_runtime/v8:config", "cec", "runs the Wasm modules of Wasm filters, loggers and sinks"),
    ("envoy.wasm.runtime.null", "//source/extensions/wasm_runtime/null:config", "cec", "Wasm plugins compiled into the proxy"),

    # Routing and HTTP details.
    ("envoy.network.dns_resolver.cares", "//source/extensions/network/dns_resolver/cares:config", "cec", "the DNS resolver of DNS clusters and the dynamic forward proxies"),
    ("envoy.rate_limit_descriptors.expr", "//source/extensions/rate_limit_descriptors/expr:config", "cec", "rate limit descriptors computed by CEL expressions"),
    ("envoy.http.stateful_header_formatters.preserve_case", "//source/extensions/http/header_formatters/preserve_case:config", "cec", "HTTP/1 header names forwarded with their original case"),
    ("envoy.http.early_header_mutation.header_mutation", "//source/extensions/http/early_header_mutation/header_mutation:config", "cec", "header changes before routing"),
    ("envoy.path.match.uri_template.uri_template_matcher", "//source/extensions/path/match/uri_template:config", "cec", "routes matched by URI templates"),
    ("envoy.path.rewrite.uri_template.uri_template_rewriter", "//source/extensions/path/rewrite/uri_template:config", "cec", "paths rewritten by URI templates"),
    ("envoy.route.early_data_policy.default", "//source/extensions/early_data:default_early_data_policy_lib", "cec", "routes that configure their early data (0-RTT) policy"),
    ("envoy.http.stateful_session.cookie", "//source/extensions/http/stateful_session/cookie:config", "cec", "session persistence kept in a cookie, for the stateful session filter"),
    ("envoy.rbac.principals.mtls_authenticated", "//source/extensions/filters/common/rbac/principals/mtls_authenticated:config", "cec", "RBAC principals matched by the client certificate of an mTLS connection"),

    # HTTP/3: QUIC listeners need the crypto stream and proof source; the others are their options.
    ("envoy.quic.crypto_stream.server.quiche", "//source/extensions/quic/crypto_stream:envoy_quic_default_crypto_server_stream", "cec", "the QUIC handshake of HTTP/3 listeners"),
    ("envoy.quic.proof_source.filter_chain", "//source/extensions/quic/proof_source:envoy_quic_default_proof_source", "cec", "certificates of HTTP/3 listeners, taken from their filter chains"),
    ("envoy.quic.deterministic_connection_id_generator", "//source/extensions/quic/connection_id_generator/deterministic:envoy_deterministic_connection_id_generator_config", "cec", "QUIC connection ids of HTTP/3 listeners"),
    ("envoy.quic.connection_id_generator.quic_lb", "//source/extensions/quic/connection_id_generator/quic_lb:quic_lb_config", "cec", "QUIC connection ids that a QUIC-aware load balancer can route"),
    ("envoy.quic.server_preferred_address.fixed", "//source/extensions/quic/server_preferred_address:fixed_server_preferred_address_config_factory_config", "cec", "a fixed preferred address announced to HTTP/3 clients"),
    ("envoy.quic.server_preferred_address.datasource", "//source/extensions/quic/server_preferred_address:datasource_server_preferred_address_config_factory_config", "cec", "a preferred address for HTTP/3 clients read from a data source"),
    ("envoy.quic.connection_debug_visitor.basic", "//source/extensions/quic/connection_debug_visitor/basic:envoy_quic_connection_debug_visitor_basic", "cec", "debug logs of QUIC connections"),
    ("envoy.quic.connection_debug_visitor.quic_stats", "//source/extensions/quic/connection_debug_visitor/quic_stats:config", "cec", "statistics of QUIC connections"),
]

# What Envoy reads: extension name -> label.
EXTENSIONS = {name: label for name, label, _feature, _why in EXTENSION_TABLE}

# Extensions the Cilium proxy compiled for this Envoy release that are not compiled here.
LEFT_OUT = {
    "envoy.wasm.runtime.wamr": "its library is empty unless --define=wasm=wamr; this build keeps Envoy's default Wasm runtime, V8",
    "envoy.wasm.runtime.wasmtime": "its library is empty unless --define=wasm=wasmtime; this build keeps Envoy's default Wasm runtime, V8",
    "envoy.filters.generic.router": "plugs into the generic_proxy network filter, which neither the Cilium proxy nor this one compiles, so no configuration can reach it",
    "envoy.generic_proxy.codecs.dubbo": "a codec of the generic_proxy network filter, which is not compiled (see envoy.filters.generic.router)",
    "envoy.generic_proxy.codecs.http1": "a codec of the generic_proxy network filter, which is not compiled (see envoy.filters.generic.router)",
    "envoy.compression.gzip.decompressor": "a library of the decompressor HTTP filter, which neither the Cilium proxy nor this one compiles, so no configuration can reach it",
    "envoy.compression.brotli.decompressor": "a library of the decompressor HTTP filter, which is not compiled (see envoy.compression.gzip.decompressor)",
    "envoy.compression.zstd.decompressor": "a library of the decompressor HTTP filter, which is not compiled (see envoy.compression.gzip.decompressor)",
}

# Names Envoy's build reads from this file besides EXTENSIONS.  Public visibility lets
# cilium-filters depend on extension libraries directly (and the contrib MySQL filter build).
EXTENSION_CONFIG_VISIBILITY = ["//visibility:public"]
EXTENSION_PACKAGE_VISIBILITY = ["//visibility:public"]
CONTRIB_EXTENSION_PACKAGE_VISIBILITY = ["//visibility:public"]

# Envoy Mobile is not built here.
MOBILE_PACKAGE_VISIBILITY = ["//:mobile_library"]

# Envoy's libraries keep alwayslink (its default), as its own build does.
LEGACY_ALWAYSLINK = 1
