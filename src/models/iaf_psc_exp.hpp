// NEST's iaf_psc_exp: leaky integrate-and-fire neuron with exponentially decaying synaptic
// currents, integrated exactly on the time grid, one population block at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "myelin/models/neuron_block.hpp"

namespace myelin {

class iaf_psc_exp_block final : public neuron_block {
 public:
  // Potentials are relative to E_L, as NEST stores them.
  struct parameters {
    double E_L_mV;
    double I_e_pA;
    double V_th_rel_mV;
    double V_reset_rel_mV;
  };
  // Exact one-step propagators, derived from the parameters and dt (NEST's calibrate()).
  struct propagators {
    double P22;     // V -> V: exp(-h/tau_m)
    double P11_ex;  // I_syn_ex -> I_syn_ex: exp(-h/tau_syn_ex)
    double P11_in;
    double P21_ex;  // I_syn_ex -> V
    double P21_in;
    double P20;     // constant current -> V: tau_m/C_m (1 - P22)
    std::int32_t refractory_counts;  // steps clamped after a spike
  };
  // Everything that, with the parameters, determines the future (what a checkpoint saves).
  struct state {
    std::vector<double> V_m_rel_mV;
    std::vector<double> I_syn_ex_pA;
    std::vector<double> I_syn_in_pA;
    std::vector<std::int32_t> refractory_steps;
  };

  // Assumes valid parameters (neuron_block::create checks them). All neurons start at E_L.
  iaf_psc_exp_block(const neuron_parameters& params, double dt_ms, std::size_t n);

  std::size_t size() const override { return state_.V_m_rel_mV.size(); }
  neuron_model model() const override { return neuron_model::iaf_psc_exp; }
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
