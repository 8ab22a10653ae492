#!/usr/bin/env bash
# Plastic synapses end to end (tests/configs/plastic.ini: stdp_pl, multiplicative stdp and
# inhibitory additive stdp with drawn delays and multapses): learning changes the spikes; the
# spikes are bitwise identical for 1-4 ranks and 1-2 threads; a run split into checkpointed
# pieces across decompositions (one ending off the communication grid) gives the uninterrupted
# run's spikes, and so does a restart from a periodic checkpoint. Weight recordings (snapshots
# and histograms, [weights.NAME]) are byte-identical across decompositions and continue across
# restarts.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/plastic.ini"
ref="$MYELIN_TEST_TMP/np1_t1"
record_weights() {  # record_weights TIMES: snapshots of EE at TIMES, histograms of EE and IE
  weights=(--set weights.EE.projection=EE --set "weights.EE.times_ms=$1" --set weights.EE.histogram_interval_ms=50
    --set weights.IE.projection=IE --set weights.IE.histogram_interval_ms=100)
}
record_weights 0,150,212.3,300
run_myelin() {  # every run records the weights
  local np=$1 threads=$2 config=$3 outdir=$4
  shift 4
  "${mpirun_cmd[@]}" -np "$np" "$MYELIN" run "$config" --threads "$threads" --quiet --set "output.dir=$outdir" \
    "${weights[@]}" "$@"
}
same_weights() {  # same_weights REF_DIR DIR HOW: HOW = cmp (bytes) or h5diff (contents)
  for f in EE_weights.h5 IE_weights.h5; do
    if [[ $3 == cmp ]]; then cmp -s "$1/$f" "$2/$f" || fail "$f differs: $2 vs $1"
    else h5diff "$1/$f" "$2/$f" > /dev/null || fail "$f differs: $2 vs $1"; fi
  done
}
run_myelin 1 1 "$config" "$ref" > /dev/null
/usr/bin/python3 - "$ref/plastic/EE_weights.h5" <<'PY' || fail "EE weights did not move"
import sys
import h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    data = f["weights/EE/data"][:]
    assert list(f["weights/EE/time"][:]) == [0, 150, 212.3, 300], f["weights/EE/time"][:]
    assert len(f["histograms/EE/time"]) == 7
    moved = np.abs(data[-1] - data[0]) > 1e-3 * np.abs(data[0])
    assert moved.mean() > 0.5, moved.mean()
PY
"${check[@]}" min-spikes "$ref/plastic/spikes.h5" E:3000 I:500 > /dev/null

# Without learning (lambda = 0 keeps every weight) the spikes are others: plasticity acts.
frozen=(--set projection.EE.lambda=0 --set projection.EI.lambda=0 --set projection.IE.lambda=0)
run_myelin 1 1 "$config" "$MYELIN_TEST_TMP/frozen" "${frozen[@]}" > /dev/null
if "${check[@]}" same "$ref/plastic/spikes.h5" "$MYELIN_TEST_TMP/frozen/plastic/spikes.h5" > /dev/null 2>&1; then
  fail "learning did not change a single spike"
fi

for decomposition in "2 1" "4 1" "1 2" "2 2" "3 1"; do
  read -r np threads <<< "$decomposition"
  out="$MYELIN_TEST_TMP/np${np}_t${threads}"
  run_myelin "$np" "$threads" "$config" "$out" > /dev/null
  "${check[@]}" same "$ref/plastic/spikes.h5" "$out/plastic/spikes.h5" > /dev/null ||
    fail "spikes differ at $np ranks x $threads threads"
  same_weights "$ref/plastic" "$out/plastic" cmp
done

