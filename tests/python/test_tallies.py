"""Tests of the tally part of tools/myelin-analyze and of tools/myelin-plan.

tallies.h5 files are written here with h5py in the layout of tools/analysis/tallies.py (the one
`myelin run` writes), with chosen numbers; every reported number is checked against a calculation
made here, independently of the tools."""
import base64
import json
import math
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANALYZE = os.path.join(ROOT, "tools", "myelin-analyze")
PLAN = os.path.join(ROOT, "tools", "myelin-plan")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from analysis import cli, plan as plan_mod, tallies as tallies_mod  # noqa: E402
from test_analysis import _Images, png_size, poisson, write_run  # noqa: E402

PHASES = ["update", "deliver", "exchange", "record", "checkpoint"]
GIB = 2.0 ** 30


# ------------------------------------------------------------------------------------- the run

class Run:
    """Known numbers of a synthetic run: 2 ranks x 4 threads on one node, 1000 neurons, K = 1000
    synapses per neuron, 1 s of model time at 10 Hz, 10 windows of 100 ms."""
    R, T, nodes = 2, 4, 1
    n_neurons, n_synapses = 1000, 1_000_000
    dt_ms, min_delay_ms, window_ms, model_time_ms = 0.1, 1.0, 100.0, 1000.0
    wall_seconds, build_seconds = 4.0, 0.5
    mean_rate_hz = 10.0
    phase_seconds = np.array([[1.0, 2.0, 0.5, 0.2, 0.0],
                              [1.2, 2.2, 0.6, 0.1, 0.0]])
    energy_phase = np.array([100.0, 400.0, 80.0, 40.0, 20.0])  # 640 J
    rank = {
        "node": np.array([0, 0], dtype=np.int64),
        "neurons": np.array([500, 500], dtype=np.uint64),
        "synapses": np.array([500_000, 500_000], dtype=np.uint64),
        "neuron_updates": np.array([5_000_000, 5_000_000], dtype=np.uint64),   # 1000 neurons x 10000 steps
        "spikes_emitted": np.array([5000, 5000], dtype=np.uint64),             # 10 Hz
        "synaptic_events": np.array([4_000_000, 6_000_000], dtype=np.uint64),  # 1e7 = spikes x K
        "poisson_events": np.array([0, 0], dtype=np.uint64),
        "spikes_sent": np.array([5000, 5000], dtype=np.uint64),
        "bytes_sent": np.array([48000, 40000], dtype=np.uint64),      # to other ranks
        "bytes_received": np.array([40000, 48000], dtype=np.uint64),
        "collectives": np.array([2000, 2000], dtype=np.uint64),                # 2 per 1-ms interval
        "peak_rss_bytes": np.array([1_000_000_000, 1_200_000_000], dtype=np.uint64),
        "compute_seconds": np.array([3.0, 3.4]),
        "cpu_seconds": np.array([12.0, 13.0]),
        "energy_joules": np.array([300.0, 340.0]),
    }
    # spike messages [sender x receiver]: every spike reaches both ranks (K = 1000 targets)
    spikes_sent = np.array([[5000, 5000], [5000, 5000]], dtype=np.uint64)
    bytes_sent = 8.0 * spikes_sent  # 8 bytes per spike
    bytes_sent[0, 1] = 48000.0      # rank 0 -> 1 carries more: 8.8 B per spike message between ranks
    W = 10


