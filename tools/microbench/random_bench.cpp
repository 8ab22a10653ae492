// Cost of the random number primitives on the build and step hot paths: one Philox block, and
// per-draw figures of the distributions (items/s = draws/s).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "myelin/core/random.hpp"

namespace {

using myelin::random_stream;
using myelin::stream_purpose;

void philox_block(benchmark::State& state) {
  std::array<std::uint32_t, 4> counter{0, 1, 2, 3};
  const std::array<std::uint32_t, 2> key{0xdeadbeef, 0x12345678};
  for (auto _ : state) {
    const auto block = myelin::philox4x32_10(counter, key);
    benchmark::DoNotOptimize(block);
    ++counter[0];
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(philox_block);

// Independent blocks, as in a loop over neurons: the compiler may interleave or vectorize them.
void philox_block_batch(benchmark::State& state) {
  constexpr std::size_t batch = 1024;
  std::vector<std::uint32_t> out(4 * batch);
  const std::array<std::uint32_t, 2> key{0xdeadbeef, 0x12345678};
  std::uint32_t step = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < batch; ++i) {
      const auto block = myelin::philox4x32_10({step, 7, std::uint32_t(i), 0}, key);
      for (std::size_t w = 0; w < 4; ++w) out[4 * i + w] = block[w];
    }
    benchmark::DoNotOptimize(out.data());
    ++step;
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(batch));
}
BENCHMARK(philox_block_batch);

// The vectorized bijection (Poisson input, random_stream's refills): items/s = blocks/s.
template <std::size_t lanes>
void philox_lanes(benchmark::State& state) {
  alignas(64) std::uint32_t c0[lanes], c1[lanes], c2[lanes], c3[lanes];
  std::uint32_t block = 0;
  for (auto _ : state) {
    for (std::uint32_t k = 0; k < lanes; ++k) {
      c0[k] = block;
      c1[k] = 7;
      c2[k] = k;
      c3[k] = 0;
    }
    myelin::philox4x32_10_lanes<lanes>(c0, c1, c2, c3, {1, 2});
    benchmark::DoNotOptimize(c0);
    benchmark::DoNotOptimize(c3);
    ++block;
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(lanes));
}
BENCHMARK_TEMPLATE(philox_lanes, 16);
BENCHMARK_TEMPLATE(philox_lanes, 32);
BENCHMARK_TEMPLATE(philox_lanes, 64);

void stream_next_u32(benchmark::State& state) {
  random_stream stream(1, stream_purpose::poisson_input, 0, 0);
  for (auto _ : state) benchmark::DoNotOptimize(stream.next_u32());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_next_u32);

void stream_uniform(benchmark::State& state) {
  random_stream stream(1, stream_purpose::initial_state, 0, 0);
  for (auto _ : state) benchmark::DoNotOptimize(stream.uniform());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_uniform);

void stream_uniform_int(benchmark::State& state) {
  random_stream stream(1, stream_purpose::connectivity, 0, 0);
  const auto n = std::uint64_t(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(stream.uniform_int(n));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_uniform_int)->Arg(77169)->Arg((std::int64_t(1) << 31) + 1);

void stream_normal(benchmark::State& state) {
  random_stream stream(1, stream_purpose::weights_delays, 0, 0);
  for (auto _ : state) benchmark::DoNotOptimize(stream.normal());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_normal);

// A weight and a delay per synapse, as the network build draws them.
void stream_draw_normal_with_bounds(benchmark::State& state) {
  random_stream stream(1, stream_purpose::weights_delays, 0, 0);
  myelin::distribution weight;
  weight.type = myelin::distribution::kind::normal;
  weight.a = 87.8;
  weight.b = 8.78;
  weight.min = 0.0;
  for (auto _ : state) benchmark::DoNotOptimize(stream.draw(weight));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_draw_normal_with_bounds);

// Means in tenths: 0.1, 1.6 (a typical background input per 0.1 ms step), 30.
void poisson_table_sample(benchmark::State& state) {
  const myelin::poisson_table table(double(state.range(0)) / 10.0);
  random_stream stream(1, stream_purpose::poisson_input, 0, 0);
  std::vector<std::uint32_t> uniforms(4096);
  for (auto& u : uniforms) u = stream.next_u32();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.sample(uniforms[i]));
    i = (i + 1) & (uniforms.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(poisson_table_sample)->Arg(1)->Arg(16)->Arg(300);

// The batch form the Poisson input uses, 64 draws per call (per draw, as above); mean 2.4 is the
// microcircuit's largest background per step.
void poisson_table_sample_batch(benchmark::State& state) {
  const myelin::poisson_table table(double(state.range(0)) / 10.0);
  random_stream stream(1, stream_purpose::poisson_input, 0, 0);
  std::vector<std::uint32_t> uniforms(4096), counts(64);
  for (auto& u : uniforms) u = stream.next_u32();
  std::size_t i = 0;
  for (auto _ : state) {
    table.sample(uniforms.data() + i, counts.data(), counts.size());
    benchmark::DoNotOptimize(counts.data());
    i = (i + counts.size()) & (uniforms.size() - 1);
  }
  state.SetItemsProcessed(state.iterations() * std::int64_t(counts.size()));
}
BENCHMARK(poisson_table_sample_batch)->Arg(1)->Arg(2)->Arg(16)->Arg(24)->Arg(300);

void stream_poisson(benchmark::State& state) {
  random_stream stream(1, stream_purpose::poisson_input, 0, 0);
  const double mean = double(state.range(0)) / 10.0;
  for (auto _ : state) benchmark::DoNotOptimize(stream.poisson(mean));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_poisson)->Arg(16)->Arg(300)->Arg(10000);

void stream_binomial(benchmark::State& state) {
  random_stream stream(1, stream_purpose::shared_split, 0, 0);
  const auto n = std::uint64_t(state.range(0));
  const double p = double(state.range(1)) / 1000.0;
  for (auto _ : state) benchmark::DoNotOptimize(stream.binomial(n, p));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(stream_binomial)->Args({100, 30})->Args({1000, 300})->Args({1'000'000'000'000, 500});

}  // namespace

BENCHMARK_MAIN();
