// The end-of-run summary: gathered over ranks, printed as a table and written as summary.json
// (read by tools/bench and the analysis tools).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "myelin/comm/communicator.hpp"
#include "myelin/config/spec.hpp"
#include "myelin/sim/simulation.hpp"
#include "myelin/tallies/tally_report.hpp"

namespace myelin::cli {

struct run_summary {
  int ranks = 1, threads = 1;
  double t_model_ms = 0;              // the whole run (rates)
  std::int64_t steps_simulated = 0;   // by this process (real-time factor)
  double dt_ms = 0;
  std::uint64_t neurons = 0, synapses = 0, synapse_bytes = 0, spikes = 0, synaptic_events = 0,
                poisson_events = 0, bytes_sent = 0, neuron_updates = 0, collectives = 0;
  double build_s = 0, simulate_s = 0;  // slowest rank
  double update_s = 0, deliver_s = 0, exchange_s = 0, record_s = 0, checkpoint_s = 0;  // slowest rank
  double peak_rss_total = 0, peak_rss_max = 0;  // bytes
  std::vector<std::string> population_names;
  std::vector<std::uint64_t> population_sizes, population_spikes;

  double real_time_factor() const { return simulate_s / (double(steps_simulated) * dt_ms * 1e-3); }
  double rate_hz(std::size_t p) const;
};

// Collective.
run_summary gather_summary(const run_spec& spec, const simulation& sim, const communicator& world, int threads);
void print_summary(const run_summary& s);
void write_summary_json(const run_summary& s, const std::filesystem::path& path);

// The energy and communication table at the end of a run (from the tallies).
void print_tally_table(const tally_report& r);

std::string human_bytes(double bytes);
// Peak resident memory of this process (VmHWM), in bytes.
std::uint64_t peak_rss_bytes();

}  // namespace myelin::cli
