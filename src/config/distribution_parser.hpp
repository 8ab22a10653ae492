// The distribution syntax of V_m, weight and delay_ms:
//   87.8                                   a constant
//   normal(mean=M, std=S)                  std >= 0
//   uniform(low=L, high=H)                 high > low
//   lognormal(mu=M, sigma=S)               mu, sigma of the underlying normal; sigma >= 0
// each optionally with min=A and/or max=B (draws outside [A, B] are redrawn, as NEST's redraw),
// the two parameters also positionally: normal(87.8, 8.78, min=0).
#pragma once

#include <string>
#include <string_view>

#include "myelin/config/spec.hpp"

namespace myelin::config_detail {

struct parsed_distribution {
  distribution value;
  // Whether min= / max= were written: keys add implied bounds only where the user gave none
  // (an explicit min=-inf turns the implied one off).
  bool has_min = false;
  bool has_max = false;
};

// Throws invalid_value. `example` is shown in the generic message ("a number or a distribution
// like <example>"), so each key can show a typical value of its own.
parsed_distribution parse_distribution(std::string_view text, std::string_view example);

// Every parameter spelled out, finite bounds included: "normal(mean=87.8, std=8.78, min=0)".
std::string canonical_text(const distribution& value);

// Mean of the unbounded distribution; for a constant, its value.
double unbounded_mean(const distribution& value);

// Probability that one draw of the unbounded distribution lies within [min, max].
double probability_within_bounds(const distribution& value);

// Below this acceptance probability, redrawing would take so long that the bounds are a mistake.
inline constexpr double min_redraw_acceptance = 1e-3;

// Throws invalid_value when the bounds are inverted or keep too little of the distribution.
void check_bounds_usable(const distribution& value);

}  // namespace myelin::config_detail
