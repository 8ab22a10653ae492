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

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

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

namespace detail {
// One vector register of 32-bit lanes and what a Philox round needs of it: the high and low
// halves of each lane's 32 x 32 bit product (x86 multiplies the even lanes into 64 bits; the odd
// ones follow a shift) and a three-way xor. The widest the build targets; every x86-64 has SSE2.
#if defined(__AVX512F__)
struct philox_register {
  using reg = __m512i;
  static constexpr std::size_t lanes = 16;
  static reg load(const std::uint32_t* p) { return _mm512_loadu_si512(p); }
  static void store(std::uint32_t* p, reg x) { _mm512_storeu_si512(p, x); }
  static reg broadcast(std::uint32_t v) { return _mm512_set1_epi32(int(v)); }
  static reg broadcast64(std::uint64_t v) { return _mm512_set1_epi64(std::int64_t(v)); }
  static void multiply(reg x, reg m, reg& hi, reg& lo) {
    constexpr __mmask16 odd = 0xAAAA;
    const reg even = _mm512_mul_epu32(x, m), odd_products = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), m);
    hi = _mm512_mask_blend_epi32(odd, _mm512_srli_epi64(even, 32), odd_products);
    lo = _mm512_mask_blend_epi32(odd, even, _mm512_slli_epi64(odd_products, 32));
  }
  static reg xor3(reg a, reg b, reg c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
};
#elif defined(__AVX2__)
struct philox_register {
  using reg = __m256i;
  static constexpr std::size_t lanes = 8;
  static reg load(const std::uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const reg*>(p)); }
  static void store(std::uint32_t* p, reg x) { _mm256_storeu_si256(reinterpret_cast<reg*>(p), x); }
  static reg broadcast(std::uint32_t v) { return _mm256_set1_epi32(int(v)); }
  static reg broadcast64(std::uint64_t v) { return _mm256_set1_epi64x(std::int64_t(v)); }
  static void multiply(reg x, reg m, reg& hi, reg& lo) {
    const reg even = _mm256_mul_epu32(x, m), odd_products = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), m);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd_products, 0xAA);
    lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd_products, 32), 0xAA);
  }
  static reg xor3(reg a, reg b, reg c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
};
#elif defined(__SSE2__)
struct philox_register {
  using reg = __m128i;
  static constexpr std::size_t lanes = 4;
  static reg load(const std::uint32_t* p) { return _mm_loadu_si128(reinterpret_cast<const reg*>(p)); }
  static void store(std::uint32_t* p, reg x) { _mm_storeu_si128(reinterpret_cast<reg*>(p), x); }
  static reg broadcast(std::uint32_t v) { return _mm_set1_epi32(int(v)); }
  static reg broadcast64(std::uint64_t v) { return _mm_set1_epi64x(std::int64_t(v)); }
  static void multiply(reg x, reg m, reg& hi, reg& lo) {  // no blend before SSE4.1: masks
    const reg even = _mm_mul_epu32(x, m), odd_products = _mm_mul_epu32(_mm_srli_epi64(x, 32), m);
    const reg high_halves = _mm_set1_epi64x(std::int64_t(0xFFFFFFFF00000000u));
    hi = _mm_or_si128(_mm_srli_epi64(even, 32), _mm_and_si128(odd_products, high_halves));
    lo = _mm_or_si128(_mm_andnot_si128(high_halves, even), _mm_slli_epi64(odd_products, 32));
  }
  static reg xor3(reg a, reg b, reg c) { return _mm_xor_si128(_mm_xor_si128(a, b), c); }
};
#endif
}  // namespace detail

