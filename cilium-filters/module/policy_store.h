#pragma once

#include <memory>

#include "cilium-filters/module/snapshot_cell.h"
#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/hosts/host_map.h"
#include "cilium-filters/policy/hosts/host_map_store.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace Cilium {
namespace Module {

// The policies and host map in force in this Envoy: updated as a whole by the xDS client
// (a refused update leaves both as they were), read by the filters on Envoy's worker
// threads without a lock (see SnapshotCell).
class PolicyStore {
public:
  PolicyStore();

  // NPDS and NPHDS state-of-the-world responses; ok when applied, else why they were refused.
  Policy::Status updatePolicies(const envoy::service::discovery::v3::DiscoveryResponse& response);
  Policy::Status updateHosts(const envoy::service::discovery::v3::DiscoveryResponse& response);

  // For the duration of one filter callback (valid until this thread reads again).
  const Policy::PolicySnapshot& policies() const { return *policies_.read(); }
  const Policy::HostMap* hosts() const { return hosts_.read(); }
  const Policy::SecretSource& secrets() const { return map_.secrets(); }
  // The RE2 program-size limit of later updates (ListenerSettings::max_program_size).
  void setMaxProgramSize(uint32_t limit) { map_.setMaxProgramSize(limit); }

  // Counted references, for callers that keep them (tests, tools).
  Policy::SnapshotPtr policySnapshot() const { return policies_.load(); }
  std::shared_ptr<const Policy::HostMap> hostSnapshot() const { return hosts_.load(); }

  // Frees replaced snapshots no worker holds any more (the xDS thread calls it once it has
  // answered the update: updates free nothing); returns how many replaced snapshots are
  // still held by workers.
  size_t collect();

private:
  Policy::PolicyMap map_;
  Policy::HostMapStore host_store_;
  SnapshotCell<Policy::PolicySnapshot> policies_;
  SnapshotCell<Policy::HostMap> hosts_;
};

}  // namespace Module
}  // namespace Cilium
