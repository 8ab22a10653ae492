"""Synaptic weight recordings: <run>/<NAME>_weights.h5, one per [weights.NAME] section
(configs/README.md, "[weights.NAME]"). E = synapses of the projection, T = snapshots,
H = histograms of B bins:

/                          attributes magic uint32 0x0A7A, version uint32[2]
/edges/<projection>/       SONATA edges: source_node_id, target_node_id uint64 [E] (attribute
                           node_population), edge_type_id uint32, edge_group_id uint16,
                           edge_group_index uint64 [E]; 0/delay float64 [E] (ms);
                           0/syn_weight float64 [E] (the latest snapshot)
/weights/<projection>/     time float64 [T] (ms), data float64 [T x E] (row = snapshot, column =
                           edge in the order of /edges); attributes source_population,
                           target_population, synapse_model, units
/histograms/<projection>/  bin_edges [B + 1], time [H] (ms), counts uint64 [H x B], below, above
                           uint64 [H] (outside the bins), mean, std, min, max float64 [H]

Numbers (report.json, weights.<NAME>; all recorded rows, whatever the spike window):
  snapshots   count, time_first_ms, time_last_ms, and over the E weights of the first and the
              last snapshot mean_first, mean_last, std_first, std_last (population std, ddof 0),
              min_last, max_last
  histograms  count, bins, range [min, max], time_first_ms, time_last_ms, and the file's
              mean_first, mean_last, std_first, std_last, below_last, above_last
  at_bounds   synapse stdp only, from the first and the last snapshot: the fractions of weights
              at the lower and at the upper bound (0 and Wmax, ordered; Wmax from config.ini),
              within BOUND_TOLERANCE x |Wmax| (stored weights are fixed point, see
              simulation.weight_bits)

For users' scripts: load_snapshot(path) gives (source, target, delay_ms, weight) as numpy arrays.
"""
import glob
import math
import os
from typing import NamedTuple

import numpy as np

from . import AnalysisError

SUFFIX = "_weights.h5"
TRAJECTORIES = 20          # synapses whose weight over time is plotted
DISTRIBUTION_BINS = 50     # bins of the initial vs final distribution plot
BOUND_TOLERANCE = 1e-3     # a weight within this x |Wmax| of a bound is at the bound
DEFAULT_CHUNK = 1 << 22    # weights read at a time (32 MiB of float64)


class Snapshot(NamedTuple):
    source: np.ndarray    # uint64 [E], node ids within the source population
    target: np.ndarray    # uint64 [E], node ids within the target population
    delay_ms: np.ndarray  # float64 [E]
    weight: np.ndarray    # float64 [E], in the file's units (pA, mV for iaf_psc_delta targets)


def find(run_dir):
    """[(recording name, path)] of the run's weight files, sorted by name, and warnings for files
    the run left unfinished (.partial)."""
    found, warnings = [], []
    for path in sorted(glob.glob(os.path.join(glob.escape(run_dir), "*" + SUFFIX))):
        found.append((os.path.basename(path)[:-len(SUFFIX)], path))
    for partial in sorted(glob.glob(os.path.join(glob.escape(run_dir), "*" + SUFFIX + ".partial"))):
        if not os.path.exists(partial[:-len(".partial")]):
            warnings.append(f"{partial}: only the .partial file: the run did not finish; weights skipped")
    return found, warnings


def _open(path):
    import h5py
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise AnalysisError(f"{path}: cannot open as HDF5: {e}") from None


def _text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray) and v.size == 1:
        return _text(v.reshape(-1)[0])
    return None if v is None else str(v)


def _projection(f, path, projection):
    """The projection's name: the one given, else the only one in /edges."""
    import h5py
    edges = f.get("edges")
    if not isinstance(edges, h5py.Group) or not len(edges):
        raise AnalysisError(f"{path}: no /edges/<projection> group: not a myelin weights file")
    names = sorted(edges)
    if projection is None:
        if len(names) > 1:
            raise AnalysisError(f"{path}: holds projections {', '.join(names)}; name one")
        projection = names[0]
    if projection not in names:
        raise AnalysisError(f"{path}: no projection '{projection}' (it has {', '.join(names)})")
    return projection


