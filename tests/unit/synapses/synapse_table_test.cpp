#include "myelin/synapses/synapse_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

namespace myelin {

namespace {
// A deterministic pseudo-random synapse list onto n_local targets.
std::vector<synapse_draw> example_synapses(std::uint64_t n_local, int per_target) {
  std::vector<synapse_draw> all;
  std::uint64_t x = 88172645463325252ull;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (std::uint64_t t = 0; t < n_local; ++t)
    for (int k = 0; k < per_target; ++k)
      all.push_back({next() % 500, std::uint32_t(t), std::uint16_t(1 + next() % 20),
                     std::int32_t(std::int64_t(next() % 2001) - 1000)});
  return all;
}

synapse_table build(const std::vector<synapse_draw>& all, std::uint64_t n_local, int weight_bits,
                    std::uint64_t max_delay_steps = 0xffff) {
  return build_synapse_table(n_local, 1000, weight_bits, [&](std::uint64_t block, bool count_only, auto&& sink) {
    const std::uint64_t first = block * synapse_table::block_size;
    for (const synapse_draw& d : all)
      if (d.target_local >= first && d.target_local < first + synapse_table::block_size) {
        synapse_draw copy = d;
        if (count_only) {
          copy.weight_units = 0;
          copy.delay_steps = 0;
        }
        sink(copy);
      }
  }, max_delay_steps);
}

// Every synapse as (source, target, delay, weight), from the table.
std::multiset<std::tuple<std::uint64_t, std::uint64_t, int, std::int32_t>> contents(const synapse_table& table) {
  std::multiset<std::tuple<std::uint64_t, std::uint64_t, int, std::int32_t>> out;
  for (const auto& b : table.blocks) {
    for (std::size_t r = 0; r < b.rows(); ++r) {
      std::uint32_t seg_start = 0;
      for (std::uint64_t s = b.segment_begin[r]; s < b.segment_begin[r + 1]; ++s) {
        for (std::uint64_t i = b.row_begin[r] + seg_start; i < b.row_begin[r] + b.segment_end[s]; ++i) {
          const std::int32_t w = table.weight_bits == 32 ? b.weight32[i] : b.weight16[i];
          out.insert({b.source_gid[r], b.first_local + b.target[i], b.segment_delay[s], w});
        }
        seg_start = b.segment_end[s];
      }
    }
  }
  return out;
}
}  // namespace

TEST(synapse_table, holds_exactly_the_generated_synapses) {
  const auto all = example_synapses(300, 7);
  for (int bits : {16, 32}) {
    const synapse_table table = build(all, 300, bits);
    EXPECT_EQ(table.synapses(), all.size());
    std::multiset<std::tuple<std::uint64_t, std::uint64_t, int, std::int32_t>> expected;
    for (const auto& d : all) expected.insert({d.source_gid, d.target_local, d.delay_steps, d.weight_units});
    EXPECT_EQ(contents(table), expected);
  }
}

TEST(synapse_table, rows_sorted_by_source_segments_by_delay_targets_within_segment) {
  const synapse_table table = build(example_synapses(300, 7), 300, 16);
  const synapse_block& b = table.blocks.at(0);
  for (std::size_t r = 1; r < b.rows(); ++r) EXPECT_LT(b.source_gid[r - 1], b.source_gid[r]);
  for (std::size_t r = 0; r < b.rows(); ++r) {
    std::uint32_t seg_start = 0;
    for (std::uint64_t s = b.segment_begin[r]; s < b.segment_begin[r + 1]; ++s) {
      if (s > b.segment_begin[r]) EXPECT_LT(b.segment_delay[s - 1], b.segment_delay[s]);
      for (std::uint64_t i = b.row_begin[r] + seg_start + 1; i < b.row_begin[r] + b.segment_end[s]; ++i)
        EXPECT_LE(b.target[i - 1], b.target[i]);
      seg_start = b.segment_end[s];
    }
    EXPECT_EQ(seg_start, b.row_begin[r + 1] - b.row_begin[r]);
  }
  EXPECT_EQ(b.find_row(b.source_gid[3]), 3);
  EXPECT_EQ(b.find_row(100000), -1);
}

TEST(synapse_table, more_than_65536_targets_split_into_blocks_of_16_bit_indices) {
  const std::uint64_t n_local = 2 * synapse_table::block_size + 1000;
  const auto all = example_synapses(n_local, 1);
  const synapse_table table = build(all, n_local, 16);
  ASSERT_EQ(table.blocks.size(), 3u);
  EXPECT_EQ(table.blocks[1].first_local, synapse_table::block_size);
  EXPECT_EQ(table.blocks[2].first_local, 2 * synapse_table::block_size);
  std::multiset<std::tuple<std::uint64_t, std::uint64_t, int, std::int32_t>> expected;
  for (const auto& d : all) expected.insert({d.source_gid, d.target_local, d.delay_steps, d.weight_units});
  EXPECT_EQ(contents(table), expected);
}

// Delays up to 255 steps are kept in a byte during the build, more in 16 bits: the same table.
// 1.2 M synapses: several chunks of pass 2 and three blocks.
TEST(synapse_table, byte_delays_during_the_build_give_the_same_table) {
  const std::uint64_t n_local = 2 * synapse_table::block_size + 20000;
  const auto all = example_synapses(n_local, 8);
  const synapse_table wide = build(all, n_local, 16), narrow = build(all, n_local, 16, 20);
  ASSERT_EQ(wide.blocks.size(), narrow.blocks.size());
  for (std::size_t b = 0; b < wide.blocks.size(); ++b) {
    const synapse_block &w = wide.blocks[b], &n = narrow.blocks[b];
    EXPECT_EQ(w.source_gid, n.source_gid);
    EXPECT_EQ(w.row_begin, n.row_begin);
    EXPECT_EQ(w.segment_begin, n.segment_begin);
    EXPECT_EQ(w.segment_delay, n.segment_delay);
    EXPECT_EQ(w.segment_end, n.segment_end);
    EXPECT_TRUE(std::equal(w.target.begin(), w.target.end(), n.target.begin(), n.target.end()));
    EXPECT_TRUE(std::equal(w.weight16.begin(), w.weight16.end(), n.weight16.begin(), n.weight16.end()));
  }
  std::multiset<std::tuple<std::uint64_t, std::uint64_t, int, std::int32_t>> expected;
  for (const auto& d : all) expected.insert({d.source_gid, d.target_local, d.delay_steps, d.weight_units});
  EXPECT_EQ(contents(narrow), expected);
  // A generator breaking its bound is caught, not truncated.
  std::vector<synapse_draw> long_delay = {{1, 0, 300, 5}};
  EXPECT_THROW(build(long_delay, 1, 16, 255), std::logic_error);
}

TEST(synapse_table, compact_layout_costs_about_four_bytes_per_synapse_for_long_rows) {
  // 20 sources x 5000 targets, one delay: long rows, one segment each.
  std::vector<synapse_draw> all;
  for (std::uint32_t t = 0; t < 5000; ++t)
    for (std::uint64_t s = 0; s < 20; ++s) all.push_back({s, t, 15, 100});
  const synapse_table table = build(all, 5000, 16);
  EXPECT_LT(double(table.bytes()) / double(table.synapses()), 4.1);
}

}  // namespace myelin
