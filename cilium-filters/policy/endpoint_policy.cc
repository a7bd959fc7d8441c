#include "cilium-filters/policy/endpoint_policy.h"

namespace Cilium {
namespace Policy {

Status EndpointPolicy::create(cilium::NetworkPolicy config, RegexCache& regexes,
                              std::shared_ptr<const EndpointPolicy>& out) {
  // The rules point into the kept message: it must be in place before they are compiled.
  std::shared_ptr<EndpointPolicy> policy(new EndpointPolicy(std::move(config)));
  Status status =
      PortTable::build(policy->config_.ingress_per_port_policies(), regexes, policy->ingress_);
  if (!status) {
    return status.within("ingress_per_port_policies");
  }
  status = PortTable::build(policy->config_.egress_per_port_policies(), regexes, policy->egress_);
  if (!status) {
    return status.within("egress_per_port_policies");
  }
  out = std::move(policy);
  return Status::ok();
}

} // namespace Policy
} // namespace Cilium
