"""End to end against a REAL local Slurm with the REAL myelin: a job interrupted the way Slurm
does before a time limit (USR1 to the batch shell) writes a checkpoint, exits with 75, and is
resubmitted with --restart; the chained run's spikes equal an uninterrupted run's.

Registered in CTest as slurm_checkpoint_chain; by hand:
    MYELIN=build/myelin MYELIN_SOURCE=$PWD /usr/bin/python3 -m pytest -p no:cacheprovider tests/slurm/test_checkpoint_chain.py
"""
import re

import pytest

from slurm_helpers import (MYELIN, SONATA_CHECK, STATUS, LocalSlurm, job_id_from, jobs_events, run, submit,
                           write_config)

T_STOP_MS = 20000  # long enough to be interrupted on a fast machine: seconds of simulation on 2 ranks


@pytest.fixture(scope="module")
def slurm():
    local = LocalSlurm()
    yield local
    local.stop()


@pytest.mark.parametrize("launcher", ["srun", "mpirun"])
def test_interrupted_run_resumes_to_the_same_spikes(slurm, tmp_path, launcher):
    config = write_config(tmp_path, t_stop_ms=T_STOP_MS)
    out = submit(config, "--slurm.ntasks_per_node=2", "--slurm.time=00:10:00", f"--slurm.launcher={launcher}",
                 cwd=tmp_path, env=slurm.env).stdout
    job = job_id_from(out)
    run_dir = tmp_path / "out" / "duo"

    # Once myelin has started (its stop handlers are installed before it writes config.ini),
    # signal the batch shell as Slurm does.
    slurm.wait_until(lambda: (run_dir / "config.ini").exists(), "myelin to start", timeout=60)
    assert slurm.job_states(job) == {job: "RUNNING"}, "the run ended before it could be interrupted: raise T_STOP_MS"
    run(["scancel", "-b", "--signal=USR1", job], env=slurm.env, check=True)

    events = slurm.wait_chain(run_dir, timeout=300)
    first_log = (run_dir / f"slurm-{job}.out").read_text()
    assert [(e["segment"], e["event"]) for e in events] == [
        ("1", "submitted"), ("1", "started"), ("1", "checkpointed"), ("2", "submitted"), ("2", "started"),
        ("2", "completed")], f"{events}\n{first_log}"
    latest = run_dir / "checkpoints" / "latest.h5"
    assert latest.is_symlink() and re.fullmatch(r"checkpoint-[0-9]+\.h5", latest.resolve().name)
    second = events[3]["job"]
    second_log = (run_dir / f"slurm-{second}.out").read_text()
    assert f"--restart {latest}" in second_log, second_log
    assert slurm.job_states(second) == {second: "COMPLETED"}

    # An uninterrupted run of the same config on as many ranks.
    direct = tmp_path / "direct"
    run(["mpirun", "--oversubscribe", "-np", "2", MYELIN, "run", config, "--quiet", "--set", f"output.dir={direct}"],
        env=slurm.env, check=True, timeout=300)
    run(["/usr/bin/python3", SONATA_CHECK, "same", run_dir / "spikes.h5", direct / "duo" / "spikes.h5"], check=True)

    status = run([STATUS, run_dir], env=slurm.env, check=True).stdout
    assert "state      complete" in status and "2 done, 2 started" in status
