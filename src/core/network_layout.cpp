#include "myelin/core/network_layout.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace myelin {

namespace {
constexpr double sigmas_for_bound = 8.0;

double lower_bound_of(const distribution& d) {
  switch (d.type) {
    case distribution::kind::constant: return d.a;
    case distribution::kind::normal: return std::max(d.min, d.a - sigmas_for_bound * d.b);
    case distribution::kind::uniform: return std::max(d.min, d.a);
    case distribution::kind::lognormal: return std::max(d.min, 0.0);
  }
  return d.a;
}

double upper_bound_of(const distribution& d) {
  switch (d.type) {
    case distribution::kind::constant: return d.a;
    case distribution::kind::normal: return std::min(d.max, d.a + sigmas_for_bound * d.b);
    case distribution::kind::uniform: return std::min(d.max, d.b);
    case distribution::kind::lognormal: return std::min(d.max, std::exp(d.a + sigmas_for_bound * d.b));
  }
  return d.a;
}
}  // namespace

double magnitude_bound(const distribution& d) {
  return std::max(std::abs(lower_bound_of(d)), std::abs(upper_bound_of(d)));
}

network_layout::network_layout(const network_spec& net, double dt_ms, int weight_bits) : dt_ms_(dt_ms) {
  first_gid_.push_back(0);
  for (const auto& pop : net.populations) first_gid_.push_back(first_gid_.back() + pop.n);

  std::vector<double> bound(net.populations.size(), 0.0);
  for (const auto& proj : net.projections) {
    bound[proj.target] = std::max(bound[proj.target], magnitude_bound(proj.weight));
    // stdp weights move up to Wmax (stdp_pl ones have no bound: their input is summed in int64
    // units of this quantum, not stored in weight_bits).
    if (proj.synapse == synapse_model::stdp) bound[proj.target] = std::max(bound[proj.target], std::abs(proj.stdp.Wmax));
  }
  for (const auto& in : net.inputs)
    if (in.kind != input_kind::dc) bound[in.target] = std::max(bound[in.target], std::abs(in.weight));

  const std::int64_t max_units = weight_bits == 32 ? std::int64_t(INT32_MAX) : std::int64_t(INT16_MAX);
  scales_.resize(net.populations.size());
  for (std::size_t p = 0; p < net.populations.size(); ++p) {
    weight_scale& s = scales_[p];
    s.max_units = max_units;
    s.max_abs_weight = bound[p];
    // Smallest power of two with bound / quantum <= max_units: the finest resolution that fits.
    int exponent = bound[p] > 0.0 ? int(std::ceil(std::log2(bound[p] / double(max_units)))) : 0;
    while (bound[p] / std::ldexp(1.0, exponent) > double(max_units)) ++exponent;
    s.quantum = std::ldexp(1.0, exponent);
  }

  if (!net.projections.empty()) {
    min_delay_steps_ = INT64_MAX;
    max_delay_steps_ = 1;
    for (const auto& proj : net.projections) {
      const distribution& d = proj.delay_ms;
      min_delay_steps_ = std::min(min_delay_steps_, delay_steps(lower_bound_of(d)));
      max_delay_steps_ = std::max(max_delay_steps_, delay_steps(upper_bound_of(d)));
    }
  }
  constexpr std::int64_t max_supported = 65535;  // delays are stored in 16 bits
  if (max_delay_steps_ > max_supported)
    throw std::runtime_error("a delay of " + std::to_string(max_delay_steps_) + " steps is possible; at most " +
                             std::to_string(max_supported) + " steps are supported (raise dt_ms or bound the delay)");
}

std::size_t network_layout::population_of(std::uint64_t gid) const {
  auto it = std::upper_bound(first_gid_.begin(), first_gid_.end(), gid);
  return std::size_t(it - first_gid_.begin()) - 1;
}


}  // namespace myelin
