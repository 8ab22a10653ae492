"""End to end against a REAL one-node Slurm (tools/slurm-local: slurmctld, slurmd, munge):
submit a tiny config and check its HDF5 output, run a 3-point sweep as one job array, and
take the job script through Slurm's signal, myelin's "resume me" exit and the resubmission
(with tests/slurm/stand-in-myelin in place of myelin, so this does not need checkpoints).
If Slurm cannot start, these tests fail: they never skip."""
import json
import re

import pytest

from slurm_helpers import (MYELIN, SONATA_CHECK, STAND_IN, STATUS, LocalSlurm, job_id_from, jobs_events,
                           read_json, run, submit, write_config)


@pytest.fixture(scope="module")
def slurm():
    local = LocalSlurm()
    yield local
    local.stop()


def spike_counts(spikes_h5):
    import h5py
    with h5py.File(spikes_h5, "r") as f:
        return {pop: len(f[f"spikes/{pop}/timestamps"]) for pop in f["spikes"]}


@pytest.mark.parametrize("launcher", ["srun", "mpirun"])
def test_submit_tiny_config(slurm, tmp_path, launcher):
    config = write_config(tmp_path, t_stop_ms=100)
    out = submit(config, "--slurm.ntasks_per_node=2", "--slurm.time=00:05:00", f"--slurm.launcher={launcher}",
                 "--set", f"output.dir={tmp_path}/out-{launcher}", cwd=tmp_path, env=slurm.env).stdout
    job = job_id_from(out)
    states = slurm.wait_job(job)
    run_dir = tmp_path / f"out-{launcher}" / "duo"
    log = (run_dir / f"slurm-{job}.out").read_text()
    assert states == {job: "COMPLETED"}, log
    summary = read_json(run_dir / "summary.json")
    assert summary["ranks"] == 2 and summary["t_model_ms"] == 100 and summary["spikes"] > 0, log
    counts = spike_counts(run_dir / "spikes.h5")
    assert set(counts) == {"E", "I"} and sum(counts.values()) == summary["spikes"]
    # The same spikes as the config run directly.
    direct = tmp_path / "direct"
    run(["mpirun", "--oversubscribe", "-np", "1", MYELIN, "run", config, "--quiet", "--set", f"output.dir={direct}"],
        env=slurm.env, check=True)
    run(["/usr/bin/python3", SONATA_CHECK, "same", run_dir / "spikes.h5", direct / "duo" / "spikes.h5"], check=True)
    # Provenance, bookkeeping, status.
    for name in ("job.sbatch", "submitted.ini", "myelin-version.txt", "slurm.json", "config.ini"):
        assert (run_dir / name).exists(), name
    assert [e["event"] for e in jobs_events(run_dir)] == ["submitted", "started", "completed"]
    assert (run_dir / "segments").read_text().strip() == "1"
    status = run([STATUS, run_dir], env=slurm.env, check=True).stdout
    assert "state      complete" in status and "spikes.h5" in status


def test_sweep_of_three_points_is_one_array(slurm, tmp_path):
    config = write_config(tmp_path, t_stop_ms=100)
    out = submit(config, "--sweep", "projection.EI.weight=-10,-40,-160", "--slurm.time=00:05:00",
                 cwd=tmp_path, env=slurm.env).stdout
    job = job_id_from(out)
    states = slurm.wait_job(job, count=3)
    assert states == {f"{job}_{i}": "COMPLETED" for i in range(3)}, states
    sweep_dir = tmp_path / "out" / "duo"
    index = read_json(sweep_dir / "sweep.json")
    assert index["array_job"] == job and len(index["tasks"]) == 3
    spikes = []
    for task in index["tasks"]:
        summary = read_json(f"{task['dir']}/summary.json")
        assert summary["t_model_ms"] == 100
        counts = spike_counts(f"{task['dir']}/spikes.h5")
        assert sum(counts.values()) == summary["spikes"]
        spikes.append(counts["E"])
    # Stronger inhibition of E, fewer E spikes: each task ran its own point.
    assert spikes[0] > spikes[1] > spikes[2], spikes
    status = run([STATUS, sweep_dir], env=slurm.env, check=True).stdout
    assert "3 tasks" in status and "3 complete" in status


