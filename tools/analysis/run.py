"""What an input path names: a myelin run directory or a bare SONATA spike file.

A run directory <run>/ holds spikes.h5, config.ini (the resolved config), summary.json, optionally
tallies.h5, <record>_<var>.h5 reports and <NAME>_weights.h5 weight recordings. A spike file named spikes.h5 next to a config.ini or a
summary.json is read as that run; any other .h5 file is a bare SONATA spike file (no config).
"""
import configparser
import datetime
import json
import os
import platform

from . import AnalysisError, __version__


class RunInput:
    """Paths and metadata of one input (run directory or spike file)."""

    def __init__(self, spikes_path, run_dir=None):
        self.spikes_path = spikes_path
        self.run_dir = run_dir
        self.config_path = None
        self.config_text = None
        self.config = None  # {section: {key: value}}
        self.summary = None
        self.summary_path = None
        self.tallies_path = None
        self.weights_paths = []  # [(recording name, path)] of <NAME>_weights.h5
        self.weights_warnings = []
        self.myelin_version = None
        if run_dir:
            self._read_run_files()

    @property
    def label(self):
        return self.run_dir if self.run_dir else self.spikes_path

    def _read_run_files(self):
        d = self.run_dir
        cfg = os.path.join(d, "config.ini")
        if os.path.isfile(cfg):
            self.config_path = cfg
            self.config_text, self.config = read_config(cfg)
        summ = os.path.join(d, "summary.json")
        if os.path.isfile(summ):
            try:
                with open(summ) as f:
                    self.summary = json.load(f)
                self.summary_path = summ
            except (OSError, ValueError) as e:
                raise AnalysisError(f"{summ}: not valid JSON: {e}") from None
        tal = os.path.join(d, "tallies.h5")
        if os.path.isfile(tal):
            self.tallies_path = tal
        from .weights import find as find_weights
        self.weights_paths, self.weights_warnings = find_weights(d)
        marker = os.path.join(d, ".myelin-run")
        if os.path.isfile(marker):
            try:
                with open(marker) as f:
                    self.myelin_version = f.read().strip() or None
            except OSError:
                pass

    # Values from the config, None when absent.
    def population_sizes(self):
        sizes = {}
        for section, keys in (self.config or {}).items():
            if section.startswith("population.") and "n" in keys:
                try:
                    sizes[section[len("population."):]] = int(keys["n"])
                except ValueError:
                    pass
        return sizes

    def config_float(self, section, key):
        try:
            return float(self.config[section][key])
        except (TypeError, KeyError, ValueError):
            return None


def read_config(path):
    """The resolved config.ini as (text, {section: {key: value}}); comments stripped."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise AnalysisError(f"{path}: cannot read: {e}") from None
    parser = configparser.ConfigParser(interpolation=None, strict=False,
                                       inline_comment_prefixes=("#", ";"), comment_prefixes=("#", ";"))
    parser.optionxform = str  # keep NEST's spelling (C_m, V_th)
    try:
        parser.read_string(text, source=path)
    except configparser.Error as e:
        raise AnalysisError(f"{path}: not a valid INI file: {str(e).splitlines()[0]}") from None
    return text, {s: dict(parser.items(s)) for s in parser.sections()}


def resolve(path):
    """A RunInput for a run directory or a spike file; AnalysisError when there is no spike file."""
    path = os.path.normpath(str(path))
    if not os.path.exists(path):
        raise AnalysisError(f"{path}: no such file or directory")
    if os.path.isdir(path):
        spikes = os.path.join(path, "spikes.h5")
        if not os.path.isfile(spikes):
            if os.path.exists(spikes + ".partial"):
                raise AnalysisError(f"{path}: only spikes.h5.partial: the run did not finish")
            raise AnalysisError(f"{path}: no spikes.h5 in this directory")
        return RunInput(spikes, path)
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.basename(path) == "spikes.h5" and (
            os.path.isfile(os.path.join(parent, "config.ini")) or
            os.path.isfile(os.path.join(parent, "summary.json"))):
        return RunInput(path, os.path.dirname(path) or ".")
    return RunInput(path)


def default_out_dir(run):
    if run.run_dir:
        return os.path.join(run.run_dir, "analysis")
    stem = os.path.splitext(os.path.basename(run.spikes_path))[0]
    return os.path.join(os.path.dirname(run.spikes_path), stem + "_analysis")


def _file_info(path):
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return {"path": path}
    return {"path": os.path.abspath(path), "bytes": st.st_size,
            "modified": datetime.datetime.fromtimestamp(st.st_mtime, datetime.timezone.utc)
            .isoformat(timespec="seconds")}


def provenance(run, spike_root_attrs, argv):
    """Where the numbers come from: inputs, versions, host, command line."""
    import h5py
    import numpy
    info = {
        "analyzed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["myelin-analyze"] + list(argv)),
        "host": platform.node(),
        "myelin_analyze": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "run_dir": os.path.abspath(run.run_dir) if run.run_dir else None,
        "myelin": run.myelin_version,
        "spikes": _file_info(run.spikes_path),
        "sonata_root_attributes": spike_root_attrs,
        "config": _file_info(run.config_path),
        "summary": _file_info(run.summary_path),
        "tallies": _file_info(run.tallies_path),
        "weights": [_file_info(p) for _, p in run.weights_paths],
    }
    try:
        import matplotlib
        info["matplotlib"] = matplotlib.__version__
    except ImportError:  # pragma: no cover
        pass
    if run.config:
        sim = run.config.get("simulation", {})
        for key in ("name", "seed", "dt_ms", "t_stop_ms", "threads"):
            if key in sim:
                info[f"simulation.{key}"] = sim[key]
    if run.summary:
        for key in ("ranks", "threads"):
            if key in run.summary:
                info[f"summary.{key}"] = run.summary[key]
    return info
