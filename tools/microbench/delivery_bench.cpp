// Spike delivery: ns per synaptic event for arrival-time delivery from delay-sorted rows into the
// one-step input accumulator, and the per-event cost of the Philox lanes that feed Poisson input.
//
// deliver_cortex<Queue>/<neurons>: a thread's share of a cortical network shaped like the
// Potjans-Diesmann microcircuit (77,169 neurons in all): `neurons` targets on this thread (77169 =
// the whole circuit on 1 thread, two blocks; 38585 = one of 2 threads), in-degree 3,900 from 77,169
// sources (20% inhibitory), delays drawn from normal(15, 7.5) steps (excitatory) and normal(7.5,
// 3.75) (inhibitory) in 1..45, 16-bit weights, every source spiking as a Poisson process at 4 Hz
// (dt = 0.1 ms): ~1.2e5 events, ~2,000 segments of ~60 synapses per step on 1 thread. As in the
// simulation loop, each step enqueues the spikes emitted in the step before and delivers; then,
// untimed, a stand-in for the neuron update consumes and zeroes the input and streams through
// neuron state (so the accumulator is not left in cache). Building a table takes ~30 s.
//   Queue = arrival_queue (the library's) or legacy_queue (the implementation before issue #3,
//   copied here as the yardstick).
// deliver_cortex_paired/<neurons>: arrival_queue and legacy_queue in one process, step by step in
//   turn (ABBA), each on its own copy of the table and its own input so that neither finds the
//   other's data in cache, each step timed in thread CPU time; reports ns per event of both and the
//   median over steps of new/legacy. On a machine shared with others, quote this ratio.
// Before timing, arrival_queue is checked against legacy_queue on the cortex table: bitwise equal
// input every step, also after a restore (enqueue with from_step).
//   MYELIN_BENCH_INDEGREE=N shrinks the cortex tables (default 3900) for quick runs.
// deliver_one_delay / deliver_forty_delays: rows shaped like Brunel's (one delay) and uniformly
// spread delays, 12 spikes per step.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <vector>

#include "myelin/core/random.hpp"
#include "myelin/synapses/delivery.hpp"

namespace {

using namespace myelin;

// The implementation before issue #3, kept as the yardstick: each step scans every pending spike
// of every block and compares the delay of its next segment.
class legacy_queue {
 public:
  explicit legacy_queue(const synapse_table& table) : table_(table), pending_(table.blocks.size()) {}

  void enqueue(std::uint64_t source_gid, std::int64_t emitted_step, std::int64_t from_step = INT64_MIN) {
    for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
      const synapse_block& block = table_.blocks[b];
      const std::int64_t row = block.find_row(source_gid);
      if (row < 0) continue;
      const auto r = std::size_t(row);
      pending_spike p{block.row_begin[r], block.segment_begin[r], block.segment_begin[r + 1], emitted_step, 0};
      while (p.next_segment < p.end_segment &&
             emitted_step + std::int64_t(block.segment_delay[p.next_segment]) < from_step)
        p.segment_offset = block.segment_end[p.next_segment++];
      if (p.next_segment < p.end_segment) pending_[b].push_back(p);
    }
  }

  std::uint64_t deliver(std::int64_t step, std::int64_t* input) {
    std::uint64_t events = 0;
    const bool wide = table_.weight_bits == 32;
    for (std::size_t b = 0; b < table_.blocks.size(); ++b) {
      const synapse_block& block = table_.blocks[b];
      std::int64_t* block_input = input + 2 * block.first_local;
      const std::uint16_t* target = block.target.data();
      auto& queue = pending_[b];
      for (std::size_t q = 0; q < queue.size();) {
        pending_spike& p = queue[q];
        const std::uint64_t seg = p.next_segment;
        if (std::int64_t(block.segment_delay[seg]) == step - p.emitted_step) {
          const std::uint64_t begin = p.row_begin + p.segment_offset;
          const std::uint64_t end = p.row_begin + block.segment_end[seg];
          p.segment_offset = block.segment_end[seg];
          events += wide ? deliver_range(target, block.weight32.data(), begin, end, block_input)
                         : deliver_range(target, block.weight16.data(), begin, end, block_input);
          if (++p.next_segment == p.end_segment) {
            p = queue.back();
            queue.pop_back();
            continue;
          }
        }
        ++q;
      }
    }
    return events;
  }

