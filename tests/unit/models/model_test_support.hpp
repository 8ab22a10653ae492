// Shared helpers for the neuron model tests: a block driven one step at a time with explicit
// fixed-point input, and relative comparisons against analytic solutions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "myelin/models/neuron_block.hpp"

namespace myelin::test {

constexpr double dt_ms = 0.1;
// 2^-20 pA (mV for iaf_psc_delta) per fixed-point unit: every weight the tests use is exact.
constexpr double quantum = 1.0 / (1 << 20);
constexpr double rel_tolerance = 1e-9;

inline std::int64_t to_fixed(double weight) { return std::llround(weight / quantum); }

inline population_spec make_spec(neuron_model model, const neuron_parameters& params = {}) {
  population_spec spec;
  spec.name = "test";
  spec.model = model;
  spec.params = params;
  return spec;
}

// A block and its per-step input; step() advances one step and clears the input.
struct driven_block {
  std::unique_ptr<neuron_block> block;
  std::vector<std::int64_t> input;
  std::vector<double> stim_pA;  // used when use_stim
  bool use_stim = false;
  std::vector<std::uint32_t> spiked;

  driven_block(neuron_model model, const neuron_parameters& params, std::size_t n = 1)
      : block(neuron_block::create(make_spec(model, params), dt_ms, n)), input(2 * n, 0), stim_pA(n, 0.0) {}

  void excite(std::size_t i, double weight) { input[2 * i] += to_fixed(weight); }
  void inhibit(std::size_t i, double weight) { input[2 * i + 1] += to_fixed(weight); }

  // Returns whether neuron 0 spiked.
  bool step() {
    spiked.clear();
    block->update(input.data(), quantum, use_stim ? stim_pA.data() : nullptr, spiked);
    return !spiked.empty() && spiked.front() == 0;
  }
  double V_m(std::size_t i = 0) const { return block->get("V_m", i); }
  double V_rel(std::size_t i = 0) const { return block->get("V_m_rel", i); }
  double get(const char* name, std::size_t i = 0) const { return block->get(name, i); }
};

inline ::testing::AssertionResult relatively_near(double actual, double expected, double scale,
                                                 double tolerance = rel_tolerance) {
  const double error = std::abs(actual - expected);
  if (error <= tolerance * std::abs(scale)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "actual " << actual << " vs expected " << expected << ": error " << error
                                       << " > " << tolerance << " * " << std::abs(scale);
}
inline ::testing::AssertionResult relatively_near(double actual, double expected) {
  return relatively_near(actual, expected, expected);
}

// Analytic step in which a neuron at rest relative potential V0 (mV, rel. to E_L), driven by a
// constant current with asymptote RI (mV), first reaches theta (mV): ceil(t_cross / dt).
inline long analytic_crossing_step(double V0, double RI, double theta, double tau_m_ms) {
  const double t_cross_ms = tau_m_ms * std::log((RI - V0) / (RI - theta));
  const double steps = t_cross_ms / dt_ms;
  // The test's parameters must keep the crossing clear of a step boundary.
  EXPECT_GT(steps - std::floor(steps), 1e-3);
  EXPECT_LT(steps - std::floor(steps), 1 - 1e-3);
  return long(std::ceil(steps));
}

}  // namespace myelin::test