def _edges(f, path, projection):
    g = f[f"edges/{projection}"]
    try:
        source = np.asarray(g["source_node_id"][...], dtype=np.uint64)
        target = np.asarray(g["target_node_id"][...], dtype=np.uint64)
        delay = np.asarray(g["0/delay"][...], dtype=np.float64)
    except KeyError as e:
        raise AnalysisError(f"{path}: /edges/{projection} lacks a dataset ({e})") from None
    if not source.shape == target.shape == delay.shape or source.ndim != 1:
        raise AnalysisError(f"{path}: /edges/{projection}: source_node_id, target_node_id and 0/delay differ "
                            f"in shape ({source.shape}, {target.shape}, {delay.shape})")
    return source, target, delay, g


def _snapshot_datasets(f, path, projection, n_edges):
    """(time [T], data dataset [T x E], group) or None without snapshots."""
    g = f.get(f"weights/{projection}")
    if g is None or "time" not in g or "data" not in g:
        return None
    time = np.asarray(g["time"][...], dtype=np.float64).reshape(-1)
    data = g["data"]
    if data.ndim != 2 or data.shape != (time.size, n_edges):
        raise AnalysisError(f"{path}: /weights/{projection}/data has shape {data.shape}, expected "
                            f"[{time.size} snapshots x {n_edges} edges]")
    return time, data, g


def load_snapshot(path, time_ms=None, projection=None):
    """One snapshot of a weights file as numpy arrays: Snapshot(source, target, delay_ms, weight),
    edges in the file's order. time_ms: the snapshot at that time (within 1e-9 relative; default
    the last); projection: needed only when the file holds several. AnalysisError (one line) when
    the file, the projection or the snapshot is not there."""
    with _open(path) as f:
        projection = _projection(f, path, projection)
        source, target, delay, _ = _edges(f, path, projection)
        snapshots = _snapshot_datasets(f, path, projection, source.size)
        if snapshots is None or snapshots[0].size == 0:
            raise AnalysisError(f"{path}: no weight snapshots of {projection} (its [weights] section has no times_ms)")
        time, data, _ = snapshots
        if time_ms is None:
            row = time.size - 1
        else:
            close = np.flatnonzero(np.abs(time - time_ms) <= 1e-9 * max(abs(time_ms), 1.0))
            if close.size == 0:
                raise AnalysisError(f"{path}: no snapshot at {time_ms:g} ms (there are {time.size}, from "
                                    f"{time[0]:g} to {time[-1]:g} ms)")
            row = int(close[0])
        weight = np.asarray(data[row, :], dtype=np.float64)
    return Snapshot(source, target, delay, weight)


class _RowStats:
    """Streaming count, mean, variance (Chan et al.'s pairwise update), min and max of one row."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0
        self.min, self.max = math.inf, -math.inf

    def add(self, x):
        if not x.size:
            return
        n, mean = x.size, float(x.mean())
        m2 = float(((x - mean) ** 2).sum())
        delta, total = mean - self.mean, self.n + n
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total
        self.min, self.max = min(self.min, float(x.min())), max(self.max, float(x.max()))

    @property
    def std(self):
        return math.sqrt(self.m2 / self.n) if self.n else None


def _chunks(data, row, chunk):
    n = data.shape[1]
    for lo in range(0, n, chunk):
        yield np.asarray(data[row, lo:min(n, lo + chunk)], dtype=np.float64)


class WeightStats:
    """One recording: numbers for report.json and the small arrays its plots need."""

    def __init__(self, name, path):
        self.name, self.path = name, path
        self.projection = self.synapse_model = self.units = None
        self.source_population = self.target_population = None
        self.synapses = 0
        self.histograms = None    # {"time", "bin_edges", "counts", "below", "above", "mean", "std", "min", "max"}
        self.snapshot_time = None           # [T]
        self.distribution = None            # {"bin_edges", "first", "last"}: counts of the first and last snapshot
        self.trajectories = None            # {"edges": [k], "source", "target", "weights": [T x k]}
        self.mean_over_time = None          # [T] mean of all weights per snapshot
        self.numbers = {}
        self.warnings = []


def _bounds(projection, synapse_model, config):
    """(lower, upper) where stdp keeps the weights, from config.ini's Wmax; None otherwise."""
    if synapse_model != "stdp":
        return None
    section = (config or {}).get(f"projection.{projection}", {})
    try:
        wmax = float(section["Wmax"])
    except (KeyError, ValueError):
        return None
    return min(0.0, wmax), max(0.0, wmax)


