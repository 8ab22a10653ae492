#!/usr/bin/env bash
# More than 65,536 neurons on one thread: synapse targets are stored as 16-bit indices in blocks
# of 65,536; a run with three blocks per thread gives the same spikes as runs with one.
source "$(dirname "$0")/common.sh"
config="$MYELIN_SOURCE/tests/configs/many-per-thread.ini"
run_myelin 1 1 "$config" "$MYELIN_TEST_TMP/one" > /dev/null
"${check[@]}" min-spikes "$MYELIN_TEST_TMP/one/many/spikes.h5" exc:1000
run_myelin 4 1 "$config" "$MYELIN_TEST_TMP/four" > /dev/null
"${check[@]}" same "$MYELIN_TEST_TMP/one/many/spikes.h5" "$MYELIN_TEST_TMP/four/many/spikes.h5"
echo "PASS"
