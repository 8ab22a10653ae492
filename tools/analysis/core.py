"""The analysis of one input: window, per-population statistics, avalanches, tallies, and the
numbers of report.json. Plots and reports are made from an `Analysis` by cli, plots and report."""
import math
import sys

import numpy as np

from . import AnalysisError, __version__
from . import criticality, run as run_mod, stats, tallies as tallies_mod, weights as weights_mod
from .spikes import DEFAULT_CHUNK, SpikeFile


class Options:
    """Analysis settings (the command-line options, with defaults)."""

    def __init__(self, from_ms=None, to_ms=None, bin_ms=5.0, avalanche_bin_ms=None,
                 population_size=None, chunk=DEFAULT_CHUNK, min_spikes_cv=3, raster_neurons=50,
                 raster_ms=1000.0, xmin_size=None, xmin_duration=None, avalanche_sample=None):
        self.from_ms, self.to_ms = from_ms, to_ms
        self.bin_ms, self.avalanche_bin_ms = bin_ms, avalanche_bin_ms
        self.population_size = dict(population_size or {})
        self.chunk = int(chunk)
        self.min_spikes_cv = min_spikes_cv
        self.raster_neurons, self.raster_ms = raster_neurons, raster_ms
        self.xmin_size, self.xmin_duration = xmin_size, xmin_duration
        self.avalanche_sample = avalanche_sample  # neurons per population in the avalanches (None: all)

    def as_dict(self):
        return dict(vars(self))


class Analysis:
    def __init__(self):
        self.run = None
        self.options = None
        self.window = None
        self.window_source = None
        self.populations = []          # stats.PopulationStats in file order
        self.avalanches = {}           # population name -> criticality.AvalancheStats
        self.network = None            # criticality.AvalancheStats of all populations pooled
        self.tallies = None
        self.weights = []              # weights.WeightStats per <NAME>_weights.h5, by name
        self.warnings = []
        self.provenance = {}
        self.plots = []
        self.spike_file_attrs = {}
        self.compare = None            # {"other": Analysis, "rows": [...]}

    @property
    def names(self):
        return [p.name for p in self.populations]

    @property
    def total_spikes(self):
        return sum(p.numbers["spikes"] for p in self.populations)


