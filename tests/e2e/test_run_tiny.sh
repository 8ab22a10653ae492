#!/usr/bin/env bash
# A run as a user does it: the summary, the SONATA files, provenance, and the overwrite guard.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/tiny.ini"
out="$MYELIN_TEST_TMP/out"
run_myelin 2 1 "$config" "$out" > "$MYELIN_TEST_TMP/run.log"
log="$MYELIN_TEST_TMP/run.log"
for field in "neurons      230" "synapses" "build" "real-time factor" "exc" "inh" "delta"; do
  grep -q "$field" "$log" || fail "summary lacks '$field'"
done
"${check[@]}" layout "$out/tiny/spikes.h5" 0.1 exc:160 inh:40 delta:30
"${check[@]}" report "$out/tiny/v_V_m.h5" exc 0,1,2,3,4,17 400 0.5
[[ -f "$out/tiny/config.ini" ]] || fail "no resolved config.ini in the output"
ls "$out/tiny" | grep -q partial && fail "a .partial file was left behind"

# Refuses to overwrite without --force, and says why.
if run_myelin 1 1 "$config" "$out" > "$MYELIN_TEST_TMP/again.log" 2>&1; then fail "overwrote without --force"; fi
grep -q "exists (use --force" "$MYELIN_TEST_TMP/again.log" || fail "no clear message: $(cat "$MYELIN_TEST_TMP/again.log")"
run_myelin 1 1 "$config" "$out" --force > /dev/null || fail "--force did not replace the output"

# The whole config is one file; the resolved copy runs to the same spikes.
run_myelin 1 1 "$out/tiny/config.ini" "$MYELIN_TEST_TMP/again" > /dev/null
"${check[@]}" same "$out/tiny/spikes.h5" "$MYELIN_TEST_TMP/again/tiny/spikes.h5"
echo "PASS"
