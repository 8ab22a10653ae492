// arrival_queue (a calendar of segments, lazy admission of enqueued spikes) against a brute-force
// reference computed from the synapse draws themselves: every step's input, event count and
// pending count, on random tables (one and several blocks, 16- and 32-bit weights, delays beyond
// the ring's turn, multapses), with spikes enqueued per step or per interval, with restores
// (enqueue with from_step), and with spikes emitted ahead of time (due in a later turn of the ring).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "myelin/synapses/delivery.hpp"
#include "unit/synapses/xorshift.hpp"

namespace myelin {

namespace {

using rng = test::xorshift;

struct shape {
  std::uint64_t n_local, n_sources;
  int per_target;
  int min_delay, max_delay;
  int weight_bits;
};

struct spike {
  std::uint64_t gid;
  std::int64_t emitted, from;
};

class reference {
 public:
  reference(const std::vector<synapse_draw>& draws, std::uint64_t n_local, std::uint64_t n_sources)
      : n_local_(n_local), by_source_(n_sources) {
    for (const auto& d : draws) by_source_[d.source_gid].push_back(d);
  }
  void enqueue(const spike& s) { spikes_.push_back(s); }
  // Input arriving at `step`, and its event count.
  std::vector<std::int64_t> input(std::int64_t step, std::uint64_t& events) const {
    std::vector<std::int64_t> in(2 * n_local_, 0);
    events = 0;
    for (const spike& s : spikes_)
      for (const synapse_draw& d : by_source_[s.gid]) {
        const std::int64_t arrival = s.emitted + d.delay_steps;
        if (arrival != step || arrival < s.from) continue;
        in[2 * d.target_local + (d.weight_units < 0 ? 1 : 0)] += d.weight_units;
        ++events;
      }
    return in;
  }
  // Spikes x blocks with synapses arriving after `step` (and not skipped by from_step).
  std::size_t pending_after(std::int64_t step) const {
    std::size_t n = 0;
    std::vector<char> left((n_local_ + synapse_table::block_size - 1) / synapse_table::block_size);
    for (const spike& s : spikes_) {
      std::fill(left.begin(), left.end(), 0);  // per block: a synapse still to arrive
      for (const synapse_draw& d : by_source_[s.gid]) {
        const std::int64_t arrival = s.emitted + d.delay_steps;
        if (arrival > step && arrival >= s.from) left[d.target_local / synapse_table::block_size] = 1;
      }
      n += std::size_t(std::count(left.begin(), left.end(), 1));
    }
    return n;
  }

