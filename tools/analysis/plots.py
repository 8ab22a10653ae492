"""PNG figures. Every function takes plain arrays (no files), writes one PNG of a fixed size
(figure inches x DPI; no tight bounding box, so the size is known in advance) and returns
{"file", "title", "width", "height"} with the size in pixels."""
import math
import os
import struct
import textwrap

import numpy as np

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

DPI = 100
plt.rcParams.update({
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
    "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False, "axes.spines.right": False,
    "figure.facecolor": "white", "savefig.facecolor": "white",
})


def colors(names):
    """A color per population, stable in file order."""
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    return {n: cmap(i % cmap.N) for i, n in enumerate(names)}


def pixels(width_in, height_in):
    """The size in pixels of a figure of this many inches at DPI."""
    return int(round(width_in * DPI)), int(round(height_in * DPI))


def _inches(width_in, height_in):
    """A figure size whose pixel size is exactly pixels(width_in, height_in) whether matplotlib
    rounds or truncates (4.6 in x 100 dpi is 459.99999... in floating point)."""
    w, h = pixels(width_in, height_in)
    return (w + 0.25) / DPI, (h + 0.25) / DPI


def _save(fig, path, title):
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    with open(path, "rb") as f:
        head = f.read(24)
    width, height = struct.unpack(">II", head[16:24])
    return {"file": os.path.basename(path), "title": title, "width": width, "height": height}


def _grid(n, ncols_max=4):
    ncols = max(1, min(n, ncols_max))
    return ncols, int(math.ceil(max(n, 1) / ncols))


def raster(path, populations, t_range, color_of):
    """populations: list of dicts {name, times (ms), ids (node ids), sampled (sorted node ids
    shown), n (population size)}; first population at the top."""
    fig, ax = plt.subplots(figsize=_inches(10, 6), layout="constrained")
    total_rows = sum(len(p["sampled"]) for p in populations)
    top = total_rows
    ticks, labels = [], []
    for p in populations:
        k = len(p["sampled"])
        base = top - k
        if k and len(p["times"]):
            row = np.searchsorted(p["sampled"], p["ids"])
            ax.scatter(p["times"], base + (k - 1 - row) + 0.5, s=2, marker="|" if k > 150 else ".",
                       color=color_of[p["name"]], linewidths=0.8, rasterized=False)
        if k:
            ax.axhline(base, color="0.6", lw=0.5)
        ticks.append(base + k / 2)
        labels.append(f"{p['name']}\n{k} of {p['n']}")
        top = base
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels)
    for lab, p in zip(ax.get_yticklabels(), populations):
        lab.set_color(color_of[p["name"]])
    ax.set_ylim(0, max(total_rows, 1))
    ax.set_xlim(*t_range)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neurons (sample per population)")
    ax.grid(axis="y", visible=False)
    title = f"Spike raster, {t_range[0]:g} to {t_range[1]:g} ms"
    ax.set_title(title)
    return _save(fig, path, title)


def _rate_bins(r, quantum):
    """Histogram edges for per-neuron rates. Rates are spike counts x quantum (1 / window in s):
    edges fall between whole counts so that no bin is empty by aliasing."""
    hi = float(r.max()) if r.size else 0.0
    if not quantum or quantum <= 0:
        return np.linspace(0, max(hi, 1e-9) * 1.0001, 31)
    kmax = int(round(hi / quantum))
    step = max(1, int(math.ceil((kmax + 1) / 30)))
    return (np.arange(0, kmax + step + 1, step) - 0.5) * quantum


def rate_histograms(path, rates, color_of, quantum_hz=None):
    """rates: {population: per-neuron rates in Hz}; one panel per population. quantum_hz: the
    rate of one spike in the window (1 / window length in s), to align bins with spike counts."""
    names = list(rates)
    ncols, nrows = _grid(len(names))
    fig, axes = plt.subplots(nrows, ncols, figsize=_inches(3.6 * ncols + 0.6, 2.8 * nrows + 0.6),
                             layout="constrained", squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, names):
        r = np.asarray(rates[name], dtype=np.float64)
        edges = _rate_bins(r, quantum_hz)
        ax.hist(r, bins=edges, color=color_of[name], alpha=0.85)
        ax.set_xlim(min(0.0, edges[0]), edges[-1])
        mean = float(r.mean()) if r.size else 0.0
        ax.axvline(mean, color="k", ls="--", lw=1, label=f"mean {mean:.3g} Hz")
        silent = float(np.mean(r == 0)) if r.size else 0.0
        ax.set_title(f"{name} ({r.size} neurons, {100 * silent:.1f}% silent)")
        ax.set_xlabel("firing rate (Hz)")
        ax.set_ylabel("neurons")
        ax.legend(loc="upper right")
    title = "Firing-rate distribution per population"
    fig.suptitle(title, fontsize=12)
    return _save(fig, path, title)


