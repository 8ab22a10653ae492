"""tools/bench on a real, short run: its JSON line and its plots.

The myelin binary: CTest passes it in the environment variable MYELIN."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_reports_a_real_run_and_draws_its_plots(tmp_path):
    binary = os.environ.get("MYELIN")
    if not binary:
        pytest.skip("set MYELIN to the myelin binary (CTest does)")
    out = tmp_path / "results.jsonl"
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_WAIT_POLICY="passive")
    proc = subprocess.run([os.path.join(ROOT, "tools", "bench"), "brunel", "--decompositions", "1x1,2x1",
                           "--t-stop-ms", "20", "--binary", binary, "--out", str(out), "--plot"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["ranks"], r["threads"]) for r in records] == [(1, 1), (2, 1)]
    for r in records:
        assert r["neurons"] == 12500 and r["synapses"] == 12500 * 1250  # fixed in-degree 1250
        assert r["t_model_ms"] == pytest.approx(20.0)
        assert r["real_time_factor"] == pytest.approx(r["simulate_s"] / 0.020)
        # The baseline is a process of its own, smaller than the network's, and subtracted.
        assert 0 < r["baseline_rss_total_bytes"] < r["peak_rss_total_bytes"]
        assert r["bytes_per_synapse_above_baseline"] == pytest.approx(
            (r["peak_rss_total_bytes"] - r["baseline_rss_total_bytes"]) / r["synapses"])
        # The tables alone (4 bytes per synapse) fit under the peak above the baseline.
        assert 3.9 < r["bytes_per_synapse_tables"] < r["bytes_per_synapse_above_baseline"]
        # Phases are each the slowest rank's, so each is within the simulation's time.
        assert all(0 <= v <= r["simulate_s"] * 1.001 for v in r["phase_s"].values())
    # Same network and seed: the same spikes for any decomposition.
    assert records[0]["spikes"] == records[1]["spikes"] > 0
    assert records[0]["bytes_sent"] == 0 < records[1]["bytes_sent"]
    assert "brunel" in proc.stdout and "-base" in proc.stdout
    for png in ("brunel-scaling.png", "brunel-breakdown.png"):
        data = (tmp_path / "bench-plots" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000

    # --set reaches the runs and is recorded: 32-bit weights cost 2 bytes more per synapse.
    wide = tmp_path / "wide.jsonl"
    proc = subprocess.run([os.path.join(ROOT, "tools", "bench"), "brunel", "--decompositions", "1x1",
                           "--t-stop-ms", "10", "--binary", binary, "--out", str(wide),
                           "--set", "simulation.weight_bits=32"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (r,) = [json.loads(line) for line in wide.read_text().splitlines()]
    assert r["overrides"] == ["simulation.weight_bits=32"]
    assert r["bytes_per_synapse_tables"] == pytest.approx(records[0]["bytes_per_synapse_tables"] + 2.0, abs=0.01)
