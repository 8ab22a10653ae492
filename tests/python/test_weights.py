"""Tests of the weight-recording analysis (tools/analysis/weights.py, and its place in
myelin-analyze's plots and reports).

The files are written here with h5py in the layout of <NAME>_weights.h5 (configs/README.md,
"[weights.NAME]"), from weights whose statistics are known in closed form."""
import json
import os
import sys

import h5py
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from analysis import AnalysisError, cli, weights  # noqa: E402
from test_analysis import png_size, poisson, write_run  # noqa: E402


# ------------------------------------------------------------------------------------- fixtures

def write_weights(path, projection, source, target, delay, snapshot_times=None, snapshots=None,
                  histogram_times=None, histogram_weights=None, bin_edges=None, synapse_model="stdp",
                  source_population="pre", target_population="post", units="mV"):
    """A <NAME>_weights.h5 file: snapshots [T x E] at snapshot_times; histograms of the weights
    histogram_weights [H x E] at histogram_times over bin_edges, their statistics computed here."""
    E = len(source)
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        g = f.create_group(f"edges/{projection}")
        g.create_dataset("source_node_id", data=np.asarray(source, dtype=np.uint64))
        g["source_node_id"].attrs["node_population"] = source_population
        g.create_dataset("target_node_id", data=np.asarray(target, dtype=np.uint64))
        g["target_node_id"].attrs["node_population"] = target_population
        g.create_dataset("edge_type_id", data=np.zeros(E, dtype=np.uint32))
        g.create_dataset("edge_group_id", data=np.zeros(E, dtype=np.uint16))
        g.create_dataset("edge_group_index", data=np.arange(E, dtype=np.uint64))
        g.create_dataset("0/delay", data=np.asarray(delay, dtype=np.float64))
        latest = np.asarray(snapshots[-1] if snapshots is not None else np.zeros(E), dtype=np.float64)
        g.create_dataset("0/syn_weight", data=latest)
        if snapshots is not None:
            s = f.create_group(f"weights/{projection}")
            s.create_dataset("time", data=np.asarray(snapshot_times, dtype=np.float64))
            s.create_dataset("data", data=np.asarray(snapshots, dtype=np.float64))
            for k, v in (("source_population", source_population), ("target_population", target_population),
                         ("synapse_model", synapse_model), ("units", units)):
                s.attrs[k] = v
        if histogram_weights is not None:
            hw = np.asarray(histogram_weights, dtype=np.float64)
            edges = np.asarray(bin_edges, dtype=np.float64)
            h = f.create_group(f"histograms/{projection}")
            h.create_dataset("bin_edges", data=edges)
            h.create_dataset("time", data=np.asarray(histogram_times, dtype=np.float64))
            h.create_dataset("counts", data=np.array([np.histogram(row, bins=edges)[0] for row in hw],
                                                     dtype=np.uint64))
            h.create_dataset("below", data=(hw < edges[0]).sum(axis=1).astype(np.uint64))
            h.create_dataset("above", data=(hw > edges[-1]).sum(axis=1).astype(np.uint64))
            for k, fn in (("mean", np.mean), ("std", np.std), ("min", np.min), ("max", np.max)):
                h.create_dataset(k, data=fn(hw, axis=1))


# Additive STDP pushed to its bounds (Wmax = 1), 40 synapses from 0.5, 7 snapshots a second apart:
# synapses 0-9 gain 0.1 per second up to 1, 10-19 lose 0.1 per second down to 0, 20-39 stay at
# 0.5. The last snapshot: 10 at 1, 10 at 0, 20 at 0.5, so mean 0.5 and std sqrt(0.125).
E = 40
TIMES = np.arange(7) * 1000.0
K = np.arange(7)[:, None]
SNAPSHOTS = np.hstack([np.minimum(0.5 + 0.1 * K * np.ones((1, 10)), 1.0),
                       np.maximum(0.5 - 0.1 * K * np.ones((1, 10)), 0.0),
                       np.full((7, 20), 0.5)])
SOURCE = np.arange(E) % 20
TARGET = np.arange(E) // 20
DELAY = np.full(E, 1.0)


def bounded_file(path, **kw):
    write_weights(path, "additive", SOURCE, TARGET, DELAY, TIMES, SNAPSHOTS, TIMES, SNAPSHOTS,
                  np.linspace(0.0, 1.0, 11), **kw)
    return path


