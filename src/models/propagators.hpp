// Exact-integration propagators (Rotter & Diesmann 1999) shared by the iaf_psc_* models, computed
// exactly as NEST computes them (libnestutil/iaf_propagator.cpp), so that a ported model takes the
// same steps bit for bit: same formulas, same order of floating-point operations, same switch to
// the singular forms where tau_syn is (close to) tau_m.
#pragma once

#include <bit>
#include <cstdint>

namespace myelin {

// Voltage (mV) after one step h of a synaptic current that starts at 1 pA and decays with tau_syn,
// on a membrane (tau_m, C_m) starting at 0: NEST's IAFPropagatorExp::evaluate (P21 of
// iaf_psc_exp, P32 of iaf_psc_alpha). Uses expm1 of the rate difference, so it has no
// catastrophic cancellation when tau_syn nears tau_m, and the limit h/C_m exp(-h/tau_m) when they
// are equal.
double exp_current_to_voltage_propagator(double tau_syn_ms, double tau_m_ms, double C_m_pF, double h_ms);

// Voltage propagators of an alpha-shaped current, NEST's IAFPropagatorAlpha::evaluate.
struct alpha_current_to_voltage_propagators {
  double from_dI;  // P31: mV per (pA/ms) of dI_syn at the start of the step
  double from_I;   // P32: mV per pA of I_syn at the start of the step
};
alpha_current_to_voltage_propagators alpha_current_to_voltage_propagator(double tau_syn_ms, double tau_m_ms,
                                                                          double C_m_pF, double h_ms);

// t_ref in whole steps, as NEST's Time(Time::ms(t_ref)).get_steps(): round to the nearest tic
// (1 tic = 1 us, NEST's default), then round *up* to whole steps. Equals round(t_ref / dt) when
// t_ref is a multiple of dt; otherwise NEST's (and our) effective refractory time is longer.
// Throws std::invalid_argument if dt is not a positive whole number of tics or t_ref < 0.
std::int32_t refractory_steps_for(double t_ref_ms, double dt_ms);

// Helpers that keep the per-neuron update loops vectorizable, also for the x86-64 baseline
// (SSE2) that a build without -march=native targets.
//
// `condition ? if_true : if_false`, bit for bit, for a condition from an integer comparison. GCC
// does not if-convert a plain ?: whose arm does floating-point arithmetic (it might trap), which
// leaves a branch in the loop; bit masks cannot trap.
inline double bitwise_select(bool condition, double if_true, double if_false) {
  const std::uint64_t take_true = std::uint64_t(0) - std::uint64_t(condition);
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(if_true) & take_true) |
                               (std::bit_cast<std::uint64_t>(if_false) & ~take_true));
}

// `value`, hidden from constant folding. GCC 12 cannot turn a double comparison into an integer
// in SSE2 vector code, but it can select between doubles and convert a double to int32; the
// loops write `int32(compare ? one : 0.0)` with one = opaque_value(1.0) so that GCC does not
// fold it back into `int32(compare)`. Read once per loop, outside it.
inline double opaque_value(double value) {
  volatile double hidden = value;
  return hidden;
}

// static_cast<double>(value), bit for bit (correctly rounded), in operations that SSE2/AVX2 can
// vectorize: packed int64 -> double conversion exists only from AVX-512DQ on, and without it a
// plain cast keeps the whole update loop scalar. Splits value + 2^63 into 32-bit halves, each
// converted exactly through the exponent bits; the final addition is the only rounding.
inline double exact_to_double(std::int32_t value) { return static_cast<double>(value); }  // exact, vectorizes
inline double exact_to_double(std::int64_t value) {
#if defined(__AVX512DQ__)
  return static_cast<double>(value);
#else
  const std::uint64_t biased = std::uint64_t(value) ^ (std::uint64_t(1) << 63);  // value + 2^63
  const double high = std::bit_cast<double>((biased >> 32) | 0x4530000000000000u) -  // 2^84 + high * 2^32
                      (0x1p84 + 0x1p63);
  const double low = std::bit_cast<double>((biased & 0xffffffffu) | 0x4330000000000000u) -  // 2^52 + low
                     0x1p52;
  return high + low;
#endif
}

}  // namespace myelin
