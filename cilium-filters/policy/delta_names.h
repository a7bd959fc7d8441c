#pragma once

#include "cilium-filters/policy/discovery_fwd.h"
#include "cilium-filters/policy/status.h"

namespace Cilium {
namespace Policy {

// What Envoy's delta xDS client refuses before any subscriber sees a response: a name that
// appears twice among the added resources and the removed ones together.
Status checkDeltaNames(const envoy::service::discovery::v3::DeltaDiscoveryResponse& response);

} // namespace Policy
} // namespace Cilium
