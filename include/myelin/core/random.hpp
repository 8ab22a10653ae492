// Counter-based random numbers (Philox4x32-10, Salmon et al. SC'11): every draw is a pure function
// of (seed, purpose, index, id, position), so a network and its inputs come out the same whatever
// the decomposition into ranks and threads, and any draw can be recomputed (checkpoints need no
// generator state beyond the current step).
//
// Counter layout of random_stream (part of the reproducibility contract: changing it changes
// every network and input):
//   key        = {seed bits 0..31, seed bits 32..63}
//   counter[0] = block bits 0..31
//   counter[1] = block bits 32..39 | index << 8 (20 bits) | purpose << 28 (4 bits)
//   counter[2] = id bits 0..31
//   counter[3] = id bits 32..63
// where block = position / 4 (a block is 4 words of 32 bits). The fields are disjoint and range
// checked (purpose < 16, index < 2^20, block < 2^40), so distinct (purpose, index, id, block)
// give distinct counters, and as Philox is a bijection for a fixed key, distinct blocks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "myelin/config/spec.hpp"

namespace myelin {

// Philox4x32 with 10 rounds: the raw bijection. Inline so that loops over many counters (one
// block per neuron and step) compile to straight-line multiplies.
inline std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter,
                                                  std::array<std::uint32_t, 2> key) {
  constexpr std::uint64_t multiplier0 = 0xD2511F53u, multiplier1 = 0xCD9E8D57u;
  constexpr std::uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;  // golden ratio, sqrt(3) - 1
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t product0 = multiplier0 * counter[0];
    const std::uint64_t product1 = multiplier1 * counter[2];
    counter = {std::uint32_t(product1 >> 32) ^ counter[1] ^ key[0], std::uint32_t(product1),
               std::uint32_t(product0 >> 32) ^ counter[3] ^ key[1], std::uint32_t(product0)};
    key[0] += weyl0;
    key[1] += weyl1;
  }
  return counter;
}

// The same bijection for `lanes` counters at once, in structure-of-arrays form (c0[k], c1[k],
// c2[k], c3[k] is counter k; replaced by its output), written so the compiler vectorizes across
// lanes. Bitwise equal to philox4x32_10 per lane.
template <std::size_t lanes>
inline void philox4x32_10_lanes(std::uint32_t* __restrict c0, std::uint32_t* __restrict c1,
                                std::uint32_t* __restrict c2, std::uint32_t* __restrict c3,
                                std::array<std::uint32_t, 2> key) {
  constexpr std::uint64_t multiplier0 = 0xD2511F53u, multiplier1 = 0xCD9E8D57u;
  constexpr std::uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    for (std::size_t k = 0; k < lanes; ++k) {
      const std::uint64_t product0 = multiplier0 * c0[k];
      const std::uint64_t product1 = multiplier1 * c2[k];
      const std::uint32_t next0 = std::uint32_t(product1 >> 32) ^ c1[k] ^ key[0];
      const std::uint32_t next2 = std::uint32_t(product0 >> 32) ^ c3[k] ^ key[1];
      c1[k] = std::uint32_t(product1);
      c3[k] = std::uint32_t(product0);
      c0[k] = next0;
      c2[k] = next2;
    }
    key[0] += weyl0;
    key[1] += weyl1;
  }
}

// What a stream is for; part of the counter, so streams of different purposes never overlap.
enum class stream_purpose : std::uint32_t {
  connectivity = 1,     // index: projection
  weights_delays = 2,   // index: projection
  initial_state = 3,    // index: population
  poisson_input = 4,    // index: input
  shared_split = 5,     // index: projection (multinomial splits every rank computes alike)
};

// An independent stream keyed by (seed, purpose, index, id). Draws advance an internal counter;
// the stream holds no other state (the current block is a cache of it). Typical id: a global
// neuron id (target of a connection, or neuron receiving Poisson input).
// Limits: index < 2^20, position < 2^42 words; beyond them the constructor throws
// std::invalid_argument and a draw std::overflow_error.
class random_stream {
 public:
  random_stream(std::uint64_t seed, stream_purpose purpose, std::uint32_t index, std::uint64_t id,
                std::uint64_t start = 0);

