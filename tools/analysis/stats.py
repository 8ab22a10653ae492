"""Per-population spike statistics, computed in chunks with streaming accumulators.

Definitions (window [from, to], both ends included; T = to - from):
  rate_hz            spikes in the window / (neurons x T), neurons including silent ones
  fraction_silent    neurons without a spike in the window / neurons
  cv_isi_*           per neuron: sample standard deviation / mean of its inter-spike intervals,
                     over neurons with at least `min_spikes_cv` spikes (default 3); the mean and
                     the median over those neurons
  bins               the window cut into whole bins of `bin_ms` from `from` (a last partial bin is
                     left out of the count statistics); a spike exactly on a bin edge belongs to
                     the later bin, a spike at `to` to the last bin
  fano_population    variance / mean over bins of the population spike count N(t): 1 for
                     independent Poisson neurons, > 1 for correlated (synchronous) activity
  fano_neuron_mean   the same per neuron, averaged over neurons with spikes in the whole bins
  synchrony_chi      Golomb's chi: sqrt(Var_t[N(t)/n] / mean_i Var_t[c_i(t)]), c_i the count of
                     neuron i; ~1/sqrt(n) for independent neurons, 1 for fully synchronous ones

Memory: the file is read in chunks of `chunk` spikes. Per neuron the accumulators are a spike
count, the running mean and sum of squared deviations of its ISIs (merged chunk by chunk with
Chan's formula, so a regular train gives CV 0 to rounding), its last spike time and its sum of
squared bin counts; per population the spike-count histogram over the bins. Files sorted by time
(myelin's) are read in one streaming pass: spikes of the last bin of a chunk are held back to
the next so that no bin is split. Other files are read in passes over ranges of node ids, each
range holding a bounded number of spikes.
"""
import math

import numpy as np

from . import AnalysisError
from .spikes import DEFAULT_CHUNK

EDGE_EPS = 1e-6  # in bins: a spike within 1e-6 bin below an edge is counted in the later bin
MAX_BINS = 1 << 31


class Window:
    def __init__(self, lo, hi):
        if not (hi > lo):
            raise AnalysisError(f"empty time window: from {lo:g} ms to {hi:g} ms")
        self.lo, self.hi = float(lo), float(hi)

    @property
    def duration_ms(self):
        return self.hi - self.lo

    def mask(self, t):
        return (t >= self.lo) & (t <= self.hi)


def bin_count(window, width):
    """(all bins including a partial last one, whole bins)."""
    x = window.duration_ms / width
    n_all = max(1, int(math.ceil(x - 1e-9)))
    n_full = int(math.floor(x + 1e-9))
    if n_all > MAX_BINS:
        raise AnalysisError(f"bin width {width:g} ms gives {n_all} bins over {window.duration_ms:g} ms: too many")
    return n_all, n_full


def bin_index(t, window, width, n_all):
    idx = np.floor((t - window.lo) / width + EDGE_EPS).astype(np.int64)
    np.clip(idx, 0, n_all - 1, out=idx)
    return idx


def add_histogram(hist, idx):
    """hist[idx] += 1 for every element, without a full-length temporary per chunk."""
    if idx.size == 0:
        return
    lo, hi = int(idx.min()), int(idx.max())
    if hi - lo < 4 * idx.size + 1024:
        hist[lo:hi + 1] += np.bincount(idx - lo, minlength=hi - lo + 1).astype(hist.dtype, copy=False)
    else:
        u, c = np.unique(idx, return_counts=True)
        hist[u] += c.astype(hist.dtype, copy=False)


class _Disorder(Exception):
    """The file turned out not to be sorted by time."""


