"""The Go API Cilium vendors: protoc, Envoy's API descriptors and the pinned Go plugins.

Owns ``generate`` (`nox -s api`), ``descriptors`` (Envoy's API as a FileDescriptorSet,
read from the pinned xds-protos wheel; the C++ build runs it too, so it stays standard
library only) and ``api_plugins.toml`` (the plugin pins).  Imports only the root modules
of ``tools``.
"""
