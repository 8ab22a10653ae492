#include "myelin/synapses/delivery.hpp"

#include <gtest/gtest.h>

namespace myelin {

namespace {
synapse_table table_of(const std::vector<synapse_draw>& all, std::uint64_t n_local) {
  return build_synapse_table(n_local, 100, 16, [&](std::uint64_t, bool, auto&& sink) {
    for (const auto& d : all) sink(d);
  });
}
}  // namespace

TEST(arrival_queue, each_synapse_arrives_exactly_its_delay_after_emission) {
  // Source 7 -> targets 0 (delay 2, +5), 1 (delay 2, -3), 2 (delay 4, +11), 0 (delay 4, +1).
  const synapse_table table = table_of({{7, 0, 2, 5}, {7, 1, 2, -3}, {7, 2, 4, 11}, {7, 0, 4, 1}, {8, 2, 1, 9}}, 3);
  arrival_queue queue(table);
  std::vector<std::int64_t> input(6, 0);
  queue.enqueue(7, 10);
  queue.enqueue(99, 10);  // no target here: ignored
  EXPECT_EQ(queue.pending(), 1u);
  for (std::int64_t step = 10; step <= 15; ++step) {
    std::fill(input.begin(), input.end(), 0);
    const std::uint64_t events = queue.deliver(step, input.data());
    if (step == 12) {
      EXPECT_EQ(events, 2u);
      EXPECT_EQ(input, (std::vector<std::int64_t>{5, 0, 0, -3, 0, 0}));
    } else if (step == 14) {
      EXPECT_EQ(events, 2u);
      EXPECT_EQ(input, (std::vector<std::int64_t>{1, 0, 0, 0, 11, 0}));
    } else {
      EXPECT_EQ(events, 0u);
      EXPECT_EQ(input, std::vector<std::int64_t>(6, 0));
    }
  }
  EXPECT_EQ(queue.pending(), 0u);
}

TEST(arrival_queue, overlapping_spikes_of_one_source_add_up) {
  const synapse_table table = table_of({{3, 1, 1, 4}, {3, 1, 3, 6}}, 2);
  arrival_queue queue(table);
  std::vector<std::int64_t> input(4, 0);
  queue.enqueue(3, 0);
  std::vector<std::int64_t> seen;
  for (std::int64_t step = 0; step < 6; ++step) {
    if (step == 2) queue.enqueue(3, 2);  // arrives at 3 and 5
    std::fill(input.begin(), input.end(), 0);
    queue.deliver(step, input.data());
    seen.push_back(input[2]);
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 4, 0, 6 + 4, 0, 6}));
}

TEST(arrival_queue, a_restored_spike_delivers_only_what_was_still_in_flight) {
  // Emitted at 10; arrivals at 12 (two synapses) and 14. Restored at 13: only the one at 14 is due.
  const synapse_table table = table_of({{7, 0, 2, 5}, {7, 1, 2, -3}, {7, 2, 4, 11}}, 3);
  arrival_queue queue(table);
  queue.enqueue(7, 10, 13);
  std::vector<std::int64_t> input(6, 0);
  std::uint64_t events = 0;
  for (std::int64_t step = 13; step <= 15; ++step) events += queue.deliver(step, input.data());
  EXPECT_EQ(events, 1u);
  EXPECT_EQ(input, (std::vector<std::int64_t>{0, 0, 0, 0, 11, 0}));
  queue.enqueue(7, 10, 15);  // nothing left in flight: not queued at all
  EXPECT_EQ(queue.pending(), 0u);
}

}  // namespace myelin
