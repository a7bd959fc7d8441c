#include "cilium-filters/policy/compile/endpoint_policy.h"

#include <google/protobuf/arena.h>

#include "cilium-filters/policy/base/ip_address.h"
#include "cilium-filters/policy/xds/proto_rules.h"
#include "cilium/api/npds.pb.validate.h"

namespace Cilium {
namespace Policy {

Status EndpointPolicy::create(const cilium::NetworkPolicy* config, std::string_view wire,
                              ArenaPtr arena, CompileContext& context,
                              std::shared_ptr<const EndpointPolicy>& out) {
  Status status = checkProtoRules(*config);  // endpoint_ips: 1 or 2, none empty; ports; ...
  if (!status) {
    return status;
  }
  // Not a rule of npds.proto, which Cilium's Go API shares (a rule there would change the
  // descriptors Cilium vendors); Cilium never sends endpoint_id 0.
  if (config->endpoint_id() == 0) {
    return Status::error("endpoint_id must not be 0");
  }
  // One allocation for the object and its reference count.
  struct Made : EndpointPolicy {
    Made(const cilium::NetworkPolicy* c, std::string_view w, ArenaPtr a)
        : EndpointPolicy(c, w, std::move(a)) {}
  };
  std::shared_ptr<EndpointPolicy> policy = std::make_shared<Made>(config, wire, std::move(arena));
  std::vector<uint32_t>& index = context.index;
  index.clear();
  index.push_back(0);
  status = PortTable::build(config->ingress_per_port_policies(), context, policy->ingress_, index);
  if (!status) {
    return status.within("ingress_per_port_policies");
  }
  index[0] = static_cast<uint32_t>(index.size());
  status = PortTable::build(config->egress_per_port_policies(), context, policy->egress_, index);
  if (!status) {
    return status.within("egress_per_port_policies");
  }
  policy->l4_index_.assign(index.begin(), index.end());  // exactly sized, in one piece
  policy->ips_.reserve(config->endpoint_ips_size());
  for (const std::string& ip : config->endpoint_ips()) {
    policy->ips_.push_back(canonicalIp(ip));
  }
  out = std::move(policy);
  return Status::ok();
}

}  // namespace Policy
}  // namespace Cilium
