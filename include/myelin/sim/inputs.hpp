// External input to one thread's neurons: Poisson background (an independent Poisson count per
// neuron and step of mean indegree * rate * dt, NEST's poisson_generator with one generator per
// target), DC currents switched on and off at given times, and explicit spike times.
// Every draw is keyed by (seed, input, neuron gid, step): the same for any decomposition.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "myelin/config/spec.hpp"
#include "myelin/core/network_layout.hpp"
#include "myelin/core/partition.hpp"
#include "myelin/core/random.hpp"

namespace myelin {

class thread_inputs {
 public:
  // The inputs of `net` that reach neurons of virtual process `vp`.
  thread_inputs(const network_spec& net, const network_layout& layout, const partition& part, std::uint64_t vp,
                std::uint64_t seed);

  // Adds this step's input: Poisson and spike-time input into input[2 * local + channel], DC
  // switches into i_stim_pA[local]. Returns the number of Poisson events added.
  // Sum: std::int32_t or std::int64_t.
  template <class Sum>
  std::uint64_t apply(std::int64_t step, Sum* input, double* i_stim_pA);
  // The most weight units (sum of |units|, both channels) that one neuron can receive from these
  // inputs in one step: for the choice of the accumulator's width.
  std::uint64_t max_units_per_step() const;
  // Whether any DC input reaches this thread (else apply() never touches i_stim_pA).
  bool has_currents() const { return !dc_events_.empty(); }

 private:
  struct poisson_source {
    std::uint32_t input_index;
    std::int64_t start_step, stop_step;  // active for steps in [start, stop)
    std::int64_t weight_units;
    int channel;
    poisson_table table;
    std::vector<std::uint32_t> local;  // thread-local neuron indices
    std::vector<std::uint32_t> gid_low, gid_high;  // the neurons' gids' halves, padded to whole lanes
    std::vector<std::uint32_t> words;  // 4 uniforms per neuron, for steps 4k .. 4k+3, by step lane
    std::int64_t words_quad = -1;      // the k they were drawn for
  };
  struct timed_event {
    std::int64_t step;
    std::uint32_t local;
    std::int64_t weight_units;  // spike input
    double current_pA;          // DC change
  };
  // Neurons whose blocks are drawn together: 4 AVX-512 registers of 16 (random.hpp).
  static constexpr std::size_t poisson_lanes = 64;
  static_assert(poisson_lanes % poisson_table::sample_lanes == 0);
  static void refill_words(poisson_source& src, std::uint64_t quad, std::array<std::uint32_t, 2> key);

  std::uint64_t seed_;
  std::vector<poisson_source> poisson_;
  std::vector<timed_event> spike_events_;  // sorted by step
  std::vector<timed_event> dc_events_;     // sorted by step
  std::size_t next_spike_ = 0, next_dc_ = 0;
};

}  // namespace myelin
