#!/usr/bin/python3
"""Checks a run's tallies.h5 (layout in src/io/tally_file.cpp) against independent calculations.

  tally_check.py RUN_DIR [--outdegree POP=N ...] [--delay-steps POP=D ...] [--energy-model]
      counts: synaptic events = sum over the spikes in spikes.h5 that arrived before the end
      (step + delay < n_steps) of the source's out-degree (per projection: --edge POP:OUT:DELAY);
      windows sum to the totals; bytes_received = bytes_sent transposed; every spike message is
      8 bytes; modeled energy per phase equals the documented formula on the file's own counts.
  tally_check.py --same A B       the decomposition-independent totals of two runs are equal.
Exits 1 with one line per failure.
"""
import argparse
import sys

import h5py
import numpy as np

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def spikes_by_population(run):
    with h5py.File(f"{run}/spikes.h5", "r") as f:
        out = {}
        for pop, g in f["spikes"].items():
            out[pop] = (np.asarray(g["timestamps"]), np.asarray(g["node_ids"]))
        return out


def check_counts(run, edges):
    with h5py.File(f"{run}/tallies.h5", "r") as f:
        t = f["tallies"]
        dt = float(t.attrs["dt_ms"])
        n_steps = int(t.attrs["end_step"])
        ranks = int(t.attrs["n_ranks"])
        spikes = spikes_by_population(run)
        expected_events = 0
        for pop, out_degree, delay_steps in edges:
            steps = np.rint(spikes[pop][0] / dt).astype(np.int64) - 1  # a spike at step s has time (s + 1) dt
            expected_events += out_degree * int(np.count_nonzero(steps + delay_steps < n_steps))
        events = int(np.sum(t["rank/synaptic_events"][()]))
        check(events == expected_events, f"synaptic events {events} != {expected_events} from spikes.h5 and out-degrees")
        n_spikes = sum(len(v[0]) for v in spikes.values())
        check(int(np.sum(t["rank/spikes_emitted"][()])) == n_spikes,
              f"spikes emitted {int(np.sum(t['rank/spikes_emitted'][()]))} != {n_spikes} in spikes.h5")

        sent = t["bytes_sent"][()]
        received = t["bytes_received"][()]
        spikes_sent = t["spikes_sent"][()]
        check(sent.shape == (ranks, ranks), f"bytes_sent shape {sent.shape}")
        check(np.array_equal(received, sent.T), "bytes_received is not bytes_sent transposed")
        check(np.array_equal(sent, 8.0 * spikes_sent), "bytes_sent != 8 x spikes_sent")
        off = sent.sum() - np.trace(sent)
        check(int(np.sum(t["rank/bytes_sent"][()])) == int(off), "rank/bytes_sent != off-diagonal of bytes_sent")
        # Every spike goes to each rank holding a target of its source: with all-to-all targets
        # spread over every rank, each rank sends its spikes to every rank (itself included).
        if ranks > 1:
            per_rank_spikes = t["rank/spikes_emitted"][()]
            for r in range(ranks):
                check(spikes_sent[r].sum() == ranks * per_rank_spikes[r],
                      f"rank {r} sent {spikes_sent[r].sum()} spike messages, expected {ranks} x {per_rank_spikes[r]}")
            check(int(np.sum(t["rank/collectives"][()])) > 0, "no collectives counted with several ranks")

        w = t["windows"]
        for name in ("spikes_emitted", "synaptic_events", "bytes_sent"):
            check(np.array_equal(w[name][()].sum(axis=0), t[f"rank/{name}"][()]), f"windows/{name} do not sum to rank/{name}")
        check(np.allclose(w["phase_seconds"][()].sum(axis=0), t["phase_seconds"][()], rtol=1e-9, atol=1e-12),
              "windows/phase_seconds do not sum to phase_seconds")
        starts, ends = w["t_start_ms"][()], w["t_end_ms"][()]
        check(np.allclose(starts[1:], ends[:-1]), "windows are not contiguous")
        check(close(ends[-1] - starts[0], float(t.attrs["model_time_ms"])), "windows do not cover the model time")
        check(close(float(w["energy_joules"][()].sum()), float(t["energy_joules"][()].sum()), 1e-6),
              "windows/energy_joules do not sum to energy_joules")
        return t.attrs["energy_source"]


def check_modeled_energy(run):
    with h5py.File(f"{run}/tallies.h5", "r") as f:
        t = f["tallies"]
        a = t.attrs
        threads, ranks = int(a["n_threads"]), int(a["n_ranks"])
        per_node = np.bincount(t["rank/node"][()])
        ranks_on_node = per_node[t["rank/node"][()]]
        ps = t["phase_seconds"][()]
        phases = [p.decode() if isinstance(p, bytes) else p for p in t["phase_seconds"].attrs["phases"]]
        expected = np.zeros(len(phases))
        for r in range(ranks):
            for j, p in enumerate(phases):
                e = a["watts_per_active_core"] * threads * ps[r, j] + a["idle_watts_per_node"] * ps[r, j] / ranks_on_node[r]
                if p == "exchange":
                    e += a["joules_per_byte"] * t["rank/bytes_sent"][r]
                if p == "deliver":
                    e += a["joules_per_synaptic_event"] * t["rank/synaptic_events"][r]
                expected[j] += e
        got = t["energy_joules"][()]
        for j, p in enumerate(phases):
            check(close(got[j], expected[j]), f"modeled energy of {p}: {got[j]} J != formula {expected[j]} J")
        check(close(float(a["energy_joules"]), float(expected.sum())), "energy_joules attribute != sum of phases")
        events = int(np.sum(t["rank/synaptic_events"][()]))
        check(close(float(a["joules_per_synaptic_event_run"]), expected.sum() / events), "energy per synaptic event")
        n = int(a["n_neurons"])
        check(close(float(a["brain_watts"]), 20.0 * n / 86e9), "brain_watts != 20 W x n / 86e9")
        rate = float(a["mean_rate_hz"])
        check(close(float(a["brain_joules_per_synaptic_event"]), 20.0 / (1e14 * rate)), "brain energy per event")


def check_same(a_run, b_run):
    with h5py.File(f"{a_run}/tallies.h5", "r") as fa, h5py.File(f"{b_run}/tallies.h5", "r") as fb:
        for name in ("neuron_updates", "spikes_emitted", "synaptic_events", "poisson_events", "neurons", "synapses"):
            va, vb = int(np.sum(fa[f"tallies/rank/{name}"][()])), int(np.sum(fb[f"tallies/rank/{name}"][()]))
            check(va == vb, f"total {name}: {va} in {a_run} != {vb} in {b_run}")
        for name in ("spikes_emitted", "synaptic_events"):
            va = fa[f"tallies/windows/{name}"][()].sum(axis=1)
            vb = fb[f"tallies/windows/{name}"][()].sum(axis=1)
            check(np.array_equal(va, vb), f"windows/{name} summed over ranks differ between {a_run} and {b_run}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("run", nargs="?")
    p.add_argument("--edge", action="append", default=[], help="POP:OUT_DEGREE:DELAY_STEPS")
    p.add_argument("--energy-model", action="store_true")
    p.add_argument("--expect-source")
    p.add_argument("--same", nargs=2)
    a = p.parse_args()
    if a.same:
        check_same(*a.same)
    else:
        edges = [(e.split(":")[0], int(e.split(":")[1]), int(e.split(":")[2])) for e in a.edge]
        source = check_counts(a.run, edges)
        if a.expect_source:
            check(source == a.expect_source, f"energy_source {source!r}, expected {a.expect_source!r}")
        if a.energy_model:
            check_modeled_energy(a.run)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