class _Accumulator:
    """Streaming state of one population."""

    def __init__(self, n, window, bin_ms, raster_select, raster_hi):
        self.window, self.bin_ms = window, bin_ms
        self.n_all, self.n_full = bin_count(window, bin_ms)
        self.hist = np.zeros(self.n_all, dtype=np.int64)
        self.size = 0
        self.count = self.count_full = self.isi_n = None
        self.isi_mean = self.isi_m2 = self.last = self.sumsq = None
        self._grow(max(int(n), 1))
        self.t_first, self.t_last = math.inf, -math.inf
        self.resolution = math.inf
        self.max_id = -1
        self.raster_select = raster_select  # bool [n] or None
        self.raster_hi = raster_hi
        self.raster_t, self.raster_i = [], []

    def _grow(self, n):
        if n <= self.size:
            return
        new = max(n, int(self.size * 1.5))

        def ext(a, fill, dtype):
            b = np.full(new, fill, dtype=dtype)
            if a is not None:
                b[:a.size] = a
            return b
        self.count = ext(self.count, 0, np.int64)
        self.count_full = ext(self.count_full, 0, np.int64)
        self.isi_n = ext(self.isi_n, 0, np.int64)
        self.isi_mean = ext(self.isi_mean, 0.0, np.float64)
        self.isi_m2 = ext(self.isi_m2, 0.0, np.float64)
        self.last = ext(self.last, np.nan, np.float64)
        self.sumsq = ext(self.sumsq, 0.0, np.float64)
        self.size = new

    def observe(self, t, ids, b, time_sorted):
        """Order-independent part: histogram, extremes, time resolution, raster sample."""
        if t.size == 0:
            return
        add_histogram(self.hist, b)
        self.t_first = min(self.t_first, float(t.min()))
        self.t_last = max(self.t_last, float(t.max()))
        self.max_id = max(self.max_id, int(ids.max()))
        u = t if time_sorted else np.unique(t)
        if u.size > 1:
            d = np.diff(u)
            d = d[d > 0]
            if d.size:
                self.resolution = min(self.resolution, float(d.min()))
        if self.raster_select is not None:
            sel = self.raster_select
            m = (ids < sel.size) & (t <= self.raster_hi)
            m[m] = sel[ids[m]]
            if m.any():
                self.raster_t.append(t[m])
                self.raster_i.append(ids[m])

    def block(self, t, ids, b, time_sorted):
        """Per-neuron part. Requires: every neuron's spikes here come after all its spikes seen
        before, and no (neuron, bin) pair has spikes in another block."""
        if t.size == 0:
            return
        self._grow(int(ids.max()) + 1)
        if time_sorted and int(ids.max()) < (1 << 62) // ids.size:
            # Group by neuron keeping time order: sort unique keys (id, position); faster
            # than a stable argsort.
            key = ids * ids.size + np.arange(ids.size, dtype=np.int64)
            key.sort()
            order = key % ids.size
            del key
        elif time_sorted:
            order = np.argsort(ids, kind="stable")
        else:
            order = np.lexsort((t, ids))
        ids, t, b = ids[order], t[order], b[order]
        n = ids.size
        newn = np.empty(n, dtype=bool)
        newn[0] = True
        np.not_equal(ids[1:], ids[:-1], out=newn[1:])
        starts = np.flatnonzero(newn)
        lengths = np.diff(np.append(starts, n))
        u = ids[starts]
        ends = starts + lengths - 1
        # Spike counts.
        self.count[u] += lengths
        full = b < self.n_full
        self.count_full[u] += np.add.reduceat(full.astype(np.int64), starts)
        # Inter-spike intervals, merged per neuron (Chan et al.).
        prev = np.empty(n)
        prev[1:] = t[:-1]
        prev[starts] = self.last[u]
        isi = t - prev
        ok = ~np.isnan(isi)
        if np.any(isi[ok] < 0):
            raise _Disorder()
        self.last[u] = t[ends]
        isi0 = np.where(ok, isi, 0.0)
        nb = np.add.reduceat(ok.astype(np.int64), starts)
        with np.errstate(invalid="ignore", divide="ignore"):
            mb = np.add.reduceat(isi0, starts) / nb
        dev = np.where(ok, isi0 - np.repeat(mb, lengths), 0.0)
        m2b = np.add.reduceat(dev * dev, starts)
        has = nb > 0
        if has.any():
            uu, nb, mb, m2b = u[has], nb[has], mb[has], m2b[has]
            na, ma, m2a = self.isi_n[uu], self.isi_mean[uu], self.isi_m2[uu]
            tot = na + nb
            delta = mb - ma
            self.isi_mean[uu] = ma + delta * nb / tot
            self.isi_m2[uu] = m2a + m2b + delta * delta * na * nb / tot
            self.isi_n[uu] = tot
        # Sum over whole bins of the squared count per neuron: runs of equal (neuron, bin).
        run = newn.copy()
        run[1:] |= b[1:] != b[:-1]
        rstart = np.flatnonzero(run)
        rlen = np.diff(np.append(rstart, n)).astype(np.float64)
        rlen[~full[rstart]] = 0.0
        rid = ids[rstart]
        gfirst = np.flatnonzero(np.r_[True, rid[1:] != rid[:-1]])
        self.sumsq[rid[gfirst]] += np.add.reduceat(rlen * rlen, gfirst)


