// Bit-for-bit NEST results need every a * b + c rounded twice, as written: no FMA contraction,
// which GCC applies by default in C++ wherever the target has FMA (e.g. -march=native).
#pragma GCC optimize("fp-contract=off")

#include "models/iaf_psc_alpha.hpp"

#include <cmath>
#include <numbers>

#include "models/propagators.hpp"

namespace myelin {

iaf_psc_alpha_block::iaf_psc_alpha_block(const neuron_parameters& p, double dt_ms, std::size_t n)
    : parameters_{p.E_L_mV, p.I_e_pA, p.V_th_mV - p.E_L_mV, p.V_reset_mV - p.E_L_mV, p.V_min_mV - p.E_L_mV} {
  // NEST's iaf_psc_alpha::pre_run_hook(), expression for expression.
  const double h = dt_ms;
  propagators_.P11_ex = std::exp(-h / p.tau_syn_ex_ms);
  propagators_.P11_in = std::exp(-h / p.tau_syn_in_ms);
  propagators_.expm1_tau_m = std::expm1(-h / p.tau_m_ms);
  propagators_.P30 = -p.tau_m_ms / p.C_m_pF * std::expm1(-h / p.tau_m_ms);
  propagators_.P21_ex = h * propagators_.P11_ex;
  propagators_.P21_in = h * propagators_.P11_in;
  const alpha_current_to_voltage_propagators ex =
      alpha_current_to_voltage_propagator(p.tau_syn_ex_ms, p.tau_m_ms, p.C_m_pF, h);
  const alpha_current_to_voltage_propagators in =
      alpha_current_to_voltage_propagator(p.tau_syn_in_ms, p.tau_m_ms, p.C_m_pF, h);
  propagators_.P31_ex = ex.from_dI;
  propagators_.P32_ex = ex.from_I;
  propagators_.P31_in = in.from_dI;
  propagators_.P32_in = in.from_I;
  propagators_.dI_per_pA_ex = 1.0 * std::numbers::e / p.tau_syn_ex_ms;
  propagators_.dI_per_pA_in = 1.0 * std::numbers::e / p.tau_syn_in_ms;
  propagators_.refractory_counts = refractory_steps_for(p.t_ref_ms, dt_ms);

  state_.V_m_rel_mV.assign(n, 0.0);
  state_.I_syn_ex_pA.assign(n, 0.0);
  state_.dI_syn_ex_pA_per_ms.assign(n, 0.0);
  state_.I_syn_in_pA.assign(n, 0.0);
  state_.dI_syn_in_pA_per_ms.assign(n, 0.0);
  state_.refractory_steps.assign(n, 0);
  fired_.assign(n, 0);
}

namespace {

// NEST's iaf_psc_alpha::update() for one step, for every neuron; the refractory, lower-bound and
// threshold branches are selects so that the loop vectorizes (a free function: GCC trusts
// __restrict on parameters, not on locals). Floating-point operations are NEST's, in NEST's
// order, so results match NEST's bit for bit (without FMA contraction).
template <class Sum, bool has_stim>
void advance(std::size_t n, const iaf_psc_alpha_block::propagators pr, const iaf_psc_alpha_block::parameters pa,
             Sum* __restrict input, double quantum, const double* __restrict i_stim_pA,
             double* __restrict V, double* __restrict I_ex, double* __restrict dI_ex, double* __restrict I_in,
             double* __restrict dI_in, std::int32_t* __restrict refractory, std::int32_t* __restrict fired) {
  const double one = opaque_value(1.0);
  for (std::size_t i = 0; i < n; ++i) {
    const double I_external_pA = has_stim ? i_stim_pA[i] + pa.I_e_pA : pa.I_e_pA;
    const double V_free_unbounded = pr.P30 * I_external_pA + pr.P31_ex * dI_ex[i] + pr.P32_ex * I_ex[i] +
                                    pr.P31_in * dI_in[i] + pr.P32_in * I_in[i] + pr.expm1_tau_m * V[i] + V[i];
    const double V_free = V_free_unbounded < pa.V_min_rel_mV ? pa.V_min_rel_mV : V_free_unbounded;
    const bool is_refractory = refractory[i] != 0;
    const double V_next = bitwise_select(is_refractory, V[i], V_free);
    const std::int32_t refractory_next = is_refractory ? refractory[i] - 1 : 0;

    // Input arriving in this step acts at once, after the decay (NEST: "spikes arriving at T+1
    // have an immediate effect on the state of the neuron").
    I_ex[i] = pr.P21_ex * dI_ex[i] + pr.P11_ex * I_ex[i];
    dI_ex[i] = dI_ex[i] * pr.P11_ex + pr.dI_per_pA_ex * (exact_to_double(input[2 * i]) * quantum);
    I_in[i] = pr.P21_in * dI_in[i] + pr.P11_in * I_in[i];
    dI_in[i] = dI_in[i] * pr.P11_in + pr.dI_per_pA_in * (exact_to_double(input[2 * i + 1]) * quantum);
    input[2 * i] = 0;
    input[2 * i + 1] = 0;

    const bool spikes = V_next >= pa.V_th_rel_mV;
    const std::int32_t spiked = std::int32_t(spikes ? one : 0.0);  // 0 or 1, see opaque_value()
    V[i] = spikes ? pa.V_reset_rel_mV : V_next;
    refractory[i] = spiked != 0 ? pr.refractory_counts : refractory_next;
    fired[i] = spiked;
  }
}

}  // namespace

template <class Sum>
void iaf_psc_alpha_block::update_sums(Sum* input, double quantum, const double* i_stim_pA,
                                      std::vector<std::uint32_t>& spiked) {
  auto* const advance_step = i_stim_pA != nullptr ? &advance<Sum, true> : &advance<Sum, false>;
  advance_step(size(), propagators_, parameters_, input, quantum, i_stim_pA, state_.V_m_rel_mV.data(),
               state_.I_syn_ex_pA.data(), state_.dI_syn_ex_pA_per_ms.data(), state_.I_syn_in_pA.data(),
               state_.dI_syn_in_pA_per_ms.data(), state_.refractory_steps.data(), fired_.data());
  append_fired(fired_, spiked);
}

void iaf_psc_alpha_block::update(std::int32_t* input, double quantum, const double* i_stim_pA,
                                 std::vector<std::uint32_t>& spiked) {
  update_sums(input, quantum, i_stim_pA, spiked);
}

void iaf_psc_alpha_block::update(std::int64_t* input, double quantum, const double* i_stim_pA,
                                 std::vector<std::uint32_t>& spiked) {
  update_sums(input, quantum, i_stim_pA, spiked);
}

std::vector<std::string> iaf_psc_alpha_block::state_names() const {
  return {"V_m_rel", "I_syn_ex", "dI_syn_ex", "I_syn_in", "dI_syn_in"};
}

std::vector<double>* iaf_psc_alpha_block::find_state(const std::string& name) {
  if (name == "V_m_rel") return &state_.V_m_rel_mV;
  if (name == "I_syn_ex") return &state_.I_syn_ex_pA;
  if (name == "dI_syn_ex") return &state_.dI_syn_ex_pA_per_ms;
  if (name == "I_syn_in") return &state_.I_syn_in_pA;
  if (name == "dI_syn_in") return &state_.dI_syn_in_pA_per_ms;
  return nullptr;
}

double iaf_psc_alpha_block::get(const std::string& name, std::size_t i) const {
  if (name == "V_m") return state_.V_m_rel_mV.at(i) + parameters_.E_L_mV;
  const std::vector<double>* values = const_cast<iaf_psc_alpha_block*>(this)->find_state(name);
  if (values == nullptr) throw_unknown_state(name);
  return values->at(i);
}

void iaf_psc_alpha_block::set(const std::string& name, std::size_t i, double value) {
  if (name == "V_m") {
    state_.V_m_rel_mV.at(i) = value - parameters_.E_L_mV;
    return;
  }
  std::vector<double>* values = find_state(name);
  if (values == nullptr) throw_unknown_state(name);
  values->at(i) = value;
}

}  // namespace myelin
