"""Per-rank tallies of a run, read from <run>/tallies.h5 when that file exists.

Expected layout (all under the group /tallies):
  phase_seconds  float64 [ranks x phases]  wall-clock seconds each rank spent in each phase;
                 attribute `phases`: the phase names (strings), one per column
  bytes_sent     float64 [ranks x ranks]   bytes sent, row = sending rank, column = receiving rank
  energy_joules  float64 [phases]          energy per phase (same phases, same order);
                 attribute `source`: "measured" or "modeled"
Each dataset is optional: what is present is reported and plotted. A dataset of the wrong shape
gives a warning and is skipped; it never stops the spike analysis.
"""
import numpy as np

from . import AnalysisError

MATRIX_RANKS_IN_JSON = 256  # larger rank x rank matrices stay in tallies.h5, out of report.json


def _names(attr):
    out = []
    for v in np.atleast_1d(attr):
        out.append(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
    return out


class Tallies:
    def __init__(self):
        self.phases = None          # list of names
        self.phase_seconds = None   # [ranks x phases]
        self.bytes_sent = None      # [ranks x ranks]
        self.energy_joules = None   # [phases]
        self.energy_phases = None   # names for energy_joules
        self.energy_source = None
        self.warnings = []

    @property
    def empty(self):
        return self.phase_seconds is None and self.bytes_sent is None and self.energy_joules is None

    def numbers(self):
        """Every tally number for report.json, plus per-phase summaries over ranks."""
        out = {}
        if self.phase_seconds is not None:
            ps = self.phase_seconds
            per = {}
            for j, name in enumerate(self.phases):
                col = ps[:, j]
                mean = float(col.mean()) if col.size else float("nan")
                per[name] = {"max_s": float(col.max()), "mean_s": mean, "min_s": float(col.min()),
                             "imbalance_max_over_mean": float(col.max() / mean) if mean > 0 else None}
            total = ps.sum(axis=1)
            out["phases"] = per
            out["total_s_per_rank"] = total.tolist()
            out["phase_seconds"] = ps.tolist()
        if self.bytes_sent is not None:
            b = self.bytes_sent
            off = b.sum() - np.trace(b)
            out["bytes_sent_total"] = float(b.sum())
            out["bytes_sent_off_rank"] = float(off)
            out["bytes_sent_max_per_rank"] = float(b.sum(axis=1).max()) if b.size else 0.0
            out["bytes_received_max_per_rank"] = float(b.sum(axis=0).max()) if b.size else 0.0
            if b.shape[0] <= MATRIX_RANKS_IN_JSON:
                out["bytes_sent"] = b.tolist()
            else:
                out["bytes_sent"] = f"{b.shape[0]} x {b.shape[0]} matrix left out (> {MATRIX_RANKS_IN_JSON} ranks): see tallies.h5"
        if self.energy_joules is not None:
            out["energy_source"] = self.energy_source
            out["energy_joules"] = dict(zip(self.energy_phases, map(float, self.energy_joules)))
            out["energy_joules_total"] = float(self.energy_joules.sum())
        out["ranks"] = self.ranks
        return out

    @property
    def ranks(self):
        if self.phase_seconds is not None:
            return int(self.phase_seconds.shape[0])
        if self.bytes_sent is not None:
            return int(self.bytes_sent.shape[0])
        return None


def read(path):
    """Tallies from tallies.h5; AnalysisError when the file is not HDF5 or has no /tallies."""
    import h5py
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise AnalysisError(f"{path}: cannot open as HDF5: {e}") from None
    t = Tallies()
    with f:
        g = f.get("tallies")
        if not isinstance(g, h5py.Group):
            raise AnalysisError(f"{path}: no /tallies group")
        ps = g.get("phase_seconds")
        if isinstance(ps, h5py.Dataset):
            a = np.asarray(ps[...], dtype=np.float64)
            names = _names(ps.attrs["phases"]) if "phases" in ps.attrs else None
            if a.ndim != 2:
                t.warnings.append(f"{path}: /tallies/phase_seconds is {a.ndim}-d, expected [ranks x phases]; skipped")
            else:
                if names is None or len(names) != a.shape[1]:
                    t.warnings.append(f"{path}: /tallies/phase_seconds has no `phases` attribute naming its "
                                      f"{a.shape[1]} columns; named phase0..")
                    names = [f"phase{j}" for j in range(a.shape[1])]
                t.phase_seconds, t.phases = a, names
        bs = g.get("bytes_sent")
        if isinstance(bs, h5py.Dataset):
            a = np.asarray(bs[...], dtype=np.float64)
            if a.ndim != 2 or a.shape[0] != a.shape[1]:
                t.warnings.append(f"{path}: /tallies/bytes_sent has shape {a.shape}, expected [ranks x ranks]; skipped")
            else:
                t.bytes_sent = a
        en = g.get("energy_joules")
        if isinstance(en, h5py.Dataset):
            a = np.asarray(en[...], dtype=np.float64).reshape(-1)
            src = en.attrs.get("source", "unknown")
            t.energy_source = src.decode() if isinstance(src, bytes) else str(src)
            names = _names(en.attrs["phases"]) if "phases" in en.attrs else t.phases
            if names is None or len(names) != a.size:
                names = [f"phase{j}" for j in range(a.size)]
            t.energy_joules, t.energy_phases = a, names
    if t.empty:
        t.warnings.append(f"{path}: /tallies holds none of phase_seconds, bytes_sent, energy_joules")
    return t
