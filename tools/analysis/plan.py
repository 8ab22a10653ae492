"""myelin-plan: scales a finished run to a target network (by default the human brain) with a
simple, stated model, and says for every number whether it was MEASURED in the run, given as an
INPUT (an option or its default), or EXTRAPOLATED by the model.

Inputs from the run directory: tallies.h5 (layout in tallies.py; required: the /tallies
attributes n_ranks, n_threads, n_nodes, n_neurons, n_synapses, model_time_ms, wall_seconds and
the dataset phase_seconds with the phases update and deliver), summary.json (fallback for counts
the tallies lack, and synapse_bytes for the memory split).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

from . import AnalysisError
from . import tallies as tallies_mod

BRAIN_NEURONS = 86e9
BRAIN_SYNAPSES = 1e14
BRAIN_WATTS = 20.0
DEFAULT_BANDWIDTH_GBPS = 100.0
DEFAULT_LATENCY_US = 1.5
DEFAULT_NODE_MEMORY_GIB = 256.0
MYELIN_BYTES_PER_SPIKE = 8      # the payload of one spike message: src/comm spike_exchange
COLLECTIVES_PER_INTERVAL = 2    # MPI_Alltoall (counts) + MPI_Alltoallv (payload)
GIB = 2.0 ** 30

MEASURED, INPUT, EXTRAPOLATED, REFERENCE = "MEASURED", "INPUT", "EXTRAPOLATED", "REFERENCE"

MODEL = """\
model (t_event, t_update, m_syn, b, c, w_node are MEASURED in the run; N, S, r the target):
  memory    m_syn = sum(peak_rss_bytes) / n_synapses            bytes per synapse, everything included
            memory = m_syn x S;  nodes_memory = ceil(memory / node memory)
  nodes     nodes = max(nodes_memory, --nodes);  cores = nodes x cores per node;
            P = nodes x ranks per node (ranks)
  compute   t_event  = mean over ranks(deliver s) x cores used / synaptic events   (core-s per event)
            t_update = mean over ranks(update s) x cores used / neuron updates      (core-s per update)
            compute per model s = (S x r x t_event + N x u x t_update) / cores,
            u = neuron updates per neuron per model second (measured); perfect load balance assumed
  comm      b = bytes / spike messages between distinct ranks (bytes_sent / spikes_sent pairs)
            K = S / N; a spike goes to D = P (1 - (1 - 1/P)^K) ranks, of them
            D_remote = (P - 1) (1 - (1 - 1/P)^K) other ranks (targets spread evenly over ranks)
            bytes per rank per model s = (N r / P) x D_remote x b; a node's link carries its ranks'
            bytes (ranks on one node counted as if on the network: conservative)
            comm per model s = node bytes / bandwidth + c x latency x log2(P), c = collectives per
            rank per model second (measured); latency x log2(P) per collective is the Alltoall
            latency model used (Bruck-style, log2(P) rounds)
  time      wall per model s = compute + comm (no overlap of computation and communication
            assumed); real-time factor = wall per model s
  power     w_node = energy_joules / wall_seconds / n_nodes (measured, or modeled when the run's
            energy_source is "modeled"); power = nodes x w_node; energy per model s = power x
            real-time factor; per synaptic event = that / (S x r)
  brain     20 W for 86e9 neurons: reference power 20 W x N / 86e9; energy per synaptic event
            20 W / (1e14 synapses x r)"""

EPILOG = f"""\
{MODEL}

defaults: the human brain (N = 86e9 neurons, S = 1e14 synapses) at the run's mean rate;
  --network-bandwidth-gbps {DEFAULT_BANDWIDTH_GBPS:g}: a typical InfiniBand link per node (EDR or HDR100; HDR proper
  is 200 Gb/s); --network-latency-us {DEFAULT_LATENCY_US:g}: a typical MPI latency over InfiniBand;
  --node-memory-gib: the run's node (tallies attribute node_memory_bytes), else {DEFAULT_NODE_MEMORY_GIB:g};
  --cores-per-node and --ranks-per-node: as the run used them.

examples:
  myelin-plan out/microcircuit                          the human brain at the run's mean rate
  myelin-plan out/microcircuit --rate-hz 1 --nodes 1000
  myelin-plan out/microcircuit --neurons 1e9 --synapses 1e13 --json

Exit status: 0 done, 2 bad usage or bad input (one line on stderr)."""


class PlanError(Exception):
    """Bad input: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise PlanError(" ".join(message.split()))


