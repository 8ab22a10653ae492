"""Shared by the tests of tests/slurm: paths, running the tools, a tiny config, a real local Slurm."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

SOURCE = Path(os.environ.get("MYELIN_SOURCE", Path(__file__).resolve().parents[2]))
MYELIN = os.environ.get("MYELIN", str(SOURCE / "build" / "myelin"))
SUBMIT = SOURCE / "tools" / "myelin-submit"
STATUS = SOURCE / "tools" / "myelin-status"
SLURM_LOCAL = SOURCE / "tools" / "slurm-local"
STAND_IN = SOURCE / "tests" / "slurm" / "stand-in-myelin"
SONATA_CHECK = SOURCE / "tests" / "e2e" / "sonata_check.py"

# Two small populations, E and I, driven by Poisson input: ~0.2 s of work per 100 ms.
TINY_CONFIG = """\
[simulation]
name = duo
dt_ms = 0.1
t_stop_ms = {t_stop_ms}
seed = 3

[output]
dir = out

[population.E]
model = iaf_psc_exp
n = 80
V_m = uniform(low=-70, high=-55)

[population.I]
model = iaf_psc_exp
n = 20

[projection.EI]
source = I
target = E
rule = fixed_indegree
indegree = 10
weight = -40
delay_ms = 1.0

[projection.IE]
source = E
target = I
rule = pairwise_bernoulli
p = 0.2
weight = 30
delay_ms = 1.5

[input.drive_E]
type = poisson
target = E
rate_hz = 8
indegree = 1000
weight = 30

[input.drive_I]
type = poisson
target = I
rate_hz = 8
indegree = 800
weight = 30
"""


def write_config(directory, t_stop_ms=100, extra=""):
    path = Path(directory) / "duo.ini"
    path.write_text(TINY_CONFIG.format(t_stop_ms=t_stop_ms) + extra)
    return path


def run(command, cwd=None, env=None, check=False, timeout=120):
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def submit(*args, cwd, env=None, check=True):
    return run([SUBMIT, *args], cwd=cwd, env=env, check=check)


def jobs_events(run_dir):
    lines = (Path(run_dir) / "jobs.tsv").read_text().splitlines()[1:]
    return [dict(zip(("segment", "job", "event", "time", "detail"), line.split("\t"))) for line in lines]


# ----------------------------------------------------------------------------------------------
# A real one-node Slurm (tools/slurm-local)

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
            "BOOT_FAIL", "DEADLINE"}


def slurm_env():
    env = dict(os.environ)
    env["SLURM_CONF"] = os.environ.get("MYELIN_SLURM_DIR", "/tmp/myelin-slurm") + "/slurm.conf"
    env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
    env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"
    return env


class LocalSlurm:
    """Starts tools/slurm-local (failing loudly when it cannot) and stops it if it started it."""

    def __init__(self):
        self.env = slurm_env()
        self.started_here = run([SLURM_LOCAL, "status"], env=self.env).returncode != 0
        result = run([SLURM_LOCAL, "start"], env=self.env, timeout=300)
        if result.returncode != 0:
            raise AssertionError("tools/slurm-local start failed: a real Slurm is needed for this test\n"
                                 f"{result.stdout}\n{result.stderr}")

    def stop(self):
        if self.started_here:
            run([SLURM_LOCAL, "stop"], env=self.env)

    def job_states(self, job):
        """{job id: state} of a job (or every task of an array) from scontrol show job ID -o."""
        out = run(["scontrol", "show", "job", job, "-o"], env=self.env).stdout
        states = {}
        for line in out.splitlines():
            fields = dict(re.findall(r"(\w+)=(\S*)", line))
            if "JobId" in fields:
                task = fields.get("ArrayTaskId")
                key = f"{fields['ArrayJobId']}_{task}" if task and fields.get("ArrayJobId") else fields["JobId"]
                states[key] = fields.get("JobState", "?")
        return states

    def wait_job(self, job, timeout=90, count=1):
        """Polls scontrol until the job (all `count` array tasks) ended; returns {id: state}."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self.job_states(job)
            if len(states) >= count and all(s in TERMINAL for s in states.values()):
                return states
            time.sleep(0.3)
        raise AssertionError(f"job {job} not done after {timeout} s: {self.job_states(job)}\n{self.logs()}")

    def wait_until(self, predicate, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{self.logs()}")

    def wait_chain(self, run_dir, timeout=120):
        """Waits until the run's chain of jobs has ended (completed, failed or stopped)."""
        def ended():
            events = jobs_events(run_dir)
            if not events or events[-1]["event"] not in ("completed", "failed", "stopped"):
                return False
            return all(s in TERMINAL for s in self.job_states(events[-1]["job"]).values())
        self.wait_until(ended, f"the chain of jobs in {run_dir} to end", timeout)
        return jobs_events(run_dir)

    def logs(self):
        out = run(["squeue"], env=self.env).stdout
        return f"squeue:\n{out}"


def job_id_from(output):
    m = re.search(r"submitted job (?:array )?([0-9]+)", output)
    assert m, f"no job id in: {output}"
    return m.group(1)


def read_json(path):
    return json.loads(Path(path).read_text())
