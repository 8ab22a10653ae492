#include "myelin/core/random.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numbers>
#include <stdexcept>
#include <string>

namespace myelin {

namespace {

constexpr std::uint64_t max_index = std::uint64_t(1) << 20;
constexpr std::uint64_t max_block = std::uint64_t(1) << 40;
constexpr double log_sqrt_2pi = 0.91893853320467274178;  // log(sqrt(2 pi))

// --- Log-probabilities, accurate in absolute terms for huge n and mean (Loader 2000, "Fast and
// accurate computation of binomial probabilities"): the rejection tests of PTRS and BTRS compare
// against them, and the naive k log(mean) - log(k!) loses ~1e-4 to cancellation at 1e12.

constexpr std::array<double, 16> small_factorials = [] {
  std::array<double, 16> table{};
  double factorial = 1.0;
  for (std::size_t k = 0; k < table.size(); ++k) {
    if (k > 0) factorial *= double(k);
    table[k] = factorial;  // exact: 15! < 2^53
  }
  return table;
}();

// Stirling's error log(n!) - log(sqrt(2 pi n) (n / e)^n), n >= 1.
double stirling_error(double n) {
  if (n < 16.0) return std::log(small_factorials[std::size_t(n)]) - (n + 0.5) * std::log(n) + n - log_sqrt_2pi;
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// x log(x / m) + m - x without cancellation when x is near m.
double deviance_term(double x, double m) {
  if (std::abs(x - m) < 0.1 * (x + m)) {
    double v = (x - m) / (x + m);
    double sum = (x - m) * v;
    double term = 2.0 * x * v;
    v *= v;
    for (int j = 1; j < 1000; ++j) {
      term *= v;
      const double next = sum + term / double(2 * j + 1);
      if (next == sum) break;
      sum = next;
    }
    return sum;
  }
  return x * std::log(x / m) + m - x;
}

double log_poisson_pmf(double k, double mean) {
  if (k == 0.0) return -mean;
  return -stirling_error(k) - deviance_term(k, mean) - 0.5 * std::log(2.0 * std::numbers::pi * k);
}

// p <= 0.5, q = 1 - p.
double log_binomial_pmf(double k, double n, double p, double q) {
  if (k == 0.0) return n * std::log1p(-p);
  if (k == n) return n * std::log(p);
  return stirling_error(n) - stirling_error(k) - stirling_error(n - k) - deviance_term(k, n * p) -
         deviance_term(n - k, n * q) -
         0.5 * (std::log(2.0 * std::numbers::pi) + std::log(k) + std::log1p(-k / n));
}

}  // namespace

namespace detail {
ziggurat_tables::ziggurat_tables() {
  const double f_r = std::exp(-0.5 * r * r);
  const double area = r * f_r + std::sqrt(std::numbers::pi / 2) * std::erfc(r / std::numbers::sqrt2);
  x[0] = area / f_r;
  x[1] = r;
  for (std::size_t i = 2; i < layers; ++i)
    x[i] = std::sqrt(-2.0 * std::log(std::exp(-0.5 * x[i - 1] * x[i - 1]) + area / x[i - 1]));
  x[layers] = 0.0;
  for (std::size_t i = 0; i <= layers; ++i) f[i] = std::exp(-0.5 * x[i] * x[i]);
}
const ziggurat_tables ziggurat;
}  // namespace detail

random_stream::random_stream(std::uint64_t seed, stream_purpose purpose, std::uint32_t index, std::uint64_t id,
                             std::uint64_t start)
    : key_{std::uint32_t(seed), std::uint32_t(seed >> 32)} {
  const auto purpose_bits = std::uint32_t(purpose);
  if (purpose_bits >= 16) throw std::invalid_argument("random_stream: purpose must be below 16");
  if (index >= max_index)
    throw std::invalid_argument("random_stream: index " + std::to_string(index) + " is not below 2^20");
  if (start / 4 >= max_block)
    throw std::invalid_argument("random_stream: start " + std::to_string(start) + " is not below 2^42");
  counter_ = {0, index << 8 | purpose_bits << 28, std::uint32_t(id), std::uint32_t(id >> 32)};
  next_block_ = start / 4;
  if (start % 4 != 0) {
    refill();
    used_ = int(start % 4);
  }
}

void random_stream::refill() {
  if (next_block_ >= max_block) throw std::overflow_error("random_stream: more than 2^42 words drawn");
  std::uint32_t* c0 = buffer_.data();
  std::uint32_t* c1 = c0 + batch;
  std::uint32_t* c2 = c1 + batch;
  std::uint32_t* c3 = c2 + batch;
  for (int k = 0; k < batch; ++k) {
    const std::uint64_t block = next_block_ + std::uint64_t(k);
    c0[k] = std::uint32_t(block);
    c1[k] = counter_[1] | std::uint32_t(block >> 32);
    c2[k] = counter_[2];
    c3[k] = counter_[3];
  }
  philox4x32_10_lanes<batch>(c0, c1, c2, c3, key_);
  // Blocks from max_block on would alias other streams' counters: never handed out.
  const auto drawn = int(std::min<std::uint64_t>(batch, max_block - next_block_));
  next_block_ += std::uint64_t(drawn);
  available_ = 4 * drawn;
  used_ = 0;
}

std::uint64_t random_stream::uniform_int_rejecting(std::uint64_t n, std::uint64_t product) {
  // Lemire's multiply-shift: reject the 2^32 mod n values of x that would make some results more likely.
  const auto threshold = std::uint32_t(((std::uint64_t(1) << 32) - n) % n);
  while (std::uint32_t(product) < threshold) product = std::uint64_t(next_u32()) * n;
  return product >> 32;
}

std::uint64_t random_stream::uniform_int_wide(std::uint64_t n) {
  unsigned __int128 product = (unsigned __int128)next_u64() * n;
  if (std::uint64_t(product) < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (std::uint64_t(product) < threshold) product = (unsigned __int128)next_u64() * n;
  }
  return std::uint64_t(product >> 64);
}

double random_stream::normal_beyond(std::uint64_t bits) {
  const detail::ziggurat_tables& zig = detail::ziggurat;
  for (;;) {
    const std::size_t layer = bits & 0xff;
    const double x = double(bits >> 11) * 0x1p-53 * zig.x[layer];
    if (x < zig.x[layer + 1]) return with_sign(x, bits);
    if (layer == 0) {
      // Tail beyond r (Marsaglia 1964): exact, accepts ~97%.
      for (;;) {
        const double excess = -std::log(uniform()) / detail::ziggurat_tables::r;
        const double height = -std::log(uniform());
        if (height + height >= excess * excess) return with_sign(detail::ziggurat_tables::r + excess, bits);
      }
    }
    const double y = zig.f[layer] + uniform() * (zig.f[layer + 1] - zig.f[layer]);
    if (y < std::exp(-0.5 * x * x)) return with_sign(x, bits);
    bits = next_u64();
  }
}

std::uint64_t random_stream::poisson(double mean) {
  if (!(mean >= 0.0) || !(mean < 0x1p62))
    throw std::invalid_argument("poisson: mean must be finite, >= 0 and below 2^62");
  if (mean == 0.0) return 0;
  if (mean < 10.0) {
    // Inversion by sequential search, one uniform per draw. P(X > 100) < 1e-50 at mean 10: the cap
    // only catches a running sum that rounding left just short of u.
    const double p0 = std::exp(-mean);
    for (;;) {
      double u = uniform();
      double pk = p0;
      for (std::uint64_t k = 0; k <= 100; ++k) {
        if (u <= pk) return k;
        u -= pk;
        pk *= mean / double(k + 1);
      }
    }
  }
  // PTRS: transformed rejection with squeeze (Hoermann 1993), ~1.15 pairs of uniforms per draw.
  const double sqrt_mean = std::sqrt(mean);
  const double b = 0.931 + 2.53 * sqrt_mean;
  const double a = -0.059 + 0.02483 * b;
  const double log_inverse_alpha = std::log(1.1239 + 1.1328 / (b - 3.4));
  const double v_r = 0.9277 - 3.6224 / (b - 2.0);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2.0 * a / us + b) * u + mean + 0.43);
    if (k < 0.0) continue;
    if (us >= 0.07 && v <= v_r) return std::uint64_t(k);
    if (us < 0.013 && v > us) continue;
    if (std::log(v) + log_inverse_alpha - std::log(a / (us * us) + b) <= log_poisson_pmf(k, mean))
      return std::uint64_t(k);
  }
}