def _positive(kind):
    def parse(s):
        try:
            v = kind(float(s)) if kind is int else kind(s)
            if kind is int and float(s) != v:
                raise ValueError
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number, got '{s}'") from None
        if not (v > 0 and math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"expected a number > 0, got '{s}'")
        return v
    return parse


def parser():
    p = _Parser(prog="myelin-plan", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
                description="Scales a finished myelin run (its tallies.h5) to a target network, by default\n"
                            "the human brain: memory, nodes, compute, communication, wall time, power and\n"
                            "energy, each number marked MEASURED, INPUT or EXTRAPOLATED.")
    p.add_argument("run", help="a finished run directory (holds tallies.h5)")
    p.add_argument("--neurons", type=_positive(float), default=BRAIN_NEURONS, metavar="N",
                   help="target neurons (default 86e9)")
    p.add_argument("--synapses", type=_positive(float), default=BRAIN_SYNAPSES, metavar="S",
                   help="target synapses (default 1e14)")
    p.add_argument("--rate-hz", type=_positive(float), metavar="R",
                   help="target mean firing rate (default: the run's mean_rate_hz)")
    p.add_argument("--network-bandwidth-gbps", type=_positive(float), default=DEFAULT_BANDWIDTH_GBPS, metavar="G",
                   help=f"network bandwidth per node in Gb/s (default {DEFAULT_BANDWIDTH_GBPS:g}, typical InfiniBand)")
    p.add_argument("--network-latency-us", type=_positive(float), default=DEFAULT_LATENCY_US, metavar="L",
                   help=f"latency per message round in microseconds (default {DEFAULT_LATENCY_US:g})")
    p.add_argument("--node-memory-gib", type=_positive(float), metavar="M",
                   help="memory per node in GiB (default: the run's node, else 256)")
    p.add_argument("--cores-per-node", type=_positive(int), metavar="C",
                   help="cores per node (default: as many as the run used per node)")
    p.add_argument("--ranks-per-node", type=_positive(int), metavar="K",
                   help="MPI ranks per node (default: as in the run)")
    p.add_argument("--nodes", type=_positive(int), metavar="N",
                   help="at least this many nodes (default: as many as the memory needs)")
    p.add_argument("--bytes-per-spike", type=_positive(float), metavar="B",
                   help="bytes per spike message (default: measured; 8 when the run sent nothing to other ranks)")
    p.add_argument("--json", action="store_true", help="print every number as JSON instead of the table")
    return p


class Quantities:
    """Ordered rows {key, label, value, unit, kind, how, section}."""

    def __init__(self):
        self.rows = []
        self.section = ""

    def add(self, key, label, value, unit, kind, how=""):
        self.rows.append({"key": key, "label": label, "value": value, "unit": unit, "kind": kind, "how": how,
                          "section": self.section})
        return value

    def __getitem__(self, key):
        for r in self.rows:
            if r["key"] == key:
                return r["value"]
        raise KeyError(key)


def _need_attr(t, name, path, positive=True, integer=False):
    v = t.attr(name)
    if v is None:
        raise PlanError(f"{path}: /tallies has no numeric attribute {name} (expected the tallies.h5 layout of "
                        "myelin; see myelin-plan --help)")
    if integer and not float(v).is_integer():
        raise PlanError(f"{path}: /tallies attribute {name} is {v}, expected a whole number")
    if positive and not v > 0:
        raise PlanError(f"{path}: /tallies attribute {name} is {v}, expected > 0")
    return int(v) if integer else float(v)


def _summary(run_dir):
    p = os.path.join(run_dir, "summary.json")
    if not os.path.isfile(p):
        return {}, None
    try:
        with open(p) as f:
            s = json.load(f)
    except (OSError, ValueError) as e:
        raise PlanError(f"{p}: not valid JSON ({e}); expected myelin's summary.json") from None
    if not isinstance(s, dict):
        raise PlanError(f"{p}: expected a JSON object (myelin's summary.json)")
    return s, p