def write_full_tallies(path, run=Run, fixed_strings=False, attrs=None, skip=()):
    """tallies.h5 in the full layout; `attrs` adds or replaces /tallies attributes (None deletes);
    `skip`: names of parts to leave out (datasets, 'rank', 'windows', rank/<name>)."""
    R, W = run.R, run.W
    with h5py.File(path, "w") as f:
        g = f.create_group("tallies")
        a = {"format_version": np.int64(1), "n_ranks": np.int64(R), "n_threads": np.int64(run.T),
             "n_nodes": np.int64(run.nodes), "n_neurons": np.uint64(run.n_neurons),
             "n_synapses": np.uint64(run.n_synapses), "dt_ms": run.dt_ms, "min_delay_ms": run.min_delay_ms,
             "window_ms": run.window_ms, "model_time_ms": run.model_time_ms, "start_step": np.int64(0),
             "end_step": np.int64(round(run.model_time_ms / run.dt_ms)), "wall_seconds": run.wall_seconds,
             "build_seconds": run.build_seconds,
             "real_time_factor": run.wall_seconds / (run.model_time_ms / 1000),
             "load_imbalance": float(run.rank["compute_seconds"].max() / run.rank["compute_seconds"].mean()),
             "mean_rate_hz": run.mean_rate_hz, "energy_source": "modeled", "energy_preset": "cpu-node",
             "watts_per_active_core": 10.0, "idle_watts_per_node": 50.0, "joules_per_byte": 1e-9,
             "joules_per_synaptic_event": 1e-9, "brain_watts": 20.0 * run.n_neurons / 86e9,
             "brain_joules_per_synaptic_event": 20.0 / (1e14 * run.mean_rate_hz),
             "energy_joules": float(run.energy_phase.sum()),
             "average_watts": float(run.energy_phase.sum()) / run.wall_seconds,
             "joules_per_synaptic_event_run": float(run.energy_phase.sum() / run.rank["synaptic_events"].sum()),
             "node_memory_bytes": np.uint64(0), "cores_per_node": np.int64(64)}
        if fixed_strings:
            a["energy_source"], a["energy_preset"] = np.bytes_(b"modeled"), np.bytes_(b"cpu-node")
        a.update(attrs or {})
        for k, v in a.items():
            if v is not None:
                g.attrs[k] = v
        if "phase_seconds" not in skip:
            ds = g.create_dataset("phase_seconds", data=run.phase_seconds)
            ds.attrs["phases"] = PHASES
        if "bytes_sent" not in skip:
            g.create_dataset("bytes_sent", data=run.bytes_sent)
        if "spikes_sent" not in skip:
            g.create_dataset("spikes_sent", data=run.spikes_sent)
        if "bytes_received" not in skip:
            g.create_dataset("bytes_received", data=run.bytes_sent.T)
        if "energy_joules" not in skip:
            e = g.create_dataset("energy_joules", data=run.energy_phase)
            e.attrs["source"] = np.bytes_(b"modeled") if fixed_strings else "modeled"
            e.attrs["phases"] = PHASES
        if "rank" not in skip:
            for k, v in run.rank.items():
                if f"rank/{k}" not in skip:
                    g.create_dataset(f"rank/{k}", data=v)
        if "windows" not in skip:
            w = g.create_group("windows")
            t0 = np.arange(W) * run.window_ms
            w.create_dataset("t_start_ms", data=t0)
            w.create_dataset("t_end_ms", data=np.minimum(t0 + run.window_ms, run.model_time_ms))
            frac = np.linspace(0.5, 1.5, W)
            frac /= frac.sum()  # the windows add up to the totals
            for name in ("spikes_emitted", "synaptic_events", "bytes_sent"):
                w.create_dataset(name, data=np.round(np.outer(frac, run.rank[name].astype(float))).astype(np.uint64))
            ds = w.create_dataset("phase_seconds", data=frac[:, None, None] * run.phase_seconds[None, :, :])
            ds.attrs["phases"] = PHASES
            w.create_dataset("energy_joules", data=frac * run.energy_phase.sum())
    return path


def make_run(d, tallies=True, **kw):
    """A run directory with spikes.h5, config.ini, summary.json and (by default) a full tallies.h5."""
    rng = np.random.default_rng(3)
    write_run(str(d), {"E": poisson(80, 10.0, 1000.0, rng), "I": poisson(20, 10.0, 1000.0, rng)},
              {"E": 80, "I": 20}, 1000.0)
    if tallies:
        write_full_tallies(os.path.join(str(d), "tallies.h5"), **kw)
    return str(d)


def run_tool(tool, *args):
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))



# ------------------------------------------------------------------------------- the reader

