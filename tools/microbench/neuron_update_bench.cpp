// Cost of one neuron_block::update per neuron: 40,000 neurons per model (a thread's share of a
// microcircuit-sized network), driven by random fixed-point input near threshold so that both
// the integration and the spike path are exercised. update() consumes (zeroes) its input, so each
// step gets a fresh copy of one of the frames, outside the timed region. Sums are int32 (what a
// network whose per-step input provably fits uses, e.g. the microcircuit) or int64. Report:
// time_per_neuron (seconds).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "myelin/models/neuron_block.hpp"

namespace {

constexpr std::size_t neurons = 40000;
constexpr std::size_t input_frames = 16;  // distinct input patterns, cycled
constexpr double dt_ms = 0.1;
constexpr double quantum = 1.0 / 1024;  // pA (mV for iaf_psc_delta) per fixed-point unit

myelin::population_spec population(myelin::neuron_model model, bool refractory_input) {
  myelin::population_spec spec;
  spec.name = "bench";
  spec.model = model;
  spec.n = neurons;
  spec.params.refractory_input = refractory_input;
  spec.params.tau_syn_ex_ms = 0.5;  // the microcircuit's
  spec.params.tau_syn_in_ms = 0.5;
  spec.params.I_e_pA = 350.0;       // near rheobase (375 pA): input decides who fires
  return spec;
}

template <class Sum>
void run_update(benchmark::State& bench, myelin::neuron_model model, bool with_stim, bool refractory_input) {
  auto block = myelin::neuron_block::create(population(model, refractory_input), dt_ms, neurons);

  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> V0(-70.0, -55.0);
  for (std::size_t i = 0; i < neurons; ++i) block->set("V_m", i, V0(rng));

  // Net mean input slightly excitatory, so that a few percent of neurons fire every ms.
  const bool delta = model == myelin::neuron_model::iaf_psc_delta;
  const double ex_max = delta ? 0.6 : 150.0, in_max = delta ? 0.55 : 140.0;
  std::uniform_int_distribution<Sum> ex(0, Sum(ex_max / quantum));
  std::uniform_int_distribution<Sum> in(-Sum(in_max / quantum), 0);
  std::vector<std::vector<Sum>> frames(input_frames, std::vector<Sum>(2 * neurons));
  for (auto& frame : frames) {
    for (std::size_t i = 0; i < neurons; ++i) {
      frame[2 * i] = ex(rng);
      frame[2 * i + 1] = in(rng);
    }
  }
  std::vector<double> stim_pA(neurons, 10.0);

  std::vector<std::uint32_t> spiked;
  spiked.reserve(neurons);
  std::size_t step = 0, spikes = 0;
  std::vector<Sum> input(2 * neurons);
  for (auto _ : bench) {
    bench.PauseTiming();
    const std::vector<Sum>& frame = frames[step % input_frames];
    std::copy(frame.begin(), frame.end(), input.begin());
    spiked.clear();
    bench.ResumeTiming();
    block->update(input.data(), quantum, with_stim ? stim_pA.data() : nullptr, spiked);
    spikes += spiked.size();
    ++step;
    benchmark::DoNotOptimize(spiked.data());
  }
  bench.counters["time_per_neuron"] =
      benchmark::Counter(double(neurons), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  bench.counters["spikes_per_step"] = double(spikes) / double(step);
  bench.SetItemsProcessed(std::int64_t(bench.iterations()) * std::int64_t(neurons));
}

using myelin::neuron_model;
void BM_iaf_psc_delta(benchmark::State& s) { run_update<std::int64_t>(s, neuron_model::iaf_psc_delta, false, false); }
void BM_iaf_psc_delta_refractory_input(benchmark::State& s) {
  run_update<std::int64_t>(s, neuron_model::iaf_psc_delta, false, true);
}
void BM_iaf_psc_exp(benchmark::State& s) { run_update<std::int64_t>(s, neuron_model::iaf_psc_exp, false, false); }
void BM_iaf_psc_exp_int32(benchmark::State& s) { run_update<std::int32_t>(s, neuron_model::iaf_psc_exp, false, false); }
void BM_iaf_psc_exp_dc(benchmark::State& s) { run_update<std::int64_t>(s, neuron_model::iaf_psc_exp, true, false); }
void BM_iaf_psc_alpha(benchmark::State& s) { run_update<std::int64_t>(s, neuron_model::iaf_psc_alpha, false, false); }

BENCHMARK(BM_iaf_psc_delta);
BENCHMARK(BM_iaf_psc_delta_refractory_input);
BENCHMARK(BM_iaf_psc_exp);
BENCHMARK(BM_iaf_psc_exp_int32);
BENCHMARK(BM_iaf_psc_exp_dc);
BENCHMARK(BM_iaf_psc_alpha);

}  // namespace

BENCHMARK_MAIN();
