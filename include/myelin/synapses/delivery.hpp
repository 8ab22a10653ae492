// Arrival-time delivery. A spike received by a thread becomes one pending entry per block that
// holds its source's row; at every step each pending entry delivers the segment of its row whose
// delay has come due into that step's input accumulator (2 int64 per neuron: exc, inh), then waits
// for its next segment. The accumulator is one step deep and stays in cache, unlike a ring buffer
// with a slot per delay. No allocation after warm-up, no locks: each thread owns its queue.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "myelin/synapses/synapse_table.hpp"

namespace myelin {

class arrival_queue {
 public:
  explicit arrival_queue(const synapse_table& table);

  // A spike of `source_gid` emitted in `emitted_step`; its synapses arriving before `from_step`
  // are skipped (they were delivered before a checkpoint). Must be called before the step of its
  // first remaining arrival is delivered.
  void enqueue(std::uint64_t source_gid, std::int64_t emitted_step, std::int64_t from_step = INT64_MIN);

  // Adds every synapse arriving at `step` to input[2 * local + (weight < 0)].
  // Returns the number of synaptic events delivered.
  std::uint64_t deliver(std::int64_t step, std::int64_t* input);

  std::size_t pending() const;

 private:
  struct pending_spike {
    std::uint64_t row_begin;     // first synapse of the row
    std::uint64_t next_segment;  // next segment to deliver
    std::uint64_t end_segment;   // one past the row's last segment
    std::int64_t emitted_step;
    std::uint32_t segment_offset;  // where the next segment starts, relative to row_begin
  };
  const synapse_table& table_;
  std::vector<std::vector<pending_spike>> pending_;  // per block
};

}  // namespace myelin
