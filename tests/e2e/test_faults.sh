#!/usr/bin/env bash
# Faults that need no checkpoint (with checkpoints: test_checkpoint_restart.sh). Each must end the
# whole job promptly with a non-zero exit and a clear message, never hang, and never leave an
# output file under its final name that is not whole (only *.partial):
#   1. SIGKILL to one rank of a 3-rank run while it simulates (100 s of model time, far longer
#      than the test waits);
#   2. an output directory that cannot be created or written (root ignores permissions, so: under
#      /proc, in place of a regular file, on a read-only mount);
#   3. a disk that fills up while the output is written (a file-size limit; a small tmpfs), or
#      before a checkpoint is written (a full tmpfs; a checkpoint over the file-size limit): the
#      checkpoint written before stays intact, and a restart from it gives the same output;
#   4. a network far bigger than the machine's memory: refused before anything big is allocated.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/tiny.ini"
export OMP_WAIT_POLICY=passive  # oversubscribed cores: no spinning OpenMP threads
tmp=$MYELIN_TEST_TMP

# Processes and mounts this script made, undone on any exit.
started=() mounts=()
cleanup() {
  for pid in "${started[@]}"; do kill -KILL "$pid" 2> /dev/null || true; done
  for dir in "${mounts[@]}"; do umount -l "$dir" 2> /dev/null || true; done
}
trap cleanup EXIT

# ends_within SECONDS PID: waits for PID (a background job of this shell); its exit status in
# $status, the time it took in $took; fails when it is still running after SECONDS.
ends_within() {
  local limit=$1 pid=$2 t0=$SECONDS
  while kill -0 "$pid" 2> /dev/null; do
    ((SECONDS - t0 < limit)) || fail "still running ${limit} s later (a hang)"
    sleep 0.2
  done
  status=0
  wait "$pid" || status=$?
  took=$((SECONDS - t0))
}

# expect_clean_failure NAME LOG: a non-zero $status, a "myelin: error" line in LOG that says
# `pattern`, and in the output directory OUT no spikes.h5 or report under its final name.
expect_clean_failure() {
  local name=$1 log=$2 pattern=$3 out=${4:-}
  ((status != 0)) || fail "$name: exit status 0"
  if ! grep -q -E "^myelin: error.*$pattern" "$log"; then
    cat "$log"
    fail "$name: no 'myelin: error' line saying '$pattern'"
  fi
  if [[ -n $out && -d $out/tiny ]]; then
    ! ls "$out/tiny" | grep -q -E '\.h5$' || fail "$name: a file under its final name: $(ls "$out/tiny")"
  fi
  echo "ok: $name: exit $status after ${took} s: $(grep -m 1 -E "^myelin: error" "$log" | cut -c 1-160)"
}

can_mount=false
mkdir -p "$tmp/mount-probe"
if mount -t tmpfs -o size=64k tmpfs "$tmp/mount-probe" 2> /dev/null; then
  umount "$tmp/mount-probe"
  can_mount=true
fi

# --- 1. SIGKILL to one rank while simulating ---------------------------------------------------
out=$tmp/killed
"${mpirun_cmd[@]}" -np 3 "$MYELIN" run "$config" --threads 1 --quiet --set "output.dir=$out" \
  --set simulation.t_stop_ms=100000 > "$tmp/killed.log" 2>&1 &
mpirun_pid=$!
started+=("$mpirun_pid")
# The spike file is created when the simulation loop starts; then let it simulate a little.
for ((i = 0; i < 600; ++i)); do
  [[ -e $out/tiny/spikes.h5.partial ]] && break
  kill -0 "$mpirun_pid" 2> /dev/null || { cat "$tmp/killed.log"; fail "the 3-rank run ended before simulating"; }
  sleep 0.1
done
[[ -e $out/tiny/spikes.h5.partial ]] || fail "the 3-rank run did not start simulating within 60 s"
sleep 1
ranks=()  # the rank processes: mpirun's children running the binary (from /proc; no procps needed)
for stat in /proc/[0-9]*/stat; do
  read -r pid comm _ ppid _ < "$stat" 2> /dev/null || continue
  [[ $ppid == "$mpirun_pid" && $comm == "($(basename "$MYELIN" | cut -c 1-15))" ]] && ranks+=("$pid")