std::uint64_t random_stream::binomial(std::uint64_t n, double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw std::invalid_argument("binomial: p must be in [0, 1]");
  if (n >= std::uint64_t(1) << 53) throw std::invalid_argument("binomial: n must be below 2^53");
  if (n == 0 || p == 0.0) return 0;
  if (p == 1.0) return n;
  if (p > 0.5) return n - binomial(n, 1.0 - p);  // 1 - p is exact for p >= 0.5
  const double q = 1.0 - p;
  const double n_real = double(n);
  if (n_real * p < 10.0) {
    // Inversion by sequential search from 0; P(0) = q^n >= e^-14 here. Mass beyond 200 is below
    // 1e-150: the cap only catches a running sum that rounding left just short of u.
    const double p0 = std::exp(n_real * std::log1p(-p));
    const double odds = p / q;
    const std::uint64_t last = std::min<std::uint64_t>(n, 200);
    for (;;) {
      double u = uniform();
      double pk = p0;
      for (std::uint64_t k = 0;; ++k) {
        if (u <= pk) return k;
        if (k == last) break;
        u -= pk;
        pk *= double(n - k) / double(k + 1) * odds;
      }
    }
  }
  // BTRS: transformed rejection with squeeze (Hoermann 1993, "The generation of binomial random
  // variates"), exact for n p >= 10; the acceptance test compares log f(k) - log f(mode).
  const double spq = std::sqrt(n_real * p * q);
  const double b = 1.15 + 2.53 * spq;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = n_real * p + 0.5;
  const double alpha = (2.83 + 5.1 / b) * spq;
  const double v_r = 0.92 - 4.2 / b;
  double log_pmf_mode = 0.0;
  bool have_log_pmf_mode = false;  // computed on the first full test: the squeeze usually accepts
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2.0 * a / us + b) * u + c);
    if (k < 0.0 || k > n_real) continue;
    if (us >= 0.07 && v <= v_r) return std::uint64_t(k);
    if (!have_log_pmf_mode) {
      log_pmf_mode = log_binomial_pmf(std::floor((n_real + 1.0) * p), n_real, p, q);
      have_log_pmf_mode = true;
    }
    if (std::log(v * alpha / (a / (us * us) + b)) <= log_binomial_pmf(k, n_real, p, q) - log_pmf_mode)
      return std::uint64_t(k);
  }
}

