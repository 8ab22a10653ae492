"""Tests of tools/myelin-analyze (the package tools/analysis/).

Spike files are written here with h5py in the SONATA layout, independently of the simulator;
the statistics are checked against answers known in advance. The test of a real run needs the
binary: CTest passes it in the environment variable MYELIN."""
import base64
import html.parser
import json
import math
import os
import struct
import subprocess
import sys

import h5py
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "myelin-analyze")
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(ROOT, "tools"))

from analysis import cli, core, criticality  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------------------- helpers

def write_sonata(path, pops, sorting="by_time"):
    """pops: {name: (times ms, node ids)}; sorted as `sorting` says, SONATA enum attribute."""
    enum = h5py.enum_dtype({"none": 0, "by_id": 1, "by_time": 2}, basetype="u1")
    with h5py.File(path, "w") as f:
        f.attrs["magic"] = np.uint32(0x0A7A)
        f.attrs["version"] = np.array([0, 1], dtype=np.uint32)
        for name, (t, ids) in pops.items():
            t, ids = np.asarray(t, dtype=np.float64), np.asarray(ids, dtype=np.uint64)
            if sorting == "by_time":
                order = np.lexsort((ids, t))
            elif sorting == "by_id":
                order = np.lexsort((t, ids))
            else:
                order = np.random.default_rng(3).permutation(t.size)
            g = f.create_group(f"spikes/{name}")
            g.attrs.create("sorting", {"none": 0, "by_id": 1, "by_time": 2}[sorting], dtype=enum)
            ds = g.create_dataset("timestamps", data=t[order])
            ds.attrs["units"] = "ms"
            g.create_dataset("node_ids", data=ids[order])


def write_run(d, pops, sizes, t_stop, dt=0.1, summary=True, sorting="by_time"):
    """A run directory as myelin writes it: spikes.h5, config.ini, summary.json."""
    os.makedirs(d, exist_ok=True)
    write_sonata(os.path.join(d, "spikes.h5"), pops, sorting)
    lines = ["# Resolved config", "", "[simulation]", f"name = {os.path.basename(d)}", f"dt_ms = {dt}",
             f"t_stop_ms = {t_stop}", "seed = 1 ; a comment", ""]
    for name, n in sizes.items():
        lines += [f"[population.{name}]", "model = iaf_psc_exp", f"n = {n}", "C_m = 250", ""]
    with open(os.path.join(d, "config.ini"), "w") as f:
        f.write("\n".join(lines))
    if summary:
        s = {"ranks": 2, "threads": 1, "t_model_ms": t_stop, "simulate_s": 1.5, "real_time_factor": 0.7,
             "spikes": int(sum(len(t) for t, _ in pops.values())),
             "populations": [{"name": k, "n": sizes[k], "spikes": len(pops[k][0]),
                              "rate_hz": len(pops[k][0]) / (sizes[k] * t_stop / 1000)} for k in pops]}
        with open(os.path.join(d, "summary.json"), "w") as f:
            json.dump(s, f)
    return d


def write_tallies(path, ranks=3):
    with h5py.File(path, "w") as f:
        g = f.create_group("tallies")
        ps = g.create_dataset("phase_seconds", data=np.arange(1, ranks * 4 + 1, dtype=float).reshape(ranks, 4))
        ps.attrs["phases"] = ["update", "delivery", "exchange", "recording"]
        b = np.full((ranks, ranks), 1e6)
        np.fill_diagonal(b, 0)
        g.create_dataset("bytes_sent", data=b)
        e = g.create_dataset("energy_joules", data=[10.0, 20.0, 5.0, 1.0])
        e.attrs["source"] = "modeled"


def regular(n_active, n_silent_extra, period, t_stop, rng):
    """n_active neurons firing every `period` ms from a random phase, ids 0..n_active-1."""
    t, ids = [], []
    for i in range(n_active):
        phase = rng.uniform(0.05, period - 0.05)
        ti = np.arange(phase, t_stop, period)
        t.append(ti)
        ids.append(np.full(ti.size, i))
    return np.concatenate(t), np.concatenate(ids)


