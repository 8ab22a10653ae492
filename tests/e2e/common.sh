# Shared by the end-to-end tests: paths, a runner for the real binary, and failure reporting.
set -euo pipefail
: "${MYELIN:?path to the myelin binary}" "${MYELIN_SOURCE:?source tree}"
MYELIN_TEST_TMP=${MYELIN_TEST_TMP:-$(mktemp -d)}
rm -rf "$MYELIN_TEST_TMP" && mkdir -p "$MYELIN_TEST_TMP"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# The tests run more ranks x threads than the machine has cores: OpenMP threads that spin while
# waiting would starve the other ranks (a 3 x 2 tiny run: 101 s spinning, 2.3 s passive).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
read -r -a mpirun_cmd <<< "${MYELIN_MPIRUN:-mpirun --allow-run-as-root --oversubscribe}"
check=(/usr/bin/python3 "$MYELIN_SOURCE/tests/e2e/sonata_check.py")

fail() { echo "FAIL: $*"; exit 1; }

# run_myelin NP THREADS CONFIG OUTDIR [extra args]: runs quietly, output under OUTDIR.
run_myelin() {
  local np=$1 threads=$2 config=$3 outdir=$4
  shift 4
  "${mpirun_cmd[@]}" -np "$np" "$MYELIN" run "$config" --threads "$threads" ${MYELIN_QUIET---quiet} \
    --set "output.dir=$outdir" "$@"
}

# wait_for_line FILE PATTERN [SECONDS]: until FILE has a line matching PATTERN (default 60 s).
wait_for_line() {
  local deadline=$((SECONDS + ${3:-60}))
  until grep -q -- "$2" "$1" 2> /dev/null; do
    ((SECONDS < deadline)) || fail "no '$2' in $1 after ${3:-60} s"
    sleep 0.1
  done
}
