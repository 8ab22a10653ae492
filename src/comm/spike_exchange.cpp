#include "myelin/comm/spike_exchange.hpp"

#include <cstring>
#include <stdexcept>

namespace myelin {

namespace {
constexpr int offset_bits = 16;
constexpr std::uint64_t offset_mask = (std::uint64_t(1) << offset_bits) - 1;
}  // namespace

spike_exchange::spike_exchange(const communicator& comm, const partition& part,
                               std::span<const std::uint64_t> needed_sources)
    : comm_(comm) {
  const auto n_ranks = std::size_t(comm.size());
  if (part.n_neurons() >= (std::uint64_t(1) << (64 - offset_bits)))
    throw std::runtime_error("spike exchange encodes gids in 48 bits: too many neurons");
  // Tell each source's owner that this rank needs its spikes.
  std::vector<std::int64_t> counts(n_ranks, 0);
  for (std::uint64_t gid : needed_sources) ++counts[std::size_t(part.rank_of(gid))];
  std::vector<std::int64_t> displ(n_ranks + 1, 0);
  for (std::size_t r = 0; r < n_ranks; ++r) displ[r + 1] = displ[r] + counts[r];
  std::vector<std::uint64_t> by_owner(needed_sources.size());
  {
    std::vector<std::int64_t> at(displ.begin(), displ.end() - 1);
    for (std::uint64_t gid : needed_sources) by_owner[std::size_t(at[std::size_t(part.rank_of(gid))]++)] = gid;
  }
  std::vector<std::int64_t> recv_counts;
  const std::vector<std::uint64_t> wanted =
      comm.alltoallv<std::uint64_t>(by_owner, counts, recv_counts);

  // Source-side table: for each own neuron, the ranks that want it (in rank order).
  const std::uint64_t n_own = part.n_neurons() / n_ranks + 1;
  ranks_begin_.assign(n_own + 1, 0);
  for (std::uint64_t gid : wanted) ++ranks_begin_[gid / n_ranks + 1];
  for (std::size_t i = 1; i < ranks_begin_.size(); ++i) ranks_begin_[i] += ranks_begin_[i - 1];
  ranks_.resize(wanted.size());
  std::vector<std::uint64_t> fill(ranks_begin_.begin(), ranks_begin_.end() - 1);
  std::size_t k = 0;
  for (std::size_t r = 0; r < n_ranks; ++r)
    for (std::int64_t i = 0; i < recv_counts[r]; ++i, ++k) ranks_[fill[wanted[k] / n_ranks]++] = std::uint32_t(r);

  send_counts_.assign(n_ranks, 0);
  send_at_.assign(n_ranks + 1, 0);
  spikes_sent_to_.assign(n_ranks, 0);
  bytes_sent_to_.assign(n_ranks, 0);
  bytes_received_from_.assign(n_ranks, 0);
}

std::span<const std::uint32_t> spike_exchange::target_ranks(std::uint64_t gid) const {
  const std::uint64_t i = gid / std::uint64_t(comm_.size());
  return {ranks_.data() + ranks_begin_[i], ranks_.data() + ranks_begin_[i + 1]};
}

std::span<const received_spike> spike_exchange::exchange(std::span<const received_spike> local_spikes,
                                                         std::int64_t interval_start, bool& stop) {
  const auto n_ranks = std::size_t(comm_.size());
  std::fill(send_counts_.begin(), send_counts_.end(), 0);
  for (const auto& s : local_spikes)
    for (std::uint32_t r : target_ranks(s.gid)) ++send_counts_[r];
  std::vector<std::int64_t>& at = send_at_;
  at[0] = 0;
  for (std::size_t r = 0; r < n_ranks; ++r) at[r + 1] = at[r] + send_counts_[r];
  send_.resize(std::size_t(at[n_ranks]));
  for (const auto& s : local_spikes) {
    const std::uint64_t offset = std::uint64_t(s.step - interval_start);
    if (offset > offset_mask) throw std::logic_error("spike step outside the exchange interval");
    const std::uint64_t word = (s.gid << offset_bits) | offset;
    for (std::uint32_t r : target_ranks(s.gid)) send_[std::size_t(at[r]++)] = word;
  }
  for (std::size_t r = 0; r < n_ranks; ++r) {
    const std::uint64_t b = std::uint64_t(send_counts_[r]) * bytes_per_spike;
    if (r != std::size_t(comm_.rank())) {
      bytes_sent_ += b;
      spikes_sent_ += std::uint64_t(send_counts_[r]);
    }
    spikes_sent_to_[r] += std::uint64_t(send_counts_[r]);
    bytes_sent_to_[r] += b;
    send_counts_[r] *= std::int64_t(bytes_per_spike);
  }

  comm_.alltoallv_bytes_into(
      std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(send_.data()), send_.size() * 8),
      send_counts_, recv_counts_, recv_bytes_, stop);
  if (comm_.size() > 1) collectives_ += 2;
  for (std::size_t r = 0; r < n_ranks; ++r) bytes_received_from_[r] += std::uint64_t(recv_counts_[r]);

  const std::size_t n_recv = recv_bytes_.size() / bytes_per_spike;
  received_.resize(n_recv);
  for (std::size_t i = 0; i < n_recv; ++i) {
    std::uint64_t word;
    std::memcpy(&word, recv_bytes_.data() + i * bytes_per_spike, sizeof word);
    received_[i] = {word >> offset_bits, interval_start + std::int64_t(word & offset_mask)};
  }
  return received_;
}

}  // namespace myelin
