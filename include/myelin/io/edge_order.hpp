// The canonical order of a projection's synapses, and the redistribution between it and the
// order in which each rank holds them. Canonical order: by (target node id, source node id,
// delay), ties (multapses) in the order their rank passes them. It does not depend on the number
// of ranks or threads, so files written in it (weight recordings, checkpoints) are the same for
// any decomposition.
//
// The canonical order is cut into `size` contiguous blocks, one per rank, on target boundaries:
// the target id range is split into buckets of consecutive ids, and each rank's block ends at the
// first bucket boundary where the blocks so far hold at least their share of the edges. The split
// depends only on the global counts per bucket and on the number of ranks.
//
// The plan is computed once (collective: a few reductions and one all-to-all of the keys); then
// to_canonical and from_canonical move values of any trivially copyable type with one all-to-all
// each, without sorting again.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "myelin/comm/communicator.hpp"

namespace myelin {

// What the canonical order sorts by.
struct edge_key {
  std::uint64_t target;  // node id within the target population
  std::uint64_t source;  // node id within the source population
  double delay_ms;
};
static_assert(sizeof(edge_key) == 24 && std::is_trivially_copyable_v<edge_key>);

class edge_order {
 public:
  // Collective. This rank's synapses of the projection (the three spans are one record each).
  // Contract: all synapses onto one target are on one rank, passed consecutively, in
  // non-decreasing (source, delay) order; targets may come in any order. Throws
  // std::invalid_argument on every rank when a rank's spans differ in size, a delay is NaN, a
  // target id is 2^63 or more, or the contract is broken (on any rank).
  edge_order(const communicator& comm, std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
             std::span<const double> delay_ms);

  std::uint64_t total_edges() const noexcept { return block_starts_.back(); }
  // Records this rank passed.
  std::uint64_t local_edges() const noexcept { return send_order_.size(); }
  // This rank's block [block_first(), block_first() + block_size()) of the canonical order.
  std::uint64_t block_first() const noexcept { return block_starts_[std::size_t(comm_.rank())]; }
  std::uint64_t block_size() const noexcept { return block_from_received_.size(); }
  // Every rank's first canonical position, in rank order, then total_edges() (size + 1 entries).
  std::span<const std::uint64_t> block_starts() const noexcept { return block_starts_; }

  // Collective: this rank's block, in canonical order, of the values given per local record
  // (in the order the constructor got the records). Throws std::invalid_argument on every rank
  // when a rank's `local` does not have local_edges() values.
  template <class T>
  std::vector<T> to_canonical(std::span<const T> local) const {
    static_assert(std::is_trivially_copyable_v<T>);
    require_size(local.size(), local_edges(), "to_canonical", "local_edges");
    std::vector<T> send(send_order_.size());
    for (std::size_t k = 0; k < send.size(); ++k) send[k] = local[send_order_[k]];
    std::vector<std::int64_t> receive_counts;
    const std::vector<T> received = comm_.alltoallv<T>(send, send_counts_, receive_counts);
    std::vector<T> block(received.size());
    for (std::size_t j = 0; j < block.size(); ++j) block[j] = received[block_from_received_[j]];
    return block;
  }

  // Collective, the inverse: the values of this rank's own records (local order) from every
  // rank's block (canonical order), e.g. as read back from a file. Throws std::invalid_argument
  // on every rank when a rank's `block` does not have block_size() values.
  template <class T>
  std::vector<T> from_canonical(std::span<const T> block) const {
    static_assert(std::is_trivially_copyable_v<T>);
    require_size(block.size(), block_size(), "from_canonical", "block_size");
    std::vector<T> send(block.size());
    for (std::size_t j = 0; j < block.size(); ++j) send[block_from_received_[j]] = block[j];
    std::vector<std::int64_t> receive_counts;
    const std::vector<T> returned = comm_.alltoallv<T>(send, receive_counts_, receive_counts);
    std::vector<T> local(returned.size());
    for (std::size_t k = 0; k < local.size(); ++k) local[send_order_[k]] = returned[k];
    return local;
  }

 private:
  // Collective: throws std::invalid_argument on every rank unless `given` == `expected` on all.
  void require_size(std::size_t given, std::uint64_t expected, const char* operation, const char* what) const;

  communicator comm_;
  // The k-th record sent is local record send_order_[k]; records go out grouped by destination
  // rank, in local order within each group.
  std::vector<std::size_t> send_order_;
  std::vector<std::int64_t> send_counts_;
  // Records received from each rank, in rank order.
  std::vector<std::int64_t> receive_counts_;
  // Canonical position block_first() + j holds received record block_from_received_[j].
  std::vector<std::size_t> block_from_received_;
  std::vector<std::uint64_t> block_starts_;
};

}  // namespace myelin