CONFIG = {"projection.additive": {"synapse": "stdp", "Wmax": "1"}}


# ------------------------------------------------------------------------------------- numbers

def test_snapshot_numbers_from_known_weights(tmp_path):
    w = weights.analyze("additive", bounded_file(str(tmp_path / "additive_weights.h5")), CONFIG)
    s = w.numbers["snapshots"]
    assert (s["count"], s["time_first_ms"], s["time_last_ms"]) == (7, 0.0, 6000.0)
    assert s["mean_first"] == pytest.approx(0.5) and s["std_first"] == pytest.approx(0.0, abs=1e-15)
    assert s["mean_last"] == pytest.approx(0.5) and s["std_last"] == pytest.approx(np.sqrt(0.125))
    assert (s["min_last"], s["max_last"]) == (0.0, 1.0)
    assert w.numbers["synapse_model"] == "stdp" and w.numbers["units"] == "mV" and w.numbers["synapses"] == E
    assert (w.numbers["source_population"], w.numbers["target_population"]) == ("pre", "post")
    # The mean of all weights per snapshot: the gains and losses cancel until both saturate.
    assert w.mean_over_time == pytest.approx(SNAPSHOTS.mean(axis=1))


def test_fraction_at_the_bounds_for_stdp(tmp_path):
    path = bounded_file(str(tmp_path / "additive_weights.h5"))
    b = weights.analyze("additive", path, CONFIG).numbers["at_bounds"]
    assert (b["lower_bound"], b["upper_bound"]) == (0.0, 1.0)
    assert (b["fraction_lower_first"], b["fraction_upper_first"]) == (0.0, 0.0)
    assert (b["fraction_lower_last"], b["fraction_upper_last"]) == (0.25, 0.25)
    # Within the tolerance (fixed-point weights), not beyond it.
    near = SNAPSHOTS.copy()
    near[-1, 0] = 1.0 - 0.5e-3
    near[-1, 1] = 1.0 - 2e-3
    write_weights(path, "additive", SOURCE, TARGET, DELAY, TIMES, near)
    assert weights.analyze("additive", path, CONFIG).numbers["at_bounds"]["fraction_upper_last"] == 9 / 40
    # Inhibitory stdp (Wmax < 0): the bounds are Wmax and 0.
    write_weights(path, "additive", SOURCE, TARGET, DELAY, TIMES, -2 * SNAPSHOTS)
    b = weights.analyze("additive", path, {"projection.additive": {"Wmax": "-2"}}).numbers["at_bounds"]
    assert (b["lower_bound"], b["upper_bound"]) == (-2.0, 0.0)
    assert (b["fraction_lower_last"], b["fraction_upper_last"]) == (0.25, 0.25)
    # Without Wmax (no config.ini) there is no fraction, and a warning says why.
    w = weights.analyze("additive", path, None)
    assert w.numbers["at_bounds"] is None and "no Wmax" in w.warnings[0]


def test_trajectories_are_chosen_evenly_and_hold_the_synapses_weights(tmp_path):
    w = weights.analyze("additive", bounded_file(str(tmp_path / "additive_weights.h5")), CONFIG)
    tr = w.trajectories
    assert tr["edges"].tolist() == np.linspace(0, E - 1, 20).round().astype(int).tolist()
    assert tr["edges"][0] == 0 and tr["edges"][-1] == E - 1
    # Synapse 2, one of those that gain: 0.5, 0.6, ... capped at Wmax = 1.
    j = tr["edges"].tolist().index(2)
    assert tr["weights"][:, j] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0])
    assert (tr["source"][j], tr["target"][j]) == (2, 0)
    j = tr["edges"].tolist().index(12)  # one that loses, down to 0
    assert tr["weights"][:, j] == pytest.approx([0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0])
    assert w.numbers["snapshots"]["trajectory_edges"] == tr["edges"].tolist()


def test_distributions_of_the_first_and_last_snapshot(tmp_path):
    w = weights.analyze("additive", bounded_file(str(tmp_path / "additive_weights.h5")), CONFIG)
    d = w.distribution
    assert d["bin_edges"][0] == 0.0 and d["bin_edges"][-1] == 1.0 and d["bin_edges"].size == 51
    assert d["first"].sum() == E and d["first"][np.searchsorted(d["bin_edges"], 0.5, side="right") - 1] == E
    assert d["last"].sum() == E and d["last"][0] == 10 and d["last"][-1] == 10  # the upper edge counts
    assert (d["time_first_ms"], d["time_last_ms"]) == (0.0, 6000.0)