// The same bijection for `lanes` counters at once, in structure-of-arrays form (c0[k], c1[k],
// c2[k], c3[k] is counter k; replaced by its output). Bitwise equal to philox4x32_10 per lane.
// In vector registers as wide as the build targets, several interleaved: one register's rounds
// are a chain of dependent multiplies that leaves the multiplier idle. tools/microbench
// random_bench, ns per block at 64 lanes, 4 registers interleaved: AVX-512 (Zen 4) 0.9 against
// 2.7 for the scalar loop, which GCC vectorizes with 64-bit multiplies; AVX2 (Zen 3) 2.5 against
// 7.8 (2 registers: the same, 1: 3.5); SSE2 (the portable build, Zen 3) 5.9 against 6-9. The
// scalar loop elsewhere, for the compiler.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12: its intrinsics start shifts from an undefined register
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <std::size_t lanes>
inline void philox4x32_10_lanes(std::uint32_t* __restrict c0, std::uint32_t* __restrict c1,
                                std::uint32_t* __restrict c2, std::uint32_t* __restrict c3,
                                std::array<std::uint32_t, 2> key) {
  constexpr std::uint64_t multiplier0 = 0xD2511F53u, multiplier1 = 0xCD9E8D57u;
  constexpr std::uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;
#if defined(__AVX512F__) || defined(__AVX2__) || defined(__SSE2__)
  using simd = detail::philox_register;
  if constexpr (lanes % simd::lanes == 0) {
    using reg = simd::reg;
    constexpr std::size_t registers = lanes / simd::lanes;  // interleaved 4 (or 2) at a time
    constexpr std::size_t group = registers % 4 == 0 ? 4 : registers % 2 == 0 ? 2 : 1;
    const reg m0 = simd::broadcast64(multiplier0), m1 = simd::broadcast64(multiplier1);
    for (std::size_t first = 0; first < lanes; first += simd::lanes * group) {
      reg x0[group], x1[group], x2[group], x3[group];
      for (std::size_t g = 0; g < group; ++g) {
        x0[g] = simd::load(c0 + first + simd::lanes * g);
        x1[g] = simd::load(c1 + first + simd::lanes * g);
        x2[g] = simd::load(c2 + first + simd::lanes * g);
        x3[g] = simd::load(c3 + first + simd::lanes * g);
      }
      std::array<std::uint32_t, 2> k = key;
      for (int round = 0; round < 10; ++round) {
        const reg k0 = simd::broadcast(k[0]), k1 = simd::broadcast(k[1]);
        for (std::size_t g = 0; g < group; ++g) {
          reg hi0, lo0, hi1, lo1;
          simd::multiply(x0[g], m0, hi0, lo0);
          simd::multiply(x2[g], m1, hi1, lo1);
          x0[g] = simd::xor3(hi1, x1[g], k0);
          x2[g] = simd::xor3(hi0, x3[g], k1);
          x1[g] = lo1;
          x3[g] = lo0;
        }
        k[0] += weyl0;
        k[1] += weyl1;
      }
      for (std::size_t g = 0; g < group; ++g) {
        simd::store(c0 + first + simd::lanes * g, x0[g]);
        simd::store(c1 + first + simd::lanes * g, x1[g]);
        simd::store(c2 + first + simd::lanes * g, x2[g]);
        simd::store(c3 + first + simd::lanes * g, x3[g]);
      }
    }
    return;
  }
#endif
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
#pragma GCC diagnostic pop

namespace detail {
// Ziggurat (Marsaglia & Tsang 2000) with 256 layers of equal area under exp(-x^2 / 2): layer 0 is
// [0, r] x [0, f(r)] plus the tail beyond r, layer i >= 1 is [0, x[i]] x [f(x[i]), f(x[i + 1])];
// x[0] = v / f(r) makes layer 0 as wide as its area needs. Computed once, at start-up (a
// namespace-scope object, so normal() inlines without a guard; not for static initializers).
struct ziggurat_tables {
  static constexpr int layers = 256;
  static constexpr double r = 3.6541528853610088;  // x[1]: makes x[256] come out 0
  std::array<double, layers + 1> x{};
  std::array<double, layers + 1> f{};  // exp(-x^2 / 2)
  ziggurat_tables();
};
extern const ziggurat_tables ziggurat;
}  // namespace detail

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
    if (used_ == available_) refill();
    return word(used_++);
  }
  // Two words, the first as the low half.
  std::uint64_t next_u64() {
    if (used_ + 2 <= available_) {  // both words in the buffer: the usual case
      const std::uint64_t low = word(used_), high = word(used_ + 1);
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
  std::uint64_t uniform_int(std::uint64_t n) {
    if (n > std::uint64_t(1) << 32) return uniform_int_wide(n);
    // floor(x * n / 2^32) for a 32-bit x; the modulus is needed only when the low part falls below n.
    const std::uint64_t product = std::uint64_t(next_u32()) * n;
    return std::uint32_t(product) >= n ? product >> 32 : uniform_int_rejecting(n, product);
  }
  // Standard normal (256-layer ziggurat): one 64-bit word, layer from bits 0-7, sign from bit 8,
  // position in the layer from bits 11-63; ~99% return here, inside the layer above.
  double normal() {
    const std::uint64_t bits = next_u64();
    const double x = double(bits >> 11) * 0x1p-53 * detail::ziggurat.x[bits & 0xff];
    if (x < detail::ziggurat.x[(bits & 0xff) + 1]) return with_sign(x, bits);
    return normal_beyond(bits);
  }
  std::uint64_t poisson(double mean);                // exact; mean finite, >= 0
  std::uint64_t binomial(std::uint64_t n, double p); // exact; p in [0, 1], n < 2^53
  // A draw from d with redraws outside [d.min, d.max]; throws std::runtime_error naming d.text
  // after 1000 redraws.
  static constexpr int max_redraws = 1000;
  double draw(const distribution& d) {
    for (int attempt = 0; attempt <= max_redraws; ++attempt) {
      double value = d.a;
      switch (d.type) {
        case distribution::kind::constant: break;
        case distribution::kind::normal: value = d.a + d.b * normal(); break;
        case distribution::kind::uniform: value = d.a + (d.b - d.a) * uniform(); break;
        case distribution::kind::lognormal: value = std::exp(d.a + d.b * normal()); break;
      }
      if (value >= d.min && value <= d.max) return value;
      if (d.type == distribution::kind::constant) break;  // redrawing cannot help
    }
    no_value_within_bounds(d);
  }

  // Position of the next draw, in words, to resume exactly (e.g. after a checkpoint).
  std::uint64_t position() const { return 4 * next_block_ - std::uint64_t(available_ - used_); }

 private:
  // Blocks are drawn `batch` at a time (philox4x32_10_lanes): a stream typically draws hundreds
  // of words (a target's sources, weights and delays), and a block alone costs ~8x more.
  static constexpr int batch = 32;
  void refill();  // the buffer = blocks next_block_ .. next_block_ + batch - 1, then next_block_ += batch
  std::uint64_t uniform_int_rejecting(std::uint64_t n, std::uint64_t product);
  std::uint64_t uniform_int_wide(std::uint64_t n);
  double normal_beyond(std::uint64_t bits);  // the rest of normal() where bits fell outside the layer above
  [[noreturn]] static void no_value_within_bounds(const distribution& d);
  // The sign goes straight into the sign bit: a branch on it would mispredict half the time.
  static double with_sign(double magnitude, std::uint64_t bits) {
    return std::bit_cast<double>(std::bit_cast<std::uint64_t>(magnitude) ^ ((bits & 0x100) << 55));
  }
  // Word w of the buffer; it holds the blocks' words by word then block (as the lanes leave them).
  std::uint32_t word(int w) const { return buffer_[std::size_t((w & 3) * batch + (w >> 2))]; }

  std::array<std::uint32_t, 2> key_;
  std::array<std::uint32_t, 4> counter_;  // purpose, index and id in place; block bits zero
  std::uint64_t next_block_ = 0;          // the first block after the buffer
  alignas(64) std::array<std::uint32_t, 4 * batch> buffer_;
  int used_ = 0, available_ = 0;  // words of the buffer consumed, and drawn
};

// Splits `total` items over `n_categories` equally likely categories (a multinomial with equal
// probabilities) using conditional binomials from `stream`: every caller with the same stream gets
// the same split. counts has n_categories entries; their sum is total.
void multinomial_equal(random_stream& stream, std::uint64_t total, std::uint64_t n_categories,
                       std::uint64_t* counts);

// Poisson counts for many neurons per step at one mean: inverts a precomputed CDF table with one
// 32-bit uniform per draw. P(count <= k) is within 2^-33 of the exact Poisson CDF for every k
// (tails below 2^-33 are folded into the first and last entries).
// Cost of sample(): a guide-table lookup and, on average, about 1.02 compares; the loop body runs
// again only where a class boundary falls inside the guide bucket (probability ~1/64).
// Memory: entries ~ 13 sqrt(mean) + 10 of 4 bytes, and a guide of 4 bytes per bucket (mean 1.6:
// ~25 entries, 4 KB; at most 16 KB until 1024 entries); means above 1e6 are refused
// (std::invalid_argument; use random_stream::poisson).
class poisson_table {
 public:
  explicit poisson_table(double mean);
  double mean() const { return mean_; }
  // The largest count sample() returns.
  std::uint32_t max_count() const { return first_ + std::uint32_t(cdf_.size()) - 1; }
  // Count for one 32-bit uniform; non-decreasing in u.
  std::uint32_t sample(std::uint32_t u) const {
    std::uint32_t entry = guide_[std::size_t(std::uint64_t(u) >> guide_shift_)];
    while (u > cdf_[entry]) ++entry;  // stops: the last entry is 2^32 - 1
    return first_ + entry;
  }
  // count[i] = sample(u[i]) for i < n, n a multiple of sample_lanes. Tables of few entries (the
  // usual small means per step) count the thresholds below each u with vector compares, 16 lanes
  // per entry, without a table look-up per draw; larger ones use sample(). random_bench, mean 1
  // (15 entries), ns per draw: 0.14 with AVX-512 (Zen 4), 0.31 with AVX2 and 1.0 with SSE2
  // (Zen 3), against 1.0-1.3 for sample() one draw at a time.
  static constexpr std::size_t sample_lanes = 16;
  void sample(const std::uint32_t* u, std::uint32_t* count, std::size_t n) const;

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
