// Arrival-time delivery. A spike received by a thread is looked up in every block that holds its
// source's row; each segment of that row (the synapses of one delay) is delivered in the step it
// arrives, into that step's input accumulator (2 int64 per neuron: exc, inh). The accumulator is
// one step deep and stays in cache, unlike a ring buffer with a slot per delay. No allocation
// after warm-up, no locks: each thread owns its queue.
//
// Layout of the queue (issue #3: delivery is the hot path, and it is bound by memory latency):
//  - a calendar per block: a ring of 2^k > max delay buckets, one per future step. Admitting a
//    spike puts each of its row's segments (first synapse, size, arrival step) into the bucket of
//    its arrival step, reading the row's segment list once, contiguously. A step then touches only
//    the segments due in it, and never the table's segment arrays: just the synapses;
//  - each segment is a random place in a table of GiBs (a cache and a TLB miss): while one is
//    delivered, the page walks of the next 16 are started together and the lines of the one 4
//    places further are prefetched (details in delivery.cpp);
//  - enqueue() only notes the spike; the next deliver() admits the noted spikes together, with the
//    row look-ups and segment lists of many spikes in flight at once instead of one after another.
//    A row is found through every 32nd source gid of the block (small, cached), then a few lines.
// A segment is delivered when deliver(step) is called with step == its arrival step, exactly as
// before (same synapses, same steps; integer sums, so the order within a step does not matter); a
// bucket keeps a segment that is due only in a later turn of the ring.
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

  // Spikes (counted once per block holding their row) with synapses still to deliver.
  std::size_t pending() const;

 private:
  // One segment of a received spike's row, waiting in the bucket of its arrival step.
  struct pending_segment {
    std::uint64_t begin;  // first synapse in the block
    std::int64_t due;     // arrival step
    std::uint32_t size;   // synapses
    std::uint32_t last;   // 1 for the last segment of the row
  };
  using bucket = std::vector<pending_segment>;
  struct noted_spike {
    std::uint64_t gid;
    std::int64_t emitted_step, from_step;
  };
  // Rows of a block are found by binary search in every `stride`-th source gid (small, cached),
  // then in the few lines of source_gid between two of them.
  static constexpr std::uint64_t stride = 32;

  void admit();
  std::int64_t find_row(std::size_t b, std::uint64_t gid) const;
  template <class Weight>
  std::uint64_t deliver_block(std::size_t b, const Weight* weight, std::int64_t step, std::int64_t* input);
  bucket& bucket_of(std::size_t block, std::int64_t step) {
    return calendar_[block * slots_ + (std::uint64_t(step) & (slots_ - 1))];
  }

  const synapse_table& table_;
  std::uint64_t slots_ = 1;                        // buckets per block: a power of two > the largest delay
  std::vector<bucket> calendar_;                   // [block * slots_ + step % slots_]
  std::vector<std::vector<std::uint64_t>> sample_;  // [block][k] = source_gid[k * stride]
  std::vector<noted_spike> noted_;                 // enqueued, not yet admitted
  std::vector<std::int64_t> rows_;                 // scratch of admit()
  std::size_t pending_ = 0;                        // admitted spikes x blocks with segments left
};

}  // namespace myelin
