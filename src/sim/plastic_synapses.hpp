// This rank's synapses of one plastic projection by identity, in the order checkpoints and
// weight recordings list them. Private to src/sim.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/simulation_state.hpp"

namespace myelin {

// One plastic synapse of this rank, and where its weight lives.
struct synapse_ref {
  std::uint64_t target_gid, source_gid;
  std::uint32_t delay_steps;
  double* weight;
  std::uint32_t thread;  // whose table holds it
};

// This rank's synapses of plastic projection `index`, sorted by target (stable: within a target
// by source and delay as rows and segments are, multapses in table order, the order in which
// they were drawn: the same in every decomposition).
std::vector<synapse_ref> plastic_synapses(std::vector<std::unique_ptr<thread_state>>& threads, const partition& part,
                                          std::size_t index);

// plastic_synapses() with each synapse's identity as files store it (the keys of edge_order).
struct plastic_synapse_list {
  std::vector<synapse_ref> refs;
  std::vector<std::uint64_t> target, source;  // node ids within the target and source populations
  std::vector<std::uint32_t> delay_steps;
  std::vector<double> delay_ms;
  plastic_synapse_list(std::vector<std::unique_ptr<thread_state>>& threads, const partition& part,
                       const network_layout& layout, const network_spec& net, std::size_t index);
};

}  // namespace myelin
