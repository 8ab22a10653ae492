#include "myelin/core/partition.hpp"

#include <gtest/gtest.h>

#include <set>

namespace myelin {

TEST(partition, every_neuron_has_exactly_one_home) {
  const std::uint64_t n = 1003;
  for (int ranks : {1, 2, 3, 4}) {
    for (int threads : {1, 2, 3}) {
      std::set<std::uint64_t> seen;
      std::uint64_t total = 0;
      for (int rank = 0; rank < ranks; ++rank) {
        partition p(n, ranks, threads, rank);
        for (int t = 0; t < threads; ++t) {
          const std::uint64_t vp = p.vp_of(t);
          total += p.n_local(vp);
          for (std::uint64_t l = 0; l < p.n_local(vp); ++l) {
            const std::uint64_t gid = p.gid(vp, l);
            ASSERT_LT(gid, n);
            EXPECT_EQ(p.vp_of(gid), vp);
            EXPECT_EQ(p.rank_of(gid), rank);
            EXPECT_EQ(p.thread_of_vp(vp), t);
            EXPECT_EQ(p.local_index(gid), l);
            EXPECT_TRUE(seen.insert(gid).second);
          }
        }
      }
      EXPECT_EQ(total, n);
      EXPECT_EQ(seen.size(), n);
    }
  }
}

TEST(partition, each_population_is_split_evenly) {
  // Populations [0, 10), [10, 1010), [1010, 1013) over 4 virtual processes.
  partition p(1013, 2, 2, 0);
  const std::uint64_t bounds[] = {0, 10, 1010, 1013};
  for (std::uint64_t vp = 0; vp < p.n_vp(); ++vp) {
    for (int pop = 0; pop < 3; ++pop) {
      const std::uint64_t size = bounds[pop + 1] - bounds[pop];
      const std::uint64_t here = p.local_begin(vp, bounds[pop + 1]) - p.local_begin(vp, bounds[pop]);
      EXPECT_LE(here, size / p.n_vp() + 1);
      EXPECT_GE(here, size / p.n_vp());
      // The local range holds exactly the population's gids on this vp.
      for (std::uint64_t l = p.local_begin(vp, bounds[pop]); l < p.local_begin(vp, bounds[pop + 1]); ++l) {
        EXPECT_GE(p.gid(vp, l), bounds[pop]);
        EXPECT_LT(p.gid(vp, l), bounds[pop + 1]);
      }
    }
  }
}

}  // namespace myelin