  std::size_t pending() const {
    std::size_t n = 0;
    for (const auto& q : pending_) n += q.size();
    return n;
  }

 private:
  template <class Weight>
  static std::uint64_t deliver_range(const std::uint16_t* target, const Weight* weight, std::uint64_t begin,
                                     std::uint64_t end, std::int64_t* input) {
    for (std::uint64_t i = begin; i < end; ++i) {
      const Weight w = weight[i];
      input[2 * std::size_t(target[i]) + (w < 0 ? 1 : 0)] += w;
    }
    return end - begin;
  }
  struct pending_spike {
    std::uint64_t row_begin;
    std::uint64_t next_segment;
    std::uint64_t end_segment;
    std::int64_t emitted_step;
    std::uint32_t segment_offset;
  };
  const synapse_table& table_;
  std::vector<std::vector<pending_spike>> pending_;
};


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

const synapse_table& uniform_table(int n_delays) {
  static std::map<int, std::unique_ptr<synapse_table>> tables;
  auto& t = tables[n_delays];
  if (!t) t = std::make_unique<synapse_table>(make_table(40000, 40000, 2000, n_delays));
  return *t;
}

// Every step, 12 sources spike; events are counted as they arrive.
template <class Queue>
void deliver(benchmark::State& state, int n_delays) {
  const std::uint64_t n_targets = 40000, n_sources = 40000;
  const synapse_table& table = uniform_table(n_delays);
  Queue queue(table);
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
void deliver_one_delay(benchmark::State& state) { deliver<arrival_queue>(state, 1); }
void deliver_forty_delays(benchmark::State& state) { deliver<arrival_queue>(state, 40); }
void deliver_one_delay_legacy(benchmark::State& state) { deliver<legacy_queue>(state, 1); }
void deliver_forty_delays_legacy(benchmark::State& state) { deliver<legacy_queue>(state, 40); }
BENCHMARK(deliver_one_delay);
BENCHMARK(deliver_one_delay_legacy);
BENCHMARK(deliver_forty_delays);
BENCHMARK(deliver_forty_delays_legacy);

// ---- A cortical network shaped like the microcircuit ----

constexpr std::uint64_t cortex_sources = 77169;
constexpr double cortex_rate_hz = 4.0, cortex_dt_ms = 0.1;
constexpr std::int64_t cortex_spike_steps = 4096;  // the spike pattern repeats with this period
constexpr std::int64_t cortex_max_delay = 45;

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
inline double unit(std::uint64_t h) { return double(h >> 11) * 0x1.0p-53; }

std::uint64_t cortex_indegree() {
  const char* s = std::getenv("MYELIN_BENCH_INDEGREE");
  return s != nullptr ? std::strtoull(s, nullptr, 10) : 3900;
}

synapse_table make_cortex(std::uint64_t n_targets) {
  const std::uint64_t k_in = cortex_indegree();
  return build_synapse_table(n_targets, cortex_sources, 16, [&](std::uint64_t block, bool, auto&& sink) {
    const std::uint64_t first = block * synapse_table::block_size;
    const std::uint64_t last = std::min(first + synapse_table::block_size, n_targets);
    for (std::uint64_t t = first; t < last; ++t) {
      for (std::uint64_t k = 0; k < k_in; ++k) {
        const std::uint64_t h = mix(t * 1000003u + k);
        const auto source = std::uint64_t((unsigned __int128)(h) * cortex_sources >> 64);
        const bool inhibitory = source % 5 == 0;
        // Irwin-Hall(4) as a cheap normal: mean 0, sd 1.
        const std::uint64_t g = mix(h);
        const double z = ((double(g & 0xffff) + double((g >> 16) & 0xffff) + double((g >> 32) & 0xffff) +
                           double(g >> 48)) / 65536.0 - 2.0) * std::sqrt(3.0);
        const double mean = inhibitory ? 7.5 : 15.0;
        const auto delay = std::uint16_t(std::clamp<long>(std::lround(mean + 0.5 * mean * z), 1, cortex_max_delay));
        const std::int32_t w = inhibitory ? -30000 + std::int32_t(g % 2000) : 7000 + std::int32_t(g % 1500);
        sink(synapse_draw{source, std::uint32_t(t), delay, w});
      }
    }
  });
}

// spikes[s]: sources that spike in step s (mod cortex_spike_steps), increasing.
const std::vector<std::vector<std::uint64_t>>& cortex_spikes() {
  static const std::vector<std::vector<std::uint64_t>> spikes = [] {
    std::vector<std::vector<std::uint64_t>> out(cortex_spike_steps);
    const double p = cortex_rate_hz * cortex_dt_ms * 1e-3;
    for (std::int64_t s = 0; s < cortex_spike_steps; ++s)
      for (std::uint64_t n = 0; n < cortex_sources; ++n)
        if (unit(mix(std::uint64_t(s) * cortex_sources + n + 0x5eed)) < p) out[std::size_t(s)].push_back(n);
    return out;
  }();
  return spikes;
}

// copy 0: the table the benchmarks share; copy 1: a second one, same content, own memory.
const synapse_table& cortex_table(std::uint64_t n_targets, int copy = 0) {
  static std::map<std::pair<std::uint64_t, int>, std::unique_ptr<synapse_table>> tables;
  auto& t = tables[{n_targets, copy}];
  if (!t) t = std::make_unique<synapse_table>(make_cortex(n_targets));
  return *t;
}

// One simulated step: enqueue the spikes of step - 1, deliver step.
template <class Queue>
std::uint64_t cortex_step(Queue& queue, std::int64_t step, std::int64_t* input) {
  for (std::uint64_t gid : cortex_spikes()[std::size_t((step - 1) % cortex_spike_steps)]) queue.enqueue(gid, step - 1);
  return queue.deliver(step, input);
}

// arrival_queue and legacy_queue give bitwise the same input every step, also after restores.
void check_against_legacy(const synapse_table& table, std::uint64_t n_targets) {
  static std::map<const synapse_table*, bool> checked;
  if (checked[&table]) return;
  checked[&table] = true;
  legacy_queue reference(table);
  std::vector<std::int64_t> in_a(2 * n_targets, 0), in_b(2 * n_targets, 0);
  std::uint64_t ea = 0, eb = 0;
  auto queue = std::make_unique<arrival_queue>(table);
  auto compare = [&](std::int64_t step) {
    if (in_a != in_b || ea != eb || queue->pending() != reference.pending()) {
      std::fprintf(stderr, "delivery_bench: arrival_queue differs from legacy_queue at step %lld\n", (long long)step);
      std::abort();
    }
  };
  for (std::int64_t step = 1; step < 600; ++step) {
    if (step % 200 == 0) {
      // Restore into a new queue: the spikes still in flight, their delivered synapses skipped
      // (cortex_step then enqueues those of step - 1 as usual).
      queue = std::make_unique<arrival_queue>(table);
      for (std::int64_t s = std::max<std::int64_t>(1, step - cortex_max_delay - 1); s < step - 1; ++s)
        for (std::uint64_t gid : cortex_spikes()[std::size_t(s)]) queue->enqueue(gid, s, step);
    }
    ea += cortex_step(*queue, step, in_a.data());
    eb += cortex_step(reference, step, in_b.data());
    compare(step);
  }
}

// Stand-in for the neuron update: consumes and zeroes the input, streams through neuron state.
struct update_pass {
  std::vector<double> state;
  double sink = 0;
  explicit update_pass(std::uint64_t n) : state(5 * n, 0.0) {}
  void operator()(std::vector<std::int64_t>& input) {
    const std::size_t n = input.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
      state[5 * i] += double(input[2 * i] + input[2 * i + 1]);
      input[2 * i] = input[2 * i + 1] = 0;
      sink += state[5 * i + 4];
    }
  }
};

