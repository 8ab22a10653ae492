#!/usr/bin/env bash
# Every config shipped in configs/ is valid: `myelin check` accepts it (exit 0, "config is valid").
# Runs nothing, so large networks (microcircuit, hpc_benchmark) cost a second each.
source "$(dirname "$0")/common.sh"
cd "$MYELIN_TEST_TMP"
shopt -s nullglob
configs=("$MYELIN_SOURCE"/configs/*.ini)
((${#configs[@]} > 0)) || fail "no configs in $MYELIN_SOURCE/configs"
for config in "${configs[@]}"; do
  rc=0
  "$MYELIN" check "$config" > check.log 2>&1 || rc=$?
  [[ $rc -eq 0 ]] || fail "myelin check $config: exit $rc: $(cat check.log)"
  grep -q "config is valid" check.log || fail "myelin check $config: $(cat check.log)"
done
echo "ok: ${#configs[@]} shipped configs are valid"
