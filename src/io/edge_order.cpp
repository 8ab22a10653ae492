#include "myelin/io/edge_order.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace myelin {

namespace {

constexpr std::uint64_t largest_target_id = (std::uint64_t(1) << 63) - 1;

// Enough buckets that a block ends within a small fraction of its share, few enough that the
// reduction of the counts stays small (8 MiB at most).
std::uint64_t bucket_count(std::uint64_t n_target_ids, int n_ranks) {
  const std::uint64_t wanted = std::clamp<std::uint64_t>(std::uint64_t(n_ranks) * 256, 4096, std::uint64_t(1) << 20);
  return std::max<std::uint64_t>(1, std::min(n_target_ids, wanted));
}

std::uint64_t bucket_of(std::uint64_t target, std::uint64_t n_target_ids, std::uint64_t n_buckets) {
  return std::uint64_t((unsigned __int128)target * n_buckets / n_target_ids);
}

// The first problem with this rank's records, or "" when they keep the contract.
std::string local_problem(std::span<const std::uint64_t> target, std::span<const std::uint64_t> source,
                          std::span<const double> delay_ms) {
  if (target.size() != source.size() || target.size() != delay_ms.size())
    return "spans of different sizes (" + std::to_string(target.size()) + " targets, " + std::to_string(source.size()) +
           " sources, " + std::to_string(delay_ms.size()) + " delays)";
  std::vector<std::uint64_t> group_targets;
  for (std::size_t i = 0; i < target.size(); ++i) {
    if (std::isnan(delay_ms[i])) return "delay of record " + std::to_string(i) + " is NaN";
    if (target[i] > largest_target_id) return "target id " + std::to_string(target[i]) + " too large";
    if (i == 0 || target[i] != target[i - 1]) {
      group_targets.push_back(target[i]);
      continue;
    }
    if (source[i] < source[i - 1] || (source[i] == source[i - 1] && delay_ms[i] < delay_ms[i - 1]))
      return "synapses onto target " + std::to_string(target[i]) + " not in increasing (source, delay) order";
  }
  std::sort(group_targets.begin(), group_targets.end());
  const auto repeated = std::adjacent_find(group_targets.begin(), group_targets.end());
  if (repeated != group_targets.end())
    return "synapses onto target " + std::to_string(*repeated) + " not passed consecutively";
  return {};
}

// Every rank throws the same kind of error when any rank found a problem.
void agree_on(const communicator& comm, const std::string& problem) {
  if (comm.any(!problem.empty()))
    throw std::invalid_argument("edge_order: " +
                                (problem.empty() ? std::string("bad records on another rank") : problem));
}

}  // namespace

