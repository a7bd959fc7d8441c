// The module's xDS client against a real gRPC server on a Unix socket, in this process: an
// agent stand-in serving NPDS and NPHDS responses the test queues, recording every request.
#include "cilium-filters/module/xds_client.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "cilium-filters/module/policy_store.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "cilium/api/npds.grpc.pb.h"
#include "cilium/api/nphds.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/module/test_xds.h"

namespace Cilium {
namespace Module {
namespace {

using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using Stream = grpc::ServerReaderWriter<DiscoveryResponse, DiscoveryRequest>;

// What the stand-in agent has seen and has yet to send, for one resource type.
class Feed {
public:
  void queue(DiscoveryResponse response) {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.push_back(std::move(response));
    changed_.notify_all();
  }
  std::vector<DiscoveryRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  size_t streams() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return streams_;
  }

  // Serves one stream: each request recorded; after each, the next queued response sent.
  grpc::Status serve(grpc::ServerContext* context, Stream* stream) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++streams_;
    }
    DiscoveryRequest request;
    while (stream->Read(&request)) {
      std::unique_lock<std::mutex> lock(mutex_);
      requests_.push_back(request);
      changed_.notify_all();
      while (pending_.empty()) {
        if (context->IsCancelled()) {
          return grpc::Status::CANCELLED;
        }
        changed_.wait_for(lock, std::chrono::milliseconds(20));
      }
      DiscoveryResponse response = std::move(pending_.front());
      pending_.pop_front();
      lock.unlock();
      if (!stream->Write(response)) {
        break;
      }
    }
    return grpc::Status::OK;
  }

private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<DiscoveryResponse> pending_;
  std::vector<DiscoveryRequest> requests_;
  size_t streams_{0};
};

class PolicyService final : public cilium::NetworkPolicyDiscoveryService::Service {
public:
  explicit PolicyService(Feed& feed) : feed_(feed) {}
  grpc::Status StreamNetworkPolicies(grpc::ServerContext* context, Stream* stream) override {
    return feed_.serve(context, stream);
  }

private:
  Feed& feed_;
};

class HostsService final : public cilium::NetworkPolicyHostsDiscoveryService::Service {
public:
  explicit HostsService(Feed& feed) : feed_(feed) {}
  grpc::Status StreamNetworkPolicyHosts(grpc::ServerContext* context, Stream* stream) override {
    return feed_.serve(context, stream);
  }

private:
  Feed& feed_;
};

// The stand-in agent: a gRPC server on a Unix socket, stoppable and restartable.
class Agent {
public:
  explicit Agent(std::string path) : path_(std::move(path)) {}
  ~Agent() { stop(); }
  void start() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + path_, grpc::InsecureServerCredentials());
    builder.RegisterService(&policy_service_);
    builder.RegisterService(&hosts_service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void stop() {
    if (server_) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
      server_->Wait();
      server_.reset();
    }
  }
  Feed policies;
  Feed hosts;

private:
  std::string path_;
  PolicyService policy_service_{policies};
  HostsService hosts_service_{hosts};
  std::unique_ptr<grpc::Server> server_;
};