def poisson(n, rate_hz, t_stop, rng):
    counts = rng.poisson(rate_hz * t_stop / 1000.0, size=n)
    t = rng.uniform(0, t_stop, size=counts.sum())
    ids = np.repeat(np.arange(n), counts)
    return t, ids


def analyze(path, **kw):
    return core.analyze(path, core.Options(**kw), plots_wanted=False)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == PNG_SIGNATURE, f"{path}: not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def run_tool(*args, env=None):
    return subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {})))


# ---------------------------------------------------------------------------------- statistics

@pytest.fixture(scope="module")
def poisson_run(tmp_path_factory):
    rng = np.random.default_rng(42)
    d = tmp_path_factory.mktemp("poisson") / "run"
    write_run(str(d), {"E": poisson(200, 20.0, 20000.0, rng)}, {"E": 200}, 20000.0)
    return str(d)


def test_regular_trains_have_cv_zero_and_a_known_rate(tmp_path):
    rng = np.random.default_rng(1)
    t, ids = regular(100, 0, 100.0, 10000.0, rng)  # 100 spikes each: 10 Hz over 10 s
    d = write_run(str(tmp_path / "reg"), {"exc": (t, ids)}, {"exc": 125}, 10000.0)
    p = analyze(d, bin_ms=100.0).populations[0].numbers  # one spike per neuron and bin
    assert p["neurons"] == 125 and p["neurons_source"] == "config.ini"
    assert p["spikes"] == 10000
    assert p["rate_hz"] == pytest.approx(10000 / (125 * 10.0), rel=1e-12)
    assert p["fraction_silent"] == pytest.approx(25 / 125)
    assert p["cv_isi_neurons"] == 100
    assert p["cv_isi_mean"] < 1e-9
    assert p["fano_neuron_mean"] < 1e-9 and p["fano_population"] < 1e-9  # Poisson: 1


def test_chunked_reading_gives_the_same_numbers(tmp_path, poisson_run):
    whole = analyze(poisson_run)
    chunked = analyze(poisson_run, chunk=997)  # many chunks, bins split across chunk edges
    a, b = whole.populations[0].numbers, chunked.populations[0].numbers
    for key in ("spikes", "rate_hz", "fraction_silent", "cv_isi_mean", "fano_population",
                "fano_neuron_mean", "synchrony_chi"):
        assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-12), key
    assert whole.network.numbers["avalanches"] == chunked.network.numbers["avalanches"]


def test_poisson_trains_have_cv_and_fano_one(poisson_run):
    a = analyze(poisson_run)
    p = a.populations[0].numbers
    assert p["rate_hz"] == pytest.approx(20.0, rel=0.02)
    assert p["cv_isi_mean"] == pytest.approx(1.0, abs=0.05)
    assert p["fano_population"] == pytest.approx(1.0, abs=0.1)
    assert p["fano_neuron_mean"] == pytest.approx(1.0, abs=0.05)
    assert p["synchrony_chi"] < 0.15  # ~ 1/sqrt(200) for independent neurons
    assert p["fraction_silent"] == 0


@pytest.mark.parametrize("sorting", ["none", "by_id"])
def test_unsorted_files_give_the_same_numbers(tmp_path, sorting):
    rng = np.random.default_rng(5)
    pops = {"E": poisson(80, 15.0, 4000.0, rng), "I": regular(20, 0, 50.0, 4000.0, rng)}
    ref = write_run(str(tmp_path / "sorted"), pops, {"E": 80, "I": 20}, 4000.0)
    other = write_run(str(tmp_path / sorting), pops, {"E": 80, "I": 20}, 4000.0, sorting=sorting)
    a = analyze(ref)
    b = analyze(other, chunk=500)  # several node-id ranges
    for pa, pb in zip(a.populations, b.populations):
        assert pb.numbers["read"].startswith("passes")
        for key in ("spikes", "rate_hz", "cv_isi_mean", "fano_population", "fano_neuron_mean", "synchrony_chi"):
            assert pb.numbers[key] == pytest.approx(pa.numbers[key], rel=1e-9, abs=1e-12), (pa.name, key)