def _summary_num(s, key):
    v = s.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def measure(run_dir, q):
    """Reads the run; adds the MEASURED rows to q; returns {name: value} for the model."""
    if not os.path.exists(run_dir):
        raise PlanError(f"{run_dir}: no such directory (expected a finished run directory holding tallies.h5)")
    if not os.path.isdir(run_dir):
        raise PlanError(f"{run_dir}: not a directory (expected a finished run directory holding tallies.h5)")
    path = os.path.join(run_dir, "tallies.h5")
    if not os.path.isfile(path):
        hint = " (the run did not finish: tallies.h5.partial)" if os.path.exists(path + ".partial") else ""
        raise PlanError(f"{path}: not found{hint} (expected the tallies of a finished run of myelin)")
    try:
        t = tallies_mod.read(path)
    except AnalysisError as e:
        raise PlanError(" ".join(str(e).split()) + " (expected the tallies of a finished run of myelin)") from None
    summary, summary_path = _summary(run_dir)
    m = {"warnings": list(t.warnings), "notes": [], "tallies": path, "summary": summary_path}
    R = _need_attr(t, "n_ranks", path, integer=True)
    T = _need_attr(t, "n_threads", path, integer=True)
    nodes = _need_attr(t, "n_nodes", path, integer=True)
    n = _need_attr(t, "n_neurons", path)
    s = _need_attr(t, "n_synapses", path)
    model_s = _need_attr(t, "model_time_ms", path) / 1000.0
    wall = _need_attr(t, "wall_seconds", path)
    if t.phase_seconds is None or "update" not in t.phases or "deliver" not in t.phases:
        have = "no readable /tallies/phase_seconds" if t.phase_seconds is None else f"phases {', '.join(t.phases)}"
        raise PlanError(f"{path}: expected /tallies/phase_seconds [ranks x phases] with the phases update and "
                        f"deliver (attribute `phases`); found {have}")
    C = R * T
    q.section = "measured in the run"
    q.add("run_ranks", "MPI ranks x threads per rank", f"{R} x {T}", "", MEASURED, "n_ranks, n_threads")
    q.add("run_nodes", "nodes", nodes, "", MEASURED, "n_nodes")
    q.add("run_cores", "cores used", C, "", MEASURED, "n_ranks x n_threads")
    q.add("run_neurons", "neurons", n, "", MEASURED, "n_neurons")
    q.add("run_synapses", "synapses", s, "", MEASURED, "n_synapses")
    q.add("run_model_seconds", "model time", model_s, "s", MEASURED, "model_time_ms")
    q.add("run_wall_seconds", "wall time", wall, "s", MEASURED, "wall_seconds")

    def total(name, summary_key, what):
        if name in t.rank:
            return float(t.rank[name].sum()), f"sum of rank/{name}"
        if t.windows is not None and name in t.windows:
            return float(t.windows[name].sum()), f"sum of windows/{name}"
        v = _summary_num(summary, summary_key) if summary_key else None
        if v is not None:
            m["warnings"].append(f"{what}: from summary.json ({summary_key}), tallies.h5 has no rank/{name}")
            return v, f"summary.json {summary_key}"
        return None, None

    events, ev_src = total("synaptic_events", "synaptic_events", "synaptic events")
    if events is None:
        raise PlanError(f"{path}: expected /tallies/rank/synaptic_events [ranks] (or summary.json synaptic_events)")
    if not events > 0:
        raise PlanError(f"{path}: the run has no synaptic events ({ev_src} is 0): expected a run with spikes to "
                        "measure the time per event")
    updates, up_src = total("neuron_updates", "neuron_updates", "neuron updates")
    if updates is None or not updates > 0:
        raise PlanError(f"{path}: expected /tallies/rank/neuron_updates [ranks] > 0 (or summary.json neuron_updates)")
    deliver = float(t.phase("deliver").mean())
    update = float(t.phase("update").mean())
    q.add("run_synaptic_events", "synaptic events", events, "", MEASURED, ev_src)
    q.add("run_neuron_updates", "neuron updates", updates, "", MEASURED, up_src)
    q.add("run_deliver_seconds", "deliver time, mean over ranks", deliver, "s", MEASURED, "phase_seconds deliver")
    q.add("run_update_seconds", "update time, mean over ranks", update, "s", MEASURED, "phase_seconds update")
    m["t_event"] = q.add("t_event", "time per synaptic event per core", deliver * C / events, "core-s", MEASURED,
                         "deliver x cores / events")
    m["t_update"] = q.add("t_update", "time per neuron update per core", update * C / updates, "core-s", MEASURED,
                          "update x cores / updates")
    m["updates_per_neuron_s"] = q.add("updates_per_neuron_s", "neuron updates per neuron per model second",
                                      updates / (n * model_s), "1/s", MEASURED, "updates / (neurons x model time)")
    rate = t.attr("mean_rate_hz")
    rate_src = "mean_rate_hz"
    if rate is None:
        spikes, sp_src = total("spikes_emitted", None, "spikes")
        if spikes is not None:
            rate, rate_src = spikes / (n * model_s), f"{sp_src} / (neurons x model time)"
    m["rate"] = None
    if rate is not None and rate > 0:
        m["rate"] = q.add("run_rate_hz", "mean firing rate", rate, "Hz", MEASURED, rate_src)
        q.add("run_events_per_spike", "synaptic events per spike (out-degree in the run)",
              events / (rate * n * model_s), "", MEASURED, "events / spikes")

    # memory
    rss, rss_src = total("peak_rss_bytes", "peak_rss_total_bytes", "peak memory")
    if rss is None or not rss > 0:
        raise PlanError(f"{path}: expected /tallies/rank/peak_rss_bytes [ranks] > 0 (or summary.json "
                        "peak_rss_total_bytes)")
    q.add("run_peak_rss_bytes", "peak memory, all ranks", rss, "B", MEASURED, rss_src)
    m["bytes_per_synapse"] = q.add("bytes_per_synapse", "memory per synapse (all memory / synapses)", rss / s, "B",
                                   MEASURED, "sum(peak_rss_bytes) / n_synapses")
    table = _summary_num(summary, "synapse_bytes")
    if table is not None and table > 0 and table < rss:
        q.add("table_bytes_per_synapse", "  of it synapse tables per synapse", table / s, "B", MEASURED,
              "summary.json synapse_bytes / synapses")
        q.add("other_bytes_per_neuron", "  the rest per neuron", (rss - table) / n, "B", MEASURED,
              "(peak memory - synapse_bytes) / neurons")
        if table < 0.5 * rss:
            m["notes"].append(f"synapse tables are {100 * table / rss:.3g}% of the run's peak memory: the bytes per "
                              "synapse include each process's fixed memory, which overestimates the memory of a "
                              "large network from a small run")
    mem_attr = t.attr("node_memory_bytes")
    m["node_memory_bytes"] = mem_attr if mem_attr is not None and mem_attr > 0 else None

    # communication
    b, b_src = None, None
    if t.spikes_sent is not None and t.bytes_sent is not None:
        off_b = float(t.bytes_sent.sum() - np.trace(t.bytes_sent))
        off_s = float(t.spikes_sent.sum() - np.trace(t.spikes_sent))
        if off_s > 0:
            b, b_src = off_b / off_s, "off-diagonal bytes_sent / spikes_sent"
    if b is None and "spikes_sent" in t.rank and "bytes_sent" in t.rank and t.rank["spikes_sent"].sum() > 0:
        b, b_src = float(t.rank["bytes_sent"].sum() / t.rank["spikes_sent"].sum()), "rank/bytes_sent / rank/spikes_sent"
    if b is not None:
        q.add("bytes_per_spike", "bytes per spike message to another rank", b, "B", MEASURED, b_src)
    m["bytes_per_spike"] = b
    coll, coll_src = total("collectives", "collectives", "collectives")
    c = None
    if coll is not None and coll > 0:
        c = q.add("collectives_per_model_s", "collectives per rank per model second", coll / R / model_s, "1/s",
                  MEASURED, f"{coll_src} / ranks / model time")
    m["collectives_per_model_s"] = c
    m["min_delay_ms"] = t.attr("min_delay_ms")

    # power
    energy, e_src = t.energy_total()
    if energy is None:
        raise PlanError(f"{path}: expected /tallies/energy_joules [phases] or /tallies/rank/energy_joules [ranks]")
    if not energy > 0:
        raise PlanError(f"{path}: the run's energy ({e_src}) is {energy}, expected > 0")
    source = t.energy_source or t.str_attr("energy_source") or "unknown"
    preset = t.str_attr("energy_preset")
    how = f"{e_src}, {source}" + (f" ({preset})" if preset and source == "modeled" else "")
    q.add("run_energy_joules", "energy", energy, "J", MEASURED, how)
    m["watts_per_node"] = q.add("watts_per_node", "power per node", energy / wall / nodes, "W", MEASURED,
                                "energy / wall time / nodes")
    q.add("run_energy_per_event", "energy per synaptic event", energy / events, "J", MEASURED, "energy / events")
    m["energy_source"] = source
    m.update(ranks=R, threads=T, nodes=nodes, cores=C, neurons=n, synapses=s, model_s=model_s, wall=wall,
             cores_per_node_hw=t.attr("cores_per_node"))
    return m