 private:
  std::uint64_t n_local_;
  std::vector<std::vector<synapse_draw>> by_source_;
  std::vector<spike> spikes_;
};

std::vector<synapse_draw> random_draws(const shape& s, rng& r) {
  std::vector<synapse_draw> draws;
  const std::int32_t w_max = s.weight_bits == 32 ? 2000000000 : 32767;
  for (std::uint64_t t = 0; t < s.n_local; ++t)
    for (int k = 0; k < s.per_target; ++k) {
      const auto delay = std::uint16_t(s.min_delay + int(r.below(std::uint64_t(s.max_delay - s.min_delay + 1))));
      // Few weight magnitudes near the limits, both signs; sums of a step stay far from int64's.
      const auto w = std::int32_t(std::int64_t(r.below(2 * std::uint64_t(w_max) + 1)) - w_max);
      draws.push_back({r.below(s.n_sources), std::uint32_t(t), delay, w});
    }
  return draws;
}

synapse_table table_of(const std::vector<synapse_draw>& draws, const shape& s) {
  return build_synapse_table(s.n_local, s.n_sources, s.weight_bits, [&](std::uint64_t block, bool count_only, auto&& sink) {
    const std::uint64_t first = block * synapse_table::block_size;
    for (const synapse_draw& d : draws)
      if (d.target_local >= first && d.target_local < first + synapse_table::block_size) {
        synapse_draw copy = d;
        if (count_only) {
          copy.delay_steps = 0;
          copy.weight_units = 0;
        }
        sink(copy);
      }
  });
}

// Runs `steps` steps: spikes emitted in each step, enqueued at the start of the next interval of
// `interval` steps (interval <= min delay, as in the simulation loop); optionally a restore into a
// fresh queue every `restore_every` steps, and some spikes enqueued `ahead` steps before emission.
// Sum: the accumulator's integer type (int32 where the sums fit, int64; input_accumulator.hpp).
template <class Sum = std::int64_t>
void check_against_reference(const shape& s, std::uint64_t seed, std::int64_t steps, std::int64_t interval,
                             std::int64_t restore_every, std::int64_t ahead, int spikes_per_step) {
  rng r{seed};
  const std::vector<synapse_draw> draws = random_draws(s, r);
  const synapse_table table = table_of(draws, s);
  reference ref(draws, s.n_local, s.n_sources);
  auto queue = std::make_unique<arrival_queue>(table);
  std::vector<spike> emitted;       // all spikes so far, for restores
  std::vector<spike> next_interval;  // emitted in this interval, enqueued at the next one
  std::vector<Sum> input(2 * s.n_local);
  for (std::int64_t step = 0; step < steps; ++step) {
    if (step % interval == 0) {
      if (restore_every > 0 && step > 0 && step % restore_every == 0) {
        // What a checkpoint at `step` holds: the spikes of the last max-delay steps, incl. those
        // not yet enqueued; their synapses arriving before `step` were delivered already.
        queue = std::make_unique<arrival_queue>(table);
        for (const spike& sp : emitted)
          if (sp.emitted >= step - s.max_delay - 1 && sp.emitted < step) queue->enqueue(sp.gid, sp.emitted, step);
        for (const spike& sp : emitted)
          if (sp.emitted >= step) queue->enqueue(sp.gid, sp.emitted, sp.from);  // enqueued ahead of time
      } else {
        for (const spike& sp : next_interval) queue->enqueue(sp.gid, sp.emitted, sp.from);
      }
      for (const spike& sp : next_interval) ref.enqueue(sp);
      next_interval.clear();
    }
    ASSERT_EQ(queue->pending(), ref.pending_after(step - 1)) << "before step " << step;  // some not admitted yet
    std::fill(input.begin(), input.end(), 0);
    const std::uint64_t events = queue->deliver(step, input.data());
    std::uint64_t expected_events = 0;
    ASSERT_EQ(std::vector<std::int64_t>(input.begin(), input.end()), ref.input(step, expected_events)) << "step " << step;
    ASSERT_EQ(events, expected_events) << "step " << step;
    ASSERT_EQ(queue->pending(), ref.pending_after(step)) << "step " << step;
    for (int k = 0; k < spikes_per_step; ++k) {
      const spike sp{r.below(s.n_sources), step, INT64_MIN};
      next_interval.push_back(sp);
      emitted.push_back(sp);
    }
    if (ahead > 0 && step % 17 == 3) {
      // Emitted `ahead` steps from now, known now: enqueued at once (its first arrival is later).
      const spike sp{r.below(s.n_sources), step + ahead, INT64_MIN};
      queue->enqueue(sp.gid, sp.emitted);
      ref.enqueue(sp);
      emitted.push_back(sp);
    }
  }
}

}  // namespace

TEST(arrival_queue_reference, one_block_16_bit_weights_per_step) {
  for (std::uint64_t seed : {1u, 2u, 3u})
    check_against_reference({300, 60, 20, 1, 20, 16}, seed, 150, 1, 0, 0, 3);
}

TEST(arrival_queue_reference, int32_sums_as_int64_ones) {
  // 16-bit weights onto at most a few hundred synapses per target: the sums fit in int32.
  for (std::uint64_t seed : {1u, 2u}) check_against_reference<std::int32_t>({300, 60, 20, 1, 20, 16}, seed, 150, 1, 0, 0, 3);
  check_against_reference<std::int32_t>({64, 3, 10, 1, 2, 16}, 6, 60, 1, 0, 0, 1);
  check_against_reference<std::int32_t>({300, 60, 20, 2, 30, 16}, 8, 240, 2, 50, 0, 3);
}

TEST(arrival_queue_reference, one_block_32_bit_weights_per_interval) {
  // Delays 5..70: a ring of 128 buckets; spikes enqueued every 5 steps (the minimum delay).
  for (std::uint64_t seed : {4u, 5u}) check_against_reference({200, 40, 25, 5, 70, 32}, seed, 250, 5, 0, 0, 2);
}

TEST(arrival_queue_reference, long_segments_with_repeated_targets) {
  // 3 sources onto 64 targets with 2 delays: segments of ~100 synapses, many onto the same target
  // (the vectorized index computation in 16-synapse chunks must still add every one).
  for (int bits : {16, 32}) check_against_reference({64, 3, 10, 1, 2, bits}, 6, 60, 1, 0, 0, 1);
}

TEST(arrival_queue_reference, several_blocks) {
  const std::uint64_t n_local = 2 * synapse_table::block_size + 500;  // three blocks
  check_against_reference({n_local, 50, 1, 1, 12, 16}, 7, 40, 1, 0, 0, 4);
}

TEST(arrival_queue_reference, restores_deliver_only_what_was_still_in_flight) {
  for (std::uint64_t seed : {8u, 9u}) check_against_reference({300, 60, 20, 2, 30, 16}, seed, 240, 2, 50, 0, 3);
}

TEST(arrival_queue_reference, spikes_known_ahead_wait_for_later_turns_of_the_ring) {
  // Max delay 9: a ring of 16 buckets; spikes emitted 40 steps ahead sit in their bucket through
  // several turns before they are due. With restores as well.
  check_against_reference({150, 30, 15, 1, 9, 16}, 10, 200, 1, 0, 40, 2);
  check_against_reference({150, 30, 15, 1, 9, 32}, 11, 200, 1, 64, 40, 2);
}

}  // namespace myelin