def test_synchronous_population_has_chi_one(tmp_path):
    rng = np.random.default_rng(9)
    times = np.sort(rng.uniform(0, 5000, 300))
    t = np.tile(times, 40)
    ids = np.repeat(np.arange(40), times.size)
    p = analyze(write_run(str(tmp_path / "sync"), {"S": (t, ids)}, {"S": 40}, 5000.0)).populations[0].numbers
    assert p["synchrony_chi"] > 0.99
    assert p["fano_population"] > 20


def test_window_restricts_the_statistics(tmp_path):
    rng = np.random.default_rng(2)
    t, ids = regular(50, 0, 100.0, 10000.0, rng)
    d = write_run(str(tmp_path / "win"), {"exc": (t, ids)}, {"exc": 50}, 10000.0)
    a = analyze(d, from_ms=2000.0, to_ms=6000.0)
    p = a.populations[0].numbers
    assert (a.window.lo, a.window.hi) == (2000.0, 6000.0)
    assert p["spikes"] == int(np.sum((t >= 2000) & (t <= 6000)))
    assert p["rate_hz"] == pytest.approx(10.0, rel=0.01)
    assert p["cv_isi_mean"] < 1e-9


def test_population_size_from_max_node_id_or_option(tmp_path):
    f = str(tmp_path / "bare.h5")
    write_sonata(f, {"pop": (np.array([1.0, 2.0, 3.0, 7.5]), np.array([0, 4, 9, 4]))})
    a = analyze(f)
    p = a.populations[0].numbers
    assert p["neurons"] == 10 and p["neurons_source"] == "max node id + 1"
    assert any("largest node id" in w for w in a.warnings)
    assert (a.window.lo, a.window.hi) == (0.0, 7.5)  # no config: up to the last spike
    b = analyze(f, population_size={"pop": 20}).populations[0].numbers
    assert b["neurons"] == 20 and b["fraction_silent"] == pytest.approx(17 / 20)  # ids 0, 4, 9 spike


def test_silent_population_and_mislabeled_sorting(tmp_path):
    rng = np.random.default_rng(8)
    pops = {"A": poisson(30, 10.0, 2000.0, rng), "Z": (np.zeros(0), np.zeros(0))}
    ref = analyze(write_run(str(tmp_path / "ok"), pops, {"A": 30, "Z": 10}, 2000.0))
    z = ref.populations[1].numbers
    assert (z["spikes"], z["rate_hz"], z["fraction_silent"], z["cv_isi_neurons"]) == (0, 0.0, 1.0, 0)
    assert "Z" not in ref.avalanches
    # A file that says by_time but is not: found out while streaming, read again by node ranges.
    f = str(tmp_path / "liar.h5")
    write_sonata(f, pops, sorting="none")
    with h5py.File(f, "r+") as h:
        h["spikes/A"].attrs.modify("sorting", 2)
    b = analyze(f, population_size={"A": 30, "Z": 10}, to_ms=2000.0, chunk=256)
    assert b.populations[0].numbers["read"].startswith("passes")
    for key in ("spikes", "cv_isi_mean", "fano_neuron_mean", "synchrony_chi"):
        assert b.populations[0].numbers[key] == pytest.approx(ref.populations[0].numbers[key], rel=1e-9), key


# ---------------------------------------------------------------------------------- criticality

