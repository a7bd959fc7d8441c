#pragma once

// The xDS responses our maps take, declared for headers that only pass them by reference
// (the generated discovery.pb.h is large; the .cc files include it).
namespace envoy {
namespace service {
namespace discovery {
namespace v3 {
class DeltaDiscoveryResponse;
class DiscoveryResponse;
}  // namespace v3
}  // namespace discovery
}  // namespace service
}  // namespace envoy
