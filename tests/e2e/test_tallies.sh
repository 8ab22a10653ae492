#!/usr/bin/env bash
# Tallies end to end: tests/configs/tallies.ini at 1, 2 and 4 ranks (1 and 2 threads); counts
# against an independent calculation from spikes.h5 and the known out-degrees, the rank x rank
# byte matrices, windows, the modeled energy against its formula, decomposition-independent totals
# equal across runs, the end-of-run table, a missing powercap folder (model, notice, no error),
# a fake one (measured), and a bad preset refused.
source "$(dirname "$0")/common.sh"
config=$MYELIN_SOURCE/tests/configs/tallies.ini
t=$MYELIN_TEST_TMP
tally_check=(/usr/bin/python3 "$MYELIN_SOURCE/tests/e2e/tally_check.py")
# a -> b (11, 15 steps) and a -> a (1, 10 steps) differ in delay: count them apart.
edges=(--edge a:11:15 --edge a:1:10 --edge b:24:20)

for d in 1x1 2x1 4x1 2x2; do
  np=${d%x*} threads=${d#*x}
  MYELIN_QUIET= run_myelin "$np" "$threads" "$config" "$t/$d" > "$t/$d.log" 2>&1 || { cat "$t/$d.log"; fail "run $d"; }
  "${tally_check[@]}" "$t/$d/tallies" "${edges[@]}" --energy-model --expect-source modeled ||
    fail "tallies of $d"
done
for d in 2x1 4x1 2x2; do
  "${tally_check[@]}" --same "$t/1x1/tallies" "$t/$d/tallies" || fail "totals 1x1 vs $d"
done

# The end-of-run table and the notice (this machine may or may not have RAPL: the runs above used
# the default folder; force a missing one here).
MYELIN_QUIET= run_myelin 1 1 "$config" "$t/nopowercap" --set energy.powercap_dir=/nonexistent/powercap \
  > "$t/nopowercap.log" 2>&1 || { cat "$t/nopowercap.log"; fail "a missing powercap folder must not be an error"; }
grep -q "energy is modeled (preset cpu-node): /nonexistent/powercap does not exist" "$t/nopowercap.log" ||
  fail "no notice about the missing powercap folder"
for line in "energy " "by phase" "brain " "comm "; do
  grep -q "^  $line" "$t/nopowercap.log" || fail "no '$line' line in the end-of-run table"
done

# A fake powercap folder: energy is measured (the counter does not move, so 0 J), the table says so.
mkdir -p "$t/powercap/intel-rapl:0"
echo 1000 > "$t/powercap/intel-rapl:0/energy_uj"
echo 262143328850 > "$t/powercap/intel-rapl:0/max_energy_range_uj"
MYELIN_QUIET= run_myelin 2 1 "$config" "$t/fakepowercap" --set "energy.powercap_dir=$t/powercap" \
  > "$t/fakepowercap.log" 2>&1 || { cat "$t/fakepowercap.log"; fail "run with a fake powercap folder"; }
"${tally_check[@]}" "$t/fakepowercap/tallies" "${edges[@]}" --expect-source measured ||
  fail "tallies with measured energy"
grep -q "(measured, RAPL)" "$t/fakepowercap.log" || fail "the table does not say the energy was measured"

# A restart keeps the earlier process's tallies as tallies-1.h5.
MYELIN_QUIET= run_myelin 1 1 "$config" "$t/restart" --set simulation.t_stop_ms=200 --checkpoint-at-end \
  > /dev/null 2>&1 || fail "first piece of the restart"
MYELIN_QUIET= run_myelin 1 1 "$config" "$t/restart" --restart "$t/restart/tallies/checkpoints/latest.h5" \
  > "$t/restart.log" 2>&1 || { cat "$t/restart.log"; fail "restart"; }
[[ -f $t/restart/tallies/tallies-1.h5 && -f $t/restart/tallies/tallies.h5 ]] || fail "tallies-1.h5 and tallies.h5 expected after a restart"
/usr/bin/python3 - "$t/restart/tallies" << 'PY' || fail "restart tallies cover the wrong steps"
import sys, h5py
d = sys.argv[1]
a = h5py.File(f"{d}/tallies-1.h5", "r")["tallies"].attrs
b = h5py.File(f"{d}/tallies.h5", "r")["tallies"].attrs
assert (a["start_step"], a["end_step"]) == (0, 2000), (a["start_step"], a["end_step"])
assert (b["start_step"], b["end_step"]) == (2000, 3000), (b["start_step"], b["end_step"])
PY

# A bad preset: one line naming the key and the presets.
if "$MYELIN" check "$config" --set energy.preset=gpu > "$t/bad.log" 2>&1; then fail "an unknown preset was accepted"; fi
grep -q "\[energy\] key 'preset': expected one of cpu-node, gpu-node" "$t/bad.log" || { cat "$t/bad.log"; fail "bad preset message"; }
echo "tallies: all checks passed"