@pytest.mark.parametrize("fixed_strings", [False, True])
def test_reader_gets_every_part(tmp_path, fixed_strings):
    t = tallies_mod.read(write_full_tallies(str(tmp_path / "tallies.h5"), fixed_strings=fixed_strings))
    assert t.warnings == []
    assert t.attrs["energy_source"] == "modeled" and t.attrs["energy_preset"] == "cpu-node"
    assert t.attrs["n_ranks"] == 2 and isinstance(t.attrs["n_ranks"], int)
    assert t.energy_source == "modeled" and t.phases == PHASES
    assert t.ranks == 2 and t.cores == 8
    assert set(t.rank) == set(Run.rank)
    assert t.rank["synaptic_events"].tolist() == [4e6, 6e6]
    np.testing.assert_array_equal(t.spikes_sent, Run.spikes_sent)
    np.testing.assert_array_equal(t.bytes_received, Run.bytes_sent.T)
    w = t.windows
    assert w["t_start_ms"].shape == (10,) and w["phase_seconds"].shape == (10, 2, 5)
    assert w["synaptic_events"].shape == (10, 2) and w["energy_joules"].shape == (10,)


def test_wrong_shapes_are_warnings_and_skipped(tmp_path):
    path = str(tmp_path / "tallies.h5")
    write_full_tallies(path)
    with h5py.File(path, "r+") as f:
        g = f["tallies"]
        for name, data in (("bytes_sent", np.ones((2, 3))), ("spikes_sent", np.ones(4)),
                           ("rank/neurons", np.ones(3)), ("rank/cpu_seconds", np.ones((2, 2))),
                           ("windows/phase_seconds", np.ones((10, 2, 4))), ("windows/bytes_sent", np.ones((9, 2))),
                           ("windows/energy_joules", np.ones(3))):
            del g[name]
            g.create_dataset(name, data=data)
    t = tallies_mod.read(path)
    joined = "\n".join(t.warnings)
    for name in ("bytes_sent", "spikes_sent", "rank/neurons", "rank/cpu_seconds", "windows/phase_seconds",
                 "windows/bytes_sent", "windows/energy_joules"):
        assert f"/tallies/{name} has shape" in joined, name
    assert len(t.warnings) == 7
    assert t.bytes_sent is None and t.spikes_sent is None and "neurons" not in t.rank
    assert t.bytes_received is not None and "synapses" in t.rank  # the rest is read
    assert "phase_seconds" not in t.windows and "synaptic_events" in t.windows
    # The communication plot falls back on bytes_received (transposed); the analysis goes on.
    d = make_run(tmp_path / "run", tallies=False)
    os.replace(path, os.path.join(d, "tallies.h5"))
    out = str(tmp_path / "out")
    assert cli.main([d, "--out-dir", out]) == 0
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    assert sum("/tallies/" in w for w in report["warnings"]) == 7
    assert os.path.isfile(os.path.join(out, "tally_communication.png"))
    assert report["tallies"]["derived"]["bytes_sent_total"] == pytest.approx(Run.bytes_sent.sum())


def test_windows_without_times_and_a_missing_group(tmp_path):
    path = str(tmp_path / "tallies.h5")
    write_full_tallies(path)
    with h5py.File(path, "r+") as f:
        del f["tallies/windows/t_start_ms"]       # rebuilt from t_end_ms - window_ms
    t = tallies_mod.read(path)
    assert t.warnings == [] and t.windows["t_start_ms"].tolist() == [100.0 * k for k in range(10)]
    with h5py.File(path, "r+") as f:
        del f["tallies/windows/t_end_ms"]
    t = tallies_mod.read(path)
    assert t.windows is None and "no t_start_ms or t_end_ms" in t.warnings[0]


# ---------------------------------------------------------------------------------- the report