def test_reading_in_chunks_gives_the_same_numbers(tmp_path):
    path = bounded_file(str(tmp_path / "additive_weights.h5"))
    whole = weights.analyze("additive", path, CONFIG)
    for chunk in (1, 3, 7):
        part = weights.analyze("additive", path, CONFIG, chunk=chunk)
        assert part.numbers["snapshots"]["std_last"] == pytest.approx(whole.numbers["snapshots"]["std_last"],
                                                                      rel=1e-12)
        assert part.numbers["at_bounds"] == whole.numbers["at_bounds"]
        assert (part.distribution["last"] == whole.distribution["last"]).all()
        assert part.mean_over_time == pytest.approx(whole.mean_over_time, rel=1e-12)


def test_histogram_numbers_are_the_files(tmp_path):
    w = weights.analyze("additive", bounded_file(str(tmp_path / "additive_weights.h5")), CONFIG)
    h = w.numbers["histograms"]
    assert (h["count"], h["bins"], h["range"]) == (7, 10, [0.0, 1.0])
    assert (h["time_first_ms"], h["time_last_ms"]) == (0.0, 6000.0)
    assert h["mean_last"] == pytest.approx(0.5) and h["std_last"] == pytest.approx(np.sqrt(0.125))
    assert (h["below_last"], h["above_last"]) == (0, 0)
    assert w.histograms["counts"][-1].tolist() == [10, 0, 0, 0, 0, 20, 0, 0, 0, 10]


def test_histograms_only_stdp_pl(tmp_path):
    """stdp_pl without snapshots (hpc_benchmark's histograms): numbers from the histograms, and
    weights beyond histogram_max counted above."""
    rng = np.random.default_rng(5)
    grown = np.vstack([rng.uniform(40, 50, 500), rng.uniform(40, 120, 500)])
    path = str(tmp_path / "EE_weights.h5")
    write_weights(path, "EE", np.arange(500) % 50, np.arange(500) // 50, np.full(500, 1.5),
                  histogram_times=[0.0, 100.0], histogram_weights=grown, bin_edges=np.linspace(0, 91.2, 51),
                  synapse_model="stdp_pl")
    w = weights.analyze("EE", path, {"projection.EE": {"synapse": "stdp_pl"}})
    assert w.numbers["snapshots"] is None and w.distribution is None and w.numbers["at_bounds"] is None
    assert w.numbers["synapse_model"] == "stdp_pl"  # from the config: no snapshot group
    h = w.numbers["histograms"]
    assert h["mean_first"] == pytest.approx(grown[0].mean()) and h["std_last"] == pytest.approx(grown[1].std())
    assert h["above_last"] == int((grown[1] > 91.2).sum()) > 0 and h["below_last"] == 0
    with pytest.raises(AnalysisError, match="no weight snapshots of EE"):
        weights.load_snapshot(path)


# ------------------------------------------------------------------------------ load_snapshot

def test_load_snapshot_gives_numpy_arrays(tmp_path):
    path = bounded_file(str(tmp_path / "additive_weights.h5"))
    source, target, delay_ms, weight = weights.load_snapshot(path)  # the last
    assert source.dtype == np.uint64 and target.dtype == np.uint64 and weight.dtype == np.float64
    assert (source == SOURCE).all() and (target == TARGET).all() and (delay_ms == 1.0).all()
    assert weight.tolist() == SNAPSHOTS[-1].tolist()
    s = weights.load_snapshot(path, time_ms=2000)
    assert s.weight.tolist() == SNAPSHOTS[2].tolist() and s.weight[0] == pytest.approx(0.7)
    assert weights.load_snapshot(path, time_ms=0, projection="additive").weight.tolist() == [0.5] * E
    with pytest.raises(AnalysisError, match="no snapshot at 2500 ms .there are 7, from 0 to 6000 ms"):
        weights.load_snapshot(path, time_ms=2500)
    with pytest.raises(AnalysisError, match="no projection 'EE' .it has additive"):
        weights.load_snapshot(path, projection="EE")
    bad = tmp_path / "not.h5"
    bad.write_text("weights")
    with pytest.raises(AnalysisError, match="cannot open as HDF5"):
        weights.load_snapshot(str(bad))


