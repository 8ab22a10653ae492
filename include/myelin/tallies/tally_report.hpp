// Everything tallies.h5 and the end-of-run table hold: this rank's rows, and the run-wide figures
// (the same on every rank), gathered collectively from every rank's run_tallies.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/config/spec.hpp"
#include "myelin/tallies/tallies.hpp"

namespace myelin {

struct tally_report {
  // Run-wide.
  int n_ranks = 1, n_threads = 1, n_nodes = 1;
  std::uint64_t n_neurons = 0, n_synapses = 0;
  double dt_ms = 0, min_delay_ms = 0, window_ms = 0, model_time_ms = 0;
  std::int64_t start_step = 0, end_step = 0;
  double wall_seconds = 0, build_seconds = 0;  // slowest rank
  double real_time_factor = 0, load_imbalance = 0, mean_rate_hz = 0;
  std::uint64_t spikes_emitted = 0, synaptic_events = 0, neuron_updates = 0, bytes_sent = 0, collectives = 0;
  double exchange_share = 0;  // of all ranks' phase time
  bool energy_measured = false;
  std::string energy_preset;
  energy_parameters energy;
  per_phase energy_joules_per_phase{};  // all ranks
  double energy_joules = 0;             // all ranks
  double brain_watts = 0, brain_joules_per_synaptic_event = 0;
  std::uint64_t node_memory_bytes = 0;  // of this node (MemTotal), as a guide for extrapolation
  int cores_per_node = 0;               // hardware threads of this node
  std::vector<double> window_t_start_ms, window_t_end_ms, window_energy_joules;  // [windows], all ranks

  // This rank.
  int rank = 0, node = 0;
  tally_counts totals;
  per_phase energy_joules_rank_per_phase{};
  std::uint64_t neurons = 0, synapses = 0, peak_rss_bytes = 0;
  std::vector<std::uint64_t> spikes_sent_to, bytes_sent_to, bytes_received_from;
  std::vector<tally_window> windows;

  double average_watts() const { return wall_seconds > 0 ? energy_joules / wall_seconds : 0.0; }
  double joules_per_synaptic_event() const {
    return synaptic_events > 0 ? energy_joules / double(synaptic_events) : 0.0;
  }
};

// What the run knows about this rank besides its tallies.
struct rank_facts {
  int threads = 1;
  std::uint64_t neurons = 0, synapses = 0, peak_rss_bytes = 0;
  double wall_seconds = 0, build_seconds = 0;
  double min_delay_ms = 0;
};

// Collective.
tally_report gather_tally_report(const communicator& comm, const run_spec& spec, const run_tallies& tallies,
                                 const rank_facts& facts);

}  // namespace myelin