template <class Queue>
void run_cortex(benchmark::State& state, Queue& queue, std::uint64_t n_targets) {
  std::vector<std::int64_t> input(2 * n_targets, 0);
  update_pass update(n_targets);
  std::int64_t step = 1;
  for (; step < 100; ++step) {  // spikes in flight as in steady state
    cortex_step(queue, step, input.data());
    update(input);
  }
  std::uint64_t events = 0;
  for (auto _ : state) {
    events += cortex_step(queue, step++, input.data());
    state.PauseTiming();
    update(input);
    state.ResumeTiming();
  }
  benchmark::DoNotOptimize(update.sink);
  state.SetItemsProcessed(std::int64_t(events));
  state.counters["ns_per_event"] =
      benchmark::Counter(double(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

template <class Queue>
void deliver_cortex(benchmark::State& state) {
  const auto n_targets = std::uint64_t(state.range(0));
  const synapse_table& table = cortex_table(n_targets);
  check_against_legacy(table, n_targets);
  Queue queue(table);
  run_cortex(state, queue, n_targets);
  state.counters["pending"] = double(queue.pending());
}
BENCHMARK_TEMPLATE(deliver_cortex, arrival_queue)->Arg(77169)->Arg(38585)->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(deliver_cortex, legacy_queue)->Arg(77169)->Arg(38585)->Unit(benchmark::kMicrosecond);

double thread_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

void deliver_cortex_paired(benchmark::State& state) {
  const auto n_targets = std::uint64_t(state.range(0));
  const synapse_table& table_a = cortex_table(n_targets, 0);
  check_against_legacy(table_a, n_targets);
  const synapse_table& table_b = cortex_table(n_targets, 1);
  arrival_queue a(table_a);
  legacy_queue b(table_b);
  std::vector<std::int64_t> in_a(2 * n_targets, 0), in_b(2 * n_targets, 0);
  update_pass update_a(n_targets), update_b(n_targets);
  std::int64_t step = 1;
  for (; step < 100; ++step) {
    cortex_step(a, step, in_a.data());
    update_a(in_a);
    cortex_step(b, step, in_b.data());
    update_b(in_b);
  }
  std::vector<double> ratio;
  double time_a = 0, time_b = 0;
  std::uint64_t events = 0;
  for (auto _ : state) {
    double ta = 0, tb = 0;
    std::uint64_t ea = 0, eb = 0;
    const bool a_first = (step & 1) == 0;
    for (int k = 0; k < 2; ++k) {
      const double t0 = thread_seconds();
      if ((k == 0) == a_first) {
        ea = cortex_step(a, step, in_a.data());
        ta = thread_seconds() - t0;
        update_a(in_a);
      } else {
        eb = cortex_step(b, step, in_b.data());
        tb = thread_seconds() - t0;
        update_b(in_b);
      }
    }
    if (ea != eb) state.SkipWithError("event counts differ");
    ++step;
    time_a += ta;
    time_b += tb;
    events += ea;
    if (tb > 0) ratio.push_back(ta / tb);
  }
  benchmark::DoNotOptimize(update_a.sink + update_b.sink);
  std::sort(ratio.begin(), ratio.end());
  state.counters["ns_per_event_new"] = 1e9 * time_a / double(events);
  state.counters["ns_per_event_legacy"] = 1e9 * time_b / double(events);
  state.counters["new/legacy_median"] = ratio.empty() ? 0.0 : ratio[ratio.size() / 2];
  state.counters["new/legacy_total"] = time_a / time_b;
}
BENCHMARK(deliver_cortex_paired)->Arg(77169)->Arg(38585)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
