#!/usr/bin/env bash
# Spike times through the whole binary match the analytic solution and NEST's time convention
# (a spike is stamped at the end of the step in which V crossed the threshold).
# iaf_psc_exp, E_L = -70, V_th = -55, tau_m = 10 ms, C_m = 250 pF, I_e = 400 pA: V approaches
# E_L + R I = -54 mV and crosses -55 mV at t* = -tau ln(1 - 15/16) = 27.726 ms, so the first spike
# is stamped 27.8 ms; after each spike 20 refractory steps, then 278 steps to cross again.
source "$(dirname "$0")/common.sh"
cat > "$MYELIN_TEST_TMP/dc.ini" <<'INI'
[simulation]
name = dc
t_stop_ms = 100
[population.cell]
model = iaf_psc_exp
n = 3
I_e = 400
INI
expected=27.8,57.6,87.4
for np in 1 2; do
  run_myelin "$np" 1 "$MYELIN_TEST_TMP/dc.ini" "$MYELIN_TEST_TMP/np$np" > /dev/null
  for node in 0 1 2; do
    "${check[@]}" times "$MYELIN_TEST_TMP/np$np/dc/spikes.h5" cell "$node" "$expected"
  done
done

# Input too large for 32-bit sums: 70,000 identical drivers (as above, first spike 27.8 ms) all
# reach one iaf_psc_delta target in the same step, 1 ms later. Each weight is 32,715 units of the
# target's quantum (2^-24 mV), so the step's sum, 2.29e9 units = 136.5 mV, exceeds INT32_MAX: the
# build must choose 64-bit sums (a wrapped sum would be negative and the target would stay silent).
cat > "$MYELIN_TEST_TMP/sums.ini" <<'INI'
[simulation]
name = sums
t_stop_ms = 30
[population.driver]
model = iaf_psc_exp
n = 70000
I_e = 400
[population.target]
model = iaf_psc_delta
n = 1
E_L = 0
V_m = 0
V_reset = 0
V_th = 100
C_m = 1
[projection.all]
source = driver
target = target
rule = all_to_all
weight = 0.00195
delay_ms = 1.0
INI
for np in 1 2; do
  run_myelin "$np" 1 "$MYELIN_TEST_TMP/sums.ini" "$MYELIN_TEST_TMP/sums-np$np" > /dev/null
  "${check[@]}" times "$MYELIN_TEST_TMP/sums-np$np/sums/spikes.h5" target 0 28.8
done
echo "PASS"
