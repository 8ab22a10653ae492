#!/usr/bin/env bash
# The same config and seed give bitwise-identical spike and report files for any number of ranks
# (1 to 4) and threads (1, 2).
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/tiny.ini"
ref="$MYELIN_TEST_TMP/np1_t1"
run_myelin 1 1 "$config" "$ref" > "$MYELIN_TEST_TMP/np1_t1.log"
"${check[@]}" min-spikes "$ref/tiny/spikes.h5" exc:500 inh:100 delta:50
for decomposition in "2 1" "3 1" "4 1" "1 2" "2 2"; do
  read -r np threads <<< "$decomposition"
  out="$MYELIN_TEST_TMP/np${np}_t${threads}"
  run_myelin "$np" "$threads" "$config" "$out" > "$out.log"
  for f in spikes.h5 v_V_m.h5 v_I_syn_ex.h5 v_I_syn_in.h5; do
    "${check[@]}" same "$ref/tiny/$f" "$out/tiny/$f" || fail "$f differs at $np ranks x $threads threads"
  done
done
echo "PASS: identical output for 1-4 ranks and 1-2 threads"