def _dest_fraction(P, K):
    """1 - (1 - 1/P)^K: the chance that a rank holds at least one of K targets spread evenly."""
    if P <= 1:
        return 1.0
    return -math.expm1(K * math.log1p(-1.0 / P))


def extrapolate(m, args, q):
    N, S = float(args.neurons), float(args.synapses)
    q.section = "target (inputs)"
    q.add("neurons", "neurons N", N, "", INPUT, "--neurons" if N != BRAIN_NEURONS else "default: human brain")
    q.add("synapses", "synapses S", S, "", INPUT, "--synapses" if S != BRAIN_SYNAPSES else "default: human brain")
    if args.rate_hz is not None:
        r = q.add("rate_hz", "mean firing rate r", float(args.rate_hz), "Hz", INPUT, "--rate-hz")
    elif m["rate"] is None:
        raise PlanError(f"{m['tallies']}: expected the attribute mean_rate_hz > 0 (or rank/spikes_emitted), "
                        "or give --rate-hz")
    else:
        r = q.add("rate_hz", "mean firing rate r", m["rate"], "Hz", MEASURED, "the run's mean rate")
    if args.node_memory_gib is not None:
        node_mem = q.add("node_memory_bytes", "memory per node", args.node_memory_gib * GIB, "B", INPUT,
                         "--node-memory-gib")
    elif m["node_memory_bytes"] is not None:
        node_mem = q.add("node_memory_bytes", "memory per node", m["node_memory_bytes"], "B", MEASURED,
                         "node_memory_bytes")
    else:
        node_mem = q.add("node_memory_bytes", "memory per node", DEFAULT_NODE_MEMORY_GIB * GIB, "B", INPUT,
                         f"default {DEFAULT_NODE_MEMORY_GIB:g} GiB")
    measured_cpn = m["cores"] / m["nodes"]
    measured_cpn = int(measured_cpn) if float(measured_cpn).is_integer() else measured_cpn
    if args.cores_per_node is not None:
        cpn = q.add("cores_per_node", "cores per node", int(args.cores_per_node), "", INPUT, "--cores-per-node")
    else:
        cpn = q.add("cores_per_node", "cores per node", measured_cpn, "", MEASURED, "cores used / nodes in the run")
    if m["cores_per_node_hw"] is not None and m["cores_per_node_hw"] != cpn:
        q.add("cores_per_node_hardware", "  cores a node of the run has", m["cores_per_node_hw"], "", MEASURED,
              "cores_per_node (use --cores-per-node to plan full nodes)")
    if args.ranks_per_node is not None:
        rpn = q.add("ranks_per_node", "ranks per node", int(args.ranks_per_node), "", INPUT, "--ranks-per-node")
    else:
        rpn = q.add("ranks_per_node", "ranks per node", max(1, int(round(m["ranks"] / m["nodes"]))), "", MEASURED,
                    "ranks / nodes in the run (rounded)")
    gbps = q.add("bandwidth_gbps", "network bandwidth per node", float(args.network_bandwidth_gbps), "Gb/s", INPUT,
                 "--network-bandwidth-gbps" if args.network_bandwidth_gbps != DEFAULT_BANDWIDTH_GBPS
                 else "default: InfiniBand EDR/HDR100")
    lat_us = q.add("latency_us", "network latency", float(args.network_latency_us), "us", INPUT,
                   "--network-latency-us" if args.network_latency_us != DEFAULT_LATENCY_US
                   else "default: typical MPI over InfiniBand")
    if args.nodes is not None:
        q.add("nodes_given", "at least this many nodes", int(args.nodes), "", INPUT, "--nodes")
    b = m["bytes_per_spike"]
    if args.bytes_per_spike is not None:
        b = q.add("bytes_per_spike_used", "bytes per spike message", float(args.bytes_per_spike), "B", INPUT,
                  "--bytes-per-spike")
    elif b is None:
        b = q.add("bytes_per_spike_used", "bytes per spike message", float(MYELIN_BYTES_PER_SPIKE), "B", INPUT,
                  "myelin's payload: the run sent nothing to other ranks")
    c = m["collectives_per_model_s"]
    if c is None:
        if not m["min_delay_ms"]:
            raise PlanError(f"{m['tallies']}: the run has no collectives (rank/collectives) and no attribute "
                            "min_delay_ms to count them from")
        c = q.add("collectives_per_model_s_used", "collectives per rank per model second",
                  COLLECTIVES_PER_INTERVAL * 1000.0 / m["min_delay_ms"], "1/s", INPUT,
                  "2 per interval of min_delay_ms: the run had none (1 rank)")

    q.section = "memory"
    memory = q.add("memory_bytes", "memory", m["bytes_per_synapse"] * S, "B", EXTRAPOLATED, "bytes per synapse x S")
    nodes_mem = q.add("nodes_for_memory", "nodes for the memory", max(1, math.ceil(memory / node_mem)), "",
                      EXTRAPOLATED, "ceil(memory / node memory)")

    q.section = "machine"
    nodes = q.add("nodes", "nodes", max(nodes_mem, int(args.nodes or 1)), "", EXTRAPOLATED,
                  "max(nodes for memory, --nodes)")
    q.add("memory_per_node", "memory used per node", memory / nodes, "B", EXTRAPOLATED, "memory / nodes")
    cores = q.add("cores", "cores", nodes * cpn, "", EXTRAPOLATED, "nodes x cores per node")
    P = q.add("ranks", "MPI ranks P", nodes * rpn, "", EXTRAPOLATED, "nodes x ranks per node")

    q.section = "compute (per second of model time)"
    K = q.add("out_degree", "synapses per neuron K", S / N, "", EXTRAPOLATED, "S / N")
    ev = q.add("events_per_model_s", "synaptic events", S * r, "1/s", EXTRAPOLATED, "S x r")
    up = q.add("updates_per_model_s", "neuron updates", N * m["updates_per_neuron_s"], "1/s", EXTRAPOLATED,
               "N x updates per neuron per model s")
    compute = q.add("compute_s_per_model_s", "compute time", (ev * m["t_event"] + up * m["t_update"]) / cores, "s",
                    EXTRAPOLATED, "(events x t_event + updates x t_update) / cores")

    q.section = "communication (per second of model time)"
    frac = _dest_fraction(P, K)
    q.add("destination_ranks_per_spike", "ranks a spike goes to", P * frac, "", EXTRAPOLATED, "P (1 - (1 - 1/P)^K)")
    remote = q.add("remote_ranks_per_spike", "  of them other ranks", (P - 1) * frac, "", EXTRAPOLATED,
                   "(P - 1) (1 - (1 - 1/P)^K)")
    per_rank = q.add("bytes_per_rank_per_model_s", "bytes sent per rank", N * r / P * remote * b, "B", EXTRAPOLATED,
                     "(N r / P) x other ranks x bytes per spike")
    per_node = q.add("bytes_per_node_per_model_s", "bytes sent per node", per_rank * rpn, "B", EXTRAPOLATED,
                     "bytes per rank x ranks per node")
    bw = q.add("bandwidth_s_per_model_s", "transfer time", per_node / (gbps * 1e9 / 8.0), "s", EXTRAPOLATED,
               "node bytes / bandwidth")
    lat = q.add("latency_s_per_model_s", "latency time", c * lat_us * 1e-6 * math.log2(P) if P > 1 else 0.0, "s",
                EXTRAPOLATED, "collectives x latency x log2(P) (Alltoall model)")
    comm = q.add("communication_s_per_model_s", "communication time", bw + lat, "s", EXTRAPOLATED,
                 "transfer + latency")

    q.section = "time"
    wall = q.add("wall_s_per_model_s", "wall time per model second", compute + comm, "s", EXTRAPOLATED,
                 "compute + communication (no overlap)")
    q.add("real_time_factor", "real-time factor", wall, "", EXTRAPOLATED, "wall / model time")

    q.section = "power and energy"
    power = q.add("power_watts", "power", nodes * m["watts_per_node"], "W", EXTRAPOLATED, "nodes x power per node")
    e_model_s = q.add("energy_per_model_s_joules", "energy per model second", power * wall, "J", EXTRAPOLATED,
                      "power x real-time factor")
    e_event = q.add("energy_per_synaptic_event_joules", "energy per synaptic event", e_model_s / ev, "J",
                    EXTRAPOLATED, "energy per model s / (S x r)")
    brain_w = q.add("brain_watts", "brain power for N neurons", BRAIN_WATTS * N / BRAIN_NEURONS, "W", REFERENCE,
                    "20 W x N / 86e9")
    q.add("power_ratio_vs_brain", "power, machine / brain", power / brain_w, "", EXTRAPOLATED, "power / brain power")
    brain_e = q.add("brain_joules_per_synaptic_event", "brain energy per synaptic event",
                    BRAIN_WATTS / (BRAIN_SYNAPSES * r), "J", REFERENCE, "20 W / (1e14 x r)")
    q.add("energy_per_event_ratio_vs_brain", "energy per event, machine / brain", e_event / brain_e, "",
          EXTRAPOLATED, "energy per event / brain's")


