// Arrival-time delivery of static synapses. A spike received by a thread is looked up in every
// block that holds its source's row; each segment of that row (the synapses of one delay) is
// delivered in the step it arrives, into that step's input accumulator (2 int64 per neuron: exc,
// inh). The accumulator is one step deep and stays in cache, unlike a ring buffer with a slot per
// delay. No allocation after warm-up, no locks: each thread owns its queue. The queue itself (a
// calendar of segments, batched look-ups, prefetching) is segment_calendar.hpp.
// A segment is delivered when deliver(step) is called with step == its arrival step; sums are
// integer sums, so the order within a step does not matter.
#pragma once

#include <cstdint>

#include "myelin/synapses/segment_calendar.hpp"
#include "myelin/synapses/synapse_table.hpp"

namespace myelin {

class arrival_queue {
 public:
  explicit arrival_queue(const synapse_table& table) : table_(table), calendar_(table) {}

  // A spike of `source_gid` emitted in `emitted_step`; its synapses arriving before `from_step`
  // are skipped (they were delivered before a checkpoint). Must be called before the step of its
  // first remaining arrival is delivered.
  void enqueue(std::uint64_t source_gid, std::int64_t emitted_step, std::int64_t from_step = INT64_MIN) {
    calendar_.note(source_gid, emitted_step, from_step);
  }

  // Adds every synapse arriving at `step` to input[2 * local + (weight < 0)].
  // Returns the number of synaptic events delivered. Sum: std::int32_t or std::int64_t.
  template <class Sum>
  std::uint64_t deliver(std::int64_t step, Sum* input);

  // Spikes (counted once per block holding their row) with synapses still to deliver.
  std::size_t pending() const { return calendar_.pending(); }

 private:
  template <class Weight, class Sum>
  std::uint64_t deliver_block(std::size_t b, const Weight* weight, std::int64_t step, Sum* input);

  const synapse_table& table_;
  detail::segment_calendar<detail::no_payload> calendar_;
};

}  // namespace myelin