def analyze(name, path, config=None, chunk=DEFAULT_CHUNK, trajectories=TRAJECTORIES):
    """The numbers and plot data of one weights file; AnalysisError when it cannot be read."""
    import h5py
    w = WeightStats(name, path)
    chunk = max(1, int(chunk))
    with _open(path) as f:
        w.projection = _projection(f, path, None)
        source, target, _, edges = _edges(f, path, w.projection)
        w.synapses = int(source.size)
        w.source_population = _text(edges["source_node_id"].attrs.get("node_population"))
        w.target_population = _text(edges["target_node_id"].attrs.get("node_population"))
        snapshots = _snapshot_datasets(f, path, w.projection, source.size)
        if snapshots is not None:
            _, _, g = snapshots
            w.synapse_model = _text(g.attrs.get("synapse_model"))
            w.units = _text(g.attrs.get("units"))
            w.source_population = _text(g.attrs.get("source_population")) or w.source_population
            w.target_population = _text(g.attrs.get("target_population")) or w.target_population
        if w.synapse_model is None:  # a file with histograms only: the config says which rule
            w.synapse_model = (config or {}).get(f"projection.{w.projection}", {}).get("synapse")
        w.numbers = {"projection": w.projection, "file": os.path.basename(path), "synapse_model": w.synapse_model,
                     "units": w.units, "source_population": w.source_population,
                     "target_population": w.target_population, "synapses": w.synapses,
                     "snapshots": None, "histograms": None, "at_bounds": None}
        if snapshots is not None and snapshots[0].size:
            _snapshot_numbers(w, *snapshots[:2], source, target, config, chunk, trajectories)
        h = f.get(f"histograms/{w.projection}")
        if isinstance(h, h5py.Group):
            _histogram_numbers(w, h, path)
    return w