edge_order::edge_order(const communicator& comm, std::span<const std::uint64_t> target,
                       std::span<const std::uint64_t> source, std::span<const double> delay_ms)
    : comm_(comm) {
  agree_on(comm_, local_problem(target, source, delay_ms));
  const auto n_ranks = std::size_t(comm_.size());

  std::int64_t local_target_ids = 0;
  for (const std::uint64_t t : target) local_target_ids = std::max(local_target_ids, std::int64_t(t) + 1);
  const auto n_target_ids = std::uint64_t(comm_.allreduce_max(local_target_ids));

  // Global edges per bucket: every rank then computes the same split.
  const std::uint64_t n_buckets = bucket_count(n_target_ids, comm_.size());
  std::vector<std::uint64_t> edges_per_bucket(n_buckets, 0);
  for (const std::uint64_t t : target) ++edges_per_bucket[bucket_of(t, n_target_ids, n_buckets)];
  comm_.allreduce_sum(std::span<std::uint64_t>(edges_per_bucket));
  std::vector<std::uint64_t> edges_before_bucket(n_buckets + 1, 0);
  std::inclusive_scan(edges_per_bucket.begin(), edges_per_bucket.end(), edges_before_bucket.begin() + 1);
  edges_per_bucket = {};
  const std::uint64_t total = edges_before_bucket.back();

  // Rank r's buckets: [first_bucket[r], first_bucket[r + 1]); its block ends at the first bucket
  // boundary where the blocks up to it hold at least (r + 1) / size of the edges.
  std::vector<std::uint64_t> first_bucket(n_ranks + 1, n_buckets);
  first_bucket[0] = 0;
  block_starts_.assign(n_ranks + 1, total);
  block_starts_[0] = 0;
  for (std::size_t r = 1; r < n_ranks; ++r) {
    const auto share = (unsigned __int128)total * r;
    std::uint64_t b = first_bucket[r - 1];
    while (b < n_buckets && (unsigned __int128)edges_before_bucket[b] * n_ranks < share) ++b;
    first_bucket[r] = b;
    block_starts_[r] = edges_before_bucket[b];
  }
  const auto owner_of = [&](std::uint64_t t) {
    const std::uint64_t bucket = bucket_of(t, n_target_ids, n_buckets);
    // The last rank whose first bucket is at or before it: ranks with no buckets are skipped.
    return std::size_t(std::upper_bound(first_bucket.begin(), first_bucket.begin() + std::ptrdiff_t(n_ranks), bucket) -
                       first_bucket.begin() - 1);
  };

  // Records grouped by destination, in local order within each group (a counting sort).
  std::vector<std::size_t> destination(target.size());
  send_counts_.assign(n_ranks, 0);
  for (std::size_t i = 0; i < target.size(); ++i) ++send_counts_[destination[i] = owner_of(target[i])];
  std::vector<std::size_t> next(n_ranks, 0);
  std::exclusive_scan(send_counts_.begin(), send_counts_.end(), next.begin(), std::size_t(0));
  send_order_.resize(target.size());
  for (std::size_t i = 0; i < target.size(); ++i) send_order_[next[destination[i]]++] = i;
  destination = {};

  std::vector<edge_key> send(target.size());
  for (std::size_t k = 0; k < send.size(); ++k) {
    const std::size_t i = send_order_[k];
    send[k] = {target[i], source[i], delay_ms[i]};
  }
  const std::vector<edge_key> received = comm_.alltoallv<edge_key>(send, send_counts_, receive_counts_);
  send = {};

  // Each target's records come from one rank, consecutive and already in (source, delay) order:
  // a stable sort by target puts the block in canonical order.
  block_from_received_.resize(received.size());
  std::iota(block_from_received_.begin(), block_from_received_.end(), std::size_t(0));
  std::stable_sort(block_from_received_.begin(), block_from_received_.end(),
                   [&](std::size_t a, std::size_t b) { return received[a].target < received[b].target; });

  // Records from rank r are received[received_from[r], received_from[r + 1]).
  std::vector<std::size_t> received_from(n_ranks + 1, 0);
  std::inclusive_scan(receive_counts_.begin(), receive_counts_.end(), received_from.begin() + 1, std::plus<>(),
                      std::size_t(0));
  const auto sender_of = [&](std::size_t index) {
    return std::upper_bound(received_from.begin(), received_from.end(), index) - received_from.begin() - 1;
  };
  std::string problem;
  for (std::size_t j = 1; j < block_from_received_.size() && problem.empty(); ++j) {
    const std::size_t previous = block_from_received_[j - 1];
    const std::size_t current = block_from_received_[j];
    if (received[previous].target == received[current].target && sender_of(previous) != sender_of(current))
      problem = "synapses onto target " + std::to_string(received[current].target) + " passed by ranks " +
                std::to_string(sender_of(previous)) + " and " + std::to_string(sender_of(current));
  }
  if (problem.empty() && block_from_received_.size() != block_starts_[std::size_t(comm_.rank()) + 1] - block_first())
    problem = "received " + std::to_string(block_from_received_.size()) + " records for a block of " +
              std::to_string(block_starts_[std::size_t(comm_.rank()) + 1] - block_first());  // a bug, not input
  agree_on(comm_, problem);
}

void edge_order::require_size(std::size_t given, std::uint64_t expected, const char* operation,
                              const char* what) const {
  const bool wrong = given != expected;
  if (comm_.any(wrong))
    throw std::invalid_argument(std::string("edge_order::") + operation + ": " +
                                (wrong
                                     ? std::to_string(given) + " values, " + what + "() is " + std::to_string(expected)
                                     : std::string("wrong number of values on another rank")));
}

}  // namespace myelin