# ------------------------------------------------------------------------ myelin-analyze RUN_DIR

@pytest.fixture(scope="module")
def weights_report(tmp_path_factory):
    base = tmp_path_factory.mktemp("weights")
    rng = np.random.default_rng(11)
    run = write_run(str(base / "run"), {"pre": poisson(20, 5.0, 6000.0, rng)}, {"pre": 20, "post": 2}, 6000.0)
    with open(os.path.join(run, "config.ini"), "a") as f:
        f.write("\n[projection.additive]\nsource = pre\ntarget = post\nsynapse = stdp\nWmax = 1\n")
    bounded_file(os.path.join(run, "additive_weights.h5"))
    grown = np.vstack([np.full(E, 0.5), np.linspace(0, 2, E)])
    write_weights(os.path.join(run, "hist_weights.h5"), "additive", SOURCE, TARGET, DELAY,
                  histogram_times=[0, 6000], histogram_weights=grown, bin_edges=np.linspace(0, 1, 21))
    open(os.path.join(run, "late_weights.h5.partial"), "w").close()
    out = str(base / "out")
    assert cli.main([run, "--out-dir", out, "--html"]) == 0
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    return run, out, report


def test_myelin_analyze_reports_every_weights_file(weights_report, capsys):
    run, out, report = weights_report
    assert set(report["weights"]) == {"additive", "hist"}
    add = report["weights"]["additive"]
    assert add["snapshots"]["std_last"] == pytest.approx(np.sqrt(0.125))
    assert add["at_bounds"]["fraction_upper_last"] == 0.25
    assert report["weights"]["hist"]["snapshots"] is None
    assert report["weights"]["hist"]["histograms"]["above_last"] == int((np.linspace(0, 2, E) > 1).sum())
    assert any("late_weights.h5.partial" in x and "did not finish" in x for x in report["warnings"])
    assert len(report["provenance"]["weights"]) == 2
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        html_text = f.read()
    assert "<h2>Weights</h2>" in html_text and "additive_weight_snapshots.png" in html_text
    assert cli.main([run, "--out-dir", out, "--no-plots"]) == 0
    text = capsys.readouterr().out
    line = next(x for x in text.splitlines() if x.startswith("additive "))
    assert "7 snapshots" in line and "25% / 25%" in line and "0.3536" in line


def test_weight_plots_are_written_and_not_blank(weights_report):
    import matplotlib.image
    _, out, report = weights_report
    expected = {"additive_weight_histograms.png": (1000, 500), "additive_weight_snapshots.png": (1400, 500),
                "hist_weight_histograms.png": (1000, 500)}
    listed = {p["file"]: (p["width"], p["height"]) for p in report["plots"]}
    assert {f for f in listed if "weight" in f} == set(expected)  # no snapshot plot without snapshots
    for name, size in expected.items():
        path = os.path.join(out, name)
        assert png_size(path) == size == listed[name], name
        pixels = matplotlib.image.imread(path)
        assert float(pixels[..., :3].var()) > 1e-3, f"{name} is blank"
    hist = next(p for p in report["plots"] if p["file"] == "hist_weight_histograms.png")
    assert "outside the range at the end: 20 above" in hist["title"]  # 2i/39 > 1 for i = 20..39


def test_an_unreadable_weights_file_is_a_warning(tmp_path):
    rng = np.random.default_rng(2)
    run = write_run(str(tmp_path / "run"), {"E": poisson(10, 5.0, 1000.0, rng)}, {"E": 10}, 1000.0)
    with open(os.path.join(run, "broken_weights.h5"), "w") as f:
        f.write("not HDF5")
    with h5py.File(os.path.join(run, "empty_weights.h5"), "w"):
        pass
    out = str(tmp_path / "out")
    assert cli.main([run, "--out-dir", out, "--no-plots"]) == 0
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    assert report["weights"] == {}
    assert any("broken_weights.h5: cannot open as HDF5" in x for x in report["warnings"])
    assert any("empty_weights.h5: no /edges/<projection> group" in x for x in report["warnings"])