void random_stream::no_value_within_bounds(const distribution& d) {
  throw std::runtime_error("distribution '" + d.text + "' gave no value within [" + std::to_string(d.min) + ", " +
                           std::to_string(d.max) + "] in " + std::to_string(max_redraws) + " redraws");
}

void multinomial_equal(random_stream& stream, std::uint64_t total, std::uint64_t n_categories,
                       std::uint64_t* counts) {
  if (n_categories == 0) {
    if (total != 0) throw std::invalid_argument("multinomial_equal: items but no categories");
    return;
  }
  // Category i takes Binomial(remaining, 1 / (categories left)): the conditional law of a
  // multinomial's first coordinate given the ones before.
  std::uint64_t remaining = total;
  for (std::uint64_t i = 0; i + 1 < n_categories; ++i) {
    const std::uint64_t count = remaining == 0 ? 0 : stream.binomial(remaining, 1.0 / double(n_categories - i));
    counts[i] = count;
    remaining -= count;
  }
  counts[n_categories - 1] = remaining;
}

void poisson_table::sample(const std::uint32_t* u, std::uint32_t* count, std::size_t n) const {
  // Beyond ~32 entries the compares cost more than the guided search.
  constexpr std::size_t max_compared = 32;
  if (cdf_.size() > max_compared) {
    for (std::size_t i = 0; i < n; ++i) count[i] = sample(u[i]);
    return;
  }
  // Vectors as wide as the build's registers, and signed compares of values with the sign bit
  // flipped (the same order as unsigned ones): SSE2 and AVX2 have no unsigned compare, and GCC
  // scalarizes an unsigned compare of a vector wider than the registers (5.7 ns against 0.14 per
  // draw on AVX2, tools/microbench random_bench).
#if defined(__AVX512F__)
  constexpr std::size_t width = 16;
#elif defined(__AVX2__)
  constexpr std::size_t width = 8;
#else
  constexpr std::size_t width = 4;
#endif
  static_assert(sample_lanes % width == 0);
  using i32xw = std::int32_t __attribute__((vector_size(4 * width)));
  constexpr std::uint32_t sign = 0x80000000u;
  const std::size_t thresholds = cdf_.size() - 1;  // u > the last entry, 2^32 - 1, never holds
  for (std::size_t i = 0; i < n; i += sample_lanes) {
    i32xw x[sample_lanes / width], c[sample_lanes / width];
    for (std::size_t v = 0; v < sample_lanes / width; ++v) {
      std::memcpy(&x[v], u + i + v * width, sizeof x[v]);
      x[v] ^= std::int32_t(sign);
      c[v] = i32xw{};
    }
    for (std::size_t j = 0; j < thresholds; ++j) {
      const auto t = std::int32_t(cdf_[j] ^ sign);
      for (std::size_t v = 0; v < sample_lanes / width; ++v) c[v] -= x[v] > t;  // true is all ones: -1
    }
    for (std::size_t v = 0; v < sample_lanes / width; ++v) {
      c[v] += std::int32_t(first_);
      std::memcpy(count + i + v * width, &c[v], sizeof c[v]);
    }
  }
}

