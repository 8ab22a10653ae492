#!/usr/bin/env bash
# Checkpoints and restarts: a run split into pieces across decompositions, stopped by a signal, or
# killed with SIGKILL gives bitwise the same spikes and reports as an uninterrupted run; a restart
# with another network or from a damaged file is refused with a clear message.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/tiny.ini"
files=(spikes.h5 v_V_m.h5 v_I_syn_ex.h5 v_I_syn_in.h5)
same_as() {  # same_as REF_DIR DIR: every output file identical
  for f in "${files[@]}"; do "${check[@]}" same "$1/$f" "$2/$f" > /dev/null || fail "$f differs: $2 vs $1"; done
}

# Reference: one uninterrupted run.
run_myelin 1 1 "$config" "$MYELIN_TEST_TMP/ref" > /dev/null
ref="$MYELIN_TEST_TMP/ref/tiny"

# Three pieces: 1 rank -> 2 ranks x 2 threads -> 4 ranks, extending t_stop each time.
out="$MYELIN_TEST_TMP/pieces"
ck="$out/tiny/checkpoints/latest.h5"
run_myelin 1 1 "$config" "$out" --set simulation.t_stop_ms=70 --checkpoint-at-end > /dev/null
run_myelin 2 2 "$config" "$out" --set simulation.t_stop_ms=150 --checkpoint-at-end --restart "$ck" > /dev/null
run_myelin 4 1 "$config" "$out" --restart "$ck" > /dev/null
same_as "$ref" "$out/tiny"

# Periodic checkpoints; restart 2 -> 1 from an earlier one: the output is cut back and redone.
out="$MYELIN_TEST_TMP/periodic"
run_myelin 2 1 "$config" "$out" --set checkpoint.interval_ms=60 --set checkpoint.keep=2 > /dev/null
ls "$out/tiny/checkpoints" | grep -c '^checkpoint-' | grep -qx 2 || fail "keep=2 did not keep 2 checkpoints"
first=$(ls "$out/tiny/checkpoints" | grep '^checkpoint-' | head -n 1)
run_myelin 1 2 "$config" "$out" --restart "$out/tiny/checkpoints/$first" > /dev/null
same_as "$ref" "$out/tiny"

# SIGUSR1 (as Slurm sends before a time limit) to mpirun: checkpoint, exit 75, resume to the end.
# Signals are sent once the build has finished (the progress line says so), mid-simulation.
long=(--set simulation.t_stop_ms=10000)
run_myelin 1 1 "$config" "$MYELIN_TEST_TMP/long_ref" "${long[@]}" > /dev/null
out="$MYELIN_TEST_TMP/signal"
# mpirun started as a simple command in the background, so $! is mpirun itself.
"${mpirun_cmd[@]}" -np 2 "$MYELIN" run "$config" --threads 1 --set "output.dir=$out" "${long[@]}" \
  > "$MYELIN_TEST_TMP/signal.log" 2>&1 &
pid=$!
wait_for_line "$MYELIN_TEST_TMP/signal.log" "building.*100.0%"
kill -USR1 "$pid"
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 75 ]] || fail "SIGUSR1: exit code $rc, expected 75: $(tail -3 "$MYELIN_TEST_TMP/signal.log")"
grep -q "stopped      on request" "$MYELIN_TEST_TMP/signal.log" || fail "SIGUSR1: no stop notice in the summary"
[[ -e "$out/tiny/checkpoints/latest.h5" ]] || fail "SIGUSR1: no checkpoint"
run_myelin 3 1 "$config" "$out" "${long[@]}" --restart "$out/tiny/checkpoints/latest.h5" > /dev/null
same_as "$MYELIN_TEST_TMP/long_ref/tiny" "$out/tiny"

# SIGTERM to the process itself (no mpirun) does the same; a second signal changes nothing.
out="$MYELIN_TEST_TMP/term"
"$MYELIN" run "$config" --set "output.dir=$out" "${long[@]}" > "$MYELIN_TEST_TMP/term.log" 2>&1 &
pid=$!
wait_for_line "$MYELIN_TEST_TMP/term.log" "building.*100.0%"
kill -TERM "$pid"
kill -TERM "$pid" 2> /dev/null || true
rc=0
wait "$pid" || rc=$?
[[ $rc -eq 75 ]] || fail "SIGTERM: exit code $rc, expected 75: $(tail -3 "$MYELIN_TEST_TMP/term.log")"
run_myelin 1 1 "$config" "$out" "${long[@]}" --restart "$out/tiny/checkpoints/latest.h5" > /dev/null
same_as "$MYELIN_TEST_TMP/long_ref/tiny" "$out/tiny"

# SIGKILL at an arbitrary moment (checkpoints every 5 ms of model time, so likely mid-write):
# the newest complete checkpoint restarts the run to the same result.
out="$MYELIN_TEST_TMP/killed"
MYELIN_QUIET="" run_myelin 2 1 "$config" "$out" "${long[@]}" --set checkpoint.interval_ms=5 > "$MYELIN_TEST_TMP/killed.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 120))
until [[ -e "$out/tiny/checkpoints/latest.h5" ]]; do
  ((SECONDS < deadline)) || fail "SIGKILL: no checkpoint written within 120 s"
  sleep 0.05
done
sleep 0.3
# Only this run's ranks (its output.dir): other tests may run tiny.ini at the same time.
pkill -KILL -f "$MYELIN run $config .*output.dir=$out" || true
wait "$pid" || true
run_myelin 2 1 "$config" "$out" "${long[@]}" --restart "$out/tiny/checkpoints/latest.h5" > /dev/null
same_as "$MYELIN_TEST_TMP/long_ref/tiny" "$out/tiny"

# Refusals: a changed network, a truncated file, a foreign file, a missing file.
expect_refusal() {  # expect_refusal PATTERN ARGS...
  local pattern=$1 rc=0
  shift
  run_myelin 1 1 "$config" "$MYELIN_TEST_TMP/periodic" "$@" > "$MYELIN_TEST_TMP/refusal.log" 2>&1 || rc=$?
  [[ $rc -ne 0 ]] || fail "accepted: $*"
  grep -q -- "$pattern" "$MYELIN_TEST_TMP/refusal.log" || fail "message lacks '$pattern': $(cat "$MYELIN_TEST_TMP/refusal.log")"
}
good="$MYELIN_TEST_TMP/periodic/tiny/checkpoints/$first"
expect_refusal "population.exc.n is 160 in the checkpoint, 161 now" --restart "$good" --set population.exc.n=161
expect_refusal "simulation.seed" --restart "$good" --set simulation.seed=8
head -c "$(($(stat -c %s "$good") / 2))" "$good" > "$MYELIN_TEST_TMP/truncated.h5"
expect_refusal "truncated.h5" --restart "$MYELIN_TEST_TMP/truncated.h5"
cp "$ref/spikes.h5" "$MYELIN_TEST_TMP/foreign.h5"
expect_refusal "foreign.h5" --restart "$MYELIN_TEST_TMP/foreign.h5"
expect_refusal "no such checkpoint" --restart "$MYELIN_TEST_TMP/none.h5"
echo "PASS"