def population_rates(path, series, t0, bin_ms, color_of, max_points=4000):
    """series: {population: (spike counts per bin, population size)}; rate in Hz over time,
    one panel per population, sharing the time axis."""
    names = list(series)
    fig, axes = plt.subplots(len(names), 1, figsize=_inches(10, min(1.0 + 1.5 * len(names), 30)),
                             layout="constrained", sharex=True, squeeze=False)
    factor = 1
    for ax, name in zip(axes[:, 0], names):
        counts, n = series[name]
        counts = np.asarray(counts, dtype=np.float64)
        factor = max(1, int(math.ceil(counts.size / max_points)))
        if factor > 1:
            m = counts.size // factor * factor
            counts = counts[:m].reshape(-1, factor).sum(axis=1)
        width = bin_ms * factor
        rate = counts / (max(n, 1) * width / 1000.0)
        t = t0 + (np.arange(counts.size) + 0.5) * width
        ax.plot(t, rate, color=color_of[name], lw=0.9, drawstyle="steps-mid")
        ax.fill_between(t, rate, color=color_of[name], alpha=0.2, lw=0, step="mid")
        ax.set_xlim(t0, t0 + counts.size * width)
        ax.set_ylabel(f"{name}\nrate (Hz)")
        # A start-up transient would flatten the rest: clip the axis, and say so.
        top = max(float(np.percentile(rate, 99.5)) * 1.3 if rate.size else 0.0, 2.0 * float(rate.mean()) if rate.size else 0.0)
        if rate.size and top > 0 and rate.max() > 1.05 * top:
            ax.set_ylim(0, top)
            k = int(np.argmax(rate))
            ax.annotate(f"\u2191 {rate[k]:.3g} Hz at {t[k]:g} ms (clipped)", (t[k], top), xytext=(4, -12),
                        textcoords="offset points", fontsize=8, color="0.3")
        else:
            ax.set_ylim(bottom=0)
        ax.text(0.995, 0.92, f"mean {rate.mean():.3g} Hz", transform=ax.transAxes, ha="right", va="top",
                fontsize=9, bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
    axes[-1, 0].set_xlabel("time (ms)")
    title = f"Population rate over time (bins of {bin_ms * factor:g} ms)"
    axes[0, 0].set_title(title)
    return _save(fig, path, title)


def _log_binned_pdf(x, nbins=30):
    x = np.asarray(x)
    if x.size == 0:
        return np.zeros(0), np.zeros(0)
    edges = np.unique(np.floor(np.geomspace(1, x.max() + 1, nbins + 1)).astype(np.int64))
    if edges[-1] <= x.max():
        edges = np.append(edges, x.max() + 1)
    h, _ = np.histogram(x, bins=edges)
    widths = np.diff(edges)
    centers = np.sqrt(edges[:-1] * (edges[1:] - 1).clip(min=edges[:-1]))
    pdf = h / (x.size * widths)
    ok = h > 0
    return centers[ok], pdf[ok]


def _fit_line(fit, n_total, xmax):
    from .criticality import hurwitz_zeta
    if not fit or fit.get("alpha") is None or n_total == 0:
        return None
    xm, a = fit["xmin"], fit["alpha"]
    x = np.unique(np.round(np.geomspace(xm, max(xmax, xm + 1), 60)))
    y = (fit["n_tail"] / n_total) * x ** (-a) / float(hurwitz_zeta(a, xm))
    return x, y


def avalanche_distributions(path, entries):
    """entries: list of dicts {label, sizes, durations (bins), size_fit, duration_fit,
    mean_size (durations, means, gamma), bin_ms, color, main (bool: draw fits)}."""
    fig, axes = plt.subplots(1, 4, figsize=_inches(16, 5), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1, 1, 0.36]})
    ax_s, ax_d, ax_g, ax_leg = axes
    axes = axes[:3]
    handles = []
    gamma_txt = ""
    any_data = False
    for e in entries:
        main = e.get("main", False)
        style = dict(color=e["color"], lw=2.0 if main else 1.0, alpha=1.0 if main else 0.7,
                     marker="o" if main else ".", ms=4 if main else 3)
        for ax, data, fit, unit in ((ax_s, e["sizes"], e["size_fit"], ""),
                                    (ax_d, e["durations"], e["duration_fit"], " bins")):
            x, p = _log_binned_pdf(data)
            if x.size:
                any_data = True
                h, = ax.plot(x, p, label=e["label"], **style)
                if ax is ax_s:
                    handles.append(h)
            if main:
                line = _fit_line(fit, len(data), int(np.max(data)) if len(data) else 1)
                if line is not None:
                    err = fit.get("alpha_err")
                    lab = (f"fit: \u03b1 = {fit['alpha']:.2f}" + (f" \u00b1 {err:.2f}" if err else "")
                           + f", x_min = {fit['xmin']}{unit}")
                    ax.plot(*line, color="crimson", ls="--", lw=1.5, label=lab)
        u, mean, gamma = e["mean_size"]
        if len(u):
            ax_g.plot(u, mean, **style)
            if main and gamma is not None:
                gamma_txt = f" (\u03b3 = {gamma:.2f})"
                ok = u > 0
                if ok.sum() >= 2:
                    c = np.exp(np.mean(np.log(mean[ok]) - gamma * np.log(u[ok])))
                    ax_g.plot(u[ok], c * u[ok] ** gamma, color="crimson", ls="--", lw=1.5,
                              label=f"fit: <S> ~ T^{gamma:.2f}")
    bin_txt = ", ".join(sorted({f"{e['bin_ms']:g}" for e in entries if e.get("main")}))
    ax_s.set_title("Avalanche sizes")
    ax_s.set_xlabel("size S (spikes)")
    ax_s.set_ylabel("P(S)")
    ax_d.set_title(f"Avalanche durations (bin {bin_txt} ms for the network)")
    ax_d.set_xlabel("duration T (bins)")
    ax_d.set_ylabel("P(T)")
    ax_g.set_title("Mean size by duration" + gamma_txt)
    ax_g.set_xlabel("duration T (bins)")
    ax_g.set_ylabel("mean size <S> (spikes)")
    for ax in axes:
        if any_data:
            ax.set_xscale("log")
            ax.set_yscale("log")
        if any(h.get_label().startswith("fit") for h in ax.get_lines()):
            ax.legend(handles=[h for h in ax.get_lines() if h.get_label().startswith("fit")],
                      loc="lower left", fontsize=8)
        ax.grid(True, which="major", alpha=0.3)
    ax_leg.axis("off")
    if handles:
        ax_leg.legend(handles=handles, loc="center left", title="avalanches of", fontsize=9, frameon=False)
    if not any_data:
        note = next((e["note"] for e in entries if e.get("note")), "no complete avalanches")
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        ax_d.text(0.5, 0.5, "\n".join(textwrap.wrap(note, 45)), transform=ax_d.transAxes, ha="center",
                  va="center", fontsize=10)
    title = "Neuronal avalanches (log-log)"
    fig.suptitle(title, fontsize=12)
    return _save(fig, path, title)


