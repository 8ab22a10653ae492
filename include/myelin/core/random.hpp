// Counter-based random numbers (Philox4x32-10, Salmon et al. SC'11): every draw is a pure function
// of (seed, purpose, id, index), so a network and its inputs come out the same whatever the
// decomposition into ranks and threads, and any draw can be recomputed (checkpoints need no
// generator state beyond the current step).
#pragma once

#include <array>
#include <cstdint>

#include "myelin/config/spec.hpp"

namespace myelin {

// Philox4x32 with 10 rounds: the raw bijection.
std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key);

// What a stream is for; part of the counter, so streams of different purposes never overlap.
enum class stream_purpose : std::uint32_t {
  connectivity = 1,     // index: projection
  weights_delays = 2,   // index: projection
  initial_state = 3,    // index: population
  poisson_input = 4,    // index: input
  shared_split = 5,     // index: projection (multinomial splits every rank computes alike)
};

// An independent stream keyed by (seed, purpose, index, id). Draws advance an internal counter;
// the stream holds no other state. Typical id: a global neuron id (target of a connection, or
// neuron receiving Poisson input).
class random_stream {
 public:
  random_stream(std::uint64_t seed, stream_purpose purpose, std::uint32_t index, std::uint64_t id,
                std::uint64_t start = 0);

  std::uint32_t next_u32();
  std::uint64_t next_u64();
  double uniform();                                  // in (0, 1), 53 random bits
  double uniform_open_closed();                      // in (0, 1]
  std::uint64_t uniform_int(std::uint64_t n);        // in [0, n), unbiased (Lemire's method)
  double normal();                                   // standard normal
  std::uint64_t poisson(double mean);                // exact
  std::uint64_t binomial(std::uint64_t n, double p); // exact
  // A draw from d with redraws outside [d.min, d.max]; throws std::runtime_error naming d.text
  // after 1000 redraws.
  double draw(const distribution& d);

  // Position of the next draw, to resume exactly (e.g. after a checkpoint).
  std::uint64_t position() const;

 private:
  std::array<std::uint32_t, 2> key_;
  std::array<std::uint32_t, 4> counter_;
  std::array<std::uint32_t, 4> block_{};
  int used_ = 4;  // words of block_ consumed
};

// Splits `total` items over `weights.size()` equally likely categories (a multinomial with equal
// probabilities) using conditional binomials from `stream`: every caller with the same stream gets
// the same split. counts.size() == n_categories.
void multinomial_equal(random_stream& stream, std::uint64_t total, std::uint64_t n_categories,
                       std::uint64_t* counts);

// Poisson counts for many neurons per step at one mean: inverts a precomputed CDF table with
// one 32-bit uniform per draw. Exact up to the table's resolution (P(k) below 2^-32 is cut).
class poisson_table {
 public:
  explicit poisson_table(double mean);
  double mean() const { return mean_; }
  // Count for one 32-bit uniform.
  std::uint32_t sample(std::uint32_t u) const;

 private:
  double mean_;
  std::uint32_t cdf_[64];  // cdf_[k] = floor(P(X <= k) * 2^32), saturating
  int size_ = 0;
  std::uint32_t fallback_threshold_ = 0;
};

}  // namespace myelin
