// A stand-in for Cilium's agent as a consumer of this repository's Go module:
// tools/tests/test_go_module.py copies it, adds the one `replace` line the
// README gives, and runs go mod tidy, go mod vendor, go build, go vet and the
// program. Its own module, so nothing here is part of github.com/cilium/proxy.
module example.com/cilium-consumer

go 1.25.0

// The version Cilium v1.15.19 requires; the replace points it at a checkout.
require github.com/cilium/proxy v0.0.0-20250526114940-b80199397e8a
