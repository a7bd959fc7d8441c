#pragma once

#include "cilium-filters/policy/status.h"

namespace envoy {
namespace service {
namespace discovery {
namespace v3 {
class DeltaDiscoveryResponse;
} // namespace v3
} // namespace discovery
} // namespace service
} // namespace envoy

namespace Cilium {
namespace Policy {

// What Envoy's delta xDS client refuses before any subscriber sees a response: a name that
// appears twice among the added resources and the removed ones together.
Status checkDeltaNames(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);

} // namespace Policy
} // namespace Cilium