done
((${#ranks[@]} == 3)) || fail "expected 3 rank processes under mpirun $mpirun_pid, found ${#ranks[@]}"
kill -KILL "${ranks[1]}"
ends_within 20 "$mpirun_pid"
((status != 0)) || fail "SIGKILL: the job exited 0"
[[ ! -e $out/tiny/spikes.h5 ]] || fail "SIGKILL: spikes.h5 under its final name"
[[ -e $out/tiny/spikes.h5.partial ]] || fail "SIGKILL: no spikes.h5.partial left"
alive() { [[ -e /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2> /dev/null) != Z ]]; }  # zombies are dead
for pid in "${ranks[@]}"; do
  for ((i = 0; i < 50; ++i)); do alive "$pid" || break; sleep 0.1; done
  ! alive "$pid" || fail "SIGKILL: rank process $pid still running 5 s after mpirun ended"
done
echo "ok: SIGKILL to rank 1 of 3 (pid ${ranks[1]}): job ended after ${took} s with exit $status, only .partial files"

# --- 2. An output directory that cannot be written ---------------------------------------------
run_failing() {  # run_failing NAME NP OUTDIR [args]: a run expected to fail within 30 s
  local name=$1 np=$2 dir=$3
  shift 3
  "${mpirun_cmd[@]}" -np "$np" "$MYELIN" run "$config" --threads 1 --quiet --set "output.dir=$dir" "$@" \
    > "$tmp/$name.log" 2>&1 &
  started+=($!)
  ends_within 30 $!
}
run_failing proc 2 /proc/myelin-test
expect_clean_failure "output.dir under /proc" "$tmp/proc.log" "cannot create output directory /proc/myelin-test/tiny"
touch "$tmp/a-file"
run_failing file 2 "$tmp/a-file"
expect_clean_failure "output.dir is a regular file" "$tmp/file.log" "cannot create output directory .*a-file/tiny"
if $can_mount; then
  mkdir -p "$tmp/readonly"
  mount -t tmpfs -o size=64k,ro tmpfs "$tmp/readonly" && mounts+=("$tmp/readonly")
  run_failing readonly 2 "$tmp/readonly"
  expect_clean_failure "output.dir on a read-only file system" "$tmp/readonly.log" "[Rr]ead-only file system"
else
  echo "skipped: read-only mount (mount not permitted here)"
fi

# --- 3. The disk fills up while the output is written -------------------------------------------
# myelin keeps 64 MiB in reserve (include/myelin/io/output_space.hpp): it checks before writing
# and at every flush, and refuses on every rank alike, because parallel HDF5 hangs when a write
# fails on some ranks only. Each case lets the run start and write, then fills up.
# A file-size limit on the ranks only (mpirun's own files stay unlimited): 100 MiB, reached once
# the spike file (50 MB, HDF5 allocates its chunks ahead) must grow by the reserve.
out=$tmp/filesize
"${mpirun_cmd[@]}" -np 2 bash -c 'ulimit -f 102400 && exec "$@"' limited "$MYELIN" run "$config" --threads 1 --quiet \
  --set "output.dir=$out" > "$tmp/filesize.log" 2>&1 &
started+=($!)
ends_within 60 $!
expect_clean_failure "file-size limit (100 MiB) at 2 ranks" "$tmp/filesize.log" "file-size limit \(ulimit -f\)" "$out"
[[ -e $out/tiny/spikes.h5.partial ]] || fail "file-size limit: refused before the run wrote anything"
if $can_mount; then
  # A file system with the reserve and 150 KiB left: the run starts and writes, then fills it
  # (tiny.ini writes about 200 KiB).
  mkdir -p "$tmp/full"
  mount -t tmpfs -o size=70m tmpfs "$tmp/full" && mounts+=("$tmp/full")
  free_bytes=$(df -B1 --output=avail "$tmp/full" | tail -n 1)
  head -c $((free_bytes - (64 << 20) - 150 * 1024)) /dev/zero > "$tmp/full/filler"
  run_failing full 2 "$tmp/full"
  expect_clean_failure "disk filling up at 2 ranks" "$tmp/full.log" "is \\(nearly\\) full: .* free" "$tmp/full"
  [[ -e $tmp/full/tiny/spikes.h5.partial ]] || fail "disk full: refused before the run wrote anything"
  run_failing full1 1 "$tmp/full" --force
  expect_clean_failure "disk filling up at 1 rank" "$tmp/full1.log" "is \\(nearly\\) full: .* free" "$tmp/full"
else
  echo "skipped: full tmpfs (mount not permitted here)"
fi

# --- 3b. No room for a checkpoint ----------------------------------------------------------------
# Before a checkpoint is written, myelin checks that its file system has room for the whole file
# (its size is known) and the reserve besides, and that the file-size limit allows it; refused,
# the job ends with a clear error on every rank alike, and the checkpoint written before (and
# latest.h5, which names it) stays as it was: a restart from it completes the run as if nothing
# had happened. Without the check, the write would fail inside parallel HDF5 (and can hang).
# expect_checkpoint_kept NAME DIR SUM LINK: the checkpoint of sum SUM is still there, latest.h5
# still names it, and no temporary file is left.
expect_checkpoint_kept() {
  local name=$1 dir=$2 sum=$3 link=$4
  [[ $(readlink "$dir/latest.h5") == "$link" ]] || fail "$name: latest.h5 now names $(readlink "$dir/latest.h5"), not $link"
  [[ $(md5sum < "$dir/$link") == "$sum" ]] || fail "$name: the previous checkpoint $link changed"
  ! compgen -G "$dir/*.tmp" > /dev/null || fail "$name: a temporary file is left: $(ls "$dir")"
  ls "$dir" | grep -c '^checkpoint-' | grep -qx 1 || fail "$name: other checkpoints appeared: $(ls "$dir")"
  echo "   $link and latest.h5 unchanged"
}
if $can_mount; then
  # tiny.ini at 2 ranks writes a checkpoint at 100 ms into a tmpfs; the tmpfs is then filled up
  # to 16 KiB (the checkpoint needs ~30 KB); the restart's next checkpoint (150 ms) is refused;
  # once room is made, a restart from the kept checkpoint gives the same output as one whole run.
  ckdir=$tmp/ckfull
  mkdir -p "$ckdir"
  mount -t tmpfs -o size=70m tmpfs "$ckdir" && mounts+=("$ckdir")
  out=$tmp/ckrun ckset=(--set "checkpoint.directory=$ckdir")
  "${mpirun_cmd[@]}" -np 2 "$MYELIN" run "$config" --threads 1 --quiet --set "output.dir=$tmp/ckref" \
    > "$tmp/ckref.log" 2>&1 || { cat "$tmp/ckref.log"; fail "the reference run failed"; }
  "${mpirun_cmd[@]}" -np 2 "$MYELIN" run "$config" --threads 1 --quiet --set "output.dir=$out" "${ckset[@]}" \
    --set simulation.t_stop_ms=100 --checkpoint-at-end > "$tmp/ckfirst.log" 2>&1 || {
    cat "$tmp/ckfirst.log"; fail "the run writing the first checkpoint failed"; }
  link=$(readlink "$ckdir/latest.h5")
  sum=$(md5sum < "$ckdir/$link")
  free_bytes=$(df -B1 --output=avail "$ckdir" | tail -n 1)
  head -c $((free_bytes - 16 * 1024)) /dev/zero > "$ckdir/filler"
  for np in 2 1; do
    run_failing "ckfull$np" "$np" "$out" "${ckset[@]}" --set checkpoint.interval_ms=50 --restart "$ckdir/latest.h5"
    expect_clean_failure "disk full before a checkpoint at $np rank(s)" "$tmp/ckfull$np.log" \
      "is \(nearly\) full: .* not writing checkpoint .*checkpoint-000000001500\.h5"
    for f in spikes.h5 v_V_m.h5; do
      [[ ! -e $out/tiny/$f && -e $out/tiny/$f.partial ]] || fail "disk full before a checkpoint: $f not left as $f.partial"
    done
    expect_checkpoint_kept "disk full before a checkpoint" "$ckdir" "$sum" "$link"
  done
  rm "$ckdir/filler"
  run_myelin 2 1 "$config" "$out" "${ckset[@]}" --restart "$ckdir/latest.h5" > "$tmp/ckrestart.log" 2>&1 || {
    cat "$tmp/ckrestart.log"; fail "the restart from the kept checkpoint failed"; }
  for f in spikes.h5 v_V_m.h5 v_I_syn_ex.h5 v_I_syn_in.h5; do
    "${check[@]}" same "$tmp/ckref/tiny/$f" "$out/tiny/$f" > /dev/null || fail "restart after a full disk: $f differs"
  done
  echo "ok: restart from the kept checkpoint: spikes and reports identical to an uninterrupted run"
else
  echo "skipped: full tmpfs before a checkpoint (mount not permitted here)"
fi
# ulimit -f, no mount needed: a network whose checkpoint (70 MB: 1.6 million neurons of 44 bytes)
# is over a 66 MiB file-size limit, which leaves the output (and the 64 MiB reserve) room enough.
# The checkpoint written without the limit is kept when its successor is refused.
cat > "$tmp/big.ini" <<'INI'
[simulation]
name = big
dt_ms = 0.1
t_stop_ms = 0.5
seed = 5

[output]
spikes = false

[population.p]
model = iaf_psc_alpha
n = 1600000
V_m = uniform(low=-70, high=-55)
INI
out=$tmp/bigrun ckdir=$tmp/bigrun/big/checkpoints
"${mpirun_cmd[@]}" -np 1 "$MYELIN" run "$tmp/big.ini" --threads 1 --quiet --set "output.dir=$out" --checkpoint-at-end \
  > "$tmp/bigfirst.log" 2>&1 || { cat "$tmp/bigfirst.log"; fail "the run writing a 70 MB checkpoint failed"; }
link=$(readlink "$ckdir/latest.h5")
sum=$(md5sum < "$ckdir/$link")
"${mpirun_cmd[@]}" -np 1 bash -c 'ulimit -f 67584 && exec "$@"' limited "$MYELIN" run "$tmp/big.ini" --threads 1 \
  --quiet --set "output.dir=$out" --set simulation.t_stop_ms=1 --checkpoint-at-end --restart "$ckdir/latest.h5" \
  > "$tmp/bigfsize.log" 2>&1 &
started+=($!)
ends_within 60 $!
expect_clean_failure "checkpoint over the file-size limit (66 MiB)" "$tmp/bigfsize.log" \
  "file-size limit \(ulimit -f\) of 66.00 MiB is below the .* not writing checkpoint .*checkpoint-000000000010\.h5"
expect_checkpoint_kept "checkpoint over the file-size limit" "$ckdir" "$sum" "$link"
rm -rf "$out"

# --- 4. More memory than the machine has ------------------------------------------------------
# Each rank's peak resident memory is measured (getrusage of the child, by Python, which the e2e
# tests need anyway); an address-space limit guards the machine should the check ever let the
# allocation through.
max_rss_mb=300
peak_rss=(/usr/bin/python3 -c 'import resource, subprocess, sys
status = subprocess.call(sys.argv[1:])
print("maxrss_kb=%d" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(status)')
refused_early() {  # refused_early NAME PATTERN [--set ...]
  local name=$1 pattern=$2
  shift 2
  # TERM ignored: mpirun ends the other ranks when one exits non-zero, before they could print.
  "${mpirun_cmd[@]}" -np 2 bash -c 'trap "" TERM; ulimit -v 8388608 && exec "$@"' limited "${peak_rss[@]}" \
    "$MYELIN" run "$config" --threads 1 --quiet --set "output.dir=$tmp/$name" "$@" > "$tmp/$name.log" 2>&1 &
  started+=($!)
  ends_within 60 $!
  expect_clean_failure "$name" "$tmp/$name.log" "$pattern"
  local rss
  for rss in $(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$tmp/$name.log"); do
    ((rss < max_rss_mb * 1024)) || fail "$name: a rank reached $((rss / 1024)) MiB before refusing"
  done
  # mpirun may end a rank before its wrapper prints (both refuse at once; the first exit ends
  # the job): at least one figure, and the address-space limit above guards the others.
  (($(grep -c maxrss_kb= "$tmp/$name.log") >= 1)) || fail "$name: no memory figure from any rank"
  echo "   peak memory per rank (MiB): $(sed -n 's/.*maxrss_kb=\([0-9]*\).*/\1/p' "$tmp/$name.log" |
    awk '{printf "%d ", $1 / 1024}')"
}
refused_early huge_network "the network needs ~.* on this node but only .* is available" \
  --set population.exc.n=2000000000
refused_early huge_record "at most 16777216 node ids" \
  --set population.exc.n=2000000000 --set record.v.neurons=0:2000000000
echo "PASS: faults end the job promptly with a clear error and no output file under its final name"