class PopulationStats:
    """Numbers (for report.json) and arrays (for plots) of one population."""

    def __init__(self, name):
        self.name = name
        self.numbers = {}
        self.rates_hz = None        # per neuron
        self.counts = None          # spikes per neuron in the window
        self.cv = None              # per neuron with enough spikes
        self.hist = None            # spike counts per bin (all bins)
        self.bin_ms = None
        self.raster_t = self.raster_i = None
        self.raster_neurons = None  # the sampled node ids
        self.resolution_ms = None
        self.warnings = []


def even_sample(n, k):
    """About k node ids spread evenly over 0..n-1 (all when k >= n): (bool mask [n], ids)."""
    return _raster_selection(n, k)


def _raster_selection(n, k):
    if k <= 0 or n <= 0:
        return None, np.zeros(0, dtype=np.int64)
    ids = np.unique(np.round(np.linspace(0, n - 1, min(k, n))).astype(np.int64))
    sel = np.zeros(n, dtype=bool)
    sel[ids] = True
    return sel, ids


def analyze_population(pop, n, size_source, window, bin_ms=5.0, chunk=DEFAULT_CHUNK,
                       min_spikes_cv=3, raster_neurons=50, raster_ms=1000.0):
    """Statistics of one population (a spikes.Population) over a Window.
    n: the population size (None: max node id + 1, found by a first pass over node ids)."""
    res = PopulationStats(pop.name)
    if n is None:
        n = pop.max_node_id(chunk) + 1
        size_source = "max node id + 1"
    select, sampled = _raster_selection(n, raster_neurons)
    raster_hi = min(window.hi, window.lo + raster_ms)

    def fresh():
        return _Accumulator(n, window, bin_ms, select, raster_hi)

    acc = fresh()
    path = "streaming (sorted by time)"
    try:
        if pop.sorting == "by_id":
            raise _Disorder()
        _stream(pop, acc, window, chunk)
    except _Disorder:
        acc = fresh()
        path = "passes over node-id ranges (not sorted by time)"
        _by_ranges(pop, acc, window, chunk)
    return _finish(res, pop, acc, n, size_source, window, bin_ms, min_spikes_cv, sampled, path)


def _stream(pop, acc, window, chunk):
    pend_t = pend_i = None
    prev = -math.inf
    for t, ids in pop.chunks(chunk):
        if t.size == 0:
            continue
        if t[0] < prev or (t.size > 1 and np.any(t[1:] < t[:-1])):
            raise _Disorder()
        prev = float(t[-1])
        if pop.sorting == "by_time" and t[0] > window.hi:
            break
        m = window.mask(t)
        if not m.all():
            t, ids = t[m], ids[m]
        if pend_t is not None:
            t, ids = np.concatenate([pend_t, t]), np.concatenate([pend_i, ids])
            pend_t = pend_i = None
        if t.size == 0:
            continue
        b = bin_index(t, window, acc.bin_ms, acc.n_all)
        cut = int(np.searchsorted(b, b[-1], side="left"))  # hold back the last bin
        pend_t, pend_i = t[cut:], ids[cut:]
        if cut:
            acc.observe(t[:cut], ids[:cut], b[:cut], True)
            acc.block(t[:cut], ids[:cut], b[:cut], True)
    if pend_t is not None and pend_t.size:
        b = bin_index(pend_t, window, acc.bin_ms, acc.n_all)
        acc.observe(pend_t, pend_i, b, True)
        acc.block(pend_t, pend_i, b, True)


def _by_ranges(pop, acc, window, chunk):
    counts = np.zeros(acc.size, dtype=np.int64)
    for t, ids in pop.chunks(chunk):
        m = window.mask(t)
        t, ids = t[m], ids[m]
        if t.size == 0:
            continue
        acc.observe(t, ids, bin_index(t, window, acc.bin_ms, acc.n_all), False)
        c = np.bincount(ids)
        if c.size > counts.size:
            counts = np.concatenate([counts, np.zeros(c.size - counts.size, dtype=np.int64)])
        counts[:c.size] += c
    # Node-id ranges of about `budget` spikes each (a neuron is never split).
    budget = max(2 * chunk, 1)
    cum = np.cumsum(counts)
    total = int(cum[-1]) if cum.size else 0
    cuts = np.unique(np.searchsorted(cum, np.arange(budget, total, budget), side="right"))
    edges = [0] + [int(c) for c in cuts if 0 < c < counts.size] + [counts.size]
    ranges = list(zip(edges[:-1], edges[1:]))
    for lo, hi in ranges:
        parts_t, parts_i = [], []
        for t, ids in pop.chunks(chunk):
            m = window.mask(t) & (ids >= lo) & (ids < hi)
            if m.any():
                parts_t.append(t[m])
                parts_i.append(ids[m])
        if parts_t:
            t, ids = np.concatenate(parts_t), np.concatenate(parts_i)
            acc.block(t, ids, bin_index(t, window, acc.bin_ms, acc.n_all), False)