def _fmt(v, unit):
    if isinstance(v, str):
        return v, unit
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and unit != "B":
        return str(int(v)), unit
    if unit == "B":
        v = float(v)
        for u, f in (("TiB", 2.0 ** 40), ("GiB", 2.0 ** 30), ("MiB", 2.0 ** 20), ("KiB", 2.0 ** 10)):
            if abs(v) >= f:
                if u == "TiB" and abs(v) >= 2.0 ** 50:
                    return f"{v / 2.0 ** 50:.4g}", "PiB"
                return f"{v / f:.4g}", u
        return f"{v:.4g}", "B"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e7:
        return str(int(v)), unit
    return f"{v:.4g}", unit


def table(q, m, run_dir):
    lines = [f"myelin-plan {run_dir}: {m['tallies']}" + (f" and {m['summary']}" if m["summary"] else "")]
    rows = []
    for r in q.rows:
        value, unit = _fmt(r["value"], r["unit"])
        rows.append((r["section"], r["label"], value, unit, r["kind"], r["how"]))
    w = [max(len(x[i]) for x in rows) for i in range(1, 6)]
    head = ("quantity", "value", "unit", "kind", "from")
    w = [max(a, len(h)) for a, h in zip(w, head)]
    section = None
    lines.append("")
    lines.append(f"{head[0]:<{w[0]}}  {head[1]:>{w[1]}}  {head[2]:<{w[2]}}  {head[3]:<{w[3]}}  {head[4]}")
    lines.append("  ".join("-" * x for x in w))
    for sec, label, value, unit, kind, how in rows:
        if sec != section:
            lines.append(f"[{sec}]")
            section = sec
        lines.append(f"{label:<{w[0]}}  {value:>{w[1]}}  {unit:<{w[2]}}  {kind:<{w[3]}}  {how}".rstrip())
    lines.append("")
    lines.append("MEASURED: from the run; INPUT: an option or its default; EXTRAPOLATED: by the model; "
                 "REFERENCE: the brain's figures.")
    lines.append(MODEL)
    if m["energy_source"] == "modeled":
        lines.append("note: the run's energy is modeled (energy_source = modeled), not measured: so is the power "
                     "per node.")
    for x in m["notes"]:
        lines.append(f"note: {x}")
    for x in m["warnings"]:
        lines.append(f"warning: {x}")
    return "\n".join(lines) + "\n"