def tally_phases(path, phase_seconds, phases):
    """Stacked bars: seconds per phase (columns) for each rank (rows)."""
    ps = np.asarray(phase_seconds, dtype=np.float64)
    ranks = ps.shape[0]
    fig, ax = plt.subplots(figsize=_inches(10, 5), layout="constrained")
    cmap = plt.get_cmap("tab10" if len(phases) <= 10 else "tab20")
    bottom = np.zeros(ranks)
    x = np.arange(ranks)
    width = 0.8 if ranks <= 64 else 1.0
    for j, name in enumerate(phases):
        ax.bar(x, ps[:, j], width, bottom=bottom, color=cmap(j % cmap.N), label=name,
               edgecolor="white" if ranks <= 64 else "none", linewidth=0.5)
        bottom += ps[:, j]
    ax.set_axisbelow(True)
    ax.set_xlabel("MPI rank")
    ax.set_ylabel("wall-clock time (s)")
    if ranks <= 32:
        ax.set_xticks(x)
    ax.set_xlim(-0.6, ranks - 0.4)
    ax.legend(title="phase", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    mean = bottom.mean() if ranks else 0.0
    title = (f"Time per phase and rank (slowest {bottom.max():.3g} s, mean {mean:.3g} s)"
             if ranks else "Time per phase and rank")
    ax.set_title(title)
    return _save(fig, path, title)


def tally_comm(path, bytes_sent):
    """Heatmap of bytes sent, sending rank (row) x receiving rank (column)."""
    b = np.asarray(bytes_sent, dtype=np.float64)
    ranks = b.shape[0]
    unit, scale = "B", 1.0
    for u, f in (("KiB", 2.0 ** 10), ("MiB", 2.0 ** 20), ("GiB", 2.0 ** 30), ("TiB", 2.0 ** 40)):
        if b.size and b.max() >= f:
            unit, scale = u, f
    fig, ax = plt.subplots(figsize=_inches(7.5, 6.2), layout="constrained")
    shown = b / scale
    pos = shown[shown > 0]
    masked = np.ma.masked_where(shown <= 0, shown)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("0.92")
    if pos.size and pos.max() / pos.min() > 100:
        im = ax.imshow(masked, cmap=cmap, norm=LogNorm(vmin=pos.min(), vmax=pos.max()),
                       interpolation="nearest", origin="upper")
    else:
        im = ax.imshow(masked, cmap=cmap, vmin=0, vmax=pos.max() if pos.size else 1,
                       interpolation="nearest", origin="upper")
    cb = fig.colorbar(im, ax=ax)
    cb.set_label(f"sent ({unit})")
    if ranks <= 8:
        for i in range(ranks):
            for j in range(ranks):
                color = "0.4"
                if b[i, j] > 0:  # dark text on the bright end of the color map
                    r, g, bl, _ = cmap(im.norm(shown[i, j]))
                    color = "black" if 0.299 * r + 0.587 * g + 0.114 * bl > 0.5 else "white"
                ax.text(j, i, _human_bytes(b[i, j]), ha="center", va="center", fontsize=8, color=color)
    if ranks <= 32:
        ax.set_xticks(range(ranks))
        ax.set_yticks(range(ranks))
    ax.grid(False)
    ax.set_xlabel("receiving rank")
    ax.set_ylabel("sending rank")
    title = f"Communication, rank to rank (total {_human_bytes(b.sum())})"
    ax.set_title(title)
    return _save(fig, path, title)


def tally_energy(path, energy_joules, phases, source, note=None):
    """Bars: energy per phase, all ranks. note: a line or two (average power, per event) drawn in
    the upper right corner."""
    e = np.asarray(energy_joules, dtype=np.float64)
    fig, ax = plt.subplots(figsize=_inches(8, 4.8), layout="constrained")
    cmap = plt.get_cmap("tab10" if len(phases) <= 10 else "tab20")
    bars = ax.bar(range(len(e)), e, color=[cmap(j % cmap.N) for j in range(len(e))])
    for rect, v in zip(bars, e):
        ax.annotate(f"{v:.3g} J", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                    ha="center", va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(e)))
    ax.set_xticklabels(phases, rotation=30 if len(phases) > 6 else 0, ha="right" if len(phases) > 6 else "center")
    ax.set_xlabel("phase")
    ax.set_ylabel("energy (J)")
    ax.set_ylim(0, (e.max() if e.size and e.max() > 0 else 1) * (1.35 if note else 1.15))
    if note:
        ax.text(0.99, 0.97, note, transform=ax.transAxes, ha="right", va="top", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.8", alpha=0.9))
    title = f"Energy per phase ({source}; total {e.sum():.3g} J)"
    ax.set_title(title)
    return _save(fig, path, title)


def _coarsen(t0, t1, arrays, max_points):
    """Merges consecutive windows into groups so that at most max_points remain: sums the arrays
    (first axis), keeps the first start and the last end of each group."""
    n = t0.size
    factor = max(1, int(math.ceil(n / max_points)))
    if factor == 1:
        return t0, t1, arrays, 1
    idx = np.arange(0, n, factor)
    out = [None if a is None else np.add.reduceat(a, idx, axis=0) for a in arrays]
    ends = np.minimum(idx + factor, n) - 1
    return t0[idx], t1[ends], out, factor


def _steps(t0, t1, y):
    """x, y for a step curve over windows [t0, t1) (gaps between windows drawn at the last value)."""
    x = np.append(t0, t1[-1])
    return x, np.append(y, y[-1])


def tally_windows(path, t_start_ms, t_end_ms, phase_seconds=None, phases=None, bytes_sent=None,
                  synaptic_events=None, spikes_emitted=None, max_points=2000):
    """Time series over model time, one point per tally window. Top: wall seconds per window and
    phase, mean over ranks, stacked (black line: the slowest rank's total). Middle: bytes sent per
    window, all ranks. Bottom: synaptic events and spikes emitted per window, all ranks.
    phase_seconds [W x R x P]; bytes_sent, synaptic_events, spikes_emitted [W x R]; any may be None."""
    t0 = np.asarray(t_start_ms, dtype=np.float64)
    t1 = np.asarray(t_end_ms, dtype=np.float64)
    ps = None if phase_seconds is None else np.asarray(phase_seconds, dtype=np.float64)
    mean_ps = None if ps is None else ps.mean(axis=1)           # [W x P]
    slow = None if ps is None else ps.sum(axis=2)               # [W x R]: summed after merging
    series = [None if a is None else np.asarray(a, dtype=np.float64).sum(axis=1)
              for a in (bytes_sent, synaptic_events, spikes_emitted)]
    t0, t1, merged, factor = _coarsen(t0, t1, [mean_ps, slow] + series, max_points)
    mean_ps, slow, b, ev, sp = merged
    panels = [k for k, v in (("phases", mean_ps), ("bytes", b), ("events", ev if ev is not None else sp))
              if v is not None]
    fig, axes = plt.subplots(max(1, len(panels)), 1, figsize=_inches(10, 8), layout="constrained",
                             sharex=True, squeeze=False)
    axes = axes[:, 0]
    lo, hi = (float(t0[0]), float(t1[-1])) if t0.size else (0.0, 1.0)
    for ax, kind in zip(axes, panels):
        if kind == "phases":
            cmap = plt.get_cmap("tab10" if len(phases) <= 10 else "tab20")
            base = np.zeros(t0.size)
            for j, name in enumerate(phases):
                x, y0 = _steps(t0, t1, base)
                _, y1 = _steps(t0, t1, base + mean_ps[:, j])
                ax.fill_between(x, y0, y1, step="post", color=cmap(j % cmap.N), label=name, lw=0)
                base = base + mean_ps[:, j]
            x, y = _steps(t0, t1, slow.max(axis=1))
            ax.plot(x, y, color="black", lw=1.0, drawstyle="steps-post", label="slowest rank (total)")
            ax.set_ylabel("wall time per window (s)")
            ax.set_ylim(bottom=0)
            ax.legend(title="phase (mean over ranks)", loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        elif kind == "bytes":
            unit, scale = "B", 1.0
            for u, f in (("KiB", 2.0 ** 10), ("MiB", 2.0 ** 20), ("GiB", 2.0 ** 30), ("TiB", 2.0 ** 40)):
                if b.size and b.max() >= f:
                    unit, scale = u, f
            x, y = _steps(t0, t1, b / scale)
            ax.fill_between(x, 0, y, step="post", color="tab:purple", alpha=0.3, lw=0)
            ax.plot(x, y, color="tab:purple", lw=1.0, drawstyle="steps-post", label="bytes sent (all ranks)")
            ax.set_ylabel(f"sent per window ({unit})")
            ax.set_ylim(bottom=0)
            if not b.any():
                ax.set_ylim(0, 1)
                ax.text(0.5, 0.5, "no bytes sent between ranks", transform=ax.transAxes, ha="center", va="center",
                        color="0.4")
            ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        else:
            lines = []
            if ev is not None:
                x, y = _steps(t0, t1, ev)
                lines += ax.plot(x, y, color="tab:green", lw=1.0, drawstyle="steps-post", label="synaptic events")
                ax.set_ylabel("synaptic events per window")
                ax.set_ylim(0, max(float(ev.max()), 1.0) * 1.3)  # room for the legend
            if sp is not None:
                other = ax.twinx() if ev is not None else ax
                x, y = _steps(t0, t1, sp)
                lines += other.plot(x, y, color="tab:red", lw=1.0, drawstyle="steps-post", label="spikes emitted")
                other.set_ylabel("spikes emitted per window")
                other.set_ylim(0, max(float(sp.max()), 1.0) * 1.3)
                if other is not ax:
                    other.grid(False)
                    other.spines["right"].set_visible(True)
            ax.legend(handles=lines, loc="upper left", fontsize=8, framealpha=0.9)
        ax.set_xlim(lo, hi if hi > lo else lo + 1)
    if not panels:
        axes[0].text(0.5, 0.5, "no per-window data", transform=axes[0].transAxes, ha="center", va="center")
    axes[-1].set_xlabel("model time (ms)")
    width_ms = float(np.median(t1 - t0)) if t0.size else 0.0
    title = (f"Tally windows over model time ({t0.size} points of about {width_ms:g} ms"
             + (f", {factor} windows merged per point" if factor > 1 else "") + ")")
    fig.suptitle(title, fontsize=12)
    return _save(fig, path, title)


def tally_compare(path, label_a, label_b, phases_a, phases_b, energy_a, energy_b, title=None):
    """Two runs side by side: slowest-rank seconds per phase and energy per phase.
    phases_x, energy_x: {phase: value} (or None)."""
    panels = [(k, a, b) for k, a, b in (("time", phases_a, phases_b), ("energy", energy_a, energy_b))
              if a or b]
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=_inches(12, 4.6), layout="constrained",
                             squeeze=False)
    for ax, (kind, a, b) in zip(axes[0], panels):
        a, b = a or {}, b or {}
        names = list(a) + [n for n in b if n not in a]
        x = np.arange(len(names))
        ax.bar(x - 0.2, [_num(a.get(n)) for n in names], 0.4, label=label_a, color="tab:blue")
        ax.bar(x + 0.2, [_num(b.get(n)) for n in names], 0.4, label=label_b, color="tab:orange")
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center")
        ax.set_xlabel("phase")
        ax.set_ylabel("slowest rank (s)" if kind == "time" else "energy (J)")
        ax.set_title("Time per phase (slowest rank)" if kind == "time" else "Energy per phase")
        ax.set_axisbelow(True)
        ax.legend()
    title = title or f"Tallies compared: {label_a} and {label_b}"
    fig.suptitle(title, fontsize=12)
    return _save(fig, path, title)


def compare_populations(path, names, a, b, label_a, label_b, metrics, title=None):
    """Grouped bars, run A vs run B, one panel per metric: a, b = {metric: {population: value}};
    metrics = [(key, axis label)]."""
    fig, axes = plt.subplots(1, len(metrics), figsize=_inches(5 * len(metrics), 4.6), layout="constrained",
                             squeeze=False)
    x = np.arange(len(names))
    for ax, (key, label) in zip(axes[0], metrics):
        va = [_num(a.get(key, {}).get(n)) for n in names]
        vb = [_num(b.get(key, {}).get(n)) for n in names]
        ax.bar(x - 0.2, va, 0.4, label=label_a, color="tab:blue")
        ax.bar(x + 0.2, vb, 0.4, label=label_b, color="tab:orange")
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
        ax.set_xlabel("population")
        ax.set_ylabel(label)
        ax.set_title(label)
        ax.set_axisbelow(True)
        ax.legend()
    title = title or f"Comparison: A = {label_a}, B = {label_b}"
    fig.suptitle(title, fontsize=12)
    return _save(fig, path, title)


def _time_edges(t):
    """Cell edges around sample times t (sorted): midpoints, the ends half an interval out."""
    t = np.asarray(t, dtype=np.float64)
    if t.size == 1:
        return np.array([t[0] - 0.5, t[0] + 0.5])
    mid = 0.5 * (t[1:] + t[:-1])
    return np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]])


