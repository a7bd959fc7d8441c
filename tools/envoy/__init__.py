"""Everything about the Envoy this proxy builds: the pin (ENVOY_VERSION, envoy/envoy.bzl), the
extension table's checks, the Cilium/Envoy compat table, the `envoy_upgrade` session that moves
the pin to another release, and the Bazel steps that run inside the build containers.  Modules
that run in the containers use the standard library only (Python 3.8 to 3.13).
"""
