"""Per-rank tallies of a run, read from <run>/tallies.h5 when that file exists.

The file covers the steps this process simulated, [start_step, end_step) (after a restart the
earlier process's file is kept under another name). R = ranks, P = phases, W = windows.

/tallies                    group; attributes (scalars; integers may be int64 or uint64):
  format_version int64; n_ranks, n_threads (per rank), n_nodes (hosts) int64; n_neurons, n_synapses
  dt_ms, min_delay_ms, window_ms, model_time_ms float64   model_time_ms = (end_step - start_step) * dt_ms
  start_step, end_step int64
  wall_seconds float64       simulation loop wall time (slowest rank); build_seconds float64
  real_time_factor float64   wall_seconds / (model_time_ms / 1000)
  load_imbalance float64     max / mean over ranks of compute seconds (update + deliver)
  mean_rate_hz float64       spikes / (n_neurons x model time)
  energy_source string       "measured" (RAPL powercap) or "modeled"; energy_preset string
  watts_per_active_core, idle_watts_per_node, joules_per_byte, joules_per_synaptic_event float64
  brain_watts float64        20 W x n_neurons / 86e9; brain_joules_per_synaptic_event float64
  energy_joules, average_watts, joules_per_synaptic_event_run float64 (the run's totals)
  node_memory_bytes uint64   memory of a node (MemTotal; 0: unknown), myelin-plan's default node memory
  cores_per_node int64       hardware threads of a node (shown by myelin-plan)
/tallies/phase_seconds   float64 [R x P]  attribute `phases` (names); wall seconds per phase and rank
/tallies/bytes_sent      float64 [R x R]  row = sending rank, column = receiving rank
/tallies/spikes_sent     uint64  [R x R]  spike messages, same orientation
/tallies/bytes_received  float64 [R x R]  row = receiving rank, column = sending rank
/tallies/energy_joules   float64 [P]      attribute `source`; energy per phase summed over ranks
/tallies/rank/<name>     [R]   per-rank totals: neurons, synapses, neuron_updates, spikes_emitted,
                         synaptic_events, poisson_events, spikes_sent, bytes_sent, bytes_received,
                         collectives, peak_rss_bytes (uint64); compute_seconds, cpu_seconds,
                         energy_joules (float64); node (int64)
/tallies/windows/        one row per window of window_ms model time (the last may be shorter):
                         t_start_ms, t_end_ms float64 [W]; spikes_emitted, synaptic_events,
                         bytes_sent [W x R]; phase_seconds float64 [W x R x P]; energy_joules [W]

Every part is optional: what is present is reported and plotted. A dataset of the wrong shape gives
a warning and is skipped; it never stops the spike analysis. Files with only phase_seconds,
bytes_sent and energy_joules (the first layout) read as before.

Derived numbers (Tallies.derived(); all in report.json under tallies.derived):
  energy_joules_total        sum of /tallies/energy_joules, else of rank/energy_joules, else the
                             /tallies attribute energy_joules
  average_power_watts        energy_joules_total / wall_seconds
  synaptic_events_total      sum of rank/synaptic_events, else of windows/synaptic_events
  energy_per_synaptic_event_joules   energy_joules_total / synaptic_events_total
  synaptic_events_per_second_per_core  synaptic_events_total / wall_seconds / (n_ranks x n_threads)
  brain_power_ratio          average_power_watts / brain_watts (run over brain; brain_watts when
                             absent: 20 W x n_neurons / 86e9)
  brain_energy_per_event_ratio  energy_per_synaptic_event_joules / brain_joules_per_synaptic_event
                             (when absent: 20 W / (1e14 synapses x mean_rate_hz))
  bytes_sent_total, bytes_sent_off_rank, spike_messages_total, bytes_per_spike_message (off-rank
  bytes / off-rank spike messages), bytes_sent_per_model_second
  exchange_share             sum over ranks of exchange seconds / sum over ranks of all phase seconds
  load_imbalance             the attribute, else max/mean of rank/compute_seconds, else of
                             update + deliver phase seconds
"""
import math

import numpy as np

from . import AnalysisError