def test_avalanches_of_a_constructed_case(tmp_path):
    # Spike counts per 1-ms bin; empty bins at both ends so that every avalanche is complete.
    counts = [0, 1, 2, 1, 0, 0, 3, 0, 1, 1, 1, 1, 0, 2, 0]
    t = np.concatenate([np.full(c, j + 0.5) for j, c in enumerate(counts)])
    ids = np.concatenate([np.arange(c) for c in counts])
    d = write_run(str(tmp_path / "aval"), {"P": (t, ids)}, {"P": 5}, 15.0, dt=0.5)
    a = analyze(d, avalanche_bin_ms=1.0)
    av = a.avalanches["P"]
    assert av.sizes.tolist() == [4, 3, 4, 2]
    assert av.durations.tolist() == [3, 1, 4, 1]
    n = av.numbers
    assert n["avalanches"] == 4 and n["incomplete_left_out"] == 0
    assert n["branching_ratio"] == pytest.approx((2 / 1 + 0 + 1 / 1 + 0) / 4)
    assert n["size_mean"] == pytest.approx(13 / 4)
    assert a.network.sizes.tolist() == [4, 3, 4, 2]  # one population: the network is the same
    # Default bin: the mean inter-spike interval 15 ms / 13 spikes, rounded to steps of dt = 0.5 ms.
    b = analyze(d)
    assert b.avalanches["P"].numbers["bin_ms"] == pytest.approx(1.0)
    assert b.avalanches["P"].sizes.tolist() == [4, 3, 4, 2]


def test_incomplete_avalanches_are_left_out():
    sizes, durations, n1, n2, incomplete = criticality.avalanches(np.array([2, 0, 1, 1, 0, 3]))
    assert sizes.tolist() == [2] and durations.tolist() == [2] and incomplete == 2
    assert n1.tolist() == [1] and n2.tolist() == [1]


def test_hurwitz_zeta():
    assert criticality.hurwitz_zeta(2.0, 1.0) == pytest.approx(math.pi ** 2 / 6, rel=1e-12)
    assert criticality.hurwitz_zeta(3.0, 1.0) == pytest.approx(1.2020569031595942, rel=1e-12)
    direct = np.sum(np.arange(5, 2_000_000, dtype=float) ** -2.5)
    assert criticality.hurwitz_zeta(2.5, 5.0) == pytest.approx(direct, rel=1e-8)


@pytest.mark.parametrize("alpha,xmin", [(1.5, 1), (2.0, 3)])
def test_power_law_mle_recovers_the_exponent(alpha, xmin):
    rng = np.random.default_rng(11)
    x = np.arange(xmin, 3_000_000, dtype=float)
    cdf = np.cumsum(x ** -alpha)
    cdf /= cdf[-1]
    sample = x[np.searchsorted(cdf, rng.random(20000))].astype(np.int64)
    fit = criticality.fit_power_law(sample, xmin=xmin)
    assert fit["alpha"] == pytest.approx(alpha, abs=max(0.03, 4 * fit["alpha_err"]))
    auto = criticality.fit_power_law(sample)
    assert auto["alpha"] == pytest.approx(alpha, abs=0.1)
    assert auto["xmin"] >= xmin and auto["ks"] < 0.05


def test_branching_ratio_of_a_branching_process():
    rng = np.random.default_rng(4)
    m, h, A = 0.9, 2.0, [20]
    for _ in range(30000):
        A.append(rng.poisson(m * A[-1] + h))
    res = criticality.analyze("bp", np.array(A, dtype=np.int32), 1.0)
    assert res.numbers["branching_ratio_mr"] == pytest.approx(m, abs=0.03)


# ----------------------------------------------------------------------- plots, reports, HTML

