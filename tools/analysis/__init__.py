"""myelin-analyze: statistics, criticality, plots and reports from myelin's HDF5 output.

Modules:
  spikes       chunked reading of SONATA spike files (/spikes/<population>/{timestamps, node_ids})
  run          what a run directory holds: config.ini, summary.json, provenance, output paths
  tallies      per-rank tallies from tallies.h5 (layout and derived numbers documented there)
  weights      weight recordings <NAME>_weights.h5 (layout, numbers and load_snapshot there)
  stats        per-population statistics with streaming accumulators (rates, CV, Fano, synchrony)
  criticality  neuronal avalanches, branching ratios, discrete power-law fits
  plots        PNG figures (functions take arrays; matplotlib Agg)
  report       text table, report.json, report.html, side-by-side comparison
  cli          the command line (tools/myelin-analyze)
  plan         brain-scale extrapolation of a run (tools/myelin-plan)

Layout of <run>/tallies.h5 (optional; the tally tables and plots appear when it exists; every part
is optional, a part of the wrong shape is a warning and skipped; tallies.py has the details and the
derived numbers). R = ranks, P = phases, W = windows of model time:
  /tallies                  attributes: format_version, n_ranks, n_threads, n_nodes, n_neurons,
                            n_synapses, start_step, end_step (int64); dt_ms, min_delay_ms, window_ms,
                            model_time_ms, wall_seconds, build_seconds, real_time_factor,
                            load_imbalance, mean_rate_hz, watts_per_active_core, idle_watts_per_node,
                            joules_per_byte, joules_per_synaptic_event, brain_watts,
                            brain_joules_per_synaptic_event (float64); energy_source ("measured" or
                            "modeled"), energy_preset (strings); energy_joules, average_watts,
                            joules_per_synaptic_event_run (float64); node_memory_bytes (uint64),
                            cores_per_node (int64), used by myelin-plan
  /tallies/phase_seconds    float64 [R x P], attribute `phases`: the phase names
  /tallies/bytes_sent       float64 [R x R], row = sending rank, column = receiving rank
  /tallies/spikes_sent      uint64  [R x R], same orientation
  /tallies/bytes_received   float64 [R x R], row = receiving rank, column = sending rank
  /tallies/energy_joules    float64 [P], attribute `source`: "measured" or "modeled"
  /tallies/rank/<name>      [R] per-rank totals (neurons, synapses, neuron_updates, spikes_emitted,
                            synaptic_events, poisson_events, spikes_sent, bytes_sent, bytes_received,
                            collectives, peak_rss_bytes, compute_seconds, cpu_seconds, energy_joules, node)
  /tallies/windows/         t_start_ms, t_end_ms [W]; spikes_emitted, synaptic_events, bytes_sent
                            [W x R]; phase_seconds [W x R x P]; energy_joules [W]

The planning tool tools/myelin-plan (module plan) scales a finished run to a target size.
"""

__version__ = "0.1.0"


class AnalysisError(Exception):
    """A user-facing error: printed as one line, exit status 1."""