def _weight_label(units):
    return f"weight ({units})" if units else "weight"


def weight_histograms(path, name, projection, time_ms, bin_edges, counts, mean=None, std=None, wmin=None,
                      wmax=None, below=None, above=None, units=None):
    """The weight histogram over time: time on x, weight on y, synapses per bin in log color;
    the mean +- std and the min and max of all weights on top. counts: [H x B]."""
    counts = np.asarray(counts, dtype=np.float64)
    fig, ax = plt.subplots(figsize=_inches(10, 5), layout="constrained")
    ax.grid(False)  # a grid over a heatmap hides cells
    masked = np.ma.masked_where(counts.T <= 0, counts.T)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("0.95")
    positive = counts[counts > 0]
    if positive.size:
        norm = LogNorm(vmin=positive.min(), vmax=max(positive.max(), positive.min() * 10))
        mesh = ax.pcolormesh(_time_edges(time_ms), bin_edges, masked, cmap=cmap, norm=norm, shading="flat")
        fig.colorbar(mesh, ax=ax).set_label("synapses per bin")
    t = np.asarray(time_ms, dtype=np.float64)
    if mean is not None:
        ax.plot(t, mean, color="tab:red", lw=1.6, label="mean")
        if std is not None:
            ax.plot(t, mean + std, color="tab:red", lw=0.9, ls="--", label="mean \u00b1 std")
            ax.plot(t, mean - std, color="tab:red", lw=0.9, ls="--")
    if wmin is not None:
        ax.plot(t, wmin, color="tab:orange", lw=1.3, ls=":", label="min, max")
    if wmax is not None:
        ax.plot(t, wmax, color="tab:orange", lw=1.3, ls=":", label=None if wmin is not None else "min, max")
    ax.set_ylim(bin_edges[0], bin_edges[-1])
    if t.size > 1:  # cells are centered on the histogram times; the run is t[0] to t[-1]
        ax.set_xlim(t[0], t[-1])
    ax.set_xlabel("model time (ms)")
    ax.set_ylabel(_weight_label(units))
    if mean is not None or wmin is not None or wmax is not None:
        ax.legend(loc="upper left", facecolor="0.85", framealpha=0.9)
    title = f"Weights of {projection} over time ([weights.{name}], {counts.shape[1]} bins)"
    outside = [f"{int(v[-1])} {k}" for k, v in (("below", below), ("above", above))
               if v is not None and len(v) and v[-1] > 0]
    if outside:
        title += f"; outside the range at the end: {', '.join(outside)}"
    ax.set_title(title)
    return _save(fig, path, title)


