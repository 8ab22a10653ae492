#!/usr/bin/python3
"""Writes the seed corpus of spike_file_fuzz: small SONATA spike files in myelin's layout
(root attributes magic and version, /spikes/<population>/{timestamps, node_ids}, sorting enum,
units), with the storage variants HDF5 readers meet: chunked (as myelin writes, but with small
chunks; myelin's own files have 8 MiB chunks and are too big for seeds), contiguous, empty,
fixed-length strings, and the newest file format. Run it to regenerate corpus/spike_file_fuzz/.
"""
import os
import sys

import h5py
import numpy as np

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "spike_file_fuzz")
os.makedirs(out, exist_ok=True)
sorting = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")


def write(name, populations, chunks=None, libver="earliest", fixed_units=False):
    path = os.path.join(out, name)
    with h5py.File(path, "w", libver=libver, track_order=False) as f:
        f.attrs.create("magic", 0x0A7A, dtype="<u4")
        f.attrs.create("version", [0, 1], dtype="<u4")
        spikes = f.create_group("spikes")
        for pop, (times, ids) in populations.items():
            g = spikes.create_group(pop)
            g.attrs.create("sorting", 2, dtype=sorting)
            kw = {"maxshape": (None,), "chunks": (chunks,)} if chunks else {}
            ts = g.create_dataset("timestamps", data=np.asarray(times, dtype="<f8"), **kw)
            if fixed_units:
                ts.attrs.create("units", np.bytes_("ms"), dtype="S2")
            else:
                ts.attrs["units"] = "ms"
            g.create_dataset("node_ids", data=np.asarray(ids, dtype="<u8"), **kw)
    print(f"{path}: {os.path.getsize(path)} bytes")


rng = np.random.default_rng(7)
t = np.sort(np.round(rng.uniform(0.1, 50, 40), 1))
two = {"exc": (t, rng.integers(0, 160, t.size)), "inh": (t[:7], rng.integers(0, 40, 7))}
write("chunked.h5", two, chunks=16)
write("contiguous.h5", two)
write("empty.h5", {"exc": ([], []), "delta": ([], [])}, chunks=4)
write("fixed_units.h5", {"L23E": (t[:3], [0, 5, 2])}, fixed_units=True)
write("latest_format.h5", two, chunks=8, libver="latest")
sys.exit(0)
