// The config module: INI + --set overrides into run_spec, every error message, the
// distribution syntax and the resolved config's round trip.
#include "myelin/config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "config/distribution_parser.hpp"
#include "config/value_parsers.hpp"
#include "myelin/core/network_layout.hpp"
#include "sim/simulation_state.hpp"  // network_definition: what a checkpoint's fingerprint covers

namespace myelin {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
const std::string file_name = "configs/test.ini";

// Every section and key, non-default values where possible.
const std::string full_config = R"(# A small PD14-like network using every section
[simulation]
name = full_run
dt_ms = 0.1
t_stop_ms = 1000.0
seed = 42
threads = 2
weight_bits = 32

[output]
dir = results   ; where the run goes
spikes = no
flush_interval_ms = 50

[population.L23E]
model = iaf_psc_exp
n = 200
C_m = 250.5
tau_m = 10
t_ref = 2
E_L = -65
V_th = -50
V_reset = -65
I_e = 5.5
tau_syn_ex = 0.5
tau_syn_in = 0.75
V_m = normal(mean=-58, std=10)   # PD14's initial distribution
record_spikes = true

[population.L23I]
model = iaf_psc_delta
n = 50
V_min = -80
refractory_input = yes
record_spikes = false

[population.Th]
model = iaf_psc_alpha
n = 50
V_min = -90
V_m = uniform(-70, -60)

[projection.EE]
source = L23E
target = L23E
rule = fixed_indegree
indegree = 20
allow_autapses = false
allow_multapses = false
weight = normal(mean=87.8, std=8.78)
delay_ms = normal(mean=1.5, std=0.75)
synapse = static

[projection.EI]
source = L23E
target = L23I
rule = fixed_total_number
N = 1000
weight = 0.5
delay_ms = 1.5

[projection.IE]
source = L23I
target = L23E
rule = pairwise_bernoulli
p = 0.1
weight = normal(-351.2, 35.12)
delay_ms = uniform(low=0.5, high=1.5)

[projection.ThI]
source = Th
target = L23I
rule = one_to_one
weight = 1
delay_ms = 0.1

[projection.ThE]
source = Th
target = L23E
rule = all_to_all
weight = lognormal(mu=0.5, sigma=0.2, max=10)
delay_ms = 2

[input.bg]
type = poisson
target = L23E
rate_hz = 8
indegree = 1600
weight = 87.8
start_ms = 10
stop_ms = 900

[input.dc]
type = dc
target = L23I
neurons = 0:10,20
amplitude_pA = 120

[input.pulse]
type = spike_times
target = Th
neurons = 3, 1
times_ms = 10, 20.5, 20.5, 30
weight = 100
delay_ms = 0.5

[record.vm]
population = L23E
variables = V_m, I_syn_ex, I_syn_in
neurons = 0:5
interval_ms = 1.0

[record.vi]
population = L23I
variables = V_m
)";

const std::string minimal_config = R"([simulation]
t_stop_ms = 100

[population.E]
model = iaf_psc_exp
n = 10
)";

// Both plastic synapse models, an inhibitory stdp projection, and tau_minus on a target.
const std::string plastic_config = R"([simulation]
t_stop_ms = 100

[population.E]
model = iaf_psc_alpha
n = 20
tau_minus = 30

[population.I]
model = iaf_psc_delta
n = 5

[projection.EE]
source = E
target = E
rule = fixed_indegree
indegree = 5
weight = 45.6
delay_ms = 1.5
synapse = stdp_pl
tau_plus = 15
lambda = 0.1
alpha = 0.0513
mu = 0.4

[projection.IE]
source = E
target = I
rule = all_to_all
weight = uniform(low=0.5, high=1.5)
delay_ms = 1
synapse = stdp
tau_plus = 16.8
lambda = 0.005
alpha = 1.05
mu_plus = 0
mu_minus = 0
Wmax = 2

[projection.II]
source = I
target = I
rule = all_to_all
weight = -2
delay_ms = 1
synapse = stdp
Wmax = -10

[projection.EI]
source = I
target = E
rule = all_to_all
weight = -20
delay_ms = 1
)";

run_spec parse(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return parse_config(text, file_name, overrides);
}

// The message of the config_error that parsing must throw.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    parse(text, overrides);
  } catch (const config_error& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << "messages are one line: " << message;
    return message;
  }
  ADD_FAILURE() << "expected a config_error";
  return "";
}

// "configs/test.ini:<line>" of the first line of `text` containing `needle`.
std::string at_line_of(const std::string& text, std::string_view needle) {
  const auto position = text.find(needle);
  EXPECT_NE(position, std::string::npos) << needle;
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(position), '\n');
  return file_name + ":" + std::to_string(line);
}

void expect_contains(const std::string& message, std::initializer_list<std::string_view> parts) {
  for (const auto part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

// The minimal config with `extra` appended (sections or keys of the last section).
std::string minimal_with(const std::string& extra) { return minimal_config + extra; }

void expect_same_distribution(const distribution& a, const distribution& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.a, b.a);
  EXPECT_EQ(a.b, b.b);
  EXPECT_EQ(a.min, b.min);
  EXPECT_EQ(a.max, b.max);
  EXPECT_EQ(a.text, b.text);
}

// Field by field (spec.hpp has no operator==); config_path differs by design.
void expect_same_spec(const run_spec& a, const run_spec& b) {
  EXPECT_EQ(a.simulation.name, b.simulation.name);
  EXPECT_EQ(a.simulation.dt_ms, b.simulation.dt_ms);
  EXPECT_EQ(a.simulation.t_stop_ms, b.simulation.t_stop_ms);
  EXPECT_EQ(a.simulation.seed, b.simulation.seed);
  EXPECT_EQ(a.simulation.threads, b.simulation.threads);
  EXPECT_EQ(a.simulation.weight_bits, b.simulation.weight_bits);
  EXPECT_EQ(a.output.dir, b.output.dir);
  EXPECT_EQ(a.output.spikes, b.output.spikes);
  EXPECT_EQ(a.output.flush_interval_ms, b.output.flush_interval_ms);

  ASSERT_EQ(a.network.populations.size(), b.network.populations.size());
  for (std::size_t i = 0; i < a.network.populations.size(); ++i) {
    const auto& pa = a.network.populations[i];
    const auto& pb = b.network.populations[i];
    EXPECT_EQ(pa.name, pb.name);
    EXPECT_EQ(pa.model, pb.model);
    EXPECT_EQ(pa.n, pb.n);
    EXPECT_EQ(pa.params.C_m_pF, pb.params.C_m_pF);
    EXPECT_EQ(pa.params.tau_m_ms, pb.params.tau_m_ms);
    EXPECT_EQ(pa.params.t_ref_ms, pb.params.t_ref_ms);
    EXPECT_EQ(pa.params.E_L_mV, pb.params.E_L_mV);
    EXPECT_EQ(pa.params.V_th_mV, pb.params.V_th_mV);
    EXPECT_EQ(pa.params.V_reset_mV, pb.params.V_reset_mV);
    EXPECT_EQ(pa.params.I_e_pA, pb.params.I_e_pA);
    EXPECT_EQ(pa.params.tau_syn_ex_ms, pb.params.tau_syn_ex_ms);
    EXPECT_EQ(pa.params.tau_syn_in_ms, pb.params.tau_syn_in_ms);
    EXPECT_EQ(pa.params.V_min_mV, pb.params.V_min_mV);
    EXPECT_EQ(pa.params.refractory_input, pb.params.refractory_input);
    expect_same_distribution(pa.V_m_init, pb.V_m_init);
    EXPECT_EQ(pa.record_spikes, pb.record_spikes);
    EXPECT_EQ(pa.tau_minus_ms, pb.tau_minus_ms);
  }
  ASSERT_EQ(a.network.projections.size(), b.network.projections.size());
  for (std::size_t i = 0; i < a.network.projections.size(); ++i) {
    const auto& pa = a.network.projections[i];
    const auto& pb = b.network.projections[i];
    EXPECT_EQ(pa.name, pb.name);
    EXPECT_EQ(pa.source, pb.source);
    EXPECT_EQ(pa.target, pb.target);
    EXPECT_EQ(pa.rule, pb.rule);
    EXPECT_EQ(pa.indegree, pb.indegree);
    EXPECT_EQ(pa.total, pb.total);
    EXPECT_EQ(pa.p, pb.p);
    EXPECT_EQ(pa.allow_autapses, pb.allow_autapses);
    EXPECT_EQ(pa.allow_multapses, pb.allow_multapses);
    expect_same_distribution(pa.weight, pb.weight);
    expect_same_distribution(pa.delay_ms, pb.delay_ms);
    EXPECT_EQ(pa.synapse, pb.synapse);
    EXPECT_EQ(pa.stdp.tau_plus_ms, pb.stdp.tau_plus_ms);
    EXPECT_EQ(pa.stdp.lambda, pb.stdp.lambda);
    EXPECT_EQ(pa.stdp.alpha, pb.stdp.alpha);
    EXPECT_EQ(pa.stdp.mu_plus, pb.stdp.mu_plus);
    EXPECT_EQ(pa.stdp.mu_minus, pb.stdp.mu_minus);
    EXPECT_EQ(pa.stdp.Wmax, pb.stdp.Wmax);
    EXPECT_EQ(pa.stdp_pl.tau_plus_ms, pb.stdp_pl.tau_plus_ms);
    EXPECT_EQ(pa.stdp_pl.lambda, pb.stdp_pl.lambda);
    EXPECT_EQ(pa.stdp_pl.alpha, pb.stdp_pl.alpha);
    EXPECT_EQ(pa.stdp_pl.mu, pb.stdp_pl.mu);
  }
  ASSERT_EQ(a.network.inputs.size(), b.network.inputs.size());
  for (std::size_t i = 0; i < a.network.inputs.size(); ++i) {
    const auto& ia = a.network.inputs[i];
    const auto& ib = b.network.inputs[i];
    EXPECT_EQ(ia.name, ib.name);
    EXPECT_EQ(ia.kind, ib.kind);
    EXPECT_EQ(ia.target, ib.target);
    EXPECT_EQ(ia.neurons, ib.neurons);
    EXPECT_EQ(ia.rate_hz, ib.rate_hz);
    EXPECT_EQ(ia.indegree, ib.indegree);
    EXPECT_EQ(ia.weight, ib.weight);
    EXPECT_EQ(ia.amplitude_pA, ib.amplitude_pA);
    EXPECT_EQ(ia.start_ms, ib.start_ms);
    EXPECT_EQ(ia.stop_ms, ib.stop_ms);
    EXPECT_EQ(ia.times_ms, ib.times_ms);
    EXPECT_EQ(ia.delay_ms, ib.delay_ms);
  }
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    EXPECT_EQ(a.records[i].name, b.records[i].name);
    EXPECT_EQ(a.records[i].population, b.records[i].population);
    EXPECT_EQ(a.records[i].variables, b.records[i].variables);
    EXPECT_EQ(a.records[i].neurons, b.records[i].neurons);
    EXPECT_EQ(a.records[i].interval_ms, b.records[i].interval_ms);
  }
  ASSERT_EQ(a.weight_recordings.size(), b.weight_recordings.size());
  for (std::size_t i = 0; i < a.weight_recordings.size(); ++i) {
    const auto& wa = a.weight_recordings[i];
    const auto& wb = b.weight_recordings[i];
    EXPECT_EQ(wa.name, wb.name);
    EXPECT_EQ(wa.projection, wb.projection);
    EXPECT_EQ(wa.times_ms, wb.times_ms);
    EXPECT_EQ(wa.histogram_interval_ms, wb.histogram_interval_ms);
    EXPECT_EQ(wa.histogram_bins, wb.histogram_bins);
    EXPECT_EQ(wa.histogram_min, wb.histogram_min);
    EXPECT_EQ(wa.histogram_max, wb.histogram_max);
  }
  EXPECT_EQ(a.resolved_ini, b.resolved_ini);
}

