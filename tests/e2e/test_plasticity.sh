#!/usr/bin/env bash
# Plastic synapses end to end (tests/configs/plastic.ini: stdp_pl, multiplicative stdp and
# inhibitory additive stdp with drawn delays and multapses): learning changes the spikes; the
# spikes are bitwise identical for 1-4 ranks and 1-2 threads; a run split into checkpointed
# pieces across decompositions (one ending off the communication grid) gives the uninterrupted
# run's spikes, and so does a restart from a periodic checkpoint.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/plastic.ini"
ref="$MYELIN_TEST_TMP/np1_t1"
run_myelin 1 1 "$config" "$ref" > /dev/null
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
done

out="$MYELIN_TEST_TMP/pieces"
ck="$out/plastic/checkpoints/latest.h5"
run_myelin 1 1 "$config" "$out" --set simulation.t_stop_ms=70 --checkpoint-at-end > /dev/null
run_myelin 2 2 "$config" "$out" --set simulation.t_stop_ms=150.7 --checkpoint-at-end --restart "$ck" > /dev/null
run_myelin 3 1 "$config" "$out" --restart "$ck" > /dev/null
"${check[@]}" same "$ref/plastic/spikes.h5" "$out/plastic/spikes.h5" > /dev/null || fail "pieces 1 -> 2x2 -> 3 differ"

out="$MYELIN_TEST_TMP/periodic"
run_myelin 2 1 "$config" "$out" --set checkpoint.interval_ms=100 --set checkpoint.keep=3 > /dev/null
first=$(ls "$out/plastic/checkpoints" | grep '^checkpoint-' | head -n 1)
run_myelin 1 2 "$config" "$out" --restart "$out/plastic/checkpoints/$first" > /dev/null
"${check[@]}" same "$ref/plastic/spikes.h5" "$out/plastic/spikes.h5" > /dev/null || fail "restart from $first differs"

# A checkpoint of this network restarted with other learning parameters is refused by name.
rc=0
run_myelin 1 1 "$config" "$out" --set projection.EE.lambda=0.4 --restart "$out/plastic/checkpoints/$first" \
  > "$MYELIN_TEST_TMP/refused.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "a restart with another lambda was accepted"
grep -q "projection.EE.lambda" "$MYELIN_TEST_TMP/refused.log" || fail "refusal does not name the key: $(tail -2 "$MYELIN_TEST_TMP/refused.log")"
echo "PASS: plastic spikes identical for 1-4 ranks x 1-2 threads and across checkpointed restarts"

# configs/stdp-pairing.ini: 60 pairings at +-10 ms; the final weights (read from the checkpoint
# written at the end) against the closed forms, for additive and multiplicative stdp.
out="$MYELIN_TEST_TMP/pairing"
run_myelin 2 1 "$MYELIN_SOURCE/configs/stdp-pairing.ini" "$out" --checkpoint-at-end > /dev/null
/usr/bin/python3 - "$out/stdp-pairing/checkpoints/latest.h5" <<'PY' || fail "stdp-pairing weights"
import math, sys
import h5py
K = 0.01 * math.exp(-0.5)  # lambda e^(-10 ms / tau), tau_plus = tau_minus = 20 ms
expected = {
    "additive": (0.5 + 60 * K, 0.5 - 60 * K),
    "multiplicative": (1 - 0.5 * (1 - K) ** 60, 0.5 * (1 - K) ** 60),
}
with h5py.File(sys.argv[1], "r") as f:
    for name, (early, late) in expected.items():
        g = f["plasticity/projection." + name]
        source, weight = g["source"][:], g["weight"][:]
        assert len(weight) == 20, (name, len(weight))
        for s, w in zip(source, weight):
            want = early if s < 10 else late
            assert abs(w - want) <= 1e-12 * want, f"{name}: source {s}: {w!r}, expected {want!r}"
        print(f"ok: {name}: early {early:.6f}, late {late:.6f} mV")
PY
echo "PASS: stdp-pairing weights equal the closed forms to 1e-12"
