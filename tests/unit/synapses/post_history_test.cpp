// post_history: the postsynaptic trace Kminus, the (t1, t2] windows and Kminus queries that STDP
// synapses make, pruning that keeps exactly what they can still need, and the flat pool of rings.
#include "myelin/synapses/post_history.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace myelin {
namespace {

constexpr double dt = 0.1;
constexpr double tau_minus = 20.0;
constexpr std::int64_t keep_all = std::numeric_limits<std::int64_t>::min();  // a horizon that prunes nothing

std::vector<std::int64_t> window(post_history& h, std::size_t neuron, std::int64_t t1, std::int64_t t2) {
  std::vector<std::int64_t> seen;
  h.view(neuron).read_window(t1, t2, [&](std::int64_t t) { seen.push_back(t); });
  return seen;
}

TEST(StepDecay, TableHoldsExactlyWhatItWouldCompute) {
  for (const auto form : {step_decay::form::divide_by_tau, step_decay::form::multiply_by_inverse}) {
    const step_decay tabulated(dt, 16.8, form, step_decay::default_size(dt, 16.8));
    const step_decay computed(dt, 16.8, form, 0);
    for (std::int64_t steps = 0; steps >= -5000; --steps) ASSERT_EQ(tabulated(steps), computed(steps)) << steps;
    EXPECT_EQ(tabulated(-168), form == step_decay::form::divide_by_tau ? std::exp((-168 * dt) / 16.8)
                                                                       : std::exp((-168 * dt) * (1.0 / 16.8)));
  }
  EXPECT_EQ(step_decay::default_size(0.1, 20.0), 2001u);  // 10 tau
  EXPECT_EQ(step_decay::default_size(0.01, 100.0), 8192u);
}

TEST(PostHistory, TraceIsTheSumOfDecayedSpikes) {
  post_history h(1, tau_minus, dt);
  h.add_incoming(0);
  const std::vector<std::int64_t> spikes = {10, 35, 36, 200, 1234};
  for (const auto t : spikes) h.register_spike(0, t, keep_all);
  ASSERT_EQ(h.entries(0), spikes.size());
  for (std::size_t i = 0; i < spikes.size(); ++i) {
    double expected = 0.0;
    for (std::size_t j = 0; j <= i; ++j) expected += std::exp(-double(spikes[i] - spikes[j]) * dt / tau_minus);
    EXPECT_EQ(h.entry(0, i).t, spikes[i]);
    EXPECT_NEAR(h.entry(0, i).Kminus, expected, 1e-15 * expected);
  }
  EXPECT_EQ(h.entry(0, 0).Kminus, 1.0);  // 0 * decay + 1, as in NEST
  EXPECT_EQ(h.last_spike(0), 1234);
  EXPECT_EQ(h.Kminus(0), h.entry(0, 4).Kminus);
}

TEST(PostHistory, KminusIsTakenStrictlyBefore) {
  post_history h(2, tau_minus, dt);
  h.add_incoming(0);
  EXPECT_EQ(h.view(0).Kminus_at(100), 0.0);  // no spike yet
  h.register_spike(0, 50, keep_all);
  h.register_spike(0, 80, keep_all);
  const auto v = h.view(0);
  EXPECT_EQ(v.Kminus_at(50), 0.0);  // at the first spike itself: nothing before it
  EXPECT_EQ(v.Kminus_at(49), 0.0);
  EXPECT_DOUBLE_EQ(v.Kminus_at(51), std::exp(-0.1 / tau_minus));
  // At the second spike: the trace just before it, which the first spike alone makes.
  EXPECT_DOUBLE_EQ(v.Kminus_at(80), std::exp(-3.0 / tau_minus));
  const double K80 = 1.0 + std::exp(-3.0 / tau_minus);
  EXPECT_NEAR(v.Kminus_at(81), K80 * std::exp(-0.1 / tau_minus), 1e-15);
  EXPECT_NEAR(v.Kminus_at(1080), K80 * std::exp(-100.0 / tau_minus), 1e-15 * K80 * std::exp(-5.0));
  EXPECT_EQ(h.view(1).Kminus_at(100), 0.0);  // the other neuron has no spikes
}

TEST(PostHistory, WindowIsHalfOpenAndCountsReads) {
  post_history h(1, tau_minus, dt);
  h.add_incoming(0, 3);
  for (const std::int64_t t : {10, 20, 30, 40}) h.register_spike(0, t, keep_all);
  EXPECT_EQ(window(h, 0, 10, 30), (std::vector<std::int64_t>{20, 30}));  // (10, 30]
  EXPECT_EQ(window(h, 0, 9, 10), (std::vector<std::int64_t>{10}));
  EXPECT_EQ(window(h, 0, 40, 100), (std::vector<std::int64_t>{}));
  EXPECT_EQ(window(h, 0, -5, 100), (std::vector<std::int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(window(h, 0, 25, 26), (std::vector<std::int64_t>{}));
  EXPECT_EQ(h.entry(0, 0).reads, 2u);  // windows (9, 10] and (-5, 100]
  EXPECT_EQ(h.entry(0, 1).reads, 2u);
  EXPECT_EQ(h.entry(0, 2).reads, 2u);
  EXPECT_EQ(h.entry(0, 3).reads, 1u);
}

TEST(PostHistory, NeuronWithoutPlasticInputKeepsNothing) {
  post_history h(2, tau_minus, dt);
  h.add_incoming(1);
  h.register_spike(0, 10, keep_all);
  h.register_spike(0, 20, keep_all);
  EXPECT_EQ(h.entries(0), 0u);
  EXPECT_EQ(h.last_spike(0), 20);
  EXPECT_EQ(h.Kminus(0), 0.0);
  EXPECT_EQ(h.view(0).Kminus_at(30), 0.0);
  EXPECT_EQ(h.pool_capacity(), 0u);
  EXPECT_EQ(h.incoming(1), 1u);
}

TEST(PostHistory, PrunesOnlyWhatEveryReaderReadAndNoQueryNeeds) {
  post_history h(1, tau_minus, dt);
  h.add_incoming(0, 2);
  for (const std::int64_t t : {10, 20, 30}) h.register_spike(0, t, keep_all);
  // One of the two synapses has read 10 and 20: not enough to drop anything.
  window(h, 0, 0, 25);
  h.prune(0, 1000);
  EXPECT_EQ(h.entries(0), 3u);
  // The second reads them too: 10 may go, since 20 answers every Kminus query from the horizon
  // on; 20 must stay while the next entry (30) is not older than the horizon.
  window(h, 0, 0, 25);
  h.prune(0, 30);
  ASSERT_EQ(h.entries(0), 2u);
  EXPECT_EQ(h.entry(0, 0).t, 20);
  h.prune(0, 31);  // now 30 answers every query from 31 on, and 20 has been read by both
  EXPECT_EQ(h.entries(0), 1u);
  EXPECT_EQ(h.entry(0, 0).t, 30);
  h.prune(0, 1000000);  // the newest entry is always kept
  EXPECT_EQ(h.entries(0), 1u);
  // Pruning happens when a spike is registered, before it is added.
  window(h, 0, 0, 100);
  window(h, 0, 0, 100);
  h.register_spike(0, 40, 35);  // 30 is read by both, but it is the only entry: it stays
  EXPECT_EQ(h.entries(0), 2u);
  window(h, 0, 35, 100);
  window(h, 0, 35, 100);
  h.register_spike(0, 50, 41);
  ASSERT_EQ(h.entries(0), 2u);
  EXPECT_EQ(h.entry(0, 0).t, 40);
  EXPECT_EQ(h.entry(0, 1).t, 50);
}

// Many neurons, random spikes, synapses reading as an STDP rule does (disjoint adjacent windows
// ending at t_pre - d, then a Kminus query at t_pre - d): every window and query must see exactly
// what an unpruned history sees, while the pruned one stays small.
TEST(PostHistory, PruningNeverDropsWhatASynapseStillNeeds) {
  constexpr std::size_t n_neurons = 40;
  constexpr int synapses_per_neuron = 5;
  constexpr std::int64_t max_delay = 30;
  post_history pruned(n_neurons, tau_minus, dt), full(n_neurons, tau_minus, dt);
  struct synapse {
    std::size_t target;
    std::int64_t delay;
    std::int64_t t_last = 0;
    std::vector<std::int64_t> pending;  // presynaptic stamps not yet processed
  };
  std::vector<synapse> synapses;
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (std::size_t n = 0; n < n_neurons; ++n) {
    for (int k = 0; k < synapses_per_neuron; ++k) {
      synapses.push_back({n, std::int64_t(1 + next() % max_delay), 0, {}});
      pruned.add_incoming(n);
      full.add_incoming(n);
    }
  }
  std::size_t most_entries = 0;
  std::uint64_t windows_checked = 0;
  // Step s: first the presynaptic spikes due now are processed (arrival-time delivery: stamp
  // t_pre with delay d in step t_pre + d - 1), then neurons spike with stamp s + 1.
  for (std::int64_t s = 0; s < 20000; ++s) {
    for (auto& syn : synapses) {
      if (next() % 200 == 0) syn.pending.push_back(s + 1);  // the source spikes in step s
      while (!syn.pending.empty() && syn.pending.front() + syn.delay - 1 == s) {
        const std::int64_t t_pre = syn.pending.front();
        syn.pending.erase(syn.pending.begin());
        const auto a = window(pruned, syn.target, syn.t_last - syn.delay, t_pre - syn.delay);
        const auto b = window(full, syn.target, syn.t_last - syn.delay, t_pre - syn.delay);
        ASSERT_EQ(a, b) << "step " << s;
        ASSERT_EQ(pruned.view(syn.target).Kminus_at(t_pre - syn.delay),
                  full.view(syn.target).Kminus_at(t_pre - syn.delay));
        syn.t_last = t_pre;
        ++windows_checked;
      }
    }
    for (std::size_t n = 0; n < n_neurons; ++n) {
      if (next() % 50 != 0) continue;
      const std::int64_t t = s + 1;
      pruned.register_spike(n, t, arrival_time_horizon(t, max_delay));
      full.register_spike(n, t, keep_all);
      most_entries = std::max(most_entries, pruned.entries(n));
    }
  }
  EXPECT_GT(windows_checked, 10000u);
  EXPECT_GT(full.entries(), 10u * pruned.entries());
  EXPECT_LT(most_entries, 100u);  // ~ post spikes within the longest presynaptic interval
}

TEST(PostHistory, RingsGrowMoveAndCompactWithoutLosingEntries) {
  constexpr std::size_t n_neurons = 17;
  post_history h(n_neurons, tau_minus, dt);
  for (std::size_t n = 0; n < n_neurons; ++n) h.add_incoming(n);
  // Neuron n spikes every n + 1 steps; nothing is read, so nothing is pruned.
  std::vector<std::vector<std::int64_t>> expected(n_neurons);
  for (std::int64_t t = 1; t <= 600; ++t) {
    for (std::size_t n = 0; n < n_neurons; ++n) {
      if (t % std::int64_t(n + 1) != 0) continue;
      h.register_spike(n, t, keep_all);
      expected[n].push_back(t);
    }
  }
  for (std::size_t n = 0; n < n_neurons; ++n) {
    ASSERT_EQ(h.entries(n), expected[n].size());
    for (std::size_t i = 0; i < expected[n].size(); ++i) ASSERT_EQ(h.entry(n, i).t, expected[n][i]);
  }
  EXPECT_EQ(h.entries(), [&] {
    std::size_t total = 0;
    for (const auto& e : expected) total += e.size();
    return total;
  }());
}

TEST(PostHistory, SteadyStateAllocatesNothing) {
  constexpr std::size_t n_neurons = 100;
  post_history h(n_neurons, tau_minus, dt);
  for (std::size_t n = 0; n < n_neurons; ++n) h.add_incoming(n);
  // Each neuron spikes every 7 steps; its one synapse reads everything up to 20 steps back, so
  // about 3 entries stay; rings wrap around many times.
  auto run = [&](std::int64_t from, std::int64_t to) {
    for (std::int64_t t = from; t < to; ++t) {
      for (std::size_t n = 0; n < n_neurons; ++n) {
        if ((t + std::int64_t(n)) % 7 != 0) continue;
        h.view(n).read_window(t - 40, t - 20, [](std::int64_t) {});
        h.register_spike(n, t, t - 20);
      }
    }
  };
  run(1, 1000);
  const std::size_t capacity = h.pool_capacity();
  const std::size_t bytes = h.bytes();
  run(1000, 50000);
  EXPECT_EQ(h.pool_capacity(), capacity);
  EXPECT_EQ(h.bytes(), bytes);
  for (std::size_t n = 0; n < n_neurons; ++n) EXPECT_LE(h.entries(n), 5u);
}

TEST(PostHistory, RestoreGivesBackTheSameHistory) {
  post_history a(3, tau_minus, dt), b(3, 30.0, dt);
  for (std::size_t n = 0; n < 3; ++n) {
    a.add_incoming(n, 2);
    b.add_incoming(n, 2);
  }
  for (const std::int64_t t : {5, 9, 30, 31, 77}) a.register_spike(1, t, keep_all);
  window(a, 1, 0, 31);
  std::vector<post_spike_entry> saved;
  for (std::size_t i = 0; i < a.entries(1); ++i) saved.push_back(a.entry(1, i));
  b = post_history(3, tau_minus, dt);
  for (std::size_t n = 0; n < 3; ++n) b.add_incoming(n, 2);
  b.restore(1, a.Kminus(1), a.last_spike(1), saved);
  ASSERT_EQ(b.entries(1), a.entries(1));
  for (std::size_t i = 0; i < a.entries(1); ++i) {
    EXPECT_EQ(b.entry(1, i).t, a.entry(1, i).t);
    EXPECT_EQ(b.entry(1, i).Kminus, a.entry(1, i).Kminus);
    EXPECT_EQ(b.entry(1, i).reads, a.entry(1, i).reads);
  }
  a.register_spike(1, 90, keep_all);
  b.register_spike(1, 90, keep_all);
  EXPECT_EQ(a.Kminus(1), b.Kminus(1));
  EXPECT_EQ(a.view(1).Kminus_at(100), b.view(1).Kminus_at(100));
}

}  // namespace
}  // namespace myelin
