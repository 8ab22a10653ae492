"""Chunked reading of SONATA spike files.

Layout (SONATA, as myelin writes it):
  /spikes/<population>/timestamps  float64, attribute units = "ms" (or "s")
  /spikes/<population>/node_ids    unsigned integers, 0-based within the population
  group attribute sorting: uint8 enum {none: 0, by_id: 1, by_time: 2}
The older single-population layout (/spikes/timestamps with /spikes/node_ids or /spikes/gids) is
read as one population named "spikes".

Nothing here loads a whole dataset: `Population.chunks` yields slices of at most `chunk` spikes.
"""
import os

import numpy as np

from . import AnalysisError

DEFAULT_CHUNK = 1 << 22  # spikes per read: 2^22 x (8 + 8) bytes = 64 MiB per chunk
SORTING_NAMES = {0: "none", 1: "by_id", 2: "by_time"}


def _h5py():
    import h5py  # imported lazily so that argument errors do not pay for it
    return h5py


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


class Population:
    """One population of a spike file: its datasets are read in chunks, never whole."""

    def __init__(self, path, name, timestamps, node_ids, sorting):
        self.path = path
        self.name = name
        self._timestamps = timestamps
        self._node_ids = node_ids
        self.sorting = sorting  # "none", "by_id", "by_time" or "unknown"
        self.count = int(timestamps.shape[0])
        units = _text(timestamps.attrs.get("units", "ms")).strip().lower()
        if units in ("ms", "millisecond", "milliseconds", ""):
            self.scale = 1.0
        elif units in ("s", "second", "seconds", "sec"):
            self.scale = 1000.0
        else:
            raise AnalysisError(
                f"{path}: /spikes/{name}/timestamps has units '{units}' (expected ms or s)")

    def _read(self, dataset, lo, hi):
        try:
            return dataset[lo:hi]
        except (OSError, RuntimeError, ValueError) as e:
            raise AnalysisError(f"{self.path}: cannot read /spikes/{self.name}: {e}") from None

    def chunks(self, chunk=DEFAULT_CHUNK, times=True, ids=True):
        """Yields (timestamps in ms as float64 or None, node ids as int64 or None) per chunk."""
        for lo in range(0, self.count, chunk):
            hi = min(lo + chunk, self.count)
            t = ids_ = None
            if times:
                t = np.asarray(self._read(self._timestamps, lo, hi), dtype=np.float64)
                if self.scale != 1.0:
                    t = t * self.scale
            if ids:
                ids_ = np.asarray(self._read(self._node_ids, lo, hi))
                if ids_.dtype.kind == "i" and ids_.size and ids_.min() < 0:
                    raise AnalysisError(f"{self.path}: /spikes/{self.name}/node_ids has negative ids")
                ids_ = ids_.astype(np.int64, copy=False)
            yield t, ids_

    def max_node_id(self, chunk=DEFAULT_CHUNK):
        """Largest node id (-1 when empty): one pass over node_ids only."""
        m = -1
        for _, ids in self.chunks(chunk, times=False):
            if ids.size:
                m = max(m, int(ids.max()))
        return m


class SpikeFile:
    """An open SONATA spike file. Raises AnalysisError (one line) for anything unreadable."""

    def __init__(self, path):
        self.path = str(path)
        if not os.path.exists(self.path):
            raise AnalysisError(f"{self.path}: no such file")
        if os.path.isdir(self.path):
            raise AnalysisError(f"{self.path}: is a directory, expected a SONATA spike file")
        if not os.access(self.path, os.R_OK):
            raise AnalysisError(f"{self.path}: permission denied")
        h5py = _h5py()
        try:
            is_hdf5 = h5py.is_hdf5(self.path)
        except OSError:
            is_hdf5 = False
        if not is_hdf5:
            raise AnalysisError(f"{self.path}: not an HDF5 file")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as e:
            raise AnalysisError(f"{self.path}: cannot open HDF5 file: {e}") from None
        try:
            self.populations = self._populations()
        except AnalysisError:
            self._file.close()
            raise
        self.root_attrs = {}
        for k, v in self._file.attrs.items():
            v = v.tolist() if isinstance(v, np.ndarray) else v
            self.root_attrs[k] = _text(v) if isinstance(v, bytes) else v

    def _populations(self):
        h5py = _h5py()
        f = self._file
        try:
            spikes = f["spikes"] if "spikes" in f else None
        except (KeyError, OSError):
            spikes = None
        if spikes is None or not isinstance(spikes, h5py.Group):
            raise AnalysisError(f"{self.path}: no /spikes group: not a SONATA spike file")
        pops = []
        if isinstance(spikes.get("timestamps"), h5py.Dataset):  # older single-population layout
            ids = spikes.get("node_ids", spikes.get("gids"))
            pops.append(self._population("spikes", spikes, spikes["timestamps"], ids))
        for name in sorted(spikes.keys()):
            g = spikes[name]
            if isinstance(g, h5py.Group):
                pops.append(self._population(name, g, g.get("timestamps"), g.get("node_ids")))
        if not pops:
            raise AnalysisError(f"{self.path}: /spikes holds no populations "
                                f"(expected /spikes/<population>/timestamps and node_ids)")
        return pops

    def _population(self, name, group, ts, ids):
        h5py = _h5py()
        where = f"/spikes/{name}" if name != "spikes" else "/spikes"
        if not isinstance(ts, h5py.Dataset) or not isinstance(ids, h5py.Dataset):
            raise AnalysisError(f"{self.path}: {where} lacks the timestamps and node_ids datasets")
        if ts.ndim != 1 or ids.ndim != 1 or ts.shape != ids.shape:
            raise AnalysisError(f"{self.path}: {where}: timestamps {ts.shape} and node_ids {ids.shape} "
                                f"are not two 1-d datasets of one length")
        if ts.dtype.kind != "f" or ids.dtype.kind not in "iu":
            raise AnalysisError(f"{self.path}: {where}: timestamps must be floats and node_ids integers "
                                f"(got {ts.dtype}, {ids.dtype})")
        sorting = "unknown"
        if "sorting" in group.attrs:
            raw = group.attrs["sorting"]
            try:
                sorting = SORTING_NAMES.get(int(raw), "unknown")
            except (TypeError, ValueError):
                sorting = _text(raw).strip().lower()
        return Population(self.path, name, ts, ids, sorting)

    def population(self, name):
        for p in self.populations:
            if p.name == name:
                return p
        raise KeyError(name)

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