def as_json(q, m, run_dir):
    def clean(v):
        if isinstance(v, (np.integer,)):
            return int(v)
        if isinstance(v, (float, np.floating)):
            v = float(v)
            return v if math.isfinite(v) else None
        return v
    return {"tool": "myelin-plan", "run_dir": run_dir, "tallies": m["tallies"], "summary": m["summary"],
            "quantities": {r["key"]: {"label": r["label"].strip(), "value": clean(r["value"]), "unit": r["unit"],
                                      "kind": r["kind"], "from": r["how"], "section": r["section"]}
                           for r in q.rows},
            "model": MODEL.splitlines(), "notes": m["notes"], "warnings": m["warnings"]}


def plan(run_dir, args):
    """(Quantities, measurements) of a run directory for parsed options."""
    q = Quantities()
    m = measure(run_dir, q)
    extrapolate(m, args, q)
    return q, m


def run(argv):
    args = parser().parse_args(argv)
    run_dir = os.path.normpath(args.run)
    q, m = plan(run_dir, args)
    if args.json:
        sys.stdout.write(json.dumps(as_json(q, m, run_dir), indent=1, allow_nan=False) + "\n")
    else:
        sys.stdout.write(table(q, m, run_dir))
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv)
    except PlanError as e:
        print(f"myelin-plan: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("myelin-plan: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an internal error: still one line
        msg = " ".join(f"{type(e).__name__}: {e}".split())
        print(f"myelin-plan: internal error: {msg}", file=sys.stderr)
        return 3
