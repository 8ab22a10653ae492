"""Reports: the plain-text table (stdout), report.json and the self-contained report.html."""
import base64
import html
import json
import math
import os

from .core import numbers


def fmt(v, digits=4):
    if v is None or isinstance(v, bool):
        return "-" if v is None else str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return "-"
        if v == 0:
            return "0"
        if abs(v) >= 1e6 or abs(v) < 1e-3:
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}g}"
    return str(v)


def _fit(f):
    if not f or f.get("alpha") is None:
        return "-"
    if f.get("note"):
        return "none"  # alpha at the search bound: no power-law tail
    err = f.get("alpha_err")
    s = f"{f['alpha']:.2f}"
    if err is not None and math.isfinite(err):
        s += f"\u00b1{err:.2f}"
    return s + f" ({f['xmin']})"


def _table(headers, rows, align=None):
    cols = list(zip(*([headers] + rows))) if rows else [[h] for h in headers]
    widths = [max(len(str(c)) for c in col) for col in cols]
    align = align or (["<"] + [">"] * (len(headers) - 1))
    lines = []
    for r in [headers] + rows:
        lines.append("  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(r, align, widths)).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def population_rows(n):
    rows = []
    for name, p in n["populations"].items():
        rows.append([name, fmt(p["neurons"]), fmt(p["spikes"]), fmt(p["rate_hz"]), fmt(p["rate_std_hz"]),
                     fmt(100 * p["fraction_silent"] if p["fraction_silent"] is not None else None, 3),
                     fmt(p["cv_isi_mean"], 3), fmt(p["fano_population"], 3), fmt(p["fano_neuron_mean"], 3),
                     fmt(p["synchrony_chi"], 3)])
    return rows


POPULATION_HEADERS = ["population", "neurons", "spikes", "rate (Hz)", "sd (Hz)", "silent %",
                      "CV ISI", "Fano pop", "Fano neuron", "chi"]
AVALANCHE_HEADERS = ["avalanches", "bin (ms)", "count", "alpha_S (xmin)", "alpha_T (xmin)",
                     "gamma fit", "gamma pred", "sigma", "m (MR)"]


def avalanche_rows(n):
    rows = []
    groups = [("network", n["avalanches"]["network"])] + list(n["avalanches"]["populations"].items())
    for name, v in groups:
        if not v:
            continue
        rows.append([name, fmt(v["bin_ms"]), fmt(v["avalanches"]), _fit(v["size_fit"]), _fit(v["duration_fit"]),
                     fmt(v["gamma_fit"], 3), fmt(v["gamma_from_exponents"], 3), fmt(v["branching_ratio"], 3),
                     fmt(v["branching_ratio_mr"], 3)])
    return rows


def _pct(v):
    return "-" if v is None else f"{100 * v:.3g}%"


def _head(t):
    a, d = t.get("attributes") or {}, t.get("derived") or {}
    def n(k, word):
        return f"{k} {word}" + ("" if k == 1 else "s")
    parts = [n(t.get("ranks"), "rank")]
    if a.get("n_threads") is not None:
        parts[0] += " x " + n(a["n_threads"], "thread")
    if a.get("n_nodes") is not None:
        parts[0] += " on " + n(a["n_nodes"], "node")
    if d.get("model_seconds") is not None:
        parts.append(f"{fmt(d['model_seconds'] * 1000)} ms of model time")
    if d.get("wall_seconds") is not None:
        parts.append(f"wall {fmt(d['wall_seconds'])} s")
    if d.get("real_time_factor") is not None:
        parts.append(f"real-time factor {fmt(d['real_time_factor'])}")
    if d.get("load_imbalance") is not None:
        parts.append(f"load imbalance {fmt(d['load_imbalance'], 3)}")
    return "tallies (" + ", ".join(parts) + ")"


# (key in derived, label, unit) for the derived-number table; None values are left out.
TALLY_DERIVED = [
    ("wall_seconds", "wall time, simulation loop (slowest rank)", "s"),
    ("model_seconds", "model time", "s"),
    ("real_time_factor", "real-time factor (wall / model time)", ""),
    ("load_imbalance", "load imbalance (max/mean compute)", ""),
    ("cores", "cores (ranks x threads)", ""),
    ("mean_rate_hz", "mean firing rate", "Hz"),
    ("synaptic_events_total", "synaptic events", ""),
    ("synaptic_events_per_second_per_core", "synaptic events per wall second per core", "1/s"),
    ("bytes_sent_total", "bytes sent, all ranks", "B"),
    ("bytes_sent_off_rank", "bytes sent to other ranks", "B"),
    ("spike_messages_total", "spike messages", ""),
    ("bytes_per_spike_message", "bytes per spike message (other ranks)", "B"),
    ("bytes_sent_per_model_second", "bytes sent per model second", "B/s"),
    ("exchange_share", "share of rank time in exchange", "%"),
    ("exchange_share_max_rank", "share in exchange, most on one rank", "%"),
    ("collectives_total", "collectives, all ranks", ""),
    ("peak_rss_bytes_total", "peak memory, all ranks", "B"),
    ("peak_rss_bytes_max", "peak memory, largest rank", "B"),
    ("energy_joules_total", "energy", "J"),
    ("average_power_watts", "average power (energy / wall time)", "W"),
    ("energy_per_synaptic_event_joules", "energy per synaptic event", "J"),
    ("brain_watts", "brain power for as many neurons (20 W x n / 86e9)", "W"),
    ("brain_power_ratio", "power, run / brain", ""),
    ("brain_joules_per_synaptic_event", "brain energy per synaptic event", "J"),
    ("brain_energy_per_event_ratio", "energy per event, run / brain", ""),
]


COUNT_KEYS = {"cores", "synaptic_events_total", "spike_messages_total", "collectives_total"}


def tally_derived_rows(t):
    d = t.get("derived") or {}
    rows = []
    for key, label, unit in TALLY_DERIVED:
        v = d.get(key)
        if v is None:
            continue
        if unit == "%":
            rows.append([label, _pct(v), ""])
        elif unit == "B":
            rows.append([label, _bytes(v), ""])
        elif unit == "B/s":
            rows.append([label, _bytes(v) + "/s", ""])
        elif key in COUNT_KEYS and isinstance(v, (int, float)) and float(v).is_integer():
            rows.append([label, str(int(v)), unit])
        else:
            rows.append([label, fmt(v), unit])
    return rows


RANK_COLUMNS = [("node", "node"), ("neurons", "neurons"), ("synapses", "synapses"), ("spikes_emitted", "spikes"),
                ("synaptic_events", "syn. events"), ("bytes_sent", "sent"), ("bytes_received", "received"),
                ("compute_seconds", "compute (s)"), ("cpu_seconds", "CPU (s)"), ("energy_joules", "energy (J)"),
                ("peak_rss_bytes", "peak memory")]
RANK_ROWS_IN_TEXT = 16


def tally_rank_rows(t, limit=None):
    """Per-rank rows [rank, column values...] and the headers; ([], []) without rank/."""
    rank = t.get("rank")
    if not isinstance(rank, dict) or not rank:
        return [], []
    cols = [(k, h) for k, h in RANK_COLUMNS if k in rank]
    n = len(next(iter(rank.values())))
    rows = []
    for r in range(n if limit is None else min(n, limit)):
        row = [str(r)]
        for k, _ in cols:
            v = rank[k][r]
            row.append(_bytes(v) if k in ("bytes_sent", "bytes_received", "peak_rss_bytes")
                       else fmt(int(v)) if k in ("node", "neurons", "synapses", "spikes_emitted", "synaptic_events")
                       and v is not None and float(v).is_integer() else fmt(v))
        rows.append(row)
    return rows, ["rank"] + [h for _, h in cols]


def tally_lines(t):
    if not t:
        return []
    lines = [_head(t)]
    if t.get("phases"):
        rows = [[k, fmt(v["max_s"]), fmt(v["mean_s"]), fmt(v["min_s"]), fmt(v["imbalance_max_over_mean"], 3),
                 _pct(v.get("share_of_time"))] for k, v in t["phases"].items()]
        lines += ["  " + x for x in _table(["phase", "slowest (s)", "mean (s)", "fastest (s)", "max/mean",
                                            "share"], rows)]
    if "bytes_sent_total" in t:
        lines.append(f"  bytes sent {_bytes(t['bytes_sent_total'])} in all, {_bytes(t['bytes_sent_off_rank'])} "
                     f"to other ranks, at most {_bytes(t['bytes_sent_max_per_rank'])} from one rank")
    if "energy_joules" in t:
        parts = ", ".join(f"{k} {fmt(v)} J" for k, v in t["energy_joules"].items())
        preset = (t.get("derived") or {}).get("energy_preset")
        lines.append(f"  energy ({t.get('energy_source')}{', ' + preset if preset else ''}): "
                     f"{fmt(t['energy_joules_total'])} J: {parts}")
    derived = tally_derived_rows(t)
    if derived:
        lines.append("")
        lines += ["  " + x for x in _table(["quantity", "value", "unit"], derived, ["<", ">", "<"])]
    rows, headers = tally_rank_rows(t, RANK_ROWS_IN_TEXT)
    if rows:
        lines.append("")
        lines += ["  " + x for x in _table(headers, rows)]
        n = t.get("ranks") or 0
        if n > RANK_ROWS_IN_TEXT:
            lines.append(f"  ... {n - RANK_ROWS_IN_TEXT} more ranks in report.json")
    w = t.get("windows")
    if isinstance(w, dict) and w.get("count"):
        lines.append(f"  {w['count']} windows over model time: series in report.json and tally_windows.png")
    return lines


WEIGHT_HEADERS = ["weights", "projection", "synapse", "synapses", "rows", "from (ms)", "to (ms)", "mean first",
                  "mean last", "std first", "std last", "at bounds"]


def weight_rows(n):
    """A row per weights file: the snapshots' numbers, else the histograms'; at bounds: the
    fractions at the lower / upper bound in the last snapshot (stdp)."""
    rows = []
    for name, w in (n.get("weights") or {}).items():
        kind = "snapshots" if w.get("snapshots") else "histograms"
        s = w.get(kind) or {}
        b = w.get("at_bounds")
        bounds = f"{_pct(b['fraction_lower_last'])} / {_pct(b['fraction_upper_last'])}" if b else "-"
        rows.append([name, w.get("projection"), w.get("synapse_model") or "-", fmt(w.get("synapses")),
                     f"{s.get('count', 0)} {kind}", fmt(s.get("time_first_ms")), fmt(s.get("time_last_ms")),
                     fmt(s.get("mean_first")), fmt(s.get("mean_last")), fmt(s.get("std_first")),
                     fmt(s.get("std_last")), bounds])
    return rows


def _bytes(v):
    if v is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(v) < 1024 or unit == "TiB":
            return f"{v:.3g} {unit}"
        v /= 1024


def text(a, out_dir=None):
    """The plain-text report (a string)."""
    n = numbers(a)
    w = n["window_ms"]
    lines = [f"myelin-analyze {n['input']}: {len(n['populations'])} populations, "
             f"{sum(p['spikes'] for p in n['populations'].values())} spikes in the window",
             f"window {fmt(w['from'])} to {fmt(w['to'])} ms ({fmt(w['duration'])} ms; {w['source']}); "
             f"count bins {fmt(a.options.bin_ms)} ms", ""]
    lines += _table(POPULATION_HEADERS, population_rows(n))
    lines.append("")
    av = avalanche_rows(n)
    if av:
        lines += _table(AVALANCHE_HEADERS, av)
        lines.append("  (alpha: power-law exponent by maximum likelihood, +-standard error, (x_min); a critical "
                     "branching process has alpha_S 1.5, alpha_T 2, gamma 2, sigma = m = 1)")
        for note in (n["avalanches"]["network"] or {}).get("notes", []):
            lines.append(f"  network: {note}")
        lines.append("")
    tl = tally_lines(n["tallies"])
    if tl:
        lines += tl + [""]
    wr = weight_rows(n)
    if wr:
        lines += _table(WEIGHT_HEADERS, wr, ["<", "<", "<"] + [">"] * (len(WEIGHT_HEADERS) - 3))
        lines += ["  (at bounds: % of weights at the lower / upper bound in the last snapshot, stdp only)", ""]
    if a.compare:
        lines += compare_lines(a)
        lines.append("")
    for wmsg in n["warnings"]:
        lines.append(f"warning: {wmsg}")
    if out_dir:
        extra = [p["file"] for p in n["plots"]]
        lines.append(f"wrote {os.path.join(out_dir, 'report.json')}"
                     + (f" and {len(extra)} plots in {out_dir}" if extra else ""))
    return "\n".join(lines).rstrip() + "\n"


# The text comparison shows these; report.json and report.html have every row.
TEXT_COMPARE = {"rate_hz", "cv_isi_mean", "fano_population", "synchrony_chi", "fraction_silent",
                "avalanches", "size_fit.alpha", "duration_fit.alpha", "branching_ratio",
                "branching_ratio_mr", "simulate_s", "real_time_factor", "peak_rss_max_bytes", "bytes_sent",
                "ranks", "threads", "bytes_sent_total", "energy_joules_total"}


def compare_lines(a):
    b = a.compare["other"]
    rows, last = [], None
    for r in a.compare["rows"]:
        if r["a"] is None and r["b"] is None:
            continue
        brief = r["metric"] in TEXT_COMPARE or r["group"] == "tallies" or (
            r["metric"] == "neurons" and r["a"] != r["b"])
        if not brief or r["group"].endswith(" avalanches") and r["group"] != "network avalanches":
            continue
        group = r["group"] if r["group"] != last else ""
        last = r["group"]
        rows.append([group, r["label"], fmt(r["a"]), fmt(r["b"]), fmt(r["ratio"], 3)])
    head = [f"compare: A = {a.run.label}", f"         B = {b.run.label}",
            "         (main rows; report.json and report.html have all of them)"]
    return head + _table(["", "metric", "A", "B", "B/A"], rows, ["<", "<", ">", ">", ">"])


def write_json(a, path):
    with open(path, "w") as f:
        json.dump(numbers(a), f, indent=1, allow_nan=False)
        f.write("\n")


# ---------------------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;
color:#222;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em} .sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em} th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4}
th{background:#f4f4f4;text-align:left} td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0} figure img{max-width:100%;border:1px solid #ddd} figcaption{color:#555;font-size:.9em}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em} .warn{color:#a40}
details summary{cursor:pointer;color:#225}
"""


def _e(v):
    return html.escape(str(v), quote=True)


def _html_table(headers, rows, numeric_from=1):
    out = ["<table><thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in headers) + "</tr></thead><tbody>"]
    for r in rows:
        cells = "".join(f"<td class=\"n\">{_e(c)}</td>" if i >= numeric_from else f"<td>{_e(c)}</td>"
                        for i, c in enumerate(r))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _kv_table(d):
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk}: {vv}" for kk, vv in v.items())
        elif isinstance(v, list):
            v = ", ".join(map(str, v))
        rows.append([k, "-" if v is None else v])
    return _html_table(["key", "value"], rows, numeric_from=99)


HTML_RANK_ROWS = 256


def write_html(a, path, plot_dir):
    n = numbers(a)
    w = n["window_ms"]
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>myelin-analyze: {_e(n['input'])}</title>", f"<style>{_CSS}</style></head><body>",
             f"<h1>myelin-analyze: {_e(n['input'])}</h1>",
             f"<p class=\"sub\">window {_e(fmt(w['from']))} to {_e(fmt(w['to']))} ms ({_e(w['source'])}); "
             f"analyzed {_e(n['provenance'].get('analyzed_at', ''))}"
             + (f"; {_e(n['provenance']['myelin'])}" if n["provenance"].get("myelin") else "") + "</p>"]
    if n["warnings"]:
        parts.append("<ul>" + "".join(f"<li class=\"warn\">{_e(x)}</li>" for x in n["warnings"]) + "</ul>")
    parts.append("<h2>Populations</h2>")
    parts.append(_html_table(POPULATION_HEADERS, population_rows(n)))
    parts.append(f"<p class=\"sub\">Count statistics over bins of {_e(fmt(a.options.bin_ms))} ms. CV ISI: mean over "
                 f"neurons with at least {_e(a.options.min_spikes_cv)} spikes. chi: Golomb's synchrony measure "
                 "(about 1/sqrt(n) for independent neurons, 1 for full synchrony).</p>")
    av = avalanche_rows(n)
    if av:
        parts.append("<h2>Criticality</h2>")
        parts.append(_html_table(AVALANCHE_HEADERS, av))
        parts.append("<p class=\"sub\">alpha: discrete power-law exponent by maximum likelihood with standard error "
                     "and x_min (Clauset et al. 2009). sigma: Beggs &amp; Plenz branching ratio; m: multistep "
                     "regression estimate (Wilting &amp; Priesemann 2018). A critical branching process has "
                     "alpha_S = 1.5, alpha_T = 2, gamma = 2, sigma = m = 1.</p>")
    if n["tallies"]:
        t = n["tallies"]
        parts.append("<h2>Tallies</h2>")
        parts.append(f"<p class=\"sub\">{_e(_head(t))}</p>")
        if t.get("phases"):
            parts.append(_html_table(["phase", "slowest rank (s)", "mean (s)", "fastest (s)", "max/mean", "share"],
                                     [[k, fmt(v["max_s"]), fmt(v["mean_s"]), fmt(v["min_s"]),
                                       fmt(v["imbalance_max_over_mean"], 3), _pct(v.get("share_of_time"))]
                                      for k, v in t["phases"].items()]))
        rest = [x.strip() for x in tally_lines(t) if x.strip().startswith(("bytes sent", "energy ("))]
        if rest:
            parts.append("<ul>" + "".join(f"<li>{_e(x)}</li>" for x in rest) + "</ul>")
        derived = tally_derived_rows(t)
        if derived:
            parts.append(_html_table(["quantity", "value", "unit"], derived))
        rows, headers = tally_rank_rows(t, HTML_RANK_ROWS)
        if rows:
            parts.append(_html_table(headers, rows))
            if (t.get("ranks") or 0) > HTML_RANK_ROWS:
                parts.append(f"<p class=\"sub\">first {HTML_RANK_ROWS} of {t['ranks']} ranks; all in report.json</p>")
        if t.get("attributes"):
            parts.append("<details><summary>tallies.h5 attributes</summary>" + _kv_table(t["attributes"])
                         + "</details>")
    wr = weight_rows(n)
    if wr:
        parts.append("<h2>Weights</h2>")
        parts.append(_html_table(WEIGHT_HEADERS, wr, numeric_from=3))
        parts.append("<p class=\"sub\">Means and standard deviations over all synapses of the projection, at the "
                     "first and the last snapshot (else histogram). At bounds: the share of weights at the lower / "
                     "upper bound (0 and Wmax) in the last snapshot, synapse stdp only.</p>")
    if a.compare:
        parts.append("<h2>Comparison</h2>")
        parts.append(f"<p>A = {_e(n['compare']['a'])}<br>B = {_e(n['compare']['b'])}</p>")
        rows = [[r["group"], r["label"], fmt(r["a"]), fmt(r["b"]), fmt(r["ratio"], 3)]
                for r in n["compare"]["rows"] if not (r["a"] is None and r["b"] is None)]
        parts.append(_html_table(["group", "metric", "A", "B", "B/A"], rows, numeric_from=2))
    if n["plots"]:
        parts.append("<h2>Plots</h2>")
        for p in n["plots"]:
            with open(os.path.join(plot_dir, p["file"]), "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            parts.append(f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{_e(p['title'])}\" "
                         f"width=\"{p['width']}\" height=\"{p['height']}\">"
                         f"<figcaption>{_e(p['title'])} ({_e(p['file'])})</figcaption></figure>")
    if n["summary"]:
        parts.append("<h2>Run summary (summary.json)</h2>")
        parts.append(_kv_table({k: v for k, v in n["summary"].items() if k != "populations"}))
    parts.append("<h2>Provenance</h2>")
    parts.append(_kv_table(n["provenance"]))
    parts.append("<h2>Configuration</h2>")
    if a.run.config_text:
        parts.append(f"<details open><summary>{_e(a.run.config_path)}</summary><pre>{_e(a.run.config_text)}</pre>"
                     "</details>")
    else:
        parts.append("<p>No config.ini: a bare SONATA spike file.</p>")
    parts.append("<h2>Options</h2>")
    parts.append(_kv_table(n["options"]))
    parts.append("<details><summary>All numbers (report.json)</summary><pre>"
                 + _e(json.dumps(n, indent=1, allow_nan=False)) + "</pre></details>")
    parts.append("</body></html>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
