#include "myelin/comm/spike_exchange.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace myelin {

// Rank r needs the sources whose gid % (r + 2) == 0. Every rank emits one spike per own neuron
// per interval; each rank must receive exactly the spikes of the sources it needs, nothing else.
TEST(spike_exchange, delivers_spikes_only_to_ranks_that_need_them) {
  communicator comm;
  const std::uint64_t n = 97;
  partition part(n, comm.size(), 1, comm.rank());
  std::vector<std::uint64_t> needed;
  for (std::uint64_t g = 0; g < n; ++g)
    if (g % std::uint64_t(comm.rank() + 2) == 0) needed.push_back(g);
  spike_exchange exchange(comm, part, needed);

  for (std::uint64_t g = 0; g < n; ++g) {
    if (part.rank_of(g) != comm.rank()) continue;
    std::vector<std::uint32_t> expected;
    for (int r = 0; r < comm.size(); ++r)
      if (g % std::uint64_t(r + 2) == 0) expected.push_back(std::uint32_t(r));
    const auto ranks = exchange.target_ranks(g);
    EXPECT_EQ(std::vector<std::uint32_t>(ranks.begin(), ranks.end()), expected) << "gid " << g;
  }

  const std::int64_t interval_start = 1000;
  std::vector<received_spike> local;
  for (std::uint64_t g = 0; g < n; ++g)
    if (part.rank_of(g) == comm.rank()) local.push_back({g, interval_start + std::int64_t(g % 5)});
  bool stop = false;
  const auto got = exchange.exchange(local, interval_start, stop);
  EXPECT_FALSE(stop);
  std::vector<std::pair<std::uint64_t, std::int64_t>> received;
  for (const auto& s : got) received.push_back({s.gid, s.step});
  std::sort(received.begin(), received.end());
  std::vector<std::pair<std::uint64_t, std::int64_t>> expected;
  for (std::uint64_t g : needed) expected.push_back({g, interval_start + std::int64_t(g % 5)});
  EXPECT_EQ(received, expected);

  // Bytes: 8 per spike per remote destination.
  std::uint64_t remote = 0;
  for (const auto& s : local)
    for (std::uint32_t r : exchange.target_ranks(s.gid)) remote += (int(r) != comm.rank());
  EXPECT_EQ(exchange.bytes_sent(), remote * 8);
  EXPECT_EQ(exchange.collectives(), comm.size() > 1 ? 2u : 0u);
}

TEST(spike_exchange, empty_intervals_exchange_nothing) {
  communicator comm;
  partition part(10, comm.size(), 1, comm.rank());
  std::vector<std::uint64_t> needed{0, 1, 2};
  spike_exchange exchange(comm, part, needed);
  bool stop = false;
  const auto got = exchange.exchange({}, 0, stop);
  EXPECT_TRUE(got.empty());
}

TEST(spike_exchange, a_stop_request_on_one_rank_reaches_every_rank_in_the_same_exchange) {
  communicator comm;
  partition part(10, comm.size(), 1, comm.rank());
  std::vector<std::uint64_t> needed{0, 1, 2};
  spike_exchange exchange(comm, part, needed);
  bool stop = comm.rank() == comm.size() - 1;
  exchange.exchange({}, 0, stop);
  EXPECT_TRUE(stop);
  bool again = false;
  exchange.exchange({}, 1, again);
  EXPECT_FALSE(again);
}

}  // namespace myelin