out="$MYELIN_TEST_TMP/pieces"
ck="$out/plastic/checkpoints/latest.h5"
record_weights 0  # snapshot times within each piece's t_stop
run_myelin 1 1 "$config" "$out" --set simulation.t_stop_ms=70 --checkpoint-at-end > /dev/null
record_weights 0,150
run_myelin 2 2 "$config" "$out" --set simulation.t_stop_ms=150.7 --checkpoint-at-end --restart "$ck" > /dev/null
record_weights 0,150,212.3,300
run_myelin 3 1 "$config" "$out" --restart "$ck" > /dev/null
"${check[@]}" same "$ref/plastic/spikes.h5" "$out/plastic/spikes.h5" > /dev/null || fail "pieces 1 -> 2x2 -> 3 differ"
same_weights "$ref/plastic" "$out/plastic" h5diff

out="$MYELIN_TEST_TMP/periodic"
run_myelin 2 1 "$config" "$out" --set checkpoint.interval_ms=100 --set checkpoint.keep=3 > /dev/null
first=$(ls "$out/plastic/checkpoints" | grep '^checkpoint-' | head -n 1)
run_myelin 1 2 "$config" "$out" --restart "$out/plastic/checkpoints/$first" > /dev/null
"${check[@]}" same "$ref/plastic/spikes.h5" "$out/plastic/spikes.h5" > /dev/null || fail "restart from $first differs"
same_weights "$ref/plastic" "$out/plastic" h5diff

# A checkpoint of this network restarted with other learning parameters is refused by name.
rc=0
run_myelin 1 1 "$config" "$out" --set projection.EE.lambda=0.4 --restart "$out/plastic/checkpoints/$first" \
  > "$MYELIN_TEST_TMP/refused.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a restart with another lambda was accepted"
grep -q "projection.EE.lambda" "$MYELIN_TEST_TMP/refused.log" || fail "refusal does not name the key: $(tail -2 "$MYELIN_TEST_TMP/refused.log")"
echo "PASS: plastic spikes identical for 1-4 ranks x 1-2 threads and across checkpointed restarts"

# configs/stdp-pairing.ini: 60 pairings at +-10 ms; the final weights (in the checkpoint written
# at the end, and in the weight recordings) against the closed forms, for additive and
# multiplicative stdp, and the additive recording's snapshot every second along the way.
out="$MYELIN_TEST_TMP/pairing"
weights=()
run_myelin 2 1 "$MYELIN_SOURCE/configs/stdp-pairing.ini" "$out" --checkpoint-at-end > /dev/null
/usr/bin/python3 - "$out/stdp-pairing" <<'PY' || fail "stdp-pairing weights"
import math, sys
import h5py
K = 0.01 * math.exp(-0.5)  # lambda e^(-10 ms / tau), tau_plus = tau_minus = 20 ms
expected = {
    "additive": (0.5 + 60 * K, 0.5 - 60 * K),
    "multiplicative": (1 - 0.5 * (1 - K) ** 60, 0.5 * (1 - K) ** 60),
}
def check(name, source, weight, early, late, what):
    assert len(weight) == 20, (name, len(weight))
    for s, w in zip(source, weight):
        want = early if s < 10 else late
        assert abs(w - want) <= 1e-12 * want, f"{name} {what}: source {s}: {w!r}, expected {want!r}"

with h5py.File(sys.argv[1] + "/checkpoints/latest.h5", "r") as f:
    for name, (early, late) in expected.items():
        g = f["plasticity/projection." + name]
        check(name, g["source"][:], g["weight"][:], early, late, "checkpoint")
for name, (early, late) in expected.items():
    with h5py.File(f"{sys.argv[1]}/{name}_weights.h5", "r") as f:
        source, data = f[f"edges/{name}/source_node_id"][:], f[f"weights/{name}/data"][:]
        check(name, source, data[-1], early, late, "last snapshot")
        if name == "additive":  # at k s: k - 1 pairings read out (early), k depressions (late)
            for k in range(1, 62):
                check(name, source, data[k], 0.5 + (k - 1) * K, 0.5 - min(k, 60) * K, f"at {k} s")
    print(f"ok: {name}: early {early:.6f}, late {late:.6f} mV")
PY
echo "PASS: stdp-pairing weights equal the closed forms to 1e-12"
