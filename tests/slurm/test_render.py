"""tools/myelin-submit and tools/myelin-status without a Slurm: the rendered job script (#SBATCH
lines, environment, launcher), validation and quoting of hostile values, sweeps, sizing, a missing
sbatch. Most tests use tests/slurm/stand-in-myelin for `myelin check`; those marked so use the
real binary ($MYELIN). Submissions go to a fake sbatch that records its call."""
import json
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from slurm_helpers import MYELIN, STAND_IN, STATUS, SUBMIT, jobs_events, read_json, run, write_config

SLURM_SECTION = """
[slurm]
nodes = 2
ntasks_per_node = 4
cpus_per_task = 2
time = 01:30:00
partition = compute
account = proj-42
qos = normal
mem = 16G
constraint = skylake&ib
extra = --exclusive --gres=gpu:1
signal_grace_s = 120
max_segments = 5
"""


def submit(*args, cwd, env=None, myelin=STAND_IN):
    return run([SUBMIT, *args, "--myelin", myelin], cwd=cwd, env=env)


def script_of(result):
    assert result.returncode == 0, result.stderr
    return result.stdout


def sbatch_lines(script):
    return [line[len("#SBATCH "):] for line in script.splitlines() if line.startswith("#SBATCH ")]


def bash_syntax_ok(script, tmp_path):
    path = tmp_path / "check.sbatch"
    path.write_text(script)
    result = run(["bash", "-n", path])
    assert result.returncode == 0, result.stderr


