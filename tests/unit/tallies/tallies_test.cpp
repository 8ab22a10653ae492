// Windows of the tally time series, and how a rank's energy is split over phases.
#include "myelin/tallies/tallies.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace myelin {
namespace {

tally_counts counts_at(std::uint64_t k) {
  tally_counts c;
  c.neuron_updates = 10 * k;
  c.spikes_emitted = 3 * k;
  c.synaptic_events = 100 * k;
  c.poisson_events = 7 * k;
  c.bytes_sent = 8 * k;
  c.collectives = 2 * k;
  c.seconds = {0.5 * double(k), 0.25 * double(k), 0.125 * double(k), 0.0625 * double(k), 0.0};
  c.cpu_seconds = double(k);
  c.node_joules = 2.0 * double(k);
  return c;
}

TEST(TallySeries, WindowsEndAtTheirBoundariesAndTheLastTakesTheRest) {
  // Intervals of 5 steps from step 100, windows of 20 steps, the run ends at step 165.
  tally_series series(100, 20, 0.1, counts_at(1));
  std::int64_t k = 1;
  for (std::int64_t t1 = 105; t1 < 165; t1 += 5) series.close(t1, counts_at(std::uint64_t(++k)));
  series.finish(165, counts_at(std::uint64_t(++k)));
  const auto& w = series.windows();
  ASSERT_EQ(w.size(), 4u);
  const double starts[] = {10.0, 12.0, 14.0, 16.0}, ends[] = {12.0, 14.0, 16.0, 16.5};
  for (std::size_t i = 0; i < w.size(); ++i) {
    EXPECT_DOUBLE_EQ(w[i].t_start_ms, starts[i]);
    EXPECT_DOUBLE_EQ(w[i].t_end_ms, ends[i]);
  }
  // Each full window spans 4 intervals: the differences of the counts.
  EXPECT_EQ(w[0].counts.synaptic_events, 400u);
  EXPECT_EQ(w[3].counts.synaptic_events, 100u);  // [160, 165): the one interval after the last boundary
  std::uint64_t events = 0;
  for (const auto& win : w) events += win.counts.synaptic_events;
  EXPECT_EQ(events, counts_at(std::uint64_t(k)).synaptic_events - counts_at(1).synaptic_events);
}

TEST(TallyEnergy, ModeledSplitFollowsTimeBytesAndEvents) {
  const energy_parameters p{.watts_per_active_core = 5.0, .idle_watts_per_node = 120.0, .joules_per_byte = 1e-9,
                            .joules_per_synaptic_event = 1e-9};
  tally_counts c = counts_at(4);  // seconds 2, 1, 0.5, 0.25, 0
  const per_phase j = modeled_phase_joules(p, c, /*threads=*/2, /*ranks_on_node=*/4);
  EXPECT_DOUBLE_EQ(j[phase_update], 5.0 * 2 * 2.0 + 120.0 * 2.0 / 4);
  EXPECT_DOUBLE_EQ(j[phase_deliver], 5.0 * 2 * 1.0 + 120.0 * 1.0 / 4 + 1e-9 * 400);
  EXPECT_DOUBLE_EQ(j[phase_exchange], 5.0 * 2 * 0.5 + 120.0 * 0.5 / 4 + 1e-9 * 32);
  EXPECT_DOUBLE_EQ(j[phase_record], 5.0 * 2 * 0.25 + 120.0 * 0.25 / 4);
  EXPECT_DOUBLE_EQ(j[phase_checkpoint], 0.0);
}

TEST(TallyEnergy, MeasuredSplitFollowsTimeShares) {
  const tally_counts c = counts_at(4);  // 3.75 s in all
  const per_phase j = measured_phase_joules(75.0, c);
  EXPECT_DOUBLE_EQ(j[phase_update], 40.0);
  EXPECT_DOUBLE_EQ(j[phase_deliver], 20.0);
  EXPECT_DOUBLE_EQ(j[phase_exchange], 10.0);
  EXPECT_DOUBLE_EQ(j[phase_record], 5.0);
  EXPECT_DOUBLE_EQ(std::accumulate(j.begin(), j.end(), 0.0), 75.0);
}

}  // namespace
}  // namespace myelin
