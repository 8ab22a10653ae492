// Spike exchange at one rank: packing a step's spikes by destination, the (no-op) collective and
// unpacking; and connection generation: sources, weights and delays drawn per target.
#include <benchmark/benchmark.h>

#include <mpi.h>

#include <cstdint>
#include <numeric>
#include <vector>

#include "myelin/comm/spike_exchange.hpp"
#include "myelin/connect/connection_rules.hpp"
#include "myelin/core/random.hpp"

namespace {

using namespace myelin;

void exchange_one_rank(benchmark::State& state) {
  communicator comm;
  const std::uint64_t n = 77169;
  partition part(n, comm.size(), 1, comm.rank());
  std::vector<std::uint64_t> needed(n);
  std::iota(needed.begin(), needed.end(), 0);
  spike_exchange exchange(comm, part, needed);
  std::vector<received_spike> spikes;
  for (std::uint64_t g = 0; g < 300; ++g) spikes.push_back({(g * 257) % n, 0});  // ~a microcircuit step
  for (auto _ : state) {
    bool stop = false;
    benchmark::DoNotOptimize(exchange.exchange(spikes, 0, stop).data());
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(spikes.size()));
}
BENCHMARK(exchange_one_rank);

// fixed_indegree 1000 with normal weights and delays, as the build draws them (per synapse).
void connect_fixed_indegree(benchmark::State& state) {
  network_spec net;
  net.populations.resize(1);
  net.populations[0].name = "E";
  net.populations[0].n = 10000;
  projection_spec p;
  p.rule = connection_rule::fixed_indegree;
  p.indegree = 1000;
  p.weight.type = distribution::kind::normal;
  p.weight.a = 87.8;
  p.weight.b = 8.78;
  p.weight.min = 0.0;
  p.delay_ms.type = distribution::kind::normal;
  p.delay_ms.a = 1.5;
  p.delay_ms.b = 0.75;
  p.delay_ms.min = 0.05;
  net.projections = {p};
  network_layout layout(net, 0.1, 16);
  const auto plans = plan_projections(net, layout, 1);
  source_scratch scratch;
  std::vector<std::uint64_t> sources;
  std::uint64_t target = 0, synapses = 0;
  for (auto _ : state) {
    draw_sources(plans[0], 1, target, scratch, sources);
    random_stream draws(1, stream_purpose::weights_delays, 0, target);
    double sum = 0;
    for (std::size_t i = 0; i < sources.size(); ++i) sum += draws.draw(p.weight) + draws.draw(p.delay_ms);
    benchmark::DoNotOptimize(sum);
    synapses += sources.size();
    target = (target + 1) % 10000;
  }
  state.SetItemsProcessed(std::int64_t(synapses));
}
BENCHMARK(connect_fixed_indegree);

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  MPI_Finalize();
  return 0;
}