@pytest.fixture
def fake_sbatch(tmp_path):
    """A PATH with an sbatch that records its arguments and directory and answers job id 4242."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    record = tmp_path / "sbatch-calls"
    sbatch = bin_dir / "sbatch"
    sbatch.write_text(f"#!/bin/bash\necho \"$PWD|$*\" >> {shlex.quote(str(record))}\necho 4242\n")
    sbatch.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    return env, record


def test_dry_run_renders_slurm_section(tmp_path):
    config = write_config(tmp_path, extra=SLURM_SECTION)
    script = script_of(submit(config, "--dry-run", cwd=tmp_path))
    assert sbatch_lines(script) == [
        "--job-name=duo", "--nodes=2", "--ntasks-per-node=4", "--cpus-per-task=2", "--time=01:30:00",
        "--partition=compute", "--account=proj-42", "--qos=normal", "--mem=16G", "--constraint=skylake&ib",
        "--signal=B:USR1@120", "--output=slurm-%j.out", "--exclusive", "--gres=gpu:1"]
    assert script.startswith("#!/bin/bash\n")
    assert "export OMP_NUM_THREADS=$THREADS OMP_PROC_BIND=close OMP_PLACES=cores" in script
    assert "\nTHREADS=2\n" in script and "\nMAX_SEGMENTS=5\n" in script and "\nLAUNCHER=srun\n" in script
    assert 'launch=(srun --cpus-per-task="$THREADS" --cpu-bind=cores)' in script
    run_dir = tmp_path / "out" / "duo"
    assert f"RUN_DIR={run_dir}\n" in script
    assert f"RUN_SETS=(--set output.dir={tmp_path / 'out'} --set simulation.name=duo)" in script
    assert "--restart" in script and "trap 'forward USR1' USR1" in script and "trap 'forward TERM' TERM" in script
    bash_syntax_ok(script, tmp_path)
    assert not (tmp_path / "out").exists(), "a dry run created files"


def test_command_line_overrides_every_slurm_key(tmp_path):
    config = write_config(tmp_path, extra=SLURM_SECTION)
    script = script_of(submit(config, "--dry-run", "--slurm.time=00:10:00", "--set", "slurm.partition=debug",
                              "--slurm.launcher", "mpirun", "--slurm.nodes=1", "--slurm.mem=0",
                              "--slurm.extra=", "--slurm.job_name=my-run.1", "--slurm.signal_grace_s=60",
                              "--set", "simulation.t_stop_ms=50", cwd=tmp_path))
    lines = sbatch_lines(script)
    for expected in ("--time=00:10:00", "--partition=debug", "--nodes=1", "--mem=0", "--job-name=my-run.1",
                     "--signal=B:USR1@60"):
        assert expected in lines
    assert "--exclusive" not in lines
    assert "\nLAUNCHER=mpirun\n" in script
    assert "SETS=(--set simulation.t_stop_ms=50)" in script


def test_defaults_without_slurm_section(tmp_path):
    config = write_config(tmp_path, extra="")
    script = script_of(submit(config, "--dry-run", "--set", "simulation.threads=3", cwd=tmp_path))
    assert sbatch_lines(script) == ["--job-name=duo", "--nodes=1", "--ntasks-per-node=1", "--cpus-per-task=3",
                                    "--signal=B:USR1@300", "--output=slurm-%j.out"]
    assert "\nTHREADS=3\n" in script and "\nMAX_SEGMENTS=10\n" in script


@pytest.mark.parametrize("options, message", [
    (["--slurm.time=abc"], "time"),
    (["--slurm.time=00:05:00", "--slurm.signal_grace_s=300"], "signal_grace_s"),
    (["--slurm.partition=a b"], "partition"),
    (["--slurm.mem=16X"], "mem"),
    (["--slurm.nodes=0"], "nodes"),
    (["--slurm.ntasks_per_node=two"], "ntasks_per_node"),
    (["--slurm.launcher=ssh"], "launcher"),
    (["--slurm.account=$(id)"], "account"),
    (["--slurm.qos=a\nb"], "qos"),
    (["--slurm.constraint=a b"], "constraint"),
    (["--slurm.extra=--output=/tmp/x"], "--output"),
    (["--slurm.extra=--exclusive; rm -rf /"], "extra"),
    (["--slurm.extra=--comment=$(reboot)"], "extra"),
    (["--slurm.extra=-w node1"], "extra"),
    (["--slurm.colour=blue"], "unknown [slurm] key 'colour'"),
])
def test_invalid_slurm_values_are_rejected(tmp_path, options, message):
    config = write_config(tmp_path)
    result = submit(config, "--dry-run", *options, cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.startswith("myelin-submit: error: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_invalid_value_in_the_config_names_file_and_line(tmp_path):
    config = write_config(tmp_path, extra="\n[slurm]\nnodes = 1\ntime = soon\n")
    result = submit(config, "--dry-run", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{config}:" in result.stderr and "[slurm] key 'time'" in result.stderr and "'soon'" in result.stderr


def test_hostile_job_name_is_rejected(tmp_path):
    config = write_config(tmp_path)
    hostile = 'x"; rm -rf / #'
    result = submit(config, "--dry-run", f"--slurm.job_name={hostile}", cwd=tmp_path)
    assert result.returncode == 1 and "job_name" in result.stderr and result.stdout == ""
    # In the config, '#' and ';' start comments; what is left is still refused.
    config = write_config(tmp_path, extra=f"\n[slurm]\njob_name = {hostile}\n")
    result = submit(config, "--dry-run", cwd=tmp_path)
    assert result.returncode == 1 and "job_name" in result.stderr


def test_hostile_name_and_paths_are_quoted_and_inert(tmp_path, fake_sbatch):
    """A run name and an output directory full of shell syntax: the script stays valid bash,
    the values appear only shell-quoted, and running the script executes none of it."""
    env, _ = fake_sbatch
    hostile_dir = str(tmp_path / "o u t\"$(touch PWNED1)'`touch PWNED2`")
    hostile_name = 'x"$(touch${IFS}PWNED3)$HOME'
    config = write_config(tmp_path)
    args = [config, "--set", f"output.dir={hostile_dir}", "--set", f"simulation.name={hostile_name}",
            "--set", "input.drive_E.rate_hz=$(touch PWNED4)"]
    script = script_of(submit(*args, "--dry-run", cwd=tmp_path))
    bash_syntax_ok(script, tmp_path)
    run_dir = os.path.join(hostile_dir, hostile_name)
    for value in (f"output.dir={hostile_dir}", f"simulation.name={hostile_name}", "input.drive_E.rate_hz=$(touch PWNED4)",
                  run_dir):
        quoted = shlex.quote(value)
        assert quoted != value
        for line in script.splitlines():
            if value in line and not line.startswith("#"):
                assert quoted in line, f"unquoted in: {line}"
    # The job name is derived from the run name, sanitized for the #SBATCH line.
    assert "--job-name=x___touch__IFS_PWNED3__HOME" in sbatch_lines(script)

    # Submit (fake sbatch), then run the job script itself with a pass-through srun.
    result = submit(*args, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    job = Path(run_dir) / "job.sbatch"
    def undated(text):
        return re.sub(r"jobs/myelin.sbatch.in on \S+\.", "", text)
    assert undated(job.read_text()) == undated(script)
    fakebin = tmp_path / "fakebin"
    (fakebin / "srun").write_text('#!/bin/bash\nwhile [[ $1 == -* ]]; do shift; done\nexec "$@"\n')
    (fakebin / "srun").chmod(0o755)
    result = run(["bash", job], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))
    start = json.loads((Path(run_dir) / "stand-in.log").read_text().splitlines()[0])
    assert f"simulation.name={hostile_name}" in start["argv"]
    assert f"output.dir={hostile_dir}" in start["argv"]
    assert "input.drive_E.rate_hz=$(touch PWNED4)" in start["argv"]
    assert [e["event"] for e in jobs_events(run_dir)] == ["submitted", "started", "completed"]


def test_paths_myelin_cannot_take_are_refused(tmp_path):
    config = write_config(tmp_path)
    result = submit(config, "--dry-run", "--set", "output.dir=a;b", cwd=tmp_path)
    assert result.returncode == 1 and "';'" in result.stderr


def test_sweep_renders_one_array(tmp_path, fake_sbatch):
    env, calls = fake_sbatch
    config = write_config(tmp_path)
    sweep = "--sweep=projection.EI.weight=-20,-40,-80"
    script = script_of(submit(config, sweep, "--dry-run", cwd=tmp_path))
    lines = sbatch_lines(script)
    assert "--array=0-2" in lines and "--output=slurm-%A_%a.out" in lines
    bash_syntax_ok(script, tmp_path)
    sweep_dir = tmp_path / "out" / "duo"
    for i, w in enumerate(("-20", "-40", "-80")):
        assert (f"  {i})\n    RUN_DIR={sweep_dir}/EI.weight={w}\n" in script)
        assert (f"RUN_SETS=(--set projection.EI.weight={w} --set output.dir={sweep_dir} "
                f"--set simulation.name=EI.weight={w})") in script

    result = submit(config, sweep, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert calls.read_text() == f"{sweep_dir}|--parsable job.sbatch\n"
    index = read_json(sweep_dir / "sweep.json")
    assert index["array_job"] == "4242" and index["keys"] == ["projection.EI.weight"]
    assert [(t["task"], t["values"], t["dir"], t["job"]) for t in index["tasks"]] == [
        (i, {"projection.EI.weight": w}, str(sweep_dir / f"EI.weight={w}"), f"4242_{i}")
        for i, w in enumerate(("-20", "-40", "-80"))]
    assert (sweep_dir / "sweep.tsv").read_text() == "task\tprojection.EI.weight\tdir\n" + "".join(
        f"{i}\t{w}\t{sweep_dir}/EI.weight={w}\n" for i, w in enumerate(("-20", "-40", "-80")))
    for i, w in enumerate(("-20", "-40", "-80")):
        task_dir = sweep_dir / f"EI.weight={w}"
        assert (task_dir / ".myelin-submit").exists()
        assert jobs_events(task_dir)[0]["job"] == f"4242_{i}"
    for name in ("job.sbatch", "submitted.ini", "myelin-version.txt", "slurm.json", ".myelin-submit"):
        assert (sweep_dir / name).exists(), name
    assert (sweep_dir / "submitted.ini").read_text() == config.read_text()


def test_sweep_cartesian_product_and_odd_values(tmp_path):
    config = write_config(tmp_path)
    script = script_of(submit(config, "--dry-run", "--sweep", "simulation.seed=1,2",
                              "--sweep", "projection.IE.weight=normal(mean=30, std=3),uniform(low=20, high=40),25",
                              cwd=tmp_path))
    assert "--array=0-5" in sbatch_lines(script)
    names = re.findall(r"simulation\.name=(\S+?)\)", script)
    assert len(names) == 6 and len(set(names)) == 6
    assert names[0] == "seed=1_IE.weight=normal_mean=30__std=3_"
    assert "'projection.IE.weight=normal(mean=30, std=3)'" in script
    bash_syntax_ok(script, tmp_path)


@pytest.mark.parametrize("sweep, message", [
    ("slurm.nodes=1,2", "[slurm]"),
    ("output.dir=a,b", "output.dir"),
    ("projection.EI.weight=", "empty"),
    ("projection.EI.weight=1,,2", "empty"),
    ("weight=1,2", "section.key"),
])
def test_bad_sweeps_are_rejected(tmp_path, sweep, message):
    result = submit(write_config(tmp_path), "--dry-run", "--sweep", sweep, cwd=tmp_path)
    assert result.returncode == 1 and message in result.stderr


def test_sizing_refuses_and_says_how_many_nodes(tmp_path):
    config = write_config(tmp_path)
    env = dict(os.environ, STAND_IN_MEMORY="10.00 GiB")
    # 10 GiB over 4 ranks per node, + 64 MiB per rank, in 4 GiB per node: 3 nodes (3.58 GiB each).
    result = submit(config, "--dry-run", "--slurm.mem=4G", "--slurm.ntasks_per_node=4", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "mem = 4G" in result.stderr and "3 nodes would hold it (--slurm.nodes=3)" in result.stderr
    assert script_of(submit(config, "--dry-run", "--slurm.mem=4G", "--slurm.ntasks_per_node=4", "--slurm.nodes=3",
                            cwd=tmp_path, env=env))
    # Ranks whose runtime alone exceeds the node's memory: no node count helps.
    result = submit(config, "--dry-run", "--slurm.mem=100M", "--slurm.ntasks_per_node=4", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "fewer ntasks_per_node" in result.stderr
    # Without mem (or mem = 0, all of a node) nothing is refused.
    assert script_of(submit(config, "--dry-run", "--slurm.ntasks_per_node=4", cwd=tmp_path, env=env))


def test_sizing_with_the_real_myelin(tmp_path):
    """The real `myelin check` estimate of the microcircuit (~1.7 GiB) does not fit in 1 GiB."""
    microcircuit = Path(os.environ.get("MYELIN_SOURCE", ".")) / "configs" / "microcircuit.ini"
    result = submit(microcircuit, "--dry-run", "--slurm.mem=1G", cwd=tmp_path, myelin=MYELIN)
    assert result.returncode == 1, result.stderr
    assert "2 nodes would hold it (--slurm.nodes=2)" in result.stderr
    result = submit(microcircuit, "--dry-run", "--slurm.mem=1G", "--slurm.nodes=2", cwd=tmp_path, myelin=MYELIN)
    assert result.returncode == 0, result.stderr


def test_real_myelin_validates_the_config(tmp_path):
    config = write_config(tmp_path)
    script = script_of(submit(config, "--dry-run", "--slurm.ntasks_per_node=2", cwd=tmp_path, myelin=MYELIN))
    bash_syntax_ok(script, tmp_path)
    assert f"MYELIN={os.path.abspath(MYELIN)}\n" in script
    result = submit(config, "--dry-run", "--set", "population.E.n=abc", cwd=tmp_path, myelin=MYELIN)
    assert result.returncode == 1
    assert "myelin check rejected the config" in result.stderr and "[population.E] key 'n'" in result.stderr


def test_missing_sbatch_is_one_clear_line(tmp_path):
    config = write_config(tmp_path)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = submit(config, cwd=tmp_path, env=dict(os.environ, PATH=str(empty)))
    assert result.returncode == 1
    assert result.stderr.startswith("myelin-submit: error: sbatch not found") and result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_submission_writes_provenance_and_guards_the_directory(tmp_path, fake_sbatch):
    env, calls = fake_sbatch
    config = write_config(tmp_path)
    result = submit(config, "--slurm.time=00:30:00", "--set", "simulation.t_stop_ms=50", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "submitted job 4242" in result.stdout
    run_dir = tmp_path / "out" / "duo"
    assert calls.read_text() == f"{run_dir}|--parsable job.sbatch\n"
    assert (run_dir / "submitted.ini").read_text() == config.read_text()
    assert (run_dir / "myelin-version.txt").read_text() == "myelin 0.0.0-stand-in\n"
    assert os.access(run_dir / "job.sbatch", os.X_OK)
    info = read_json(run_dir / "slurm.json")
    assert info["slurm"]["time"] == "00:30:00" and info["sets"] == ["simulation.t_stop_ms=50"]
    assert info["run_dir"] == str(run_dir) and info["checkpoint_dir"] == str(run_dir / "checkpoints")
    assert jobs_events(run_dir)[0]["job"] == "4242"
    # A second submission to the same run directory needs --force.
    again = submit(config, cwd=tmp_path, env=env)
    assert again.returncode == 1 and "exists (use --force" in again.stderr
    assert submit(config, "--force", cwd=tmp_path, env=env).returncode == 0
    # A directory that is not a run's is never replaced.
    other = tmp_path / "out" / "mine"
    other.mkdir()
    result = submit(config, "--set", "simulation.name=mine", "--force", cwd=tmp_path, env=env)
    assert result.returncode == 1 and "not a myelin run directory" in result.stderr


def test_status_reads_the_chain(tmp_path, fake_sbatch):
    env, _ = fake_sbatch
    config = write_config(tmp_path)
    assert submit(config, cwd=tmp_path, env=env).returncode == 0
    run_dir = tmp_path / "out" / "duo"
    no_slurm = dict(env, PATH=str(tmp_path / "fakebin"))  # no scontrol/sacct/squeue
    with open(run_dir / "jobs.tsv", "a") as f:
        f.write("1\t4242\tstarted\t2024-01-01T00:00:00\tnode1\n"
                "1\t4242\tcheckpointed\t2024-01-01T01:00:00\t/x/latest.h5\n"
                "2\t4243\tsubmitted\t2024-01-01T01:00:01\t/x/latest.h5\n")
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "checkpoint-400.h5").write_text("")
    (run_dir / "checkpoints" / "latest.h5").symlink_to("checkpoint-400.h5")
    out = run([STATUS, run_dir], env=no_slurm, check=True).stdout
    assert "newest checkpoint at 40 of 100 ms (40%, step 400)" in out
    assert "1 done, 1 started of at most 10" in out
    assert "job 4242" in out and "checkpointed" in out and "job 4243" in out
    assert f"output     {run_dir}" in out
    status = json.loads(run([STATUS, run_dir, "--json"], env=no_slurm, check=True).stdout)
    assert status["segments_done"] == 1 and status["checkpoint_step"] == 400 and not status["complete"]
    with open(run_dir / "jobs.tsv", "a") as f:
        f.write("2\t4243\tstarted\t2024-01-01T01:00:02\tnode1\n2\t4243\tcompleted\t2024-01-01T01:30:00\t\n")
    out = run([STATUS, run_dir], env=no_slurm, check=True).stdout
    assert "state      complete" in out and "complete: 100 ms simulated" in out
    assert run([STATUS, tmp_path], env=no_slurm).returncode == 1
