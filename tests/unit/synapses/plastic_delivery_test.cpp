// plastic_arrival_queue (row traces snapshotted at admission, weights updated at arrival) against
// a reference that keeps a trace in every synapse and processes each spike when it arrives, as
// NEST's send() does per synapse (stdp.hpp: both give the same bits). Random tables with several
// delays, multapses and two blocks; spikes enqueued per communication interval; every step's
// input and the final weights must be equal, bit for bit.
#include "myelin/synapses/plastic_delivery.hpp"
#include "unit/synapses/xorshift.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <vector>

namespace myelin {

namespace {

constexpr double dt = 0.1;

using rng = test::xorshift;

struct reference_synapse {
  std::uint64_t source;
  std::uint32_t target;
  std::int64_t d;
  double w;
  pre_trace trace;
};

struct key_weight {
  std::uint32_t target;
  std::uint64_t source;
  std::int64_t d;
  double w;
};

std::vector<key_weight> sorted(std::vector<key_weight> v) {
  std::stable_sort(v.begin(), v.end(), [](const key_weight& a, const key_weight& b) {
    return std::tie(a.target, a.source, a.d) < std::tie(b.target, b.source, b.d);
  });
  return v;
}

struct shape {
  std::uint64_t n_local;       // neurons on the thread (> 65,536: two blocks)
  std::uint64_t slice_begin;   // the target population's first local index
  std::uint32_t n_targets;     // its neurons that receive synapses, spread over the slice
  std::uint64_t n_sources;
  int per_target;
  int min_delay, max_delay;
  std::uint64_t seed;
};

template <class Rule>
void expect_same_as_per_synapse_traces(const Rule& rule, double w0, const shape& s) {
  rng r{s.seed};
  // Targets spread over the slice (both blocks when n_local > 65,536), in increasing order.
  std::vector<std::uint32_t> targets;
  for (std::uint32_t t = 0; t < s.n_targets; ++t)
    targets.push_back(std::uint32_t(s.slice_begin + (s.n_local - s.slice_begin - 1) * t / (s.n_targets - 1)));
  std::vector<synapse_draw> draws;
  std::vector<reference_synapse> reference;
  for (const std::uint32_t t : targets)
    for (int k = 0; k < s.per_target; ++k) {
      const std::uint64_t src = r.below(s.n_sources);
      const auto d = std::uint16_t(s.min_delay + int(r.below(std::uint64_t(s.max_delay - s.min_delay + 1))));
      const double w = w0 * (0.5 + double(r.below(1000)) / 1000.0);
      draws.push_back({src, t, d, 0, w});
      reference.push_back({src, t, d, w, {}});
      if (r.below(8) == 0) {  // a multapse: same source, target and delay, another weight
        draws.push_back({src, t, d, 0, w * 0.75});
        reference.push_back({src, t, d, w * 0.75, {}});
      }
    }
  synapse_table table = build_synapse_table(s.n_local, s.n_sources, plastic_weight_bits,
                                            [&](std::uint64_t block, bool, auto&& sink) {
                                              for (const auto& d : draws)
                                                if (d.target_local / synapse_table::block_size == block) sink(d);
                                            });
  const double tau_minus = 27.0, quantum = std::ldexp(1.0, -9);
  const std::uint64_t slice_n = s.n_local - s.slice_begin;
  post_history history(slice_n, tau_minus, dt), reference_history(slice_n, tau_minus, dt);
  for (const auto& d : draws) {
    history.add_incoming(d.target_local - s.slice_begin);
    reference_history.add_incoming(d.target_local - s.slice_begin);
  }
  plastic_arrival_queue queue(table, rule, history, s.slice_begin, quantum, s.max_delay);

  const std::int64_t D = s.min_delay, n_steps = 40000;
  std::vector<std::vector<std::pair<std::size_t, std::int64_t>>> due(std::size_t(n_steps + s.max_delay + 1));
  std::vector<std::pair<std::uint64_t, std::int64_t>> last_interval, this_interval;
  std::vector<std::int64_t> input(2 * s.n_local), expected(2 * s.n_local);
  std::uint64_t events = 0, expected_events = 0;
  for (std::int64_t t0 = 0; t0 < n_steps; t0 += D) {
    for (const auto& [gid, step] : last_interval) queue.enqueue(gid, step);
    last_interval.clear();
    for (std::int64_t step = t0; step < std::min(t0 + D, n_steps); ++step) {
      std::fill(input.begin(), input.end(), 0);
      std::fill(expected.begin(), expected.end(), 0);
      events += queue.deliver(step, input.data());
      for (const auto& [i, t_pre] : due[std::size_t(step)]) {
        reference_synapse& syn = reference[i];
        const double w = on_presynaptic_spike(syn.w, syn.trace, t_pre, syn.d,
                                              reference_history.view(syn.target - s.slice_begin), rule);
        const auto units = std::int64_t(std::nearbyint(w / quantum));
        expected[2 * syn.target + (units < 0 ? 1 : 0)] += units;
        ++expected_events;
      }
      ASSERT_EQ(input, expected) << "step " << step;
      // Sources spike at ~10 Hz, targets at ~8 Hz: pairs of both signs at every lag.
      for (std::uint64_t src = 0; src < s.n_sources; ++src) {
        if (r.below(1000) != 0) continue;
        this_interval.emplace_back(src, step);
        for (std::size_t i = 0; i < reference.size(); ++i)
          if (reference[i].source == src) due[std::size_t(step + reference[i].d)].emplace_back(i, step + 1);
      }
      for (const std::uint32_t t : targets) {
        if (r.below(1250) != 0) continue;
        const std::int64_t horizon = arrival_time_horizon(step + 1, s.max_delay);
        history.register_spike(t - s.slice_begin, step + 1, horizon);
        reference_history.register_spike(t - s.slice_begin, step + 1, horizon);
      }
    }
    last_interval.swap(this_interval);
  }
  EXPECT_EQ(events, expected_events);
  EXPECT_GT(events, 10000u);

  std::vector<key_weight> got, want;
  for (const synapse_block& block : table.blocks)
    for (std::size_t row = 0; row < block.rows(); ++row)
      for (std::uint64_t seg = block.segment_begin[row]; seg < block.segment_begin[row + 1]; ++seg) {
        const std::uint64_t begin = block.row_begin[row] + (seg == block.segment_begin[row] ? 0 : block.segment_end[seg - 1]);
        const std::uint64_t end = block.row_begin[row] + block.segment_end[seg];
        for (std::uint64_t k = begin; k < end; ++k)
          got.push_back({std::uint32_t(block.first_local + block.target[k]), block.source_gid[row],
                         block.segment_delay[seg], block.weight64[k]});
      }
  std::size_t changed = 0;
  for (const auto& syn : reference) want.push_back({syn.target, syn.source, syn.d, syn.w});
  got = sorted(got);
  want = sorted(want);
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].target, want[i].target);
    ASSERT_EQ(got[i].source, want[i].source);
    ASSERT_EQ(got[i].d, want[i].d);
    ASSERT_EQ(got[i].w, want[i].w) << "synapse " << i;  // bitwise
    changed += std::abs(got[i].w - w0) > 1e-9 * w0;
  }
  EXPECT_GT(changed, got.size() / 2);
}

