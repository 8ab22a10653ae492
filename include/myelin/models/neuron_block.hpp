// The neurons of one population that one thread owns, in structure-of-arrays form, advanced one
// step at a time by exact integration. One virtual call per block and step, never per neuron.
//
// Input contract: synaptic input arriving in a step is given in fixed point, two int64 per
// neuron, interleaved: input[2*i] excitatory (positive weights), input[2*i + 1] inhibitory
// (negative weights); the value in pA (mV for iaf_psc_delta) is input * quantum. Integer sums
// are associative, so the result does not depend on the order in which spikes were delivered.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "myelin/config/spec.hpp"

namespace myelin {

class neuron_block {
 public:
  virtual ~neuron_block() = default;

  // A block of `n` neurons of population `spec`, integrated with step dt_ms, all at V_m = E_L.
  static std::unique_ptr<neuron_block> create(const population_spec& spec, double dt_ms, std::size_t n);

  virtual std::size_t size() const = 0;
  virtual neuron_model model() const = 0;

  // Advance every neuron one step: the NEST update order (propagate V if not refractory, decay
  // and add synaptic input, threshold, reset). `input` as described above (size 2 * size());
  // `i_stim_pA` (size size()) is a per-neuron current added to I_e this step (DC inputs).
  // Appends the block-local index of each neuron that spiked this step to `spiked`.
  virtual void update(const std::int64_t* input, double quantum, const double* i_stim_pA,
                      std::vector<std::uint32_t>& spiked) = 0;

  // The model's state variables by name (absolute membrane potential "V_m" in mV, "I_syn_ex",
  // "I_syn_in" in pA, "dI_syn_ex"/"dI_syn_in" for the alpha model, ...). state_names() lists
  // every variable a checkpoint must save, besides refractory_steps().
  virtual std::vector<std::string> state_names() const = 0;
  virtual bool has_state(const std::string& name) const;
  virtual double get(const std::string& name, std::size_t i) const = 0;
  virtual void set(const std::string& name, std::size_t i, double value) = 0;
  // Steps of refractoriness left per neuron.
  virtual std::span<std::int32_t> refractory_steps() = 0;
};

}  // namespace myelin