def weight_snapshots(path, name, projection, bin_edges, first, last, time_first_ms, time_last_ms, time_ms,
                     trajectories, labels, mean_over_time, synapses, units=None):
    """Left: the weight distribution of the first and the last snapshot (counts over bin_edges).
    Right: the weights of a few synapses over the snapshots (trajectories [T x k], labels [k])
    and the mean of all."""
    fig, (left, right) = plt.subplots(1, 2, figsize=_inches(14, 5), layout="constrained")
    left.stairs(first, bin_edges, color="tab:blue", lw=1.5, label=f"first, {time_first_ms:g} ms")
    left.stairs(last, bin_edges, color="tab:orange", lw=1.5, fill=False, label=f"last, {time_last_ms:g} ms")
    left.set_xlabel(_weight_label(units))
    left.set_ylabel("synapses")
    left.set_title(f"Distribution of {synapses} weights")
    left.legend()
    t = np.asarray(time_ms, dtype=np.float64)
    k = trajectories.shape[1]
    cmap = plt.get_cmap("tab20")
    marker = "o" if t.size <= 40 else None
    for j in range(k):
        right.plot(t, trajectories[:, j], color=cmap(j % cmap.N), lw=1.0, marker=marker, ms=2.5,
                   label=labels[j] if k <= 10 else None)
    right.plot(t, mean_over_time, color="black", lw=2.2, label="mean of all")
    right.set_xlabel("model time (ms)")
    right.set_ylabel(_weight_label(units))
    right.set_title(f"{k} of {synapses} synapses, evenly spaced in the edge table")
    right.legend(fontsize=8)
    title = f"Weight snapshots of {projection} ([weights.{name}], {t.size} snapshots)"
    fig.suptitle(title, fontsize=12)
    return _save(fig, path, title)


def _num(v):
    return float(v) if isinstance(v, (int, float)) and v is not None and math.isfinite(v) else 0.0


def _human_bytes(v):
    v = float(v)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(v) < 1024 or unit == "TiB":
            return f"{v:.3g} {unit}"
        v /= 1024
