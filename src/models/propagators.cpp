// Bit-for-bit NEST results need every a * b + c rounded twice, as written: no FMA contraction,
// which GCC applies by default in C++ wherever the target has FMA (e.g. -march=native).
#pragma GCC optimize("fp-contract=off")

#include "models/propagators.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace myelin {
namespace {

// NEST treats h <= NUMERICAL_STABILITY_FACTOR * tau_m^2 / |tau_m - tau_syn| as singular for P31,
// whose regular form beta * expm1(h / beta) - h cancels catastrophically when beta is large.
constexpr double numerical_stability_factor = 1e-7;

// The quantities IAFPropagator precomputes, with NEST's expressions (beta is +inf and
// inverse_beta is 0 when tau_syn == tau_m, which routes evaluation to the singular forms).
struct iaf_propagator_terms {
  double beta;
  double gamma;
  double inverse_tau_syn;
  double inverse_tau_m;
  double inverse_C_m;
  double inverse_beta;
  double h_min_regular;

  iaf_propagator_terms(double tau_syn, double tau_m, double C_m)
      : beta(tau_syn * tau_m / (tau_m - tau_syn)),
        gamma(beta / C_m),
        inverse_tau_syn(1 / tau_syn),
        inverse_tau_m(1 / tau_m),
        inverse_C_m(1 / C_m),
        inverse_beta((tau_m - tau_syn) / (tau_syn * tau_m)),
        h_min_regular(numerical_stability_factor * tau_m * tau_m / std::abs(tau_m - tau_syn)) {}
};

struct P32_terms {
  double P32;
  double exp_h_tau_syn;
  double expm1_h_tau;
  double exp_h_tau_m;  // NaN unless the singular form was needed
};

// IAFPropagator::evaluate_P32_.
P32_terms evaluate_P32(const iaf_propagator_terms& t, double h) {
  const double exp_h_tau_syn = std::exp(-h * t.inverse_tau_syn);
  const double expm1_h_tau = std::expm1(h * t.inverse_beta);
  const double P32 = t.gamma * exp_h_tau_syn * expm1_h_tau;
  if (std::isnormal(P32) && P32 > 0) {
    return {P32, exp_h_tau_syn, expm1_h_tau, std::numeric_limits<double>::quiet_NaN()};
  }
  const double exp_h_tau_m = std::exp(-h * t.inverse_tau_m);
  return {h * t.inverse_C_m * exp_h_tau_m, exp_h_tau_syn, expm1_h_tau, exp_h_tau_m};
}

}  // namespace

double exp_current_to_voltage_propagator(double tau_syn_ms, double tau_m_ms, double C_m_pF, double h_ms) {
  return evaluate_P32(iaf_propagator_terms(tau_syn_ms, tau_m_ms, C_m_pF), h_ms).P32;
}

alpha_current_to_voltage_propagators alpha_current_to_voltage_propagator(double tau_syn_ms, double tau_m_ms,
                                                                          double C_m_pF, double h_ms) {
  const iaf_propagator_terms t(tau_syn_ms, tau_m_ms, C_m_pF);
  const P32_terms p = evaluate_P32(t, h_ms);
  if (h_ms > t.h_min_regular) {
    return {t.gamma * p.exp_h_tau_syn * (t.beta * p.expm1_h_tau - h_ms), p.P32};
  }
  const double exp_h_tau_m = std::isnan(p.exp_h_tau_m) ? std::exp(-h_ms * t.inverse_tau_m) : p.exp_h_tau_m;
  return {0.5 * h_ms * h_ms * t.inverse_C_m * exp_h_tau_m, p.P32};
}

std::int32_t refractory_steps_for(double t_ref_ms, double dt_ms) {
  constexpr double tics_per_ms = 1000.0;  // NEST's default tic: 1 us
  const double tics_per_step_exact = dt_ms * tics_per_ms;
  const long long tics_per_step = std::llround(tics_per_step_exact);
  if (!(dt_ms > 0) || tics_per_step < 1 || std::abs(tics_per_step_exact - double(tics_per_step)) > 1e-6) {
    throw std::invalid_argument("dt must be a positive multiple of 0.001 ms (NEST's tic), got " +
                                std::to_string(dt_ms));
  }
  if (!(t_ref_ms >= 0) || !std::isfinite(t_ref_ms)) {
    throw std::invalid_argument("Refractory time t_ref must be finite and not negative, got " +
                                std::to_string(t_ref_ms));
  }
  // Time(Time::ms(t)): nearest tic; get_steps(): round tics up to whole steps.
  const long long tics = static_cast<long long>(t_ref_ms * tics_per_ms + 0.5);
  const long long steps = (tics + tics_per_step - 1) / tics_per_step;
  if (steps > std::numeric_limits<std::int32_t>::max()) {
    throw std::invalid_argument("Refractory time t_ref is too long: " + std::to_string(t_ref_ms) + " ms");
  }
  return static_cast<std::int32_t>(steps);
}

}  // namespace myelin