def _snapshot_numbers(w, time, data, source, target, config, chunk, n_trajectories):
    T = time.size
    first, last = 0, T - 1
    bounds = _bounds(w.projection, w.synapse_model, config)
    tolerance = None if bounds is None else BOUND_TOLERANCE * max(abs(bounds[0]), abs(bounds[1]))
    stats, at = {}, {}
    for row in sorted({first, last}):
        s = _RowStats()
        lower = upper = 0
        for x in _chunks(data, row, chunk):
            s.add(x)
            if bounds is not None:
                lower += int(np.count_nonzero(np.abs(x - bounds[0]) <= tolerance))
                upper += int(np.count_nonzero(np.abs(x - bounds[1]) <= tolerance))
        stats[row] = s
        at[row] = (lower, upper)
    # Second pass: both distributions over one common range, so that they can be compared.
    lo = min(stats[first].min, stats[last].min)
    hi = max(stats[first].max, stats[last].max)
    if not hi > lo:  # every weight equal: a bin around the value
        lo, hi = lo - 0.5 * max(abs(lo), 1e-12), hi + 0.5 * max(abs(hi), 1e-12)
    edges = np.linspace(lo, hi, DISTRIBUTION_BINS + 1)
    dist = {}
    for row in sorted({first, last}):
        counts = np.zeros(DISTRIBUTION_BINS, dtype=np.int64)
        for x in _chunks(data, row, chunk):
            counts += np.histogram(x, bins=edges)[0]
        dist[row] = counts
    w.snapshot_time = time
    w.distribution = {"bin_edges": edges, "first": dist[first], "last": dist[last],
                      "time_first_ms": float(time[first]), "time_last_ms": float(time[last])}
    # Trajectories of a few synapses spread evenly over the edge table: deterministic, and they
    # cover every source and target range the table is sorted by.
    k = min(n_trajectories, w.synapses)
    picked = np.unique(np.linspace(0, w.synapses - 1, k).round().astype(np.int64)) if k else np.zeros(0, np.int64)
    w.trajectories = {"edges": picked, "source": source[picked], "target": target[picked],
                      "weights": np.asarray(data[:, picked], dtype=np.float64) if picked.size else
                      np.zeros((T, 0))}
    # The mean of all weights per snapshot (a pass per row; rows are what the file holds).
    means = np.empty(T)
    for row in range(T):
        s = stats.get(row)
        if s is None:
            s = _RowStats()
            for x in _chunks(data, row, chunk):
                s.add(x)
        means[row] = s.mean if s.n else math.nan
    w.mean_over_time = means
    sf, sl = stats[first], stats[last]
    w.numbers["snapshots"] = {
        "count": int(T), "time_first_ms": float(time[first]), "time_last_ms": float(time[last]),
        "mean_first": sf.mean if sf.n else None, "mean_last": sl.mean if sl.n else None,
        "std_first": sf.std, "std_last": sl.std,
        "min_last": sl.min if sl.n else None, "max_last": sl.max if sl.n else None,
        "trajectory_edges": picked.tolist()}
    if bounds is not None and w.synapses:
        w.numbers["at_bounds"] = {
            "lower_bound": bounds[0], "upper_bound": bounds[1], "tolerance": tolerance,
            "fraction_lower_first": at[first][0] / w.synapses, "fraction_upper_first": at[first][1] / w.synapses,
            "fraction_lower_last": at[last][0] / w.synapses, "fraction_upper_last": at[last][1] / w.synapses}
    elif w.synapse_model == "stdp":
        w.warnings.append(f"{w.path}: synapse stdp but no Wmax for projection {w.projection} in config.ini: "
                          "fraction at the bounds not computed")


def _histogram_numbers(w, h, path):
    try:
        hist = {k: np.asarray(h[k][...]) for k in ("bin_edges", "time", "counts")}
    except KeyError as e:
        w.warnings.append(f"{path}: /histograms/{w.projection} lacks {e}; histograms skipped")
        return
    H = hist["time"].size
    B = hist["bin_edges"].size - 1
    if B < 1 or hist["counts"].shape != (H, B):
        w.warnings.append(f"{path}: /histograms/{w.projection}/counts has shape {hist['counts'].shape}, expected "
                          f"[{H} x {B}]; histograms skipped")
        return
    for k in ("below", "above", "mean", "std", "min", "max"):
        if k in h and h[k].shape == (H,):
            hist[k] = np.asarray(h[k][...], dtype=np.float64)
        else:
            hist[k] = None
            w.warnings.append(f"{path}: /histograms/{w.projection}/{k} missing or not [{H}]; not shown")
    w.histograms = hist
    w.units = w.units or _text(h.attrs.get("units"))  # a file without snapshots may say it here
    if H == 0:
        return

    def at(k, i):
        if hist[k] is None:
            return None
        return int(hist[k][i]) if k in ("below", "above") else float(hist[k][i])
    w.numbers["histograms"] = {
        "count": int(H), "bins": int(B), "range": [float(hist["bin_edges"][0]), float(hist["bin_edges"][-1])],
        "time_first_ms": float(hist["time"][0]), "time_last_ms": float(hist["time"][-1]),
        "mean_first": at("mean", 0), "mean_last": at("mean", -1), "std_first": at("std", 0),
        "std_last": at("std", -1), "below_last": at("below", -1), "above_last": at("above", -1)}
