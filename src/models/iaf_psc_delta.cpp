// Bit-for-bit NEST results need every a * b + c rounded twice, as written: no FMA contraction,
// which GCC applies by default in C++ wherever the target has FMA (e.g. -march=native).
#pragma GCC optimize("fp-contract=off")

#include "models/iaf_psc_delta.hpp"

#include <algorithm>
#include <cmath>

#include "models/propagators.hpp"

namespace myelin {

iaf_psc_delta_block::iaf_psc_delta_block(const neuron_parameters& p, double dt_ms, std::size_t n)
    : parameters_{p.E_L_mV, p.I_e_pA, p.V_th_mV - p.E_L_mV, p.V_reset_mV - p.E_L_mV, p.V_min_mV - p.E_L_mV,
                  p.refractory_input} {
  // NEST's iaf_psc_delta::calibrate(), expression for expression.
  const double h = dt_ms;
  propagators_.P33 = std::exp(-h / p.tau_m_ms);
  propagators_.P30 = 1 / p.C_m_pF * (1 - propagators_.P33) * p.tau_m_ms;
  propagators_.refractory_counts = refractory_steps_for(p.t_ref_ms, dt_ms);
  // NEST evaluates std::exp(-r * h / tau_m) per input while refractory; a table keeps exp() out
  // of the update loop and gives the same values.
  propagators_.refractory_input_decay.resize(std::size_t(propagators_.refractory_counts) + 1);
  for (std::int32_t r = 0; r <= propagators_.refractory_counts; ++r) {
    propagators_.refractory_input_decay[std::size_t(r)] = std::exp(-r * h / p.tau_m_ms);
  }

  state_.V_m_rel_mV.assign(n, 0.0);
  state_.refractory_input_mV.assign(n, 0.0);
  state_.refractory_steps.assign(n, 0);
  fired_.assign(n, 0);
}

namespace {

// NEST's iaf_psc_delta::update() for one step, for every neuron; the refractory, lower-bound and
// threshold branches are selects so that the loop vectorizes (a free function: GCC trusts
// __restrict on parameters, not on locals). Floating-point operations are NEST's, in NEST's
// order, so results match NEST's bit for bit (without FMA contraction).
template <class Sum, bool has_stim, bool keeps_refractory_input>
void advance(std::size_t n, double P33, double P30, std::int32_t refractory_counts,
             const double* __restrict refractory_input_decay, const iaf_psc_delta_block::parameters pa,
             Sum* __restrict input, double quantum, const double* __restrict i_stim_pA,
             double* __restrict V, double* __restrict buffered_input, std::int32_t* __restrict refractory,
             std::int32_t* __restrict fired) {
  const double one = opaque_value(1.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double I_external_pA = has_stim ? i_stim_pA[i] + pa.I_e_pA : pa.I_e_pA;
    // Excitatory and inhibitory jumps are summed in fixed point: one rounding, as exact as the
    // fixed-point weights themselves.
    const double jump_mV = exact_to_double(input[2 * i] + input[2 * i + 1]) * quantum;
    input[2 * i] = 0;
    input[2 * i + 1] = 0;
    const std::int32_t refractory_left = refractory[i];
    const bool is_refractory = refractory_left != 0;

    double V_free = P30 * I_external_pA + P33 * V[i] + jump_mV;
    if constexpr (keeps_refractory_input) {
      // NEST adds the buffer only when it is nonzero; adding 0.0 changes nothing but the sign
      // of a zero V, which nothing can observe (V_m = V + E_L, comparisons, products).
      V_free = V_free + buffered_input[i];
      // Input arriving while refractory is decayed to the end of refractoriness (NEST uses the
      // count before this step's decrement) and released into V in the first free step. A count
      // above t_ref's (restored under another t_ref) uses t_ref's decay.
      const double decay = refractory_input_decay[std::clamp(refractory_left, 0, refractory_counts)];
      buffered_input[i] = bitwise_select(is_refractory, buffered_input[i] + jump_mV * decay, 0.0);
    }
    V_free = V_free < pa.V_min_rel_mV ? pa.V_min_rel_mV : V_free;
    // Refractory: V stays clamped and input is discarded (or buffered, above).
    const double V_next = bitwise_select(is_refractory, V[i], V_free);
    const std::int32_t refractory_next = is_refractory ? refractory_left - 1 : 0;

    const bool spikes = V_next >= pa.V_th_rel_mV;
    const std::int32_t spiked = std::int32_t(spikes ? one : 0.0);  // 0 or 1, see opaque_value()
    V[i] = spikes ? pa.V_reset_rel_mV : V_next;
    refractory[i] = spiked != 0 ? refractory_counts : refractory_next;
    fired[i] = spiked;
  }
}

}  // namespace

template <class Sum>
void iaf_psc_delta_block::update_sums(Sum* input, double quantum, const double* i_stim_pA,
                                      std::vector<std::uint32_t>& spiked) {
  const bool has_stim = i_stim_pA != nullptr;
  auto* const advance_step = parameters_.refractory_input ? (has_stim ? &advance<Sum, true, true> : &advance<Sum, false, true>)
                                                          : (has_stim ? &advance<Sum, true, false> : &advance<Sum, false, false>);
  advance_step(size(), propagators_.P33, propagators_.P30, propagators_.refractory_counts,
               propagators_.refractory_input_decay.data(), parameters_, input, quantum, i_stim_pA,
               state_.V_m_rel_mV.data(), state_.refractory_input_mV.data(), state_.refractory_steps.data(),
               fired_.data());
  append_fired(fired_, spiked);
}

void iaf_psc_delta_block::update(std::int32_t* input, double quantum, const double* i_stim_pA,
                                 std::vector<std::uint32_t>& spiked) {
  update_sums(input, quantum, i_stim_pA, spiked);
}

void iaf_psc_delta_block::update(std::int64_t* input, double quantum, const double* i_stim_pA,
                                 std::vector<std::uint32_t>& spiked) {
  update_sums(input, quantum, i_stim_pA, spiked);
}

std::vector<std::string> iaf_psc_delta_block::state_names() const {
  if (parameters_.refractory_input) return {"V_m_rel", "refr_spikes_buffer"};
  return {"V_m_rel"};
}

std::vector<double>* iaf_psc_delta_block::find_state(const std::string& name) {
  if (name == "V_m_rel") return &state_.V_m_rel_mV;
  if (name == "refr_spikes_buffer" && parameters_.refractory_input) return &state_.refractory_input_mV;
  return nullptr;
}

double iaf_psc_delta_block::get(const std::string& name, std::size_t i) const {
  if (name == "V_m") return state_.V_m_rel_mV.at(i) + parameters_.E_L_mV;
  const std::vector<double>* values = const_cast<iaf_psc_delta_block*>(this)->find_state(name);
  if (values == nullptr) throw_unknown_state(name);
  return values->at(i);
}

void iaf_psc_delta_block::set(const std::string& name, std::size_t i, double value) {
  if (name == "V_m") {
    state_.V_m_rel_mV.at(i) = value - parameters_.E_L_mV;
    return;
  }
  std::vector<double>* values = find_state(name);
  if (values == nullptr) throw_unknown_state(name);
  values->at(i) = value;
}

}  // namespace myelin