def expected_derived(run=Run):
    """The derived numbers, computed here from the chosen counts."""
    energy = run.energy_phase.sum()
    events = run.rank["synaptic_events"].astype(float).sum()
    comp = run.phase_seconds[:, 0] + run.phase_seconds[:, 1]
    brain_w = 20.0 * run.n_neurons / 86e9
    brain_e = 20.0 / (1e14 * run.mean_rate_hz)
    b = run.bytes_sent
    s = run.spikes_sent.astype(float)
    return {
        "energy_joules_total": energy,
        "average_power_watts": energy / run.wall_seconds,
        "energy_per_synaptic_event_joules": energy / events,
        "load_imbalance": comp.max() / comp.mean(),
        "synaptic_events_total": events,
        "synaptic_events_per_second_per_core": events / run.wall_seconds / (run.R * run.T),
        "real_time_factor": run.wall_seconds / (run.model_time_ms / 1000),
        "brain_watts": brain_w,
        "brain_power_ratio": energy / run.wall_seconds / brain_w,
        "brain_joules_per_synaptic_event": brain_e,
        "brain_energy_per_event_ratio": energy / events / brain_e,
        "bytes_sent_total": b.sum(),
        "bytes_sent_off_rank": b.sum() - np.trace(b),
        "spike_messages_total": s.sum(),
        "bytes_per_spike_message": (b.sum() - np.trace(b)) / (s.sum() - np.trace(s)),
        "exchange_share": run.phase_seconds[:, 2].sum() / run.phase_seconds.sum(),
        "collectives_total": 4000.0,
        "peak_rss_bytes_total": 2.2e9,
    }


@pytest.fixture(scope="module")
def tally_report(tmp_path_factory):
    """Run A with full tallies, compared with run B (twice the wall time), with --html."""
    base = tmp_path_factory.mktemp("tallies")
    a = make_run(base / "run_a")
    b = make_run(base / "run_b", attrs={"wall_seconds": 8.0, "real_time_factor": 8.0})
    out = str(base / "out")
    assert cli.main([a, "--compare", b, "--html", "--out-dir", out]) == 0
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    return out, report, a, b


def test_report_numbers_equal_independent_calculations(tally_report):
    _, report, _, _ = tally_report
    t = report["tallies"]
    d = t["derived"]
    for key, value in expected_derived().items():
        assert d[key] == pytest.approx(value, rel=1e-12), key
    assert d["average_power_watts"] == 160.0 and d["bytes_per_spike_message"] == pytest.approx(8.8)
    assert d["energy_source"] == "modeled" and d["energy_preset"] == "cpu-node"
    assert t["attributes"]["n_synapses"] == Run.n_synapses
    assert t["rank"]["synaptic_events"] == [4e6, 6e6] and t["rank_totals"]["neuron_updates"] == 1e7
    assert t["spikes_sent"] == Run.spikes_sent.tolist()
    assert t["phases"]["deliver"]["max_s"] == 2.2
    assert t["phases"]["exchange"]["share_of_time"] == pytest.approx(1.1 / 7.8)
    w = t["windows"]
    assert w["count"] == 10 and len(w["t_end_ms"]) == 10
    assert sum(w["energy_joules"]) == pytest.approx(640.0)
    assert sum(w["slowest_rank_seconds"]) == pytest.approx(Run.phase_seconds.sum(axis=1).max())
    assert w["real_time_factor"][0] == pytest.approx(w["slowest_rank_seconds"][0] / 0.1)
    assert sum(w["phase_seconds_max_over_ranks"]["deliver"]) == pytest.approx(2.2)


def test_fallbacks_give_the_same_numbers(tmp_path):
    """Without the attributes load_imbalance, real_time_factor and brain_*, and without the
    per-phase energy: the same numbers from the other parts."""
    path = write_full_tallies(str(tmp_path / "t.h5"), skip=("energy_joules",),
                              attrs={"load_imbalance": None, "real_time_factor": None, "brain_watts": None,
                                     "brain_joules_per_synaptic_event": None})
    d = tallies_mod.read(path).numbers()["derived"]
    for key, value in expected_derived().items():
        assert d[key] == pytest.approx(value, rel=1e-12), key
    assert d["energy_total_source"] == "/tallies/rank/energy_joules"


def test_old_files_with_three_datasets_still_work(tmp_path):
    from test_analysis import write_tallies
    path = str(tmp_path / "old.h5")
    write_tallies(path, ranks=3)
    t = tallies_mod.read(path)
    assert t.warnings == [] and t.windows is None and t.rank == {}
    n = t.numbers()
    assert n["energy_joules_total"] == 36.0 and n["ranks"] == 3
    assert n["derived"]["average_power_watts"] is None  # no wall_seconds: not invented
    assert n["derived"]["bytes_sent_off_rank"] == 6e6