def test_signal_checkpoint_resubmit_chain(slurm, tmp_path):
    """scancel -b --signal=USR1 reaches the batch shell, which passes it to every rank; the
    stand-in exits with 75 after a checkpoint; the script resubmits itself with --restart."""
    config = write_config(tmp_path)
    env = dict(slurm.env, STAND_IN_RUN_S="60")
    out = submit(config, "--myelin", STAND_IN, "--slurm.ntasks_per_node=2", "--slurm.time=00:05:00",
                 cwd=tmp_path, env=env).stdout
    job = job_id_from(out)
    run_dir = tmp_path / "out" / "duo"
    log = run_dir / "stand-in.log"
    slurm.wait_until(lambda: log.exists() and log.read_text().count('"start"') == 2, "both ranks to start")
    run(["scancel", "-b", "--signal=USR1", job], env=env, check=True)
    events = slurm.wait_chain(run_dir)
    assert [(e["segment"], e["event"]) for e in events] == [
        ("1", "submitted"), ("1", "started"), ("1", "checkpointed"), ("2", "submitted"), ("2", "started"),
        ("2", "completed")], events
    latest = str(run_dir / "checkpoints" / "latest.h5")
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(e["rank"] for e in entries if e["event"] == "signal") == [0, 1]
    restarted = [e for e in entries if e["event"] == "start" and e["restart"]]
    assert len(restarted) == 2 and all(e["restart"] == latest for e in restarted)
    assert all(e["env"].get("OMP_NUM_THREADS") == "1" for e in entries if e["event"] == "start")
    assert slurm.job_states(job) == {job: "COMPLETED"}
    assert (run_dir / "segments").read_text().strip() == "2"
    status = run([STATUS, run_dir], env=env, check=True).stdout
    assert "state      complete" in status and "2 done, 2 started" in status


def test_term_and_max_segments_end_the_chain(slurm, tmp_path):
    """TERM (as on preemption) is passed on too; at max_segments the chain stops, saying how to resume."""
    config = write_config(tmp_path)
    env = dict(slurm.env, STAND_IN_RUN_S="60")
    out = submit(config, "--myelin", STAND_IN, "--slurm.max_segments=1", "--slurm.time=00:05:00",
                 cwd=tmp_path, env=env).stdout
    job = job_id_from(out)
    run_dir = tmp_path / "out" / "duo"
    log = run_dir / "stand-in.log"
    slurm.wait_until(lambda: log.exists() and '"start"' in log.read_text(), "the run to start")
    run(["scancel", "-b", "--signal=TERM", job], env=env, check=True)
    events = slurm.wait_chain(run_dir)
    assert [e["event"] for e in events] == ["submitted", "started", "checkpointed", "stopped"], events
    assert "max_segments 1" in events[-1]["detail"]
    job_log = (run_dir / f"slurm-{job}.out").read_text()
    assert "got SIGTERM" in job_log and f"sbatch job.sbatch --restart {run_dir}/checkpoints/latest.h5" in job_log
    assert slurm.job_states(job) == {job: "FAILED"}  # exit 75: not complete
    assert "stopped after segment 1" in run([STATUS, run_dir], env=env, check=True).stdout


def test_interrupted_sweep_task_resubmits_only_itself(slurm, tmp_path):
    config = write_config(tmp_path)
    out = submit(config, "--myelin", STAND_IN, "--sweep", "stand_in.run_s=60,0", "--slurm.time=00:05:00",
                 cwd=tmp_path, env=slurm.env).stdout
    job = job_id_from(out)
    sweep_dir = tmp_path / "out" / "duo"
    slow, fast = sweep_dir / "stand_in.run_s=60", sweep_dir / "stand_in.run_s=0"
    log = slow / "stand-in.log"
    slurm.wait_until(lambda: log.exists() and '"start"' in log.read_text(), "task 0 to start")
    run(["scancel", "-b", "--signal=USR1", f"{job}_0"], env=slurm.env, check=True)
    events = slurm.wait_chain(slow)
    assert [(e["segment"], e["event"]) for e in events] == [
        ("1", "submitted"), ("1", "started"), ("1", "checkpointed"), ("2", "submitted"), ("2", "started"),
        ("2", "completed")], events
    assert events[0]["job"] == f"{job}_0" and re.fullmatch(r"[0-9]+_0", events[3]["job"])
    assert [e["event"] for e in slurm.wait_chain(fast)] == ["submitted", "started", "completed"]
    restarted = [json.loads(line) for line in log.read_text().splitlines() if '"restart": "/' in line]
    assert restarted and restarted[0]["restart"] == str(slow / "checkpoints" / "latest.h5")
    assert "2 complete" in run([STATUS, sweep_dir], env=slurm.env, check=True).stdout
