// Derived, decomposition-independent facts about a network spec that every rank computes alike
// from the config alone: the global id range of each population, delays in steps, and the
// fixed-point scale of each population's synaptic input.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "myelin/config/spec.hpp"

namespace myelin {

// Synaptic input is summed in integers (associative, so the sum does not depend on the order in
// which spikes arrive, hence not on ranks and threads). Each target population has one quantum, a
// power of two in pA (mV for iaf_psc_delta), chosen so that the largest weight any of its inputs
// can draw fits the stored weight type.
struct weight_scale {
  double quantum = 1.0;          // value of one integer unit
  double max_abs_weight = 0.0;   // bound used to choose it
  std::int64_t max_units = 0;    // largest representable |weight| in units

  // Nearest integer weight, saturated to +-max_units (saturated draws are counted by the caller).
  // Inline: the build converts every synapse's weight.
  std::int64_t to_units(double w) const {
    const double limit = double(max_units);
    return std::int64_t(std::clamp(std::nearbyint(w / quantum), -limit, limit));
  }
};

class network_layout {
 public:
  network_layout(const network_spec& net, double dt_ms, int weight_bits);

  std::size_t n_populations() const { return first_gid_.size() - 1; }
  std::uint64_t n_neurons() const { return first_gid_.back(); }
  std::uint64_t first_gid(std::size_t pop) const { return first_gid_[pop]; }
  std::uint64_t end_gid(std::size_t pop) const { return first_gid_[pop + 1]; }
  std::size_t population_of(std::uint64_t gid) const;
  const weight_scale& scale(std::size_t pop) const { return scales_[pop]; }

  // Delay in whole steps (nearest, halves away from zero as llround, at least one step). Inline
  // and without a libm call where exact (the build converts every synapse's delay): x - trunc(x)
  // is exact for |x| < 2^52.
  std::int64_t delay_steps(double delay_ms) const {
    const double x = delay_ms / dt_ms_;
    if (!(std::abs(x) < 0x1p52)) return std::max<std::int64_t>(1, std::llround(x));
    const auto whole = std::int64_t(x);  // toward zero
    const double fraction = x - double(whole);
    const std::int64_t nearest = whole + (fraction >= 0.5 ? 1 : 0) - (fraction <= -0.5 ? 1 : 0);
    return std::max<std::int64_t>(1, nearest);
  }
  double dt_ms() const { return dt_ms_; }
  // Smallest and largest delay any synapse can have, in steps, from the config's bounds: the
  // communication interval is the smallest.
  std::int64_t min_delay_steps() const { return min_delay_steps_; }
  std::int64_t max_delay_steps() const { return max_delay_steps_; }

 private:
  std::vector<std::uint64_t> first_gid_;
  std::vector<weight_scale> scales_;
  double dt_ms_;
  std::int64_t min_delay_steps_ = 1;
  std::int64_t max_delay_steps_ = 1;
};

// Bound on |x| for draws of d: the redraw bounds when finite, else mean +- 8 standard deviations
// (a draw beyond has probability < 1e-15).
double magnitude_bound(const distribution& d);

}  // namespace myelin
