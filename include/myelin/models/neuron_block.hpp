// The neurons of one population that one thread owns, in structure-of-arrays form, advanced one
// step at a time by exact integration. One virtual call per block and step, never per neuron.
//
// Input contract: synaptic input arriving in a step is given in fixed point, two integer sums per
// neuron, interleaved: input[2*i] excitatory (positive weights), input[2*i + 1] inhibitory
// (negative weights); the value in pA (mV for iaf_psc_delta) is input * quantum. Integer sums
// are associative, so the result does not depend on the order in which spikes were delivered.
// The sums are int32 where the largest input a neuron can receive in one step fits (half the
// memory traffic of the update and of delivery), else int64 (input_accumulator.hpp).
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
  // and add synaptic input, threshold, reset). `input` as described above (size 2 * size()) is
  // consumed: set to zero as it is read, ready for the next step (no separate clearing pass);
  // `i_stim_pA` (size size(), or nullptr for none) is a per-neuron current added to I_e this
  // step (DC inputs); it drives V over this step, i.e. it plays the role of NEST's i_0/y0, which
  // NEST's update() uses one step after the CurrentEvent arrives.
  // Appends the block-local index of each neuron that spiked this step to `spiked`, ascending.
  virtual void update(std::int32_t* input, double quantum, const double* i_stim_pA,
                      std::vector<std::uint32_t>& spiked) = 0;
  virtual void update(std::int64_t* input, double quantum, const double* i_stim_pA,
                      std::vector<std::uint32_t>& spiked) = 0;

  // The model's state variables by name (absolute membrane potential "V_m" in mV, "I_syn_ex",
  // "I_syn_in" in pA, "dI_syn_ex"/"dI_syn_in" for the alpha model, ...). state_names() lists
  // every variable a checkpoint must save, besides refractory_steps().
  //
  // The membrane potential is kept relative to E_L, as NEST does; "V_m" converts (V_m_rel + E_L),
  // which can lose the low bits of V_m_rel. state_names() therefore lists "V_m_rel" (mV, the
  // stored value), not "V_m", so that get/set of state_names() restores a block bit for bit.
  // Setting "V_m" (initial conditions) stores V_m - E_L, as NEST's SetStatus does.
  // Unknown names and indices throw (std::invalid_argument, std::out_of_range).
  virtual std::vector<std::string> state_names() const = 0;
  virtual bool has_state(const std::string& name) const;
  virtual double get(const std::string& name, std::size_t i) const = 0;
  virtual void set(const std::string& name, std::size_t i, double value) = 0;
  // Steps of refractoriness left per neuron.
  virtual std::span<std::int32_t> refractory_steps() = 0;

 protected:
  // Appends the index of every nonzero flag of `fired` (0 or 1 per neuron, written by the update
  // loop so that it needs no data-dependent branch) to `spiked`, in increasing order. The flags
  // are 32-bit, not bytes: with one byte per neuron GCC vectorizes the update loop 32 neurons
  // wide and spills its double-precision state to the stack (iaf_psc_exp on AVX2, Zen 3: 5%
  // slower, tools/microbench/neuron_update_bench).
  static void append_fired(std::span<const std::int32_t> fired, std::vector<std::uint32_t>& spiked);
  // Throws std::invalid_argument naming the model, the unknown variable and the known ones.
  [[noreturn]] void throw_unknown_state(const std::string& name) const;
};

}  // namespace myelin