MATRIX_RANKS_IN_JSON = 256   # larger rank x rank matrices stay in tallies.h5, out of report.json
RANK_LISTS_IN_JSON = 65536   # per-rank lists longer than this stay in tallies.h5
WINDOWS_IN_JSON = 20000      # per-window series longer than this stay in tallies.h5

BRAIN_WATTS = 20.0
BRAIN_NEURONS = 86e9
BRAIN_SYNAPSES = 1e14

RANK_FIELDS = ["node", "neurons", "synapses", "neuron_updates", "spikes_emitted", "synaptic_events",
               "poisson_events", "spikes_sent", "bytes_sent", "bytes_received", "collectives",
               "peak_rss_bytes", "compute_seconds", "cpu_seconds", "energy_joules"]
WINDOW_RANK_FIELDS = ["spikes_emitted", "synaptic_events", "bytes_sent"]


def _names(attr):
    out = []
    for v in np.atleast_1d(attr):
        out.append(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
    return out


def _scalar(v):
    """An HDF5 attribute value as a plain Python value (str, int, float, bool or list)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        if v.shape == () or v.size == 1 and v.ndim <= 1:
            return _scalar(v.reshape(-1)[0] if v.ndim else v[()])
        return [_scalar(x) for x in v.reshape(-1)]
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    return str(v)  # anything else (compound, reference): as text, so that report.json stays JSON


def _num(v):
    """A finite number or None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if math.isfinite(v) else None


def _div(a, b):
    if a is None or b is None or b == 0:
        return None
    r = a / b
    return r if math.isfinite(r) else None


class Tallies:
    def __init__(self):
        self.path = None
        self.attrs = {}             # /tallies attributes, plain Python values
        self.phases = None          # list of names
        self.phase_seconds = None   # [ranks x phases]
        self.bytes_sent = None      # [ranks x ranks], row = sender
        self.spikes_sent = None     # [ranks x ranks], row = sender
        self.bytes_received = None  # [ranks x ranks], row = receiver
        self.energy_joules = None   # [phases]
        self.energy_phases = None   # names for energy_joules
        self.energy_source = None
        self.rank = {}              # name -> [ranks]
        self.windows = None         # {"t_start_ms", "t_end_ms": [W], name: [W x R], "phase_seconds": [W x R x P],
        #                              "energy_joules": [W]}
        self.warnings = []

    @property
    def empty(self):
        return (self.phase_seconds is None and self.bytes_sent is None and self.energy_joules is None
                and self.spikes_sent is None and self.bytes_received is None and not self.rank
                and self.windows is None and not self.attrs)

    def attr(self, name):
        """A numeric attribute or None."""
        return _num(self.attrs.get(name))

    def int_attr(self, name):
        v = self.attr(name)
        return int(v) if v is not None and float(v).is_integer() else None

    def str_attr(self, name):
        v = self.attrs.get(name)
        return v if isinstance(v, str) else None

    @property
    def ranks(self):
        n = self.int_attr("n_ranks")
        if n is not None and n > 0:
            return n
        for a in (self.phase_seconds, self.bytes_sent, self.spikes_sent, self.bytes_received):
            if a is not None:
                return int(a.shape[0])
        for a in self.rank.values():
            return int(a.shape[0])
        return None

    @property
    def cores(self):
        r, t = self.int_attr("n_ranks"), self.int_attr("n_threads")
        return r * t if r and t else None

    def phase(self, name):
        """The [ranks] column of a phase, or None."""
        if self.phase_seconds is None or name not in self.phases:
            return None
        return self.phase_seconds[:, self.phases.index(name)]

    def rank_total(self, name):
        a = self.rank.get(name)
        return float(a.sum()) if a is not None else None

    def sent_bytes_matrix(self):
        """Bytes [sender x receiver]: bytes_sent, else bytes_received transposed."""
        if self.bytes_sent is not None:
            return self.bytes_sent
        if self.bytes_received is not None:
            return self.bytes_received.T
        return None

    # ---------------------------------------------------------------------------- derived numbers
    def energy_total(self):
        if self.energy_joules is not None:
            return float(self.energy_joules.sum()), "/tallies/energy_joules"
        if "energy_joules" in self.rank:
            return float(self.rank["energy_joules"].sum()), "/tallies/rank/energy_joules"
        if self.attr("energy_joules") is not None:
            return self.attr("energy_joules"), "/tallies attribute energy_joules"
        return None, None

    def events_total(self):
        if "synaptic_events" in self.rank:
            return float(self.rank["synaptic_events"].sum())
        if self.windows is not None and "synaptic_events" in self.windows:
            return float(self.windows["synaptic_events"].sum())
        return None

    def load_imbalance(self):
        v = self.attr("load_imbalance")
        if v is not None:
            return v, "attribute load_imbalance"
        comp = self.rank.get("compute_seconds")
        src = "rank/compute_seconds"
        if comp is None:
            up, de = self.phase("update"), self.phase("deliver")
            if up is None or de is None:
                return None, None
            comp, src = up + de, "phase_seconds update + deliver"
        mean = float(comp.mean()) if comp.size else 0.0
        return (_div(float(comp.max()), mean), f"max/mean of {src}") if mean > 0 else (None, None)

    def derived(self):
        d = {}
        wall = self.attr("wall_seconds")
        model_ms = self.attr("model_time_ms")
        model_s = model_ms / 1000.0 if model_ms is not None else None
        d["wall_seconds"] = wall
        d["model_seconds"] = model_s
        rtf = self.attr("real_time_factor")
        d["real_time_factor"] = rtf if rtf is not None else _div(wall, model_s)
        d["load_imbalance"], d["load_imbalance_source"] = self.load_imbalance()
        d["cores"] = self.cores
        energy, src = self.energy_total()
        d["energy_joules_total"], d["energy_total_source"] = energy, src
        d["energy_source"] = self.energy_source or self.str_attr("energy_source")
        d["energy_preset"] = self.str_attr("energy_preset")
        d["average_power_watts"] = _div(energy, wall)
        events = self.events_total()
        d["synaptic_events_total"] = events
        d["energy_per_synaptic_event_joules"] = _div(energy, events)
        d["synaptic_events_per_second_per_core"] = _div(_div(events, wall), self.cores)
        d["synaptic_events_per_model_second"] = _div(events, model_s)
        n_neurons = self.attr("n_neurons")
        bw = self.attr("brain_watts")
        d["brain_watts"] = bw if bw is not None else (BRAIN_WATTS * n_neurons / BRAIN_NEURONS
                                                      if n_neurons is not None else None)
        rate = self.attr("mean_rate_hz")
        d["mean_rate_hz"] = rate
        bj = self.attr("brain_joules_per_synaptic_event")
        if bj is None and rate:
            bj = BRAIN_WATTS / (BRAIN_SYNAPSES * rate)
        d["brain_joules_per_synaptic_event"] = bj
        d["brain_power_ratio"] = _div(d["average_power_watts"], d["brain_watts"])
        d["brain_energy_per_event_ratio"] = _div(d["energy_per_synaptic_event_joules"], bj)
        b = self.sent_bytes_matrix()
        if b is not None:
            d["bytes_sent_total"] = float(b.sum())
            d["bytes_sent_off_rank"] = float(b.sum() - np.trace(b))
        elif "bytes_sent" in self.rank:
            d["bytes_sent_total"] = d["bytes_sent_off_rank"] = float(self.rank["bytes_sent"].sum())
        else:
            d["bytes_sent_total"] = d["bytes_sent_off_rank"] = None
        if self.spikes_sent is not None:
            s = self.spikes_sent
            d["spike_messages_total"] = float(s.sum())
            d["spike_messages_off_rank"] = float(s.sum() - np.trace(s))
        elif "spikes_sent" in self.rank:
            d["spike_messages_total"] = d["spike_messages_off_rank"] = float(self.rank["spikes_sent"].sum())
        else:
            d["spike_messages_total"] = d["spike_messages_off_rank"] = None
        d["bytes_per_spike_message"] = _div(d["bytes_sent_off_rank"], d["spike_messages_off_rank"])
        d["bytes_sent_per_model_second"] = _div(d["bytes_sent_total"], model_s)
        d["bytes_sent_per_wall_second"] = _div(d["bytes_sent_total"], wall)
        ex = self.phase("exchange")
        if ex is not None:
            tot = self.phase_seconds.sum(axis=1)
            d["exchange_share"] = _div(float(ex.sum()), float(tot.sum()))
            shares = [_div(float(e), float(t)) for e, t in zip(ex, tot)]
            d["exchange_share_max_rank"] = max((x for x in shares if x is not None), default=None)
        else:
            d["exchange_share"] = d["exchange_share_max_rank"] = None
        d["collectives_total"] = self.rank_total("collectives")
        d["peak_rss_bytes_total"] = self.rank_total("peak_rss_bytes")
        d["peak_rss_bytes_max"] = float(self.rank["peak_rss_bytes"].max()) if "peak_rss_bytes" in self.rank else None
        return d

    def window_series(self):
        """Per-window summaries over ranks (None without windows)."""
        w = self.windows
        if w is None:
            return None
        out = {"count": int(w["t_start_ms"].size), "t_start_ms": w["t_start_ms"], "t_end_ms": w["t_end_ms"]}
        for name in WINDOW_RANK_FIELDS:
            if name in w:
                out[name] = w[name].sum(axis=1)
        if "phase_seconds" in w:
            ps = w["phase_seconds"]
            out["phase_seconds_mean_over_ranks"] = {p: ps[:, :, j].mean(axis=1) for j, p in enumerate(self.phases)}
            out["phase_seconds_max_over_ranks"] = {p: ps[:, :, j].max(axis=1) for j, p in enumerate(self.phases)}
            slowest = ps.sum(axis=2).max(axis=1)
            out["slowest_rank_seconds"] = slowest
            length_s = (w["t_end_ms"] - w["t_start_ms"]) / 1000.0
            with np.errstate(divide="ignore", invalid="ignore"):
                out["real_time_factor"] = np.where(length_s > 0, slowest / np.where(length_s > 0, length_s, 1), np.nan)
        if "energy_joules" in w:
            out["energy_joules"] = w["energy_joules"]
        return out

    def numbers(self):
        """Every tally number for report.json, plus per-phase summaries over ranks."""
        out = {"ranks": self.ranks, "attributes": dict(self.attrs), "derived": self.derived()}
        if self.phase_seconds is not None:
            ps = self.phase_seconds
            total = ps.sum(axis=1)
            per = {}
            for j, name in enumerate(self.phases):
                col = ps[:, j]
                mean = float(col.mean()) if col.size else float("nan")
                per[name] = {"max_s": float(col.max()), "mean_s": mean, "min_s": float(col.min()),
                             "imbalance_max_over_mean": float(col.max() / mean) if mean > 0 else None,
                             "share_of_time": _div(float(col.sum()), float(total.sum()))}
            out["phases"] = per
            out["total_s_per_rank"] = total.tolist()
            out["phase_seconds"] = ps.tolist()
        b = self.sent_bytes_matrix()
        if b is not None:
            d = out["derived"]
            out["bytes_sent_total"] = d["bytes_sent_total"]
            out["bytes_sent_off_rank"] = d["bytes_sent_off_rank"]
            out["bytes_sent_max_per_rank"] = float(b.sum(axis=1).max()) if b.size else 0.0
            out["bytes_received_max_per_rank"] = float(b.sum(axis=0).max()) if b.size else 0.0
        for name in ("bytes_sent", "spikes_sent", "bytes_received"):
            m = getattr(self, name)
            if m is None:
                continue
            if m.shape[0] <= MATRIX_RANKS_IN_JSON:
                out[name] = m.tolist()
            else:
                out[name] = (f"{m.shape[0]} x {m.shape[0]} matrix left out (> {MATRIX_RANKS_IN_JSON} ranks): "
                             "see tallies.h5")
        if self.energy_joules is not None:
            out["energy_joules"] = dict(zip(self.energy_phases, map(float, self.energy_joules)))
        e, _ = self.energy_total()
        if e is not None:
            out["energy_source"] = out["derived"]["energy_source"]
            out["energy_joules_total"] = e
        if self.rank:
            out["rank_totals"] = {k: float(v.sum()) for k, v in self.rank.items()}
            if (self.ranks or 0) <= RANK_LISTS_IN_JSON:
                out["rank"] = {k: v.tolist() for k, v in self.rank.items()}
            else:
                out["rank"] = f"per-rank lists left out (> {RANK_LISTS_IN_JSON} ranks): see tallies.h5"
        ws = self.window_series()
        if ws is not None:
            if ws["count"] <= WINDOWS_IN_JSON:
                out["windows"] = ws
            else:
                out["windows"] = {"count": ws["count"],
                                  "note": f"per-window series left out (> {WINDOWS_IN_JSON} windows): see tallies.h5"}
        return out


def _dataset(g, name, h5py):
    ds = g.get(name)
    return ds if isinstance(ds, h5py.Dataset) else None


def read(path):
    """Tallies from tallies.h5; AnalysisError when the file is not HDF5 or has no /tallies."""
    import h5py
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise AnalysisError(f"{path}: cannot open as HDF5: {e}") from None
    t = Tallies()
    t.path = path
    warn = t.warnings.append
    with f:
        g = f.get("tallies")
        if not isinstance(g, h5py.Group):
            raise AnalysisError(f"{path}: no /tallies group")
        for k in g.attrs:
            try:
                t.attrs[k] = _scalar(g.attrs[k])
            except (OSError, TypeError, ValueError) as e:
                warn(f"{path}: /tallies attribute {k} unreadable ({e}); skipped")
        n_attr = t.int_attr("n_ranks")
        R = n_attr if n_attr is not None and n_attr > 0 else None

        def want_ranks(name, a, shape_txt):
            """True when `a`'s leading dimension matches the rank count (fixing it when unknown)."""
            nonlocal R
            if R is None:
                R = int(a.shape[0])
                return True
            if a.shape[0] != R:
                warn(f"{path}: /tallies/{name} has shape {a.shape}, expected {shape_txt} with {R} ranks; skipped")
                return False
            return True

        ps = _dataset(g, "phase_seconds", h5py)
        if ps is not None:
            a = np.asarray(ps[...], dtype=np.float64)
            names = _names(ps.attrs["phases"]) if "phases" in ps.attrs else None
            if a.ndim != 2:
                warn(f"{path}: /tallies/phase_seconds is {a.ndim}-d, expected [ranks x phases]; skipped")
            elif want_ranks("phase_seconds", a, "[ranks x phases]"):
                if names is None or len(names) != a.shape[1]:
                    warn(f"{path}: /tallies/phase_seconds has no `phases` attribute naming its "
                         f"{a.shape[1]} columns; named phase0..")
                    names = [f"phase{j}" for j in range(a.shape[1])]
                t.phase_seconds, t.phases = a, names
        for name in ("bytes_sent", "spikes_sent", "bytes_received"):
            ds = _dataset(g, name, h5py)
            if ds is None:
                continue
            a = np.asarray(ds[...], dtype=np.float64)
            if a.ndim != 2 or a.shape[0] != a.shape[1]:
                warn(f"{path}: /tallies/{name} has shape {a.shape}, expected [ranks x ranks]; skipped")
            elif want_ranks(name, a, "[ranks x ranks]"):
                setattr(t, name, a)
        en = _dataset(g, "energy_joules", h5py)
        if en is not None:
            a = np.asarray(en[...], dtype=np.float64)
            src = en.attrs.get("source", t.attrs.get("energy_source", "unknown"))
            t.energy_source = src.decode() if isinstance(src, bytes) else str(src)
            if a.ndim > 1 and a.size != max(a.shape):
                warn(f"{path}: /tallies/energy_joules has shape {a.shape}, expected [phases]; skipped")
            else:
                a = a.reshape(-1)
                names = _names(en.attrs["phases"]) if "phases" in en.attrs else t.phases
                if names is None or len(names) != a.size:
                    names = [f"phase{j}" for j in range(a.size)]
                t.energy_joules, t.energy_phases = a, names
        if t.energy_source is None and t.str_attr("energy_source"):
            t.energy_source = t.str_attr("energy_source")
        rg = g.get("rank")
        if isinstance(rg, h5py.Group):
            for name in rg:
                ds = _dataset(rg, name, h5py)
                if ds is None:
                    continue
                try:
                    a = np.asarray(ds[...], dtype=np.float64)
                except (TypeError, ValueError):
                    warn(f"{path}: /tallies/rank/{name} is not numeric; skipped")
                    continue
                if a.ndim != 1:
                    warn(f"{path}: /tallies/rank/{name} has shape {a.shape}, expected [ranks]; skipped")
                elif want_ranks(f"rank/{name}", a, "[ranks]"):
                    t.rank[name] = a
        elif rg is not None:
            warn(f"{path}: /tallies/rank is not a group; skipped")
        wg = g.get("windows")
        if isinstance(wg, h5py.Group):
            t.windows = _read_windows(path, wg, t, R, h5py)
        elif wg is not None:
            warn(f"{path}: /tallies/windows is not a group; skipped")
    if t.empty:
        warn(f"{path}: /tallies holds no attributes and none of phase_seconds, bytes_sent, energy_joules, "
             "rank/, windows/")
    return t


def _read_windows(path, wg, t, R, h5py):
    warn = t.warnings.append

    def get(name):
        ds = _dataset(wg, name, h5py)
        if ds is None:
            return None
        try:
            return np.asarray(ds[...], dtype=np.float64)
        except (TypeError, ValueError):
            warn(f"{path}: /tallies/windows/{name} is not numeric; skipped")
            return None

    t0, t1 = get("t_start_ms"), get("t_end_ms")
    width = t.attr("window_ms")
    if t0 is None and t1 is None:
        if any(True for _ in wg):
            warn(f"{path}: /tallies/windows has no t_start_ms or t_end_ms; windows skipped")
        return None
    if t0 is not None and t0.ndim != 1 or t1 is not None and t1.ndim != 1:
        warn(f"{path}: /tallies/windows/t_start_ms and t_end_ms must be 1-d [windows]; windows skipped")
        return None
    if t0 is None or t1 is None:
        if not width:
            warn(f"{path}: /tallies/windows lacks {'t_start_ms' if t0 is None else 't_end_ms'} and /tallies has "
                 "no window_ms; windows skipped")
            return None
        t0 = t1 - width if t0 is None else t0
        t1 = t0 + width if t1 is None else t1
    if t0.shape != t1.shape:
        warn(f"{path}: /tallies/windows/t_start_ms {t0.shape} and t_end_ms {t1.shape} differ; windows skipped")
        return None
    W = t0.size
    out = {"t_start_ms": t0, "t_end_ms": t1}
    for name in WINDOW_RANK_FIELDS:
        a = get(name)
        if a is None:
            continue
        if a.ndim == 1 and a.size == W and R in (None, 1):
            a = a.reshape(W, 1)
        if a.ndim != 2 or a.shape[0] != W or (R is not None and a.shape[1] != R):
            warn(f"{path}: /tallies/windows/{name} has shape {a.shape}, expected [{W} windows x "
                 f"{R if R is not None else 'ranks'} ranks]; skipped")
            continue
        out[name] = a
    ps = get("phase_seconds")
    if ps is not None:
        P = len(t.phases) if t.phases is not None else None
        if (ps.ndim != 3 or ps.shape[0] != W or (R is not None and ps.shape[1] != R)
                or (P is not None and ps.shape[2] != P)):
            warn(f"{path}: /tallies/windows/phase_seconds has shape {ps.shape}, expected [{W} windows x "
                 f"{R if R is not None else 'ranks'} ranks x {P if P is not None else 'phases'} phases]; skipped")
        else:
            if t.phases is None:
                t.phases = [f"phase{j}" for j in range(ps.shape[2])]
            out["phase_seconds"] = ps
    e = get("energy_joules")
    if e is not None:
        if e.ndim != 1 or e.size != W:
            warn(f"{path}: /tallies/windows/energy_joules has shape {e.shape}, expected [{W} windows]; skipped")
        else:
            out["energy_joules"] = e
    return out