poisson_table::poisson_table(double mean) : mean_(mean) {
  if (!(mean >= 0.0 && mean <= 1e6))
    throw std::invalid_argument("poisson_table: mean " + std::to_string(mean) + " is not in [0, 1e6]");
  // cdf_[j] + 1 = round(F(first_ + j) * 2^32) makes the sampled CDF within 2^-33 of F. Summing in
  // long double from mean - 12 sd (lower mass < e^-72) keeps the sum's error far below that.
  const double sd = std::sqrt(mean);
  const double full = 0x1p32;
  const double last_count = mean + 40.0 * sd + 100.0;  // upper mass there < e^-400
  long double cdf = 0.0L;
  for (double k = std::max(0.0, std::floor(mean - 12.0 * sd));; k += 1.0) {
    cdf += std::exp(log_poisson_pmf(k, mean));
    const double scaled = std::round(double(cdf * 0x1p32L));
    if (scaled < 1.0) continue;
    if (cdf_.empty()) first_ = std::uint32_t(k);
    if (scaled >= full || k >= last_count) {
      cdf_.push_back(0xFFFFFFFFu);
      break;
    }
    cdf_.push_back(std::uint32_t(scaled - 1.0));
  }
  // About 64 guide buckets per entry (at most 2^12 buckets, 16 KB, but never fewer than 4 per
  // entry): a class boundary then falls inside the bucket of a draw with probability ~1/64 (1/4
  // with 4 per entry), and the search's loop is a branch that is predicted right. Mean 1.6:
  // 1024 buckets, 4 KB.
  int guide_bits = 0;
  while ((std::size_t(1) << guide_bits) < 64 * cdf_.size() && guide_bits < 12) ++guide_bits;
  while ((std::size_t(1) << guide_bits) < 4 * cdf_.size()) ++guide_bits;
  guide_shift_ = 32 - guide_bits;
  guide_.resize(std::size_t(1) << guide_bits);
  std::uint32_t entry = 0;
  for (std::size_t g = 0; g < guide_.size(); ++g) {
    const std::uint64_t lowest_u = std::uint64_t(g) << guide_shift_;
    while (cdf_[entry] < lowest_u) ++entry;
    guide_[g] = entry;
  }
}

}  // namespace myelin