def _progress(msg):
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\033[K{msg}")
        sys.stderr.flush()


def _time_extent(pops, chunk):
    lo, hi = math.inf, -math.inf
    for p in pops:
        if p.count == 0:
            continue
        if p.sorting == "by_time":
            first = next(p.chunks(1, ids=False))[0]
            last_t = p._read(p._timestamps, p.count - 1, p.count) * p.scale
            lo, hi = min(lo, float(first[0])), max(hi, float(last_t[0]))
        else:
            for t, _ in p.chunks(chunk, ids=False):
                if t.size:
                    lo, hi = min(lo, float(t.min())), max(hi, float(t.max()))
    return lo, hi


def _window(run, sf, opts):
    t_stop = run.config_float("simulation", "t_stop_ms")
    lo = opts.from_ms
    hi = opts.to_ms
    src = []
    need_extent = (lo is None) or (hi is None and t_stop is None)
    first = last = None
    if need_extent:
        first, last = _time_extent(sf.populations, opts.chunk)
    if lo is None:
        lo = 0.0 if not math.isfinite(first) or first >= 0 else first
        src.append("from: 0" if lo == 0.0 else "from: first spike")
    else:
        src.append("from: --from-ms")
    if hi is None:
        if t_stop is not None:
            hi = t_stop
            src.append("to: simulation.t_stop_ms")
        elif math.isfinite(last):
            hi = last
            src.append("to: last spike")
        else:
            raise AnalysisError(f"{sf.path}: no spikes and no simulation.t_stop_ms: give --to-ms")
    else:
        src.append("to: --to-ms")
    return stats.Window(lo, hi), ", ".join(src)


def _round_to_step(width, step):
    if step and step > 0:
        return max(1, int(round(width / step))) * step
    return width


def analyze(path, opts, argv=(), plots_wanted=True):
    """Analyzes a run directory or spike file."""
    a = Analysis()
    a.options = opts
    a.run = run = run_mod.resolve(path)
    with SpikeFile(run.spikes_path) as sf:
        a.spike_file_attrs = sf.root_attrs
        a.window, a.window_source = _window(run, sf, opts)
        cfg_sizes = run.population_sizes()
        order = {name: i for i, name in enumerate(cfg_sizes)}  # config order, then file order
        sf.populations.sort(key=lambda p: order.get(p.name, len(order)))
        names = [p.name for p in sf.populations]
        for name in opts.population_size:
            if name not in names:
                a.warnings.append(f"--population-size {name}: no population '{name}' in {sf.path}")
        for i, p in enumerate(sf.populations):
            _progress(f"myelin-analyze: {p.name} ({i + 1}/{len(names)}): statistics, {p.count} spikes")
            if p.name in opts.population_size:
                n, src = opts.population_size[p.name], "--population-size"
            elif p.name in cfg_sizes:
                n, src = cfg_sizes[p.name], "config.ini"
            else:
                n, src = None, "max node id + 1"
            ps = stats.analyze_population(
                p, n, src, a.window, bin_ms=opts.bin_ms, chunk=opts.chunk,
                min_spikes_cv=opts.min_spikes_cv, raster_neurons=opts.raster_neurons if plots_wanted else 0,
                raster_ms=opts.raster_ms)
            a.warnings.extend(ps.warnings)
            a.populations.append(ps)
        missing = [p.name for p in a.populations if p.numbers["neurons_source"] == "max node id + 1"]
        if missing:
            a.warnings.append("population size from the largest node id + 1 (no config.ini entry, no "
                              f"--population-size) for {', '.join(missing)}: silent neurons above it are not counted")
        _check_summary(a)
        _avalanches(a, sf, opts)
    _progress("")
    if run.tallies_path:
        try:
            a.tallies = tallies_mod.read(run.tallies_path)
            a.warnings.extend(a.tallies.warnings)
        except AnalysisError as e:
            a.warnings.append(f"tallies skipped: {e}")
    # A weights file that cannot be read is a warning: it never stops the spike analysis.
    a.warnings.extend(run.weights_warnings)
    for name, path in run.weights_paths:
        try:
            w = weights_mod.analyze(name, path, run.config, chunk=opts.chunk)
        except AnalysisError as e:
            a.warnings.append(f"weights skipped: {e}")
            continue
        a.warnings.extend(w.warnings)
        a.weights.append(w)
    a.provenance = run_mod.provenance(run, a.spike_file_attrs, argv)
    return a


def _check_summary(a):
    s = a.run.summary
    if not s or not isinstance(s.get("populations"), list):
        return
    by_name = {p.get("name"): p for p in s["populations"] if isinstance(p, dict)}
    for ps in a.populations:
        ref = by_name.get(ps.name)
        if ref and "spikes" in ref and int(ref["spikes"]) != ps.numbers["spikes_in_file"]:
            a.warnings.append(f"{ps.name}: spikes.h5 holds {ps.numbers['spikes_in_file']} spikes, "
                              f"summary.json says {ref['spikes']}")


def _avalanches(a, sf, opts):
    T = a.window.duration_ms
    step = a.run.config_float("simulation", "dt_ms")
    step_src = "simulation.dt_ms"
    if not step:
        res = [p.resolution_ms for p in a.populations if p.resolution_ms]
        step = min(res) if res else None
        step_src = "the smallest time step in the data"
    # Neurons counted: all, or an even sample per population (like electrodes in a slice).
    selects, sampled = [], []
    for ps in a.populations:
        n = ps.numbers["neurons"]
        if opts.avalanche_sample and opts.avalanche_sample < n:
            mask, ids = stats.even_sample(n, opts.avalanche_sample)
            selects.append(mask)
            sampled.append((ids.size, int(ps.counts[ids].sum())))
        else:
            selects.append(None)
            sampled.append((n, ps.numbers["spikes"]))
    total = sum(s for _, s in sampled)

    def width(n_spikes):
        if opts.avalanche_bin_ms:
            return opts.avalanche_bin_ms, "--avalanche-bin-ms"
        if n_spikes == 0:
            return None, None
        w = _round_to_step(T / n_spikes, step)
        return w, (f"mean inter-spike interval of the pooled train ({T / n_spikes:.4g} ms)"
                   + (f", rounded to a whole number of steps of {step:g} ms ({step_src})" if step else ""))

    w_net, net_src = width(total)
    net_hist = None
    if w_net is not None:
        net_hist = np.zeros(stats.bin_count(a.window, w_net)[1], dtype=np.int32)
    for i, (p, ps) in enumerate(zip(sf.populations, a.populations)):
        _progress(f"myelin-analyze: {p.name} ({i + 1}/{len(a.populations)}): avalanches")
        w, src = width(sampled[i][1])
        widths, outs = [], []
        own = None
        if w is not None:
            own = np.zeros(stats.bin_count(a.window, w)[1], dtype=np.int32)
            widths.append(w)
            outs.append(own)
        if net_hist is not None:
            widths.append(w_net)
            outs.append(net_hist)
        if widths:
            stats.binned_counts(p, a.window, widths, chunk=opts.chunk, outs=outs, select=selects[i])
        if own is not None:
            av = criticality.analyze(p.name, own, w, opts.xmin_size, opts.xmin_duration)
            av.numbers["bin_source"] = src
            av.numbers["neurons"] = sampled[i][0]
            a.avalanches[p.name] = av
        del own
    if net_hist is not None:
        a.network = criticality.analyze("network", net_hist, w_net, opts.xmin_size, opts.xmin_duration)
        a.network.numbers["bin_source"] = net_src
        a.network.numbers["neurons"] = sum(k for k, _ in sampled)


def _clean(v):
    """JSON-safe: NaN and infinities become null, numpy scalars Python numbers."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, np.ndarray):
        return _clean(v.tolist())
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    return v


def numbers(a, with_compare=True):
    """Every number of an Analysis, for report.json."""
    run = a.run
    out = {
        "tool": "myelin-analyze",
        "version": __version__,
        "input": run.label,
        "spikes_file": run.spikes_path,
        "run_dir": run.run_dir,
        "window_ms": {"from": a.window.lo, "to": a.window.hi, "duration": a.window.duration_ms,
                      "source": a.window_source},
        "options": a.options.as_dict(),
        "populations": {p.name: p.numbers for p in a.populations},
        "avalanches": {
            "network": a.network.numbers if a.network else None,
            "populations": {k: v.numbers for k, v in a.avalanches.items()},
        },
        "tallies": a.tallies.numbers() if a.tallies and not a.tallies.empty else None,
        "weights": {w.name: w.numbers for w in a.weights},
        "summary": run.summary,
        "config": run.config,
        "provenance": a.provenance,
        "plots": a.plots,
        "warnings": a.warnings,
    }
    if with_compare and a.compare:
        out["compare"] = {"a": run.label, "b": a.compare["other"].run.label,
                          "ratio": "b / a",
                          "rows": a.compare["rows"],
                          "other": numbers(a.compare["other"], with_compare=False)}
    return _clean(out)


# (group, key, label) rows of the comparison, per population and for the network.
POPULATION_METRICS = [
    ("neurons", "neurons"), ("spikes", "spikes"), ("rate_hz", "rate (Hz)"),
    ("rate_std_hz", "rate sd over neurons (Hz)"), ("fraction_silent", "fraction silent"),
    ("cv_isi_mean", "CV ISI (mean)"), ("fano_population", "Fano factor, population count"),
    ("fano_neuron_mean", "Fano factor, per neuron"), ("synchrony_chi", "synchrony chi"),
]
AVALANCHE_METRICS = [
    ("bin_ms", "avalanche bin (ms)"), ("avalanches", "avalanches"),
    ("size_fit.alpha", "size exponent alpha_S"), ("duration_fit.alpha", "duration exponent alpha_T"),
    ("branching_ratio", "branching ratio sigma"), ("branching_ratio_mr", "branching ratio m (MR)"),
]
SUMMARY_METRICS = [
    ("ranks", "ranks"), ("threads", "threads"), ("neurons", "neurons"), ("synapses", "synapses"),
    ("spikes", "spikes"), ("synaptic_events", "synaptic events"), ("bytes_sent", "bytes sent"),
    ("build_s", "build (s)"), ("simulate_s", "simulate (s)"), ("real_time_factor", "real-time factor"),
    ("update_s", "update (s)"), ("deliver_s", "delivery (s)"), ("exchange_s", "exchange (s)"),
    ("record_s", "recording (s)"), ("peak_rss_max_bytes", "peak memory per rank (bytes)"),
]


TALLY_METRICS = [
    ("wall_seconds", "wall time (s)"), ("real_time_factor", "real-time factor"),
    ("load_imbalance", "load imbalance (max/mean)"), ("cores", "cores"),
    ("synaptic_events_total", "synaptic events"),
    ("synaptic_events_per_second_per_core", "synaptic events per s per core"),
    ("bytes_sent_off_rank", "bytes sent to other ranks"), ("bytes_per_spike_message", "bytes per spike message"),
    ("exchange_share", "share of time in exchange"), ("average_power_watts", "average power (W)"),
    ("energy_per_synaptic_event_joules", "energy per synaptic event (J)"),
    ("brain_power_ratio", "power, run / brain"), ("brain_energy_per_event_ratio", "energy per event, run / brain"),
]


def _get(d, dotted):
    for part in dotted.split("."):
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _ratio(x, y):
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y) and x != 0:
            return y / x
    return None


def compare(a, b):
    """Rows {group, metric, label, a, b, ratio (b / a)} for two analyses."""
    na, nb = numbers(a, False), numbers(b, False)
    rows = []

    def add(group, key, label, va, vb):
        rows.append({"group": group, "metric": key, "label": label, "a": va, "b": vb, "ratio": _ratio(va, vb)})
    names = a.names + [n for n in b.names if n not in a.names]
    for name in names:
        pa, pb = na["populations"].get(name, {}), nb["populations"].get(name, {})
        for key, label in POPULATION_METRICS:
            add(name, key, label, pa.get(key), pb.get(key))
    for group, ga, gb in [("network", na["avalanches"]["network"], nb["avalanches"]["network"])] + [
            (f"{n} avalanches", na["avalanches"]["populations"].get(n), nb["avalanches"]["populations"].get(n))
            for n in names]:
        for key, label in AVALANCHE_METRICS:
            add(group if group != "network" else "network avalanches", key, label, _get(ga, key), _get(gb, key))
    sa, sb = na["summary"] or {}, nb["summary"] or {}
    if sa or sb:
        for key, label in SUMMARY_METRICS:
            if key in sa or key in sb:
                add("run", key, label, sa.get(key), sb.get(key))
    ta, tb = na["tallies"] or {}, nb["tallies"] or {}
    for phase in list((ta.get("phases") or {})) + [p for p in (tb.get("phases") or {}) if p not in (ta.get("phases") or {})]:
        add("tallies", f"phases.{phase}.max_s", f"{phase}: slowest rank (s)",
            _get(ta, f"phases.{phase}.max_s"), _get(tb, f"phases.{phase}.max_s"))
    ea, eb = ta.get("energy_joules") or {}, tb.get("energy_joules") or {}
    for phase in list(ea) + [p for p in eb if p not in ea]:
        add("tallies", f"energy_joules.{phase}", f"{phase}: energy (J)", ea.get(phase), eb.get(phase))
    if "bytes_sent_total" in ta or "bytes_sent_total" in tb:
        add("tallies", "bytes_sent_total", "bytes sent", ta.get("bytes_sent_total"), tb.get("bytes_sent_total"))
    if "energy_joules_total" in ta or "energy_joules_total" in tb:
        add("tallies", "energy_joules_total", "energy (J)", ta.get("energy_joules_total"), tb.get("energy_joules_total"))
    da, db = ta.get("derived") or {}, tb.get("derived") or {}
    for key, label in TALLY_METRICS:
        if da.get(key) is not None or db.get(key) is not None:
            add("tallies", f"derived.{key}", label, da.get(key), db.get(key))
    if (a.window.lo, a.window.hi) != (b.window.lo, b.window.hi):
        a.warnings.append(f"compare: windows differ: A {a.window.lo:g} to {a.window.hi:g} ms, "
                          f"B {b.window.lo:g} to {b.window.hi:g} ms")
    return rows
