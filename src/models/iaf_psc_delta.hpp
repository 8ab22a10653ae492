// NEST's iaf_psc_delta: leaky integrate-and-fire neuron whose synaptic input makes V_m jump by
// the weight (mV), integrated exactly on the time grid, one population block at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "myelin/models/neuron_block.hpp"

namespace myelin {

class iaf_psc_delta_block final : public neuron_block {
 public:
  // Potentials are relative to E_L, as NEST stores them.
  struct parameters {
    double E_L_mV;
    double I_e_pA;
    double V_th_rel_mV;
    double V_reset_rel_mV;
    double V_min_rel_mV;     // lower bound of V_m (-inf: none)
    bool refractory_input;   // keep input arriving while refractory (NEST's refractory_input)
  };
  // Exact one-step propagators, derived from the parameters and dt (NEST's calibrate()).
  struct propagators {
    double P33;  // V -> V: exp(-h/tau_m)
    double P30;  // constant current -> V: tau_m/C_m (1 - P33)
    std::int32_t refractory_counts;  // steps clamped after a spike
    // exp(-r h/tau_m) for r = 0..refractory_counts: decay of input arriving with r refractory
    // steps left, until V_m is released (refractory_input only).
    std::vector<double> refractory_input_decay;
  };
  // Everything that, with the parameters, determines the future (what a checkpoint saves).
  struct state {
    std::vector<double> V_m_rel_mV;
    // Input received while refractory, already decayed to the end of refractoriness (mV;
    // NEST's refr_spikes_buffer_). Stays 0 unless refractory_input.
    std::vector<double> refractory_input_mV;
    std::vector<std::int32_t> refractory_steps;
  };

  // Assumes valid parameters (neuron_block::create checks them). All neurons start at E_L.
  iaf_psc_delta_block(const neuron_parameters& params, double dt_ms, std::size_t n);

  std::size_t size() const override { return state_.V_m_rel_mV.size(); }
  neuron_model model() const override { return neuron_model::iaf_psc_delta; }
  // Both input channels are potential jumps in mV (input * quantum) and simply add.
  void update(std::int32_t* input, double quantum, const double* i_stim_pA,
              std::vector<std::uint32_t>& spiked) override;
  void update(std::int64_t* input, double quantum, const double* i_stim_pA,
              std::vector<std::uint32_t>& spiked) override;
  // "V_m_rel", plus "refr_spikes_buffer" (mV) when refractory_input is on.
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