bool eventually(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class XdsClientTest : public ::testing::Test {
protected:
  void SetUp() override {
    char folder[] = "/tmp/cilium-xds-test-XXXXXX";
    ASSERT_NE(mkdtemp(folder), nullptr);
    folder_ = folder;
    socket_ = folder_ + "/xds.sock";
    agent_ = std::make_unique<Agent>(socket_);
  }
  void TearDown() override {
    if (client_) {
      client_->stop();
    }
    agent_.reset();
    unlink(socket_.c_str());
    rmdir(folder_.c_str());
  }
  void startClient() {
    XdsClientOptions options;
    options.target = "unix:" + socket_;
    options.node_id = "test-node";
    options.log = [](const std::string&) {};
    client_ = std::make_unique<XdsClient>(std::move(options));
    client_->subscribePolicies(
        [this](const DiscoveryResponse& r) { return store_.updatePolicies(r); });
    client_->subscribeHosts([this](const DiscoveryResponse& r) { return store_.updateHosts(r); });
    client_->start();
  }
  bool allowed(uint32_t remote, uint16_t port) {
    Policy::FlowQuestion question;
    question.endpoint_ip = "10.1.2.3";
    question.ingress = true;
    question.remote_id = remote;
    question.port = port;
    return Policy::allowedL4(*store_.policySnapshot(), question);
  }

  std::string folder_;
  std::string socket_;
  std::unique_ptr<Agent> agent_;
  PolicyStore store_;
  std::unique_ptr<XdsClient> client_;
};

TEST_F(XdsClientTest, AcksAcceptedAndNacksRefusedResponsesKeepingTheLastState) {
  agent_->start();
  agent_->policies.queue(Testing::policies("1", {Testing::kPolicy}));
  startClient();
  ASSERT_TRUE(eventually([&] { return agent_->policies.requests().size() >= 2; }));
  auto requests = agent_->policies.requests();
  EXPECT_EQ(requests[0].type_url(), "type.googleapis.com/cilium.NetworkPolicy");
  EXPECT_EQ(requests[0].node().id(), "test-node");
  EXPECT_EQ(requests[0].version_info(), "");
  EXPECT_EQ(requests[0].response_nonce(), "");
  EXPECT_EQ(requests[1].version_info(), "1");  // the ACK
  EXPECT_EQ(requests[1].response_nonce(), "nonce-1");
  EXPECT_FALSE(requests[1].has_error_detail());
  EXPECT_TRUE(allowed(42, 80));

  // An endpoint policy without endpoint_id is refused: NACK, and version 1 stays in force.
  agent_->policies.queue(Testing::policies("2", {R"({"endpoint_ips": ["10.1.2.3"]})"}));
  ASSERT_TRUE(eventually([&] { return agent_->policies.requests().size() >= 3; }));
  requests = agent_->policies.requests();
  EXPECT_EQ(requests[2].version_info(), "1");
  EXPECT_EQ(requests[2].response_nonce(), "nonce-2");
  EXPECT_TRUE(requests[2].has_error_detail());
  EXPECT_FALSE(requests[2].error_detail().message().empty());
  EXPECT_TRUE(allowed(42, 80));
  EXPECT_EQ(client_->counters("type.googleapis.com/cilium.NetworkPolicy").nacks, 1u);

  // NPHDS on its own stream.
  agent_->hosts.queue(
      Testing::hosts("h1", {R"({"policy": 42, "host_addresses": ["198.51.100.0/24"]})"}));
  ASSERT_TRUE(eventually([&] { return agent_->hosts.requests().size() >= 2; }));
  EXPECT_EQ(agent_->hosts.requests()[1].version_info(), "h1");
  Policy::IpAddress source;
  Policy::IpAddress::parse("198.51.100.7", source);
  EXPECT_EQ(store_.hostSnapshot()->resolve(source), 42u);
}

TEST_F(XdsClientTest, ReconnectsWithTheLastAcceptedVersionAndKeepsTheState) {
  agent_->start();
  agent_->policies.queue(Testing::policies("5", {Testing::kPolicy}));
  startClient();
  ASSERT_TRUE(eventually([&] { return agent_->policies.requests().size() >= 2; }));
  agent_->stop();  // the agent goes away: the state stays in force
  EXPECT_TRUE(allowed(42, 80));
  agent_ = std::make_unique<Agent>(socket_);
  unlink(socket_.c_str());
  const auto restarted = std::chrono::steady_clock::now();
  agent_->start();
  ASSERT_TRUE(eventually([&] { return !agent_->policies.requests().empty(); }));
  const auto took = std::chrono::steady_clock::now() - restarted;
  const auto first = agent_->policies.requests().front();
  EXPECT_EQ(first.version_info(), "5");
  EXPECT_EQ(first.response_nonce(), "");
  EXPECT_FALSE(first.has_error_detail());
  // Backoff is capped at about a second (plus gRPC's own reconnect, capped alike).
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_TRUE(allowed(42, 80));
}

TEST_F(XdsClientTest, WaitsForAnAgentThatIsNotThereYet) {
  startClient();  // nothing listens yet: everything is denied meanwhile
  // Longer than the cap, so the client has tried (and failed) a stream at least once.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(allowed(42, 80));
  agent_->policies.queue(Testing::policies("1", {Testing::kPolicy}));
  agent_->start();
  ASSERT_TRUE(eventually([&] { return allowed(42, 80); }));
  EXPECT_GE(client_->counters("type.googleapis.com/cilium.NetworkPolicy").streams, 2u);
}

TEST_F(XdsClientTest, SubscribesWithinTheBackoffCapOnceALateAgentAppears) {
  startClient();
  // Long enough for the retries to reach their cap (100 ms growing to 1 s); gRPC's channel,
  // left to its default backoff, would by then wait seconds between its own attempts.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  agent_->start();
  const auto appeared = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return !agent_->policies.requests().empty(); }));
  // The cap, gRPC's 20% jitter and room for a busy machine.
  EXPECT_LT(std::chrono::steady_clock::now() - appeared, std::chrono::milliseconds(2000));
}

TEST_F(XdsClientTest, TakesResponsesLargerThanGrpcsDefaultLimit) {
  agent_->start();
  // Over gRPC's default 4 MiB limit on what a client receives.
  DiscoveryResponse response = Testing::policies("big", {});
  for (uint32_t i = 0; response.ByteSizeLong() < (size_t{5} << 20); ++i) {
    cilium::NetworkPolicy policy;
    policy.add_endpoint_ips("10." + std::to_string(i >> 16 & 255) + "." +
                            std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255));
    policy.set_endpoint_id(i + 1);
    auto* rule = policy.add_ingress_per_port_policies();
    rule->set_port(80);
    auto* remotes = rule->add_rules();
    for (uint32_t r = 0; r < 64; ++r) {
      remotes->add_remote_policies(1000 + r);
    }
    response.add_resources()->PackFrom(policy);
  }
  agent_->policies.queue(std::move(response));
  startClient();
  ASSERT_TRUE(eventually([&] { return agent_->policies.requests().size() >= 2; }));
  EXPECT_EQ(agent_->policies.requests()[1].version_info(), "big");
  EXPECT_FALSE(agent_->policies.requests()[1].has_error_detail());
}

TEST_F(XdsClientTest, StopsPromptlyWhileStreaming) {
  agent_->start();
  startClient();
  ASSERT_TRUE(eventually([&] { return !agent_->policies.requests().empty(); }));
  const auto before = std::chrono::steady_clock::now();
  client_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
}

}  // namespace
}  // namespace Module
}  // namespace Cilium
