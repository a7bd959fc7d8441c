// The engine's side of `nox -s e2e -- bench`'s policy pushes (issue 18, item 2): the very
// DiscoveryResponses the stand-in agent sent to Envoy, replayed in the same order.
//
//   push_benchmark [Google Benchmark flags] RESPONSE.json...
//
// Each file is one NPDS DiscoveryResponse as proto3 JSON, read with protobuf's JSON parser and
// turned into its wire bytes before anything is timed. For file N two benchmarks run:
//  - BM_PushParse/N: the protobuf floor, the wire bytes parsed and the policies taken out of
//    their Any (as BM_Parse in policy_benchmark.cc);
//  - BM_PushUpdate/N: what the module does between reading the response and answering it,
//    parse and PolicyMap::update, on a map that holds file N-1 as it was applied (state of
//    the world: the state before N is exactly N-1's; nothing before the first file). The
//    replaced policies stay alive through the timed part, as in the module, whose snapshot
//    cell frees them only after the ACK went out. Five iterations each (kUpdateIterations).
// Both in wall-clock time (the ACK they are set against is wall-clock time too).
#include <benchmark/benchmark.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cilium-filters/policy/compile/policy_map.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace {

using Cilium::Policy::PolicyMap;
using envoy::service::discovery::v3::DiscoveryResponse;

// The wire bytes of a response given as proto3 JSON in `path`; empty with a message on error.
std::string wireBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "push_benchmark: cannot read " << path << "\n";
    return {};
  }
  std::stringstream text;
  text << in.rdbuf();
  DiscoveryResponse response;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &response);
  if (!status.ok()) {
    std::cerr << "push_benchmark: " << path << " is no DiscoveryResponse: " << status.ToString()
              << "\n";
    return {};
  }
  return response.SerializeAsString();
}

// BM_PushUpdate's iterations, fixed: each first rebuilds, untimed, the state the update
// replaces, which costs about as much as a full update. Under a time goal an update timed at
// a few ms (the unchanged re-push) ran hundreds of times, each after a 10k rebuild: most of
// the bench's minutes, for no steadier a figure.
constexpr int kUpdateIterations = 5;

void applied(PolicyMap& map, const std::string& bytes, benchmark::State& state) {
  DiscoveryResponse response;
  response.ParseFromString(bytes);
  const auto status = map.update(response);
  if (!status) {
    state.SkipWithError(status.message().c_str());
  }
}

void parse(benchmark::State& state, const std::string* bytes) {
  for (auto _ : state) {
    DiscoveryResponse response;
    response.ParseFromString(*bytes);
    std::vector<cilium::NetworkPolicy> policies;
    PolicyMap::unpack(response, policies);
    benchmark::DoNotOptimize(policies.data());
  }
}

void update(benchmark::State& state, const std::string* previous, const std::string* bytes) {
  for (auto _ : state) {
    state.PauseTiming();
    auto map = std::make_unique<PolicyMap>();
    if (previous != nullptr) {
      applied(*map, *previous, state);
    }
    auto replaced = map->snapshot();
    state.ResumeTiming();
    applied(*map, *bytes, state);
    state.PauseTiming();
    map.reset();  // freeing both states is not the update's work
    replaced.reset();
    state.ResumeTiming();
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);  // takes out the --benchmark_* flags
  if (argc < 2) {
    std::cerr << "usage: push_benchmark [--benchmark_... flags] RESPONSE.json...\n";
    return 2;
  }
  static std::vector<std::string> responses;  // alive while the benchmarks run
  for (int i = 1; i < argc; ++i) {
    responses.push_back(wireBytes(argv[i]));
    if (responses.back().empty()) {
      return 1;
    }
  }
  for (size_t n = 0; n < responses.size(); ++n) {
    const std::string* previous = n == 0 ? nullptr : &responses[n - 1];
    benchmark::RegisterBenchmark(("BM_PushParse/" + std::to_string(n)).c_str(), parse,
                                 &responses[n])
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("BM_PushUpdate/" + std::to_string(n)).c_str(), update, previous,
                                 &responses[n])
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(kUpdateIterations);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
