// Spikes go only to ranks that hold a target of their source. Each rank keeps, for each of its own
// neurons, the list of ranks that hold its targets (NEST's source-side table), learned once after
// connecting with one all-to-all of the sources each rank needs. Once per communication interval
// the spikes are packed per destination and exchanged with MPI_Alltoall (counts) and
// MPI_Alltoallv (payload: 8 bytes per spike, the source gid and the step offset in the interval).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/core/partition.hpp"

namespace myelin {

struct received_spike {
  std::uint64_t gid;
  std::int64_t step;
};

class spike_exchange {
 public:
  // needed_sources: sorted unique gids of sources with a target on this rank (any thread).
  // Collective.
  spike_exchange(const communicator& comm, const partition& part, std::span<const std::uint64_t> needed_sources);

  // Collective. local_spikes: this interval's spikes of this rank's neurons (gid, step), steps in
  // [interval_start, interval_start + 65536). Returns every spike with a target on this rank.
  // stop: in, this rank wants to stop; out, some rank does (agreed by all ranks, no extra call).
  std::span<const received_spike> exchange(std::span<const received_spike> local_spikes, std::int64_t interval_start,
                                           bool& stop);

  // Ranks that hold targets of a neuron of this rank.
  std::span<const std::uint32_t> target_ranks(std::uint64_t gid) const;

  // Totals so far, for tallies. spikes_sent and bytes_sent count what went to other ranks; the
  // per-rank vectors (one entry per rank, this rank's own included) count every spike message:
  // sent to rank r, and received from rank r (counted on arrival, from the received sizes).
  std::uint64_t spikes_sent() const { return spikes_sent_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  const std::vector<std::uint64_t>& spikes_sent_to() const { return spikes_sent_to_; }
  const std::vector<std::uint64_t>& bytes_sent_to() const { return bytes_sent_to_; }
  const std::vector<std::uint64_t>& bytes_received_from() const { return bytes_received_from_; }
  std::uint64_t collectives() const { return collectives_; }
  static constexpr std::size_t bytes_per_spike = sizeof(std::uint64_t);

 private:
  const communicator& comm_;
  std::vector<std::uint64_t> ranks_begin_;  // [neurons of this rank + 1], by gid / n_ranks
  std::vector<std::uint32_t> ranks_;
  // Buffers kept between intervals.
  std::vector<std::int64_t> send_counts_, recv_counts_;
  std::vector<std::int64_t> send_at_;  // where each destination's block starts in send_
  std::vector<std::uint64_t> send_;
  std::vector<unsigned char> recv_bytes_;
  std::vector<received_spike> received_;
  std::uint64_t spikes_sent_ = 0, bytes_sent_ = 0, collectives_ = 0;
  std::vector<std::uint64_t> spikes_sent_to_, bytes_sent_to_, bytes_received_from_;
};

}  // namespace myelin
