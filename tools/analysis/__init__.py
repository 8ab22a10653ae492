"""myelin-analyze: statistics, criticality, plots and reports from myelin's HDF5 output.

Modules:
  spikes       chunked reading of SONATA spike files (/spikes/<population>/{timestamps, node_ids})
  run          what a run directory holds: config.ini, summary.json, provenance, output paths
  tallies      per-rank tallies from tallies.h5 (layout documented there)
  stats        per-population statistics with streaming accumulators (rates, CV, Fano, synchrony)
  criticality  neuronal avalanches, branching ratios, discrete power-law fits
  plots        PNG figures (functions take arrays; matplotlib Agg)
  report       text table, report.json, report.html, side-by-side comparison
  cli          the command line (tools/myelin-analyze)

Expected layout of <run>/tallies.h5 (optional; the tally plots and tables appear when it exists):
  /tallies/phase_seconds  float64 [ranks x phases], attribute `phases`: the phase names
  /tallies/bytes_sent     float64 [ranks x ranks], row = sending rank, column = receiving rank
  /tallies/energy_joules  float64 [phases], attribute `source`: "measured" or "modeled"
"""

__version__ = "0.1.0"


class AnalysisError(Exception):
    """A user-facing error: printed as one line, exit status 1."""