  // Word `position()`, then position() + 1.
  std::uint32_t next_u32() {
    if (used_ == 4) refill();
    return block_[std::size_t(used_++)];
  }
  // Two words, the first as the low half.
  std::uint64_t next_u64() {
    if (used_ <= 2) {  // both words in this block: the usual case
      const std::uint64_t low = block_[std::size_t(used_)], high = block_[std::size_t(used_ + 1)];
      used_ += 2;
      return low | high << 32;
    }
    const std::uint64_t low = next_u32();
    return low | std::uint64_t(next_u32()) << 32;
  }
  // In (0, 1): k / 2^53 for 53 random bits k, k = 0 redrawn (1 in 2^53), so log(uniform()) and
  // 1 / uniform() are always finite. Two words per draw.
  double uniform() {
    for (;;) {
      const std::uint64_t k = next_u64() >> 11;
      if (k != 0) return double(k) * 0x1p-53;
    }
  }
  // In (0, 1]: (k + 1) / 2^53. Two words.
  double uniform_open_closed() { return double((next_u64() >> 11) + 1) * 0x1p-53; }
  // In [0, n), unbiased (Lemire's multiply-shift with rejection); one word per try for
  // n <= 2^32, two otherwise. n = 0 gives 0.
  std::uint64_t uniform_int(std::uint64_t n);
  double normal();                                   // standard normal (256-layer ziggurat)
  std::uint64_t poisson(double mean);                // exact; mean finite, >= 0
  std::uint64_t binomial(std::uint64_t n, double p); // exact; p in [0, 1], n < 2^53
  // A draw from d with redraws outside [d.min, d.max]; throws std::runtime_error naming d.text
  // after 1000 redraws.
  double draw(const distribution& d);

  // Position of the next draw, in words, to resume exactly (e.g. after a checkpoint).
  std::uint64_t position() const { return 4 * next_block_ - std::uint64_t(4 - used_); }

 private:
  void refill();  // block_ = block next_block_, then next_block_ + 1

  std::array<std::uint32_t, 2> key_;
  std::array<std::uint32_t, 4> counter_;  // purpose, index and id in place; block bits zero
  std::uint64_t next_block_ = 0;
  std::array<std::uint32_t, 4> block_{};
  int used_ = 4;  // words of block_ consumed
};

// Splits `total` items over `n_categories` equally likely categories (a multinomial with equal
// probabilities) using conditional binomials from `stream`: every caller with the same stream gets
// the same split. counts has n_categories entries; their sum is total.
void multinomial_equal(random_stream& stream, std::uint64_t total, std::uint64_t n_categories,
                       std::uint64_t* counts);

// Poisson counts for many neurons per step at one mean: inverts a precomputed CDF table with one
// 32-bit uniform per draw. P(count <= k) is within 2^-33 of the exact Poisson CDF for every k
// (tails below 2^-33 are folded into the first and last entries).
// Cost of sample(): a guide-table lookup and, on average, about 1.25 compares; the loop body runs
// again only where a class boundary falls inside the guide bucket (probability ~1/4).
// Memory: 20 to 36 bytes per table entry, entries ~ 13 sqrt(mean) + 10 (mean 30: ~80 entries,
// 2.4 KB); means above 1e6 are refused (std::invalid_argument; use random_stream::poisson).
class poisson_table {
 public:
  explicit poisson_table(double mean);
  double mean() const { return mean_; }
  // Count for one 32-bit uniform; non-decreasing in u.
  std::uint32_t sample(std::uint32_t u) const {
    std::uint32_t entry = guide_[std::size_t(std::uint64_t(u) >> guide_shift_)];
    while (u > cdf_[entry]) ++entry;  // stops: the last entry is 2^32 - 1
    return first_ + entry;
  }

 private:
  double mean_;
  // cdf_[j] + 1 = round(P(X <= first_ + j) * 2^32); the last entry is 2^32 - 1.
  std::vector<std::uint32_t> cdf_;
  // guide_[g]: first entry j with cdf_[j] >= g << guide_shift_, so the search starts there.
  std::vector<std::uint32_t> guide_;
  int guide_shift_ = 32;
  std::uint32_t first_ = 0;  // smallest count with P(X <= count) >= 2^-33
};

}  // namespace myelin
