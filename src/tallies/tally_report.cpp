#include "myelin/tallies/tally_report.hpp"

#include <algorithm>
#include <fstream>
#include <numeric>
#include <thread>

namespace myelin {

namespace {

void add(tally_counts& sum, const tally_counts& c) {
  sum.neuron_updates += c.neuron_updates;
  sum.spikes_emitted += c.spikes_emitted;
  sum.synaptic_events += c.synaptic_events;
  sum.poisson_events += c.poisson_events;
  sum.bytes_sent += c.bytes_sent;
  sum.collectives += c.collectives;
  for (std::size_t p = 0; p < n_phases; ++p) sum.seconds[p] += c.seconds[p];
  sum.cpu_seconds += c.cpu_seconds;
  sum.node_joules += c.node_joules;
}

double sum_of(const per_phase& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

std::uint64_t node_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  std::uint64_t kib = 0;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemTotal:") return kib * 1024;
  return 0;
}

// Each rank's share of its node's measured energy, by CPU time, for a list of periods (the run's
// windows): on the node leader, `node_joules[k]` is the node's energy in period k.
std::vector<double> rank_share_of_node_energy(const communicator& comm, const communicator::node_placement& where,
                                              const std::vector<double>& cpu_seconds,
                                              const std::vector<double>& node_joules) {
  const std::size_t n = cpu_seconds.size();
  std::vector<double> mine(1 + 2 * n);
  mine[0] = double(where.node);
  for (std::size_t k = 0; k < n; ++k) {
    mine[1 + 2 * k] = cpu_seconds[k];
    mine[2 + 2 * k] = where.leader ? node_joules[k] : 0.0;
  }
  const std::vector<double> all = comm.allgather(mine);
  std::vector<double> share(n);
  for (std::size_t k = 0; k < n; ++k) {
    double node_cpu = 0.0, joules = 0.0;
    int ranks_here = 0;
    for (int r = 0; r < comm.size(); ++r) {
      const double* row = all.data() + std::size_t(r) * mine.size();
      if (int(row[0]) != where.node) continue;
      node_cpu += row[1 + 2 * k];
      joules += row[2 + 2 * k];
      ++ranks_here;
    }
    share[k] = node_cpu > 0.0 ? joules * cpu_seconds[k] / node_cpu : joules / double(std::max(1, ranks_here));
  }
  return share;
}

}  // namespace

tally_report gather_tally_report(const communicator& comm, const run_spec& spec, const run_tallies& tallies,
                                 const rank_facts& facts) {
  tally_report r;
  const communicator::node_placement& where = tallies.placement;
  r.n_ranks = comm.size();
  r.n_threads = facts.threads;
  r.n_nodes = where.n_nodes;
  r.rank = comm.rank();
  r.node = where.node;
  r.dt_ms = spec.simulation.dt_ms;
  r.min_delay_ms = facts.min_delay_ms;
  r.window_ms = double(tallies.window_steps) * spec.simulation.dt_ms;
  r.start_step = tallies.start_step;
  r.end_step = tallies.end_step;
  r.model_time_ms = double(r.end_step - r.start_step) * r.dt_ms;
  for (const auto& p : spec.network.populations) r.n_neurons += p.n;

  r.windows = tallies.windows;
  for (const auto& w : r.windows) {
    add(r.totals, w.counts);
    r.window_t_start_ms.push_back(w.t_start_ms);
    r.window_t_end_ms.push_back(w.t_end_ms);
  }
  r.neurons = facts.neurons;
  r.synapses = facts.synapses;
  r.peak_rss_bytes = facts.peak_rss_bytes;
  r.spikes_sent_to = tallies.spikes_sent_to;
  r.bytes_sent_to = tallies.bytes_sent_to;
  r.bytes_received_from = tallies.bytes_received_from;

  std::vector<std::uint64_t> sums{r.totals.spikes_emitted, r.totals.synaptic_events, r.totals.neuron_updates,
                                  r.totals.bytes_sent,     r.totals.collectives,     facts.synapses};
  comm.allreduce_sum(sums);
  r.spikes_emitted = sums[0];
  r.synaptic_events = sums[1];
  r.neuron_updates = sums[2];
  r.bytes_sent = sums[3];
  r.collectives = sums[4];
  r.n_synapses = sums[5];
  r.wall_seconds = comm.allreduce_max(facts.wall_seconds);
  r.build_seconds = comm.allreduce_max(facts.build_seconds);
  const double model_s = r.model_time_ms * 1e-3;
  r.real_time_factor = model_s > 0 ? r.wall_seconds / model_s : 0.0;
  r.mean_rate_hz = model_s > 0 && r.n_neurons > 0 ? double(r.spikes_emitted) / (double(r.n_neurons) * model_s) : 0.0;

  // Load imbalance: the slowest rank's compute time over the mean.
  const std::vector<double> compute =
      comm.allgather(r.totals.seconds[phase_update] + r.totals.seconds[phase_deliver]);
  const double mean_compute = std::accumulate(compute.begin(), compute.end(), 0.0) / double(compute.size());
  r.load_imbalance = mean_compute > 0 ? *std::max_element(compute.begin(), compute.end()) / mean_compute : 1.0;
  std::vector<double> time_sums{r.totals.seconds[phase_exchange], sum_of(r.totals.seconds)};
  comm.allreduce_sum(time_sums);
  r.exchange_share = time_sums[1] > 0 ? time_sums[0] / time_sums[1] : 0.0;

  // Energy of this rank, per phase and per window; then summed over ranks.
  r.energy_measured = tallies.energy_measured;
  r.energy_preset = spec.energy.preset;
  r.energy = spec.energy.parameters;
  std::vector<double> window_joules;
  if (r.energy_measured) {
    std::vector<double> cpu{r.totals.cpu_seconds}, node{r.totals.node_joules};
    for (const auto& w : r.windows) {
      cpu.push_back(w.counts.cpu_seconds);
      node.push_back(w.counts.node_joules);
    }
    const std::vector<double> share = rank_share_of_node_energy(comm, where, cpu, node);
    r.energy_joules_rank_per_phase = measured_phase_joules(share[0], r.totals);
    window_joules.assign(share.begin() + 1, share.end());
  } else {
    r.energy_joules_rank_per_phase = modeled_phase_joules(r.energy, r.totals, facts.threads, where.ranks_on_node);
    for (const auto& w : r.windows)
      window_joules.push_back(sum_of(modeled_phase_joules(r.energy, w.counts, facts.threads, where.ranks_on_node)));
  }
  std::vector<double> phase_joules(r.energy_joules_rank_per_phase.begin(), r.energy_joules_rank_per_phase.end());
  comm.allreduce_sum(phase_joules);
  std::copy(phase_joules.begin(), phase_joules.end(), r.energy_joules_per_phase.begin());
  r.energy_joules = sum_of(r.energy_joules_per_phase);
  comm.allreduce_sum(window_joules);
  r.window_energy_joules = window_joules;

  r.brain_watts = brain_watts * double(r.n_neurons) / brain_neurons;
  r.brain_joules_per_synaptic_event = brain_joules_per_synaptic_event(r.mean_rate_hz);
  r.node_memory_bytes = node_memory_bytes();
  r.cores_per_node = int(std::thread::hardware_concurrency());
  return r;
}

}  // namespace myelin
