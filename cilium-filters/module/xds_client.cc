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

} // namespace

struct XdsClient::Subscription {
  std::string type_url;
  Apply apply;
  std::function<std::unique_ptr<Stream>(grpc::ClientContext*)> open;
  grpc::ClientContext* context{nullptr}; // the stream in flight (guarded by mutex_)
  XdsCounters counters;                  // guarded by mutex_
};

XdsClient::XdsClient(XdsClientOptions options) : options_(std::move(options)) {
  grpc::ChannelArguments args;
  // gRPC's own reconnects follow the same backoff as our stream retries.
  const int first = static_cast<int>(options_.initial_backoff.count());
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, first);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, first);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.max_backoff.count()));
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

void XdsClient::run(Subscription& subscription) {
  std::string accepted_version; // the last version applied; kept across streams
  std::chrono::milliseconds backoff = options_.initial_backoff;
  uint64_t failures = 0;
  auto say = [this, &subscription](const std::string& text) {
    if (options_.log) {
      options_.log("cilium xDS " + subscription.type_url + " at " + options_.target + ": " + text);
    }
  };
  for (;;) {
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
    bool delivered = false;
    bool broken = true; // the stream failed on our side (a write), not by its end
    if (stream->Write(request)) {
      broken = false;
      DiscoveryResponse response;
      while (stream->Read(&response)) {
        delivered = true;
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
        if (options_.idle) {
          options_.idle();
        }
        if (!stream->Write(next)) {
          broken = true;
          break;
        }
      }
    }
    if (broken) {
      context.TryCancel(); // Finish() then returns at once
    }
    const grpc::Status finished = stream->Finish();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      subscription.context = nullptr;
      if (stopping_) {
        return;
      }
    }
    if (delivered) {
      backoff = options_.initial_backoff;
      failures = 0;
    }
    // Said once per lost stream, then once a minute or so while the agent stays away.
    if (failures++ % 60 == 0) {
      const std::string why =
          finished.error_message().empty() ? "no detail" : finished.error_message();
      say("stream ended (" + why + "); retrying in " + std::to_string(backoff.count()) + " ms");
    }
    if (options_.idle) {
      options_.idle();
    }
    if (!waitBackoff(backoff)) {
      return;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

} // namespace Module
} // namespace Cilium
