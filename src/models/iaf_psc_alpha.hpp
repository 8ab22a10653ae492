// NEST's iaf_psc_alpha: leaky integrate-and-fire neuron with alpha-shaped synaptic currents
// (a weight w gives a current peaking at w pA, tau_syn after the spike), integrated exactly on
// the time grid, one population block at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "myelin/models/neuron_block.hpp"

namespace myelin {

class iaf_psc_alpha_block final : public neuron_block {
 public:
  // Potentials are relative to E_L, as NEST stores them.
  struct parameters {
    double E_L_mV;
    double I_e_pA;
    double V_th_rel_mV;
    double V_reset_rel_mV;
    double V_min_rel_mV;  // lower bound of V_m (-inf: none)
  };
  // Exact one-step propagators, derived from the parameters and dt (NEST's pre_run_hook()).
  struct propagators {
    double P11_ex;       // dI_syn_ex -> dI_syn_ex and I_syn_ex -> I_syn_ex: exp(-h/tau_syn_ex)
    double P21_ex;       // dI_syn_ex -> I_syn_ex: h exp(-h/tau_syn_ex)
    double P31_ex;       // dI_syn_ex -> V
    double P32_ex;       // I_syn_ex -> V
    double P11_in;
    double P21_in;
    double P31_in;
    double P32_in;
    double expm1_tau_m;  // V -> V is 1 + expm1(-h/tau_m), applied as V + expm1 * V like NEST
    double P30;          // constant current -> V: -tau_m/C_m expm1(-h/tau_m)
    double dI_per_pA_ex;  // e / tau_syn_ex: dI_syn_ex jump per pA of weight (peak current = w)
    double dI_per_pA_in;
    std::int32_t refractory_counts;  // steps clamped after a spike
  };
  // Everything that, with the parameters, determines the future (what a checkpoint saves).
  struct state {
    std::vector<double> V_m_rel_mV;
    std::vector<double> I_syn_ex_pA;
    std::vector<double> dI_syn_ex_pA_per_ms;
    std::vector<double> I_syn_in_pA;
    std::vector<double> dI_syn_in_pA_per_ms;
    std::vector<std::int32_t> refractory_steps;
  };

  // Assumes valid parameters (neuron_block::create checks them). All neurons start at E_L.
  iaf_psc_alpha_block(const neuron_parameters& params, double dt_ms, std::size_t n);

  std::size_t size() const override { return state_.V_m_rel_mV.size(); }
  neuron_model model() const override { return neuron_model::iaf_psc_alpha; }
  void update(std::int32_t* input, double quantum, const double* i_stim_pA,
              std::vector<std::uint32_t>& spiked) override;
  void update(std::int64_t* input, double quantum, const double* i_stim_pA,
              std::vector<std::uint32_t>& spiked) override;
  std::vector<std::string> state_names() const override;
  double get(const std::string& name, std::size_t i) const override;
  void set(const std::string& name, std::size_t i, double value) override;
  std::span<std::int32_t> refractory_steps() override { return state_.refractory_steps; }

  const parameters& params() const { return parameters_; }
  const propagators& props() const { return propagators_; }

 private:
  template <class Sum>
  void update_sums(Sum* input, double quantum, const double* i_stim_pA, std::vector<std::uint32_t>& spiked);
  std::vector<double>* find_state(const std::string& name);

  parameters parameters_;
  propagators propagators_;
  state state_;
  std::vector<std::int32_t> fired_;  // per neuron: spiked in the last update (0 or 1)
};

}  // namespace myelin