class _Images(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tags, self.tables = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "table":
            self.tables += 1


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    """One run with tallies, compared with a second one, with --html: every plot there is."""
    base = tmp_path_factory.mktemp("report")
    rng = np.random.default_rng(7)
    sizes = {"exc": 160, "inh": 40}
    a = write_run(str(base / "run_a"), {"exc": poisson(150, 8.0, 2000.0, rng),
                                        "inh": regular(40, 0, 40.0, 2000.0, rng)}, sizes, 2000.0)
    b = write_run(str(base / "run_b"), {"exc": poisson(160, 10.0, 2000.0, rng),
                                        "inh": regular(40, 0, 50.0, 2000.0, rng)}, sizes, 2000.0)
    write_tallies(os.path.join(a, "tallies.h5"))
    write_tallies(os.path.join(b, "tallies.h5"), ranks=5)
    out = str(base / "out")
    code = cli.main([a, "--compare", b, "--html", "--out-dir", out])
    assert code == 0
    with open(os.path.join(out, "report.json")) as f:
        report = json.load(f)
    return out, report, a, b


EXPECTED_PLOTS = {  # file: (width, height) in pixels at plots.DPI = 100
    "raster.png": (1000, 600), "rates.png": (780, 340), "population_rate.png": (1000, 400),
    "avalanches.png": (1600, 500), "tally_phases.png": (1000, 500),
    "tally_communication.png": (750, 620), "tally_energy.png": (800, 480), "compare.png": (1500, 460),
    "tally_compare.png": (1200, 460),
}


def test_every_plot_is_a_valid_png_of_the_expected_size_and_not_blank(full_report):
    import matplotlib.image
    out, report, _, _ = full_report
    listed = {p["file"]: (p["width"], p["height"]) for p in report["plots"]}
    assert set(listed) == set(EXPECTED_PLOTS)
    for name, size in EXPECTED_PLOTS.items():
        path = os.path.join(out, name)
        assert png_size(path) == size == listed[name], name
        pixels = matplotlib.image.imread(path)
        assert pixels.shape[:2] == (size[1], size[0])
        assert float(pixels[..., :3].var()) > 1e-4, f"{name} is blank"


def test_html_embeds_every_plot_and_parses(full_report):
    out, report, a, _ = full_report
    with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
        text = f.read()
    parser = _Images()
    parser.feed(text)
    parser.close()
    assert parser.tags[0] == "html" and parser.tables >= 4
    embedded = {}
    for img in parser.images:
        assert img["src"].startswith("data:image/png;base64,")
        embedded[img["src"].split(",", 1)[1]] = img
    assert len(embedded) == len(EXPECTED_PLOTS)
    for name in EXPECTED_PLOTS:
        with open(os.path.join(out, name), "rb") as f:
            assert base64.b64encode(f.read()).decode() in embedded, f"{name} not embedded"
    assert "src=\"http" not in text and "<link" not in text  # self-contained
    assert "[population.exc]" in text and "n = 160" in text  # the run's config
    assert "Provenance" in text and os.path.abspath(a) in text


def test_report_json_has_every_number_and_the_comparison(full_report):
    _, report, a, b = full_report
    assert set(report["populations"]) == {"exc", "inh"}
    exc = report["populations"]["exc"]
    for key in ("rate_hz", "cv_isi_mean", "fano_population", "synchrony_chi", "fraction_silent"):
        assert isinstance(exc[key], float), key
    assert exc["fraction_silent"] == pytest.approx(10 / 160, abs=0.02)
    assert report["avalanches"]["network"]["avalanches"] > 0
    assert report["tallies"]["phases"]["update"]["max_s"] == 9.0
    assert report["tallies"]["energy_source"] == "modeled"
    cmp = report["compare"]
    assert cmp["a"] == a and cmp["b"] == b
    row = next(r for r in cmp["rows"] if r["group"] == "exc" and r["metric"] == "rate_hz")
    assert row["ratio"] == pytest.approx(row["b"] / row["a"])
    assert row["b"] == pytest.approx(cmp["other"]["populations"]["exc"]["rate_hz"])


def test_text_report_on_stdout(tmp_path, poisson_run, capsys):
    assert cli.main([poisson_run, "--no-plots", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "population" in out and "rate (Hz)" in out and "CV ISI" in out
    assert any(line.startswith("E ") for line in out.splitlines())
    assert os.path.isfile(tmp_path / "report.json") and not list(tmp_path.glob("*.png"))


# -------------------------------------------------------------------------------- bad input

def _one_line_error(res, *needles):
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("myelin-analyze: error: ")
    for n in needles:
        assert n in lines[0], lines[0]
    assert res.stdout == ""


def test_error_missing_file(tmp_path):
    _one_line_error(run_tool(tmp_path / "nothing.h5"), "no such file")


def test_error_not_hdf5(tmp_path):
    p = tmp_path / "spikes.txt"
    p.write_text("0.1 3\n0.2 4\n")
    _one_line_error(run_tool(p), "not an HDF5 file")


def test_error_no_spikes_group(tmp_path):
    p = tmp_path / "other.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("report/data", data=np.zeros(3))
    _one_line_error(run_tool(p), "no /spikes group")


def test_error_population_without_datasets_and_empty_directory(tmp_path):
    p = tmp_path / "broken.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("spikes/exc/timestamps", data=np.zeros(3))
    _one_line_error(run_tool(p), "lacks the timestamps and node_ids")
    _one_line_error(run_tool(tmp_path), "no spikes.h5")


# ---------------------------------------------------------------------------- the real binary

def test_report_on_a_real_tiny_run(tmp_path):
    binary = os.environ.get("MYELIN")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("set MYELIN to the myelin binary to analyze a real run (CTest does)")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    sim = subprocess.run([binary, "run", os.path.join(ROOT, "tests", "configs", "tiny.ini"), "--quiet",
                          "--set", f"output.dir={tmp_path}"], capture_output=True, text=True, env=env, timeout=120)
    assert sim.returncode == 0, sim.stderr
    run = tmp_path / "tiny"
    res = run_tool(run, "--html")
    assert res.returncode == 0, res.stderr
    with open(run / "analysis" / "report.json") as f:
        report = json.load(f)
    with open(run / "summary.json") as f:
        summary = json.load(f)
    assert not report["warnings"], report["warnings"]
    for pop in summary["populations"]:
        mine = report["populations"][pop["name"]]
        assert mine["neurons"] == pop["n"] and mine["neurons_source"] == "config.ini"
        assert mine["spikes"] == pop["spikes"]
        assert mine["rate_hz"] == pytest.approx(pop["rate_hz"], rel=1e-6)
    assert report["avalanches"]["network"]["avalanches"] > 0
    assert os.path.isfile(run / "analysis" / "report.html")
    files = {p["file"] for p in report["plots"]}
    assert all(os.path.isfile(run / "analysis" / f) for f in files)
    assert {f for f in files if not f.startswith("tally_")} == {"raster.png", "rates.png", "population_rate.png",
                                                                 "avalanches.png"}
    for pop in summary["populations"]:
        assert pop["name"] in res.stdout
    if not os.path.isfile(run / "tallies.h5"):
        assert not any(f.startswith("tally_") for f in files)
        return
    # The binary's tallies.h5: read without a warning (checked above), every plot, and numbers that
    # agree with summary.json (a run without a restart: both cover every step).
    assert files >= {"tally_phases.png", "tally_communication.png", "tally_energy.png", "tally_windows.png"}
    t = report["tallies"]
    attrs, totals = t["attributes"], t["rank_totals"]
    assert attrs["n_ranks"] == summary["ranks"] and attrs["n_threads"] == summary["threads"]
    assert attrs["n_neurons"] == summary["neurons"] and attrs["n_synapses"] == summary["synapses"]
    assert attrs["model_time_ms"] == pytest.approx(summary["t_model_ms"])
    assert totals["spikes_emitted"] == summary["spikes"]
    assert totals["synaptic_events"] == summary["synaptic_events"]
    assert totals["neuron_updates"] == summary["neuron_updates"]
    assert attrs["energy_source"] in ("measured", "modeled")
    assert t["derived"]["energy_joules_total"] > 0 and t["derived"]["average_power_watts"] > 0
    assert sum(t["windows"]["synaptic_events"]) == summary["synaptic_events"]
    assert t["windows"]["t_end_ms"][-1] == pytest.approx(summary["t_model_ms"])
    plan = subprocess.run([os.path.join(ROOT, "tools", "myelin-plan"), str(run), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert plan.returncode == 0, plan.stderr
    q = json.loads(plan.stdout)["quantities"]
    assert q["nodes"]["value"] >= 1 and q["real_time_factor"]["value"] > 0
