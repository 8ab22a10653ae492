// Shared by the libFuzzer targets (tests/fuzz/*_fuzz.cpp) and the regression tests that replay
// what they found (tests/unit/config/fuzz_regressions_test.cpp): how the bytes become input,
// and what counts as a bug besides crashes, hangs and sanitizer reports. An exception that
// escapes LLVMFuzzerTestOneInput is reported by libFuzzer as a crash, so a harness catches only
// the exception that is the documented way to refuse bad input; anything else (std::bad_alloc,
// std::out_of_range, ...) is a bug.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "myelin/config/config.hpp"

namespace myelin::fuzz {

// The config that overrides_fuzz applies its --set strings to: small, valid, every section kind.
inline constexpr const char* overrides_base_config = R"ini(
[simulation]
name = base
dt_ms = 0.1
t_stop_ms = 100
seed = 3

[output]
dir = out

[population.exc]
model = iaf_psc_exp
n = 40
V_m = uniform(low=-70, high=-55)

[population.inh]
model = iaf_psc_alpha
n = 10

[population.d]
model = iaf_psc_delta
n = 5
V_th = 20
V_reset = 10
E_L = 0

[projection.ee]
source = exc
target = exc
rule = fixed_indegree
indegree = 5
weight = normal(mean=40, std=8)
delay_ms = normal(mean=1.5, std=0.5)

[projection.ie]
source = inh
target = exc
rule = pairwise_bernoulli
p = 0.2
weight = -60
delay_ms = 0.8

[input.noise]
type = poisson
target = exc
rate_hz = 8
indegree = 100
weight = 30

[input.kick]
type = spike_times
target = d
neurons = 0:3
times_ms = 10, 20
weight = 5

[input.dc]
type = dc
target = inh
amplitude_pA = 100
start_ms = 10
stop_ms = 50

[record.v]
population = exc
variables = V_m, I_syn_ex
neurons = 0:5
interval_ms = 0.5
)ini";

// overrides_fuzz's input: --set strings separated by NUL bytes (the one byte a command-line
// argument cannot hold, so that line breaks and every other byte get tried inside an override),
// at most 16; a final NUL ends the last one.
inline std::vector<std::string> split_overrides(std::string_view bytes) {
  std::vector<std::string> overrides;
  std::size_t begin = 0;
  while (begin < bytes.size() && overrides.size() < 16) {
    const std::size_t end = std::min(bytes.find('\0', begin), bytes.size());
    overrides.emplace_back(bytes.substr(begin, end - begin));
    begin = end + 1;
  }
  return overrides;
}

// The resolved config (config.ini next to every run's output) must parse again and resolve to
// the same text: README promises that rerunning it gives the same run. Empty when it does,
// otherwise what is wrong.
inline std::string round_trip_problem(const run_spec& spec) {
  run_spec again;
  try {
    again = parse_config(spec.resolved_ini, "config.ini");
  } catch (const config_error& e) {
    return std::string("the resolved config does not parse again: ") + e.what() + "\n--- resolved:\n" +
           spec.resolved_ini;
  }
  if (again.resolved_ini != spec.resolved_ini)
    return "the resolved config resolves differently:\n--- first:\n" + spec.resolved_ini + "\n--- again:\n" +
           again.resolved_ini;
  return {};
}

// Reports a bug the sanitizers cannot see and stops, so that libFuzzer saves the input.
[[noreturn]] inline void bug(const std::string& what) {
  std::fprintf(stderr, "FUZZ BUG: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace myelin::fuzz