def _finish(res, pop, acc, n, size_source, window, bin_ms, min_spikes_cv, sampled, path):
    if acc.max_id + 1 > n:
        res.warnings.append(f"{pop.name}: node ids up to {acc.max_id} but {n} neurons ({size_source}); "
                            f"using {acc.max_id + 1}")
        n = acc.max_id + 1
    acc._grow(n)
    T_s = window.duration_ms / 1000.0
    count = acc.count[:n]
    total = int(count.sum())
    rates = count / T_s
    res.rates_hz = rates
    res.counts = count
    cv_ok = (count >= max(min_spikes_cv, 3)) & (acc.isi_n[:n] >= 2)
    m2, mean, k = acc.isi_m2[:n][cv_ok], acc.isi_mean[:n][cv_ok], acc.isi_n[:n][cv_ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.sqrt(m2 / (k - 1)) / mean
    res.cv = cv
    nf = acc.n_full
    full = acc.hist[:nf].astype(np.float64)
    fano_pop = fano_neuron = chi = math.nan
    pop_std = pop_max = math.nan
    if nf >= 2:
        mN, vN = full.mean(), full.var()
        fano_pop = vN / mN if mN > 0 else math.nan
        bin_s = bin_ms / 1000.0
        pop_std = math.sqrt(vN) / (n * bin_s)
        pop_max = full.max() / (n * bin_s)
        mi = acc.count_full[:n] / nf
        vi = np.maximum(acc.sumsq[:n] / nf - mi * mi, 0.0)
        active = mi > 0
        if active.any():
            fano_neuron = float(np.mean(vi[active] / mi[active]))
        sv = vi.sum()
        chi = math.sqrt(vN / (n * sv)) if sv > 0 else math.nan
    res.hist = acc.hist
    res.bin_ms = bin_ms
    res.resolution_ms = acc.resolution if math.isfinite(acc.resolution) else None
    if acc.raster_t:
        res.raster_t, res.raster_i = np.concatenate(acc.raster_t), np.concatenate(acc.raster_i)
    else:
        res.raster_t, res.raster_i = np.zeros(0), np.zeros(0, dtype=np.int64)
    res.raster_neurons = sampled
    res.numbers = {
        "neurons": int(n),
        "neurons_source": size_source,
        "spikes": total,
        "spikes_in_file": pop.count,
        "rate_hz": total / (n * T_s) if n else math.nan,
        "rate_std_hz": float(rates.std()) if n else math.nan,
        "rate_median_hz": float(np.median(rates)) if n else math.nan,
        "rate_max_hz": float(rates.max()) if n else math.nan,
        "fraction_silent": float(np.mean(count == 0)) if n else math.nan,
        "cv_isi_mean": float(cv.mean()) if cv.size else math.nan,
        "cv_isi_median": float(np.median(cv)) if cv.size else math.nan,
        "cv_isi_neurons": int(cv.size),
        "fano_population": fano_pop,
        "fano_neuron_mean": fano_neuron,
        "synchrony_chi": chi,
        "population_rate_std_hz": pop_std,
        "population_rate_max_hz": pop_max,
        "bin_ms": bin_ms,
        "bins": nf,
        "first_spike_ms": acc.t_first if total else None,
        "last_spike_ms": acc.t_last if total else None,
        "time_resolution_ms": res.resolution_ms,
        "sorting": pop.sorting,
        "read": path,
    }
    return res


def binned_counts(pop, window, widths, chunk=DEFAULT_CHUNK, outs=None, select=None):
    """Spike counts per whole bin for each bin width (one read of the timestamps for all
    widths); `outs` (int32 arrays, one per width) are added to. A partial last bin is dropped.
    select: a bool mask over node ids: count only those neurons."""
    counts = [bin_count(window, w) for w in widths]
    if outs is None:
        outs = [np.zeros(full, dtype=np.int32) for _, full in counts]
    for t, ids in pop.chunks(chunk, ids=select is not None):
        if t.size == 0:
            continue
        if pop.sorting == "by_time" and t[0] > window.hi:
            break
        m = window.mask(t)
        if select is not None:
            inside = ids < select.size
            m &= inside
            m[m] = select[ids[m]]
        t = t[m]
        if t.size == 0:
            continue
        for w, (n_all, n_full), h in zip(widths, counts, outs):
            if n_full == 0:
                continue
            idx = bin_index(t, window, w, n_all)
            add_histogram(h, idx[idx < n_full])
    return outs
