#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cilium-filters/policy/base/status.h"
#include "cilium-filters/policy/xds/discovery_fwd.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace Cilium {
namespace Module {

struct XdsClientOptions {
  // gRPC target of Cilium's agent, e.g. "unix:/var/run/cilium/envoy/sockets/xds.sock".
  std::string target;
  // node.id of every DiscoveryRequest.
  std::string node_id{"cilium-envoy-module"};
  // Waits between connection attempts: the first, growing after each failure up to the cap;
  // back to the first once a stream was established. gRPC's own reconnects of the channel
  // follow the same figures (its multiplier is 1.6, with 20% jitter).
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{1000};
  // The largest response taken. gRPC's default, 4 MiB, is too close to real state-of-the-world
  // NPDS responses: 10,000 endpoint policies of the shape `nox -s e2e -- bench` pushes are
  // 2.9 MB, and a rule whose selector matches hundreds of identities lists every one. A larger
  // response ends the stream (it cannot be NACKed: it was never read).
  int max_response_bytes{128 << 20};
  // Where it says what happened (NACKs, lost streams); called from its own threads.
  std::function<void(const std::string&)> log;
  // Called on its own threads between responses and while it waits (e.g. to free replaced
  // snapshots off the request path).
  std::function<void()> idle;
};

// What a subscription has done (for tests and diagnostics).
struct XdsCounters {
  uint64_t streams{0};    // streams opened
  uint64_t responses{0};  // responses received
  uint64_t acks{0};
  uint64_t nacks{0};
};

// The module's own xDS client: state-of-the-world streams to Cilium's agent over gRPC, one
// per subscribed type (NPDS, NPHDS), each on its own thread.
//
// Every response goes to the subscription's apply function as a whole; when it is accepted
// the next request ACKs it (version_info = its version, response_nonce = its nonce), else it
// NACKs it (version_info = the last accepted version, the same nonce, error_detail.message =
// the reason), and the last accepted state stays in force. A broken stream is reopened after
// a backoff; the new stream's first request carries the last accepted version and no nonce.
class XdsClient {
public:
  using Apply =
      std::function<Policy::Status(const envoy::service::discovery::v3::DiscoveryResponse&)>;

  explicit XdsClient(XdsClientOptions options);
  ~XdsClient();  // stops
  XdsClient(const XdsClient&) = delete;
  XdsClient& operator=(const XdsClient&) = delete;

  // Subscriptions, before start(): Cilium's NPDS (cilium.NetworkPolicy) and NPHDS
  // (cilium.NetworkPolicyHosts).
  void subscribePolicies(Apply apply);
  void subscribeHosts(Apply apply);

  void start();
  // Cancels the streams and joins the threads; idempotent.
  void stop();

  const std::string& target() const { return options_.target; }
  XdsCounters counters(const std::string& type_url) const;

private:
  struct Subscription;

  void run(Subscription& subscription);
  bool waitBackoff(std::chrono::milliseconds delay);
  // Asks gRPC to connect the channel and waits until it is, at most `bound`; false when it
  // is not connected by then or the client stops.
  bool waitConnected(std::chrono::milliseconds bound);
  bool stopping() const;

  const XdsClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
  std::vector<std::thread> threads_;

  mutable std::mutex mutex_;  // guards stopping_, the contexts in flight and the counters
  std::condition_variable wake_;
  bool stopping_{false};
  bool started_{false};
};

}  // namespace Module
}  // namespace Cilium
