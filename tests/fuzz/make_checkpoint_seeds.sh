#!/usr/bin/env bash
# Writes the seed corpus of checkpoint_fuzz: real checkpoints, written by myelin itself, of small
# networks: every neuron model, written by 1 and by 2 ranks (counters with one element per rank),
# with and without spikes in flight, and tests/configs/tiny.ini. Run it to regenerate
# corpus/checkpoint_fuzz/:
#
#   tests/fuzz/make_checkpoint_seeds.sh path/to/myelin
set -euo pipefail
myelin=${1:?usage: make_checkpoint_seeds.sh path/to/myelin}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/corpus/checkpoint_fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$out"

# Small networks: the smaller the file, the faster each input is read.
cat > "$work/models.ini" <<'INI'
[simulation]
name = models
dt_ms = 0.1
t_stop_ms = 5
seed = 11

[population.exc]
model = iaf_psc_exp
n = 4
V_m = uniform(low=-70, high=-55)

[population.inh]
model = iaf_psc_alpha
n = 3

[population.delta]
model = iaf_psc_delta
n = 2
V_th = 20
V_reset = 10
E_L = 0

[projection.ee]
source = exc
target = exc
rule = all_to_all
weight = 60
delay_ms = 1.5

[input.noise]
type = poisson
target = exc
rate_hz = 200
indegree = 100
weight = 40
INI
cat > "$work/quiet.ini" <<'INI'
[simulation]
name = quiet
dt_ms = 0.1
t_stop_ms = 1
seed = 1

[population.p]
model = iaf_psc_exp
n = 1
INI

# seed NAME NP CONFIG [--set ...]: a checkpoint at the end of a run of CONFIG on NP ranks.
seed() {
  local name=$1 np=$2 config=$3
  shift 3
  rm -rf "$work/run"
  mpirun --allow-run-as-root --oversubscribe -np "$np" "$myelin" run "$config" --quiet --checkpoint-at-end \
    --set "output.dir=$work/run" "$@" > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
  cp "$(readlink -f "$work"/run/*/checkpoints/latest.h5)" "$out/$name.h5"
  echo "$out/$name.h5: $(stat -c %s "$out/$name.h5") bytes"
}
seed models_1rank 1 "$work/models.ini"
seed models_2ranks 2 "$work/models.ini"
seed quiet_no_spikes 1 "$work/quiet.ini"
seed tiny_2ranks 2 "$here/../configs/tiny.ini" --set simulation.t_stop_ms=10