def test_text_report_has_the_tally_numbers(tmp_path, tally_report, capsys):
    _, _, a, _ = tally_report
    assert cli.main([a, "--no-plots", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tallies (2 ranks x 4 threads on 1 node, 1000 ms of model time, wall 4 s, real-time factor 4" in out
    lines = {ln.strip().rsplit("  ", 2)[0].strip(): ln for ln in out.splitlines()}
    assert lines["average power (energy / wall time)"].split()[-2:] == ["160", "W"]
    assert "6.400e-05" in lines["energy per synaptic event"]
    assert "8.8 B" in lines["bytes per spike message (other ranks)"]
    assert "14.1%" in lines["share of rank time in exchange"]
    assert "energy (modeled, cpu-node): 640 J" in out
    assert any(ln.split()[:2] == ["1", "0"] and "6000000" in ln for ln in out.splitlines())  # rank 1's row


TALLY_PLOTS = {"tally_phases.png": (1000, 500), "tally_communication.png": (750, 620),
               "tally_energy.png": (800, 480), "tally_windows.png": (1000, 800), "tally_compare.png": (1200, 460)}


def test_every_tally_plot_is_a_valid_png_of_the_expected_size_and_not_blank(tally_report):
    import matplotlib.image
    out, report, _, _ = tally_report
    listed = {p["file"]: (p["width"], p["height"]) for p in report["plots"]}
    assert set(TALLY_PLOTS) <= set(listed)
    for name, size in TALLY_PLOTS.items():
        path = os.path.join(out, name)
        assert png_size(path) == size == listed[name], name
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[:2] == (size[1], size[0])
        assert float(pixels[..., :3].var()) > 1e-4, f"{name} is blank"
        # not a mostly white image either: something is drawn over a good part of it
        assert float(np.mean(pixels[..., :3].min(axis=2) < 0.9)) > 0.02, f"{name} is nearly empty"


def test_html_embeds_every_tally_plot(tally_report):
    out, report, _, _ = tally_report
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        text = f.read()
    parser = _Images()
    parser.feed(text)
    parser.close()
    embedded = {img["src"].split(",", 1)[1] for img in parser.images}
    assert len(embedded) == len(report["plots"])
    for name in TALLY_PLOTS:
        with open(os.path.join(out, name), "rb") as f:
            assert base64.b64encode(f.read()).decode() in embedded, f"{name} not embedded"
    assert "average power (energy / wall time)" in text and "tallies.h5 attributes" in text


def test_compare_has_the_tally_rows(tally_report):
    _, report, _, _ = tally_report
    rows = {r["metric"]: r for r in report["compare"]["rows"] if r["group"] == "tallies"}
    power = rows["derived.average_power_watts"]
    assert (power["a"], power["b"], power["ratio"]) == (160.0, 80.0, 0.5)
    assert rows["derived.real_time_factor"]["ratio"] == 2.0
    assert rows["energy_joules.deliver"]["a"] == 400.0
    assert rows["derived.brain_energy_per_event_ratio"]["ratio"] == pytest.approx(1.0)


def test_many_windows_are_merged_in_the_plot(tmp_path):
    from analysis import plots
    W, R = 5001, 3
    t0 = np.arange(W) * 0.5
    rng = np.random.default_rng(1)
    info = plots.tally_windows(str(tmp_path / "w.png"), t0, t0 + 0.5, rng.random((W, R, 5)), PHASES,
                               rng.integers(0, 1000, (W, R)), rng.integers(0, 10**6, (W, R)), None)
    assert (info["width"], info["height"]) == (1000, 800)
    assert "3 windows merged per point" in info["title"]


# ---------------------------------------------------------------------------------- myelin-plan

class Args:
    """The options of myelin-plan as parsed, with the defaults."""

    def __init__(self, *argv):
        self.ns = plan_mod.parser().parse_args(["run", *argv])


def plan_of(run_dir, *argv):
    q, _ = plan_mod.plan(run_dir, Args(*argv).ns)
    return {r["key"]: r for r in q.rows}


def expected_plan(N, S, r, node_mem, cores_per_node, ranks_per_node, gbps, lat_us, min_nodes=1, run=Run):
    """The documented model, written out again here."""
    C = run.R * run.T
    events = run.rank["synaptic_events"].astype(float).sum()
    updates = run.rank["neuron_updates"].astype(float).sum()
    model_s = run.model_time_ms / 1000
    t_event = run.phase_seconds[:, 1].mean() * C / events
    t_update = run.phase_seconds[:, 0].mean() * C / updates
    u = updates / (run.n_neurons * model_s)
    m_syn = run.rank["peak_rss_bytes"].astype(float).sum() / run.n_synapses
    b = run.bytes_sent
    s = run.spikes_sent.astype(float)
    bps = (b.sum() - np.trace(b)) / (s.sum() - np.trace(s))
    coll = run.rank["collectives"].astype(float).mean() / model_s
    w_node = run.energy_phase.sum() / run.wall_seconds / run.nodes
    memory = m_syn * S
    nodes = max(math.ceil(memory / node_mem), min_nodes)
    cores = nodes * cores_per_node
    P = nodes * ranks_per_node
    K = S / N
    compute = (S * r * t_event + N * u * t_update) / cores
    remote = (P - 1) * (1 - (1 - 1 / P) ** K)
    node_bytes = N * r / P * remote * bps * ranks_per_node
    comm = node_bytes / (gbps * 1e9 / 8) + coll * lat_us * 1e-6 * math.log2(P)
    wall = compute + comm
    power = nodes * w_node
    e_event = power * wall / (S * r)
    return {"memory_bytes": memory, "nodes": nodes, "cores": cores, "ranks": P, "compute_s_per_model_s": compute,
            "remote_ranks_per_spike": remote, "destination_ranks_per_spike": P * (1 - (1 - 1 / P) ** K),
            "communication_s_per_model_s": comm, "wall_s_per_model_s": wall, "real_time_factor": wall,
            "power_watts": power, "energy_per_model_s_joules": power * wall,
            "energy_per_synaptic_event_joules": e_event,
            "power_ratio_vs_brain": power / (20 * N / 86e9),
            "energy_per_event_ratio_vs_brain": e_event / (20 / (1e14 * r)),
            "t_event": t_event, "t_update": t_update, "bytes_per_synapse": m_syn, "bytes_per_spike": bps,
            "watts_per_node": w_node, "collectives_per_model_s": coll}


def test_plan_defaults_are_the_human_brain_at_the_runs_rate(tmp_path):
    d = make_run(tmp_path / "run")
    got = plan_of(d)
    want = expected_plan(86e9, 1e14, 10.0, 256 * GIB, 8, 2, 100.0, 1.5)
    for key, value in want.items():
        assert got[key]["value"] == pytest.approx(value, rel=1e-9), key
    assert got["nodes"]["value"] == math.ceil(2200.0 * 1e14 / (256 * GIB)) == 800356
    assert got["bytes_per_synapse"]["value"] == 2200.0 and got["bytes_per_spike"]["value"] == pytest.approx(8.8)
    assert got["watts_per_node"]["value"] == 160.0
    assert got["power_watts"]["value"] == 160.0 * 800356
    # node_memory_bytes 0 (unknown): the default 256 GiB; the node's 64 hardware threads are shown
    assert got["node_memory_bytes"]["how"] == "default 256 GiB"
    assert got["cores_per_node"]["value"] == 8 and got["cores_per_node_hardware"]["value"] == 64
    kinds = {k: r["kind"] for k, r in got.items()}
    assert kinds["t_event"] == kinds["bytes_per_synapse"] == kinds["watts_per_node"] == "MEASURED"
    assert kinds["rate_hz"] == "MEASURED" and kinds["node_memory_bytes"] == "INPUT"
    assert kinds["nodes"] == kinds["power_watts"] == kinds["real_time_factor"] == "EXTRAPOLATED"


def test_plan_with_options_and_the_nodes_memory(tmp_path):
    d = make_run(tmp_path / "run", attrs={"node_memory_bytes": np.uint64(64 * 2**30), "cores_per_node": np.int64(32)})
    argv = ["--neurons", "1e6", "--synapses", "1e9", "--rate-hz", "4", "--network-bandwidth-gbps", "200",
            "--network-latency-us", "2", "--cores-per-node", "32", "--ranks-per-node", "4"]
    got = plan_of(d, *argv)
    want = expected_plan(1e6, 1e9, 4.0, 64 * GIB, 32, 4, 200.0, 2.0)
    for key, value in want.items():
        assert got[key]["value"] == pytest.approx(value, rel=1e-9), key
    assert got["nodes"]["value"] == math.ceil(2200 * 1e9 / (64 * GIB)) == 33  # 2.2e12 B on 64 GiB nodes
    assert got["node_memory_bytes"]["kind"] == "MEASURED" and got["rate_hz"]["kind"] == "INPUT"
    # --nodes above the memory's need
    got = plan_of(d, *argv, "--nodes", "100")
    want = expected_plan(1e6, 1e9, 4.0, 64 * GIB, 32, 4, 200.0, 2.0, min_nodes=100)
    assert got["nodes"]["value"] == 100 and got["ranks"]["value"] == 400
    for key, value in want.items():
        assert got[key]["value"] == pytest.approx(value, rel=1e-9), key


def test_plan_at_the_runs_own_size_gives_back_its_compute_time(tmp_path):
    d = make_run(tmp_path / "run")
    got = plan_of(d, "--neurons", "1000", "--synapses", "1e6", "--nodes", "1")
    assert got["nodes"]["value"] == 1 and got["ranks"]["value"] == 2
    # mean over ranks of update + deliver, per second of model time
    assert got["compute_s_per_model_s"]["value"] == pytest.approx(Run.phase_seconds[:, :2].sum(axis=1).mean())
    # two ranks, K = 1000: every spike reaches the other rank
    assert got["remote_ranks_per_spike"]["value"] == pytest.approx(1.0)
    assert got["bytes_per_rank_per_model_s"]["value"] == pytest.approx(500 * 10 * 8.8)


class OneRank(Run):
    R, T = 1, 2
    phase_seconds = np.array([[1.0, 2.0, 0.0, 0.1, 0.0]])
    rank = {k: v[:1] for k, v in Run.rank.items()}
    rank["collectives"] = np.array([0], dtype=np.uint64)
    rank["spikes_sent"] = rank["bytes_sent"] = np.array([0], dtype=np.uint64)
    spikes_sent = np.array([[5000]], dtype=np.uint64)
    bytes_sent = 8.0 * spikes_sent


def test_plan_of_a_one_rank_run_assumes_the_payload_and_the_collectives(tmp_path):
    d = make_run(tmp_path / "run", run=OneRank)
    got = plan_of(d, "--neurons", "1e6", "--synapses", "1e9", "--nodes", "8")
    assert "bytes_per_spike" not in got and got["bytes_per_spike_used"]["value"] == 8.0
    assert got["bytes_per_spike_used"]["kind"] == "INPUT"
    assert got["collectives_per_model_s_used"]["value"] == 2000.0  # 2 per 1-ms interval
    assert got["ranks"]["value"] == 8
    remote = 7 * (1 - (1 - 1 / 8) ** 1000)
    assert got["bytes_per_rank_per_model_s"]["value"] == pytest.approx(1e6 * 10 / 8 * remote * 8.0)


def test_plan_table_and_json(tmp_path):
    d = make_run(tmp_path / "run")
    res = run_tool(PLAN, d)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    out = res.stdout
    for needle in ("quantity", "MEASURED", "EXTRAPOLATED", "INPUT", "no overlap", "Alltoall", "[memory]",
                   "[power and energy]", "InfiniBand"):
        assert needle in out, needle
    node_line = next(ln for ln in out.splitlines() if ln.startswith("nodes for the memory"))
    assert node_line.split()[4:6] == ["800356", "EXTRAPOLATED"]
    res = run_tool(PLAN, d, "--json", "--rate-hz", "2")
    assert res.returncode == 0, res.stderr
    j = json.loads(res.stdout)
    want = expected_plan(86e9, 1e14, 2.0, 256 * GIB, 8, 2, 100.0, 1.5)
    for key, value in want.items():
        assert j["quantities"][key]["value"] == pytest.approx(value, rel=1e-9), key
    assert j["quantities"]["nodes"]["kind"] == "EXTRAPOLATED" and j["model"]
    help_text = run_tool(PLAN, "--help")
    assert help_text.returncode == 0
    for needle in ("MEASURED", "EXTRAPOLATED", "no overlap", "Alltoall", "log2(P)", "InfiniBand",
                   "ceil(memory / node memory)"):
        assert needle in help_text.stdout, needle


def _plan_error(res, *needles):
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("myelin-plan: error: "), lines[0]
    assert "Traceback" not in res.stderr and res.stdout == ""
    for n in needles:
        assert n in lines[0], lines[0]


def test_plan_errors_on_bad_input(tmp_path):
    _plan_error(run_tool(PLAN, tmp_path / "nothing"), "nothing", "no such directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    _plan_error(run_tool(PLAN, empty), "tallies.h5", "not found")
    (empty / "tallies.h5").write_text("not hdf5\n")
    _plan_error(run_tool(PLAN, empty), "tallies.h5", "HDF5")
    with h5py.File(empty / "tallies.h5", "w") as f:
        f.create_group("other")
    _plan_error(run_tool(PLAN, empty), "no /tallies group")
    d = make_run(tmp_path / "no_synapses", attrs={"n_synapses": None})
    _plan_error(run_tool(PLAN, d), "tallies.h5", "n_synapses")
    d = make_run(tmp_path / "zero_synapses", attrs={"n_synapses": np.uint64(0)})
    _plan_error(run_tool(PLAN, d), "n_synapses", "expected > 0")
    d = make_run(tmp_path / "no_phases", skip=("phase_seconds",))
    _plan_error(run_tool(PLAN, d), "phase_seconds", "update", "deliver")
    d = make_run(tmp_path / "no_events", skip=("rank/synaptic_events", "windows"))
    with open(os.path.join(d, "summary.json")) as f:
        s = json.load(f)
    s["synaptic_events"] = 0
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(s, f)
    _plan_error(run_tool(PLAN, d), "no synaptic events")
    d = make_run(tmp_path / "no_energy", skip=("energy_joules", "rank/energy_joules"), attrs={"energy_joules": None})
    _plan_error(run_tool(PLAN, d), "energy_joules")


def test_plan_summary_json_fills_in_missing_counts(tmp_path):
    d = make_run(tmp_path / "run", skip=("rank/synaptic_events", "windows"))
    with open(os.path.join(d, "summary.json")) as f:
        s = json.load(f)
    s["synaptic_events"] = 10_000_000
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(s, f)
    got = plan_of(d)
    assert got["run_synaptic_events"]["how"] == "summary.json synaptic_events"
    assert got["t_event"]["value"] == pytest.approx(expected_plan(86e9, 1e14, 10, 256 * GIB, 8, 2, 100, 1.5)["t_event"])


@pytest.mark.parametrize("option,value,needle", [
    ("--neurons", "0", "--neurons"), ("--synapses", "-5", "--synapses"), ("--rate-hz", "abc", "--rate-hz"),
    ("--nodes", "1.5", "--nodes"), ("--network-bandwidth-gbps", "nan", "--network-bandwidth-gbps"),
    ("--node-memory-gib", "inf", "--node-memory-gib"), ("--cores-per-node", "0", "--cores-per-node"),
])
def test_plan_errors_on_bad_options(tmp_path, option, value, needle):
    d = make_run(tmp_path / "run")
    _plan_error(run_tool(PLAN, d, f"{option}={value}"), needle, value)


def test_plan_error_without_a_run_argument():
    _plan_error(run_tool(PLAN), "required")
