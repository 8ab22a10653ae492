// Philox known answers, the stream's counter layout and resumption, and statistical checks of
// every distribution with fixed seeds (tolerances ~5 sigma, so a pass is not luck and a fail is
// not noise). The poisson_table check is exact: it finds every class boundary by bisection.
#include "myelin/core/random.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace myelin {
namespace {

using words = std::array<std::uint32_t, 4>;

struct moments {
  double mean = 0, variance = 0, skewness = 0, excess_kurtosis = 0;
};

moments moments_of(const std::vector<double>& values) {
  const double n = double(values.size());
  double sum = 0;
  for (double v : values) sum += v;
  moments m;
  m.mean = sum / n;
  double m2 = 0, m3 = 0, m4 = 0;
  for (double v : values) {
    const double d = v - m.mean, d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  m.variance = m2;
  m.skewness = m3 / std::pow(m2, 1.5);
  m.excess_kurtosis = m4 / (m2 * m2) - 3.0;
  return m;
}

// Chi-square quantile 5 sigma above the mean (Wilson-Hilferty), for `dof` degrees of freedom.
double chi_square_limit(double dof) {
  const double t = 2.0 / (9.0 * dof);
  return dof * std::pow(1.0 - t + 5.0 * std::sqrt(t), 3.0);
}

// Pearson's statistic of observed counts against probabilities; cells expecting fewer than 5
// are pooled with their neighbours. Returns {statistic, degrees of freedom}.
std::pair<double, double> chi_square(const std::vector<double>& observed, const std::vector<double>& probability,
                                     double samples) {
  double statistic = 0, pooled_observed = 0, pooled_expected = 0;
  int cells = 0;
  for (std::size_t i = 0; i < observed.size(); ++i) {
    pooled_observed += observed[i];
    pooled_expected += probability[i] * samples;
    if (pooled_expected >= 5.0) {
      const double d = pooled_observed - pooled_expected;
      statistic += d * d / pooled_expected;
      ++cells;
      pooled_observed = pooled_expected = 0;
    }
  }
  if (pooled_expected > 0) {  // leftover tail: its own cell (tiny expectation, tiny statistic)
    const double d = pooled_observed - pooled_expected;
    statistic += d * d / std::max(pooled_expected, 1.0);
    ++cells;
  }
  return {statistic, double(cells - 1)};
}

#define EXPECT_WITHIN_SIGMA(value, expected, sigma) \
  EXPECT_NEAR(value, expected, 5.0 * (sigma)) << "(5 sigma = " << 5.0 * (sigma) << ")"

// The statistic of chi_square() against its 5 sigma limit.
::testing::AssertionResult chi_square_passes(std::pair<double, double> result) {
  const auto [statistic, dof] = result;
  if (statistic < chi_square_limit(dof)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "chi-square " << statistic << " with " << dof << " dof (limit "
                                       << chi_square_limit(dof) << ")";
}

double poisson_pmf(std::uint64_t k, double mean) {
  return std::exp(double(k) * std::log(mean) - mean - std::lgamma(double(k) + 1.0));
}

double binomial_pmf(std::uint64_t k, std::uint64_t n, double p) {
  const double kd = double(k), nd = double(n);
  return std::exp(std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * std::log(p) +
                  (nd - kd) * std::log1p(-p));
}

// --- Philox and the stream layout

TEST(Philox, MatchesRandom123KnownAnswers) {
  // Random123's kat_vectors for philox4x32 10: counter, key, result.
  EXPECT_EQ(philox4x32_10({0, 0, 0, 0}, {0, 0}), (words{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32_10({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (words{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32_10({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (words{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(RandomStream, FollowsTheDocumentedCounterLayout) {
  // Pins the mapping: changing it would silently change every network built from a seed.
  const std::uint64_t seed = 0x0123456789abcdefULL, id = 0xfedcba9876543210ULL, block = 0x123456789aULL;
  const std::uint32_t index = 0x54321;
  random_stream stream(seed, stream_purpose::weights_delays, index, id, 4 * block);
  const words expected = philox4x32_10(
      {0x3456789a, 0x12u | index << 8 | 2u << 28, 0x76543210, 0xfedcba98}, {0x89abcdef, 0x01234567});
  for (std::uint32_t word : expected) EXPECT_EQ(stream.next_u32(), word);
  const words next = philox4x32_10({0x3456789b, 0x12u | index << 8 | 2u << 28, 0x76543210, 0xfedcba98},
                                   {0x89abcdef, 0x01234567});
  EXPECT_EQ(stream.next_u32(), next[0]);

  // Blocks are drawn in batches: every word, across batch boundaries and across the 2^32-block
  // carry into counter[1], is still the documented block's, and position() counts words.
  const std::uint64_t near_carry = (std::uint64_t(1) << 32) - 37;
  random_stream long_stream(seed, stream_purpose::weights_delays, index, id, 4 * near_carry + 1);
  for (std::uint64_t b = near_carry; b < near_carry + 300; ++b) {
    const words block_words = philox4x32_10({std::uint32_t(b), std::uint32_t(b >> 32) | index << 8 | 2u << 28,
                                             0x76543210, 0xfedcba98}, {0x89abcdef, 0x01234567});
    for (std::uint64_t w = b == near_carry ? 1 : 0; w < 4; ++w) {
      ASSERT_EQ(long_stream.position(), 4 * b + w);
      ASSERT_EQ(long_stream.next_u32(), block_words[w]) << "block " << b << " word " << w;
    }
  }
}

TEST(RandomStream, SameKeyGivesSameSequenceAndAnyKeyChangeDiffers) {
  random_stream a(42, stream_purpose::connectivity, 3, 1000), b(42, stream_purpose::connectivity, 3, 1000);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next_u32(), b.next_u32());

  auto first_block = [](random_stream s) {
    words w;
    for (auto& x : w) x = s.next_u32();
    return w;
  };
  const words reference = first_block(random_stream(42, stream_purpose::connectivity, 3, 1000));
  EXPECT_NE(first_block(random_stream(43, stream_purpose::connectivity, 3, 1000)), reference);
  EXPECT_NE(first_block(random_stream(42, stream_purpose::weights_delays, 3, 1000)), reference);
  EXPECT_NE(first_block(random_stream(42, stream_purpose::connectivity, 4, 1000)), reference);
  EXPECT_NE(first_block(random_stream(42, stream_purpose::connectivity, 3, 1001)), reference);
  EXPECT_NE(first_block(random_stream(42, stream_purpose::connectivity, 3, 1000 + (1ULL << 32))), reference);
  EXPECT_NE(first_block(random_stream(42, stream_purpose::connectivity, 3, 1000, 4)), reference);
}

TEST(RandomStream, ResumesExactlyFromPosition) {
  // Any start, aligned to a block or not, continues the same word sequence.
  random_stream whole(7, stream_purpose::initial_state, 1, 99);
  std::vector<std::uint32_t> sequence(40);
  for (auto& w : sequence) w = whole.next_u32();
  for (std::uint64_t start = 0; start < 12; ++start) {
    random_stream part(7, stream_purpose::initial_state, 1, 99, start);
    EXPECT_EQ(part.position(), start);
    for (std::uint64_t i = start; i < sequence.size(); ++i) ASSERT_EQ(part.next_u32(), sequence[i]) << start;
  }

  // After mixed draws, a new stream at position() gives the same continuation.
  random_stream original(7, stream_purpose::poisson_input, 2, 5);
  original.normal();
  original.poisson(3.2);
  original.next_u32();
  original.binomial(1000, 0.4);
  original.uniform_int(17);
  const std::uint64_t position = original.position();
  random_stream resumed(7, stream_purpose::poisson_input, 2, 5, position);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(original.normal(), resumed.normal());
    ASSERT_EQ(original.poisson(40.0), resumed.poisson(40.0));
    ASSERT_EQ(original.next_u32(), resumed.next_u32());
  }
  EXPECT_EQ(original.position(), resumed.position());
}

TEST(RandomStream, RejectsOutOfRangeKeysAndPositions) {
  EXPECT_THROW(random_stream(1, stream_purpose::connectivity, 1u << 20, 0), std::invalid_argument);
  EXPECT_NO_THROW(random_stream(1, stream_purpose::connectivity, (1u << 20) - 1, 0));
  EXPECT_THROW(random_stream(1, stream_purpose::connectivity, 0, 0, 1ULL << 42), std::invalid_argument);
  random_stream last(1, stream_purpose::connectivity, 0, 0, (1ULL << 42) - 1);
  EXPECT_NO_THROW(last.next_u32());
  EXPECT_THROW(last.next_u32(), std::overflow_error);
}

// --- Uniform draws

TEST(RandomStream, UniformIsOpenAndUniform) {
  random_stream stream(1, stream_purpose::initial_state, 0, 0);
  constexpr int samples = 1'000'000, bins = 100;
  std::vector<double> values(samples), counts(bins, 0.0);
  for (auto& v : values) {
    v = stream.uniform();
    counts[std::size_t(v * bins)] += 1;
  }
  EXPECT_GT(*std::min_element(values.begin(), values.end()), 0.0);
  EXPECT_LT(*std::max_element(values.begin(), values.end()), 1.0);
  const moments m = moments_of(values);
  EXPECT_WITHIN_SIGMA(m.mean, 0.5, std::sqrt(1.0 / 12 / samples));
  EXPECT_WITHIN_SIGMA(m.variance, 1.0 / 12, std::sqrt(1.0 / 180 / samples));
  EXPECT_TRUE(chi_square_passes(chi_square(counts, std::vector<double>(bins, 1.0 / bins), samples)));

  double closed_sum = 0, closed_min = 1, closed_max = 0;
  for (int i = 0; i < 100'000; ++i) {
    const double v = stream.uniform_open_closed();
    closed_min = std::min(closed_min, v);
    closed_max = std::max(closed_max, v);
    closed_sum += v;
  }
  EXPECT_GT(closed_min, 0.0);
  EXPECT_LE(closed_max, 1.0);
  EXPECT_WITHIN_SIGMA(closed_sum / 100'000, 0.5, std::sqrt(1.0 / 12 / 100'000));
}

TEST(RandomStream, UniformIntIsUnbiased) {
  random_stream stream(2, stream_purpose::connectivity, 0, 0);
  {
    constexpr int samples = 300'000;
    std::vector<double> counts(3, 0.0);
    for (int i = 0; i < samples; ++i) counts[stream.uniform_int(3)] += 1;
    EXPECT_TRUE(chi_square_passes(chi_square(counts, {1.0 / 3, 1.0 / 3, 1.0 / 3}, samples)));
  }
  {
    // Rejects almost half of the 32-bit words: checks the rejection loop keeps the law uniform.
    constexpr std::uint64_t n = (1ULL << 31) + 1;
    constexpr int samples = 200'000, bins = 64;
    std::vector<double> counts(bins, 0.0);
    double odd = 0;
    for (int i = 0; i < samples; ++i) {
      const std::uint64_t v = stream.uniform_int(n);
      ASSERT_LT(v, n);
      counts[std::size_t(v * bins / n)] += 1;
      odd += double(v & 1);
    }
    std::vector<double> probability(bins);
    for (std::uint64_t b = 0; b < bins; ++b)  // exact bin widths: bin b holds v with v * 64 / n == b
      probability[b] = double(((b + 1) * n + bins - 1) / bins - (b * n + bins - 1) / bins) / double(n);
    EXPECT_TRUE(chi_square_passes(chi_square(counts, probability, samples)));
    EXPECT_WITHIN_SIGMA(odd / samples, double(n / 2) / double(n), 0.5 / std::sqrt(samples));
  }
  // n = 3/4 of 2^32 (2^64): multiply-shift without rejection maps 2, 1, 1 words to the results
  // 3j, 3j + 1, 3j + 2, so the residue mod 3 shows any missing rejection (1/2 instead of 1/3).
  for (std::uint64_t n : {3ULL << 30, 3ULL << 62}) {
    constexpr int samples = 200'000;
    double multiple_of_3 = 0;
    for (int i = 0; i < samples; ++i) {
      const std::uint64_t v = stream.uniform_int(n);
      ASSERT_LT(v, n);
      multiple_of_3 += double(v % 3 == 0);
    }
    EXPECT_WITHIN_SIGMA(multiple_of_3 / samples, 1.0 / 3, std::sqrt(2.0 / 9 / samples)) << n;
  }
  EXPECT_EQ(stream.uniform_int(1), 0u);
  EXPECT_EQ(stream.uniform_int(0), 0u);
}

// --- Normal

TEST(RandomStream, NormalHasStandardMomentsAndTails) {
  random_stream stream(3, stream_purpose::weights_delays, 0, 0);
  constexpr int samples = 1'000'000;
  constexpr double zig_r = 3.6541528853610088;  // where the ziggurat's tail code takes over
  std::vector<double> values(samples);
  double beyond_3 = 0, beyond_r = 0;
  constexpr int bins = 40;  // width 0.2 over [-4, 4], plus the two tails
  std::vector<double> counts(bins + 2, 0.0);
  for (auto& v : values) {
    v = stream.normal();
    beyond_3 += double(std::abs(v) > 3.0);
    beyond_r += double(std::abs(v) > zig_r);
    counts[v < -4.0 ? 0 : v >= 4.0 ? bins + 1 : 1 + std::size_t((v + 4.0) / 0.2)] += 1;
  }
  const moments m = moments_of(values);
  EXPECT_WITHIN_SIGMA(m.mean, 0.0, std::sqrt(1.0 / samples));
  EXPECT_WITHIN_SIGMA(m.variance, 1.0, std::sqrt(2.0 / samples));
  EXPECT_WITHIN_SIGMA(m.skewness, 0.0, std::sqrt(6.0 / samples));
  EXPECT_WITHIN_SIGMA(m.excess_kurtosis, 0.0, std::sqrt(24.0 / samples));
  for (auto [fraction, z] : {std::pair{beyond_3 / samples, 3.0}, std::pair{beyond_r / samples, zig_r}}) {
    const double p = std::erfc(z / std::numbers::sqrt2);
    EXPECT_WITHIN_SIGMA(fraction, p, std::sqrt(p * (1 - p) / samples)) << "beyond " << z;
  }
  auto normal_cdf = [](double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); };
  std::vector<double> probability(bins + 2);
  probability[0] = normal_cdf(-4.0);
  probability[bins + 1] = normal_cdf(-4.0);
  for (int b = 0; b < bins; ++b) probability[std::size_t(b + 1)] = normal_cdf(-4.0 + 0.2 * (b + 1)) - normal_cdf(-4.0 + 0.2 * b);
  EXPECT_TRUE(chi_square_passes(chi_square(counts, probability, samples)));
}

TEST(RandomStream, NormalTailBeyondZigguratEdgeIsExact) {
  // Draws beyond r come from the ziggurat's separate tail sampler: their excess over r must follow
  // the normal tail, mean lambda - r and variance 1 + r lambda - lambda^2, lambda = phi(r) / Q(r).
  random_stream stream(3, stream_purpose::weights_delays, 1, 0);
  constexpr double r = 3.6541528853610088;
  const double phi = std::exp(-0.5 * r * r) / std::sqrt(2 * std::numbers::pi);
  const double lambda = phi / (0.5 * std::erfc(r / std::numbers::sqrt2));
  double tail_samples = 0, excess_sum = 0;
  for (int i = 0; i < 4'000'000; ++i) {
    const double z = std::abs(stream.normal());
    if (z > r) {
      tail_samples += 1;
      excess_sum += z - r;
    }
  }
  ASSERT_GT(tail_samples, 500);
  EXPECT_WITHIN_SIGMA(excess_sum / tail_samples, lambda - r, std::sqrt((1 + r * lambda - lambda * lambda) / tail_samples));
}

// --- Poisson

TEST(RandomStream, PoissonMeanAndVarianceAcrossMeans) {
  random_stream stream(4, stream_purpose::poisson_input, 0, 0);
  for (double mean : {0.01, 0.5, 3.0, 12.0, 50.0, 1000.0, 1e12}) {
    const std::size_t samples = mean > 1e6 ? 20'000 : 200'000;
    std::vector<double> values(samples);
    for (auto& v : values) v = double(stream.poisson(mean));
    const moments m = moments_of(values);
    EXPECT_WITHIN_SIGMA(m.mean, mean, std::sqrt(mean / samples)) << "mean " << mean;
    EXPECT_WITHIN_SIGMA(m.variance, mean, std::sqrt((mean + 2 * mean * mean) / samples)) << "mean " << mean;
  }
  EXPECT_EQ(stream.poisson(0.0), 0u);
  EXPECT_THROW(stream.poisson(-1.0), std::invalid_argument);
  EXPECT_THROW(stream.poisson(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(stream.poisson(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST(RandomStream, PoissonMatchesExactPmf) {
  // 3: inversion; 12 and 50: PTRS, whose rejection step is where an error would hide.
  random_stream stream(5, stream_purpose::poisson_input, 1, 0);
  for (double mean : {3.0, 12.0, 50.0}) {
    const int samples = mean < 10 ? 200'000 : 1'000'000;  // more where the rejection test acts
    const std::size_t top = std::size_t(mean + 12 * std::sqrt(mean) + 10);
    std::vector<double> counts(top + 1, 0.0), probability(top + 1, 0.0);
    for (int i = 0; i < samples; ++i) counts[std::min<std::size_t>(stream.poisson(mean), top)] += 1;
    double below = 0;
    for (std::size_t k = 0; k < top; ++k) below += probability[k] = poisson_pmf(k, mean);
    probability[top] = 1.0 - below;
    EXPECT_TRUE(chi_square_passes(chi_square(counts, probability, samples))) << "mean " << mean;
  }
}

// --- Binomial

TEST(RandomStream, BinomialMeanAndVarianceAcrossRegimes) {
  random_stream stream(6, stream_purpose::connectivity, 5, 0);
  struct regime {
    std::uint64_t n;
    double p;
  };
  const regime regimes[] = {
      {20, 0.1},                      // inversion
      {1000, 0.003},                  // inversion
      {1'000'000'000'000ULL, 3e-12},  // inversion with huge n
      {100, 0.3},                     // BTRS
      {1'000'000, 0.5},               // BTRS
      {1'000'000'000'000ULL, 0.37},   // BTRS with huge n
      {50, 0.99},                     // p near 1: n - inversion
      {1'000'000, 0.999},             // p near 1: n - BTRS
      {7, 1.0 - 1e-9},
  };
  for (const regime& r : regimes) {
    constexpr int samples = 100'000;
    std::vector<double> values(samples);
    std::uint64_t largest = 0;
    for (auto& v : values) {
      const std::uint64_t k = stream.binomial(r.n, r.p);
      largest = std::max(largest, k);
      v = double(k);
    }
    EXPECT_LE(largest, r.n);
    const double n = double(r.n), q = 1.0 - r.p, variance = n * r.p * q;
    const double fourth = variance * (1.0 + 3.0 * r.p * q * (n - 2.0));  // 4th central moment
    const moments m = moments_of(values);
    EXPECT_WITHIN_SIGMA(m.mean, n * r.p, std::sqrt(variance / samples)) << r.n << " " << r.p;
    EXPECT_WITHIN_SIGMA(m.variance, variance, std::sqrt((fourth - variance * variance) / samples))
        << r.n << " " << r.p;
  }
  EXPECT_EQ(stream.binomial(0, 0.5), 0u);
  EXPECT_EQ(stream.binomial(1000, 0.0), 0u);
  EXPECT_EQ(stream.binomial(1000, 1.0), 1000u);
  EXPECT_THROW(stream.binomial(10, 1.5), std::invalid_argument);
  EXPECT_THROW(stream.binomial(10, -0.1), std::invalid_argument);
  EXPECT_THROW(stream.binomial(10, std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
}

TEST(RandomStream, BinomialMatchesExactPmf) {
  random_stream stream(7, stream_purpose::connectivity, 6, 0);
  struct regime {
    std::uint64_t n;
    double p;
  };
  // Inversion, BTRS, and both through n - Binomial(n, 1 - p).
  for (regime r : {regime{20, 0.1}, regime{100, 0.3}, regime{40, 0.8}, regime{2000, 0.6}}) {
    const int samples = double(r.n) * std::min(r.p, 1 - r.p) < 10 ? 200'000 : 1'000'000;
    std::vector<double> counts(r.n + 1, 0.0), probability(r.n + 1);
    for (int i = 0; i < samples; ++i) counts[stream.binomial(r.n, r.p)] += 1;
    for (std::uint64_t k = 0; k <= r.n; ++k) probability[k] = binomial_pmf(k, r.n, r.p);
    EXPECT_TRUE(chi_square_passes(chi_square(counts, probability, samples))) << r.n << " " << r.p;
  }
}

// --- Multinomial

TEST(Multinomial, SplitsExactlyWithEqualMarginals) {
  constexpr std::uint64_t total = 1'000'000, categories = 7;
  constexpr int repetitions = 2000;
  std::vector<double> sums(categories, 0.0);
  for (int rep = 0; rep < repetitions; ++rep) {
    random_stream stream(8, stream_purpose::shared_split, 0, std::uint64_t(rep));
    std::uint64_t counts[categories];
    multinomial_equal(stream, total, categories, counts);
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < categories; ++i) {
      sum += counts[i];
      sums[i] += double(counts[i]);
    }
    ASSERT_EQ(sum, total);
  }
  const double p = 1.0 / categories, sd = std::sqrt(total * p * (1 - p) / repetitions);
  for (double s : sums) EXPECT_WITHIN_SIGMA(s / repetitions, total * p, sd);

  // Same stream, same split; small totals and edge cases.
  std::vector<std::uint64_t> a(1000), b(1000);
  random_stream sa(9, stream_purpose::shared_split, 1, 0), sb(9, stream_purpose::shared_split, 1, 0);
  multinomial_equal(sa, 5000, 1000, a.data());
  multinomial_equal(sb, 5000, 1000, b.data());
  EXPECT_EQ(a, b);
  multinomial_equal(sa, 3, 1000, a.data());
  std::uint64_t sum = 0;
  for (auto c : a) sum += c;
  EXPECT_EQ(sum, 3u);
  std::uint64_t one = 0;
  multinomial_equal(sa, 12345, 1, &one);
  EXPECT_EQ(one, 12345u);
  EXPECT_NO_THROW(multinomial_equal(sa, 0, 0, nullptr));
  EXPECT_THROW(multinomial_equal(sa, 1, 0, nullptr), std::invalid_argument);
}

// --- poisson_table

TEST(PoissonTable, CdfIsExactTo2PowMinus32) {
  // sample() is non-decreasing in u, so the number of u with sample(u) <= k is the first u where
  // it exceeds k: found by bisection, compared with the exact CDF (long double recursion).
  constexpr double two_32 = 0x1p32;
  for (double mean : {0.0, 0.01, 0.5, 1.6, 3.0, 12.0, 30.0, 100.0, 1000.0}) {
    const poisson_table table(mean);
    EXPECT_EQ(table.mean(), mean);
    auto count_at_most = [&](std::uint64_t k) {  // #u in [0, 2^32) with sample(u) <= k
      std::uint64_t low = 0, high = std::uint64_t(1) << 32;
      while (low < high) {
        const std::uint64_t mid = (low + high) / 2;
        if (table.sample(std::uint32_t(mid)) > k) high = mid;
        else low = mid + 1;
      }
      return low;
    };
    long double pk = std::exp(-(long double)mean), cdf = 0;
    double worst = 0;
    for (std::uint64_t k = 0;; ++k) {
      cdf += pk;
      pk *= mean / (long double)(k + 1);
      const double error = std::abs(double(count_at_most(k)) / two_32 - double(cdf));
      worst = std::max(worst, error);
      if (cdf >= 1.0L - 0x1p-40L && count_at_most(k) == std::uint64_t(1) << 32) break;
      ASSERT_LT(k, 2000u);
    }
    EXPECT_LE(worst * two_32, 1.0) << "mean " << mean;
    EXPECT_EQ(table.sample(0xffffffffu), table.sample(0xffffffffu));  // in range, no overrun
  }
}

// The batch form (vector compares for small tables, the guided search for large ones) gives what
// sample() gives, draw for draw, at the class boundaries and at random; max_count() is the top.
TEST(PoissonTable, BatchSampleMatchesSampleAndMaxCount) {
  random_stream stream(3, stream_purpose::poisson_input, 0, 0);
  for (double mean : {0.0, 0.01, 0.24, 2.4, 30.0, 1000.0}) {
    const poisson_table table(mean);
    std::vector<std::uint32_t> u(4096);
    for (auto& x : u) x = stream.next_u32();
    u[0] = 0;
    u[1] = 0xffffffffu;
    // Both sides of every class boundary: the smallest u giving each count, by bisection.
    std::size_t next = 2;
    for (std::uint32_t k = table.sample(0); k < table.max_count() && next + 2 <= u.size(); ++k) {
      std::uint64_t low = 0, high = std::uint64_t(1) << 32;
      while (low < high) {
        const std::uint64_t mid = (low + high) / 2;
        if (table.sample(std::uint32_t(mid)) > k) high = mid;
        else low = mid + 1;
      }
      u[next++] = std::uint32_t(low - 1);
      u[next++] = std::uint32_t(low);
    }
    std::vector<std::uint32_t> counts(u.size());
    table.sample(u.data(), counts.data(), u.size());
    for (std::size_t i = 0; i < u.size(); ++i) ASSERT_EQ(counts[i], table.sample(u[i])) << "mean " << mean << ", u " << u[i];
    EXPECT_EQ(table.sample(0xffffffffu), table.max_count()) << "mean " << mean;
  }
}

TEST(PoissonTable, RejectsBadMeans) {
  EXPECT_THROW(poisson_table(-0.5), std::invalid_argument);
  EXPECT_THROW((void)poisson_table(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(poisson_table(2e6), std::invalid_argument);
}

// --- draw()

TEST(RandomStream, DrawRespectsBoundsAndFailsOnImpossibleOnes) {
  random_stream stream(10, stream_purpose::weights_delays, 1, 0);
  distribution normal;
  normal.type = distribution::kind::normal;
  normal.a = 1.0;
  normal.b = 2.0;
  normal.min = 0.0;
  normal.max = 4.0;
  normal.text = "normal(1, 2)";
  double sum = 0;
  constexpr int samples = 100'000;
  for (int i = 0; i < samples; ++i) {
    const double v = stream.draw(normal);
    ASSERT_GE(v, 0.0);
    ASSERT_LE(v, 4.0);
    sum += v;
  }
  // Mean of N(1, 2) truncated to [0, 4]: 1 + 2 (phi(-1/2) - phi(3/2)) / (Phi(3/2) - Phi(-1/2)).
  auto phi = [](double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); };
  auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); };
  const double truncated_mean = 1.0 + 2.0 * (phi(-0.5) - phi(1.5)) / (Phi(1.5) - Phi(-0.5));
  EXPECT_WITHIN_SIGMA(sum / samples, truncated_mean, 2.0 / std::sqrt(samples));

  distribution lognormal;
  lognormal.type = distribution::kind::lognormal;
  lognormal.a = 0.5;
  lognormal.b = 0.25;
  lognormal.max = 2.0;
  double log_sum = 0;
  for (int i = 0; i < 10'000; ++i) {
    const double v = stream.draw(lognormal);
    ASSERT_GT(v, 0.0);
    ASSERT_LE(v, 2.0);
    log_sum += std::log(v);
  }
  EXPECT_LT(log_sum / 10'000, 0.5);  // the cut removes the upper tail of log(v) ~ N(0.5, 0.25)

  distribution uniform;
  uniform.type = distribution::kind::uniform;
  uniform.a = -1.0;
  uniform.b = 3.0;
  uniform.min = 0.5;
  for (int i = 0; i < 10'000; ++i) {
    const double v = stream.draw(uniform);
    ASSERT_GE(v, 0.5);
    ASSERT_LT(v, 3.0);
  }

  distribution constant = distribution::constant_value(2.5);
  EXPECT_EQ(stream.draw(constant), 2.5);
  constant.max = 1.0;
  constant.text = "the constant 2.5";
  EXPECT_THROW(stream.draw(constant), std::runtime_error);

  normal.min = 100.0;
  normal.max = 200.0;
  try {
    stream.draw(normal);
    FAIL() << "impossible bounds must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("normal(1, 2)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace myelin
