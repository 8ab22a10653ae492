#!/usr/bin/env bash
# Determinism over Open MPI's TCP transport, the path between the nodes of a cluster: tiny.ini at
# 3 ranks with `--mca pml ob1 --mca btl self,tcp` (no shared memory; ob1 so that no other
# messaging layer, e.g. UCX, bypasses the BTLs) gives spike and report files bitwise identical to
# a 1-rank run. The TCP connections the ranks open are checked in Open MPI's own log.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/tiny.ini"
# Oversubscribed cores: OpenMP threads must not spin while MPI ranks wait for each other.
export OMP_WAIT_POLICY=passive

ref="$MYELIN_TEST_TMP/np1"
run_myelin 1 1 "$config" "$ref" > "$ref.log"
"${check[@]}" min-spikes "$ref/tiny/spikes.h5" exc:500 inh:100 delta:50

tcp=(--mca pml ob1 --mca btl self,tcp --mca btl_base_verbose 30)
# Open MPI leaves out loopback interfaces; a machine with no other one talks TCP over loopback.
network=false
for interface in /sys/class/net/*; do
  [[ ${interface##*/} != lo && $(cat "$interface/operstate" 2>/dev/null) == up ]] && network=true
done
$network || tcp+=(--mca btl_tcp_if_include lo)
out="$MYELIN_TEST_TMP/np3_tcp"
mpirun_cmd+=("${tcp[@]}")
run_myelin 3 1 "$config" "$out" > "$out.log" 2>&1 || { tail -30 "$out.log"; fail "the run over TCP failed"; }
connections=$(grep -c "btl:tcp: now connected to" "$out.log" || true)
((connections >= 3)) || fail "the ranks did not talk over TCP ($connections TCP connections in $out.log)"
for f in spikes.h5 v_V_m.h5 v_I_syn_ex.h5 v_I_syn_in.h5; do
  "${check[@]}" same "$ref/tiny/$f" "$out/tiny/$f" || fail "$f differs at 3 ranks over TCP"
done
echo "PASS: identical output at 1 rank and at 3 ranks over TCP ($connections TCP connections)"
