#!/usr/bin/python3
"""Checks myelin output files for the end-to-end tests.

  sonata_check.py layout SPIKES.h5 DT_MS POP:N [POP:N ...]   SONATA spike layout and invariants
  sonata_check.py same A.h5 B.h5                             identical datasets and attributes
  sonata_check.py times SPIKES.h5 POP NODE T1,T2,...          a neuron's spike times, exactly
  sonata_check.py report REPORT.h5 POP NODES ROWS INTERVAL     SONATA report layout
  sonata_check.py min-spikes SPIKES.h5 POP:COUNT ...           at least COUNT spikes per population
"""
import sys

import h5py
import numpy as np


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def check_root(f):
    if int(f.attrs["magic"]) != 0x0A7A:
        fail("root attribute magic is not 0x0A7A")
    if list(f.attrs["version"]) != [0, 1]:
        fail(f"root attribute version is {list(f.attrs['version'])}")


def layout(path, dt, pops):
    with h5py.File(path, "r") as f:
        check_root(f)
        for spec in pops:
            name, n = spec.split(":")
            g = f[f"spikes/{name}"]
            # SONATA: an enum over uint8 {none: 0, by_id: 1, by_time: 2}.
            members = h5py.check_enum_dtype(g.attrs.get_id("sorting").dtype)
            if members is None or members.get("by_time") != 2 or int(g.attrs["sorting"]) != 2:
                fail(f"{name}: sorting is not the enum value by_time")
            ts, ids = g["timestamps"], g["node_ids"]
            if ts.dtype != np.float64 or ids.dtype != np.uint64:
                fail(f"{name}: dtypes {ts.dtype}, {ids.dtype}")
            units = ts.attrs["units"]
            units = units.decode() if isinstance(units, bytes) else str(units)
            if units != "ms":
                fail(f"{name}: units {units}")
            t, i = ts[...], ids[...]
            if len(t) != len(i):
                fail(f"{name}: {len(t)} timestamps but {len(i)} node ids")
            if len(i) and i.max() >= int(n):
                fail(f"{name}: node id {i.max()} >= {n}")
            steps = t / float(dt)
            if len(t) and np.abs(steps - np.round(steps)).max() > 1e-6:
                fail(f"{name}: timestamps off the grid")
            order = np.lexsort((i, t))
            if not np.array_equal(order, np.arange(len(t))):
                fail(f"{name}: not sorted by time, then node id")
            pairs = set(zip(np.round(steps).astype(np.int64).tolist(), i.tolist()))
            if len(pairs) != len(t):
                fail(f"{name}: a neuron spikes twice in one step")
    print("ok")


def same(a, b):
    def walk(f):
        items = {}
        f.visititems(lambda name, obj: items.__setitem__(name, obj))
        return items

    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        ia, ib = walk(fa), walk(fb)
        if sorted(ia) != sorted(ib):
            fail(f"different objects: {sorted(set(ia) ^ set(ib))}")
        for name, obj in ia.items():
            other = ib[name]
            if sorted(obj.attrs.keys()) != sorted(other.attrs.keys()):
                fail(f"{name}: different attributes")
            for k in obj.attrs:
                if not np.array_equal(np.asarray(obj.attrs[k]), np.asarray(other.attrs[k])):
                    fail(f"{name}: attribute {k} differs")
            if isinstance(obj, h5py.Dataset):
                x, y = obj[...], other[...]
                if x.dtype != y.dtype or x.shape != y.shape or x.tobytes() != y.tobytes():
                    fail(f"{name}: data differ ({x.shape} vs {y.shape})")
    print("ok")


def times(path, pop, node, expected):
    with h5py.File(path, "r") as f:
        t = f[f"spikes/{pop}/timestamps"][...]
        i = f[f"spikes/{pop}/node_ids"][...]
    got = t[i == int(node)]
    want = np.array([float(x) for x in expected.split(",")])
    if len(got) != len(want) or np.abs(got - want).max() > 1e-9:
        fail(f"{pop}[{node}] spikes at {got.tolist()}, expected {want.tolist()}")
    print("ok")


def report(path, pop, nodes, rows, interval):
    nodes = [int(x) for x in nodes.split(",")]
    with h5py.File(path, "r") as f:
        check_root(f)
        g = f[f"report/{pop}"]
        data = g["data"]
        if data.dtype != np.float32 or data.shape != (int(rows), len(nodes)):
            fail(f"data {data.dtype} {data.shape}, expected float32 ({rows}, {len(nodes)})")
        m = g["mapping"]
        if m["node_ids"][...].tolist() != nodes:
            fail(f"node_ids {m['node_ids'][...].tolist()}")
        if m["index_pointers"][...].tolist() != list(range(len(nodes) + 1)):
            fail("index_pointers")
        t = m["time"][...]
        if abs(t[2] - float(interval)) > 1e-12 or abs(t[1] - t[0] - int(rows) * float(interval)) > 1e-9:
            fail(f"time {t.tolist()}")
        if not np.all(np.isfinite(data[...])):
            fail("non-finite samples")
    print("ok")


def min_spikes(path, specs):
    with h5py.File(path, "r") as f:
        for spec in specs:
            name, count = spec.split(":")
            n = f[f"spikes/{name}/node_ids"].shape[0]
            if n < int(count):
                fail(f"{name}: {n} spikes, expected at least {count}")
    print("ok")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "layout":
        layout(args[0], args[1], args[2:])
    elif cmd == "same":
        same(args[0], args[1])
    elif cmd == "times":
        times(*args)
    elif cmd == "report":
        report(*args)
    elif cmd == "min-spikes":
        min_spikes(args[0], args[1:])
    else:
        fail(f"unknown check {cmd}")
