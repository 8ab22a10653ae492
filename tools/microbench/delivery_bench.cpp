// Spike delivery: ns per synaptic event for arrival-time delivery from delay-sorted rows into the
// one-step input accumulator, for rows shaped like Brunel's (one delay) and the microcircuit's
// (~40 delays), and the per-event cost of the Philox lanes that feed Poisson input.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "myelin/core/random.hpp"
#include "myelin/synapses/delivery.hpp"

namespace {

using namespace myelin;

// n_targets neurons, n_sources sources with `per_row` synapses each, delays 1 + (k % n_delays).
synapse_table make_table(std::uint64_t n_targets, std::uint64_t n_sources, std::uint64_t per_row, int n_delays) {
  return build_synapse_table(n_targets, n_sources, 16, [&](std::uint64_t, bool, auto&& sink) {
    random_stream stream(1, stream_purpose::connectivity, 0, 0);
    for (std::uint64_t t = 0; t < n_targets; ++t)
      for (std::uint64_t k = 0; k < n_sources * per_row / n_targets; ++k)
        sink(synapse_draw{stream.uniform_int(n_sources), std::uint32_t(t),
                          std::uint16_t(1 + stream.uniform_int(std::uint64_t(n_delays))),
                          std::int32_t(stream.uniform_int(2000)) - 500});
  });
}

// Every step, `spikes_per_step` sources spike; events are counted as they arrive.
void deliver(benchmark::State& state, int n_delays) {
  const std::uint64_t n_targets = 40000, n_sources = 40000, per_row = 2000;
  const synapse_table table = make_table(n_targets, n_sources, per_row, n_delays);
  arrival_queue queue(table);
  std::vector<std::int64_t> input(2 * n_targets, 0);
  std::int64_t step = 0;
  std::uint64_t events = 0, next_source = 0;
  for (auto _ : state) {
    for (int s = 0; s < 12; ++s) queue.enqueue((next_source += 7919) % n_sources, step);
    events += queue.deliver(++step, input.data());
  }
  benchmark::DoNotOptimize(input.data());
  state.SetItemsProcessed(std::int64_t(events));
  state.counters["ns_per_event"] =
      benchmark::Counter(double(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
void deliver_one_delay(benchmark::State& state) { deliver(state, 1); }
void deliver_forty_delays(benchmark::State& state) { deliver(state, 40); }
BENCHMARK(deliver_one_delay);
BENCHMARK(deliver_forty_delays);

void philox_lanes_16(benchmark::State& state) {
  alignas(64) std::uint32_t c0[16], c1[16], c2[16], c3[16];
  std::uint32_t quad = 0;
  for (auto _ : state) {
    for (std::uint32_t k = 0; k < 16; ++k) {
      c0[k] = quad;
      c1[k] = 7;
      c2[k] = k;
      c3[k] = 0;
    }
    philox4x32_10_lanes<16>(c0, c1, c2, c3, {1, 2});
    benchmark::DoNotOptimize(c0);
    ++quad;
  }
  state.SetItemsProcessed(state.iterations() * 64);  // 64 uniforms per call
}
BENCHMARK(philox_lanes_16);

}  // namespace

BENCHMARK_MAIN();
