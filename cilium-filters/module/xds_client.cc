#include "cilium-filters/module/xds_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "cilium/api/npds.grpc.pb.h"
#include "cilium/api/nphds.grpc.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace Cilium {
namespace Module {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using Stream = grpc::ClientReaderWriterInterface<DiscoveryRequest, DiscoveryResponse>;

namespace {

constexpr const char* kPoliciesType = "type.googleapis.com/cilium.NetworkPolicy";
constexpr const char* kHostsType = "type.googleapis.com/cilium.NetworkPolicyHosts";
// google.rpc.Code INTERNAL, what Envoy puts in error_detail.code of its own NACKs.
constexpr int kNackCode = 13;

}  // namespace

struct XdsClient::Subscription {
  std::string type_url;
  Apply apply;
  std::function<std::unique_ptr<Stream>(grpc::ClientContext*)> open;
  grpc::ClientContext* context{nullptr};  // the stream in flight (guarded by mutex_)
  XdsCounters counters;                   // guarded by mutex_
};

XdsClient::XdsClient(XdsClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  // The channel reconnects on the same schedule as our streams: first after initial_backoff,
  // at most max_backoff apart. (gRPC reads "min reconnect backoff" as the least time one
  // connection attempt, socket and HTTP/2 handshake, is given: a second, so that a busy
  // agent that is just starting is not cut off mid-handshake.)
  const int cap = static_cast<int>(options_.max_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(options_.initial_backoff.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, cap);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, cap);
  args.SetMaxReceiveMessageSize(options_.max_response_bytes);
  channel_ = grpc::CreateCustomChannel(options_.target, grpc::InsecureChannelCredentials(), args);
}

XdsClient::~XdsClient() { stop(); }

void XdsClient::subscribePolicies(Apply apply) {
  auto subscription = std::make_unique<Subscription>();
  subscription->type_url = kPoliciesType;
  subscription->apply = std::move(apply);
  auto stub = std::shared_ptr<cilium::NetworkPolicyDiscoveryService::Stub>(
      cilium::NetworkPolicyDiscoveryService::NewStub(channel_));
  subscription->open = [stub](grpc::ClientContext* context) {
    return std::unique_ptr<Stream>(stub->StreamNetworkPolicies(context));
  };
  subscriptions_.push_back(std::move(subscription));
}

void XdsClient::subscribeHosts(Apply apply) {
  auto subscription = std::make_unique<Subscription>();
  subscription->type_url = kHostsType;
  subscription->apply = std::move(apply);
  auto stub = std::shared_ptr<cilium::NetworkPolicyHostsDiscoveryService::Stub>(
      cilium::NetworkPolicyHostsDiscoveryService::NewStub(channel_));
  subscription->open = [stub](grpc::ClientContext* context) {
    return std::unique_ptr<Stream>(stub->StreamNetworkPolicyHosts(context));
  };
  subscriptions_.push_back(std::move(subscription));
}

void XdsClient::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_ || stopping_) {
    return;
  }
  started_ = true;
  for (auto& subscription : subscriptions_) {
    Subscription* raw = subscription.get();
    threads_.emplace_back([this, raw] { run(*raw); });
  }
}

void XdsClient::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    for (auto& subscription : subscriptions_) {
      if (subscription->context != nullptr) {
        subscription->context->TryCancel();
      }
    }
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
  threads_.clear();
}

XdsCounters XdsClient::counters(const std::string& type_url) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& subscription : subscriptions_) {
    if (subscription->type_url == type_url) {
      return subscription->counters;
    }
  }
  return {};
}

bool XdsClient::waitBackoff(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, delay, [this] { return stopping_; });
  return !stopping_;
}

bool XdsClient::stopping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

bool XdsClient::waitConnected(std::chrono::milliseconds bound) {
  // In slices, so that stop() is never kept waiting longer than one.
  constexpr auto kSlice = std::chrono::milliseconds(50);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) {
      return true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || stopping()) {
      return false;
    }
    const auto wait = std::min<std::chrono::steady_clock::duration>(deadline - now, kSlice);
    channel_->WaitForStateChange(state, std::chrono::system_clock::now() + wait);
  }
}

void XdsClient::run(Subscription& subscription) {
  std::string accepted_version;  // the last version applied; kept across streams
  std::chrono::milliseconds backoff = options_.initial_backoff;
  uint64_t failures = 0;
  auto say = [this, &subscription](const std::string& text) {
    if (options_.log) {
      options_.log("cilium xDS " + subscription.type_url + " at " + options_.target + ": " + text);
    }
  };
  for (;;) {
    // The stream opens as soon as gRPC has connected the channel (it retries on its own
    // schedule, capped like ours); when it has not within the cap, the stream is opened
    // anyway, fails at once and says why (the agent's socket is missing, ...).
    const bool connected = waitConnected(options_.max_backoff);
    grpc::ClientContext context;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) {
        return;
      }
      subscription.context = &context;
      ++subscription.counters.streams;
    }
    std::unique_ptr<Stream> stream = subscription.open(&context);
    DiscoveryRequest request;
    request.mutable_node()->set_id(options_.node_id);
    request.set_type_url(subscription.type_url);
    request.set_version_info(accepted_version);
    bool established = false;  // the agent took the subscription
    bool broken = true;        // the stream failed on our side (a write), not by its end
    if (stream->Write(request)) {
      broken = false;
      established = connected;
      DiscoveryResponse response;
      while (stream->Read(&response)) {
        established = true;
        const Policy::Status status = subscription.apply(response);
        DiscoveryRequest next;
        next.mutable_node()->set_id(options_.node_id);
        next.set_type_url(subscription.type_url);
        next.set_response_nonce(response.nonce());
        if (status) {
          accepted_version = response.version_info();
        } else {
          next.mutable_error_detail()->set_code(kNackCode);
          next.mutable_error_detail()->set_message(status.message());
          say("refused version " + response.version_info() + ": " + status.message());
        }
        next.set_version_info(accepted_version);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ++subscription.counters.responses;
          ++(status ? subscription.counters.acks : subscription.counters.nacks);
        }
        const bool written = stream->Write(next);
        if (options_.idle) {
          options_.idle();  // after the answer: freeing replaced snapshots does not delay it
        }
        if (!written) {
          broken = true;
          break;
        }
      }
    }
    if (broken) {
      context.TryCancel();  // Finish() then returns at once
    }
    const grpc::Status finished = stream->Finish();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      subscription.context = nullptr;
      if (stopping_) {
        return;
      }
    }
    if (established) {
      backoff = options_.initial_backoff;
      failures = 0;
    }
    // Said once per lost stream, then once a minute or so while the agent stays away.
    if (failures++ % 60 == 0) {
      const std::string why =
          finished.error_message().empty() ? "no detail" : finished.error_message();
      say("stream ended (" + why + "); retrying " +
          (connected ? "in " + std::to_string(backoff.count()) + " ms"
                     : std::string("once the channel connects")));
    }
    if (options_.idle) {
      options_.idle();
    }
    if (!connected) {
      continue;  // waitConnected() above is the wait, on gRPC's reconnect schedule
    }
    if (!waitBackoff(backoff)) {
      return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace Module
}  // namespace Cilium
