#include "myelin/tallies/tallies.hpp"

#include <numeric>

namespace myelin {

tally_counts operator-(const tally_counts& a, const tally_counts& b) {
  tally_counts d;
  d.neuron_updates = a.neuron_updates - b.neuron_updates;
  d.spikes_emitted = a.spikes_emitted - b.spikes_emitted;
  d.synaptic_events = a.synaptic_events - b.synaptic_events;
  d.poisson_events = a.poisson_events - b.poisson_events;
  d.bytes_sent = a.bytes_sent - b.bytes_sent;
  d.collectives = a.collectives - b.collectives;
  for (std::size_t p = 0; p < n_phases; ++p) d.seconds[p] = a.seconds[p] - b.seconds[p];
  d.cpu_seconds = a.cpu_seconds - b.cpu_seconds;
  d.node_joules = a.node_joules - b.node_joules;
  return d;
}

tally_series::tally_series(std::int64_t start_step, std::int64_t window_steps, double dt_ms,
                           const tally_counts& at_start)
    : window_start_(start_step), window_steps_(window_steps), dt_ms_(dt_ms), at_window_start_(at_start) {}

void tally_series::close(std::int64_t t1, const tally_counts& now) {
  if (t1 >= window_start_ + window_steps_) finish(t1, now);
}

void tally_series::finish(std::int64_t t_end, const tally_counts& now) {
  windows_.push_back({double(window_start_) * dt_ms_, double(t_end) * dt_ms_, now - at_window_start_});
  at_window_start_ = now;
  window_start_ = t_end;
}

per_phase modeled_phase_joules(const energy_parameters& p, const tally_counts& c, int threads, int ranks_on_node) {
  per_phase joules{};
  for (std::size_t ph = 0; ph < n_phases; ++ph)
    joules[ph] = modeled_energy_joules(p, double(threads) * c.seconds[ph], c.seconds[ph] / double(ranks_on_node),
                                       ph == phase_exchange ? double(c.bytes_sent) : 0.0,
                                       ph == phase_deliver ? double(c.synaptic_events) : 0.0);
  return joules;
}

per_phase measured_phase_joules(double rank_joules, const tally_counts& c) {
  per_phase joules{};
  const double total = std::accumulate(c.seconds.begin(), c.seconds.end(), 0.0);
  for (std::size_t ph = 0; ph < n_phases; ++ph)
    joules[ph] = total > 0.0 ? rank_joules * c.seconds[ph] / total : rank_joules / double(n_phases);
  return joules;
}

}  // namespace myelin