TEST(plastic_arrival_queue, stdp_matches_per_synapse_traces_bit_for_bit) {
  const stdp_parameters p{
      .tau_plus_ms = 16.8, .lambda = 0.02, .alpha = 1.1, .mu_plus = 0.4, .mu_minus = 0.7, .Wmax = 60.0};
  expect_same_as_per_synapse_traces(stdp_rule(p, dt), 30.0, {500, 100, 40, 30, 12, 5, 40, 7});
}

TEST(plastic_arrival_queue, stdp_pl_matches_per_synapse_traces_bit_for_bit) {
  const stdp_pl_parameters p{.tau_plus_ms = 15.0, .lambda = 0.1, .alpha = 0.0513, .mu = 0.4};
  expect_same_as_per_synapse_traces(stdp_pl_rule(p, dt), 45.6, {500, 0, 60, 40, 20, 15, 15, 11});
}

TEST(plastic_arrival_queue, two_blocks_keep_one_trace_per_row) {
  const stdp_parameters p{.tau_plus_ms = 20.0, .lambda = 0.01, .alpha = 1.0, .mu_plus = 1.0, .mu_minus = 1.0, .Wmax = 1.0};
  expect_same_as_per_synapse_traces(stdp_rule(p, dt), 0.5, {70000, 1000, 30, 25, 10, 10, 25, 13});
}

}  // namespace
}  // namespace myelin
