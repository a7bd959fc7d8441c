// The policy engine's benchmarks (Google Benchmark), run by `nox -s filters -- --bench`.
//
// Goals (issue: the policy engine): applying an update is at most 3x parsing the same
// DiscoveryResponse, and grows linearly from 1,000 to 10,000 policies; an L4 check is at most
// 2x one hash lookup plus one binary search. tools/engine/filters.py prints those ratios. The host
// map (NPHDS): an update of 100,000 prefixes next to parsing it, and a lookup next to a
// plain sorted-vector longest-prefix match.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "cilium-filters/policy/compile/policy_map.h"
#include "cilium-filters/policy/decide/decisions.h"
#include "cilium-filters/policy/hosts/host_map_store.h"
#include "cilium/api/nphds.pb.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

// Cilium's agent writes the HeaderMatcher fields Envoy marked deprecated; so do we here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

using namespace Cilium::Policy;
using envoy::service::discovery::v3::DiscoveryResponse;

std::string ipOf(int i) {
  return "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

// A policy the way Cilium's agent writes them: several ports and ranges per direction, each
// with a few rules selecting sets of identities, a deny, a precedence tier, an HTTP rule.
cilium::NetworkPolicy makePolicy(int i, int variant) {
  cilium::NetworkPolicy policy;
  policy.add_endpoint_ips(ipOf(i));
  policy.add_endpoint_ips("f00d::" + std::to_string(i));
  policy.set_endpoint_id(static_cast<uint64_t>(i) + 1);
  auto remotes = [&](cilium::PortNetworkPolicyRule* rule, int base, int count) {
    for (int r = 0; r < count; ++r) {
      rule->add_remote_policies(static_cast<uint32_t>(1000 + (base + r * 7 + i + variant) % 5000));
    }
  };
  auto* web = policy.add_ingress_per_port_policies();
  web->set_port(80);
  remotes(web->add_rules(), 1, 6);
  auto* http = web->add_rules();
  remotes(http, 2, 3);
  auto* path = http->mutable_http_rules()->add_http_rules()->add_headers();
  path->set_name(":path");
  path->set_exact_match("/api/v1/items");
  auto* range = policy.add_ingress_per_port_policies();
  range->set_port(8000);
  range->set_end_port(8999);
  remotes(range->add_rules(), 3, 4);
  auto* deny = range->add_rules();
  deny->set_deny(true);
  deny->set_precedence(10);
  remotes(deny, 4, 2);
  auto* tls = policy.add_ingress_per_port_policies();
  tls->set_port(443);
  auto* sni = tls->add_rules();
  remotes(sni, 5, 3);
  sni->add_server_names("api.example.com");
  auto* any = policy.add_ingress_per_port_policies();
  any->set_port(0);
  remotes(any->add_rules(), 6, 2);
  auto* dns = policy.add_egress_per_port_policies();
  dns->set_port(53);
  remotes(dns->add_rules(), 7, 2);
  auto* out = policy.add_egress_per_port_policies();
  out->set_port(1024);
  out->set_end_port(65535);
  out->add_rules();
  return policy;
}

// The wire bytes of an update of `count` policies; `variant` changes every policy's remote
// identities, so two variants share no unchanged policy.
const std::string& wireUpdate(int count, int variant = 0) {
  static std::map<std::pair<int, int>, std::string> cache;
  auto& bytes = cache[{count, variant}];
  if (bytes.empty()) {
    DiscoveryResponse response;
    response.set_type_url(std::string(kNetworkPolicyTypeUrl));
    for (int i = 0; i < count; ++i) {
      response.add_resources()->PackFrom(makePolicy(i, variant));
    }
    response.SerializeToString(&bytes);
  }
  return bytes;
}

// Parsing alone: the wire bytes to policies out of their Any, as the subscription hands them.
void BM_Parse(benchmark::State& state) {
  const std::string& bytes = wireUpdate(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    DiscoveryResponse response;
    response.ParseFromString(bytes);
    std::vector<cilium::NetworkPolicy> policies;
    PolicyMap::unpack(response, policies);
    benchmark::DoNotOptimize(policies.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Parse)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Applying: the same parse, then validation, compilation and the swap, freeing the previous
// policies. Updates alternate between two variants, so every policy is new each time.
void BM_Update(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string* bytes[2] = {&wireUpdate(count, 0), &wireUpdate(count, 1)};
  PolicyMap map;
  size_t i = 0;
  for (auto _ : state) {
    DiscoveryResponse response;
    response.ParseFromString(*bytes[i++ % 2]);
    const Status status = map.update(response);
    if (!status) {
      state.SkipWithError(status.message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Update)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// Re-applying an update whose policies are all unchanged (Cilium resends the whole state):
// each is recognised by its encoding and reused.
void BM_UpdateUnchanged(benchmark::State& state) {
  const std::string& bytes = wireUpdate(static_cast<int>(state.range(0)));
  PolicyMap map;
  for (auto _ : state) {
    DiscoveryResponse response;
    response.ParseFromString(bytes);
    if (!map.update(response)) {
      state.SkipWithError("refused");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_UpdateUnchanged)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

constexpr int kPolicies = 1000;
constexpr int kQuestions = 4096;

struct Questions {
  std::vector<std::string> ips;
  std::vector<uint16_t> ports;
  std::vector<uint32_t> remotes;
};

const Questions& questions() {
  static Questions q = [] {
    Questions out;
    for (int i = 0; i < kQuestions; ++i) {
      out.ips.push_back(ipOf((i * 7919) % kPolicies));
      static constexpr uint16_t ports[] = {80, 8080, 8500, 443, 22, 9000};
      out.ports.push_back(ports[i % 6]);
      out.remotes.push_back(static_cast<uint32_t>(1000 + (i * 31) % 5000));
    }
    return out;
  }();
  return q;
}

// One hash lookup (the endpoint) plus one binary search (the port range): the floor an L4
// check is measured against.
void BM_BaselineHashAndBinarySearch(benchmark::State& state) {
  std::unordered_map<std::string, int> endpoints;
  for (int i = 0; i < kPolicies; ++i) {
    endpoints.emplace(ipOf(i), i);
  }
  const std::vector<uint32_t> range_ends = {0, 80, 443, 7999, 8999, 65535};
  const Questions& q = questions();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % kQuestions;
    auto found = endpoints.find(q.ips[k]);
    auto range = std::lower_bound(range_ends.begin(), range_ends.end(), q.ports[k]);
    benchmark::DoNotOptimize(found);
    benchmark::DoNotOptimize(range);
  }
}
BENCHMARK(BM_BaselineHashAndBinarySearch);

void BM_CheckL4(benchmark::State& state) {
  DiscoveryResponse response;
  response.ParseFromString(wireUpdate(kPolicies));
  PolicyMap map;
  map.update(response);
  const SnapshotPtr snapshot = map.snapshot();
  const Questions& q = questions();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % kQuestions;
    FlowQuestion question;
    question.endpoint_ip = q.ips[k];
    question.port = q.ports[k];
    question.remote_id = q.remotes[k];
    benchmark::DoNotOptimize(allowedL4(*snapshot, question));
  }
}
BENCHMARK(BM_CheckL4);

// An HTTP check against a rule of 8 header matchers of mixed kinds, on a typical request.
void BM_CheckHttp8Matchers(benchmark::State& state) {
  cilium::NetworkPolicy policy;
  policy.add_endpoint_ips("10.0.0.1");
  policy.set_endpoint_id(1);
  auto* rule = policy.add_ingress_per_port_policies();
  rule->set_port(80);
  auto* http = rule->add_rules()->mutable_http_rules()->add_http_rules();
  auto add = [&](const char* name) {
    auto* h = http->add_headers();
    h->set_name(name);
    return h;
  };
  add(":method")->set_exact_match("GET");
  add(":path")->mutable_safe_regex_match()->set_regex("/api/v[0-9]+/items/.*");
  add(":authority")->mutable_string_match()->set_suffix("example.com");
  add("user-agent")->set_prefix_match("curl/");
  add("x-request-id")->set_present_match(true);
  add("x-tenant")->mutable_string_match()->set_exact("acme");
  add("x-version")->mutable_range_match()->set_end(100);
  add("x-debug")->set_present_match(false);
  std::vector<cilium::NetworkPolicy> policies{policy};
  PolicyMap map;
  map.update(std::move(policies));
  const SnapshotPtr snapshot = map.snapshot();
  const std::vector<std::pair<std::string, std::string>> request = {
      {":method", "GET"},          {":path", "/api/v2/items/42"}, {":authority", "www.example.com"},
      {":scheme", "http"},         {"user-agent", "curl/8.5.0"},  {"accept", "*/*"},
      {"x-request-id", "abc-123"}, {"x-tenant", "acme"},          {"x-version", "42"}};
  FlowQuestion question;
  question.endpoint_ip = "10.0.0.1";
  question.port = 80;
  const NoSecrets secrets;
  bool allowed = false;
  for (auto _ : state) {
    RequestHeaders headers(request);
    HeaderLog log;
    allowed = allowedHttp(*snapshot, question, headers, log, secrets);
    benchmark::DoNotOptimize(allowed);
  }
  if (!allowed) {
    state.SkipWithError("the request should have been allowed");
  }
}
BENCHMARK(BM_CheckHttp8Matchers);

// --- NPHDS: 100,000 prefixes ---------------------------------------------------------------

constexpr int kHostIdentities = 10000;
constexpr int kPrefixesPerIdentity = 10;  // 100,000 in all

// Identity i: eight host addresses (/32), a /24 and, for every tenth, a /16 (else an IPv6
// /64), as Cilium's agent sends pods, nodes and CIDR-selected networks.
std::string hostPrefix(int i, int k) {
  const int a = 10 + (i >> 14) % 200;
  const int b = (i >> 6) % 256;
  const int c = i % 64 * 4;
  if (k < 8) {
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
           std::to_string(k + 1);
  }
  if (k == 8) {
    return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c + 1) + ".0/24";
  }
  if (i % 10 == 0) {
    return std::to_string(110 + i / 10 / 256) + "." + std::to_string(i / 10 % 256) + ".0.0/16";
  }
  return "f00d:" + std::to_string(i % 10000) + "::/64";
}

const std::string& hostsUpdate() {
  static std::string bytes;
  if (bytes.empty()) {
    DiscoveryResponse response;
    response.set_type_url(std::string(kNetworkPolicyHostsTypeUrl));
    for (int i = 0; i < kHostIdentities; ++i) {
      cilium::NetworkPolicyHosts hosts;
      hosts.set_policy(static_cast<uint64_t>(i) + 1000);
      for (int k = 0; k < kPrefixesPerIdentity; ++k) {
        hosts.add_host_addresses(hostPrefix(i, k));
      }
      response.add_resources()->PackFrom(hosts);
    }
    response.SerializeToString(&bytes);
  }
  return bytes;
}

void BM_HostsParse(benchmark::State& state) {
  for (auto _ : state) {
    DiscoveryResponse response;
    response.ParseFromString(hostsUpdate());
    std::vector<cilium::NetworkPolicyHosts> hosts(response.resources_size());
    for (int i = 0; i < response.resources_size(); ++i) {
      response.resources(i).UnpackTo(&hosts[i]);
    }
    benchmark::DoNotOptimize(hosts.data());
  }
}
BENCHMARK(BM_HostsParse)->Unit(benchmark::kMillisecond);

void BM_HostsUpdate(benchmark::State& state) {
  HostMapStore store;
  for (auto _ : state) {
    DiscoveryResponse response;
    response.ParseFromString(hostsUpdate());
    if (!store.update(response)) {
      state.SkipWithError("refused");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kHostIdentities * kPrefixesPerIdentity);
}
BENCHMARK(BM_HostsUpdate)->Unit(benchmark::kMillisecond);

std::vector<IpAddress> hostQuestions() {
  std::vector<IpAddress> out;
  for (int q = 0; q < kQuestions; ++q) {
    const int i = (q * 7919) % kHostIdentities;
    IpAddress address;
    // A host (/32), a neighbour in its /24, an address in a /16, or no entry at all.
    const std::string text =
        q % 4 == 0   ? hostPrefix(i, q % 8)
        : q % 4 == 1 ? hostPrefix(i, 8).substr(0, hostPrefix(i, 8).size() - 4) + "77"
        : q % 4 == 2
            ? std::to_string(110 + i / 10 / 256) + "." + std::to_string(i / 10 % 256) + ".2.3"
            : "192.0.2." + std::to_string(q % 256);
    IpAddress::parse(text, address);
    out.push_back(address);
  }
  return out;
}

void BM_HostsLookup(benchmark::State& state) {
  HostMapStore store;
  DiscoveryResponse response;
  response.ParseFromString(hostsUpdate());
  store.update(response);
  const auto map = store.snapshot();
  const std::vector<IpAddress> questions = hostQuestions();
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(map->resolve(questions[i++ % questions.size()]));
  }
}
BENCHMARK(BM_HostsLookup);

// A plain sorted-vector LPM: every IPv4 prefix as (address << 8 | length) in one sorted
// vector; a lookup tries every length from 32 down, one binary search each.
void BM_HostsLookupBaseline(benchmark::State& state) {
  std::vector<std::pair<uint64_t, uint64_t>> prefixes;
  for (int i = 0; i < kHostIdentities; ++i) {
    for (int k = 0; k < kPrefixesPerIdentity; ++k) {
      const std::string text = hostPrefix(i, k);
      const size_t slash = text.find('/');
      IpAddress address;
      if (!IpAddress::parse(text.substr(0, slash), address) || address.v6) {
        continue;
      }
      const uint64_t length = slash == std::string::npos ? 32 : std::stoul(text.substr(slash + 1));
      prefixes.emplace_back(address.low << 8 | length, static_cast<uint64_t>(i) + 1000);
    }
  }
  std::sort(prefixes.begin(), prefixes.end());
  const std::vector<IpAddress> questions = hostQuestions();
  size_t i = 0;
  for (auto _ : state) {
    const IpAddress& address = questions[i++ % questions.size()];
    uint64_t identity = 0;
    for (int length = 32; length >= 0; --length) {
      const uint64_t masked =
          length == 0 ? 0 : (address.low & ~((uint64_t{1} << (32 - length)) - 1)) & 0xffffffff;
      const uint64_t key = masked << 8 | static_cast<uint64_t>(length);
      const auto it =
          std::lower_bound(prefixes.begin(), prefixes.end(), std::make_pair(key, uint64_t{0}));
      if (it != prefixes.end() && it->first == key) {
        identity = it->second;
        break;
      }
    }
    benchmark::DoNotOptimize(identity);
  }
}
BENCHMARK(BM_HostsLookupBaseline);

}  // namespace

BENCHMARK_MAIN();
