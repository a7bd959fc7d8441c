#include "cilium-filters/module/policy_store.h"

namespace Cilium {
namespace Module {

PolicyStore::PolicyStore() : policies_(map_.snapshot()), hosts_(host_store_.snapshot()) {}

Policy::Status PolicyStore::updatePolicies(
    const envoy::service::discovery::v3::DiscoveryResponse& response) {
  Policy::Status status = map_.update(response);
  if (status) {
    policies_.publish(map_.snapshot());
  }
  return status;
}

Policy::Status PolicyStore::updateHosts(
    const envoy::service::discovery::v3::DiscoveryResponse& response) {
  Policy::Status status = host_store_.update(response);
  if (status) {
    hosts_.publish(host_store_.snapshot());
  }
  return status;
}

size_t PolicyStore::collect() { return policies_.collect() + hosts_.collect(); }

}  // namespace Module
}  // namespace Cilium
