"""The command line of myelin-analyze."""
import argparse
import os
import sys
import traceback

from . import AnalysisError, __version__

EPILOG = """\
examples:
  myelin-analyze out/microcircuit                  report on stdout; plots and report.json in out/microcircuit/analysis/
  myelin-analyze out/run_a --compare out/run_b     side by side with ratios B/A
  myelin-analyze out/brunel --from-ms 200 --html   skip a warm-up; also write report.html
  myelin-analyze other_simulator_spikes.h5 --population-size E=10000 --population-size I=2500

INPUT is a run directory (spikes.h5, config.ini, summary.json, tallies.h5 and *_weights.h5 when
present) or any SONATA spike file. Population sizes come from --population-size, else the run's config.ini, else
the largest node id + 1 (the report says so). Exit status: 0 done, 1 bad input, 2 bad usage.
"""


def _positive(kind):
    def parse(s):
        try:
            v = kind(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got '{s}'") from None
        if not v > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got '{s}'")
        return v
    return parse


def _pop_size(s):
    name, eq, n = s.partition("=")
    try:
        value = int(n)
    except ValueError:
        value = 0
    if not eq or not name or value <= 0:
        raise argparse.ArgumentTypeError(f"expected POP=N with N a positive integer, got '{s}'")
    return name, value


def parser():
    p = argparse.ArgumentParser(
        prog="myelin-analyze", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Statistics, criticality, plots and reports from myelin's HDF5 output "
                    "(or any SONATA spike file).")
    p.add_argument("input", help="run directory or SONATA spike file")
    p.add_argument("--compare", metavar="OTHER", help="a second run or spike file to compare with (B/A ratios)")
    p.add_argument("--from-ms", type=float, metavar="T", help="start of the analysis window (default 0)")
    p.add_argument("--to-ms", type=float, metavar="T",
                   help="end of the window (default simulation.t_stop_ms, else the last spike)")
    p.add_argument("--bin-ms", type=_positive(float), default=5.0, metavar="W",
                   help="bin width for population counts: Fano factor, synchrony, rate over time (default 5)")
    p.add_argument("--avalanche-bin-ms", type=_positive(float), metavar="W",
                   help="avalanche bin width (default: the mean inter-spike interval of the pooled train, "
                        "rounded to whole time steps)")
    p.add_argument("--avalanche-sample", type=_positive(int), metavar="K",
                   help="count avalanches in K neurons per population, spread evenly over the node ids "
                        "(default: all neurons; large active networks have no empty bins)")
    p.add_argument("--population-size", type=_pop_size, action="append", default=[], metavar="POP=N",
                   help="size of a population (repeatable); overrides config.ini")
    p.add_argument("-o", "--out-dir", metavar="DIR",
                   help="where plots and reports go (default RUN/analysis, or FILE_analysis next to a spike file)")
    p.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    p.add_argument("--no-plots", action="store_true", help="write no PNG files")
    p.add_argument("--raster-neurons", type=int, default=50, metavar="K",
                   help="neurons per population in the raster (default 50)")
    p.add_argument("--raster-ms", type=_positive(float), default=1000.0, metavar="T",
                   help="length of the raster from the window start (default 1000)")
    p.add_argument("--min-spikes-cv", type=int, default=3, metavar="K",
                   help="spikes a neuron needs to enter the CV of ISIs (default 3, at least 3)")
    p.add_argument("--xmin-size", type=_positive(int), metavar="S",
                   help="fix x_min of the avalanche size fit (default: by Kolmogorov-Smirnov)")
    p.add_argument("--xmin-duration", type=_positive(int), metavar="D",
                   help="fix x_min of the avalanche duration fit, in bins")
    p.add_argument("--chunk-spikes", type=_positive(int), default=1 << 22, metavar="N",
                   help="spikes read at a time (default 4194304: about 64 MiB per read)")
    p.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    p.add_argument("--version", action="version", version=f"myelin-analyze {__version__}")
    return p


def write_plots(a, out_dir):
    """Every PNG for an Analysis; returns the plot descriptions."""
    from . import plots
    col = plots.colors(a.names)
    done = []
    w = a.window
    pops = [{"name": p.name, "times": p.raster_t, "ids": p.raster_i, "sampled": p.raster_neurons,
             "n": p.numbers["neurons"]} for p in a.populations]
    done.append(plots.raster(os.path.join(out_dir, "raster.png"), pops,
                             (w.lo, min(w.hi, w.lo + a.options.raster_ms)), col))
    done.append(plots.rate_histograms(os.path.join(out_dir, "rates.png"),
                                      {p.name: p.rates_hz for p in a.populations}, col,
                                      quantum_hz=1000.0 / w.duration_ms))
    done.append(plots.population_rates(os.path.join(out_dir, "population_rate.png"),
                                       {p.name: (p.hist, p.numbers["neurons"]) for p in a.populations},
                                       w.lo, a.options.bin_ms, col))
    entries = []
    if a.network is not None:
        entries.append(_avalanche_entry(a.network, "network (all populations)", "black", True))
    if len(a.populations) > 1 or a.network is None:
        for name, av in a.avalanches.items():
            if a.network is not None and av.sizes.size < 10:
                continue  # too few to draw a distribution
            entries.append(_avalanche_entry(av, name, col[name], a.network is None))
    if entries:
        done.append(plots.avalanche_distributions(os.path.join(out_dir, "avalanches.png"), entries))
    done.extend(write_tally_plots(a, out_dir))
    done.extend(write_weight_plots(a, out_dir))
    if a.compare:
        b = a.compare["other"]
        names = a.names + [n for n in b.names if n not in a.names]

        def metric(x, key):
            return {p.name: p.numbers.get(key) for p in x.populations}
        keys = [("rate_hz", "mean firing rate (Hz)"), ("cv_isi_mean", "CV of ISIs"),
                ("synchrony_chi", "synchrony chi")]
        done.append(plots.compare_populations(
            os.path.join(out_dir, "compare.png"), names, {k: metric(a, k) for k, _ in keys},
            {k: metric(b, k) for k, _ in keys}, f"A: {_short(a.run.label)}", f"B: {_short(b.run.label)}", keys,
            title=f"Comparison per population: A = {a.run.label}, B = {b.run.label}"))
    return done


def write_tally_plots(a, out_dir):
    """The tally PNGs of an Analysis (each only when its data are in tallies.h5); with --compare
    and tallies in both runs also tally_compare.png."""
    from . import plots
    from .report import fmt
    done = []
    t = a.tallies
    if t is not None:
        if t.phase_seconds is not None:
            done.append(plots.tally_phases(os.path.join(out_dir, "tally_phases.png"), t.phase_seconds, t.phases))
        b = t.sent_bytes_matrix()
        if b is not None:
            done.append(plots.tally_comm(os.path.join(out_dir, "tally_communication.png"), b))
        if t.energy_joules is not None:
            d = t.derived()
            note = []
            if d["average_power_watts"] is not None:
                note.append(f"average power {fmt(d['average_power_watts'], 3)} W"
                            + (f" ({fmt(d['brain_power_ratio'], 3)} x brain)" if d["brain_power_ratio"] else ""))
            if d["energy_per_synaptic_event_joules"] is not None:
                note.append(f"{fmt(d['energy_per_synaptic_event_joules'], 3)} J per synaptic event"
                            + (f" ({fmt(d['brain_energy_per_event_ratio'], 3)} x brain)"
                               if d["brain_energy_per_event_ratio"] else ""))
            source = t.energy_source + (f", {d['energy_preset']}" if d["energy_preset"] else "")
            done.append(plots.tally_energy(os.path.join(out_dir, "tally_energy.png"), t.energy_joules,
                                           t.energy_phases, source, note="\n".join(note) or None))
        w = t.windows
        if w is not None and any(k in w for k in ("phase_seconds", "bytes_sent", "synaptic_events",
                                                  "spikes_emitted")) and w["t_start_ms"].size:
            done.append(plots.tally_windows(os.path.join(out_dir, "tally_windows.png"), w["t_start_ms"],
                                            w["t_end_ms"], w.get("phase_seconds"), t.phases, w.get("bytes_sent"),
                                            w.get("synaptic_events"), w.get("spikes_emitted")))
    if a.compare:
        tb = a.compare["other"].tallies
        if t is not None and tb is not None:
            na, nb = t.numbers(), tb.numbers()

            def slowest(n):
                return {k: v["max_s"] for k, v in n.get("phases", {}).items()} or None
            if slowest(na) or slowest(nb) or na.get("energy_joules") or nb.get("energy_joules"):
                done.append(plots.tally_compare(
                    os.path.join(out_dir, "tally_compare.png"), f"A: {_short(a.run.label)}",
                    f"B: {_short(a.compare['other'].run.label)}", slowest(na), slowest(nb),
                    na.get("energy_joules"), nb.get("energy_joules"),
                    title=f"Tallies compared: A = {a.run.label}, B = {a.compare['other'].run.label}"))
    return done


def write_weight_plots(a, out_dir):
    """Per weights file: <NAME>_weight_histograms.png with histograms, <NAME>_weight_snapshots.png
    with snapshots."""
    from . import plots
    done = []
    for w in a.weights:
        h = w.histograms
        if h is not None and h["time"].size:
            done.append(plots.weight_histograms(
                os.path.join(out_dir, f"{w.name}_weight_histograms.png"), w.name, w.projection, h["time"],
                h["bin_edges"], h["counts"], h["mean"], h["std"], h["min"], h["max"], h["below"], h["above"],
                w.units))
        if w.distribution is not None:
            d, tr = w.distribution, w.trajectories
            labels = [f"{s} \u2192 {t}" for s, t in zip(tr["source"], tr["target"])]
            done.append(plots.weight_snapshots(
                os.path.join(out_dir, f"{w.name}_weight_snapshots.png"), w.name, w.projection, d["bin_edges"],
                d["first"], d["last"], d["time_first_ms"], d["time_last_ms"], w.snapshot_time, tr["weights"],
                labels, w.mean_over_time, w.synapses, w.units))
    return done


def _short(label):
    return os.path.basename(os.path.normpath(label)) or label


def _avalanche_entry(av, label, color, main):
    return {"label": label, "sizes": av.sizes, "durations": av.durations, "size_fit": av.size_fit,
            "duration_fit": av.duration_fit, "mean_size": av.mean_size_by_duration,
            "bin_ms": av.numbers["bin_ms"], "color": color, "main": main,
            "note": (av.numbers.get("notes") or [None])[0]}


def run(argv):
    args = parser().parse_args(argv)
    from . import core, report
    from .run import default_out_dir
    opts = core.Options(
        from_ms=args.from_ms, to_ms=args.to_ms, bin_ms=args.bin_ms, avalanche_bin_ms=args.avalanche_bin_ms,
        population_size=dict(args.population_size), chunk=args.chunk_spikes,
        min_spikes_cv=max(3, args.min_spikes_cv), raster_neurons=max(0, args.raster_neurons),
        raster_ms=args.raster_ms, xmin_size=args.xmin_size, xmin_duration=args.xmin_duration,
        avalanche_sample=args.avalanche_sample)
    a = core.analyze(args.input, opts, argv, plots_wanted=not args.no_plots)
    if args.compare:
        b = core.analyze(args.compare, opts, argv, plots_wanted=False)
        a.compare = {"other": b, "rows": core.compare(a, b)}
        a.warnings.extend(f"B: {x}" for x in b.warnings)
    out_dir = args.out_dir or default_out_dir(a.run)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise AnalysisError(f"{out_dir}: cannot create the output directory: {e.strerror}") from None
    if not os.access(out_dir, os.W_OK):
        raise AnalysisError(f"{out_dir}: output directory is not writable (use --out-dir)")
    if not args.no_plots:
        a.plots = write_plots(a, out_dir)
    report.write_json(a, os.path.join(out_dir, "report.json"))
    if args.html:
        report.write_html(a, os.path.join(out_dir, "report.html"), out_dir)
    text = report.text(a, out_dir)
    if args.html:
        text += f"wrote {os.path.join(out_dir, 'report.html')}\n"
    sys.stdout.write(text)
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv)
    except AnalysisError as e:
        msg = " ".join(str(e).split())
        print(f"myelin-analyze: error: {msg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("myelin-analyze: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("myelin-analyze: error: out of memory (try a smaller --chunk-spikes)", file=sys.stderr)
        return 1
    except Exception as e:  # an internal error: still one line unless --debug
        if "--debug" in argv:
            traceback.print_exc()
        else:
            msg = " ".join(f"{type(e).__name__}: {e}".split())
            print(f"myelin-analyze: internal error: {msg} (rerun with --debug for the traceback)",
                  file=sys.stderr)
        return 3
