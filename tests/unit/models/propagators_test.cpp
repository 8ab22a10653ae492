// The exact-integration propagators against their closed forms (long double), including the
// tau_syn == tau_m limit and its neighbourhood, and NEST's conversion of t_ref to steps.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "unit/models/model_test_support.hpp"
#include "models/propagators.hpp"

namespace myelin::test {
namespace {

// Voltage after h of a current starting at 1 pA, decaying with tau_s, on a membrane at 0.
long double exp_current_voltage(long double tau_s, long double tau_m, long double C, long double h) {
  return tau_s * tau_m / (C * (tau_m - tau_s)) * (std::exp(-h / tau_m) - std::exp(-h / tau_s));
}

// Same for the alpha state: current I(t) = (I0 + dI0 t) exp(-t/tau_s); returns {from_dI, from_I}.
std::pair<long double, long double> alpha_current_voltage(long double tau_s, long double tau_m, long double C,
                                                          long double h) {
  const long double k = 1 / tau_s - 1 / tau_m;
  const long double from_dI = std::exp(-h / tau_m) * (1 - std::exp(-k * h) * (1 + k * h)) / (k * k * C);
  return {from_dI, exp_current_voltage(tau_s, tau_m, C, h)};
}

TEST(exp_current_to_voltage_propagator, matches_the_closed_form) {
  for (const double tau_s : {0.5, 2.0, 5.0, 20.0}) {
    const double P21 = exp_current_to_voltage_propagator(tau_s, 10.0, 250.0, 0.1);
    EXPECT_TRUE(relatively_near(P21, double(exp_current_voltage(tau_s, 10.0L, 250.0L, 0.1L)), P21, 1e-13))
        << tau_s;
  }
}

TEST(exp_current_to_voltage_propagator, takes_the_limit_at_equal_time_constants) {
  const double h = 0.1, tau = 10.0, C = 250.0;
  EXPECT_EQ(exp_current_to_voltage_propagator(tau, tau, C, h), h / C * std::exp(-h / tau));
  // Approaching the limit, no cancellation: the regular form stays within the (tiny) true
  // difference of the limit.
  for (const double relative_gap : {1e-4, 1e-7, 1e-10, 1e-13}) {
    for (const double sign : {-1.0, 1.0}) {
      const double tau_s = tau * (1 + sign * relative_gap);
      const double P21 = exp_current_to_voltage_propagator(tau_s, tau, C, h);
      const double limit = h / C * std::exp(-h / tau);
      EXPECT_TRUE(relatively_near(P21, limit, limit, 2 * relative_gap + 1e-14)) << tau_s;
    }
  }
}

TEST(alpha_current_to_voltage_propagator, matches_the_closed_form) {
  for (const double tau_s : {0.5, 2.0, 5.0, 20.0}) {
    const auto [from_dI, from_I] = alpha_current_to_voltage_propagator(tau_s, 10.0, 250.0, 0.1);
    const auto [expected_from_dI, expected_from_I] = alpha_current_voltage(tau_s, 10.0L, 250.0L, 0.1L);
    // NEST's regular P31 form cancels to ~1e-16 / (h / beta) relative: fine at these taus.
    EXPECT_TRUE(relatively_near(from_dI, double(expected_from_dI), from_dI, 1e-11)) << tau_s;
    EXPECT_TRUE(relatively_near(from_I, double(expected_from_I), from_I, 1e-13)) << tau_s;
  }
}

TEST(alpha_current_to_voltage_propagator, takes_the_limit_at_equal_time_constants) {
  const double h = 0.1, tau = 10.0, C = 250.0;
  const auto [from_dI, from_I] = alpha_current_to_voltage_propagator(tau, tau, C, h);
  EXPECT_EQ(from_dI, 0.5 * h * h / C * std::exp(-h / tau));
  EXPECT_EQ(from_I, h / C * std::exp(-h / tau));
  for (const double relative_gap : {1e-4, 1e-7, 1e-10, 1e-13}) {
    const auto [near_dI, near_I] = alpha_current_to_voltage_propagator(tau * (1 + relative_gap), tau, C, h);
    EXPECT_TRUE(relatively_near(near_dI, from_dI, from_dI, 2 * relative_gap + 1e-9)) << relative_gap;
    EXPECT_TRUE(relatively_near(near_I, from_I, from_I, 2 * relative_gap + 1e-14)) << relative_gap;
  }
}

TEST(refractory_steps_for, follows_nest_time_conversion) {
  EXPECT_EQ(refractory_steps_for(2.0, 0.1), 20);
  EXPECT_EQ(refractory_steps_for(0.0, 0.1), 0);
  EXPECT_EQ(refractory_steps_for(0.5, 0.1), 5);
  EXPECT_EQ(refractory_steps_for(1.0, 0.25), 4);
  EXPECT_EQ(refractory_steps_for(2.0, 0.025), 80);
  // NEST rounds t_ref to the nearest tic (1 us), then up to whole steps.
  EXPECT_EQ(refractory_steps_for(2.05, 0.1), 21);
  EXPECT_EQ(refractory_steps_for(2.01, 0.1), 21);
  EXPECT_EQ(refractory_steps_for(2.0004, 0.1), 20);
  EXPECT_EQ(refractory_steps_for(2.0006, 0.1), 21);
  EXPECT_THROW(refractory_steps_for(-1.0, 0.1), std::invalid_argument);
  EXPECT_THROW(refractory_steps_for(2.0, 0.0), std::invalid_argument);
  EXPECT_THROW(refractory_steps_for(2.0, 0.0105), std::invalid_argument);
}

TEST(exact_to_double, equals_the_cast_everywhere) {
  constexpr std::int64_t two_53 = std::int64_t(1) << 53, two_62 = std::int64_t(1) << 62;
  constexpr std::int64_t largest = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t smallest = std::numeric_limits<std::int64_t>::min();
  const std::int64_t samples[] = {0, 1, -1, 123456789, -987654321, two_53 + 1, -two_53 - 3,
                                  two_62 + 12345, largest, smallest, smallest + 1};
  for (const std::int64_t v : samples) EXPECT_EQ(exact_to_double(v), static_cast<double>(v)) << v;
  std::uint64_t x = 88172645463325252ull;  // xorshift: values of every magnitude
  for (int k = 0; k < 100000; ++k) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const std::int64_t v = std::int64_t(x) >> (k % 64);
    ASSERT_EQ(exact_to_double(v), static_cast<double>(v)) << v;
  }
}

TEST(bitwise_select, picks_bit_for_bit) {
  EXPECT_EQ(std::signbit(bitwise_select(true, -0.0, 0.0)), true);
  EXPECT_EQ(std::signbit(bitwise_select(false, -0.0, 0.0)), false);
  EXPECT_EQ(bitwise_select(true, 1.5, 2.5), 1.5);
  EXPECT_EQ(bitwise_select(false, 1.5, 2.5), 2.5);
}

}  // namespace
}  // namespace myelin::test
