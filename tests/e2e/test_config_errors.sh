#!/usr/bin/env bash
# Bad input: a one-line error naming the file/line or option, the key and what was expected; exit
# code 2; no output directory created.
source "$(dirname "$0")/common.sh"
cd "$MYELIN_TEST_TMP"
base="$MYELIN_SOURCE/tests/configs/tiny.ini"

expect_error() {  # expect_error PATTERN ARGS...: the run fails with exit 2 and PATTERN in stderr
  local pattern=$1
  shift
  local rc=0
  "$MYELIN" "$@" --set output.dir="$MYELIN_TEST_TMP/out" > stdout.log 2> stderr.log || rc=$?
  [[ $rc -eq 2 ]] || fail "exit code $rc for $*: $(cat stderr.log)"
  grep -q -- "$pattern" stderr.log || fail "message for $* lacks '$pattern': $(cat stderr.log)"
  [[ $(grep -c . stderr.log) -le 2 ]] || fail "more than a line of error: $(cat stderr.log)"
  [[ ! -e "$MYELIN_TEST_TMP/out" ]] || fail "output written despite the error"
}

expect_error "cannot open config file" run missing.ini
expect_error "simulation.dt_ms" run "$base" --set simulation.dt_ms=0
expect_error "dt_ms" run "$base" --set simulation.dt_ms=-1
expect_error "'n'" run "$base" --set population.exc.n=0
expect_error "'n'" run "$base" --set population.exc.n=2.5
expect_error "nowhere" run "$base" --set projection.exc_exc.source=nowhere
expect_error "delay_ms" run "$base" --set projection.inh_inh.delay_ms=0.01
expect_error "bogus" run "$base" --set simulation.bogus=1
expect_error "unknown command" frobnicate "$base"
expect_error "threads" run "$base" --threads 0

sed 's/^rule = fixed_indegree/rule = fixed_indegre/' "$base" > typo.ini
expect_error "typo.ini:[0-9]*:.*rule" run typo.ini
printf '[simulation]\nt_stop_ms = 10\n[populaton.x]\nn = 1\n' > section.ini
expect_error "section.ini:3" run section.ini
echo "PASS"