// ---------------------------------------------------------------------------------------------
// Valid configs

TEST(Config, FullConfigFillsEverySection) {
  const run_spec spec = parse(full_config);
  EXPECT_EQ(spec.config_path, file_name);
  EXPECT_EQ(spec.simulation.name, "full_run");
  EXPECT_DOUBLE_EQ(spec.simulation.dt_ms, 0.1);
  EXPECT_DOUBLE_EQ(spec.simulation.t_stop_ms, 1000.0);
  EXPECT_EQ(spec.simulation.seed, 42u);
  EXPECT_EQ(spec.simulation.threads, 2);
  EXPECT_EQ(spec.simulation.weight_bits, 32);
  EXPECT_EQ(spec.output.dir, "results");
  EXPECT_FALSE(spec.output.spikes);
  EXPECT_DOUBLE_EQ(spec.output.flush_interval_ms, 50.0);

  ASSERT_EQ(spec.network.populations.size(), 3u);
  const auto& e = spec.network.populations[0];
  EXPECT_EQ(e.name, "L23E");
  EXPECT_EQ(e.model, neuron_model::iaf_psc_exp);
  EXPECT_EQ(e.n, 200u);
  EXPECT_DOUBLE_EQ(e.params.C_m_pF, 250.5);
  EXPECT_DOUBLE_EQ(e.params.tau_m_ms, 10.0);
  EXPECT_DOUBLE_EQ(e.params.t_ref_ms, 2.0);
  EXPECT_DOUBLE_EQ(e.params.E_L_mV, -65.0);
  EXPECT_DOUBLE_EQ(e.params.V_th_mV, -50.0);
  EXPECT_DOUBLE_EQ(e.params.V_reset_mV, -65.0);
  EXPECT_DOUBLE_EQ(e.params.I_e_pA, 5.5);
  EXPECT_DOUBLE_EQ(e.params.tau_syn_ex_ms, 0.5);
  EXPECT_DOUBLE_EQ(e.params.tau_syn_in_ms, 0.75);
  EXPECT_EQ(e.V_m_init.type, distribution::kind::normal);
  EXPECT_DOUBLE_EQ(e.V_m_init.a, -58.0);
  EXPECT_DOUBLE_EQ(e.V_m_init.b, 10.0);
  EXPECT_EQ(e.V_m_init.min, -inf);  // initial potentials get no implied bounds
  EXPECT_EQ(e.V_m_init.max, inf);
  EXPECT_EQ(e.V_m_init.text, "normal(mean=-58, std=10)");
  EXPECT_TRUE(e.record_spikes);

  const auto& i = spec.network.populations[1];
  EXPECT_EQ(i.name, "L23I");
  EXPECT_EQ(i.model, neuron_model::iaf_psc_delta);
  EXPECT_EQ(i.n, 50u);
  EXPECT_DOUBLE_EQ(i.params.V_min_mV, -80.0);
  EXPECT_TRUE(i.params.refractory_input);
  EXPECT_FALSE(i.record_spikes);
  EXPECT_TRUE(i.V_m_init.is_constant());
  EXPECT_DOUBLE_EQ(i.V_m_init.a, -70.0);

  const auto& th = spec.network.populations[2];
  EXPECT_EQ(th.model, neuron_model::iaf_psc_alpha);
  EXPECT_DOUBLE_EQ(th.params.V_min_mV, -90.0);
  EXPECT_EQ(th.V_m_init.type, distribution::kind::uniform);
  EXPECT_DOUBLE_EQ(th.V_m_init.a, -70.0);
  EXPECT_DOUBLE_EQ(th.V_m_init.b, -60.0);

  ASSERT_EQ(spec.network.projections.size(), 5u);
  const auto& ee = spec.network.projections[0];
  EXPECT_EQ(ee.name, "EE");
  EXPECT_EQ(ee.source, 0u);
  EXPECT_EQ(ee.target, 0u);
  EXPECT_EQ(ee.rule, connection_rule::fixed_indegree);
  EXPECT_EQ(ee.indegree, 20u);
  EXPECT_FALSE(ee.allow_autapses);
  EXPECT_FALSE(ee.allow_multapses);
  EXPECT_EQ(ee.weight.type, distribution::kind::normal);
  EXPECT_DOUBLE_EQ(ee.weight.a, 87.8);
  EXPECT_DOUBLE_EQ(ee.weight.b, 8.78);
  EXPECT_EQ(ee.weight.min, 0.0);  // keeps the sign of the mean
  EXPECT_EQ(ee.weight.max, inf);
  EXPECT_EQ(ee.delay_ms.type, distribution::kind::normal);
  EXPECT_DOUBLE_EQ(ee.delay_ms.min, 0.05);  // dt/2
  EXPECT_EQ(ee.synapse, synapse_model::static_synapse);

  const auto& ei = spec.network.projections[1];
  EXPECT_EQ(ei.target, 1u);
  EXPECT_EQ(ei.rule, connection_rule::fixed_total_number);
  EXPECT_EQ(ei.total, 1000u);
  EXPECT_TRUE(ei.allow_autapses);
  EXPECT_TRUE(ei.allow_multapses);
  EXPECT_TRUE(ei.weight.is_constant());
  EXPECT_DOUBLE_EQ(ei.weight.a, 0.5);
  EXPECT_TRUE(ei.delay_ms.is_constant());
  EXPECT_DOUBLE_EQ(ei.delay_ms.a, 1.5);

  const auto& ie = spec.network.projections[2];
  EXPECT_EQ(ie.rule, connection_rule::pairwise_bernoulli);
  EXPECT_DOUBLE_EQ(ie.p, 0.1);
  EXPECT_DOUBLE_EQ(ie.weight.a, -351.2);
  EXPECT_EQ(ie.weight.min, -inf);
  EXPECT_EQ(ie.weight.max, 0.0);  // inhibitory stays inhibitory
  EXPECT_EQ(ie.delay_ms.type, distribution::kind::uniform);
  EXPECT_DOUBLE_EQ(ie.delay_ms.min, 0.05);

  EXPECT_EQ(spec.network.projections[3].rule, connection_rule::one_to_one);
  const auto& the = spec.network.projections[4];
  EXPECT_EQ(the.rule, connection_rule::all_to_all);
  EXPECT_EQ(the.weight.type, distribution::kind::lognormal);
  EXPECT_DOUBLE_EQ(the.weight.a, 0.5);
  EXPECT_DOUBLE_EQ(the.weight.b, 0.2);
  EXPECT_EQ(the.weight.min, 0.0);
  EXPECT_EQ(the.weight.max, 10.0);

  ASSERT_EQ(spec.network.inputs.size(), 3u);
  const auto& bg = spec.network.inputs[0];
  EXPECT_EQ(bg.name, "bg");
  EXPECT_EQ(bg.kind, input_kind::poisson);
  EXPECT_EQ(bg.target, 0u);
  EXPECT_TRUE(bg.neurons.empty());
  EXPECT_DOUBLE_EQ(bg.rate_hz, 8.0);
  EXPECT_EQ(bg.indegree, 1600u);
  EXPECT_DOUBLE_EQ(bg.weight, 87.8);
  EXPECT_DOUBLE_EQ(bg.start_ms, 10.0);
  EXPECT_DOUBLE_EQ(bg.stop_ms, 900.0);
  const auto& dc = spec.network.inputs[1];
  EXPECT_EQ(dc.kind, input_kind::dc);
  EXPECT_EQ(dc.target, 1u);
  EXPECT_EQ(dc.neurons, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20}));
  EXPECT_DOUBLE_EQ(dc.amplitude_pA, 120.0);
  const auto& pulse = spec.network.inputs[2];
  EXPECT_EQ(pulse.kind, input_kind::spike_times);
  EXPECT_EQ(pulse.neurons, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(pulse.times_ms, (std::vector<double>{10.0, 20.5, 20.5, 30.0}));
  EXPECT_DOUBLE_EQ(pulse.weight, 100.0);
  EXPECT_DOUBLE_EQ(pulse.delay_ms, 0.5);

  ASSERT_EQ(spec.records.size(), 2u);
  EXPECT_EQ(spec.records[0].name, "vm");
  EXPECT_EQ(spec.records[0].population, 0u);
  EXPECT_EQ(spec.records[0].variables, (std::vector<std::string>{"V_m", "I_syn_ex", "I_syn_in"}));
  EXPECT_EQ(spec.records[0].neurons, (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_DOUBLE_EQ(spec.records[0].interval_ms, 1.0);
  EXPECT_EQ(spec.records[1].population, 1u);
  EXPECT_EQ(spec.records[1].neurons.size(), 50u);
}

TEST(Config, DefaultsApply) {
  const run_spec spec = parse(minimal_with(R"(
[projection.EE]
source = E
target = E
rule = fixed_indegree
indegree = 3
weight = 1.5
delay_ms = 1

[input.pulse]
type = spike_times
target = E
times_ms = 5
weight = 2

[input.bg]
type = poisson
target = E
rate_hz = 10
weight = 1

[record.vm]
population = E
variables = V_m
)"));
  EXPECT_EQ(spec.simulation.name, "test");  // the file's stem
  EXPECT_DOUBLE_EQ(spec.simulation.dt_ms, 0.1);
  EXPECT_EQ(spec.simulation.seed, 12345u);
  EXPECT_EQ(spec.simulation.threads, 1);
  EXPECT_EQ(spec.simulation.weight_bits, 16);
  EXPECT_EQ(spec.output.dir, "out");
  EXPECT_TRUE(spec.output.spikes);
  EXPECT_DOUBLE_EQ(spec.output.flush_interval_ms, 100.0);

  const auto& e = spec.network.populations.at(0);
  const neuron_parameters nest_defaults;
  EXPECT_EQ(e.params.C_m_pF, nest_defaults.C_m_pF);
  EXPECT_EQ(e.params.tau_m_ms, nest_defaults.tau_m_ms);
  EXPECT_EQ(e.params.E_L_mV, -70.0);
  EXPECT_EQ(e.params.V_th_mV, -55.0);
  EXPECT_EQ(e.params.tau_syn_ex_ms, 2.0);
  EXPECT_EQ(e.params.V_min_mV, -inf);
  EXPECT_TRUE(e.V_m_init.is_constant());
  EXPECT_EQ(e.V_m_init.a, -70.0);  // E_L
  EXPECT_TRUE(e.record_spikes);

  const auto& ee = spec.network.projections.at(0);
  EXPECT_TRUE(ee.allow_autapses);
  EXPECT_TRUE(ee.allow_multapses);
  EXPECT_EQ(ee.synapse, synapse_model::static_synapse);

  const auto& pulse = spec.network.inputs.at(0);
  EXPECT_DOUBLE_EQ(pulse.delay_ms, 0.1);  // one step
  EXPECT_EQ(pulse.start_ms, 0.0);
  EXPECT_EQ(pulse.stop_ms, inf);
  EXPECT_EQ(spec.network.inputs.at(1).indegree, 1u);

  const auto& vm = spec.records.at(0);
  EXPECT_EQ(vm.neurons.size(), 10u);
  EXPECT_EQ(vm.neurons.back(), 9u);
  EXPECT_DOUBLE_EQ(vm.interval_ms, 0.1);
}

TEST(Config, DefaultVmFollowsE_L) {
  const run_spec spec = parse(minimal_with("E_L = -65\nV_reset = -66\n"));
  EXPECT_EQ(spec.network.populations[0].V_m_init.a, -65.0);
}

TEST(Config, SyntaxDetails) {
  // Comments with '#' and ';', whitespace, CRLF line ends, yes/no bools, a '+' sign.
  const run_spec spec = parse(
      "; leading comment\r\n"
      "[ simulation ]\r\n"
      "  t_stop_ms=+100   # inline\r\n"
      "dt_ms = 1e-1 ; inline\r\n"
      "[population.A-1_b]\r\n"
      "model = iaf_psc_delta\r\n"
      "n = 1\r\n"
      "record_spikes = No\r\n");
  EXPECT_EQ(spec.simulation.t_stop_ms, 100.0);
  EXPECT_EQ(spec.simulation.dt_ms, 0.1);
  EXPECT_EQ(spec.network.populations[0].name, "A-1_b");
  EXPECT_FALSE(spec.network.populations[0].record_spikes);
}

TEST(Config, TStopMayBeAnyMultipleOfDt) {
  EXPECT_NO_THROW(parse(minimal_config, {"simulation.t_stop_ms=0.3"}));  // 0.3/0.1 is not exactly 3
  EXPECT_NO_THROW(parse(minimal_config, {"simulation.dt_ms=0.025", "simulation.t_stop_ms=1234.575"}));
}

TEST(Config, LoadConfigReadsFileAndNamesRunAfterStem) {
  const auto directory = std::filesystem::temp_directory_path() / ("myelin-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const auto path = (directory / "pd14_small.ini").string();
  {
    std::ofstream file(path);
    file << minimal_config << "tau_m = abc\n";
  }
  try {
    load_config(path);
    ADD_FAILURE() << "expected a config_error";
  } catch (const config_error& error) {
    expect_contains(error.what(), {path + ":7: [population.E] key 'tau_m'", "got 'abc'"});
  }
  {
    std::ofstream file(path);
    file << minimal_config;
  }
  const run_spec spec = load_config(path, {"simulation.seed=7"});
  EXPECT_EQ(spec.config_path, path);
  EXPECT_EQ(spec.simulation.name, "pd14_small");
  EXPECT_EQ(spec.simulation.seed, 7u);
  std::filesystem::remove_all(directory);
}

// ---------------------------------------------------------------------------------------------
// Overrides

TEST(ConfigOverrides, ReplaceCreateAndSectionWithDot) {
  const std::string config = minimal_with(R"(
[projection.EE]
source = E
target = E
rule = fixed_indegree
indegree = 3
weight = 1.5
delay_ms = 1
)");
  const run_spec spec = parse(config, {"projection.EE.weight=-0.5", "population.E.tau_m = 20",
                                       "simulation.t_stop_ms=200", "simulation.t_stop_ms=300", "output.dir=elsewhere"});
  EXPECT_TRUE(spec.network.projections[0].weight.is_constant());
  EXPECT_EQ(spec.network.projections[0].weight.a, -0.5);
  EXPECT_EQ(spec.network.populations[0].params.tau_m_ms, 20.0);  // key absent from the file
  EXPECT_EQ(spec.simulation.t_stop_ms, 300.0);                   // later overrides win
  EXPECT_EQ(spec.output.dir, "elsewhere");                       // section absent from the file
}

TEST(ConfigOverrides, DistributionValueContainsEqualsSigns) {
  const std::string config = minimal_with(R"(
[projection.EE]
source = E
target = E
rule = all_to_all
weight = 1.5
delay_ms = 1
)");
  const run_spec spec = parse(config, {"projection.EE.weight=normal(mean=-2, std=0.5)"});
  const auto& weight = spec.network.projections[0].weight;
  EXPECT_EQ(weight.type, distribution::kind::normal);
  EXPECT_EQ(weight.a, -2.0);
  EXPECT_EQ(weight.max, 0.0);
  EXPECT_EQ(weight.text, "normal(mean=-2, std=0.5)");
}

TEST(ConfigOverrides, CanCreateWholeSection) {
  const run_spec spec =
      parse(minimal_config, {"input.drive.type=dc", "input.drive.target=E", "input.drive.amplitude_pA=300"});
  ASSERT_EQ(spec.network.inputs.size(), 1u);
  EXPECT_EQ(spec.network.inputs[0].name, "drive");
  EXPECT_EQ(spec.network.inputs[0].amplitude_pA, 300.0);
}

TEST(ConfigOverrides, Errors) {
  expect_contains(error_of(minimal_config, {"population.E.n=abc"}),
                  {"--set population.E.n=abc: [population.E] key 'n': expected an integer > 0, got 'abc'"});
  expect_contains(error_of(minimal_config, {"population.E.tau=5"}),
                  {"--set population.E.tau=5: [population.E] key 'tau': unknown key", "tau_m"});
  expect_contains(error_of(minimal_config, {"plasticity.every_ms=5"}),
                  {"--set plasticity.every_ms=5: [plasticity]: unknown section type 'plasticity'"});
  expect_contains(error_of(minimal_config, {"t_stop_ms=5"}), {"--set t_stop_ms=5: expected section.key=value"});
  expect_contains(error_of(minimal_config, {"simulation.t_stop_ms"}),
                  {"--set simulation.t_stop_ms: expected section.key=value"});
  // A section created by --set still needs its required keys.
  expect_contains(error_of(minimal_config, {"input.drive.type=dc"}),
                  {"configs/test.ini: [input.drive]: missing required key 'target'"});
}

// ---------------------------------------------------------------------------------------------
// Errors, each with file, line, section, key and value

TEST(ConfigErrors, MissingFile) {
  try {
    load_config("/nonexistent/dir/x.ini");
    ADD_FAILURE() << "expected a config_error";
  } catch (const config_error& error) {
    EXPECT_STREQ(error.what(), "/nonexistent/dir/x.ini: cannot open config file");
  }
}

TEST(ConfigCheckpoint, SectionIsReadWithDefaults) {
  const run_spec defaults = parse_config(minimal_config, "configs/test.ini");
  EXPECT_EQ(defaults.checkpoint.interval_ms, 0.0);
  EXPECT_EQ(defaults.checkpoint.keep, 3);
  EXPECT_TRUE(defaults.checkpoint.directory.empty());
  const run_spec set = parse_config(minimal_with("\n[checkpoint]\ninterval_ms = 250\nkeep = 5\ndirectory = /scratch/ck\n"),
                                    "configs/test.ini");
  EXPECT_EQ(set.checkpoint.interval_ms, 250.0);
  EXPECT_EQ(set.checkpoint.keep, 5);
  EXPECT_EQ(set.checkpoint.directory, "/scratch/ck");
  expect_contains(error_of(minimal_config, {"checkpoint.keep=0"}), {"checkpoint.keep=0", "keep"});
  expect_contains(error_of(minimal_config, {"checkpoint.interval_ms=-1"}), {"interval_ms"});
}

TEST(ConfigErrors, UnknownSectionType) {
  const std::string config = minimal_with("\n[plasticity]\nevery_ms = 100\n");
  expect_contains(error_of(config), {at_line_of(config, "[plasticity]") + ": [plasticity]: unknown section type "
                                                                          "'plasticity'",
                                     "population.NAME"});
  expect_contains(error_of(minimal_with("\n[population]\nmodel = iaf_psc_exp\n")),
                  {"[population]: expected [population.NAME]"});
  expect_contains(error_of(minimal_with("\n[simulation.x]\n")), {"expected [simulation] without a name"});
}

TEST(ConfigErrors, UnknownKeySuggestsTheKnownOne) {
  const std::string config = minimal_with("tau_m_ms = 20\n");
  expect_contains(error_of(config), {at_line_of(config, "tau_m_ms") + ": [population.E] key 'tau_m_ms': unknown key",
                                     "did you mean 'tau_m'?", "C_m"});
  expect_contains(error_of(minimal_with("c_m = 200\n")), {"did you mean 'C_m'?"});
  expect_contains(error_of("[simulation]\ndt = 0.1\n"), {"[simulation] key 'dt'", "did you mean 'dt_ms'?"});
}

TEST(ConfigErrors, DuplicatedSectionAndKey) {
  const std::string config = minimal_with("\n[population.E]\nmodel = iaf_psc_exp\n");
  const std::string message = error_of(config);
  expect_contains(message, {file_name + ":8: [population.E]: duplicated section", "first at " + file_name + ":4"});
  expect_contains(error_of(minimal_with("n = 20\n")),
                  {file_name + ":7: [population.E] key 'n': duplicated key", "first at " + file_name + ":6"});
}

TEST(ConfigErrors, MalformedLines) {
  expect_contains(error_of("t_stop_ms = 5\n"), {file_name + ":1: key 't_stop_ms' comes before any [section]"});
  expect_contains(error_of(minimal_with("just words\n")),
                  {file_name + ":7: expected 'key = value' or a [section] header, got 'just words'"});
  expect_contains(error_of("[simulation\n"), {file_name + ":1: expected a section header"});
  expect_contains(error_of("[population.a b]\n"), {file_name + ":1: expected a section header"});
}

TEST(ConfigErrors, MissingRequiredKeys) {
  expect_contains(
      error_of("[population.E]\nmodel = iaf_psc_exp\nn = 1\n"),
      {file_name + ": [simulation]: missing required key 't_stop_ms' (simulated time in ms, a number > 0)"});
  expect_contains(
      error_of("[simulation]\nt_stop_ms = 1\n[population.E]\nn = 1\n"),
      {file_name + ": [population.E]: missing required key 'model'", "iaf_psc_delta, iaf_psc_exp or iaf_psc_alpha"});
  expect_contains(error_of("[simulation]\nt_stop_ms = 1\n[population.E]\nmodel = iaf_psc_exp\n"),
                  {"[population.E]: missing required key 'n' (number of neurons, an integer > 0)"});
  expect_contains(
      error_of(minimal_with("\n[projection.EE]\nsource = E\ntarget = E\nrule = all_to_all\ndelay_ms = 1\n")),
      {"[projection.EE]: missing required key 'weight'", "normal(mean=87.8, std=8.78)"});
  expect_contains(error_of(minimal_with("\n[projection.EE]\nsource = E\ntarget = E\nrule = all_to_all\nweight = 1\n")),
                  {"[projection.EE]: missing required key 'delay_ms'"});
  expect_contains(error_of(minimal_with("\n[projection.EE]\ntarget = E\n")),
                  {"[projection.EE]: missing required key 'source'"});
  expect_contains(error_of(minimal_with("\n[projection.EE]\nsource = E\ntarget = E\nrule = fixed_indegree\n")),
                  {"[projection.EE]: missing required key 'indegree'"});
  expect_contains(error_of(minimal_with("\n[input.bg]\ntype = poisson\ntarget = E\nweight = 1\n")),
                  {"[input.bg]: missing required key 'rate_hz'"});
  expect_contains(error_of(minimal_with("\n[record.v]\npopulation = E\n")),
                  {"[record.v]: missing required key 'variables'"});
  expect_contains(error_of("[simulation]\nt_stop_ms = 1\n"),
                  {file_name + ": no [population.NAME] section; at least one population is required"});
}

TEST(ConfigErrors, WrongTypes) {
  std::string config = "[simulation]\nt_stop_ms = 100\n[population.E]\nmodel = iaf_psc_exp\nn = 2.5\n";
  expect_contains(error_of(config), {file_name + ":5: [population.E] key 'n': expected an integer > 0, got '2.5'"});
  config = "[simulation]\nt_stop_ms = 100\n[population.E]\nmodel = iaf_psc_exp\nn = abc\n";
  expect_contains(error_of(config), {file_name + ":5: [population.E] key 'n': expected an integer > 0, got 'abc'"});
  expect_contains(
      error_of(minimal_with("record_spikes = maybe\n")),
      {file_name + ":7: [population.E] key 'record_spikes': expected a bool (true, false, 1, 0, yes or no), "
                   "got 'maybe'"});
  expect_contains(error_of("[simulation]\nt_stop_ms = 100\ndt_ms = fast\n"),
                  {file_name + ":3: [simulation] key 'dt_ms': expected a number > 0, got 'fast'"});
  expect_contains(error_of(minimal_with("C_m = nan\n")), {"key 'C_m': expected a number > 0, got 'nan'"});
  expect_contains(error_of(minimal_with("model = iaf_cond_exp\n")), {"duplicated key"});
  expect_contains(error_of("[simulation]\nt_stop_ms = 1\n[population.E]\nmodel = iaf_cond_exp\nn = 1\n"),
                  {file_name + ":4: [population.E] key 'model': expected one of iaf_psc_delta, iaf_psc_exp or "
                               "iaf_psc_alpha, got 'iaf_cond_exp'"});
  expect_contains(error_of(minimal_config, {"simulation.seed=-1"}), {"key 'seed': expected an integer >= 0, got '-1'"});
  expect_contains(error_of(minimal_config, {"simulation.seed=18446744073709551616"}),
                  {"key 'seed': expected an integer >= 0"});
}

TEST(ConfigErrors, OutOfRange) {
  const auto expect_error = [](const std::string& config, std::initializer_list<std::string_view> parts) {
    expect_contains(error_of(config), parts);
  };
  expect_error("[simulation]\nt_stop_ms = 100\ndt_ms = 0\n",
               {":3: [simulation] key 'dt_ms': expected a number > 0, got '0'"});
  expect_error("[simulation]\nt_stop_ms = 100.05\n",
               {":2: [simulation] key 't_stop_ms': expected a multiple of dt_ms = 0.1", "got '100.05'"});
  expect_error("[simulation]\nt_stop_ms = 100\nweight_bits = 8\n", {"key 'weight_bits': expected 16", "got '8'"});
  expect_error("[simulation]\nt_stop_ms = 100\nthreads = 0\n",
               {"key 'threads': expected an integer in [1, ", "got '0'"});
  expect_error("[simulation]\nt_stop_ms = 100\n[output]\nflush_interval_ms = 0\n",
               {":4: [output] key 'flush_interval_ms'"});
  expect_error(minimal_with("C_m = -1\n"), {":7: [population.E] key 'C_m': expected a number > 0, got '-1'"});
  expect_error(minimal_with("tau_m = 0\n"), {"key 'tau_m': expected a number > 0, got '0'"});
  expect_error(minimal_with("t_ref = -0.5\n"), {"key 't_ref': expected a number >= 0, got '-0.5'"});
  expect_error(minimal_with("tau_syn_in = 0\n"), {"key 'tau_syn_in': expected a number > 0, got '0'"});
  expect_error(minimal_with("V_reset = -50\n"),
               {":7: [population.E] key 'V_reset': expected a number < V_th = -55, got '-50'"});
  expect_error(minimal_with("V_th = -75\n"), {"key 'V_th': expected a number > V_reset = -70, got '-75'"});
  expect_error("[simulation]\nt_stop_ms = 1\n[population.E]\nmodel = iaf_psc_delta\nn = 1\nV_min = -60\n",
               {"key 'V_min': expected a number <= V_reset = -70"});
  expect_error(minimal_with("n = 0\n"), {"duplicated key"});
  expect_error("[simulation]\nt_stop_ms = 1\n[population.E]\nmodel = iaf_psc_exp\nn = 0\n",
               {":5: [population.E] key 'n': expected an integer > 0, got '0'"});
}

TEST(ConfigErrors, ModelSpecificKeys) {
  const std::string delta = "[simulation]\nt_stop_ms = 1\n[population.I]\nmodel = iaf_psc_delta\nn = 5\n";
  expect_contains(
      error_of(delta + "tau_syn_ex = 0.5\n"),
      {file_name + ":6: [population.I] key 'tau_syn_ex' = '0.5': iaf_psc_delta has no synaptic time constants"});
  expect_contains(error_of(minimal_with("V_min = -80\n")),
                  {":7: [population.E] key 'V_min' = '-80': not a parameter of iaf_psc_exp"});
  expect_contains(error_of(minimal_with("refractory_input = true\n")),
                  {"key 'refractory_input' = 'true': not a parameter of iaf_psc_exp (only of iaf_psc_delta)"});
  const std::string record = delta + "\n[record.v]\npopulation = I\nvariables = V_m, I_syn_ex\n";
  expect_contains(error_of(record), {file_name + ":9: [record.v] key 'variables': expected V_m (iaf_psc_delta has no "
                                                 "synaptic currents), got 'V_m, I_syn_ex'"});
  expect_contains(error_of(minimal_with("\n[record.v]\npopulation = E\nvariables = V_m, g_ex\n")),
                  {"key 'variables': expected a comma list of V_m, I_syn_ex, I_syn_in, got 'V_m, g_ex'"});
  expect_contains(error_of(minimal_with("\n[record.v]\npopulation = E\nvariables = V_m, V_m\n")), {"each once"});
}

const std::string two_populations = R"([simulation]
t_stop_ms = 100
[population.E]
model = iaf_psc_exp
n = 10
[population.I]
model = iaf_psc_exp
n = 4
)";

std::string projection(const std::string& keys) {
  return two_populations + "[projection.P]\n" + keys + "weight = 1\ndelay_ms = 1\n";
}

TEST(ConfigErrors, Projections) {
  std::string config = projection("source = L5E\ntarget = E\nrule = all_to_all\n");
  expect_contains(error_of(config), {at_line_of(config, "source = L5E") +
                                     ": [projection.P] key 'source': expected the name of a population (known: E, I), "
                                     "got 'L5E'"});
  config = projection("source = E\ntarget = X\nrule = all_to_all\n");
  expect_contains(error_of(config), {"key 'target': expected the name of a population (known: E, I), got 'X'"});
  config = projection("source = E\ntarget = I\nrule = one_to_one\n");
  expect_contains(error_of(config), {at_line_of(config, "rule = one_to_one") +
                                     ": [projection.P] key 'rule': expected "
                                     "source and target of equal n for one_to_one (E has 10, I has 4)"});
  config = projection("source = E\ntarget = I\nrule = random\n");
  expect_contains(error_of(config),
                  {"key 'rule': expected one of fixed_indegree, fixed_total_number, pairwise_bernoulli, "
                   "one_to_one or all_to_all, got 'random'"});
  config = projection("source = E\ntarget = I\nrule = fixed_indegree\nindegree = 11\nallow_multapses = false\n");
  expect_contains(error_of(config), {at_line_of(config, "indegree = 11") + ": [projection.P] key 'indegree': expected "
                                                                           "an indegree <= 10",
                                     "got '11'"});
  EXPECT_NO_THROW(
      parse(projection("source = E\ntarget = I\nrule = fixed_indegree\nindegree = 10\nallow_multapses = false\n")));
  EXPECT_NO_THROW(parse(projection("source = E\ntarget = I\nrule = fixed_indegree\nindegree = 11\n")));
  config = projection(
      "source = E\ntarget = E\nrule = fixed_indegree\nindegree = 10\nallow_multapses = 0\nallow_autapses = 0\n");
  expect_contains(error_of(config), {"expected an indegree <= 9", "without multapses or autapses", "got '10'"});
  config = projection(
      "source = E\ntarget = E\nrule = fixed_total_number\nN = 91\nallow_multapses = 0\nallow_autapses = 0\n");
  expect_contains(error_of(config), {"key 'N': expected N <= 90", "got '91'"});
  config = projection("source = E\ntarget = I\nrule = pairwise_bernoulli\np = 1.5\n");
  expect_contains(error_of(config), {"key 'p': expected a number in [0, 1], got '1.5'"});
  config = projection("source = E\ntarget = I\nrule = pairwise_bernoulli\np = 0.5\nindegree = 3\n");
  expect_contains(error_of(config), {at_line_of(config, "indegree = 3") +
                                     ": [projection.P] key 'indegree' = '3': used only "
                                     "by rule fixed_indegree, not by this projection's rule pairwise_bernoulli"});
  config = two_populations + "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = 1\ndelay_ms = 0.05\n";
  expect_contains(error_of(config), {at_line_of(config, "delay_ms") +
                                     ": [projection.P] key 'delay_ms': expected a delay >= "
                                     "dt_ms = 0.1 or a distribution like normal(mean=1.5, std=0.75), got '0.05'"});
  config = two_populations + "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = abc\ndelay_ms = 1\n";
  expect_contains(error_of(config),
                  {at_line_of(config, "weight = abc") + ": [projection.P] key 'weight': expected a number "
                                                        "or a distribution like normal(mean=87.8, std=8.78)",
                   "got 'abc'"});
  config = projection("source = E\ntarget = I\nrule = all_to_all\nsynapse = tsodyks\n");
  expect_contains(error_of(config), {at_line_of(config, "synapse = tsodyks") +
                                     ": [projection.P] key 'synapse': expected one of static, stdp or stdp_pl, "
                                     "got 'tsodyks'"});
  config = two_populations +
           "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = 1\n"
           "delay_ms = normal(mean=0.01, std=0.001)\n";
  expect_contains(error_of(config), {"key 'delay_ms': expected min/max keeping at least 0.1% of the draws",
                                     "delays without min get min = dt_ms/2"});
}

std::string input(const std::string& keys) { return two_populations + "[input.in]\n" + keys; }

TEST(ConfigErrors, Inputs) {
  std::string config = input("type = dc\ntarget = E\namplitude_pA = 1\nneurons = 0:11\n");
  expect_contains(error_of(config),
                  {at_line_of(config, "neurons") + ": [input.in] key 'neurons': expected node ids < 10", "got '0:11'"});
  config = input("type = dc\ntarget = E\namplitude_pA = 1\nneurons = 10\n");
  expect_contains(error_of(config), {"expected node ids < 10", "got '10'"});
  config = input("type = dc\ntarget = E\namplitude_pA = 1\nneurons = 1:x\n");
  expect_contains(error_of(config), {"expected node ids like 0,1,5 or 0:100 (0..99) or 0:10,20, got '1:x'"});
  config = input("type = dc\ntarget = E\namplitude_pA = 1\nneurons = 0:5,3\n");
  expect_contains(error_of(config), {"expected distinct node ids (3 is listed more than once)"});
  config = input("type = dc\ntarget = E\namplitude_pA = 1\nneurons = 5:5\n");
  expect_contains(error_of(config), {"end > first"});
  config = input("type = spike_times\ntarget = E\ntimes_ms = 5, 3\nweight = 1\n");
  expect_contains(error_of(config),
                  {at_line_of(config, "times_ms") + ": [input.in] key 'times_ms': expected non-decreasing "
                                                    "times (3 comes after 5), got '5, 3'"});
  config = input("type = spike_times\ntarget = E\ntimes_ms = -1\nweight = 1\n");
  expect_contains(error_of(config), {"key 'times_ms': expected comma-separated non-negative", "got '-1'"});
  config = input("type = spike_times\ntarget = E\ntimes_ms = 1\nweight = 1\ndelay_ms = 0.05\n");
  expect_contains(error_of(config), {"key 'delay_ms': expected a delay >= dt_ms = 0.1, got '0.05'"});
  config = input("type = dc\ntarget = E\namplitude_pA = 1\nstart_ms = 50\nstop_ms = 50\n");
  expect_contains(
      error_of(config),
      {at_line_of(config, "stop_ms = 50") + ": [input.in] key 'stop_ms': expected stop_ms > start_ms", "got '50'"});
  config = input("type = poisson\ntarget = E\nrate_hz = 5\nweight = 1\namplitude_pA = 3\n");
  expect_contains(error_of(config),
                  {at_line_of(config, "amplitude_pA") + ": [input.in] key 'amplitude_pA' = '3': used only "
                                                        "by type dc, not by this input's type poisson"});
  config = input("type = poisson\ntarget = E\nrate_hz = -5\nweight = 1\n");
  expect_contains(error_of(config), {"key 'rate_hz': expected a number >= 0, got '-5'"});
  config = input("type = poisson\ntarget = E\nrate_hz = 5\nweight = 1\nindegree = 0\n");
  expect_contains(error_of(config), {"key 'indegree': expected an integer > 0, got '0'"});
  config = input("type = noise\ntarget = E\n");
  expect_contains(error_of(config), {"key 'type': expected one of poisson, dc or spike_times, got 'noise'"});
  config = input("type = dc\ntarget = E\n");
  expect_contains(error_of(config), {"[input.in]: missing required key 'amplitude_pA'"});
  EXPECT_NO_THROW(parse(input("type = dc\ntarget = E\namplitude_pA = 1\nstop_ms = inf\n")));
}

TEST(ConfigErrors, Records) {
  std::string config = two_populations + "[record.r]\npopulation = E\nvariables = V_m\ninterval_ms = 0.25\n";
  expect_contains(error_of(config), {at_line_of(config, "interval_ms") + ": [record.r] key 'interval_ms': expected a "
                                                                         "multiple of dt_ms = 0.1",
                                     "got '0.25'"});
  config = two_populations + "[record.r]\npopulation = E\nvariables = V_m\ninterval_ms = 0.05\n";
  expect_contains(error_of(config), {"key 'interval_ms': expected a multiple of dt_ms = 0.1", "got '0.05'"});
  config = two_populations + "[record.r]\npopulation = F\nvariables = V_m\n";
  expect_contains(error_of(config), {"key 'population': expected the name of a population (known: E, I), got 'F'"});
  config = two_populations + "[record.r]\npopulation = I\nvariables = V_m\nneurons = 2:6\n";
  expect_contains(error_of(config), {"key 'neurons': expected node ids < 4", "got '2:6'"});
}

// ---------------------------------------------------------------------------------------------
// Plastic synapses: synapse = stdp | stdp_pl with NEST's parameter names; tau_minus on the target

TEST(ConfigPlasticity, StdpAndStdpPlWithTheirParameters) {
  const run_spec spec = parse(plastic_config);
  const auto& E = spec.network.populations.at(0);
  const auto& I = spec.network.populations.at(1);
  EXPECT_EQ(E.tau_minus_ms, 30.0);
  EXPECT_EQ(I.tau_minus_ms, 20.0);  // NEST's default

  const auto& ee = spec.network.projections.at(0);
  EXPECT_EQ(ee.synapse, synapse_model::stdp_pl);
  EXPECT_TRUE(ee.is_plastic());
  EXPECT_EQ(ee.stdp_pl.tau_plus_ms, 15.0);
  EXPECT_EQ(ee.stdp_pl.lambda, 0.1);
  EXPECT_EQ(ee.stdp_pl.alpha, 0.0513);
  EXPECT_EQ(ee.stdp_pl.mu, 0.4);

  const auto& ie = spec.network.projections.at(1);
  EXPECT_EQ(ie.synapse, synapse_model::stdp);
  EXPECT_EQ(ie.stdp.tau_plus_ms, 16.8);
  EXPECT_EQ(ie.stdp.lambda, 0.005);
  EXPECT_EQ(ie.stdp.alpha, 1.05);
  EXPECT_EQ(ie.stdp.mu_plus, 0.0);
  EXPECT_EQ(ie.stdp.mu_minus, 0.0);
  EXPECT_EQ(ie.stdp.Wmax, 2.0);

  const auto& inhibitory = spec.network.projections.at(2);  // negative weights, negative Wmax
  EXPECT_EQ(inhibitory.synapse, synapse_model::stdp);
  EXPECT_EQ(inhibitory.stdp.Wmax, -10.0);
  EXPECT_EQ(inhibitory.stdp.lambda, 0.01);  // NEST's defaults for the rest
  EXPECT_EQ(inhibitory.stdp.alpha, 1.0);
  EXPECT_EQ(inhibitory.stdp.mu_plus, 1.0);
  EXPECT_EQ(inhibitory.stdp.tau_plus_ms, 20.0);
  EXPECT_FALSE(spec.network.projections.at(3).is_plastic());

  // Defaults of stdp_pl are NEST's stdp_pl_synapse_hom's.
  const run_spec defaults = parse(plastic_config, {"projection.EE.tau_plus=20"});
  EXPECT_EQ(defaults.network.projections[0].stdp_pl.tau_plus_ms, 20.0);
  const stdp_pl_parameters nest;
  EXPECT_EQ(nest.lambda, 0.1);
  EXPECT_EQ(nest.alpha, 1.0);
  EXPECT_EQ(nest.mu, 0.4);
  const stdp_parameters nest_stdp;
  EXPECT_EQ(nest_stdp.Wmax, 100.0);
  EXPECT_EQ(nest_stdp.lambda, 0.01);
}

TEST(ConfigPlasticity, ResolvedIniWritesWhatIsUsed) {
  const std::string& ini = parse(plastic_config).resolved_ini;
  const std::vector<std::string_view> in_order = {
      "[population.E]", "V_min", "tau_minus = 30", "V_m", "[population.I]", "refractory_input", "tau_minus = 20",
      "[projection.EE]", "synapse = stdp_pl", "tau_plus = 15", "lambda = 0.1", "alpha = 0.0513", "mu = 0.4",
      "[projection.IE]", "synapse = stdp",    "tau_plus = 16.8", "lambda = 0.005", "alpha = 1.05", "mu_plus = 0",
      "mu_minus = 0",    "Wmax = 2",          "[projection.II]"};
  std::size_t position = 0;
  for (const auto part : in_order) {
    const auto found = ini.find(part, position);
    ASSERT_NE(found, std::string::npos) << "'" << part << "' missing or out of order in:\n" << ini;
    position = found + part.size();
  }
  // A static network's resolved config (hence a checkpoint's fingerprint) has no STDP key.
  const std::string& plain = parse(full_config).resolved_ini;
  for (const auto key : {"tau_minus", "tau_plus", "lambda", "Wmax", "mu ="})
    EXPECT_EQ(plain.find(key), std::string::npos) << key;
}

TEST(ConfigPlasticity, Errors) {
  const auto base = [](const std::string& synapse_keys, const std::string& weight = "1") {
    return two_populations + "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = " + weight +
           "\ndelay_ms = 1\n" + synapse_keys;
  };
  // Keys of another synapse model.
  std::string config = base("tau_plus = 10\n");
  expect_contains(error_of(config), {at_line_of(config, "tau_plus") +
                                     ": [projection.P] key 'tau_plus' = '10': used only by synapse stdp and stdp_pl, "
                                     "not by this projection's synapse static"});
  config = base("synapse = stdp_pl\nWmax = 10\n");
  expect_contains(error_of(config), {at_line_of(config, "Wmax") + ": [projection.P] key 'Wmax' = '10': used only by "
                                                                  "synapse stdp, not by this projection's synapse "
                                                                  "stdp_pl"});
  config = base("synapse = stdp\nmu = 0.4\n");
  expect_contains(error_of(config),
                  {"key 'mu' = '0.4': used only by synapse stdp_pl, not by this projection's synapse stdp"});
  expect_contains(error_of(base("synapse = stdp\nmu_plus = 1\n"), {"projection.P.synapse=static"}),
                  {"key 'mu_plus' = '1': used only by synapse stdp"});
  // Ranges.
  config = base("synapse = stdp\ntau_plus = 0\n");
  expect_contains(error_of(config),
                  {at_line_of(config, "tau_plus") + ": [projection.P] key 'tau_plus': expected a number > 0, got '0'"});
  expect_contains(error_of(base("synapse = stdp_pl\nlambda = -0.1\n")),
                  {"key 'lambda': expected a number >= 0, got '-0.1'"});
  expect_contains(error_of(base("synapse = stdp\nalpha = -1\n")), {"key 'alpha': expected a number >= 0, got '-1'"});
  expect_contains(error_of(base("synapse = stdp\nmu_minus = -0.5\n")), {"key 'mu_minus': expected a number >= 0"});
  expect_contains(error_of(base("synapse = stdp_pl\nmu = abc\n")), {"key 'mu': expected a number >= 0, got 'abc'"});
  config = base("synapse = stdp\nWmax = 0\n");
  expect_contains(error_of(config), {at_line_of(config, "Wmax") + ": [projection.P] key 'Wmax': expected a nonzero "
                                                                  "number (the bound of the weights, with their "
                                                                  "sign), got '0'"});
  // Weights where the rule keeps them.
  config = base("synapse = stdp\nWmax = 10\n", "20");
  expect_contains(error_of(config), {at_line_of(config, "weight = 20") +
                                     ": [projection.P] key 'weight': expected weights in [0, 10] for synapse stdp "
                                     "with Wmax = 10",
                                     "got '20'"});
  expect_contains(error_of(base("synapse = stdp\n", "-1")), {"expected weights in [0, 100] for synapse stdp"});
  expect_contains(error_of(base("synapse = stdp\nWmax = -5\n", "1")), {"expected weights in [-5, 0]"});
  expect_contains(error_of(base("synapse = stdp\nWmax = 10\n", "normal(mean=5, std=1)")),
                  {"expected weights in [0, 10]", "a distribution needs min and max inside",
                   "got 'normal(mean=5, std=1)'"});
  EXPECT_NO_THROW(parse(base("synapse = stdp\nWmax = 10\n", "normal(mean=5, std=1, max=10)")));
  EXPECT_NO_THROW(parse(base("synapse = stdp\nWmax = 10\n", "uniform(low=0, high=10)")));
  EXPECT_NO_THROW(parse(base("synapse = stdp\nWmax = -10\n", "normal(mean=-5, std=1, min=-10)")));
  expect_contains(error_of(base("synapse = stdp_pl\n", "-45")),
                  {"key 'weight': expected weights >= 0 for synapse stdp_pl", "got '-45'"});
  expect_contains(error_of(base("synapse = stdp_pl\n", "normal(mean=45, std=5, min=-inf)")),
                  {"expected weights >= 0 for synapse stdp_pl"});
  EXPECT_NO_THROW(parse(base("synapse = stdp_pl\n", "normal(mean=45, std=5)")));  // min = 0 implied
  EXPECT_NO_THROW(parse(base("synapse = stdp_pl\n", "lognormal(mu=3, sigma=0.5)")));
  // tau_minus only where a plastic projection ends.
  config = two_populations + "tau_minus = 25\n";
  expect_contains(error_of(config), {at_line_of(config, "tau_minus") +
                                     ": [population.I] key 'tau_minus' = '25': used only by a population that a "
                                     "projection with synapse stdp or stdp_pl targets",
                                     "none targets I"});
  EXPECT_NO_THROW(parse(config + "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = 1\n"
                                 "delay_ms = 1\nsynapse = stdp\n"));
  config = base("synapse = stdp\n");
  expect_contains(error_of(config, {"population.I.tau_minus=0"}),
                  {"--set population.I.tau_minus=0: [population.I] key 'tau_minus': expected a number > 0, got '0'"});
  expect_contains(error_of(config, {"population.E.tau_minus=30"}), {"none targets E"});
  // tau_minus is the target neurons' parameter, as in NEST.
  config = base("synapse = stdp\ntau_minus = 30\n");
  expect_contains(error_of(config), {at_line_of(config, "tau_minus") +
                                     ": [projection.P] key 'tau_minus': unknown key of [projection.NAME]",
                                     "set tau_minus in the target's [population.NAME]"});
  // Typos are caught by name.
  expect_contains(error_of(base("synapse = stdp\nwmax = 3\n")), {"unknown key", "did you mean 'Wmax'?"});
  expect_contains(error_of(base("synapse = stdp\ntau_plus_ms = 3\n")), {"did you mean 'tau_plus'?"});
}

// ---------------------------------------------------------------------------------------------
// Weight recordings: [weights.NAME] of a plastic projection, snapshots and histograms

// plastic_config's projections: EE stdp_pl (weight 45.6), IE stdp (Wmax 2), II stdp (Wmax -10),
// EI static; t_stop_ms = 100, dt_ms = 0.1.
std::string weights(const std::string& keys) { return plastic_config + "\n[weights.w]\n" + keys; }

TEST(ConfigWeights, SnapshotsAndHistogramsWithTheirDefaults) {
  run_spec spec = parse(weights("projection = IE\ntimes_ms = 0, 50.5, 100\nhistogram_interval_ms = 10\n"));
  ASSERT_EQ(spec.weight_recordings.size(), 1u);
  const weight_recording_spec& ie = spec.weight_recordings[0];
  EXPECT_EQ(ie.name, "w");
  EXPECT_EQ(ie.projection, 1u);
  EXPECT_EQ(ie.times_ms, (std::vector<double>{0.0, 50.5, 100.0}));
  EXPECT_EQ(ie.histogram_interval_ms, 10.0);
  EXPECT_TRUE(ie.has_histograms());
  EXPECT_EQ(ie.histogram_bins, 50u);
  EXPECT_EQ(ie.histogram_min, 0.0);  // stdp: between 0 and Wmax
  EXPECT_EQ(ie.histogram_max, 2.0);

  // Negative Wmax (inhibitory stdp): the range is [Wmax, 0].
  spec = parse(weights("projection = II\nhistogram_interval_ms = 0.1\n"));
  EXPECT_EQ(spec.weight_recordings[0].histogram_min, -10.0);
  EXPECT_EQ(spec.weight_recordings[0].histogram_max, 0.0);
  EXPECT_TRUE(spec.weight_recordings[0].times_ms.empty());

  // stdp_pl has no bound: twice the largest initial weight (network_layout's magnitude_bound).
  spec = parse(weights("projection = EE\nhistogram_interval_ms = 5\n"));
  EXPECT_EQ(spec.weight_recordings[0].projection, 0u);
  EXPECT_EQ(spec.weight_recordings[0].histogram_min, 0.0);
  EXPECT_EQ(spec.weight_recordings[0].histogram_max, 2 * 45.6);
  spec = parse(weights("projection = EE\nhistogram_interval_ms = 5\n"), {"projection.EE.weight=uniform(40, 60)"});
  EXPECT_EQ(spec.weight_recordings[0].histogram_max, 120.0);
  spec = parse(weights("projection = EE\nhistogram_interval_ms = 5\n"), {"projection.EE.weight=normal(45, 5)"});
  EXPECT_EQ(spec.weight_recordings[0].histogram_max, 2 * (45.0 + 8 * 5.0));  // mean + 8 std
  EXPECT_EQ(spec.weight_recordings[0].histogram_max,
            2 * magnitude_bound(spec.network.projections[0].weight));

  // Snapshots only: no histograms.
  spec = parse(weights("projection = EE\ntimes_ms = 100\n"));
  EXPECT_FALSE(spec.weight_recordings[0].has_histograms());
  EXPECT_EQ(spec.weight_recordings[0].histogram_interval_ms, 0.0);
  EXPECT_EQ(spec.weight_recordings[0].times_ms, std::vector<double>{100.0});

  // Explicit bins and range; an interval longer than the run (one histogram, at 0) is fine.
  spec = parse(weights("projection = IE\nhistogram_interval_ms = 200\nhistogram_bins = 1\nhistogram_min = -1\n"
                       "histogram_max = 3.5\n"));
  EXPECT_EQ(spec.weight_recordings[0].histogram_bins, 1u);
  EXPECT_EQ(spec.weight_recordings[0].histogram_min, -1.0);
  EXPECT_EQ(spec.weight_recordings[0].histogram_max, 3.5);
  EXPECT_NO_THROW(parse(weights("projection = IE\nhistogram_interval_ms = 1\nhistogram_bins = 1048576\n")));

  // Times on the grid within 1e-9 relative, as t_stop_ms; two recordings of one projection.
  spec = parse(weights("projection = IE\ntimes_ms = 0.3, 0.7\n") + "[weights.again]\nprojection = IE\ntimes_ms = 1\n");
  ASSERT_EQ(spec.weight_recordings.size(), 2u);
  EXPECT_EQ(spec.weight_recordings[0].times_ms, (std::vector<double>{0.3, 0.7}));
  EXPECT_EQ(spec.weight_recordings[1].name, "again");
  EXPECT_TRUE(parse(plastic_config).weight_recordings.empty());
}

TEST(ConfigWeights, Errors) {
  // A static projection: its weights never change.
  std::string config = weights("projection = EI\ntimes_ms = 10\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "projection = EI") +
                                  ": [weights.w] key 'projection' = 'EI': EI is a static projection, its weights "
                                  "never change; record a plastic one (synapse stdp or stdp_pl; here: EE, IE, II)");
  config = two_populations + "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = 1\ndelay_ms = 1\n"
                             "[weights.w]\nprojection = P\ntimes_ms = 0\n";
  expect_contains(error_of(config), {"P is a static projection", "(synapse stdp or stdp_pl; this config has none)"});
  config = weights("projection = XY\ntimes_ms = 10\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "projection = XY") +
                                  ": [weights.w] key 'projection': expected the name of a plastic projection (known: "
                                  "EE, IE, II, EI), got 'XY'");
  EXPECT_EQ(error_of(weights("times_ms = 10\n")),
            file_name + ": [weights.w]: missing required key 'projection' (plastic projection whose weights are "
                        "recorded, a plastic projection name)");
  // Nothing to record.
  config = weights("projection = EE\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "[weights.w]") +
                                  ": [weights.w]: nothing to record; give times_ms (weight snapshots), "
                                  "histogram_interval_ms (weight histograms) or both");

  // times_ms: numbers on the dt grid in [0, t_stop_ms], strictly increasing.
  config = weights("projection = EE\ntimes_ms = 10, 20.05\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "times_ms") +
                                  ": [weights.w] key 'times_ms': expected times that are multiples of dt_ms = 0.1 "
                                  "(20.05 is not), got '10, 20.05'");
  const std::string form =
      "expected comma-separated, strictly increasing times in ms, multiples of dt_ms = 0.1 in [0, t_stop_ms = 100]";
  for (const char* bad : {"abc", "-1", "10,,20", "", "inf", "nan"}) {
    expect_contains(error_of(weights("projection = EE\ntimes_ms = " + std::string(bad) + "\n")),
                    {"[weights.w] key 'times_ms': " + form + ", got '" + bad + "'"});
  }
  expect_contains(error_of(weights("projection = EE\ntimes_ms = 0, 100.1\n")),
                  {"key 'times_ms': expected times <= t_stop_ms = 100 (100.1 is later), got '0, 100.1'"});
  expect_contains(error_of(weights("projection = EE\ntimes_ms = 10, 10\n")),
                  {"key 'times_ms': expected strictly increasing times (10 comes after 10), got '10, 10'"});
  expect_contains(error_of(weights("projection = EE\ntimes_ms = 20, 10\n")),
                  {"expected strictly increasing times (10 comes after 20)"});
  expect_contains(error_of(weights("projection = EE\n"), {"weights.w.times_ms=5", "simulation.t_stop_ms=4"}),
                  {"--set weights.w.times_ms=5: [weights.w] key 'times_ms': expected times <= t_stop_ms = 4"});

  // histogram_interval_ms: a positive multiple of dt_ms.
  config = weights("projection = EE\nhistogram_interval_ms = 0.25\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "histogram_interval_ms") +
                                  ": [weights.w] key 'histogram_interval_ms': expected a multiple of dt_ms = 0.1 "
                                  "(at least one step), got '0.25'");
  expect_contains(error_of(weights("projection = EE\nhistogram_interval_ms = 0\n")),
                  {"key 'histogram_interval_ms': expected a number > 0, got '0'"});
  expect_contains(error_of(weights("projection = EE\nhistogram_interval_ms = 0.05\n")),
                  {"key 'histogram_interval_ms': expected a multiple of dt_ms = 0.1"});
  expect_contains(error_of(weights("projection = EE\nhistogram_interval_ms = soon\n")),
                  {"key 'histogram_interval_ms': expected a number > 0, got 'soon'"});

  // histogram_bins, histogram_min, histogram_max.
  const std::string histograms = "projection = IE\nhistogram_interval_ms = 10\n";
  for (const char* bad : {"0", "2.5", "1048577", "-3"}) {
    expect_contains(error_of(weights(histograms + "histogram_bins = " + bad + "\n")),
                    {"key 'histogram_bins': expected an integer in [1, 1048576], got '" + std::string(bad) + "'"});
  }
  config = weights(histograms + "histogram_min = 1\nhistogram_max = 1\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "histogram_max") +
                                  ": [weights.w] key 'histogram_max': expected a number > histogram_min = 1, got '1'");
  config = weights(histograms + "histogram_min = 2\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "histogram_min") +
                                  ": [weights.w] key 'histogram_min': expected a number < histogram_max = 2 (the "
                                  "default: between 0 and Wmax = 2), got '2'");
  expect_contains(error_of(weights(histograms + "histogram_max = -0.5\n")),
                  {"key 'histogram_max': expected a number > histogram_min = 0, got '-0.5'"});
  expect_contains(error_of(weights(histograms + "histogram_max = inf\n")),
                  {"key 'histogram_max': expected a number, got 'inf'"});
  // All initial weights 0 under stdp_pl: the default range is empty.
  config = weights("projection = EE\nhistogram_interval_ms = 10\n");
  EXPECT_EQ(error_of(config, {"projection.EE.weight=0"}),
            at_line_of(config, "[weights.w]") +
                ": [weights.w]: the default histogram range, between 0 and twice the largest initial weight, 0, is "
                "empty for projection EE; give histogram_max");
  EXPECT_NO_THROW(parse(config, {"projection.EE.weight=0", "weights.w.histogram_max=1"}));
  // A default that does not fit a double (lognormal's e^(mu + 8 sigma)), or a range that does not.
  EXPECT_EQ(error_of(config, {"projection.EE.weight=lognormal(mu=5, sigma=100)"}),
            at_line_of(config, "[weights.w]") +
                ": [weights.w]: the default histogram_max, twice the largest initial weight of projection EE "
                "(weight = lognormal(mu=5, sigma=100)), is inf; give histogram_max");
  EXPECT_NO_THROW(parse(config, {"projection.EE.weight=lognormal(mu=5, sigma=100)", "weights.w.histogram_max=1e6"}));
  expect_contains(error_of(config, {"weights.w.histogram_min=-1e308", "weights.w.histogram_max=1e308"}),
                  {"--set weights.w.histogram_min=-1e308: [weights.w] key 'histogram_min': expected a histogram "
                   "range histogram_max - histogram_min that is a finite number, got '-1e308'"});
  // Histogram keys without histograms.
  config = weights("projection = IE\ntimes_ms = 10\nhistogram_bins = 20\n");
  EXPECT_EQ(error_of(config), at_line_of(config, "histogram_bins") +
                                  ": [weights.w] key 'histogram_bins' = '20': used only with histogram_interval_ms, "
                                  "which [weights.w] does not set");
  expect_contains(error_of(weights("projection = IE\nhistogram_max = 2\n")),
                  {"key 'histogram_max' = '2': used only with histogram_interval_ms"});
  // Names.
  expect_contains(error_of(weights("projection = IE\ntimes_ms = 10\nhistogram_bin = 3\n")),
                  {"[weights.w] key 'histogram_bin': unknown key", "did you mean 'histogram_bins'?"});
  expect_contains(error_of(weights("projection = IE\ntime_ms = 10\n")), {"did you mean 'times_ms'?"});
  expect_contains(error_of(plastic_config + "[weights]\nprojection = IE\n"), {"[weights]: expected [weights.NAME]"});
}

TEST(ConfigWeights, ResolvedIniWritesResolvedValues) {
  const run_spec spec = parse(weights("projection = EE\ntimes_ms = 0,  50.5,100\nhistogram_interval_ms = 2.5\n") +
                              "[weights.ie_end]\nprojection = IE\ntimes_ms = 100\n");
  const std::string& ini = spec.resolved_ini;
  const std::vector<std::string_view> in_order = {
      "[projection.EE]",         "[weights.w]",         "projection = EE",      "times_ms = 0, 50.5, 100",
      "histogram_interval_ms = 2.5", "histogram_bins = 50", "histogram_min = 0", "histogram_max = 91.2",
      "[weights.ie_end]",        "projection = IE",     "times_ms = 100"};
  std::size_t position = 0;
  for (const auto part : in_order) {
    const auto found = ini.find(part, position);
    ASSERT_NE(found, std::string::npos) << "'" << part << "' missing or out of order in:\n" << ini;
    position = found + part.size();
  }
  // Without histograms, no histogram key (it would be an error reading the file back).
  EXPECT_EQ(ini.find("histogram", ini.find("[weights.ie_end]")), std::string::npos);
  const run_spec again = parse_config(ini, "resolved.ini");
  expect_same_spec(spec, again);
}

// Recording is not network-defining: a restart may record other weights, or none.
TEST(ConfigWeights, NotPartOfTheCheckpointFingerprint) {
  const run_spec plain = parse(plastic_config);
  const run_spec recording = parse(weights("projection = EE\ntimes_ms = 0, 100\nhistogram_interval_ms = 10\n"));
  EXPECT_NE(plain.resolved_ini, recording.resolved_ini);
  EXPECT_EQ(network_definition(plain), network_definition(recording));
  // The fingerprint does see what defines the network, here a [record] section.
  const run_spec with_record = parse(plastic_config + "[record.v]\npopulation = E\nvariables = V_m\n");
  EXPECT_NE(network_definition(plain), network_definition(with_record));
}

// ---------------------------------------------------------------------------------------------
// Distributions

using config_detail::invalid_value;
using config_detail::parse_distribution;

distribution distribution_of(std::string_view text) { return parse_distribution(text, "normal(mean=1, std=2)").value; }

std::string distribution_error(std::string_view text) {
  try {
    parse_distribution(text, "normal(mean=1, std=2)");
  } catch (const invalid_value& bad) {
    return bad.expected;
  }
  ADD_FAILURE() << "expected invalid_value for " << text;
  return "";
}

TEST(Distributions, AllKindsNamedAndPositional) {
  auto d = distribution_of("  -70.5 ");
  EXPECT_TRUE(d.is_constant());
  EXPECT_EQ(d.a, -70.5);
  EXPECT_EQ(d.text, "-70.5");

  d = distribution_of("normal(mean=87.8, std=8.78)");
  EXPECT_EQ(d.type, distribution::kind::normal);
  EXPECT_EQ(d.a, 87.8);
  EXPECT_EQ(d.b, 8.78);
  EXPECT_EQ(d.min, -inf);
  EXPECT_EQ(d.max, inf);

  d = distribution_of("normal( 1.5 ,0.75 )");
  EXPECT_EQ(d.a, 1.5);
  EXPECT_EQ(d.b, 0.75);
  EXPECT_EQ(d.text, "normal( 1.5 ,0.75 )");

  d = distribution_of("normal(std=2, mean=-1, max=3, min=-4)");
  EXPECT_EQ(d.a, -1.0);
  EXPECT_EQ(d.b, 2.0);
  EXPECT_EQ(d.min, -4.0);
  EXPECT_EQ(d.max, 3.0);

  d = distribution_of("normal(1, 0.5, min=0.2)");
  EXPECT_EQ(d.min, 0.2);

  d = distribution_of("uniform(low=0.5, high=1.5)");
  EXPECT_EQ(d.type, distribution::kind::uniform);
  EXPECT_EQ(d.a, 0.5);
  EXPECT_EQ(d.b, 1.5);

  d = distribution_of("uniform(-1,1,max=0.5)");
  EXPECT_EQ(d.max, 0.5);

  d = distribution_of("lognormal(mu=0.5, sigma=0.2)");
  EXPECT_EQ(d.type, distribution::kind::lognormal);
  EXPECT_EQ(d.a, 0.5);
  EXPECT_EQ(d.b, 0.2);

  d = distribution_of("normal(mean=1, std=0)");  // degenerate but allowed
  EXPECT_EQ(d.b, 0.0);
  d = distribution_of("normal(mean=1, std=1, min=-inf)");
  EXPECT_EQ(d.min, -inf);

  const auto parsed = parse_distribution("normal(1, 2, max=5)", "x");
  EXPECT_FALSE(parsed.has_min);
  EXPECT_TRUE(parsed.has_max);
}

TEST(Distributions, Errors) {
  expect_contains(distribution_error("abc"), {"a number or a distribution like normal(mean=1, std=2)"});
  expect_contains(distribution_error("gamma(1, 2)"), {"a number or a distribution like"});
  expect_contains(distribution_error("normal(mean=1, std=2"), {"a number or a distribution like"});
  expect_contains(distribution_error("normal(mean=1, std=-2)"),
                  {"std >= 0 in normal(mean=M, std=S[, min=A][, max=B])"});
  expect_contains(distribution_error("uniform(low=2, high=1)"), {"high > low in uniform(low=L, high=H"});
  expect_contains(distribution_error("uniform(1, 1)"), {"high > low"});
  expect_contains(distribution_error("lognormal(mu=0, sigma=-1)"), {"sigma >= 0 in lognormal(mu=M, sigma=S"});
  expect_contains(distribution_error("normal(mean=1)"), {"std is missing"});
  expect_contains(distribution_error("normal()"), {"mean is missing"});
  expect_contains(distribution_error("normal(mean=1, sd=2)"), {"unknown argument 'sd'"});
  expect_contains(distribution_error("uniform(min=0.5, max=1.5)"),
                  {"low is missing", "min= and max= are redraw bounds, the range is low= and high="});
  expect_contains(distribution_error("lognormal(mean=1, std=2)"),
                  {"lognormal takes mu= and sigma= of the underlying normal"});
  expect_contains(distribution_error("normal(mean=1, 2)"), {"positional arguments come before named ones"});
  expect_contains(distribution_error("normal(1, 2, 3)"), {"min and max need their names"});
  expect_contains(distribution_error("normal(1, 2, mean=3)"), {"mean is given twice"});
  expect_contains(distribution_error("normal(1, 2,)"), {"an argument is missing"});
  expect_contains(distribution_error("normal(1, x)"), {"'x' is not a finite number"});
  expect_contains(distribution_error("normal(inf, 1)"), {"'inf' is not a finite number"});
  expect_contains(distribution_error("normal(1, 2, min=3, max=2)"), {"min < max"});
  expect_contains(distribution_error("normal(0, 1, min=10)"), {"keeping at least 0.1% of the draws"});
  expect_contains(distribution_error("uniform(0, 1, min=2)"), {"keeping at least 0.1% of the draws"});
  expect_contains(distribution_error("lognormal(0, 1, max=0)"), {"keeping at least 0.1% of the draws"});
}

TEST(Distributions, BoundProbability) {
  EXPECT_NEAR(config_detail::probability_within_bounds(distribution_of("normal(0, 1, min=0)")), 0.5, 1e-12);
  EXPECT_NEAR(config_detail::probability_within_bounds(distribution_of("normal(0, 1, min=-1, max=1)")), 0.682689492,
              1e-8);
  EXPECT_NEAR(config_detail::probability_within_bounds(distribution_of("uniform(0, 4, min=1)")), 0.75, 1e-12);
  EXPECT_NEAR(config_detail::probability_within_bounds(distribution_of("lognormal(0, 1, max=1)")), 0.5, 1e-12);
}

std::string weight_config(const std::string& weight, const std::string& delay = "1") {
  return two_populations + "[projection.P]\nsource = E\ntarget = I\nrule = all_to_all\nweight = " + weight +
         "\ndelay_ms = " + delay + "\n";
}

TEST(Distributions, WeightsKeepTheSignOfTheirMean) {
  auto weight = parse(weight_config("normal(mean=87.8, std=8.78)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, 0.0);
  EXPECT_EQ(weight.max, inf);
  weight = parse(weight_config("normal(-351.2, 35.12)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, -inf);
  EXPECT_EQ(weight.max, 0.0);
  weight = parse(weight_config("uniform(low=-1, high=3)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, 0.0);
  weight = parse(weight_config("uniform(low=-3, high=1)")).network.projections[0].weight;
  EXPECT_EQ(weight.max, 0.0);
  weight = parse(weight_config("lognormal(mu=0, sigma=1)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, 0.0);
  weight = parse(weight_config("normal(mean=0, std=1)")).network.projections[0].weight;  // no sign to keep
  EXPECT_EQ(weight.min, -inf);
  EXPECT_EQ(weight.max, inf);
  // An explicit bound stays; the sign-keeping one applies only to a side left open.
  weight = parse(weight_config("normal(mean=5, std=1, min=2)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, 2.0);
  weight = parse(weight_config("normal(mean=5, std=1, max=9)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, 0.0);
  EXPECT_EQ(weight.max, 9.0);
  weight = parse(weight_config("normal(mean=5, std=10, min=-inf)")).network.projections[0].weight;
  EXPECT_EQ(weight.min, -inf);
  weight = parse(weight_config("-2.5")).network.projections[0].weight;
  EXPECT_TRUE(weight.is_constant());
  EXPECT_EQ(weight.max, inf);
}

TEST(Distributions, DelaysGetHalfAStepAsMinimum) {
  auto delay = parse(weight_config("1", "normal(mean=1.5, std=0.75)")).network.projections[0].delay_ms;
  EXPECT_DOUBLE_EQ(delay.min, 0.05);
  delay =
      parse(weight_config("1", "normal(mean=1.5, std=0.75)"), {"simulation.dt_ms=0.5"}).network.projections[0].delay_ms;
  EXPECT_DOUBLE_EQ(delay.min, 0.25);
  delay = parse(weight_config("1", "normal(mean=1.5, std=0.75, min=1)")).network.projections[0].delay_ms;
  EXPECT_DOUBLE_EQ(delay.min, 1.0);
  expect_contains(error_of(weight_config("1", "normal(mean=1.5, std=0.75, min=-1)")),
                  {"key 'delay_ms': expected min >= 0 in a delay distribution"});
}

// ---------------------------------------------------------------------------------------------
// Resolved config

TEST(ResolvedIni, RoundTripsToAnEqualSpec) {
  const std::vector<std::string> overrides = {"projection.EE.weight=normal(-2, 1, max=0.5)",
                                              "simulation.dt_ms=0.05",
                                              "input.extra.type=poisson",
                                              "input.extra.target=Th",
                                              "input.extra.rate_hz=3.3",
                                              "input.extra.weight=0.1"};
  for (const run_spec& first : {parse(full_config), parse(minimal_config), parse(full_config, overrides),
                                parse(plastic_config), parse(plastic_config, {"population.E.tau_minus=25"})}) {
    const run_spec again = parse_config(first.resolved_ini, "resolved.ini");
    expect_same_spec(first, again);  // includes resolved_ini: the text is a fixed point
  }
}

TEST(ResolvedIni, ListsEveryKeyInStableOrder) {
  const run_spec spec = parse(full_config);
  const std::string& ini = spec.resolved_ini;
  const std::vector<std::string_view> in_order = {
      "[simulation]",
      "name = full_run",
      "dt_ms = 0.1",
      "t_stop_ms = 1000",
      "seed = 42",
      "threads = 2",
      "weight_bits = 32",
      "[output]",
      "dir = results",
      "spikes = false",
      "flush_interval_ms = 50",
      "[population.L23E]",
      "model = iaf_psc_exp",
      "n = 200",
      "C_m = 250.5",
      "tau_syn_in = 0.75",
      "V_m = normal(mean=-58, std=10)",
      "record_spikes = true",
      "[population.L23I]",
      "model = iaf_psc_delta",
      "V_min = -80",
      "refractory_input = true",
      "V_m = -70",
      "[population.Th]",
      "[projection.EE]",
      "weight = normal(mean=87.8, std=8.78)  # = normal(mean=87.8, std=8.78, min=0)",
      "delay_ms = normal(mean=1.5, std=0.75)  # = normal(mean=1.5, std=0.75, min=0.05)",
      "synapse = static",
      "[projection.EI]",
      "N = 1000",
      "[projection.IE]",
      "p = 0.1",
      "[projection.ThI]",
      "[projection.ThE]",
      "[input.bg]",
      "type = poisson",
      "indegree = 1600",
      "stop_ms = 900",
      "[input.dc]",
      "neurons = 0:10,20",
      "[input.pulse]",
      "neurons = 1,3",
      "times_ms = 10, 20.5, 20.5, 30",
      "[record.vm]",
      "variables = V_m, I_syn_ex, I_syn_in",
      "neurons = 0:5",
      "interval_ms = 1",
      "[record.vi]",
      "neurons = 0:50",
      "interval_ms = 0.1"};
  std::size_t position = 0;
  for (const auto part : in_order) {
    const auto found = ini.find(part, position);
    ASSERT_NE(found, std::string::npos) << "'" << part << "' missing or out of order in:\n" << ini;
    position = found + part.size();
  }
  // Keys the model does not have are not written.
  const auto delta_section =
      ini.substr(ini.find("[population.L23I]"), ini.find("[population.Th]") - ini.find("[population.L23I]"));
  EXPECT_EQ(delta_section.find("tau_syn"), std::string::npos);
  // Infinite defaults are written so that they read back.
  const run_spec with_input = parse(input("type = dc\ntarget = E\namplitude_pA = 1\n"));
  EXPECT_NE(with_input.resolved_ini.find("stop_ms = inf"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Value parsers used by several keys

TEST(ValueParsers, NumbersRoundTripThroughTheirText) {
  using config_detail::format_number;
  for (const double value : {0.1, -70.0, 1e-5, 87.8, 1.0 / 3.0, 1e300, -inf, inf}) {
    EXPECT_EQ(config_detail::parse_number(format_number(value), {.allow_infinite = true}), value);
  }
  EXPECT_EQ(format_number(0.1), "0.1");
  EXPECT_EQ(format_number(-70.0), "-70");
  EXPECT_EQ(config_detail::format_node_ids({0, 1, 2, 5, 7, 8}), "0:3,5,7:9");
}

}  // namespace
}  // namespace myelin
